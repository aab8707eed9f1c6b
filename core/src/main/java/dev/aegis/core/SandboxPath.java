package dev.aegis.core;

import java.util.ArrayList;
import java.util.List;

/**
 * An absolute path inside a sandbox, as segments. Purely lexical: {@code core} does no I/O, so symlinks are the
 * caller's job. {@code ..} is refused rather than folded away, because folding it lexically gives a different
 * answer than the kernel does once a symlink sits in front of it.
 */
record SandboxPath(List<String> segments) {

    SandboxPath {
        segments = List.copyOf(segments);
    }

    /**
     * Splits {@code raw}, dropping empty and {@code .} segments.
     *
     * @throws IllegalArgumentException if it is relative, holds a NUL or a {@code ..} segment
     */
    static SandboxPath parse(String raw) {
        if (raw.indexOf('\0') >= 0) throw new IllegalArgumentException("contains a NUL character");
        if (!raw.startsWith("/")) throw new IllegalArgumentException("is not an absolute path");
        List<String> segments = new ArrayList<>();
        for (String s : raw.split("/")) {
            if (s.equals("..")) throw new IllegalArgumentException("has a .. segment");
            if (!s.isEmpty() && !s.equals(".")) segments.add(s);
        }
        return new SandboxPath(segments);
    }

    /** Equal to {@code folder} or below it, segment by segment: {@code /data/inboxes} is not under {@code /data/inbox}. */
    boolean isUnder(SandboxPath folder) {
        return segments.size() >= folder.segments.size()
                && segments.subList(0, folder.segments.size()).equals(folder.segments);
    }

    boolean isRoot() {
        return segments.isEmpty();
    }

    @Override
    public String toString() {
        return "/" + String.join("/", segments);
    }
}
