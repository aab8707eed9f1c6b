package dev.aegis.store;

import dev.aegis.core.AegisException;
import dev.aegis.core.HostFolders;
import dev.aegis.core.SandboxSpec;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link HostFolders} on this host's filesystem. A grant {@code sandbox/rel} of an approved folder {@code host=sandbox}
 * binds {@code host/rel} with every symlink resolved ({@code toRealPath}); a real path outside the approved folder's
 * own real path is refused. The bind source then has no symlink in it, and symlinks inside the bound folder resolve
 * in the sandbox's mount namespace, where nothing of the host but the binds exists.
 */
public final class LocalHostFolders implements HostFolders {
    private static final String NOFOLLOW_ATTRS = "unix:size,lastModifiedTime,ctime,ino,mode,isDirectory";
    private final List<Approved> approved;

    public LocalHostFolders(List<Approved> approved) {
        this.approved = List.copyOf(approved);
    }

    @Override
    public List<Approved> approved() {
        return approved;
    }

    @Override
    public SandboxSpec.Mount resolve(String tenant, String sandboxPath, boolean writable) {
        Path wanted = Path.of(sandboxPath);
        Optional<Approved> best = approved.stream().filter(a -> wanted.startsWith(Path.of(a.sandbox())))
                .max(Comparator.comparingInt(a -> Path.of(a.sandbox()).getNameCount()));
        if (best.isEmpty())
            throw AegisException.denied("\"" + sandboxPath + "\" is outside every folder this server allows to grant ("
                    + list() + "); an operator approves folders with aegis server --approve-folder / --approve-folder-ro");
        Approved a = best.get();
        if (writable && !a.writable())
            throw AegisException.denied("\"" + sandboxPath + "\" may only be granted read-only: " + a.sandbox()
                    + " is approved for reading; move it to permissions.filesystem.read");
        Path root = Path.of(a.host().replace("{tenant}", tenant));
        Path rootReal;
        try {
            rootReal = root.toRealPath();
        } catch (IOException e) {
            throw AegisException.denied("\"" + sandboxPath + "\": the approved folder for " + a.sandbox() + " does not exist on "
                    + "this server for tenant " + tenant + "; the operator must create it");
        }
        Path candidate = root.resolve(Path.of(a.sandbox()).relativize(wanted).toString());
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (NoSuchFileException e) {
            throw AegisException.denied("\"" + sandboxPath + "\" does not exist in the approved folder " + a.sandbox()
                    + "; create it on the server first");
        } catch (IOException e) {
            throw AegisException.denied("\"" + sandboxPath + "\" cannot be resolved on the server: " + e.getClass().getSimpleName());
        }
        // Symlinks resolved: a grant whose real path leaves the approved folder (e.g. a link to /etc) is refused.
        if (!real.startsWith(rootReal))
            throw AegisException.denied("\"" + sandboxPath + "\" leads outside the approved folder " + a.sandbox()
                    + " through a symbolic link; grant a real folder inside it");
        if (!Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS))
            throw AegisException.denied("\"" + sandboxPath + "\" is not a folder on the server; grants are folders");
        return new SandboxSpec.Mount(real, sandboxPath, writable);
    }

    @Override
    public Listing list(Path folder, int max) {
        Map<String, FileState> files = new LinkedHashMap<>();
        boolean truncated = walk(folder, "", files, max);
        return new Listing(files, truncated);
    }

    /** Depth first in name order, never following a symlink; returns whether {@code max} cut it short. */
    private static boolean walk(Path dir, String prefix, Map<String, FileState> files, int max) {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) entries.add(p);
        } catch (IOException e) {
            return false; // unreadable or gone: what could be read is the answer
        }
        entries.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (Path p : entries) {
            if (files.size() >= max) return true;
            String rel = prefix + p.getFileName();
            Map<String, Object> a;
            try {
                a = Files.readAttributes(p, NOFOLLOW_ATTRS, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                continue; // deleted meanwhile
            }
            int mode = (Integer) a.get("mode");
            files.put(rel, new FileState((Long) a.get("size"), nanos((FileTime) a.get("lastModifiedTime")),
                    nanos((FileTime) a.get("ctime")), (Long) a.get("ino"), (mode & 06000) != 0));
            if ((Boolean) a.get("isDirectory") && walk(p, rel + "/", files, max)) return true;
        }
        return false;
    }

    private static long nanos(FileTime t) {
        return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private String list() {
        return approved.isEmpty() ? "none are approved" : "approved: " + String.join(", ", approved.stream().map(a -> a.sandbox()
                + (a.writable() ? "" : " (read-only)")).toList());
    }
}
