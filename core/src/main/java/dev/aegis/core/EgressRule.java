package dev.aegis.core;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One {@code permissions.network.egress} entry: a host pattern and a port. The host is an exact DNS name,
 * a {@code *.domain} wildcard (any name below the domain, not the domain itself), an IPv4 address or CIDR, or
 * a bracketed IPv6 address or CIDR. Written {@code tls://host:port}, the entry requires TLS: only a
 * {@code CONNECT} tunnel whose TLS ClientHello names the host (SNI) may use it. Parsed here so that a bad entry
 * fails at deploy, not at first use.
 *
 * @param tls whether connections under this entry must be TLS with a matching server name
 */
public record EgressRule(String host, int port, boolean tls) {
    static final String HOST_HINT = "use a name (api.example.com), a wildcard (*.example.com), an IP or a CIDR";
    private static final String TLS = "tls://";
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("[0-9.]+(/[0-9]+)?");
    private static final Pattern IPV6 = Pattern.compile("\\[([0-9a-f:]+)(/[0-9]+)?]");

    public EgressRule {
        host = host.toLowerCase(Locale.ROOT);
        String problem = hostProblem(host);
        if (problem != null) throw new IllegalArgumentException(problem);
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port " + port + " is out of range; use 1-65535");
        // SNI carries only DNS names (RFC 6066, section 3), so a TLS entry for an address could never be met.
        if (tls && !isName(host))
            throw new IllegalArgumentException("\"" + TLS + host + "\" names an address; TLS needs a host name (SNI cannot carry an IP)");
    }

    /** An entry without the TLS requirement. */
    public EgressRule(String host, int port) {
        this(host, port, false);
    }

    /** @throws IllegalArgumentException saying what is wrong with {@code entry} and what is allowed */
    public static EgressRule parse(String entry) {
        String raw = entry;
        boolean tls = entry.regionMatches(true, 0, TLS, 0, TLS.length());
        if (tls) entry = entry.substring(TLS.length());
        if (entry.contains("://"))
            throw new IllegalArgumentException("\"" + raw + "\" has a scheme other than tls://; use host:port, or tls://host:port to require TLS");
        int colon = entry.lastIndexOf(':');
        if (colon <= 0 || entry.endsWith("]"))
            throw new IllegalArgumentException("\"" + entry + "\" is not host:port; use e.g. api.openai.com:443");
        String port = entry.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}"))
            throw new IllegalArgumentException("\"" + port + "\" is not a port; use 1-65535");
        return new EgressRule(entry.substring(0, colon), Integer.parseInt(port), tls);
    }

    /** Whether the host is a DNS name or wildcard, as opposed to an IP address or CIDR. */
    public boolean isName() {
        return isName(host);
    }

    private static boolean isName(String host) {
        return !host.startsWith("[") && !IPV4.matcher(host).matches();
    }

    private static String hostProblem(String host) {
        String bad = "\"" + host + "\" is not a host; " + HOST_HINT;
        if (IPV4.matcher(host).matches() || IPV6.matcher(host).matches()) {
            try {
                IpRanges.Cidr.parse(host);
                return null;
            } catch (IllegalArgumentException e) {
                return bad;
            }
        }
        boolean wildcard = host.startsWith("*.");
        String[] labels = (wildcard ? host.substring(2) : host).split("\\.", -1);
        for (String label : labels) if (!LABEL.matcher(label).matches()) return bad;
        if (host.length() > 253) return bad;
        // "*.com" would open a whole top-level domain; a wildcard must name a registrable domain at least.
        if (wildcard && labels.length < 2) return "\"" + host + "\" is too broad; a wildcard needs a domain, e.g. *.example.com";
        return null;
    }

    @Override
    public String toString() {
        return (tls ? TLS : "") + host + ":" + port;
    }
}
