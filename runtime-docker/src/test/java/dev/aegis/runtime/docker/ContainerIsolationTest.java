package dev.aegis.runtime.docker;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.SandboxSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** What an agent can see and touch from inside a container: escapes and leaks, each tried for real. */
class ContainerIsolationTest {
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
        Set<String> names = f.run(f.spec(Fixture.SMALL, "env"), "{}").output().lines()
                .map(l -> l.substring(0, l.indexOf('='))).collect(Collectors.toSet());
        assertThat(names).containsExactlyInAnyOrder("PATH", "HOME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "LANG", "AEGIS_TOKEN");
        assertThat(f.sh("echo $HOME $PATH $PYTHONPATH")).isEqualTo("/workspace /usr/local/bin:/usr/bin:/bin /opt/aegis/python\n");
    }

    @Test
    void runsAsUid1000WithoutCapabilitiesOrPrivilegeGains() {
        assertThat(f.sh("id -u; id -g; id -un; hostname; grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status"))
                .isEqualTo("1000\n1000\naegis\naegis\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n");
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
        assertThat(f.sh("echo x > /run/aegis/task.json 2>/dev/null || echo task.json read-only")).isEqualTo("task.json read-only\n");
    }

    @Test
    void workspaceIsCappedAtTheDiskSize() {
        var r = new Resources(1.0, 256L << 20, 64, 8L << 20, Duration.ofSeconds(10));
        var run = f.run(f.spec(r, "/bin/sh", "-c", "dd if=/dev/zero of=/workspace/big bs=1M count=100; echo rc=$?; df -k /workspace | tail -1"), "{}");
        assertThat(run.output()).startsWith("rc=1\n").contains(" 8192 ");
        assertThat(run.logs()).anyMatch(l -> l.contains("No space left on device"));
    }

    @Test
    void hasNoNetworkButLoopback() throws Exception {
        try (ServerSocket host = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String out = f.sh("""
                    python3 -c '
                    import socket, sys
                    print([n for _, n in socket.if_nameindex()])
                    for addr in [("127.0.0.1", int(sys.argv[1])), ("1.1.1.1", 443)]:
                        try:
                            socket.create_connection(addr, timeout=2); print("connected", addr)
                        except OSError as e:
                            print(type(e).__name__)
                    ' %d""".formatted(host.getLocalPort()));
            assertThat(out).isEqualTo("['lo']\nConnectionRefusedError\nOSError\n");
        }
    }

    @Test
    void reachesTheAgentSocketAndNothingElseOfTheHost() throws Exception {
        Thread.ofVirtual().start(() -> {
            try (SocketChannel c = f.server.accept()) {
                c.write(ByteBuffer.wrap("pong\n".getBytes(StandardCharsets.UTF_8)));
            } catch (Exception e) {
                // the test fails on the agent's side
            }
        });
        assertThat(f.sh("""
                python3 -c '
                import socket; s = socket.socket(socket.AF_UNIX); s.connect("/run/aegis/agent.sock"); print(s.recv(5).decode(), end="")'
                ls /run/aegis; ls /var/run/docker.sock 2>&1 | grep -c 'No such file'""")).isEqualTo("pong\nagent.sock\nresult.json\ntask.json\n1\n");
    }

    @Test
    void grantedMountsAreBoundReadOnlyOrWritable() throws Exception {
        var ro = Files.createDirectories(f.root.resolve("inbox"));
        var rw = Files.createDirectories(f.root.resolve("outbox"));
        Files.writeString(ro.resolve("mail.txt"), "hi");
        Files.setAttribute(rw, "unix:uid", InstanceFolder.AGENT_UID);
        var spec = f.spec(Fixture.SMALL, SandboxSpec.OutputLimits.DEFAULT, List.of(
                        new SandboxSpec.Mount(ro, "/data/inbox", false), new SandboxSpec.Mount(rw, "/data/outbox", true)),
                "/bin/sh", "-c", "cat /data/inbox/mail.txt; touch /data/inbox/x 2>/dev/null || echo ' ro'; echo out > /data/outbox/r && echo rw");
        assertThat(f.run(spec, "{}").output()).isEqualTo("hi ro\nrw\n");
        assertThat(rw.resolve("r")).hasContent("out");
    }

    @Test
    void appliesTheManifestLimitsToTheContainer() {
        var r = new Resources(0.5, 96L << 20, 40, 8L << 20, Duration.ofSeconds(5));
        var id = f.runtime.spawn(f.spec(r, "cat"));
        var h = f.runtime.client().inspectContainerCmd(f.runtime.containerName(id)).exec().getHostConfig();
        assertThat(h.getMemory()).isEqualTo(96L << 20);
        assertThat(h.getMemorySwap()).isEqualTo(96L << 20);
        assertThat(h.getNanoCPUs()).isEqualTo(500_000_000L);
        assertThat(h.getPidsLimit()).isEqualTo(40L);
        assertThat(h.getNetworkMode()).isEqualTo("none");
        assertThat(h.getReadonlyRootfs()).isTrue();
        assertThat(h.getCapDrop()).extracting(Enum::name).containsExactly("ALL");
        assertThat(h.getSecurityOpts()).containsExactly("no-new-privileges");
        assertThat(h.getTmpFs()).containsKeys("/workspace", "/tmp");
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }
}
