package dev.aegis.core;

import java.util.regex.Pattern;

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
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{1,64}");
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

    /** Whether the literal {@code subject} matches {@code pattern}. */
    public static boolean matches(String pattern, String subject) {
        String[] p = pattern.split("\\."), s = subject.split("\\.");
        for (int i = 0; i < p.length; i++) {
            if (p[i].equals(">")) return s.length > i;
            if (i >= s.length) return false;
            if (!p[i].equals("*") && !p[i].equals(s[i])) return false;
        }
        return p.length == s.length;
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
        String[] tokens = s.split("\\.", -1);
        if (tokens.length > MAX_TOKENS)
            throw AegisException.invalid(field, "\"" + s + "\" has more than " + MAX_TOKENS + " tokens");
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            boolean ok = TOKEN.matcher(t).matches()
                    || (wildcards && (t.equals("*") || (t.equals(">") && i == tokens.length - 1)));
            if (!ok) throw AegisException.invalid(field, "\"" + s + "\" is not " + what + ": use " + allowed);
        }
    }
}
