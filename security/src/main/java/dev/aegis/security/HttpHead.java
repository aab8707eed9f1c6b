package dev.aegis.security;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The start line and header fields of one HTTP/1.x message, read with hard limits: 8 KiB for the start line
 * (else {@link TooLarge} 414) and 64 KiB for all header lines (else 431). Folded lines, spaces before a colon
 * and non-token names are refused (400): they are the usual seams for request smuggling.
 */
record HttpHead(String startLine, List<Header> headers) {
    static final int MAX_LINE = 8 * 1024;
    static final int MAX_HEADERS = 64 * 1024;
    /** Fields a Connection header may not strip: they frame or route the message, and this proxy checks them. */
    private static final List<String> FRAMING = List.of("host", "content-length", "transfer-encoding");
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    record Header(String name, String value) {}

    /** A head over a limit; {@code status} is 414 for the start line and 431 for the header fields. */
    static final class TooLarge extends IOException {
        final int status;

        TooLarge(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    HttpHead {
        headers = List.copyOf(headers);
    }

    /** Reads one head; null when the peer closed before sending a byte. */
    static HttpHead read(Wire wire) throws IOException {
        String start;
        try {
            start = wire.readLine(MAX_LINE);
            // RFC 9112 section 2.2: ignore at least one empty line before a request line.
            for (int i = 0; start != null && start.isEmpty() && i < 4; i++) start = wire.readLine(MAX_LINE);
        } catch (Wire.LineTooLong e) {
            throw new TooLarge(414, "request line longer than " + MAX_LINE + " bytes");
        }
        if (start == null) return null;
        if (start.isEmpty()) throw new Wire.MalformedException("empty lines instead of a request line");
        List<Header> headers = new ArrayList<>();
        int total = 0;
        while (true) {
            String line;
            try {
                line = wire.readLine(MAX_LINE);
            } catch (Wire.LineTooLong e) {
                throw new TooLarge(431, "a header line is longer than " + MAX_LINE + " bytes");
            }
            if (line == null) throw new Wire.MalformedException("connection closed inside the header fields");
            if (line.isEmpty()) return new HttpHead(start, headers);
            total += line.length() + 2;
            if (total > MAX_HEADERS) throw new TooLarge(431, "header fields longer than " + MAX_HEADERS + " bytes");
            headers.add(header(line));
        }
    }

    private static Header header(String line) throws Wire.MalformedException {
        if (line.charAt(0) == ' ' || line.charAt(0) == '\t') throw new Wire.MalformedException("a folded header line");
        int colon = line.indexOf(':');
        if (colon <= 0 || !TOKEN.matcher(line.substring(0, colon)).matches())
            throw new Wire.MalformedException("header line " + Reasons.quote(line) + " is not name: value");
        return new Header(line.substring(0, colon), line.substring(colon + 1).strip());
    }

    /** Every value of the named field, in order. */
    List<String> all(String name) {
        List<String> values = new ArrayList<>(1);
        for (Header h : headers) if (h.name().equalsIgnoreCase(name)) values.add(h.value());
        return values;
    }

    Optional<String> first(String name) {
        for (Header h : headers) if (h.name().equalsIgnoreCase(name)) return Optional.of(h.value());
        return Optional.empty();
    }

    /** Whether a comma-separated field (Connection, Transfer-Encoding) lists {@code token}, ignoring case. */
    boolean lists(String name, String token) {
        for (String v : all(name))
            for (String t : v.split(",")) if (t.strip().equalsIgnoreCase(token)) return true;
        return false;
    }

    /** The head as bytes to send: {@code start}, then these headers, then an empty line. */
    static String encode(String start, List<Header> headers) {
        StringBuilder b = new StringBuilder(start.length() + 32 * headers.size() + 4).append(start).append("\r\n");
        for (Header h : headers) b.append(h.name()).append(": ").append(h.value()).append("\r\n");
        return b.append("\r\n").toString();
    }

    /**
     * The headers minus hop-by-hop ones (RFC 9110 section 7.6.1: Connection and the fields it names,
     * Keep-Alive, Proxy-*, TE, Upgrade), which describe one connection and must not be forwarded.
     */
    List<Header> endToEnd() {
        List<String> named = new ArrayList<>();
        for (String v : all("connection")) for (String t : v.split(",")) named.add(t.strip().toLowerCase(Locale.ROOT));
        List<Header> kept = new ArrayList<>(headers.size());
        for (Header h : headers) {
            String n = h.name().toLowerCase(Locale.ROOT);
            boolean hop = n.equals("connection") || n.equals("keep-alive") || n.startsWith("proxy-") || n.equals("te")
                    || n.equals("upgrade") || (named.contains(n) && !FRAMING.contains(n));
            if (!hop) kept.add(h);
        }
        return kept;
    }
}
