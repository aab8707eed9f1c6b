package dev.aegis.cli;

import dev.aegis.core.EgressGate;
import dev.aegis.core.EgressGrant;
import dev.aegis.core.InstanceId;
import dev.aegis.mcp.McpTools;
import dev.aegis.security.EgressProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The node's {@link EgressProxy} as the orchestrator's {@link EgressGate}: one socket per instance in
 * {@code <data>/run/egress/<instance>.sock}, which the runtime mounts at {@code /run/aegis/egress.sock}. A unix
 * socket path holds at most 107 bytes: {@link Node#checkSocketRoom} refuses a data folder too long for it. The MCP
 * tool servers use it too, with a loopback listener for a remote server's session. Public for bench/, which wires
 * the tool path as the node does.
 */
public final class ProxyGate implements McpTools.Egress {
    private final EgressProxy proxy;
    private final Path dir;

    /** Sockets left in {@code dir} by a node that crashed are deleted: the data folder's lock says none is live. */
    public ProxyGate(EgressProxy proxy, Path dir) {
        this.proxy = proxy;
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            try (var stale = Files.list(dir)) {
                for (Path p : stale.filter(p -> p.getFileName().toString().endsWith(".sock")).toList()) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the egress socket folder " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path open(EgressGrant grant) {
        return proxy.open(grant, dir.resolve(grant.instance().value() + ".sock"));
    }

    @Override
    public InetSocketAddress loopback(EgressGrant grant, Consumer<String> refusals) {
        return proxy.openLoopback(grant, refusals);
    }

    @Override
    public long bytes(InstanceId instance) {
        return proxy.egressBytes(instance);
    }

    @Override
    public long close(InstanceId instance) {
        return proxy.close(instance);
    }
}
