package dev.aegis.security;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One client connection to the proxy: reads request heads (each within the header timeout) and either
 * forwards plain HTTP requests, checking every one of them against the policy, or hands a CONNECT to a
 * {@link Tunnel}. Keeps one upstream connection open between requests while the next one goes to the same
 * address, so keep-alive costs no extra connect.
 */
final class ClientConnection implements Runnable {
    private static final Pattern METHOD = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern VERSION = Pattern.compile("HTTP/1\\.[01]");
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] [0-9]{3}( .*)?");
    private static final Map<Integer, String> PHRASES = Map.of(400, "Bad Request", 403, "Forbidden", 408, "Request Timeout",
            414, "URI Too Long", 431, "Request Header Fields Too Large", 502, "Bad Gateway", 503, "Service Unavailable");

    private final Binding binding;
    private final Wire client;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
    private Wire upstream;
    private InetAddress upstreamIp;
    private int upstreamPort;
    private boolean answered; // the proxy itself answered (an error or a refusal): close gently

    ClientConnection(Binding binding, Wire client) {
        this.binding = binding;
        this.client = client;
    }

    @Override
    public void run() {
        int max = binding.proxy().config().maxConnections();
        try {
            if (binding.instance().clients.incrementAndGet() > max) {
                refuse(new Attempt(Attempt.REQUEST, "", "http", binding.task()), 503,
                        "more than " + max + " open connections to the egress proxy from this instance");
                return;
            }
            while (serveOne()) {
                // one request per turn; each is checked again
            }
        } catch (IOException e) {
            // the client or server went away mid-exchange; its attempt was recorded where it failed
        } finally {
            binding.instance().clients.decrementAndGet();
            closeUpstream();
            if (answered) lingerThenClose();
            binding.close(client.channel);
        }
    }

    /**
     * After a refusal the client may still be sending (a huge head, a body): closing now would reset the connection
     * and could destroy the answer before the client reads it. Stop writing, discard input for a moment, then close.
     */
    private void lingerThenClose() {
        try (Deadline d = Deadline.start(binding.proxy().timer(), Duration.ofSeconds(1), () -> binding.close(client.channel))) {
            client.channel.shutdownOutput();
            ByteBuffer sink = buf.clear();
            for (long discarded = 0; discarded < 1 << 20; discarded += sink.position()) {
                if (client.read(sink.clear()) < 0) break;
            }
        } catch (IOException ignored) {
            // closed: done either way
        }
    }

    /** Serves one request; true when the connection stays open for another. */
    private boolean serveOne() throws IOException {
        HttpHead head;
        Deadline deadline = Deadline.start(binding.proxy().timer(), binding.proxy().config().headerTimeout(), this::shutdownInput);
        try {
            head = HttpHead.read(client);
        } catch (HttpHead.TooLarge e) {
            return refuse(new Attempt(Attempt.REQUEST, "", "http", binding.task()), e.status, e.getMessage());
        } catch (IOException e) {
            if (deadline.fired())
                return refuse(new Attempt(Attempt.REQUEST, "", "http", binding.task()), 408,
                        "request head not complete within " + binding.proxy().config().headerTimeout().toMillis() + " ms");
            if (e instanceof Wire.MalformedException)
                return refuse(new Attempt(Attempt.REQUEST, "", "http", binding.task()), 400, "malformed request: " + e.getMessage());
            return false;
        } finally {
            deadline.close();
        }
        if (head == null) return false; // closed, or idle past the header timeout: not an attempt
        String[] parts = head.startLine().split(" ", -1);
        String method = parts[0];
        Attempt attempt = new Attempt(method.equals("CONNECT") ? Attempt.CONNECT : Attempt.REQUEST, method,
                method.equals("CONNECT") ? "tcp" : "http", binding.task());
        if (parts.length != 3 || !METHOD.matcher(method).matches() || !VERSION.matcher(parts[2]).matches()) {
            attempt.target = parts.length > 1 ? parts[1] : "";
            return refuse(attempt, 400, "malformed request line " + Reasons.quote(head.startLine()));
        }
        if (method.equals("CONNECT")) {
            closeUpstream();
            new Tunnel(binding, client, this).run(attempt, parts[1]);
            return false;
        }
        return forward(head, attempt, method, parts[1], parts[2]);
    }

    private boolean forward(HttpHead head, Attempt a, String method, String target, String version) throws IOException {
        a.target = target;
        Authority where;
        String path;
        try {
            if (target.regionMatches(true, 0, "https://", 0, 8))
                return refuse(a, 400, "https:// URLs go through a CONNECT tunnel, not a plain proxy request");
            if (!target.regionMatches(true, 0, "http://", 0, 7))
                return refuse(a, 400, "a proxy request needs an absolute http:// URI, not " + Reasons.quote(target));
            String rest = target.substring(7);
            int end = 0;
            while (end < rest.length() && "/?#".indexOf(rest.charAt(end)) < 0) end++;
            where = Authority.parse(rest.substring(0, end), 80);
            path = rest.substring(end);
            if (path.indexOf('#') >= 0) return refuse(a, 400, "a fragment (#) in the request target");
            if (!path.startsWith("/")) path = "/" + path;
        } catch (IllegalArgumentException e) {
            return refuse(a, 400, e.getMessage());
        }
        a.target = where.toString();
        a.port = where.port();
        List<String> hosts = head.all("host");
        if (hosts.size() > 1) return refuse(a, 400, "more than one Host header");
        if (hosts.size() == 1) {
            Authority claimed;
            try {
                claimed = Authority.parse(hosts.getFirst(), 80);
            } catch (IllegalArgumentException e) {
                return refuse(a, 403, "Host header " + Reasons.quote(hosts.getFirst()) + " differs from the request target " + where);
            }
            if (!claimed.sameAs(where))
                return refuse(a, 403, "Host header " + Reasons.quote(hosts.getFirst()) + " differs from the request target " + where);
        }
        Framing body;
        try {
            body = Framing.ofRequest(head);
        } catch (Wire.MalformedException e) {
            return refuse(a, 400, "malformed request: " + e.getMessage());
        }
        InetAddress ip;
        switch (binding.check(where)) {
            case EgressPolicy.Verdict.Deny d -> {
                return refuse(a, d.status(), d.reason());
            }
            case EgressPolicy.Verdict.Allow allow -> {
                if (allow.tlsRequired())
                    return refuse(a, 403, where + " allows only TLS (a tls:// entry); plain HTTP is denied");
                ip = allow.ip();
            }
        }
        a.ip = ip.getHostAddress();
        if (head.lists("expect", "100-continue")) client.reply("HTTP/1.1 100 Continue\r\n\r\n");
        List<HttpHead.Header> headers = new ArrayList<>(head.endToEnd());
        headers.removeIf(h -> h.name().equalsIgnoreCase("expect"));
        if (hosts.isEmpty()) headers.addFirst(new HttpHead.Header("Host", hostHeader(where)));
        String request = HttpHead.encode(method + " " + path + " " + version, headers);
        return exchange(a, head, method, request, body, ip, where.port(), version);
    }

    /** Sends the request, relays the response; true when the client connection stays open. */
    private boolean exchange(Attempt a, HttpHead head, String method, String request, Framing body, InetAddress ip, int port,
                             String version) throws IOException {
        boolean reused = upstream != null && ip.equals(upstreamIp) && port == upstreamPort;
        if (!reused) closeUpstream();
        // A kept-alive server may have closed the idle connection already; a request without a body can go again.
        for (int round = 0; ; round++) {
            if (upstream == null) {
                try {
                    upstream = binding.connect(ip, port);
                } catch (IOException e) {
                    return fail(a, 502, "cannot connect to " + a.target + " (" + a.ip + "): " + message(e));
                }
                upstreamIp = ip;
                upstreamPort = port;
                reused = false;
            }
            long before = upstream.written();
            HttpHead response;
            try {
                upstream.write(request);
                Framing.copy(body, client, upstream, buf);
                a.up = upstream.written() - before;
                response = HttpHead.read(upstream);
                if (response == null) throw new IOException("the server closed the connection");
            } catch (HttpHead.TooLarge | Wire.MalformedException e) {
                closeUpstream();
                return fail(a, 502, "malformed request body or response from " + a.target + ": " + message(e));
            } catch (IOException e) {
                a.up = upstream.written() - before;
                closeUpstream();
                if (!reused || round > 0 || !(body instanceof Framing.None))
                    return fail(a, 502, "the server at " + a.target + " did not answer: " + message(e));
                continue;
            }
            return relay(a, head, method, response, version);
        }
    }

    private boolean relay(Attempt a, HttpHead head, String method, HttpHead response, String version) throws IOException {
        long downBefore = client.written();
        try {
            int status;
            while (true) {
                if (!STATUS.matcher(response.startLine()).matches())
                    return error(a, 502, "the server sent a malformed status line " + Reasons.quote(response.startLine()));
                status = Integer.parseInt(response.startLine().substring(9, 12));
                if (status == 101) return error(a, 502, "the server switched protocols, which the proxy does not relay");
                if (status >= 200) break;
                client.write(HttpHead.encode(response.startLine(), response.endToEnd())); // 100 Continue, 103 Early Hints
                response = HttpHead.read(upstream);
                if (response == null) return error(a, 502, "the server closed the connection after an interim response");
            }
            a.detail("status", Integer.toString(status));
            Framing framing = Framing.ofResponse(response, method, status);
            boolean keepClient = version.equals("HTTP/1.1") && !head.lists("connection", "close") && !(framing instanceof Framing.UntilClose);
            boolean keepUpstream = !(framing instanceof Framing.UntilClose) && response.startLine().startsWith("HTTP/1.1")
                    && !response.lists("connection", "close");
            List<HttpHead.Header> headers = new ArrayList<>(response.endToEnd());
            if (!keepClient) headers.add(new HttpHead.Header("Connection", "close"));
            Framing.copy(framing, HttpHead.encode(response.startLine(), headers), upstream, client, buf);
            if (!keepUpstream) closeUpstream();
            return keepClient;
        } catch (IOException e) {
            closeUpstream();
            a.detail("error", message(e));
            throw e;
        } finally {
            a.down = client.written() - downBefore;
            binding.allowed(a);
        }
    }

    /** Denies: records the reason, then answers with {@code status} and closes. */
    boolean refuse(Attempt a, int status, String reason) throws IOException {
        binding.deny(a, reason);
        respond(status, reason);
        return false;
    }

    /** An allowed attempt that failed on the way: answers with {@code status}, then records it with the error. */
    boolean fail(Attempt a, int status, String message) throws IOException {
        try {
            return error(a, status, message);
        } finally {
            binding.allowed(a);
        }
    }

    private boolean error(Attempt a, int status, String message) throws IOException {
        a.detail("error", message);
        binding.failed(message);
        respond(status, message);
        return false;
    }

    static String message(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private void respond(int status, String message) throws IOException {
        answered = true;
        String body = "aegis egress proxy: " + message + "\n";
        client.reply("HTTP/1.1 " + status + " " + PHRASES.getOrDefault(status, "Error") + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
    }

    private static String hostHeader(Authority where) {
        return where.port() == 80 ? where.host().text() : where.toString();
    }

    private void shutdownInput() {
        try {
            client.channel.shutdownInput();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private void closeUpstream() {
        if (upstream == null) return;
        binding.close(upstream.channel);
        upstream = null;
        upstreamIp = null;
    }
}
