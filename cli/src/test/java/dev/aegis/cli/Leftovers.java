package dev.aegis.cli;

import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** What a node may have left on the host: sandbox and staging folders, cgroups, mounts, bwrap processes. */
final class Leftovers {
    private Leftovers() {}

    /** The runtime's own cgroup parent in each controller, {@code aegis-<8 hex of sha256(state dir)>}, where present. */
    static List<Path> cgroupParents(Path dataDir) throws Exception {
        String parent = "aegis-" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(dataDir.resolve("run/bubblewrap").toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8)), 0, 4);
        List<Path> found = new ArrayList<>();
        for (String ctl : List.of("memory", "pids", "cpu", "cpuacct", "freezer", ""))
            if (Files.isDirectory(Path.of("/sys/fs/cgroup", ctl, parent))) found.add(Path.of("/sys/fs/cgroup", ctl, parent));
        return found;
    }

    static List<String> of(Path dataDir) throws Exception {
        List<String> found = new ArrayList<>();
        Path state = dataDir.resolve("run/bubblewrap");
        for (Path dir : List.of(state, BubblewrapRuntime.instanceRoot(state)))
            if (Files.isDirectory(dir)) try (Stream<Path> s = Files.list(dir)) {
                s.filter(Files::isDirectory).forEach(p -> found.add("folder " + p));
            }
        // Instance cgroups under this data folder's own parent, aegis-<8 hex of sha256(state dir)>, in any controller.
        for (Path dir : cgroupParents(dataDir)) try (Stream<Path> kids = Files.list(dir)) {
            // Spare launchers (named _spare.*) are the runtime's own, like its shared files, not a sandbox's leftovers.
            kids.filter(k -> Files.isDirectory(k) && !k.getFileName().toString().startsWith("_spare.")).forEach(k -> found.add("cgroup " + k));
        }
        Path staging = dataDir.resolve("staging");
        if (Files.isDirectory(staging)) try (Stream<Path> s = Files.list(staging)) {
            s.forEach(p -> found.add("staging " + p));
        }
        for (String mount : Files.readAllLines(Path.of("/proc/self/mountinfo")))
            if (mount.contains(dataDir.toString())) found.add("mount " + mount);
        ProcessHandle.allProcesses().forEach(ph -> ph.info().commandLine().ifPresent(cmd -> {
            if (cmd.contains("bwrap") && cmd.contains(state.toString())) found.add("process " + ph.pid() + " " + cmd);
        }));
        return found;
    }
}
