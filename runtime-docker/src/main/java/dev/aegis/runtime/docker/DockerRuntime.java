package dev.aegis.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.LogSink;
import dev.aegis.core.Metered;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.Usage;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Runs agents in Docker containers through the Engine API (docker-java): no network but loopback, read-only root,
 * size-capped tmpfs scratch, memory/cpu/pids limits, no capabilities, uid 1000. The manifest's {@code image} picks
 * the image, else the default given here. Every container carries the labels {@value #OWNER_LABEL} (a hash of the
 * state dir) and {@value #INSTANCE_LABEL}, so {@link #reclaim()} removes exactly this orchestrator's leftovers.
 * The container's command is aegis-init's shim, mounted read-only; with the Engine's cgroupfs driver each container
 * runs under a cgroup parent of ours that {@link #usage} reads. Thread-safe.
 */
public final class DockerRuntime implements AgentRuntime, Metered, AutoCloseable {
    public static final String DEFAULT_IMAGE = "aegis/python:bookworm";
    public static final URI DEFAULT_HOST = URI.create("unix:///var/run/docker.sock");
    static final String OWNER_LABEL = "dev.aegis.owner";
    static final String INSTANCE_LABEL = "dev.aegis.instance";
    private final Path stateDir;
    private final String owner;
    private final String defaultImage;
    private final URI host;
    private final DockerClient docker;
    private final Map<InstanceId, AgentContainer> instances = new ConcurrentHashMap<>();
    /** spawn() holds it shared, reclaim() exclusive: reclaim must not remove a container a spawn is still building. */
    private final ReadWriteLock layout = new ReentrantReadWriteLock();
    private final ContainerCgroups cgroups;
    /** Learnt from the Engine at the first spawn: whether containers can run under our metering cgroup parent. */
    private volatile Optional<Boolean> cgroupfsDriver = Optional.empty();
    private volatile Path init;

    /** @param stateDir where per-instance folders live, e.g. {@code <dataDir>/run/docker}; also scopes the labels */
    public DockerRuntime(Path stateDir) {
        this(stateDir, DEFAULT_IMAGE, DEFAULT_HOST);
    }

    /**
     * @param defaultImage the image for manifests without {@code image}
     * @param host         the Engine API, e.g. {@code unix:///var/run/docker.sock}
     */
    public DockerRuntime(Path stateDir, String defaultImage, URI host) {
        this.stateDir = stateDir.toAbsolutePath().normalize();
        this.owner = owner(this.stateDir);
        this.defaultImage = defaultImage;
        this.host = host;
        var config = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host.toString()).build();
        // Each busy instance holds two connections (its attach stream, and execute's wait): size the pool for many.
        var http = new ApacheDockerHttpClient.Builder().dockerHost(host).maxConnections(1024)
                .connectionTimeout(Duration.ofSeconds(5)).build();
        this.docker = DockerClientImpl.getInstance(config, http);
        this.cgroups = new ContainerCgroups(Path.of("/sys/fs/cgroup"), "aegis-docker-" + owner.substring("aegis-".length()));
    }

    /** {@code aegis-<first 8 hex of sha256(stateDir)>}: each orchestrator (data folder) owns its own containers. */
    public static String owner(Path stateDir) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(stateDir.toString().getBytes(StandardCharsets.UTF_8));
            return "aegis-" + HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String name() {
        return "docker";
    }

    @Override
    public boolean isApplicable() {
        return EngineProbe.run(docker, host, defaultImage).applicable();
    }

    @Override
    public String description() {
        return EngineProbe.run(docker, host, defaultImage).description();
    }

    @Override
    public InstanceId spawn(SandboxSpec spec) {
        String image = spec.manifest().image().orElse(defaultImage);
        layout.readLock().lock();
        try {
            List<String> imageEnv = imageEnv(image);
            Path shim = init();
            InstanceFolder folder = InstanceFolder.create(stateDir, spec.id());
            Map<String, String> labels = Map.of(OWNER_LABEL, owner, INSTANCE_LABEL, spec.id().value());
            Optional<ContainerCgroups> metering = meteredByCgroups() ? Optional.of(cgroups) : Optional.empty();
            instances.put(spec.id(), AgentContainer.start(docker, spec, folder, containerName(spec.id()), image, labels, imageEnv,
                    shim, metering));
            return spec.id();
        } finally {
            layout.readLock().unlock();
        }
    }

    @Override
    public Outcome execute(InstanceId id, String taskJson, LogSink logs) {
        var c = instances.get(id);
        if (c == null) throw new RuntimeFailure("instance " + id + " does not exist: it was never spawned or is terminated");
        return c.execute(taskJson, logs);
    }

    @Override
    public void terminate(InstanceId id) {
        var c = instances.get(id);
        if (c == null) return;
        c.terminate();
        instances.remove(id, c);
    }

    /** CPU time and peak memory from the container's cgroup parent (zeros with the systemd cgroup driver), and uptime. */
    @Override
    public Optional<Usage> usage(InstanceId id) {
        var c = instances.get(id);
        return c == null ? Optional.empty() : c.usage();
    }

    @Override
    public InstanceState status(InstanceId id) {
        var c = instances.get(id);
        return c == null ? InstanceState.TERMINATED : c.state();
    }

    /** Force-removes every container labelled with this state dir's owner, and every instance folder, that no live instance holds. */
    @Override
    public int reclaim() {
        layout.writeLock().lock();
        try {
            var leftovers = new java.util.TreeSet<>(Leftovers.folders(stateDir));
            for (Container c : docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(OWNER_LABEL, owner)).exec()) {
                String instance = Optional.ofNullable(c.getLabels()).map(l -> l.get(INSTANCE_LABEL)).orElse(c.getId());
                if (isLive(instance)) continue;
                leftovers.add(instance);
                try {
                    docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                } catch (NotFoundException e) {
                    // removed meanwhile
                }
            }
            leftovers.removeIf(this::isLive);
            for (String name : leftovers) InstanceFolder.delete(stateDir.resolve(name));
            // Metering parents whose container is gone (removed above, or never created by a crashed spawn).
            for (String name : cgroups.children()) {
                if (isLive(name)) continue;
                cgroups.remove(name);
                leftovers.add(name);
            }
            if (instances.isEmpty()) cgroups.removeParent();
            return leftovers.size();
        } catch (RuntimeFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RuntimeFailure(Diagnosis.of("cannot reclaim the containers of " + stateDir, e), e);
        } finally {
            layout.writeLock().unlock();
        }
    }

    @Override
    public void close() throws IOException {
        docker.close();
    }

    String containerName(InstanceId id) {
        return owner + "-" + id.value();
    }

    Path stateDir() {
        return stateDir;
    }

    DockerClient client() {
        return docker;
    }

    private Path init() {
        Path p = init;
        if (p == null || !Files.isRegularFile(p)) init = p = InitBinary.install(stateDir);
        return p;
    }

    private boolean meteredByCgroups() {
        Optional<Boolean> known = cgroupfsDriver;
        if (known.isPresent()) return known.get();
        boolean cgroupfs;
        try {
            cgroupfs = "cgroupfs".equals(docker.infoCmd().exec().getCGroupDriver());
        } catch (RuntimeException e) {
            throw new RuntimeFailure(Diagnosis.of("cannot ask the Docker Engine at " + host + " for its cgroup driver", e), e);
        }
        cgroupfsDriver = Optional.of(cgroupfs);
        return cgroupfs;
    }

    private boolean isLive(String instance) {
        return instances.keySet().stream().anyMatch(id -> id.value().equals(instance));
    }

    /** The names the image's own ENV sets; also tells a missing image apart before anything is created. */
    private List<String> imageEnv(String image) {
        try {
            var config = docker.inspectImageCmd(image).exec().getConfig();
            String[] env = config == null || config.getEnv() == null ? new String[0] : config.getEnv();
            return java.util.Arrays.stream(env).map(e -> e.contains("=") ? e.substring(0, e.indexOf('=')) : e).toList();
        } catch (NotFoundException e) {
            throw new RuntimeFailure("image: \"" + image + "\" is not on the Docker Engine at " + host + "; "
                    + (image.equals(DEFAULT_IMAGE) ? "build it with tools/docker-image.sh" : "load it with docker load, docker import or docker pull"));
        } catch (RuntimeException e) {
            throw new RuntimeFailure(Diagnosis.of("image " + image, e), e);
        }
    }
}
