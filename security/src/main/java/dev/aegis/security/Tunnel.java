package dev.aegis.security;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A CONNECT tunnel. After the policy allows the host and port, the proxy answers 200 and looks at what the
 * client sends first, before any of it reaches the server: a TLS ClientHello must name the CONNECT host (SNI),
 * or name none where TLS is not required; a tunnel of a {@code tls://} entry must start with a ClientHello
 * naming the host; and a plain HTTP request (a CONNECT relayed to a proxy on the far side, or a GET whose
 * Host the proxy never saw) is refused. Server-first protocols still work: the server's bytes flow at once.
 */
final class Tunnel {
    private static final Set<String> HTTP_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
            "TRACE", "PATCH", "PRI");
    private static final int BUFFER = 64 * 1024;

    private final Binding binding;
    private final Wire client;
    private final ClientConnection connection;

    Tunnel(Binding binding, Wire client, ClientConnection connection) {
        this.binding = binding;
        this.client = client;
        this.connection = connection;
    }

    void run(Attempt a, String authority) throws IOException {
        a.target = authority;
        Authority where;
        try {
            where = Authority.parse(authority, 0);
        } catch (IllegalArgumentException e) {
            connection.refuse(a, 400, e.getMessage());
            return;
        }
        a.target = where.toString();
        a.port = where.port();
        InetAddress ip;
        boolean tls;
        switch (binding.check(where)) {
            case EgressPolicy.Verdict.Deny d -> {
                connection.refuse(a, d.status(), d.reason());
                return;
            }
            case EgressPolicy.Verdict.Allow allow -> {
                ip = allow.ip();
                tls = allow.tlsRequired();
            }
        }
        a.ip = ip.getHostAddress();
        if (tls) a.scheme = "tls";
        Wire upstream;
        try {
            upstream = binding.connect(ip, where.port());
        } catch (IOException e) {
            connection.fail(a, 502, "cannot connect to " + where + " (" + a.ip + "): " + ClientConnection.message(e));
            return;
        }
        long downBefore = client.written();
        String problem = null;
        try {
            client.reply("HTTP/1.1 200 Connection established\r\n\r\n");
            Thread down = EgressProxy.WORKERS.newThread(() -> pump(upstream, client, ByteBuffer.allocateDirect(BUFFER)));
            down.start();
            problem = inspect(a, where, tls);
            if (problem != null) {
                binding.close(upstream.channel);
                binding.close(client.channel);
            } else {
                pump(client, upstream, ByteBuffer.allocateDirect(BUFFER));
            }
            join(down);
        } finally {
            binding.close(upstream.channel);
            a.up = upstream.written();
            a.down = client.written() - downBefore;
            if (problem != null) binding.deny(a, problem);
            else binding.allowed(a);
        }
    }

    /** Why the tunnel's first bytes may not go on, or null when they may. */
    private String inspect(Attempt a, Authority where, boolean tls) throws IOException {
        long ms = binding.proxy().config().headerTimeout().toMillis();
        // A tunnel that need not be TLS may carry a protocol where the server speaks first: wait as long as it likes.
        Deadline deadline = tls ? start() : null;
        try {
            int first = client.peek();
            if (first < 0) return deadline != null && deadline.fired() ? "no TLS ClientHello within " + ms + " ms" : null;
            if (deadline == null) deadline = start();
            if (ClientHello.starts(first)) return hello(a, where, tls, deadline, ms);
            if (tls) return where + " allows only TLS (a tls:// entry), but the tunnel does not start with a TLS ClientHello";
            return httpInside(deadline, ms);
        } finally {
            if (deadline != null) deadline.close();
        }
    }

    private String hello(Attempt a, Authority where, boolean tls, Deadline deadline, long ms) throws IOException {
        ClientHello hello;
        try {
            while ((hello = ClientHello.parse(client.view())) == null) {
                if (client.full()) return "a TLS ClientHello larger than " + client.capacity() + " bytes";
                if (!client.fill()) return deadline.fired() ? "TLS ClientHello not complete within " + ms + " ms" : "the tunnel closed inside the ClientHello";
            }
        } catch (ClientHello.Malformed e) {
            return "malformed TLS ClientHello: " + e.getMessage();
        }
        if (hello.encrypted()) return "an Encrypted ClientHello (ECH) hides the server name";
        if (hello.serverName().isPresent()) {
            String sni = hello.serverName().get();
            a.detail("sni", sni);
            if (!sni.equals(where.host().text()))
                return "TLS server name (SNI) " + Reasons.quote(sni) + " differs from the CONNECT host " + where.host().text();
        } else if (tls) {
            return where + " allows only TLS naming the host (a tls:// entry), but the ClientHello names no server (SNI)";
        }
        return null;
    }

    /** Refuses a tunnel that starts with an HTTP method and a space: plain HTTP must come as a proxy request. */
    private String httpInside(Deadline deadline, long ms) throws IOException {
        while (true) {
            ByteBuffer v = client.view();
            int n = v.remaining();
            int letters = 0;
            while (letters < n && letters < 8 && v.get(letters) >= 'A' && v.get(letters) <= 'Z') letters++;
            if (letters < n || letters == 8) {
                if (letters == 0 || letters == 8 || v.get(letters) != ' ') return null;
                byte[] word = new byte[letters];
                v.get(0, word);
                String method = new String(word, StandardCharsets.US_ASCII);
                return HTTP_METHODS.contains(method)
                        ? "an HTTP request (" + method + ") inside a CONNECT tunnel; send plain HTTP as a proxy request, where it is checked"
                        : null;
            }
            if (!client.fill()) return deadline.fired() ? "first bytes of the tunnel not complete within " + ms + " ms" : null;
        }
    }

    private Deadline start() {
        return Deadline.start(binding.proxy().timer(), binding.proxy().config().headerTimeout(), () -> {
            try {
                client.channel.shutdownInput();
            } catch (IOException ignored) {
                // already closed
            }
        });
    }

    /** Copies until end of stream, then half-closes the other side; on an error closes both. */
    private void pump(Wire from, Wire to, ByteBuffer buf) {
        try {
            while (true) {
                buf.clear();
                if (from.read(buf) < 0) break;
                to.write(buf.flip());
            }
            to.channel.shutdownOutput();
        } catch (IOException e) {
            binding.close(from.channel);
            binding.close(to.channel);
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
