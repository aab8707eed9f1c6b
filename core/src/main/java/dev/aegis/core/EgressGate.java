package dev.aegis.core;

import java.nio.file.Path;

/**
 * The egress proxy as the orchestrator sees it: the only way out of a sandbox. The orchestrator opens a grant for
 * each instance whose manifest lists {@code permissions.network.egress} (an instance without entries gets no
 * socket, so nothing in it can even try), mounts the socket as {@link SandboxSpec#egressSocket()}, and closes the
 * grant when the instance ends, however it ends. What passes is decided per connection by {@link EgressRules} and
 * audited by the proxy, with the grant's tenant, agent and current task.
 */
public interface EgressGate {
    /**
     * Starts serving {@code grant.instance()} on a new unix socket and returns its host path. Whatever arrives on it
     * is that instance's traffic, under that grant.
     */
    Path open(EgressGrant grant);

    /** Bytes the instance sent and received through the proxy so far (0 when it is not open). */
    long bytes(InstanceId instance);

    /**
     * Stops serving the instance: its socket goes, its open connections are cut. Returns its final byte count
     * (up and down); 0 for an instance not open, so closing twice is harmless.
     */
    long close(InstanceId instance);
}
