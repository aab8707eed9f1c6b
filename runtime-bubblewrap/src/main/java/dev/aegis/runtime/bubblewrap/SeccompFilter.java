package dev.aegis.runtime.bubblewrap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A classic-BPF seccomp program for bwrap's {@code --seccomp FD}: a deny list of syscalls an agent never needs and
 * that widen the kernel's attack surface. Denied calls fail with EPERM instead of killing, so tools that probe
 * them (e.g. {@code unshare}) report a clear error. x86_64 only; other ABIs (i386, x32) are killed outright.
 */
final class SeccompFilter {
    private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    private static final int X32_SYSCALL_BIT = 0x40000000;
    private static final int RET_KILL_PROCESS = 0x80000000, RET_ERRNO = 0x00050000, RET_ALLOW = 0x7FFF0000;
    private static final int EPERM = 1, ENOSYS = 38;
    private static final int CLONE3 = 435;

    /** x86_64 numbers, from arch/x86/entry/syscalls/syscall_64.tbl. */
    static final int[] DENIED = {
            101, // ptrace
            103, // syslog
            134, // uselib
            153, // vhangup
            155, // pivot_root
            159, 164, 227, 305, // adjtimex, settimeofday, clock_settime, clock_adjtime
            161, // chroot
            163, // acct
            165, 166, // mount, umount2
            167, 168, // swapon, swapoff
            169, // reboot
            172, 173, // iopl, ioperm
            174, 175, 176, 313, // create_module, init_module, delete_module, finit_module
            179, // quotactl
            212, // lookup_dcookie
            246, 320, // kexec_load, kexec_file_load
            248, 249, 250, // add_key, request_key, keyctl
            272, 308, // unshare, setns
            298, // perf_event_open
            303, 304, // name_to_handle_at, open_by_handle_at
            310, 311, // process_vm_readv, process_vm_writev
            321, // bpf
            323, // userfaultfd
            425, 426, 427, // io_uring_setup, io_uring_enter, io_uring_register
            428, 429, 430, 431, 432, 433, 442, // open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr
    };

    private SeccompFilter() {}

    /** The compiled program, or empty where it would be wrong (not x86_64): then the sandbox runs without one. */
    static Optional<byte[]> forHost() {
        String arch = System.getProperty("os.arch");
        return arch.equals("amd64") || arch.equals("x86_64") ? Optional.of(program()) : Optional.empty();
    }

    static byte[] program() {
        List<long[]> p = new ArrayList<>(); // {code, jt, jf, k}
        int n = 4 + DENIED.length + 1 + 4;    // header, denies, clone3, four returns
        int allow = n - 4, enosys = n - 3, eperm = n - 2, kill = n - 1;
        p.add(new long[]{0x20, 0, 0, 4});                                // ld [arch]
        p.add(new long[]{0x15, 0, kill - 2, AUDIT_ARCH_X86_64});       // jeq x86_64 ? next : kill
        p.add(new long[]{0x20, 0, 0, 0});                                // ld [nr]
        p.add(new long[]{0x35, kill - 4, 0, X32_SYSCALL_BIT});         // jge x32 ? kill : next
        for (int nr : DENIED) p.add(new long[]{0x15, eperm - p.size() - 1, 0, nr});
        // glibc falls back from clone3 to clone on ENOSYS (not on EPERM); clone's flags need no filter since
        // bwrap --disable-userns already stops new user namespaces and other namespaces need capabilities.
        p.add(new long[]{0x15, enosys - p.size() - 1, 0, CLONE3});
        p.add(new long[]{0x06, 0, 0, RET_ALLOW});
        p.add(new long[]{0x06, 0, 0, RET_ERRNO | ENOSYS});
        p.add(new long[]{0x06, 0, 0, RET_ERRNO | EPERM});
        p.add(new long[]{0x06, 0, 0, RET_KILL_PROCESS & 0xFFFFFFFFL});
        ByteBuffer b = ByteBuffer.allocate(p.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long[] i : p) {
            if (i[1] > 255 || i[2] > 255) throw new IllegalStateException("seccomp jump too far");
            b.putShort((short) i[0]).put((byte) i[1]).put((byte) i[2]).putInt((int) i[3]);
        }
        return b.array();
    }
}
