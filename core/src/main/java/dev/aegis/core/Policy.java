package dev.aegis.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Deny-by-default decisions for one agent: what its manifest grants, within the operator's limits. Every
 * {@link Decision.Deny} says what was asked and what the manifest grants, so an agent author can fix the
 * manifest from the audit log alone. Decisions are pure functions of the manifest: no I/O happens here.
 */
public final class Policy {
    private final Manifest manifest;
    private final OperatorLimits limits;
    private final List<SandboxPath> readable = new ArrayList<>();
    private final List<SandboxPath> writable = new ArrayList<>();
    private final List<EgressRule> egress;

    /**
     * @throws IllegalArgumentException if a filesystem grant is not an absolute path without {@code ..}, or an egress
     *                                  entry is not {@code host:port}
     */
    public Policy(Manifest manifest, OperatorLimits limits) {
        this.manifest = Objects.requireNonNull(manifest, "manifest");
        this.limits = Objects.requireNonNull(limits, "limits");
        Manifest.Filesystem fs = manifest.permissions().filesystem();
        for (String p : fs.write()) writable.add(SandboxPath.parse(p));
        readable.addAll(writable);  // a write grant implies read
        for (String p : fs.read()) readable.add(SandboxPath.parse(p));
        egress = manifest.permissions().network().egress().stream().map(EgressRule::parse).toList();
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Whether the manifest's resources fit under the operator's ceilings; the reason lists every one exceeded. */
    public Decision resources() {
        Manifest.Resources r = manifest.resources();
        Manifest.Resources d = Manifest.Resources.DEFAULT;
        List<String> over = new ArrayList<>();
        if (r.cpu() > limits.maxCpu()) over.add(over("cpu", fmt(r.cpu()), fmt(limits.maxCpu()), r.cpu() == d.cpu()));
        if (r.memoryBytes() > limits.maxMemoryBytes())
            over.add(over("memory", Quantities.formatBytes(r.memoryBytes()), Quantities.formatBytes(limits.maxMemoryBytes()),
                    r.memoryBytes() == d.memoryBytes()));
        if (r.pids() > limits.maxPids()) over.add(over("pids", r.pids(), limits.maxPids(), r.pids() == d.pids()));
        if (r.diskBytes() > limits.maxDiskBytes())
            over.add(over("disk", Quantities.formatBytes(r.diskBytes()), Quantities.formatBytes(limits.maxDiskBytes()),
                    r.diskBytes() == d.diskBytes()));
        if (r.timeout().compareTo(limits.maxTimeout()) > 0)
            over.add(over("timeout", Quantities.formatDuration(r.timeout()), Quantities.formatDuration(limits.maxTimeout()),
                    r.timeout().equals(d.timeout())));
        return over.isEmpty() ? Decision.ALLOW : Decision.deny(String.join("; ", over));
    }

    /**
     * Reading an absolute sandbox path. The check is lexical: {@code core} cannot see the filesystem, so callers
     * must pass a path with symlinks already resolved ({@code Path.toRealPath()} on the host side, mapped back into
     * the sandbox); otherwise a symlink inside a granted folder could point anywhere.
     */
    public Decision read(String path) {
        return file("read", path, readable);
    }

    /** Writing an absolute sandbox path; the same symlink rule as {@link #read(String)} applies. */
    public Decision write(String path) {
        return file("write", path, writable);
    }

    /** Calling tool {@code server.tool}: listed exactly, or covered by {@code server.*}. */
    public Decision tool(String name) {
        List<String> tools = manifest.permissions().tools();
        int dot = name.indexOf('.');
        boolean ok = dot > 0 && dot < name.length() - 1 && !name.contains("*")
                && (tools.contains(name) || tools.contains(name.substring(0, dot) + ".*"));
        return ok ? Decision.ALLOW : Decision.deny("tool " + quote(name) + " denied; the manifest grants " + list("tools", tools));
    }

    /**
     * The memory namespace this agent reads and writes, and where its finished tasks are remembered: its own name, or
     * the {@code permissions.memory_namespace} it shares with the tenant's other agents that name it. Sharing is the
     * deployer's choice, like every grant; a client key of the tenant can search every namespace anyway.
     */
    public String memoryNamespace() {
        return memoryNamespace(manifest);
    }

    public static String memoryNamespace(Manifest manifest) {
        return manifest.permissions().memoryNamespace().orElse(manifest.name());
    }

    public Decision memory(Manifest.MemoryAccess needed) {
        Manifest.MemoryAccess granted = manifest.permissions().memory();
        return granted.allows(needed) ? Decision.ALLOW
                : Decision.deny("memory " + needed.yaml() + " denied; the manifest grants memory: " + granted.yaml());
    }

    /** Taking lock {@code name}: listed exactly, or under a {@code prefix/*} grant (any depth, not prefix itself). */
    public Decision lock(String name) {
        List<String> locks = manifest.permissions().locks();
        boolean wellFormed = !name.isEmpty() && !name.contains("*") && !name.startsWith("/") && !name.endsWith("/")
                && !name.contains("//");
        boolean ok = wellFormed && locks.stream().anyMatch(grant -> grant.endsWith("/*")
                ? name.startsWith(grant.substring(0, grant.length() - 1))
                : grant.equals(name));
        return ok ? Decision.ALLOW : Decision.deny("lock " + quote(name) + " denied; the manifest grants " + list("locks", locks));
    }

    /** Publishing on the literal {@code subject} (relative to the tenant): a {@code permissions.bus.publish} grant matches it. */
    public Decision publish(String subject) {
        List<String> grants = manifest.permissions().bus().publish();
        boolean ok = grants.stream().anyMatch(g -> Subjects.matches(g, subject));
        return ok ? Decision.ALLOW : Decision.deny("publish on " + quote(subject) + " denied; the manifest grants "
                + list("bus publish", grants));
    }

    /** Subscribing to {@code pattern}: a {@code permissions.bus.subscribe} grant covers every subject it can match. */
    public Decision subscribe(String pattern) {
        List<String> grants = manifest.permissions().bus().subscribe();
        boolean ok = grants.stream().anyMatch(g -> Subjects.covers(g, pattern));
        return ok ? Decision.ALLOW : Decision.deny("subscribe to " + quote(pattern) + " denied; the manifest grants "
                + list("bus subscribe", grants));
    }

    /** Starting a child task of {@code agent}: listed in {@code permissions.delegate}. */
    public Decision delegate(String agent) {
        List<String> agents = manifest.permissions().delegate();
        return agents.contains(agent) ? Decision.ALLOW : Decision.deny("delegating to agent " + quote(agent)
                + " denied; the manifest grants " + list("delegate", agents));
    }

    /**
     * Calling LLM {@code model}: listed exactly in {@code permissions.llm.models}, or under a grant ending in {@code *}
     * (a prefix, e.g. {@code claude-3-5-*}; a lone {@code *} grants every model of the tenant's provider).
     */
    public Decision llm(String model) {
        List<String> models = manifest.permissions().llm().models();
        boolean ok = !model.isEmpty() && models.stream().anyMatch(g -> g.endsWith("*")
                ? model.startsWith(g.substring(0, g.length() - 1)) : g.equals(model));
        return ok ? Decision.ALLOW : Decision.deny("model " + quote(model) + " denied; the manifest grants "
                + list("llm models", models));
    }

    /**
     * Whether a task that has used {@code used} tokens may spend {@code more}: the budget is
     * {@code permissions.llm.max_tokens_per_task}, and a manifest without one grants no tokens (deny by default).
     */
    public Decision llmTokens(long used, long more) {
        long budget = manifest.permissions().llm().maxTokensPerTask();
        if (budget == 0)
            return Decision.deny("the manifest grants no LLM tokens: set permissions.llm.max_tokens_per_task");
        if (used + more > budget)
            return Decision.deny("token budget exhausted: this task used " + used + (more > 0 ? " and asks about " + more + " more" : "")
                    + " of permissions.llm.max_tokens_per_task " + budget);
        return Decision.ALLOW;
    }

    /**
     * Opening a connection to {@code host:port}, by the rules the egress proxy applies ({@link EgressRules}). A name
     * is judged without DNS: the proxy further refuses a permitted name whose addresses are all private, loopback,
     * link-local or cloud metadata ones (unless an entry names them by IP), and under a {@code tls://} entry it lets
     * only a TLS tunnel naming the host through.
     */
    public Decision egress(String host, int port) {
        EgressHost target;
        try {
            target = EgressHost.parse(host);
        } catch (IllegalArgumentException e) {
            return Decision.deny("egress to " + EgressHost.quote(host) + " denied: " + e.getMessage());
        }
        return switch (EgressRules.check(egress, target, port)) {
            case EgressRules.Verdict.Allow a -> Decision.ALLOW;
            case EgressRules.Verdict.Deny(String reason) -> Decision.deny("egress to " + target.text() + ":" + port
                    + " denied: " + reason + "; the manifest grants " + list("network egress", egress.stream().map(EgressRule::toString).toList()));
        };
    }

    private Decision file(String verb, String raw, List<SandboxPath> grants) {
        SandboxPath path;
        try {
            path = SandboxPath.parse(raw);
        } catch (IllegalArgumentException e) {
            return Decision.deny(verb + " " + quote(raw) + " denied: the path " + e.getMessage()
                    + "; pass an absolute, resolved path");
        }
        for (SandboxPath grant : grants) if (path.isUnder(grant)) return Decision.ALLOW;
        return Decision.deny(verb + " " + quote(path.toString()) + " denied; the manifest grants "
                + list("filesystem " + verb, grants.stream().map(SandboxPath::toString).toList()));
    }

    private static String list(String what, List<String> granted) {
        return granted.isEmpty() ? "no " + what : what + " " + String.join(", ", granted);
    }

    /** @param isDefault the value is AEGIS's default, so the manifest may not have asked for it at all: say how to fix it */
    private static String over(String field, Object asked, Object ceiling, boolean isDefault) {
        return "resources." + field + ": asks " + asked + ", above the operator ceiling of " + ceiling
                + (isDefault ? " (" + asked + " is the default when resources." + field + " is not set; set it to at most " + ceiling + ")" : "");
    }

    private static String fmt(double cores) {
        return cores == Math.rint(cores) ? Long.toString((long) cores) : Double.toString(cores);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\0", "\\0") + "\"";
    }
}
