package dev.aegis.core;

import java.time.Duration;

/** Ceilings set by the operator in the server config; a manifest asking for more is refused at deploy. */
public record OperatorLimits(double maxCpu, long maxMemoryBytes, int maxPids, long maxDiskBytes, Duration maxTimeout) {
    public static final OperatorLimits DEFAULT =
            new OperatorLimits(2.0, 2L << 30, 1024, 1L << 30, Duration.ofMinutes(15));
}
