package dev.aegis.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A manifest's filesystem grants as host mounts, and the audit of what a task wrote through them. Grants under
 * {@code /workspace} and {@code /tmp} are the sandbox's own tmpfs and bind nothing; every other grant must lie in a
 * folder the operator approved ({@link HostFolders}).
 */
final class FolderGrants {
    /** The sandbox's own scratch space: always there, never backed by a host folder. */
    private static final List<SandboxPath> OWN = List.of(SandboxPath.parse("/workspace"), SandboxPath.parse("/tmp"));
    /** Where the runtimes put their own mounts: a grant there would shadow them or go through their symlinks. */
    private static final List<SandboxPath> RESERVED = List.of("/proc", "/sys", "/dev", "/run/aegis", "/usr", "/etc",
            "/agent", "/opt/aegis", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/workspace", "/tmp")
            .stream().map(SandboxPath::parse).toList();
    static final String RESERVED_TEXT = "not /, nor under /proc, /sys, /dev, /run/aegis, /usr, /etc, /agent, /opt/aegis, "
            + "/bin, /sbin, /lib*, /workspace or /tmp";
    /** Files looked at per task, before and after, across its writable grants. */
    static final int MAX_SCANNED = 10_000;
    /** {@code fs.write} records per task; the rest are only counted in the summary. */
    static final int MAX_EVENTS = 1_000;

    private FolderGrants() {}

    /** One grant: a sandbox path, writable or not, and the manifest field that asked for it. */
    record Grant(String path, boolean writable, String field) {}

    static Optional<SandboxPath> reserved(SandboxPath p) {
        return RESERVED.stream().filter(r -> p.isUnder(r) || r.isUnder(p)).findFirst();
    }

    /** The grants that need a host folder: write wins over read for one path, parents before children. */
    static List<Grant> hostGrants(Manifest manifest) {
        Map<String, Grant> byPath = new LinkedHashMap<>();
        Manifest.Filesystem fs = manifest.permissions().filesystem();
        for (int i = 0; i < fs.write().size(); i++)
            byPath.putIfAbsent(fs.write().get(i), new Grant(fs.write().get(i), true, "permissions.filesystem.write[" + i + "]"));
        for (int i = 0; i < fs.read().size(); i++)
            byPath.putIfAbsent(fs.read().get(i), new Grant(fs.read().get(i), false, "permissions.filesystem.read[" + i + "]"));
        List<Grant> grants = new ArrayList<>();
        for (Grant g : byPath.values()) {
            SandboxPath p = SandboxPath.parse(g.path());
            if (OWN.stream().noneMatch(p::isUnder)) grants.add(g);
        }
        // bwrap and Docker apply mounts in order: /data must be bound before /data/out, or it would hide it.
        grants.sort(Comparator.comparingInt(g -> SandboxPath.parse(g.path()).segments().size()));
        return grants;
    }

    /**
     * The host mounts for {@code agent}'s grants, resolved now (a symlink may have changed since deploy).
     *
     * @throws AegisException {@code policy_denied} naming the manifest field, for the first grant refused
     */
    static List<SandboxSpec.Mount> mounts(HostFolders folders, String tenant, Manifest manifest) {
        List<SandboxSpec.Mount> mounts = new ArrayList<>();
        for (Grant g : hostGrants(manifest)) {
            Optional<SandboxPath> clash = reserved(SandboxPath.parse(g.path()));
            if (clash.isPresent())
                throw new AegisException("policy_denied", g.field() + ": \"" + g.path() + "\" cannot be granted; a host folder "
                        + "must be " + RESERVED_TEXT, "permissions.filesystem");
            try {
                mounts.add(folders.resolve(tenant, g.path(), g.writable()));
            } catch (AegisException e) {
                throw new AegisException(e.code(), g.field() + ": " + e.getMessage(), "permissions.filesystem");
            }
        }
        return mounts;
    }

    /** Before-and-after listings of a task's writable mounts, turned into {@code fs.write} audit records. */
    static final class WriteAudit {
        private final HostFolders folders;
        private final List<SandboxSpec.Mount> writable;
        private final Map<SandboxSpec.Mount, HostFolders.Listing> before = new HashMap<>();

        WriteAudit(HostFolders folders, List<SandboxSpec.Mount> mounts) {
            this.folders = folders;
            this.writable = mounts.stream().filter(SandboxSpec.Mount::writable).toList();
        }

        boolean isEmpty() {
            return writable.isEmpty();
        }

        /** Lists every writable mount; call before the agent runs. */
        void before() {
            int budget = MAX_SCANNED;
            for (SandboxSpec.Mount m : writable) {
                HostFolders.Listing l = folders.list(m.host(), Math.max(0, budget));
                before.put(m, l);
                budget -= l.files().size();
            }
        }

        /** Lists them again and describes each created, changed or deleted entry, then a summary; call after the end. */
        List<AuditEvent> after(String tenant, String agent, String taskId) {
            List<AuditEvent> events = new ArrayList<>();
            int budget = MAX_SCANNED, created = 0, changed = 0, deleted = 0, scanned = 0, dropped = 0, setIds = 0;
            boolean truncated = false;
            for (SandboxSpec.Mount m : writable) {
                HostFolders.Listing was = before.getOrDefault(m, new HostFolders.Listing(Map.of(), false));
                HostFolders.Listing now = folders.list(m.host(), Math.max(0, budget));
                budget -= now.files().size();
                scanned += was.files().size() + now.files().size();
                boolean cut = was.truncated() || now.truncated();
                truncated |= cut;
                List<String[]> changes = new ArrayList<>(); // {relative path, change}
                now.files().forEach((rel, state) -> {
                    HostFolders.FileState old = was.files().get(rel);
                    if (old == null) changes.add(new String[]{rel, "created"});
                    else if (!old.equals(state)) changes.add(new String[]{rel, "changed"});
                });
                // A cut listing cannot tell a deleted file from one past the cap: deletions are not claimed then.
                if (!cut) was.files().keySet().stream().filter(rel -> !now.files().containsKey(rel))
                        .forEach(rel -> changes.add(new String[]{rel, "deleted"}));
                changes.sort(Comparator.comparing(c -> c[0]));
                for (String[] c : changes) {
                    switch (c[1]) {
                        case "created" -> created++;
                        case "changed" -> changed++;
                        default -> deleted++;
                    }
                    HostFolders.FileState state = now.files().get(c[0]);
                    if (state != null && state.setId()) setIds++;
                    if (events.size() >= MAX_EVENTS) {
                        dropped++;
                        continue;
                    }
                    String path = m.sandboxPath() + "/" + c[0];
                    Map<String, String> details = new LinkedHashMap<>();
                    details.put("path", path);
                    details.put("change", c[1]);
                    details.put("size", state == null ? "0" : Long.toString(state.size()));
                    if (state != null && state.setId()) details.put("setid", "true");
                    events.add(AuditEvent.of(tenant, "system", "fs.write", "file:" + path, details).withAgent(agent).withTask(taskId));
                }
            }
            if (created + changed + deleted > 0 || truncated)
                events.add(AuditEvent.of(tenant, "system", "fs.write.summary", "task:" + taskId, Map.of(
                                "created", Integer.toString(created), "changed", Integer.toString(changed),
                                "deleted", Integer.toString(deleted), "scanned", Integer.toString(scanned),
                                "truncated", Boolean.toString(truncated), "unaudited", Integer.toString(dropped),
                                "setid", Integer.toString(setIds), "max_scanned", Integer.toString(MAX_SCANNED)))
                        .withAgent(agent).withTask(taskId));
            return events;
        }
    }
}
