package dev.aegis.init;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * aegis-init's contract with the runtimes, run on the host (the runtimes' suites run it inside real sandboxes, where
 * the egress relay is also tested): the binary as built into this module's jar resource.
 */
class AegisInitTest {
    private static final Path BINARY = Path.of("target/classes/dev/aegis/init/aegis-init");

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private Result run(String stdin, Map<String, String> env, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of(BINARY.toAbsolutePath().toString()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out, err);
    }

    /** No PT_INTERP program header: the kernel runs it without a dynamic loader, so an image needs no libc for it. */
    @Test
    void isStaticSoItRunsInAnyImage() throws IOException {
        ByteBuffer elf = ByteBuffer.wrap(Files.readAllBytes(BINARY)).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(elf.getInt(0)).as("ELF magic").isEqualTo(0x464c457f);
        long phoff = elf.getLong(0x20);
        int phentsize = elf.getShort(0x36), phnum = elf.getShort(0x38);
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < phnum; i++) types.add(elf.getInt((int) phoff + i * phentsize));
        assertThat(types).as("program header types").isNotEmpty().doesNotContain(3);
    }

    @Test
    void shimPrintsReadyWaitsForOneLineAndLeavesTheRestToTheAgent() throws Exception {
        Result r = run("go\n{\"task\": 1}", Map.of(), "shim", "--", "cat");
        assertThat(r).isEqualTo(new Result(0, "aegis-ready\n{\"task\": 1}", ""));
    }

    @Test
    void shimExits97WhenStdinClosesBeforeTheLine() throws Exception {
        assertThat(run("", Map.of(), "shim", "--", "cat").code()).isEqualTo(97);
        assertThat(run("no newline", Map.of(), "shim", "--", "cat").code()).isEqualTo(97);
    }

    @Test
    void shimReportsAMissingProgramAsAShellWould() throws Exception {
        Result r = run("go\n", Map.of(), "shim", "--", "no-such-program-aegis");
        assertThat(r.code()).isEqualTo(127);
        assertThat(r.err()).contains("no-such-program-aegis: not found");
    }

    @Test
    void shimDropsPwdAndTheNamedVariablesAndCanReadStdinFromAFile() throws Exception {
        Path task = Files.writeString(dir.resolve("task.json"), "{\"from\": \"file\"}");
        Result r = run("go\nignored", Map.of("PWD", "/host/path", "IMAGE_VAR", "x", "KEEP", "y"),
                "shim", "--stdin", task.toString(), "--unset", "IMAGE_VAR", "--", "sh", "-c", "cat; env | sort");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("aegis-ready\n{\"from\": \"file\"}").contains("KEEP=y\n").doesNotContain("IMAGE_VAR", "/host/path");
    }

    @Test
    void enterJoinsCapsFileSizeAndHandsFd3ToTheProgram() throws Exception {
        // Plain files stand in for cgroup.procs: aegis-init writes its pid, which exec keeps for the program.
        Path procs1 = Files.createFile(dir.resolve("procs1")), procs2 = Files.createFile(dir.resolve("procs2"));
        Path seccomp = Files.writeString(dir.resolve("seccomp.bpf"), "program");
        Result r = run("", Map.of(), "enter", "--join", procs1.toString(), "--join", procs2.toString(), "--fsize", "1024000",
                "--fd3", seccomp.toString(), "--", "/bin/sh", "-c", "echo $$; ulimit -f; cat <&3");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(Files.readString(procs1).strip()).isEqualTo(lines.get(0));
        assertThat(Files.readString(procs2).strip()).isEqualTo(lines.get(0));
        assertThat(lines.subList(1, 3)).containsExactly("2000", "program"); // ulimit -f counts 512-byte blocks
    }

    @Test
    void enterFailsLoudlyWhenItCannotJoin() throws Exception {
        Result r = run("", Map.of(), "enter", "--join", dir.resolve("missing/cgroup.procs").toString(), "--", "/bin/true");
        assertThat(r.code()).isEqualTo(125);
        assertThat(r.err()).contains("cannot join cgroup", "missing/cgroup.procs");
    }

    /** The spare's stdin format: byte count, newline, NUL-terminated arguments, empty string, environment, empty string. */
    private static String command(List<String> args, List<String> env) {
        StringBuilder b = new StringBuilder();
        for (String a : args) b.append(a).append('\0');
        b.append('\0');
        for (String e : env) b.append(e).append('\0');
        b.append('\0');
        return b.toString().getBytes(StandardCharsets.UTF_8).length + "\n" + b;
    }

    @Test
    void spareJoinsFirstThenRunsTheCommandFromStdinWithItsEnvironmentOnly() throws Exception {
        Path procs = Files.createFile(dir.resolve("procs"));
        String cmd = command(List.of("--fsize", "1024000", "--", "/bin/sh", "-c", "echo $$; ulimit -f; env | sort; cat"),
                List.of("A=1", "B=two words"));
        Result r = run(cmd + "go\nthe task", Map.of("HOST_SECRET", "x"), "spare", "--join", procs.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getFirst()).as("printed once joined").isEqualTo("aegis-spare");
        assertThat(Files.readString(procs).strip()).isEqualTo(lines.get(1));
        assertThat(lines.get(2)).isEqualTo("2000");
        // Only the environment it was sent (sh adds PWD and a few of its own), and stdin after the command untouched.
        assertThat(r.out()).contains("A=1\nB=two words\n").doesNotContain("HOST_SECRET").endsWith("go\nthe task");
    }

    @Test
    void spareExitsQuietlyWhenStdinClosesAndRefusesAMalformedCommand() throws Exception {
        assertThat(run("", Map.of(), "spare")).isEqualTo(new Result(0, "aegis-spare\n", ""));
        assertThat(run("12\n--\0", Map.of(), "spare")).isEqualTo(new Result(0, "aegis-spare\n", "")); // closed mid-command
        Result letters = run("abc\n", Map.of(), "spare");
        assertThat(letters.code()).isEqualTo(125);
        assertThat(letters.err()).contains("bad command length");
        Result unterminated = run("11\n--\0/bin/true", Map.of(), "spare");
        assertThat(unterminated.code()).isEqualTo(125);
        assertThat(unterminated.err()).contains("not terminated");
        assertThat(run("", Map.of(), "spare", "--fsize", "1").code()).as("only --join before the command").isEqualTo(2);
    }

    @Test
    void unknownUsageIsRefused() throws Exception {
        assertThat(run("", Map.of(), "frobnicate").code()).isEqualTo(2);
        assertThat(run("", Map.of(), "shim", "--bogus", "x", "--", "true").code()).isEqualTo(2);
        assertThat(run("", Map.of(), "enter", "--join", "x").code()).isEqualTo(2);
    }
}
