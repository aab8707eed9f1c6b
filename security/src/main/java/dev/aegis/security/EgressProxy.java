package dev.aegis.security;

import dev.aegis.core.EgressGrant;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditLog;
import dev.aegis.core.InstanceId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.net.URI;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The orchestrator's egress proxy: the only way out of a sandbox. Each sandbox instance gets a unix socket
 * (mounted in the sandbox at {@code /run/aegis/egress.sock} and bridged to {@code 127.0.0.1:3128} there), served
 * as an HTTP forward proxy ({@code GET http://host/...}) and a {@code CONNECT host:port} tunnel. Every request
 * and every tunnel is checked against the instance's {@link EgressGrant} when it starts (see docs/egress.md for
 * the rules and the bypasses it refuses), and becomes one {@code egress.request} or {@code egress.connect}
 * audit event: denials before the client hears of them, allowed attempts when they end, with byte counts.
 *
 * <p>One thread per connection (two in a tunnel), blocking sockets. Safe for concurrent use.
 */
public final class EgressProxy implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EgressProxy.class.getName());
    /**
     * Connection threads. Platform threads, not virtual ones: a virtual thread's blocking read goes through the
     * JDK's poller and back to a carrier, two more hand-offs per read, and EgressBench measured that as about a
     * quarter more latency per proxied request (p50 1.64x vs 1.40x of direct on 2 cores). Connections per
     * instance are capped ({@link EgressConfig#maxConnections}) and the handlers' stacks are shallow.
     */
    static final ThreadFactory WORKERS =
            Thread.ofPlatform().daemon().name("aegis-egress-", 0).stackSize(256 * 1024).factory();

    /** The group of the sandbox user in both runtimes (the agent-API socket uses the same). */
    private static final int SANDBOX_GID = 1000;

    private final AuditLog audit;
    private final EgressConfig config;
    private final Deadline.Sweeper timer = new Deadline.Sweeper();
    private final ExecutorService auditWriter = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<InstanceId, Instance> instances = new ConcurrentHashMap<>();
    private final Set<Thread> workers = ConcurrentHashMap.newKeySet();
    private final Fetcher fetcher;

    public EgressProxy(AuditLog audit, EgressConfig config) {
        this.audit = Objects.requireNonNull(audit, "audit");
        this.config = Objects.requireNonNull(config, "config");
        this.fetcher = new Fetcher(this);
    }

    /**
     * Starts serving {@code grant}'s instance on a unix socket at {@code socket} (replacing a stale file there;
     * mode 0660, group 1000 when this process may set it, as the agent-API socket) and returns its path, for
     * {@code SandboxSpec.egressSocket}: the runtime mounts it at {@code /run/aegis/egress.sock}.
     */
    public Path open(EgressGrant grant, Path socket) {
        try {
            Files.deleteIfExists(socket);
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            // As the agent-API socket: bubblewrap agents run as this process's uid (the owner), Docker agents as
            // uid/gid 1000 (the group); the mode keeps anyone else out.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            try {
                Files.setAttribute(socket, "unix:gid", SANDBOX_GID);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                // not root: only same-uid sandboxes (bubblewrap) can connect; a Docker spawn refuses the socket clearly
            }
            serve(server, new Binding(this, grant, instance(grant), reason -> {}, message -> {}), () -> deleteQuietly(socket));
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException("egress proxy: cannot listen on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Serves {@code grant} on a new loopback TCP port (for in-process clients, tests and benchmarks). */
    public InetSocketAddress openLoopback(EgressGrant grant) {
        return openLoopback(grant, reason -> {});
    }

    /**
     * As {@link #openLoopback(EgressGrant)}, and {@code refusals} hears why the proxy answered a request itself: each
     * deny reason, and each failure of an allowed attempt (a server it could not reach, a malformed response), so an
     * in-process client (a remote MCP tool server's session) can say why rather than show a bare 403 or 502.
     */
    public InetSocketAddress openLoopback(EgressGrant grant, Consumer<String> refusals) {
        return listenLoopback(grant, refusals, refusals, false).address();
    }

    /** A listener of its own, closed by its caller (or with the instance). */
    record Listener(InetSocketAddress address, Binding binding, AutoCloseable closer) implements AutoCloseable {
        @Override
        public void close() {
            binding.close(closer);
        }
    }

    /**
     * A loopback listener for {@code grant}. With {@code transient}, an instance that is not open is not opened
     * for it (a fetch after the sandbox is gone leaves nothing behind); its bytes then count nowhere.
     */
    Listener listenLoopback(EgressGrant grant, Consumer<String> denials, Consumer<String> failures, boolean transientUse) {
        try {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Instance instance = transientUse ? instances.getOrDefault(grant.instance(), new Instance(grant.instance())) : instance(grant);
            Binding binding = new Binding(this, grant, instance, denials, failures);
            return new Listener((InetSocketAddress) server.getLocalAddress(), binding, serve(server, binding, () -> {}));
        } catch (IOException e) {
            throw new UncheckedIOException("egress proxy: cannot listen on loopback: " + e.getMessage(), e);
        }
    }

    /**
     * Fetches {@code uri} for the built-in {@code http.fetch} tool, through the same checks and audit as a
     * sandbox's own traffic. Redirects are returned, not followed. Its bytes count toward
     * {@link #egressBytes} while the instance is open; a fetch for an instance that is not open opens nothing.
     *
     * @throws dev.aegis.core.AegisException {@code policy_denied} with the reason when the proxy refused it
     */
    public FetchResult fetch(EgressGrant grant, String method, URI uri, Map<String, String> headers, byte[] body, FetchLimits limits) {
        return fetcher.fetch(grant, method, uri, headers, body, limits);
    }

    /** Bytes the instance sent and received through the proxy so far (request and response bodies and heads). */
    public long egressBytes(InstanceId id) {
        Instance i = instances.get(id);
        return i == null ? 0 : i.up.sum() + i.down.sum();
    }

    /**
     * Stops serving the instance: closes its listeners (deleting their socket files) and its open connections.
     * Returns its final {@link #egressBytes} count (0 for an instance not open).
     */
    public long close(InstanceId id) {
        Instance i = instances.remove(id);
        if (i == null) return 0;
        i.close();
        return i.up.sum() + i.down.sum();
    }

    /** Closes every instance, then waits (a few seconds at most) for the audit events of the connections cut. */
    @Override
    public void close() {
        for (InstanceId id : instances.keySet()) close(id);
        long until = System.nanoTime() + 5_000_000_000L;
        for (Thread t : workers) {
            try {
                t.join(Duration.ofNanos(Math.max(1, until - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        auditWriter.close();
        timer.close();
    }

    EgressConfig config() {
        return config;
    }

    Deadline.Sweeper timer() {
        return timer;
    }

    void record(EgressGrant grant, Attempt a, AuditDecision decision, String reason, boolean now) {
        Runnable append = () -> {
            try {
                audit.append(a.event(grant, decision, reason));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "egress audit event not recorded: " + a.action + " " + a.target, e);
            }
        };
        if (now) {
            append.run();
            return;
        }
        try {
            auditWriter.execute(append);
        } catch (RejectedExecutionException closing) {
            append.run();
        }
    }

    private Instance instance(EgressGrant grant) {
        return instances.computeIfAbsent(grant.instance(), Instance::new);
    }

    /** Accepts connections on {@code server} until it is closed; returns what closes it. */
    private AutoCloseable serve(ServerSocketChannel server, Binding binding, Runnable onClose) {
        AutoCloseable listener = () -> {
            server.close();
            onClose.run();
        };
        if (!binding.instance().track(listener)) return listener;
        Thread.ofVirtual().name("aegis-egress-accept-" + binding.instance().id).start(() -> {
            while (server.isOpen()) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (IOException e) {
                    break; // closed
                }
                if (!binding.instance().track(ch)) continue;
                try {
                    if (ch.getLocalAddress() instanceof InetSocketAddress) ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                } catch (IOException e) {
                    binding.close(ch);
                    continue;
                }
                ClientConnection connection = new ClientConnection(binding, new Wire(ch, binding.instance().down));
                Thread worker = WORKERS.newThread(() -> {
                    try {
                        connection.run();
                    } finally {
                        workers.remove(Thread.currentThread());
                    }
                });
                workers.add(worker);
                worker.start();
            }
        });
        return listener;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete egress socket " + p + ": " + e.getMessage());
        }
    }
}
