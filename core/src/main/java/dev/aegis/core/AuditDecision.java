package dev.aegis.core;

/** Whether an audited action was a policy decision and which way it went. Encoded as its lower-case name. */
public enum AuditDecision {
    /** The action was not a policy check (a deploy, a lifecycle step, a result). */
    NONE,
    ALLOW,
    DENY;

    private final String wire = name().toLowerCase(java.util.Locale.ROOT);

    public String wire() {
        return wire;
    }

    public static AuditDecision fromWire(String s) {
        return switch (s) {
            case "none" -> NONE;
            case "allow" -> ALLOW;
            case "deny" -> DENY;
            default -> throw AegisException.invalid("decision", "\"" + s + "\" is not a decision (use none, allow or deny)");
        };
    }

    /** Maps a policy {@link Decision} to its audit form. */
    public static AuditDecision of(Decision d) {
        return switch (d) {
            case Decision.Allow a -> ALLOW;
            case Decision.Deny deny -> DENY;
        };
    }
}
