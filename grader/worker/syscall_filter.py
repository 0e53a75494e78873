"""The worker's seccomp filter, built with the system's libseccomp through ctypes.

Loaded by file path inside the worker (like ``wire.py``): the standard library only.
It runs before any student code and cannot be undone by the process that loaded it:
a seccomp filter stays for the life of the process and every thread it starts.

What is denied (with an error, so that Python raises ``PermissionError`` and grading
goes on): new processes (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD`` or
with a namespace flag; ``clone3`` answers ENOSYS so that the C library falls back to
``clone``, which the filter can inspect), ``execve``, tracing and reading other
processes' memory, mounts, namespaces, BPF, io_uring, the kernel keyring, sockets of
any family but AF_UNIX (and, without a network namespace, of any family at all), and the
administrative calls a sandboxed program never needs. Memory that outlives or escapes the
process's own limit (RLIMIT_AS counts mappings, not files) is refused too: ``memfd_create``
(a file in shared memory, 2.5 GiB past a 2 GiB limit once), System V shared memory, semaphores
and message queues (they outlive the process without an IPC namespace), POSIX message queues.
Signals and resource limits reach this process only: ``kill``/``tgkill`` of any other pid, any
``tkill`` or pidfd, ``prlimit64`` of another process are refused (without a PID namespace, a
worker's uid may be shared by a classmate's worker).
Everything else is allowed: NumPy's own threads keep working.

Why libseccomp rather than a hand-written BPF program: it knows every architecture's
system-call numbers and emits the architecture check, which hand-written filters
classically get wrong. Why not ``bwrap --seccomp``: bwrap installs that filter before
it executes Python, and a filter that denies ``execve`` would stop that very exec.
"""
from __future__ import annotations

import ctypes
import errno
import os

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7
PR_SET_NO_NEW_PRIVS = 38

CLONE_THREAD = 0x00010000
CLONE_NAMESPACES = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
AF_UNIX = 1

DENIED = (
    "fork", "vfork", "execve", "execveat",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns",
    "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "perf_event_open",
    "keyctl", "add_key", "request_key",
    "personality", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "syslog", "quotactl", "open_by_handle_at", "name_to_handle_at", "iopl", "ioperm", "uselib",
    "vhangup", "setsid", "setpgid",
    "memfd_create", "memfd_secret",
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl", "ipc",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "tkill", "pidfd_open", "pidfd_send_signal",
)
# Calls whose first argument names a process: allowed for this process only.
OWN_PROCESS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def install(library: str = "libseccomp.so.2", *, unix_sockets: bool = True) -> str:
    """Set no_new_privs and load the filter; returns "" on success, else why it could not be loaded.

    ``unix_sockets``: False where the worker has no network namespace of its own (a plain
    process): an AF_UNIX socket there reaches the host's (a desktop bus, a container runtime's
    abstract socket), so no socket of any family may be made."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"no_new_privs refused (errno {ctypes.get_errno()})"
    except (OSError, AttributeError) as exc:
        return f"prctl unavailable: {exc}"
    try:
        lib = ctypes.CDLL(library)
    except OSError as exc:
        return f"{library} not found ({exc})"
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return "seccomp_init failed"
    try:
        eperm, enosys = _errno_action(errno.EPERM), _errno_action(errno.ENOSYS)

        def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                return  # not a system call on this architecture (or this libseccomp is older)
            array = (_ArgCmp * max(1, len(cmps)))(*[_ArgCmp(*c) for c in cmps])
            rc = lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)
            if rc < 0:
                raise OSError(-rc, f"seccomp rule for {name}")

        for name in DENIED:
            rule(eperm, name)
        rule(enosys, "clone3")
        rule(eperm, "clone", (0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0))  # a process, not a thread
        for flag in CLONE_NAMESPACES:
            rule(eperm, "clone", (0, SCMP_CMP_MASKED_EQ, flag, flag))
        if unix_sockets:
            rule(eperm, "socket", (0, SCMP_CMP_NE, AF_UNIX, 0))
        else:
            rule(eperm, "socket")
        # The pid as this process sees it (inside a PID namespace, its own numbering), compared as
        # 64 bits: a value whose upper half is not zero is refused too, which fails closed.
        own = os.getpid()
        for name in OWN_PROCESS:
            rule(eperm, name, (0, SCMP_CMP_NE, own, 0))
        rule(eperm, "prlimit64", (0, SCMP_CMP_NE, 0, 0))  # 0: this process (what setrlimit passes)
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            return f"seccomp_load failed (errno {-rc})"
        return ""
    except OSError as exc:
        return f"seccomp rule refused: {exc}"
    finally:
        lib.seccomp_release(ctx)
