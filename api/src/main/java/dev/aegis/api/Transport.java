package dev.aegis.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * How the API listens: plain HTTP (the default) or TLS from a PKCS12 keystore, and how long a silent or slow client
 * may hold a connection.
 *
 * @param tls         terminate TLS here with this keystore; empty serves plain HTTP
 * @param idleTimeout a connection (or a request) with no bytes for this long is closed
 * @param bodyTimeout a request body not all arrived this long after the request began is refused with 408 (a client
 *                    dribbling bytes just often enough to dodge the idle timeout). Jetty's own minimum data rate is
 *                    not used: it is measured from the request's start, so it refuses small bodies on a busy node.
 */
public record Transport(Optional<Tls> tls, Duration idleTimeout, Duration bodyTimeout) {
    public static final Transport DEFAULT = new Transport(Optional.empty(), Duration.ofSeconds(30), Duration.ofSeconds(60));

    public Transport {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || bodyTimeout.isNegative() || bodyTimeout.isZero())
            throw new IllegalArgumentException("timeouts must be positive: idle " + idleTimeout + ", body " + bodyTimeout);
    }

    public Transport withTls(Tls t) {
        return new Transport(Optional.of(t), idleTimeout, bodyTimeout);
    }

    public Transport withTimeouts(Duration idle, Duration body) {
        return new Transport(tls, idle, body);
    }

    /** A PKCS12 keystore holding the server's key and certificate chain. */
    public record Tls(Path keystore, String password) {
        /** Opens the keystore now, so a wrong path or password stops the server at start with a clear error. */
        public Tls {
            if (!Files.isReadable(keystore)) throw new IllegalArgumentException("TLS keystore " + keystore + " is not a readable file");
            try (var in = Files.newInputStream(keystore)) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(in, password.toCharArray());
                if (java.util.Collections.list(ks.aliases()).stream().noneMatch(a -> isKey(ks, a)))
                    throw new IllegalArgumentException("TLS keystore " + keystore + " holds no private key");
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalArgumentException("TLS keystore " + keystore + " cannot be opened as PKCS12 with the given password: "
                        + e.getMessage());
            }
        }

        private static boolean isKey(KeyStore ks, String alias) {
            try {
                return ks.isKeyEntry(alias);
            } catch (Exception e) {
                return false;
            }
        }

        @Override
        public String toString() {
            return "Tls[" + keystore + "]"; // never the password
        }
    }

    /** The one connector of the API, HTTP or HTTPS, with the timeouts. */
    ServerConnector connector(Server server, HttpConfiguration http, String host, int port) {
        http.setIdleTimeout(idleTimeout.toMillis());
        http.setSendServerVersion(false);
        ServerConnector c;
        if (tls.isPresent()) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(tls.get().keystore().toString());
            ssl.setKeyStoreType("PKCS12");
            ssl.setKeyStorePassword(tls.get().password());
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false); // clients may reach the node by IP, which no certificate name matches
            http.addCustomizer(secure);
            c = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(http));
        } else {
            c = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        c.setHost(host);
        c.setPort(port);
        c.setIdleTimeout(idleTimeout.toMillis());
        return c;
    }
}
