/*
 * aegis-init: the native part of an AEGIS sandbox. One static binary (it needs no libc of its own at run time, so it
 * runs inside any image), with two jobs picked by its first argument:
 *
 *   aegis-init enter [--join FILE]... [--fsize BYTES] [--fd3 FILE] -- PROGRAM [ARG]...
 *     On the host, started by the orchestrator in place of a /bin/sh wrapper: writes its own pid into each
 *     cgroup.procs FILE, caps the size of every file it and its descendants write, opens FILE on fd 3 (the seccomp
 *     program bwrap reads with --seccomp 3), then execs PROGRAM. exec keeps the pid, so bwrap and everything it
 *     forks are born inside the limits, with no window where the agent runs unlimited.
 *
 *   aegis-init spare [--join FILE]...
 *     On the host, made ahead of time: joins the cgroups now, prints "aegis-spare" and a newline, then waits on stdin for the rest of an enter command
 *     line and the environment to run it with (the format is read_command's), and goes on as enter. Why: on cgroup
 *     v1 the first write to cgroup.procs after an idle spell waits for an RCU grace period (the kernel's
 *     cgroup_threadgroup_rwsem), 7-25 ms on a small VM, which a spare pays while the previous agent still runs.
 *     Dies with the orchestrator (parent-death signal) and exits quietly when stdin closes first.
 *
 *   aegis-init shim [--stdin FILE] [--unset NAME]... -- PROGRAM [ARG]...
 *     Inside the sandbox, in place of a /bin/sh shim: when /run/aegis/egress.sock exists, starts the egress relay
 *     (127.0.0.1:3128 inside the sandbox, each TCP connection relayed to a new connection on that unix socket);
 *     prints the ready line; waits for one line on stdin (the go line; nothing after it is read, the rest of stdin
 *     is the task for the agent); drops PWD and each NAME from the environment; puts FILE on stdin when given; and
 *     execs PROGRAM, the agent's entrypoint, looked up on PATH. Exits 97 when stdin closes before the line, 127
 *     when PROGRAM is not found and 126 when it cannot run, as a shell would.
 *
 * Build: gcc -static -O2 -o aegis-init aegis-init.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY "aegis-ready\n"
#define SPARE_READY "aegis-spare\n"
#define EGRESS_SOCKET "/run/aegis/egress.sock"
#define EGRESS_PORT 3128
#define MAX_OPTIONS 64

static void die(int code, const char *what, const char *detail) {
    dprintf(2, "aegis-init: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
    _exit(code);
}

/* For errors that are not a failed call: no errno text. */
static void refuse(const char *what, const char *detail) {
    dprintf(2, "aegis-init: %s%s%s\n", what, detail ? " " : "", detail ? detail : "");
    _exit(125);
}

static void usage(void) {
    dprintf(2, "usage: aegis-init enter [--join FILE]... [--fsize BYTES] [--fd3 FILE] -- PROGRAM [ARG]...\n"
               "       aegis-init spare [--join FILE]...   (then the rest of an enter command line on stdin)\n"
               "       aegis-init shim [--stdin FILE] [--unset NAME]... -- PROGRAM [ARG]...\n");
    _exit(2);
}

/* ---- enter and spare: host side ---- */

/* Moves this process into the cgroup whose cgroup.procs file is `procs`. */
static void join(const char *procs) {
    char pid[24];
    int n = snprintf(pid, sizeof pid, "%d\n", (int) getpid());
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, pid, n) != n) die(125, "cannot join cgroup: write", procs);
    close(fd);
}

static int enter(int argc, char **argv) {
    const char *joins[MAX_OPTIONS];
    int njoins = 0;
    const char *fd3 = NULL;
    long long fsize = -1;
    int i = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--join") == 0 && njoins < MAX_OPTIONS) joins[njoins++] = argv[i + 1];
        else if (strcmp(argv[i], "--fsize") == 0) fsize = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--fd3") == 0) fd3 = argv[i + 1];
        else usage();
    }
    if (i + 1 >= argc) usage();
    char **program = argv + i + 1;

    for (int j = 0; j < njoins; j++) join(joins[j]);
    if (fsize >= 0) {
        struct rlimit r = {(rlim_t) fsize, (rlim_t) fsize};
        if (setrlimit(RLIMIT_FSIZE, &r) != 0) die(125, "cannot set the file size limit", NULL);
    }
    if (fd3) {
        int fd = open(fd3, O_RDONLY); /* not CLOEXEC: bwrap reads it after exec */
        if (fd < 0) die(125, "cannot open", fd3);
        if (fd != 3) {
            if (dup2(fd, 3) != 3) die(125, "cannot put on fd 3:", fd3);
            close(fd);
        }
    }
    execv(program[0], program);
    die(127, "cannot run", program[0]);
    return 127;
}

