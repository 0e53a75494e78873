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
"""
from __future__ import annotations

import functools
import os
import shutil
import site
import sys
import sysconfig
from pathlib import Path

STRONG = "namespaces+seccomp"
NAMESPACES = "namespaces"
SECCOMP_ONLY = "seccomp"
PROCESS_ONLY = "process only"
LEVELS = (STRONG, NAMESPACES, SECCOMP_ONLY, PROCESS_ONLY)  # strongest first

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
WORKER_SCRIPTS = ("runner.py", "wire.py", "guard.py", "syscall_filter.py", "student_imports.py")


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
    return shutil.which("bwrap") if PLATFORM.startswith("linux") else None


def bwrap_unavailable_reason() -> str:
    """Why the namespace sandbox cannot be used here ("" when it can, as far as can be told cheaply)."""
    if not PLATFORM.startswith("linux"):
        return f"not Linux ({PLATFORM}): no namespaces"
    if os.environ.get("DLFS_SANDBOX", "").lower() in ("off", "0", "no", "process"):
        return "turned off by DLFS_SANDBOX"
    if _bwrap_failure:
        return _bwrap_failure[0]
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if getattr(os, "geteuid", lambda: -1)() != 0:
        for knob, bad in (("/proc/sys/kernel/unprivileged_userns_clone", "0"),
                          ("/proc/sys/user/max_user_namespaces", "0"),
                          ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1")):
            try:
                if Path(knob).read_text().strip() == bad:
                    return f"user namespaces are disabled ({knob} = {bad})"
            except OSError:
                continue
    return ""


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


def _excluded_distributions(site_dir: Path) -> set[str]:
    """Top-level entries of distributions that belong to the grader: itself and its plugins."""
    excluded: set[str] = set()
    try:
        infos = [p for p in site_dir.iterdir() if p.name.endswith((".dist-info", ".egg-info"))]
    except OSError:
        return excluded
    for info in infos:
        try:
            entry_points = (info / "entry_points.txt").read_text(encoding="utf-8", errors="replace")
        except OSError:
            entry_points = ""
        if "[grader]" not in entry_points and not info.name.lower().startswith(("dlfs_grader", "dlfs-grader")):
            continue
        excluded.add(info.name)
        try:
            record = (info / "RECORD").read_text(encoding="utf-8", errors="replace")
        except OSError:
            record = ""
        for line in record.splitlines():
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top and not top.startswith(".."):
                excluded.add(top)
    return excluded


def site_exclusions(site_dir: Path) -> list[str]:
    """Entries of a site folder the worker must not see: the grader's own, its plugins', path files."""
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


@functools.lru_cache(maxsize=1)
def runtime_binds() -> tuple[str, ...]:
    """bwrap arguments for the read-only runtime: libraries, interpreter, stdlib, filtered site-packages."""
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
    venv_cfg = Path(sys.prefix) / "pyvenv.cfg"
    if venv_cfg.is_file():
        args += ["--ro-bind", str(venv_cfg), str(venv_cfg)]
    # The standard library and the shared libpython beside it (pyenv and /usr/local builds).
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for folder in (stdlib.parent, Path(sys.base_prefix) / "lib"):
        text = str(folder)
        if folder.is_dir() and not any(text == b or text.startswith(b + "/") for b in bound):
            args += ["--ro-bind", text, text]
            bound.add(text)
    # Every site folder under what is bound is hidden, except the worker's own (filtered below).
    wanted = worker_site_dirs()
    hidden = set()
    for root in sorted(bound):
        for pattern in ("python3*/site-packages", "python3*/dist-packages", "python3/dist-packages"):
            hidden.update(str(p) for p in Path(root).glob(pattern))
    masks = sorted(hidden - {str(w) for w in wanted})
    # The worker's own site folders are bound whole (one mount instead of one per entry:
    # half of bwrap's start-up time) and what it must not see is masked: folders by an
    # empty read-only tmpfs, files by /dev/null.
    for folder in wanted:
        args += ["--ro-bind", str(folder), str(folder)]
        for name in site_exclusions(folder):
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                masks.append(str(path))
            else:
                args += ["--ro-bind", os.devnull, str(path)]
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
        for parent in Path(target).parents:
            text = str(parent)
            if text != "/" and text not in tmpfs and not any(text == m or text.startswith(m + "/") for m in read_only):
                ancestors.add(text)
    return [a for folder in sorted(ancestors) for a in ("--chmod", "0755", folder)]


def worker_site_dirs() -> list[Path]:
    """The site folders the worker's interpreter will use (Debian's site.getsitepackages()
    names dist-packages folders that a venv does not have, so sys.path is asked too)."""
    candidates = list(site.getsitepackages()) + [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    candidates += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    found: list[Path] = []
    for candidate in candidates:
        path = Path(candidate)
        if path.is_dir() and path not in found:
            found.append(path)
    return found


def bwrap_command(python_args: list[str], worker_files: dict[str, Path], compat: Path, *,
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
        args += ["--ro-bind", str(path), f"{WORKER_DIR}/{name}"]
    if compat.is_dir():
        args += ["--ro-bind", str(compat), COMPAT_DIR]
    if mnist and os.path.exists(mnist):
        args += ["--ro-bind", mnist, MNIST_DIR]
    # bwrap gives the folders it creates on the way the host's modes (/root is 0700): open them.
    args += _open_ancestors(args)
    args += ["--perms", "0777", "--size", str(WORK_BYTES), "--tmpfs", WORK_DIR,
             "--remount-ro", "/", "--chdir", WORK_DIR, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--", sys.executable, "-I", *python_args]


def level_of(bwrap: bool, seccomp: bool) -> str:
    if bwrap:
        return STRONG if seccomp else NAMESPACES
    return SECCOMP_ONLY if seccomp else PROCESS_ONLY
