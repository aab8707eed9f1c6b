package dev.aegis.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An agent's {@code agent.yaml}, parsed and validated. Everything not granted here is denied.
 * Build one with {@link ManifestParser}; the JSON Schema in {@code core/src/main/resources/agent.schema.json}
 * is the truth for the file format, these records are the truth for the code.
 */
public record Manifest(
        String name,              // DNS-label style, unique per tenant
        String version,           // semver
        String runtime,           // bubblewrap | docker | firecracker
        List<String> entrypoint,  // argv run inside the sandbox, working directory /agent
        Optional<String> image,   // docker: an image; firecracker: a rootfs; unused by bubblewrap
        Resources resources,
        Permissions permissions,
        List<String> secrets,     // names of tenant secrets injected as environment variables
        Pool pool) {

    public Manifest {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(runtime, "runtime");
        entrypoint = List.copyOf(entrypoint);
        if (entrypoint.isEmpty()) throw new IllegalArgumentException("entrypoint must not be empty");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(resources, "resources");
        Objects.requireNonNull(permissions, "permissions");
        secrets = List.copyOf(secrets);
        Objects.requireNonNull(pool, "pool");
    }

    /** Limits of one sandbox. Defaults are small on purpose: an agent asks for more. */
    public record Resources(
            double cpu,          // cores, e.g. 0.5
            long memoryBytes,    // hard cap incl. page cache of the sandbox
            int pids,            // max processes+threads
            long diskBytes,      // size of the writable /workspace
            Duration timeout) {  // wall clock for one task, kills the whole tree
        public static final Resources DEFAULT =
                new Resources(1.0, 256L << 20, 64, 64L << 20, Duration.ofSeconds(30));

        public Resources {
            if (!(cpu > 0)) throw new IllegalArgumentException("cpu must be > 0");
            if (memoryBytes <= 0 || pids <= 0 || diskBytes <= 0) throw new IllegalArgumentException("limits must be > 0");
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be > 0");
        }
    }

    /** Grants. An empty list grants nothing. */
    public record Permissions(
            Network network,
            Filesystem filesystem,
            List<String> tools,    // "server.tool" names, "server.*" allowed
            MemoryAccess memory,
            List<String> locks,    // lock names, "prefix/*" allowed
            Llm llm,
            Bus bus,
            List<String> delegate,   // agents of the tenant this one may start child tasks of
            Optional<String> memoryNamespace) { // shared with agents naming the same; empty: the agent's own name
        public static final Permissions NONE = new Permissions(Network.NONE, Filesystem.NONE, List.of(),
                MemoryAccess.NONE, List.of(), Llm.NONE);

        public Permissions {
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(filesystem, "filesystem");
            tools = List.copyOf(tools);
            Objects.requireNonNull(memory, "memory");
            locks = List.copyOf(locks);
            Objects.requireNonNull(llm, "llm");
            Objects.requireNonNull(bus, "bus");
            delegate = List.copyOf(delegate);
            Objects.requireNonNull(memoryNamespace, "memoryNamespace");
        }

        /** Without a shared memory namespace. */
        public Permissions(Network network, Filesystem filesystem, List<String> tools, MemoryAccess memory,
                           List<String> locks, Llm llm, Bus bus, List<String> delegate) {
            this(network, filesystem, tools, memory, locks, llm, bus, delegate, Optional.empty());
        }

        /** Without coordination grants (no bus subjects, no delegation). */
        public Permissions(Network network, Filesystem filesystem, List<String> tools, MemoryAccess memory,
                           List<String> locks, Llm llm) {
            this(network, filesystem, tools, memory, locks, llm, Bus.NONE, List.of());
        }
    }

    /** Bus subjects relative to the tenant; {@code *} and a final {@code >} allowed (see {@link Subjects}). */
    public record Bus(List<String> publish, List<String> subscribe) {
        public static final Bus NONE = new Bus(List.of(), List.of());

        public Bus {
            publish = List.copyOf(publish);
            subscribe = List.copyOf(subscribe);
        }
    }

    /**
     * {@code host:port} egress entries; exact names, {@code *.domain} wildcards, IPs and CIDRs, each optionally
     * {@code tls://host:port} to require TLS. Parsed by {@link EgressRule#parse}.
     */
    public record Network(List<String> egress) {
        public static final Network NONE = new Network(List.of());

        public Network {
            egress = List.copyOf(egress);
        }
    }

    /** Absolute paths inside the sandbox; a write grant implies read. */
    public record Filesystem(List<String> read, List<String> write) {
        public static final Filesystem NONE = new Filesystem(List.of(), List.of());

        public Filesystem {
            read = List.copyOf(read);
            write = List.copyOf(write);
        }
    }

    public enum MemoryAccess {
        NONE("none"), READ("read"), READ_WRITE("read-write");

        private final String yaml;

        MemoryAccess(String yaml) {
            this.yaml = yaml;
        }

        public String yaml() {
            return yaml;
        }

        public boolean allows(MemoryAccess needed) {
            return ordinal() >= needed.ordinal();
        }

        public static Optional<MemoryAccess> fromYaml(String s) {
            for (MemoryAccess m : values()) if (m.yaml.equals(s)) return Optional.of(m);
            return Optional.empty();
        }
    }

    public record Llm(List<String> models, long maxTokensPerTask) {
        public static final Llm NONE = new Llm(List.of(), 0);

        public Llm {
            models = List.copyOf(models);
            if (maxTokensPerTask < 0) throw new IllegalArgumentException("max_tokens_per_task must be >= 0");
        }
    }

    /** Warm instances kept booted per agent, and the most that may run at once. */
    public record Pool(int warm, int max) {
        public static final Pool DEFAULT = new Pool(0, 4);

        public Pool {
            if (warm < 0 || max < 1 || warm > max) throw new IllegalArgumentException("pool: need 0 <= warm <= max, max >= 1");
        }
    }
}
