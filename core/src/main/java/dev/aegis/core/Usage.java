package dev.aegis.core;

import java.time.Duration;

/**
 * What one instance used: how long it has been up, CPU time across all its processes, and its peak memory
 * (including page cache the sandbox caused). Billing meters these.
 */
public record Usage(Duration uptime, Duration cpu, long memoryPeakBytes) {}
