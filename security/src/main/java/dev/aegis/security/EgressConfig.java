package dev.aegis.security;

import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Settings of the {@link EgressProxy}, with safe defaults ({@link #defaults()}).
 *
 * @param resolver      how the proxy turns names into addresses; the system resolver by default, a fixed
 *                      table or hosts file in tests
 * @param headerTimeout how long a client may take to send a request head (and, in a TLS-only tunnel, its
 *                      ClientHello); slower clients get 408 (slow-loris defence). 10 s by default
 * @param connectTimeout how long the proxy waits for a server to accept; 10 s by default
 * @param fetchTls      the TLS settings of {@link EgressProxy#fetch} (trusted CAs); the JDK default by default
 * @param maxConnections open client connections one instance may hold; more are refused with 503. 256 by default
 */
public record EgressConfig(Resolver resolver, Duration headerTimeout, Duration connectTimeout, SSLContext fetchTls,
                           int maxConnections) {
    public EgressConfig {
        Objects.requireNonNull(resolver, "resolver");
        Objects.requireNonNull(fetchTls, "fetchTls");
        if (headerTimeout.isNegative() || headerTimeout.isZero())
            throw new IllegalArgumentException("egress headerTimeout: " + headerTimeout + " must be above zero");
        if (connectTimeout.isNegative() || connectTimeout.isZero())
            throw new IllegalArgumentException("egress connectTimeout: " + connectTimeout + " must be above zero");
        if (maxConnections < 1) throw new IllegalArgumentException("egress maxConnections: " + maxConnections + " must be 1 or more");
    }

    public static EgressConfig defaults() {
        try {
            return new EgressConfig(Resolver.system(), Duration.ofSeconds(10), Duration.ofSeconds(10), SSLContext.getDefault(), 256);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no default TLS context", e);
        }
    }

    public EgressConfig withResolver(Resolver r) {
        return new EgressConfig(r, headerTimeout, connectTimeout, fetchTls, maxConnections);
    }

    public EgressConfig withHeaderTimeout(Duration d) {
        return new EgressConfig(resolver, d, connectTimeout, fetchTls, maxConnections);
    }

    public EgressConfig withConnectTimeout(Duration d) {
        return new EgressConfig(resolver, headerTimeout, d, fetchTls, maxConnections);
    }

    public EgressConfig withFetchTls(SSLContext tls) {
        return new EgressConfig(resolver, headerTimeout, connectTimeout, tls, maxConnections);
    }

    public EgressConfig withMaxConnections(int n) {
        return new EgressConfig(resolver, headerTimeout, connectTimeout, fetchTls, n);
    }
}
