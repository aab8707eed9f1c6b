package dev.aegis.core;

/** Deny-by-default decisions for one agent: what its manifest grants, within the operator's limits. */
public final class Policy {
    private final Manifest manifest;
    private final OperatorLimits limits;

    public Policy(Manifest manifest, OperatorLimits limits) {
        this.manifest = manifest;
        this.limits = limits;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Whether the manifest's resources fit under the operator's ceilings. */
    public Decision resources() {
        throw new UnsupportedOperationException("TODO");
    }

    /** Reading an absolute sandbox path. */
    public Decision read(String path) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Writing an absolute sandbox path. */
    public Decision write(String path) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Calling tool {@code server.tool}. */
    public Decision tool(String name) {
        throw new UnsupportedOperationException("TODO");
    }

    public Decision memory(Manifest.MemoryAccess needed) {
        throw new UnsupportedOperationException("TODO");
    }

    public Decision lock(String name) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Opening a connection to {@code host:port}. */
    public Decision egress(String host, int port) {
        throw new UnsupportedOperationException("TODO");
    }
}
