package dev.aegis.core;

import java.time.Duration;

/**
 * Ceilings set by the operator in the server config ({@code aegis server --max-cpu --max-memory --max-pids --max-disk
 * --max-timeout}); a manifest asking for more is refused at deploy.
 */
public record OperatorLimits(double maxCpu, long maxMemoryBytes, int maxPids, long maxDiskBytes, Duration maxTimeout) {
    public static final OperatorLimits DEFAULT =
            new OperatorLimits(2.0, 2L << 30, 1024, 1L << 30, Duration.ofMinutes(15));

    /** @throws IllegalArgumentException naming the ceiling (as its server option) when one is not above zero */
    public OperatorLimits {
        // A zero ceiling would refuse every deploy with a message about the manifest, not about the server.
        if (!(maxCpu > 0) || Double.isInfinite(maxCpu)) throw bad("--max-cpu", Double.toString(maxCpu), "cores, e.g. 2 or 0.5");
        if (maxMemoryBytes <= 0) throw bad("--max-memory", Long.toString(maxMemoryBytes), "a size, e.g. 2Gi");
        if (maxPids <= 0) throw bad("--max-pids", Integer.toString(maxPids), "a count, e.g. 1024");
        if (maxDiskBytes <= 0) throw bad("--max-disk", Long.toString(maxDiskBytes), "a size, e.g. 1Gi");
        if (maxTimeout == null || maxTimeout.isZero() || maxTimeout.isNegative())
            throw bad("--max-timeout", String.valueOf(maxTimeout), "a duration, e.g. 15m");
    }

    private static IllegalArgumentException bad(String option, String value, String allowed) {
        return new IllegalArgumentException("operator ceiling " + option + ": " + value + " must be above zero (" + allowed + ")");
    }
}
