package dev.aegis.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The host side of filesystem grants: which host folder backs a granted sandbox path, and what is in it. The
 * operator approves host folders ({@link Approved}); a manifest may grant only paths inside them. The adapter
 * resolves symlinks on the host, so a grant cannot leave its approved folder through one.
 */
public interface HostFolders {
    /**
     * A host folder the operator allows manifests to grant.
     *
     * @param host     absolute host path; {@code {tenant}} in it stands for the deploying tenant's name
     * @param sandbox  where it appears in sandboxes; a grant of {@code sandbox/x} binds {@code host/x}
     * @param writable whether it may be granted under {@code permissions.filesystem.write}, or only read
     */
    record Approved(String host, String sandbox, boolean writable) {
        public Approved {
            SandboxPath h;
            try {
                h = SandboxPath.parse(host.replace("{tenant}", "t"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("host folder \"" + host + "\" " + e.getMessage() + "; give an absolute host path");
            }
            if (h.isRoot()) throw new IllegalArgumentException("host folder \"/\" would grant the whole host; approve a folder");
            SandboxPath s;
            try {
                s = SandboxPath.parse(sandbox);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sandbox path \"" + sandbox + "\" " + e.getMessage());
            }
            if (!s.toString().equals(sandbox))
                throw new IllegalArgumentException("sandbox path \"" + sandbox + "\" is not in normal form; write " + s);
            if (s.isRoot() || FolderGrants.reserved(s).isPresent())
                throw new IllegalArgumentException("sandbox path \"" + sandbox + "\" cannot be granted: " + FolderGrants.RESERVED_TEXT);
        }

        /**
         * Parses {@code HOST[=SANDBOX]}: the host folder, and where sandboxes see it (default: the same path).
         *
         * @throws IllegalArgumentException naming the entry and what is allowed
         */
        public static Approved parse(String spec, boolean writable) {
            int eq = spec.indexOf('=');
            String host = eq < 0 ? spec : spec.substring(0, eq);
            String sandbox = eq < 0 ? spec : spec.substring(eq + 1);
            try {
                return new Approved(host, sandbox, writable);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("\"" + spec + "\": " + e.getMessage() + " (use HOST or HOST=SANDBOX, e.g. "
                        + "/srv/aegis/{tenant}/inbox=/data/inbox)");
            }
        }

        @Override
        public String toString() {
            return (host.equals(sandbox) ? host : host + "=" + sandbox) + (writable ? "" : " (read-only)");
        }
    }

    /**
     * The host folder for {@code tenant}'s grant of {@code sandboxPath}, with every symlink resolved.
     *
     * @throws AegisException {@code policy_denied} when the path is outside every approved folder, needs write but
     *                        is approved read-only, does not exist, or resolves (through a symlink) outside its folder
     */
    SandboxSpec.Mount resolve(String tenant, String sandboxPath, boolean writable);

    /** What a file looked like: enough to tell that it was written, even by a writer that reset its mtime. */
    record FileState(long size, long mtimeNanos, long ctimeNanos, long inode, boolean setId) {}

    /** Files under a folder by relative path ({@code a/b.txt}); {@code truncated} when {@code max} was reached. */
    record Listing(Map<String, FileState> files, boolean truncated) {}

    /**
     * Every entry under {@code folder} (files, folders, symlinks; never following a symlink), in name order, at most
     * {@code max}. A folder that cannot be read gives what could be read.
     */
    Listing list(Path folder, int max);

    /** Approves nothing: every grant of a host path is refused. */
    HostFolders NONE = new HostFolders() {
        @Override
        public SandboxSpec.Mount resolve(String tenant, String sandboxPath, boolean writable) {
            throw AegisException.denied("filesystem: \"" + sandboxPath + "\" cannot be granted: this server approves no host "
                    + "folders (aegis server --approve-folder)");
        }

        @Override
        public Listing list(Path folder, int max) {
            return new Listing(Map.of(), false);
        }
    };

    /** For error messages. */
    default List<Approved> approved() {
        return List.of();
    }
}
