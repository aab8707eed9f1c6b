package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.SandboxSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** What an agent can see and touch from inside: escapes and leaks, each tried for real. */
class SandboxIsolationTest {
    static Fixture f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Fixture();
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void environmentHoldsOnlyWhatWasSet() {
        Set<String> names = f.run(f.spec(Fixture.SMALL, "env"), "{}").output().lines().map(l -> l.substring(0, l.indexOf('='))).collect(Collectors.toSet());
        assertThat(names).containsExactlyInAnyOrder("PATH", "HOME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "LANG", "AEGIS_TOKEN");
        assertThat(f.sh("echo $HOME $PATH $PYTHONPATH")).isEqualTo("/workspace /usr/local/bin:/usr/bin:/bin /opt/aegis/python\n");
    }

    @Test
    void secretsStayOutOfTheCommandLine() {
        // argv is world-readable in the host's /proc; the token must travel in the environment only.
        var id = f.runtime.spawn(f.spec(Fixture.SMALL, "cat"));
        assertThat(Fixture.processesMentioning(id.value())).isNotEmpty();
        assertThat(Fixture.processesMentioning("secret-token")).isEmpty();
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }

    @Test
    void runsUnprivilegedAsUid1000WithItsOwnHostname() {
        assertThat(f.sh("id -u; id -g; id -un; hostname; grep CapEff /proc/self/status")).isEqualTo("1000\n1000\naegis\naegis\nCapEff:\t0000000000000000\n");
        assertThat(f.sh("cat /etc/passwd; ls /etc")).doesNotContain("root:").contains("aegis:x:1000").doesNotContain("shadow");
    }

    @Test
    void rootIsReadOnlyAndOnlyScratchIsWritable() {
        String script = "for p in /usr/x /etc/x /agent/x /x /bin/x /run/aegis/x /opt/aegis/python/x /workspace/x /tmp/x; do "
                + "if touch $p 2>/dev/null; then echo $p ok; else echo $p denied; fi; done; cat /agent/hello.txt";
        assertThat(f.sh(script)).isEqualTo("""
                /usr/x denied
                /etc/x denied
                /agent/x denied
                /x denied
                /bin/x denied
                /run/aegis/x denied
                /opt/aegis/python/x denied
                /workspace/x ok
                /tmp/x ok
                hello from /agent
                """);
    }

    @Test
    void workspaceIsCappedAtTheDiskSize() {
        var r = new dev.aegis.core.Manifest.Resources(1.0, 256L << 20, 64, 8L << 20, java.time.Duration.ofSeconds(10));
        var run = f.run(f.spec(r, "/bin/sh", "-c", "dd if=/dev/zero of=/workspace/big bs=1M count=100; echo rc=$?"), "{}");
        assertThat(run.output()).isEqualTo("rc=1\n");
        assertThat(run.logs()).anyMatch(l -> l.contains("No space left on device"));
    }

    @Test
    void hasNoNetworkButLoopback() throws Exception {
        try (ServerSocket host = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String out = f.sh("""
                    python3 -c '
                    import socket, sys
                    print([n for _, n in socket.if_nameindex()])
                    for addr in [("127.0.0.1", int(sys.argv[1])), ("127.0.0.1", 5432), ("1.1.1.1", 443)]:
                        try:
                            socket.create_connection(addr, timeout=2); print("connected", addr)
                        except OSError as e:
                            print(type(e).__name__)
                    ' %d""".formatted(host.getLocalPort()));
            assertThat(out).isEqualTo("['lo']\nConnectionRefusedError\nConnectionRefusedError\nOSError\n");
        }
    }

    @Test
    void seesNoHostProcesses() {
        // pid 1 is bwrap's init, pid 2 the agent (the shim execs it): nothing else exists in this pid namespace.
        var run = f.run(f.spec(Fixture.SMALL, "python3", "-c",
                "import os; print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))"), "{}");
        assertThat(run.output()).isEqualTo("[1, 2]\n");
        assertThat(f.sh("cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' '")).doesNotContain("java").doesNotContain("surefire");
    }

    @Test
    void seccompAndNoNestedNamespacesButThreadsStillWork() {
        String out = f.sh("""
                unshare --user true 2>/dev/null; echo unshare=$?
                python3 -c '
                import ctypes, os, threading, subprocess
                libc = ctypes.CDLL(None, use_errno=True)
                print("mount", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None), os.strerror(ctypes.get_errno()))
                print("ptrace", libc.ptrace(0, 0, None, None), os.strerror(ctypes.get_errno()))
                t = threading.Thread(target=lambda: None); t.start(); t.join()
                print("thread ok", subprocess.run(["true"]).returncode)
                '""");
        assertThat(out).isEqualTo("unshare=1\nmount -1 Operation not permitted\nptrace -1 Operation not permitted\nthread ok 0\n");
    }

    @Test
    void grantedMountsAreBoundReadOnlyOrWritable() throws Exception {
        var ro = Files.createDirectories(f.root.resolve("inbox"));
        var rw = Files.createDirectories(f.root.resolve("outbox"));
        Files.writeString(ro.resolve("mail.txt"), "hi");
        var spec = f.spec(Fixture.SMALL, SandboxSpec.OutputLimits.DEFAULT, List.of(
                        new SandboxSpec.Mount(ro, "/data/inbox", false), new SandboxSpec.Mount(rw, "/data/outbox", true)),
                "/bin/sh", "-c", "cat /data/inbox/mail.txt; touch /data/inbox/x 2>/dev/null || echo ' ro'; echo out > /data/outbox/r && echo rw");
        assertThat(f.run(spec, "{}").output()).isEqualTo("hi ro\nrw\n");
        assertThat(rw.resolve("r")).hasContent("out");
    }
}
