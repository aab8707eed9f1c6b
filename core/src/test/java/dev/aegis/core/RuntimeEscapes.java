package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Agents that try to break out, run against every {@link AgentRuntime} the way the orchestrator runs them. Each row
 * of {@link #attempts()} is a hostile agent that prints what it managed ({@code ESCAPED ...}) or what stopped it
 * ({@code blocked ... ERRNO}); the test then asserts both the agent's report and that the host is unchanged:
 * planted secrets intact, no new files in the host folders, the host {@code sleep} alive, the loopback listener
 * untouched, the clock within 2 s, no process of the instance left, its agent socket released and reusable.
 * A runtime joins with a short subclass; rows are selected by the {@link Feature}s the runtime offers, never by name.
 * <p>
 * This file is long because the table is: one list of attempts, read top to bottom next to the summary below.
 * <p>
 * Every agent starts with a guard and refuses (exit 99) unless the task carries this run's nonce and its pid, mount
 * and net namespaces and its pid 1 all differ from the test's: a hostile script never runs on the host.
 *
 * <pre>
 * attempt                                      what stops it (bubblewrap | docker)
 * write / /etc /usr /agent /run/aegis /root    root tmpfs remounted read-only, read-only binds | read-only rootfs, ro mounts
 * fill /workspace, fill /tmp                   size-capped tmpfs (ENOSPC) and ulimit -f, in memory, not on the host disk
 * find/grep a planted host secret              the root holds explicit binds only (/usr, a few /etc files) | image rootfs
 * open host paths, /proc/1/root, ../..         pid 1 and "/" are the sandbox's own; host paths do not exist there
 * see host processes in /proc                  own pid namespace and its own /proc
 * kill -9 / pidfd_open the host sleep          own pid namespace: host pids do not exist (ESRCH)
 * connect 127.0.0.1:5432, ::1, the listener    own net namespace: its loopback is not the host's (ECONNREFUSED)
 * DNS to 127.0.0.53, UDP to 8.8.8.8/1.1.1.1    no interface but lo (ENETUNREACH, nothing leaves)
 * with egress granted (relay on 127.0.0.1:3128): the only way out is the relay to the proxy's socket; the net
 *   TCP to 127.0.0.2 and the host listeners       namespace stays empty: nothing else listens (ECONNREFUSED)
 *   a DNS lookup, UDP to 127.0.0.53:53          no resolver in the sandbox; nothing answers on its loopback
 *   ICMP echo, raw and packet sockets           no route out (ENETUNREACH); no CAP_NET_RAW (EPERM)
 * mount(8), unshare -m, remount /, umount      no capabilities; seccomp denies mount, umount2, unshare (EPERM)
 * mount(2), chroot, pivot_root, fsopen, ...    seccomp deny list | docker seccomp profile, no CAP_SYS_ADMIN/CHROOT
 * unshare -U / unshare(CLONE_NEW*)             bwrap --disable-userns + seccomp unshare | seccomp, no capabilities
 * ptrace PTRACE_ATTACH pid 1 / host sleep      seccomp denies ptrace | host pid absent, no CAP_SYS_PTRACE
 * init_module, finit_module, insmod            seccomp; no CAP_SYS_MODULE in the host user namespace
 * date -s, clock_settime, settimeofday         seccomp; no CAP_SYS_TIME in the host user namespace
 * mknod c 1 3 / b 8 0                          no CAP_MKNOD in the host user namespace; nodev tmpfs
 * setuid binaries, su, setuid(0)               uid 1000 without capabilities; no_new_privs; host uid 0 unmapped
 * write /proc/sys (core_pattern, sysrq, vm)   /proc/sys read-only | docker masks and remounts it read-only
 * write /sys, uevent_helper, cgroupfs limits   /sys is not mounted | /sys and cgroupfs read-only
 * open /dev/mem /dev/kmem /dev/sda /dev/kmsg   minimal /dev (null, zero, random, tty...): host devices absent
 * docker.sock, containerd, dbus, host /run     /run holds only /run/aegis; the host's /run is never bound
 * add_key, request_key, keyctl                 seccomp | docker seccomp profile
 * bpf map/program                              seccomp | docker seccomp profile; unprivileged bpf off
 * userfaultfd, perf_event_open                 seccomp | docker seccomp profile
 * open_by_handle_at (shocker)                  seccomp; no CAP_DAC_READ_SEARCH
 * TIOCSTI into a terminal, open /dev/tty       new session without a controlling terminal (bwrap --new-session)
 * fork bomb                                    pids cgroup limit; the tree dies with the task
 * memory bomb                                  memory cgroup limit (OOM kill or MemoryError)
 * spin the CPU past the timeout                the manifest timeout kills the whole tree
 * detached child holds the agent socket        the whole cgroup (pid namespace) is killed when the task ends
 * detached child holds stdout open             the same; execute() returns right after the agent exits
 * read the host's environment                  the agent's env is built from scratch (SandboxSpec.env only)
 * the previous task's files                    /workspace, /tmp, /dev/shm are per-instance tmpfs, gone with it
 * a concurrent instance's files and folder     separate mount and pid namespaces; the instance folder is not bound
 * the agent socket's peer (pid via SO_PEERCRED) the peer is outside the pid namespace: pid 0, no /proc entry
 * result.json as a link to a host file         /run/aegis is read-only; the runtime reads result.json without links
 * </pre>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RuntimeEscapes {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Manifest.Resources SMALL =
            new Manifest.Resources(1.0, 128L << 20, 64, 8L << 20, Duration.ofSeconds(20));
    private static final String SANDBOXED = "aegis-escape: sandboxed", HOLDING = "aegis-escape: holding";
    /** Others may write to the host disk meanwhile; an uncapped fill writes 256 MiB. */
    private static final long DISK_SLACK = 64L << 20;
    /** Host folders an agent might reach; none may ever hold a file named {@code aegis-escape-probe-*}. */
    private static final List<String> WATCHED = List.of("/", "/etc", "/usr", "/usr/bin", "/root", "/home", "/tmp",
            "/var/tmp", "/run", "/dev/shm", "/opt", "/boot");

    protected Path root;
    protected AgentRuntime runtime;
    private final String nonce = hex(6), secret = "aegis-escape-secret-content-" + hex(16);
    private final List<Path> planted = new ArrayList<>();
    private Path agentDir, agentLib;
    private Process hostSleep;
    private ServerSocketChannel listener, listener2, egressProxy;
    private Path egressSocket;
    private final AtomicInteger egressConnections = new AtomicInteger();
    private String hostNamespaces, hostInit;
    private long clockOffset;
    private Map<String, String> tree;

    /** What a runtime offers that some attempts need. */
    protected enum Feature {
        /** {@code /usr/bin/python3} inside the sandbox, for attempts sh cannot express (ctypes syscalls). */
        PYTHON3,
        /** The agent API socket at {@code /run/aegis/agent.sock}. */
        AGENT_SOCKET,
        /**
         * The sandbox's own seccomp filter denies ptrace even of its own processes. Without it (Docker's default
         * profile allows same-uid ptrace inside a container) attaching to pid 1 is confined to the sandbox itself.
         */
        PTRACE_DENIED
    }

    /** A runtime keeping its state under {@code stateDir}. */
    protected abstract AgentRuntime create(Path stateDir);

    /** What of {@code id} still exists on the host (processes, cgroups, containers, folders); empty when clean. */
    protected abstract List<String> leftovers(InstanceId id);

    /** The manifest's runtime name. */
    protected abstract String runtimeName();

    protected Optional<String> image() {
        return Optional.empty();
    }

    protected Set<Feature> features() {
        return EnumSet.allOf(Feature.class);
    }

    @BeforeAll
    void setUp() throws IOException {
        root = Files.createTempDirectory("aegis-escapes");
        agentDir = Files.createDirectories(root.resolve("agent"));
        agentLib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(agentDir.resolve("hello.txt"), "hello from /agent\n");
        for (Path dir : new LinkedHashSet<>(List.of(Files.createDirectories(root.resolve("host")), Path.of("/root"),
                Path.of("/etc"), Path.of("/run"), Path.of(System.getProperty("user.home"))))) plant(dir);
        hostSleep = new ProcessBuilder("sh", "-c", "sleep 600; : aegis-escape-host-" + nonce).start();
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        listener.configureBlocking(false);
        listener2 = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
        listener2.configureBlocking(false);
        // The egress proxy's place: a socket that takes connections and closes them (the relay must reach it).
        egressSocket = root.resolve("egress.sock");
        egressProxy = socket(egressSocket);
        Thread.ofVirtual().name("escape-egress").start(() -> {
            while (egressProxy.isOpen()) {
                try (SocketChannel c = egressProxy.accept()) {
                    egressConnections.incrementAndGet();
                } catch (IOException e) {
                    return; // closed by tearDown
                }
            }
        });
        hostNamespaces = Stream.of("pid", "mnt", "net").map(ns -> link("/proc/self/ns/" + ns)).collect(Collectors.joining(" "));
        hostInit = new String(Files.readAllBytes(Path.of("/proc/1/cmdline"))).replace('\0', ' ');
        clockOffset = clockOffset();
        runtime = create(root.resolve("state"));
        assertThat(runtime.isApplicable()).as(runtime.description()).isTrue();
        tree = tree();
    }

    @AfterAll
    void tearDown() throws IOException {
        try {
            assertThat(runtime.reclaim()).as("instances left behind").isZero();
        } finally {
            hostSleep.descendants().forEach(ProcessHandle::destroyForcibly);
            hostSleep.destroyForcibly();
            listener.close();
            listener2.close();
            egressProxy.close();
            for (Path p : planted) Files.deleteIfExists(p);
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Where an attempt runs: alone; holding still while the host measures; after or beside a victim task; alone with
     * egress granted (an egress socket mounted, so the relay listens on 127.0.0.1:3128 and the proxy variables are set).
     */
    protected enum Stage { ALONE, HOLD, AFTER_ANOTHER, BESIDE_ANOTHER, WITH_EGRESS }

    /** One row: a hostile agent (sh, after the guard) and what must be true of its run. */
    protected record Attempt(String name, Set<Feature> needs, Manifest.Resources resources, Stage stage, String agent,
                             Consumer<Run> check) {
        @Override
        public String toString() {
            return name;
        }
    }

    protected record Run(InstanceId id, Outcome outcome, List<String> logs, Duration took, long diskGrowth) {
        String output() {
            return outcome instanceof Outcome.Exited e ? e.output().strip() : "";
        }
    }

    protected Stream<Attempt> attempts() {
        Manifest.Resources tiny = new Manifest.Resources(1.0, 64L << 20, 64, 8L << 20, Duration.ofSeconds(20));
        Manifest.Resources fewPids = new Manifest.Resources(1.0, 128L << 20, 32, 8L << 20, Duration.ofSeconds(5));
        Manifest.Resources oneSecond = new Manifest.Resources(1.0, 128L << 20, 64, 8L << 20, Duration.ofSeconds(1));
        return Stream.of(
                a("write outside /workspace", """
                        for d in / /etc /usr /usr/bin /bin /agent /run/aegis /opt/aegis/python /root /home /var/tmp /boot; do
                            t "write $d" touch "$d/aegis-escape-probe-$N"
                        done
                        t "mkdir in /etc" mkdir "/etc/aegis-escape-probe-$N"
                        t "append /etc/passwd" sh -c "echo x >> /etc/passwd"
                        t "overwrite /run/aegis/task.json" sh -c "echo x > /run/aegis/task.json"
                        t "append /agent/hello.txt" sh -c "echo x >> /agent/hello.txt"
                        echo done""", blocked(16)),
                fill("/workspace", r -> assertThat(r.logs()).anyMatch(l -> l.matches("rc=[1-9][0-9]* bytes=\\d+")
                        && Long.parseLong(l.replaceAll(".*bytes=", "")) <= SMALL.diskBytes())),
                fill("/tmp", r -> assertThat(r.logs()).anyMatch(l -> l.matches("rc=[1-9][0-9]* bytes=\\d+")
                        && Long.parseLong(l.replaceAll(".*bytes=", "")) < SMALL.memoryBytes())),
                a("find or grep a host secret", """
                        hunt "$(v secretHead)$(v secretTail)" "aegis-escape-secret-*"
                        echo done""", blocked(1)),
                a("open host paths directly, via /proc/*/root and ../", """
                        for p in $(v secretPaths); do
                            for q in "$p" "/proc/1/root$p" "/proc/self/root$p" "/agent/../../..$p"; do t "read $q" cat "$q"; done
                        done
                        echo done""", r -> blocked(4 * planted.size()).accept(r)),
                a("see host processes", """
                        found=$(grep -l "aegis-escape-[h]ost-$N" /proc/[0-9]*/cmdline 2>/dev/null)
                        [ -z "$found" ] && echo "blocked see the host sleep" || echo "ESCAPED host sleep at $found"
                        [ -e "/proc/$(v hostPid)" ] && echo "ESCAPED /proc/$(v hostPid) exists" || echo "blocked /proc/$(v hostPid)"
                        cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -q -e '[s]urefire' -e '[p]ostgres' \\
                            && echo "ESCAPED sees the test JVM or PostgreSQL" || echo "blocked see the test JVM or PostgreSQL"
                        echo done""", blocked(3)),
                a("kill the host sleep", """
                        t "kill -9 host sleep" kill -9 "$(v hostPid)"
                        %s
                        echo done""".formatted(py("""
                        pid = int(task["hostPid"])
                        tryit("os.kill host sleep", lambda: os.kill(pid, 9))
                        sysc("pidfd_open host sleep", 434, L(pid), L(0))
                        """)), blocked(3)),
                a("connect to host loopback services", py("""
                        def tcp(what, family, addr):
                            def go():
                                s = socket.socket(family, socket.SOCK_STREAM)
                                s.settimeout(2)
                                s.connect(addr)
                            tryit(what, go)
                        port = int(task["port"])
                        tcp("PostgreSQL 127.0.0.1:5432", socket.AF_INET, ("127.0.0.1", 5432))
                        tcp("PostgreSQL [::1]:5432", socket.AF_INET6, ("::1", 5432))
                        tcp("host listener 127.0.0.1", socket.AF_INET, ("127.0.0.1", port))
                        tcp("host listener localhost", socket.AF_INET, ("localhost", port))
                        """) + "\necho done", blocked(4)),
                a("DNS and UDP out", py("""
                        def dns():
                            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                            s.settimeout(1)
                            s.sendto(bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001"), ("127.0.0.53", 53))
                            return s.recvfrom(512)[0].hex()
                        tryit("DNS query to 127.0.0.53:53", dns)
                        for family, host in [(socket.AF_INET, "8.8.8.8"), (socket.AF_INET, "1.1.1.1"), (socket.AF_INET6, "2001:4860:4860::8888")]:
                            t0 = time.monotonic()
                            tryit(f"UDP connect {host}:53", lambda: socket.socket(family, socket.SOCK_DGRAM).connect((host, 53)))
                            if time.monotonic() - t0 > 0.5: print("slow connect", host)
                        """) + "\necho done", blocked(4).andThen(r -> assertThat(r.output())
                        .contains("blocked UDP connect 8.8.8.8:53 ENETUNREACH", "blocked UDP connect 1.1.1.1:53 ENETUNREACH")
                        .containsPattern("blocked UDP connect 2001:4860:4860::8888:53 (ENETUNREACH|EADDRNOTAVAIL)"))),
                new Attempt("with egress granted, bypass the proxy", needs("python3"), SMALL, Stage.WITH_EGRESS, py("""
                        def tcp(what, addr):
                            def go():
                                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                                s.settimeout(2)
                                s.connect(addr)
                            tryit(what, go)
                        def relay():
                            socket.create_connection(("127.0.0.1", 3128), timeout=5).close()
                            print("info relay 127.0.0.1:3128 accepts; HTTP_PROXY=" + os.environ.get("HTTP_PROXY", ""))
                        relay()
                        tcp("TCP to 127.0.0.2 (host listener)", ("127.0.0.2", int(task["port2"])))
                        tcp("TCP to 127.0.0.1 (host listener)", ("127.0.0.1", int(task["port"])))
                        tcp("TCP to 127.0.0.2:80", ("127.0.0.2", 80))
                        def dns():
                            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                            s.settimeout(1)
                            s.sendto(bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001"), ("127.0.0.53", 53))
                            return s.recvfrom(512)[0].hex()
                        tryit("DNS query to 127.0.0.53:53", dns)
                        tryit("DNS lookup of example.com", lambda: socket.getaddrinfo("example.com", 443))
                        tryit("UDP to 8.8.8.8:53", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53)))
                        def ping():
                            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
                            s.sendto(bytes.fromhex("0800f7ff00000000"), ("8.8.8.8", 0))
                        tryit("ICMP echo to 8.8.8.8", ping)
                        tryit("raw ICMP socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close())
                        tryit("raw IP socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW).close())
                        tryit("packet socket", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)).close())
                        """) + "\necho done", blocked(10).andThen(r -> {
                            assertThat(r.output()).as("egress was granted: the relay answers")
                                    .contains("info relay 127.0.0.1:3128 accepts; HTTP_PROXY=http://127.0.0.1:3128");
                            assertThat(egressConnections.get()).as("connections the relay carried to the egress socket").isPositive();
                            assertThat(r.output()).contains("blocked TCP to 127.0.0.2 (host listener) ECONNREFUSED",
                                    "blocked UDP to 8.8.8.8:53 ENETUNREACH").containsPattern("blocked raw ICMP socket (EPERM|EACCES)")
                                    .containsPattern("blocked packet socket (EPERM|EACCES)")
                                    .containsPattern("blocked DNS lookup of example.com -?\\d+|blocked DNS lookup of example.com gaierror");
                        })),
                a("mount with mount(8) and unshare(1)", """
                        mkdir -p /workspace/m
                        t "mount -t tmpfs" mount -t tmpfs none /workspace/m
                        t "mount --bind /" mount --bind / /workspace/m
                        t "mount -o remount,rw /" mount -o remount,rw /
                        t "umount /agent" umount /agent
                        t "unshare -m" unshare -m true
                        t "unshare -rm mount" unshare -rm mount -t tmpfs none /workspace/m
                        echo done""", blocked(6)),
                a("mount, chroot and pivot_root syscalls", py("""
                        os.makedirs("/workspace/m", exist_ok=True)
                        libcall("mount(2) tmpfs", libc.mount, b"none", b"/workspace/m", b"tmpfs", L(0), None)
                        libcall("mount(2) remount / rw", libc.mount, None, b"/", None, L(32), None)
                        libcall("umount2(/agent)", libc.umount2, b"/agent", L(2))
                        libcall("chroot(/workspace)", libc.chroot, b"/workspace")
                        sysc("pivot_root", 155, b"/workspace", b"/workspace/m")
                        sysc("fsopen tmpfs", 430, b"tmpfs", L(0))
                        sysc("open_tree / clone", 428, L(-100), b"/", L(1))
                        """) + "\necho done", blocked(7)),
                a("create a user namespace", """
                        t "unshare -U" unshare -U true
                        t "unshare -r" unshare -r true
                        %s
                        echo done""".formatted(py("""
                        for name, flag in [("user", 0x10000000), ("mount", 0x20000), ("net", 0x40000000), ("pid", 0x20000000)]:
                            libcall(f"unshare(CLONE_NEW{name.upper()})", libc.unshare, L(flag))
                        """)), blocked(6)),
                new Attempt("ptrace pid 1", EnumSet.of(Feature.PYTHON3, Feature.PTRACE_DENIED), SMALL, Stage.ALONE, py("""
                        sysc("ptrace attach pid 1", 101, L(16), L(1), None, None)
                        """) + "\necho done", blocked(1)),
                a("ptrace the host sleep", py("""
                        sysc("ptrace attach host sleep", 101, L(16), L(int(task["hostPid"])), None, None)
                        """) + "\necho done", blocked(1)),
                a("load a kernel module", """
                        for m in /sbin/insmod /usr/sbin/insmod /sbin/modprobe /usr/sbin/modprobe; do
                            [ -x "$m" ] && t "$m" "$m" dummy
                        done
                        %s
                        echo done""".formatted(py("""
                        image = ctypes.create_string_buffer(b"\\x7fELF" + bytes(60))
                        sysc("init_module", 175, image, L(64), b"")
                        sysc("finit_module", 313, L(os.open("/dev/null", os.O_RDONLY)), b"", L(0))
                        """)), blocked(2)),
                a("change the clock", """
                        t "date -s" date -s "@$(( $(date +%%s) + 10 ))"
                        %s
                        echo done""".formatted(py("""
                        class Time(ctypes.Structure):
                            _fields_ = [("sec", ctypes.c_long), ("frac", ctypes.c_long)]
                        later = Time(int(time.time()) + 10, 0)
                        libcall("clock_settime", libc.clock_settime, L(0), ctypes.byref(later))
                        libcall("settimeofday", libc.settimeofday, ctypes.byref(later), None)
                        """)), blocked(3)),
                a("create device nodes", """
                        t "mknod c 1 3" mknod "/workspace/aegis-escape-probe-mem" c 1 3
                        t "mknod b 8 0" mknod "/workspace/aegis-escape-probe-sda" b 8 0
                        %s
                        echo done""".formatted(py("""
                        import stat
                        tryit("os.mknod c 1 1 in /tmp", lambda: os.mknod("/tmp/mem", stat.S_IFCHR | 0o666, os.makedev(1, 1)))
                        tryit("os.mknod b 8 0 in /workspace", lambda: os.mknod("/workspace/sda", stat.S_IFBLK | 0o666, os.makedev(8, 0)))
                        """)), blocked(4)),
                a("escalate through setuid binaries", """
                        echo "info setuid files: $(find / \\( -path /proc -o -path /sys \\) -prune -o -perm -4000 -type f -print 2>/dev/null | tr '\\n' ' ')"
                        t "su root" su -c true root
                        t "sudo -n" sudo -n true
                        %s
                        [ "$(id -u)" != 0 ] && echo "blocked uid stays $(id -u)" || echo "ESCAPED uid 0"
                        grep -q "^CapEff:[[:space:]]*0*$" /proc/self/status && echo "blocked no capabilities" || echo "ESCAPED $(grep CapEff /proc/self/status)"
                        echo done""".formatted(py("""
                        tryit("setuid(0)", lambda: os.setuid(0))
                        tryit("setresuid(0, 0, 0)", lambda: os.setresuid(0, 0, 0))
                        tryit("setgid(0)", lambda: os.setgid(0))
                        tryit("setgroups([0])", lambda: os.setgroups([0]))
                        """)), blocked(8)),
                a("write /proc/sys", """
                        t "rewrite /proc/sys/vm/swappiness with its own value" sh -c "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness"
                        %s
                        echo done""".formatted(py("""
                        # Opened for writing, never written: even a hole must not harm the host.
                        for p in ["/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/vm/drop_caches",
                                  "/proc/sys/kernel/sysrq", "/proc/sys/fs/file-max", "/proc/sysrq-trigger"]:
                            opened(f"open {p} for writing", p, os.O_WRONLY)
                        """)), blocked(7)),
                a("write /sys and cgroupfs", py("""
                        # Opened for writing, never written: even a hole must not harm the host.
                        for p in ["/sys/kernel/uevent_helper", "/sys/power/state", "/sys/fs/cgroup/memory.max",
                                  "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/release_agent",
                                  "/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]:
                            opened(f"open {p} for writing", p, os.O_WRONLY)
                        """) + "\necho done", blocked(8)),
                a("open host devices", py("""
                        import stat
                        paths = ["/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/kmsg",
                                 "/dev/mapper/control", "/dev/kvm"]
                        paths += sorted(set("/dev/" + e for e in os.listdir("/dev") if stat.S_ISBLK(os.lstat("/dev/" + e).st_mode)) - set(paths))
                        for p in paths:
                            opened(f"open {p}", p)
                        """) + "\necho done", blocked(9)),
                a("reach the docker socket and the host's /run", py("""
                        for p in ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
                                  "/run/podman/podman.sock", "/run/dbus/system_bus_socket", "/run/systemd/private"]:
                            tryit(f"connect {p}", lambda: socket.socket(socket.AF_UNIX).connect(p))
                        for p in ["/var/run/postgresql/.s.PGSQL.5432", "/run/mysqld/mysqld.sock"]:
                            tryit(f"connect {p}", lambda: socket.socket(socket.AF_UNIX).connect(p))
                        n = task["nonce"]
                        for d in ["/run", "/var/run"]:
                            tryit(f"see the host's {d}", lambda: os.stat(f"{d}/aegis-escape-secret-{n}"))
                        """) + "\necho done", blocked(10)),
                a("use the kernel keyring", py("""
                        sysc("add_key", 248, b"user", b"aegis-escape", b"x", L(1), L(-3))
                        sysc("request_key", 249, b"user", b"aegis-escape", None, L(0))
                        sysc("keyctl join session keyring", 250, L(1), None)
                        """) + "\necho done", blocked(3)),
                a("load a bpf map and program", py("""
                        attr = ctypes.create_string_buffer(struct.pack("<IIII", 2, 4, 4, 1) + bytes(112), 128)
                        sysc("bpf BPF_MAP_CREATE", 321, L(0), attr, L(128))
                        insns = ctypes.create_string_buffer(bytes.fromhex("b700000000000000" + "9500000000000000"), 16)
                        gpl = ctypes.create_string_buffer(b"GPL")
                        prog = struct.pack("<IIQQ", 1, 2, ctypes.addressof(insns), ctypes.addressof(gpl)) + bytes(104)
                        sysc("bpf BPF_PROG_LOAD", 321, L(5), ctypes.create_string_buffer(prog, 128), L(128))
                        """) + "\necho done", blocked(2)),
                a("userfaultfd and perf_event_open", py("""
                        sysc("userfaultfd", 323, L(0o2000000))
                        sysc("userfaultfd user-mode-only", 323, L(0o2000000 | 1))
                        opened("open /dev/userfaultfd", "/dev/userfaultfd", os.O_RDWR)
                        # software cpu-clock on ourselves, user space only: allowed at perf_event_paranoid 2 without a filter
                        attr = ctypes.create_string_buffer(struct.pack("<IIQQQQQ", 1, 128, 0, 0, 0, 0, (1 << 5) | (1 << 6)) + bytes(80), 128)
                        sysc("perf_event_open", 298, attr, L(0), L(-1), L(-1), L(0))
                        """) + "\necho done", blocked(4)),
                a("open_by_handle_at (shocker)", py("""
                        handle = ctypes.create_string_buffer(struct.pack("<Ii", 8, 1) + struct.pack("<II", 2, 0), 16)
                        mount_id = ctypes.c_int()
                        probe = ctypes.create_string_buffer(struct.pack("<Ii", 128, 0) + bytes(128), 136)
                        print("info name_to_handle_at", libc.syscall(L(303), L(-100), b"/agent", probe, ctypes.byref(mount_id), L(0)))
                        sysc("open_by_handle_at inode 2 of /agent's file system", 304, L(os.open("/agent", os.O_RDONLY)), handle, L(0))
                        """) + "\necho done", blocked(1)),
                a("inject keystrokes into a terminal", py("""
                        import fcntl, termios
                        opened("open /dev/tty", "/dev/tty", os.O_RDWR)
                        for fd in (0, 1, 2):
                            tryit(f"TIOCSTI on fd {fd}", lambda: fcntl.ioctl(fd, termios.TIOCSTI, b"x"))
                        """) + "\necho done", blocked(4)),
                new Attempt("fork bomb", needs(""), fewPids, Stage.ALONE, """
                        b() { b | b & }
                        b
                        i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done
                        set -- /proc/[0-9]*
                        echo "processes $#"
                        """, r -> {
                            assertThat(r.logs()).as("the bomb reached the limit").anyMatch(l -> l.toLowerCase().contains("fork"));
                            if (r.outcome() instanceof Outcome.Exited)
                                assertThat(Integer.parseInt(r.output().replace("processes ", ""))).isBetween(1, fewPids.pids());
                            else assertThat(r.outcome()).isInstanceOfAny(Outcome.TimedOut.class, Outcome.Killed.class);
                            assertThat(hostCanFork()).as("the host can still fork").isTrue();
                        }),
                new Attempt("memory bomb", needs("python3"), tiny, Stage.ALONE, execPy("""
                        chunks = []
                        for i in range(64):
                            chunks.append(bytearray(b"\\1") * (16 << 20))
                            print("allocated", (i + 1) * 16, "MiB", file=sys.stderr, flush=True)
                        print("ESCAPED allocated 1 GiB")
                        """), r -> assertThat(r.outcome()).as("logs %s", r.logs()).isInstanceOfAny(Outcome.Killed.class, Outcome.Exited.class)
                        .satisfies(o -> assertThat(o instanceof Outcome.Exited e && (e.code() == 0 || e.output().contains("ESCAPED"))).isFalse())),
                new Attempt("spin the CPU past the timeout", needs(""), oneSecond, Stage.ALONE,
                        "while :; do :; done & while :; do :; done", r -> {
                            assertThat(r.outcome()).isInstanceOf(Outcome.TimedOut.class);
                            assertThat(r.took()).isLessThan(Duration.ofSeconds(6));
                        }),
                new Attempt("a detached child holds the agent socket", needs("python3", Feature.AGENT_SOCKET), SMALL, Stage.ALONE, py("""
                        s = socket.socket(socket.AF_UNIX)
                        s.connect("/run/aegis/agent.sock")
                        if os.fork() == 0:
                            os.setsid()
                            if os.fork() == 0:
                                while True:
                                    time.sleep(1)
                            os._exit(0)
                        os.wait()
                        print("info a detached grandchild holds the agent socket and stdout")
                        """) + "\necho done", blocked(0).andThen(r -> assertThat(r.took()).isLessThan(Duration.ofSeconds(8)))),
                a("a detached child holds stdout open", """
                        (sleep 1000 &)
                        echo "info a detached sleep holds stdout"
                        echo done""", blocked(0).andThen(r -> assertThat(r.took()).isLessThan(Duration.ofSeconds(8)))),
                a("read the host's environment", """
                        env
                        for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$f"; echo; done""", this::noHostEnvironment),
                new Attempt("the previous task's files", needs(""), SMALL, Stage.AFTER_ANOTHER, HUNT_VICTIM, blocked(4)),
                new Attempt("a concurrent instance's files and folder", needs(""), SMALL, Stage.BESIDE_ANOTHER, HUNT_VICTIM, blocked(4)),
                new Attempt("the agent socket's peer", needs("python3", Feature.AGENT_SOCKET), SMALL, Stage.ALONE, py("""
                        s = socket.socket(socket.AF_UNIX)
                        s.connect("/run/aegis/agent.sock")
                        pid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
                        print("info peer pid", pid)
                        for p in [f"/proc/{pid}/root{q}" for q in task["secretPaths"].split()] + [f"/proc/{pid}/environ", f"/proc/{pid}/cmdline"]:
                            tryit(f"read {p}", lambda: len(open(p, "rb").read()))
                        tryit(f"list /proc/{pid}/cwd", lambda: len(os.listdir(f"/proc/{pid}/cwd")))
                        """) + "\necho done", r -> blocked(planted.size() + 3).accept(r)),
                a("result.json as a link to a host file", """
                        P=$(v secretPaths); P=${P%% *}
                        t "replace result.json by a link" sh -c "rm -f /run/aegis/result.json && ln -s $P /run/aegis/result.json" >&2
                        t "rename result.json" mv /run/aegis/result.json /run/aegis/old >&2""",
                        r -> {
                            assertThat(r.logs()).contains("blocked replace result.json by a link", "blocked rename result.json");
                            assertThat(r.output()).doesNotContain(secret);
                        }));
    }

    /** The victim writes its secret everywhere it may; the attacker hunts for it and for the victim's folder. */
    private static final String HUNT_VICTIM = """
            O="$(v otherHead)$(v otherTail)"
            hunt "$O" "aegis-escape-probe-*-victim"
            F=$(v otherFolder)
            for q in "$F" "$F/task.json" "$F/result.json"; do t "read $q" ls "$q"; done
            echo done""";
    private static final String VICTIM = """
            O=$(v otherSecret)
            for d in /workspace /tmp /dev/shm; do printf '%s' "$O" > "$d/aegis-escape-probe-$N-victim"; done
            printf '%s' "$O" > /run/aegis/result.json
            echo "aegis-escape: ready" >&2
            [ "$(v stay)" = yes ] && sleep 30
            exit 0""";

    /** The attempts this runtime can host: chosen by what it offers, never by its name, so none is skipped. */
    Stream<Attempt> applicable() {
        return attempts().filter(a -> features().containsAll(a.needs()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("applicable")
    void escape(Attempt a) throws Exception {
        Run r = switch (a.stage()) {
            case ALONE, WITH_EGRESS -> attempt(a, Map.of(), false);
            case HOLD -> attempt(a, Map.of(), true);
            case AFTER_ANOTHER, BESIDE_ANOTHER -> besideVictim(a);
        };
        a.check().accept(r);
    }

    /** The victim runs (AFTER) or waits (BESIDE) with its own secret; the attacker gets only its halves. */
    private Run besideVictim(Attempt a) throws Exception {
        String other = hex(16);
        boolean beside = a.stage() == Stage.BESIDE_ANOTHER;
        SandboxSpec victim = spec(SMALL, script("aegis-escape-victim-" + nonce + "-" + SEQ.incrementAndGet(), VICTIM),
                root.resolve("victim.sock"));
        try (var server = socket(victim.agentSocket()); var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch ready = new CountDownLatch(1);
            InstanceId id = runtime.spawn(victim);
            Future<Outcome> done = exec.submit(() -> runtime.execute(id, task(Map.of("otherSecret", other, "stay", beside ? "yes" : "no")),
                    line -> { if (line.equals("aegis-escape: ready")) ready.countDown(); }));
            assertThat(ready.await(20, TimeUnit.SECONDS)).as("victim ready").isTrue();
            if (!beside) assertThat(done.get()).isInstanceOf(Outcome.Exited.class);
            Map<String, String> facts = Map.of("otherHead", other.substring(0, 16), "otherTail", other.substring(16),
                    "otherFolder", root.resolve("state").resolve(id.value()).toString());
            try {
                return attempt(a, facts, false);
            } finally {
                runtime.terminate(id);
                done.get(10, TimeUnit.SECONDS);
                assertThat(leftovers(id)).as("left behind by the victim").isEmpty();
                Files.deleteIfExists(victim.agentSocket());
            }
        }
    }

    /** Runs one hostile agent on its own agent socket, then checks the host. */
    private Run attempt(Attempt a, Map<String, String> facts, boolean hold) throws Exception {
        int n = SEQ.incrementAndGet();
        String marker = "aegis-escape-run-" + nonce + "-" + n + "-";
        SandboxSpec spec = spec(a.resources(), script(marker, a.agent()), root.resolve("run" + n + ".sock"),
                a.stage() == Stage.WITH_EGRESS ? Optional.of(egressSocket) : Optional.empty());
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch holding = new CountDownLatch(1);
        LogSink sink = line -> {
            logs.add(line);
            if (line.equals(HOLDING)) holding.countDown();
        };
        Run r;
        try (ServerSocketChannel server = socket(spec.agentSocket()); var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            long free = usableSpace();
            InstanceId id = runtime.spawn(spec);
            long t0 = System.nanoTime();
            Future<Outcome> outcome = exec.submit(() -> runtime.execute(id, task(facts), sink));
            long growth = 0;
            try {
                if (hold) {
                    assertThat(holding.await(20, TimeUnit.SECONDS)).as("agent reached its hold point; logs %s", logs).isTrue();
                    growth = free - usableSpace();
                    runtime.terminate(id);
                }
                r = new Run(id, outcome.get(60, TimeUnit.SECONDS), List.copyOf(logs), Duration.ofNanos(System.nanoTime() - t0), growth);
            } finally {
                runtime.terminate(id);
            }
            assertThat(runtime.status(id)).isIn(InstanceState.TERMINATED, InstanceState.FAILED);
            assertThat(leftovers(id)).as("left behind by " + id).isEmpty();
            assertThat(r.logs()).as("the guard let the agent run; logs %s", r.logs()).contains(SANDBOXED);
            assertSocketReleased(server, spec.agentSocket());
        }
        assertHostUnchanged(marker);
        return r;
    }

    private SandboxSpec spec(Manifest.Resources r, String script, Path socket) {
        return spec(r, script, socket, Optional.empty());
    }

    private SandboxSpec spec(Manifest.Resources r, String script, Path socket, Optional<Path> egress) {
        Manifest m = new Manifest("escape", "1.0.0", runtimeName(), List.of("sh", "-c", script), image(), r,
                Manifest.Permissions.NONE, List.of(), Manifest.Pool.DEFAULT);
        InstanceId id = new InstanceId("e-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
        return new SandboxSpec(id, m, agentDir, socket, agentLib, egress, Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT);
    }

    /** The guard, the helpers every agent uses, then the attempt. The run marker names every process of the run. */
    private String script(String marker, String attempt) {
        return """
                : %s
                R=%s N=%s H=' %s '
                task=$(cat)
                case "$task" in *"\\"nonce\\": \\"$N\\""*) ;; *) echo "aegis-escape: refused, no nonce in the task" >&2; exit 99;; esac
                for ns in pid mnt net; do
                    m=$(readlink /proc/self/ns/$ns)
                    case "$H" in *" ${m:-unknown} "*) echo "aegis-escape: refused, $ns namespace is the host's" >&2; exit 99;; esac
                    [ -n "$m" ] || { echo "aegis-escape: refused, cannot read the $ns namespace" >&2; exit 99; }
                done
                [ "$(tr '\\0' ' ' </proc/1/cmdline)" != %s ] || { echo "aegis-escape: refused, pid 1 is the host's init" >&2; exit 99; }
                echo "%s" >&2
                v() { printf '%%s' "$task" | sed -n "s/.*\\"$1\\": \\"\\([^\\"]*\\)\\".*/\\1/p"; }
                t() { w=$1; shift; if "$@" >/dev/null 2>&1; then echo "ESCAPED $w"; else echo "blocked $w"; fi; }
                hunt() {
                    mkdir -p /workspace/hunt && printf '%%s' "$1" > /workspace/hunt/content && : > "/workspace/hunt/$(printf '%%s' "$2" | tr '*' x)"
                    { find / \\( -path /proc -o -path /sys \\) -prune -o -name "$2" -print 2>/dev/null
                      for d in /* /dev/shm; do
                          [ -L "$d" ] && continue
                          case "$d" in /proc|/sys|/dev|/usr) continue;; esac
                          grep -rlsIF -D skip -e "$1" "$d"
                      done; } | sort -u | {
                        n=0
                        while read -r f; do case "$f" in /workspace/hunt/*) n=$((n+1));; *) echo "ESCAPED found $f";; esac; done
                        [ $n = 2 ] && echo "blocked hunt for $2, found only the 2 controls" || echo "hunt broken: $n of 2 controls found"
                    }
                }
                """.formatted(marker, marker, nonce, hostNamespaces, shQuote(hostInit), SANDBOXED) + attempt + "\n";
    }

    /** What python attempts share: the task, libc, and reporting helpers. Never single quotes (the sh wrapper's). */
    private static final String PY = """
            import ctypes, errno, json, os, socket, struct, sys, time
            task = json.loads(sys.argv[1])
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            L = ctypes.c_long
            def err(e):
                return errno.errorcode.get(e, str(e))
            def report(what, r):
                print("blocked", what, err(ctypes.get_errno())) if r == -1 else print("ESCAPED", what, r)
            def sysc(what, nr, *args):
                ctypes.set_errno(0)
                report(what, libc.syscall(L(nr), *args))
            def libcall(what, fn, *args):
                ctypes.set_errno(0)
                report(what, fn(*args))
            def tryit(what, fn):
                try:
                    r = fn()
                    print("ESCAPED", what, "" if r is None else r)
                except OSError as e:
                    print("blocked", what, err(e.errno) if e.errno else type(e).__name__)
            def opened(what, path, flags=os.O_RDONLY):
                tryit(what, lambda: os.close(os.open(path, flags)))
            """;

    private static String py(String code) {
        return "python3 -c " + shQuote(PY + code) + " \"$task\" \"$R\" || echo \"python failed: $?\"";
    }

    private static String execPy(String code) {
        return "exec python3 -c " + shQuote(PY + code) + " \"$task\" \"$R\"";
    }

    private static Attempt a(String name, String agent, Consumer<Run> check) {
        return new Attempt(name, needs(agent), SMALL, Stage.ALONE, agent, check);
    }

    private static Attempt fill(String dir, Consumer<Run> check) {
        return new Attempt("fill " + dir + " beyond its size", needs(""), SMALL, Stage.HOLD, """
                head -c 268435456 /dev/zero > %1$s/aegis-escape-probe-fill
                echo "rc=$? bytes=$(wc -c < %1$s/aegis-escape-probe-fill)" >&2
                echo "%2$s" >&2
                sleep 60""".formatted(dir, HOLDING), check.andThen(r ->
                assertThat(r.diskGrowth()).as("host disk growth while the agent held its fill").isLessThan(DISK_SLACK)));
    }

    private static Set<Feature> needs(String agent, Feature... more) {
        Set<Feature> needs = EnumSet.noneOf(Feature.class);
        if (agent.contains("python3")) needs.add(Feature.PYTHON3);
        needs.addAll(List.of(more));
        return needs;
    }

    /** Every line says what stopped an attempt (at least {@code n} of them) or is information; none escaped. */
    private static Consumer<Run> blocked(int n) {
        return r -> {
            List<String> lines = r.output().lines().toList();
            String what = "agent output:\n" + r.output() + "\nlogs: " + r.logs();
            assertThat(r.outcome()).as(what).isInstanceOf(Outcome.Exited.class);
            assertThat(lines).as(what).noneMatch(l -> l.startsWith("ESCAPED"))
                    .allMatch(l -> l.startsWith("blocked ") || l.startsWith("info ") || l.equals("done"))
                    .endsWith("done");
            assertThat(lines.stream().filter(l -> l.startsWith("blocked "))).as(what).hasSizeGreaterThanOrEqualTo(n);
        };
    }

    /** No variable of the test JVM by name (beyond the few the runtime sets itself) or by value. */
    private void noHostEnvironment(Run r) {
        Set<String> own = Set.of("PATH", "HOME", "LANG", "PWD", "OLDPWD", "SHLVL", "_", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE");
        Map<String, String> sandbox = new TreeMap<>();
        r.output().lines().filter(l -> l.indexOf('=') > 0).forEach(l -> sandbox.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        assertThat(sandbox).as("sandbox environment").containsKey("PATH");
        for (var host : System.getenv().entrySet()) {
            if (own.contains(host.getKey())) continue;
            assertThat(sandbox).as("sandbox environment").doesNotContainKey(host.getKey());
            if (host.getValue().length() >= 12) assertThat(r.output()).as("value of host variable " + host.getKey()).doesNotContain(host.getValue());
        }
        assertThat(sandbox.get("HOME")).isNotEqualTo(System.getenv("HOME"));
    }

    private void assertHostUnchanged(String marker) throws IOException {
        for (Path p : planted) assertThat(p).as("planted secret").hasContent(secret);
        assertThat(tree()).as("the test's host folder").isEqualTo(tree);
        List<String> probes = new ArrayList<>();
        for (String dir : WATCHED) {
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                s.filter(p -> p.getFileName().toString().startsWith("aegis-escape-probe")).forEach(p -> probes.add(p.toString()));
            } catch (IOException e) {
                // absent or unreadable on this host
            }
        }
        assertThat(probes).as("files an agent wrote on the host").isEmpty();
        assertThat(hostSleep.isAlive()).as("the host sleep").isTrue();
        assertThat(listener.accept()).as("a connection to the host's loopback listener").isNull();
        assertThat(listener2.accept()).as("a connection to the host's listener on 127.0.0.2").isNull();
        assertThat(Math.abs(clockOffset() - clockOffset)).as("ms the host clock moved").isLessThan(2000);
        assertThat(processesMentioning(marker)).as("processes of the run still alive").isEmpty();
    }

    /** Whatever the agent connected is at EOF (no process holds it), and the path can be deleted and bound again. */
    private static void assertSocketReleased(ServerSocketChannel server, Path path) throws Exception {
        server.configureBlocking(false);
        for (SocketChannel pending; (pending = server.accept()) != null; ) {
            try (SocketChannel c = pending) {
                c.configureBlocking(false);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                int n;
                while ((n = c.read(ByteBuffer.allocate(4096))) != -1) {
                    assertThat(System.nanoTime()).as("a process still holds the agent socket's connection").isLessThan(deadline);
                    if (n == 0) Thread.sleep(20);
                }
            }
        }
        server.close();
        Files.delete(path);
        try (var again = socket(path); var client = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            assertThat(client.isConnected()).isTrue();
        }
        Files.delete(path);
    }

    private static ServerSocketChannel socket(Path path) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-")); // any sandbox uid may connect
        return s;
    }

    private String task(Map<String, String> facts) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("nonce", nonce);
        all.put("hostPid", Long.toString(hostSleep.pid()));
        all.put("port", Integer.toString(((InetSocketAddress) uncheck(listener::getLocalAddress)).getPort()));
        all.put("port2", Integer.toString(((InetSocketAddress) uncheck(listener2::getLocalAddress)).getPort()));
        all.put("secretHead", secret.substring(0, secret.length() / 2));
        all.put("secretTail", secret.substring(secret.length() / 2));
        all.put("secretPaths", planted.stream().map(Path::toString).collect(Collectors.joining(" ")));
        all.putAll(facts);
        return all.entrySet().stream().map(e -> "\"" + e.getKey() + "\": \"" + e.getValue() + "\"").collect(Collectors.joining(", ", "{", "}"));
    }

    private void plant(Path dir) throws IOException {
        Path p = dir.resolve("aegis-escape-secret-" + nonce);
        try {
            Files.writeString(p, secret);
            planted.add(p);
        } catch (AccessDeniedException e) {
            // not writable for this user: the other places still hold the secret
        }
    }

    /** Every file under the test's folder but the runtime's state and the sockets, with size and mtime. */
    private Map<String, String> tree() throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            Map<String, String> t = new TreeMap<>();
            for (Path p : all.filter(p -> !p.startsWith(root.resolve("state")) && !p.toString().endsWith(".sock")).toList())
                t.put(root.relativize(p).toString(), Files.isDirectory(p) ? "folder" : Files.size(p) + "@" + Files.getLastModifiedTime(p));
            return t;
        }
    }

    private long usableSpace() throws IOException {
        return Math.min(Files.getFileStore(root).getUsableSpace(), Files.getFileStore(Path.of("/")).getUsableSpace());
    }

    private static long clockOffset() {
        return System.currentTimeMillis() - System.nanoTime() / 1_000_000;
    }

    private static boolean hostCanFork() {
        return uncheck(() -> new ProcessBuilder("true").start().waitFor()) == 0;
    }

    private static List<String> processesMentioning(String text) {
        return ProcessHandle.allProcesses().filter(p -> p.pid() != ProcessHandle.current().pid())
                .filter(p -> p.info().commandLine().orElse("").contains(text)).map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
    }

    private static String link(String path) {
        return uncheck(() -> Files.readSymbolicLink(Path.of(path)).toString());
    }

    private static String shQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private interface Io<T> {
        T get() throws Exception;
    }

    private static <T> T uncheck(Io<T> io) {
        try {
            return io.get();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