/* Reads exactly n bytes; false on EOF or error. */
static bool read_fully(int fd, char *buf, size_t n) {
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r == 0 || (r < 0 && errno != EINTR)) return false;
        if (r > 0) got += r;
    }
    return true;
}

/* The command a spare waits for: a decimal byte count and a newline, then that many bytes of NUL-terminated
 * strings: the enter arguments, an empty string, the environment (NAME=value each), an empty string. Read exactly,
 * so whatever follows on stdin (the go line, the task) stays for the sandbox. Exits 0 when stdin closes first. */
static int read_command(char ***args, char ***env) {
    char digits[16];
    size_t n = 0, len;
    for (char c = 0; c != '\n';) {
        ssize_t r = read(0, &c, 1);
        if (r == 0) _exit(0);
        if (r < 0 && errno != EINTR) _exit(0);
        if (r == 1 && c != '\n') {
            if (c < '0' || c > '9' || n + 1 >= sizeof digits) refuse("spare: bad command length on stdin", NULL);
            digits[n++] = c;
        }
    }
    digits[n] = 0;
    len = strtoul(digits, NULL, 10);
    if (len == 0 || len > (1 << 20)) refuse("spare: command length out of range", digits);
    char *buf = malloc(len + 1);
    if (!buf || !read_fully(0, buf, len)) _exit(0);
    buf[len] = 0;
    char **lists[2];
    char *p = buf, *end = buf + len;
    int argc = 0;
    for (int k = 0; k < 2; k++) {
        lists[k] = calloc(len / 2 + 2, sizeof(char *));
        if (!lists[k]) die(125, "spare: out of memory", NULL);
        int m = 0;
        for (; p < end && *p; p += strlen(p) + 1) lists[k][m++] = p;
        if (p >= end) refuse("spare: command on stdin is not terminated", NULL);
        p++; /* the empty string ending the list */
        if (k == 0) argc = m;
    }
    *args = lists[0];
    *env = lists[1];
    return argc;
}

static int spare(int argc, char **argv) {
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0); /* the orchestrator died before the line above */
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc || strcmp(argv[i], "--join") != 0) usage();
        join(argv[i + 1]);
    }
    if (write(1, SPARE_READY, sizeof SPARE_READY - 1) != sizeof SPARE_READY - 1) _exit(0);
    char **args, **env;
    int n = read_command(&args, &env);
    environ = env;
    return enter(n, args);
}

/* ---- the egress relay: 127.0.0.1:3128 -> /run/aegis/egress.sock ---- */

/* One direction of a connection: bytes read from `from` wait in `buf` until `to` takes them. */
struct direction {
    int from, to;
    char buf[64 * 1024];
    size_t off, len;
    bool eof;
};

static bool again(void) {
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Copies both ways until both sides have finished sending. A side's EOF is passed on as a half-close (shutdown of
 * writing), so a client that half-closes after its request still gets the whole response. */
