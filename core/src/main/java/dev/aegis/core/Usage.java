package dev.aegis.core;

import java.time.Duration;

/**
 * What one instance used: how long it has been up, CPU time across all its processes, its peak memory
 * (including page cache the sandbox caused), and the bytes it sent and received through the egress proxy
 * (requests, responses and tunnels, both ways; {@code http.fetch} calls included). Billing meters these.
 */
public record Usage(Duration uptime, Duration cpu, long memoryPeakBytes, long egressBytes) {
    /** Nothing used: for an instance whose runtime does not meter it but whose egress the proxy counted. */
    public static final Usage NONE = new Usage(Duration.ZERO, Duration.ZERO, 0, 0);

    /** What a runtime measures; the egress proxy's count is added by the orchestrator. */
    public Usage(Duration uptime, Duration cpu, long memoryPeakBytes) {
        this(uptime, cpu, memoryPeakBytes, 0);
    }

    public Usage withEgressBytes(long bytes) {
        return new Usage(uptime, cpu, memoryPeakBytes, bytes);
    }
}
