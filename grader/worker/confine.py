"""What the worker does to itself before any student code runs: give up root, and (without
namespaces) give up every file outside its allow-list.

Loaded by file path inside the worker (like ``syscall_filter.py``): the standard library only.

- ``drop_privileges``: the grader runs as root (bwrap's privileged mode, or a root container
  without namespaces), so the worker starts as root. It becomes an unprivileged uid of this
  machine with no supplementary groups and no capabilities (its bounding set emptied too, where
  root holds CAP_SETPCAP), and checks in /proc/self/status that the kernel agrees, before it
  reads anything else. That uid cannot read
  the grader's memory, environment or descriptors (/proc/<pid>/* of a root process), signal it,
  or open files that only root may (the instructor's secret file, a class run's staging folders).
- ``restrict_files``: Landlock (Linux 5.13+, unprivileged, cannot be undone) limits what the
  process may open to the view the trusted side computed (grader/worker/fs_view.py): the
  sandbox's view, on the host's filesystem. Where the kernel's Landlock is new enough it also
  scopes signals and abstract unix sockets to the worker itself.
"""
from __future__ import annotations

import ctypes
import os
import signal
import stat
import sys

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
CAPABILITY_VERSION_3 = 0x20080522
CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapAmb")

# Landlock: the system calls (the same number on every architecture since Linux 5.1) and access rights.
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15  # ABI 3 and 5
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a rule on a non-folder may name
FS_RIGHTS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}  # ABI 5 on: (1 << 16) - 1
NET_TCP = 1 | 2  # ABI 4: bind and connect on TCP ports (none is allowed)
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1, 2  # ABI 6
ACCESS = {"read": EXECUTE | READ_FILE | READ_DIR, "list": READ_DIR, "device": READ_FILE | WRITE_FILE}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # the kernel's struct landlock_path_beneath_attr is packed: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(libc: ctypes.CDLL, number: int, *args) -> int:
    """syscall(2) with every plain int passed as a long (it is variadic: an int's upper half is not defined)."""
    return libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) if type(a) is int else a for a in args])


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` with no groups and no capabilities; SystemExit if any of it did not hold."""
    libc = _libc()
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as handle:
            last = int(handle.read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):  # no capability can come back even through an exec (which seccomp denies too)
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective sets (no SECBIT_KEEP_CAPS is set)
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all empty, twice (64 capabilities)
    libc.capset(header, data)  # the inheritable set survives a uid change: empty it too
    problems = []
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        problems.append("uid")
    if os.getgroups():
        problems.append("groups")
    if capabilities() != 0:
        problems.append("capabilities")
    if problems:
        raise SystemExit("could not drop privileges: " + ", ".join(problems))


def capabilities() -> int:
    """The union of this process's capability sets but the bounding one (-1 when unreadable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            lines = dict(line.split(":", 1) for line in handle if ":" in line)
        return ctypes.c_uint64(sum(int(lines[name], 16) for name in CAP_SETS if name in lines)).value
    except (OSError, ValueError):
        return -1


def die_with_parent() -> None:
    """Linux: this process is killed when the one that started it dies, however it dies (SIGKILL
    included). bwrap's --die-with-parent does this for the sandbox; this does it for a plain worker,
    which otherwise ran on until it next read its closed pipe. (After a uid change, which clears it.)"""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent was already gone when the request took effect
        os._exit(1)


def not_dumpable() -> None:
    """No other process of this uid may read this one's memory or descriptors through /proc (a
    classmate's worker, where the class runs as one ordinary user without namespaces)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        _libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def landlock_rules(view: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(path, access) pairs from the trusted side's view (grader/worker/fs_view.py): each "read"
    folder whole, or, when something under it is hidden, listable and each of its entries on its own
    but the hidden ones (Landlock can only allow, and a rule covers a whole folder)."""
    hidden = set(view.get("hidden", ()))
    rules: list[tuple[str, str]] = []
    for root in view.get("read", ()):
        rules += _allow_except(root, hidden)
    rules += [(path, "device") for path in view.get("devices", ())]
    rules += [(path, "write") for path in view.get("write", ())]
    return rules


def _allow_except(root: str, hidden: set[str]) -> list[tuple[str, str]]:
    if root in hidden:
        return []
    if not any(h.startswith(root + os.sep) for h in hidden):
        return [(root, "read")]
    rules = [(root, "list")]  # names only: what a hidden entry holds cannot be opened
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return rules
    for entry in entries:  # only the folders on the way to a hidden entry are opened: a few levels
        if not entry.is_symlink():  # opened through a link, its target must be allowed where it is
            rules += _allow_except(entry.path, hidden)
    return rules


def restrict_files(view: dict[str, list[str]]) -> str:
    """Allow this process to open only what ``view`` names; "" when Landlock holds, else why not."""
    try:
        libc = _libc()
        abi = _syscall(libc, CREATE_RULESET, None, 0, CREATE_RULESET_VERSION)
    except (OSError, AttributeError) as exc:
        return f"no system calls through libc ({exc})"
    if abi < 1:
        code = ctypes.get_errno()
        return f"Landlock is not available ({os.strerror(code)}: Linux 5.13+ with Landlock enabled)"
    fs = FS_RIGHTS.get(abi, (1 << 16) - 1)
    attr = _RulesetAttr(fs, NET_TCP if abi >= 4 else 0, SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(libc, CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        return f"landlock_create_ruleset failed ({os.strerror(ctypes.get_errno())})"
    try:
        for path, access in landlock_rules(view):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # gone since the list was made: nothing to allow
            try:
                rights = (fs if access == "write" else ACCESS[access]) & fs
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    rights &= FILE_ONLY  # the kernel refuses a folder's rights on a file
                beneath = _PathBeneath(rights, fd)
                if _syscall(libc, ADD_RULE, ruleset, RULE_PATH_BENEATH, ctypes.byref(beneath), 0) < 0:
                    return f"landlock_add_rule refused {path} ({os.strerror(ctypes.get_errno())})"
            finally:
                os.close(fd)
        # Landlock needs no_new_privs, which the seccomp filter sets; set it here too, should that be missing.
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        if _syscall(libc, RESTRICT_SELF, ruleset, 0) < 0:
            return f"landlock_restrict_self failed ({os.strerror(ctypes.get_errno())})"
        return ""
    finally:
        os.close(ruleset)