static void pump(int tcp, int unx) {
    static struct direction d[2];
    d[0] = (struct direction){.from = tcp, .to = unx};
    d[1] = (struct direction){.from = unx, .to = tcp};
    fcntl(tcp, F_SETFL, O_NONBLOCK);
    fcntl(unx, F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd p[4];
        int which[4], n = 0;
        for (int k = 0; k < 2; k++) {
            if (d[k].len > 0) p[n] = (struct pollfd){.fd = d[k].to, .events = POLLOUT};
            else if (!d[k].eof) p[n] = (struct pollfd){.fd = d[k].from, .events = POLLIN};
            else continue;
            which[n++] = k;
        }
        if (n == 0) return; /* both directions ended and flushed */
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int j = 0; j < n; j++) {
            struct direction *x = &d[which[j]];
            if (p[j].revents == 0) continue;
            if (x->len > 0) {
                ssize_t w = write(x->to, x->buf + x->off, x->len);
                if (w < 0 && !again()) return; /* the receiver is gone: drop the connection */
                if (w > 0) x->off += w, x->len -= w;
            } else {
                ssize_t r = read(x->from, x->buf, sizeof x->buf);
                if (r < 0 && !again()) return; /* reset */
                if (r > 0) x->off = 0, x->len = r;
                if (r == 0) {
                    x->eof = true;
                    shutdown(x->to, SHUT_WR);
                }
            }
        }
    }
}

static void relay_connection(int tcp) {
    int unx = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, EGRESS_SOCKET, sizeof a.sun_path - 1);
    if (unx < 0 || connect(unx, (struct sockaddr *) &a, sizeof a) != 0) _exit(1); /* closing tells the client */
    pump(tcp, unx);
    _exit(0);
}

static void relay_loop(int listener) {
    prctl(PR_SET_NAME, "aegis-relay");
    signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
    signal(SIGPIPE, SIG_IGN);
    /* Hold none of the sandbox's stdio: the orchestrator reads the agent's output until EOF. */
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    if (null > 2) close(null);
    for (;;) {
        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                usleep(10000);
                continue;
            }
            _exit(1);
        }
        pid_t pid = fork(); /* one process per connection: each counts against the sandbox's pids limit */
        if (pid == 0) {
            close(listener);
            relay_connection(c);
        }
        close(c); /* if fork failed (pids limit), closing refuses this connection */
    }
}

/* Listens before the ready line, so an agent that connects at once finds the port open. The relay runs in a
 * grandchild that the sandbox's init adopts: the agent never sees it as a child of its own (wait() stays its own). */
static void start_relay(void) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0) die(96, "egress relay: socket", NULL);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(EGRESS_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(l, (struct sockaddr *) &a, sizeof a) != 0) die(96, "egress relay: cannot listen on", "127.0.0.1:3128");
    if (listen(l, 128) != 0) die(96, "egress relay: listen", NULL);
    pid_t child = fork();
    if (child < 0) die(96, "egress relay: fork", NULL);
    if (child == 0) {
        if (fork() == 0) relay_loop(l);
        _exit(0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    close(l);
}

/* ---- shim: sandbox side ---- */

static int shim(int argc, char **argv) {
    const char *unset[MAX_OPTIONS];
    int nunset = 0;
    const char *input = NULL;
    int i = 0;
    for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
        if (i + 1 >= argc) usage();
        if (strcmp(argv[i], "--unset") == 0 && nunset < MAX_OPTIONS) unset[nunset++] = argv[i + 1];
        else if (strcmp(argv[i], "--stdin") == 0) input = argv[i + 1];
        else usage();
    }
    if (i + 1 >= argc) usage();
    char **program = argv + i + 1;

    struct stat st;
    if (stat(EGRESS_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode)) start_relay();
    if (write(1, READY, sizeof READY - 1) != sizeof READY - 1) _exit(97);
    /* Byte by byte, as a shell's read does on a pipe: whatever follows the line belongs to the agent. */
    for (char c = 0; c != '\n';) {
        ssize_t r = read(0, &c, 1);
        if (r == 0) _exit(97);
        if (r < 0 && errno != EINTR) _exit(97);
    }
    unsetenv("PWD"); /* bwrap sets it; a shell would have too */
    for (int j = 0; j < nunset; j++) unsetenv(unset[j]);
    if (input) {
        int fd = open(input, O_RDONLY);
        if (fd < 0) die(126, "cannot open", input);
        if (fd != 0) {
            dup2(fd, 0);
            close(fd);
        }
    }
    execvp(program[0], program);
    int code = errno == ENOENT ? 127 : 126;
    dprintf(2, "aegis-init: %s: %s\n", program[0], code == 127 ? "not found" : strerror(errno));
    _exit(code);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "enter") == 0) return enter(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "spare") == 0) return spare(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "shim") == 0) return shim(argc - 2, argv + 2);
    usage();
    return 2;
}
