package dev.aegis.security;

import dev.aegis.core.EgressHost;
import java.util.regex.Pattern;

/** A {@code host[:port]} from a request target, a CONNECT line or a Host header, with its host canonical. */
record Authority(EgressHost host, int port) {
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    /**
     * Parses {@code text}; {@code defaultPort} applies when it names no port, 0 means a port is required.
     *
     * @throws IllegalArgumentException with the reason it is refused
     */
    static Authority parse(String text, int defaultPort) {
        if (text.indexOf('@') >= 0)
            throw new IllegalArgumentException("user info (user@host) in " + Reasons.quote(text) + " is not allowed");
        String host = text;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) throw new IllegalArgumentException(Reasons.quote(text) + " is not a valid IPv6 literal");
            host = text.substring(0, close + 1);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) throw new IllegalArgumentException(Reasons.quote(text) + " is not host:port");
                port = rest.substring(1);
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon >= 0) {
                if (text.indexOf(':') != colon)
                    throw new IllegalArgumentException(Reasons.quote(text) + " is not host:port (an IPv6 address needs brackets)");
                host = text.substring(0, colon);
                port = text.substring(colon + 1);
            }
        }
        int p;
        if (port == null) {
            if (defaultPort == 0) throw new IllegalArgumentException(Reasons.quote(text) + " names no port; use host:port");
            p = defaultPort;
        } else {
            if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535)
                throw new IllegalArgumentException("port " + Reasons.quote(port) + " is not 1-65535");
            p = Integer.parseInt(port);
        }
        return new Authority(EgressHost.parse(host), p);
    }

    /** Same host (canonical form) and port. */
    boolean sameAs(Authority other) {
        return port == other.port && host.text().equals(other.host.text());
    }

    @Override
    public String toString() {
        return host.text() + ":" + port;
    }
}
