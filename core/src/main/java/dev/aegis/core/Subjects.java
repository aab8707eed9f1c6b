package dev.aegis.core;

/**
 * Bus subjects. Agents and clients name subjects relative to their tenant ({@code orders.created}); AEGIS scopes
 * them as {@code tenant.<id>.orders.created} before they reach a bus, so no name and no wildcard of one tenant
 * can reach another's. Tokens are letters, digits, {@code _} and {@code -}; a pattern may use {@code *} for one
 * token and a final {@code >} for one or more (NATS semantics, which the in-process bus follows).
 *
 * <p>Two relative prefixes are the platform's: {@code aegis.} (task events, published by AEGIS only) and
 * {@code _inbox.} (reply subjects of requests, scoped outside the tenant's space so that no subscription of the
 * tenant, wildcard or not, sees another call's replies).
 */
public final class Subjects {
    public static final int MAX_LENGTH = 256;
    public static final int MAX_TOKENS = 16;
    /** Task events: {@code aegis.tasks.<agent>.<task id>.<kind>}. */
    public static final String EVENTS = "aegis.";
    public static final String INBOX = "_inbox.";

    private Subjects() {}

    /** A subject to publish on: tokens only, no wildcards. */
    public static String literal(String field, String subject) {
        check(field, subject, false);
        return subject;
    }

    /** A subscription pattern: tokens, {@code *}, and {@code >} as the last token. */
    public static String pattern(String field, String pattern) {
        check(field, pattern, true);
        return pattern;
    }

    /** The bus-wide subject of a tenant's relative subject or pattern (validated here too). */
    public static String scoped(String tenant, String subject) {
        if (subject.startsWith(INBOX)) return "aegis.inbox." + tenant + "." + subject.substring(INBOX.length());
        return "tenant." + tenant + "." + subject;
    }

    /** Back from {@link #scoped}: the subject as the tenant names it. */
    public static String relative(String tenant, String scoped) {
        String own = "tenant." + tenant + ".";
        if (scoped.startsWith(own)) return scoped.substring(own.length());
        String inbox = "aegis.inbox." + tenant + ".";
        if (scoped.startsWith(inbox)) return INBOX + scoped.substring(inbox.length());
        throw new IllegalArgumentException("subject " + scoped + " is not of tenant " + tenant);
    }

    /**
     * Whether the literal {@code subject} matches {@code pattern}. Scans both strings in place: the in-process bus
     * calls this for every subscription on every publish.
     */
    public static boolean matches(String pattern, String subject) {
        int p = 0, s = 0, pl = pattern.length(), sl = subject.length();
        while (true) {
            int pe = pattern.indexOf('.', p);
            if (pe < 0) pe = pl;
            boolean single = pe - p == 1;
            if (single && pattern.charAt(p) == '>') return s <= sl;
            if (s > sl) return false;
            int se = subject.indexOf('.', s);
            if (se < 0) se = sl;
            if (!(single && pattern.charAt(p) == '*') && !(pe - p == se - s && pattern.regionMatches(p, subject, s, pe - p)))
                return false;
            p = pe + 1;
            s = se + 1;
            if (p > pl) return s > sl;
        }
    }

    /** Whether {@code subject} is in the reply space ({@code _inbox.}), which no other subject or pattern reaches. */
    public static boolean inbox(String subject) {
        return subject.startsWith(INBOX);
    }

    /** Whether every subject {@code requested} can match is also matched by {@code grant}. */
    public static boolean covers(String grant, String requested) {
        String[] g = grant.split("\\."), r = requested.split("\\.");
        for (int i = 0; i < g.length; i++) {
            if (g[i].equals(">")) return r.length > i;
            if (i >= r.length) return false;
            if (g[i].equals("*")) {
                if (r[i].equals(">")) return false;
            } else if (!g[i].equals(r[i])) return false;
        }
        return g.length == r.length;
    }

    private static void check(String field, String s, boolean wildcards) {
        String what = wildcards ? "a subject pattern" : "a subject";
        String allowed = wildcards ? "tokens of letters, digits, _ and - separated by dots; * for one token, > as the last"
                : "tokens of letters, digits, _ and - separated by dots; no wildcards";
        if (s.isEmpty() || s.length() > MAX_LENGTH)
            throw AegisException.invalid(field, "\"" + s + "\" is not " + what + ": use 1 to " + MAX_LENGTH + " characters of "
                    + allowed);
        int tokens = 0;
        for (int start = 0; start <= s.length(); ) {
            int end = s.indexOf('.', start);
            if (end < 0) end = s.length();
            if (++tokens > MAX_TOKENS)
                throw AegisException.invalid(field, "\"" + s + "\" has more than " + MAX_TOKENS + " tokens");
            if (!token(s, start, end, wildcards, end == s.length()))
                throw AegisException.invalid(field, "\"" + s + "\" is not " + what + ": use " + allowed);
            start = end + 1;
        }
    }

    /** One token {@code s[start, end)}: 1 to 64 of [A-Za-z0-9_-], or a wildcard where allowed. Hand-written: hot path. */
    private static boolean token(String s, int start, int end, boolean wildcards, boolean last) {
        int n = end - start;
        if (n < 1 || n > 64) return false;
        if (n == 1 && wildcards && (s.charAt(start) == '*' || (s.charAt(start) == '>' && last))) return true;
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
        }
        return true;
    }
}
