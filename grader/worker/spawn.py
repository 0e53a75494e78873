"""Starting the sandboxed worker process, with nothing but the standard library.

``grade`` calls this before importing anything else, so the worker imports NumPy while
the grader loads its plugins and exercises: the two startups overlap on two cores.

Two ways to start it (grader/worker/isolation.py decides which this machine allows):
in a bubblewrap sandbox (its own namespaces, an unprivileged uid, a filesystem view of
only the runtime and the book's helpers), or as a plain child process in a private
temporary folder. Either way the runner then loads its seccomp filter and its audit
hook before any student code runs.
"""
from __future__ import annotations

import os
import sys

from . import death_watch, isolation

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER_FILES = {name: os.path.join(HERE, name) for name in isolation.WORKER_SCRIPTS}
RUNNER = WORKER_FILES["runner.py"]
WIRE = WORKER_FILES["wire.py"]
GRADER_DIR = os.path.dirname(HERE)
COMPAT_DIR = os.path.join(GRADER_DIR, "compat")
# The answer key and the specs sit beside the grader, whether in a checkout or in site-packages.
PROTECTED = (GRADER_DIR, os.path.join(os.path.dirname(GRADER_DIR), "reference"),
             os.path.join(os.path.dirname(GRADER_DIR), "exercises"))
# The worker's environment is built from nothing: the student's code sees none of
# the grader's variables. Single-threaded BLAS keeps the process cheap and countable.
DEFAULT_MEMORY_MB = 2048  # address space of the worker
DEFAULT_CPU_SECONDS = 120  # CPU time of the worker over all its calls
# Features the worker behaves as if it lacked ("resource", "alarm", "seccomp", "landlock", "uid"): how
# the tests play a macOS or Windows laptop, which has none of them, on Linux, or a layer left out.
SIMULATE_MISSING: tuple[str, ...] = ()
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


# The runner is started as a module loaded by path, not as a script: Python never caches a
# script's bytecode, and compiling the five worker scripts costs each worker about 10 ms before
# it can say it is ready. Loaded like this, each script's compiled form in __pycache__ is used.
BOOT = ("import sys, importlib.util as u; s = u.spec_from_file_location('_dlfs_runner', sys.argv[1]); "
        "m = u.module_from_spec(s); sys.modules[s.name] = m; sys.argv = sys.argv[1:]; "
        "s.loader.exec_module(m); m.main()")


def _importer():
    """The import system's own helpers (cache_from_source, MAGIC_NUMBER): loaded with the
    interpreter, where importlib.util would cost the worker's start about 3 ms."""
    try:
        import _frozen_importlib_external as importer
    except ImportError:  # another Python than CPython
        import importlib.util as importer
    return importer


def _bytecode(path: str) -> str | None:
    """The compiled form of a worker script, written once if this Python may write bytecode;
    None when there is none (a read-only installation without it: the worker compiles, as before)."""
    importer = _importer()
    cached = importer.cache_from_source(path)
    try:
        source = os.stat(path)
        with open(cached, "rb") as handle:
            header = handle.read(16)
        # A timestamp .pyc: this Python's magic, flags 0, the source's mtime and size (what the importer checks).
        if header[:4] == importer.MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == 0 and \
                int.from_bytes(header[8:12], "little") == int(source.st_mtime) & 0xFFFFFFFF and \
                int.from_bytes(header[12:16], "little") == source.st_size & 0xFFFFFFFF:
            return cached
    except OSError:
        pass
    if sys.dont_write_bytecode:
        return None
    import py_compile
    try:
        py_compile.compile(path, cfile=cached, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        return cached
    except (OSError, py_compile.PyCompileError):
        return None


def worker_binds() -> dict[str, str]:
    """What the sandbox shows in its worker folder: the scripts, and their compiled forms."""
    binds = dict(WORKER_FILES)
    for path in WORKER_FILES.values():
        cached = _bytecode(path)
        if cached is not None:
            binds[f"__pycache__/{os.path.basename(cached)}"] = cached
    return binds


_DUMPABLE: list[bool] = []  # made not dumpable already (once per process)


def not_dumpable() -> None:
    """No core dumps of the grading process, and no process of its uid may read its memory, environment
    (the instructor's secret) or descriptors through /proc: a worker without namespaces or its own
    uid, a classmate's worker. Called once a worker is spawned (ctypes costs 1.5 ms: not before)."""
    if _DUMPABLE or not sys.platform.startswith("linux"):
        return
    _DUMPABLE.append(True)
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


WORKDIR_PREFIX = "dlfs-grade-"
OTHERS_PROBE_UID = 65534  # a uid that owns nothing: whether a folder is open to uids other than its owner


def new_workdir():
    """A plain worker's folder, named after this process: a run killed with SIGKILL leaves it, and the
    next run removes it (a sandboxed worker has no folder on this machine's disk)."""
    import tempfile
    from pathlib import Path

    from .cleanup import remove_stale_folders
    parent = workdir_parent()
    remove_stale_folders(WORKDIR_PREFIX, parent)
    return Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-", dir=parent))


def workdir_parent() -> str:
    """Where plain workers' folders are made: TMPDIR, unless the grader is root and TMPDIR is closed
    to other uids (a TMPDIR inside root's own 0700 folders): the worker could not drop to its own uid
    there and would run as root. Then the machine's /tmp (or /var/tmp), open to all and sticky; each
    worker's folder in it is its uid's alone (0700)."""
    import tempfile

    chosen = tempfile.gettempdir()
    if (not isolation.PLATFORM.startswith("linux") or os.geteuid() != 0 or "uid" in SIMULATE_MISSING
            or runtime_closed_to(isolation.sandbox_uid(None))):
        return chosen  # the worker keeps the grader's uid anyway: its folder stays where TMPDIR says
    from . import fs_view
    for candidate in (chosen, "/tmp", "/var/tmp"):
        if os.path.isdir(candidate) and not fs_view.unreadable_for(OTHERS_PROBE_UID, [candidate]):
            return candidate
    return chosen


def _json(value) -> str:
    """The worker's configuration as JSON, for the plain values it holds (str, int, bool, None,
    lists): the json module is not loaded yet when the worker is spawned."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return '"' + "".join(ch if ch >= " " and ch not in '"\\' else
                             "\\u%04x" % ord(ch) for ch in value) + '"'
    if type(value) in (list, tuple):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if type(value) is dict:
        return "{" + ",".join(_json(str(k)) + ":" + _json(v) for k, v in value.items()) + "}"
    raise TypeError(f"not a configuration value: {type(value).__name__}")


def spawn(workdir, memory_mb: int, cpu_seconds: int, *, slot: int | None = None, sandbox: bool | None = None):
    """A fresh interpreter (-I) in its own session, so its whole process group can be killed.

    ``sandbox``: None uses bubblewrap when this machine allows it; False forces a plain process.
    The sandboxed worker is started with os.posix_spawn (:class:`SpawnedProcess`), the plain one
    with subprocess; either has ``sandboxed`` and ``info_fd`` for the ProcessTree that owns it.
    """
    if sandbox is None:
        sandbox = isolation.bwrap_unavailable_reason() == ""
    mnist = os.environ.get("DLFS_MNIST")
    if sandbox:
        return _spawn_sandboxed(memory_mb, cpu_seconds, slot, mnist)
    import subprocess

    workdir = os.fspath(workdir)
    env = dict(WORKER_ENV, HOME=workdir, TMPDIR=workdir)
    if mnist:  # the one setting of the student's environment the worker needs: where MNIST is
        env["DLFS_MNIST"] = mnist
    uid, _why = drop_target(slot, workdir)
    config = {"wire": WIRE, "guard": WORKER_FILES["guard.py"], "student_imports": WORKER_FILES["student_imports.py"],
              "net_ops": WORKER_FILES["net_ops.py"], "loading": WORKER_FILES["loading.py"],
              "filter": WORKER_FILES["syscall_filter.py"], "confine": WORKER_FILES["confine.py"],
              "memory_mb": memory_mb, "cpu_seconds": cpu_seconds, "protected": list(PROTECTED), "compat": [COMPAT_DIR],
              "drop_to": None if uid is None else [uid, uid], "landlock": {}, "missing": list(SIMULATE_MISSING)}
    if not isolation.PLATFORM.startswith("linux"):
        config["missing"] += ["seccomp", "landlock"]
    binds = worker_binds()  # the scripts' compiled forms beside them (-B: the worker itself writes none)
    if isolation.PLATFORM.startswith("linux") and "landlock" not in config["missing"]:
        from . import fs_view
        config["landlock"] = fs_view.landlock_view(workdir, binds, COMPAT_DIR, mnist)
    if uid is not None:
        # The worker's own folder, which no other uid may enter (a classmate's worker has another uid).
        os.chown(workdir, uid, uid)
        os.chmod(workdir, 0o700)
    command = [sys.executable, "-I", "-B", "-c", BOOT, RUNNER, _json(config)]
    # Shared memory and tmpfs pages count too, where a memory cgroup can be made (memory_cgroup.py).
    from . import memory_cgroup
    group = memory_cgroup.make(memory_mb * 1024 * 1024) if "cgroup" not in SIMULATE_MISSING else None
    try:
        process = subprocess.Popen(
            memory_cgroup.enter_then_exec(group, command) if group else command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir, env=env,
            start_new_session=True, close_fds=True)
    except BaseException:
        if group:
            group.remove()
        raise
    process.sandboxed, process.info_fd, process.memory_group = False, None, group
    return process


_RUNTIME_OPEN: list[str] = []  # why the runtime is closed to other uids ("" when open): checked once per process


def drop_target(slot: int | None, workdir: str | None = None) -> tuple[int | None, str]:
    """The uid a plain worker drops to, or None and why it keeps the grader's: only root can give
    it another uid (on Linux), and only if that uid can still read the Python runtime, the grader's
    worker scripts and the folder its own folder is in."""
    if not isolation.PLATFORM.startswith("linux") or "uid" in SIMULATE_MISSING:
        return None, "not Linux" if not isolation.PLATFORM.startswith("linux") else "turned off"
    if os.geteuid() != 0:
        return None, "the grader is not root: it cannot give the worker another uid"
    uid = isolation.sandbox_uid(slot)
    from . import fs_view
    why = runtime_closed_to(uid) or (fs_view.unreadable_for(uid, [os.path.dirname(os.fspath(workdir))]) if workdir else "")
    return (None, why) if why else (uid, "")


def runtime_closed_to(uid: int) -> str:
    """Why ``uid`` could not run the Python runtime and the worker's scripts ("" when it can)."""
    from . import fs_view
    if not _RUNTIME_OPEN:
        runtime = [os.path.realpath(sys.executable), os.path.dirname(os.path.abspath(os.__file__)),
                   *isolation.worker_site_dirs(), *WORKER_FILES.values(), COMPAT_DIR]
        _RUNTIME_OPEN.append(fs_view.unreadable_for(uid, runtime))
    return _RUNTIME_OPEN[0]


def _spawn_sandboxed(memory_mb: int, cpu_seconds: int, slot: int | None, mnist: str | None) -> "SpawnedProcess":
    privileged = os.geteuid() == 0
    uid = isolation.sandbox_uid(slot)
    env = dict(WORKER_ENV, HOME=isolation.WORK_DIR, TMPDIR="/tmp")
    if mnist:
        env["DLFS_MNIST"] = isolation.MNIST_DIR
    worker = isolation.WORKER_DIR
    config = {"wire": f"{worker}/wire.py", "guard": f"{worker}/guard.py", "filter": f"{worker}/syscall_filter.py",
              "student_imports": f"{worker}/student_imports.py", "net_ops": f"{worker}/net_ops.py",
              "loading": f"{worker}/loading.py", "confine": f"{worker}/confine.py", "landlock": None,
              "memory_mb": memory_mb, "cpu_seconds": cpu_seconds, "protected": [], "compat": [isolation.COMPAT_DIR],
              "drop_to": [uid, uid] if privileged else None, "missing": list(SIMULATE_MISSING)}
    info_read, info_write = os.pipe()
    try:
        command = isolation.bwrap_command(["-B", "-c", BOOT, f"{worker}/runner.py", _json(config)], worker_binds(),
                                          COMPAT_DIR, env=env, info_fd=info_write, uid=uid, privileged=privileged,
                                          mnist=mnist)
        process = SpawnedProcess.start(death_watch.watched(command, info_write), keep_fd=info_write,
                                       hold_fd=info_read)
    except BaseException:
        os.close(info_read)
        raise
    finally:
        os.close(info_write)
    process.info_fd = info_read
    return process


class SpawnedProcess:
    """bwrap started with os.posix_spawn, with what a ProcessTree uses of a subprocess.Popen: pid,
    stdin (buffered), stdout and stderr pipes, poll, wait and kill.

    subprocess costs the worker's start about 9 ms of imports (threading, selectors, signal ...)
    before the process can even be spawned; posix_spawn needs nothing but os. What subprocess
    does for the sandbox is done here too: the child gets its own session, SIGPIPE and SIGXFSZ
    back at their defaults, the three pipes as its standard streams, and of this process's
    descriptors only ``keep_fd`` (every one Python opened is close-on-exec; any other inherited
    one is closed in the child, as close_fds does). Where posix_spawn is missing or a pipe lands
    on a standard stream's number, subprocess starts it instead.
    """

    sandboxed = True
    info_fd: int | None = None

    def __init__(self, pid: int, stdin, stdout, stderr, popen=None) -> None:
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None
        self._popen = popen

    @classmethod
    def start(cls, command: list[str], keep_fd: int, hold_fd: int | None = None) -> "SpawnedProcess":
        """``hold_fd``: also given to the child, as ``death_watch.held_report_fd(keep_fd)`` (the
        watching shell holds the report pipe's read end there; the subprocess fallback gives it none)."""
        pipes = [os.pipe() for _ in range(3)]
        ends = [fd for pair in pipes for fd in pair]
        if not hasattr(os, "posix_spawn") or min(ends) <= 2:
            for fd in ends:
                os.close(fd)
            return cls._with_subprocess(command, keep_fd)
        (in_read, in_write), (out_read, out_write), (err_read, err_write) = pipes
        actions = [(os.POSIX_SPAWN_DUP2, in_read, 0), (os.POSIX_SPAWN_DUP2, out_write, 1),
                   (os.POSIX_SPAWN_DUP2, err_write, 2)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inherited_fds() if fd > 2 and fd != keep_fd]
        if hold_fd is not None:  # after the closes: its number may be one of theirs
            actions.append((os.POSIX_SPAWN_DUP2, hold_fd, death_watch.held_report_fd(keep_fd)))
        import signal
        try:
            os.set_inheritable(keep_fd, True)
            pid = os.posix_spawn(command[0], command, {}, file_actions=actions, setsid=True,
                                 setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
        except BaseException:
            for fd in ends:
                os.close(fd)
            raise
        for fd in (in_read, out_write, err_write):
            os.close(fd)
        return cls(pid, os.fdopen(in_write, "wb"), os.fdopen(out_read, "rb"), os.fdopen(err_read, "rb"))

    @classmethod
    def _with_subprocess(cls, command: list[str], keep_fd: int) -> "SpawnedProcess":
        import subprocess
        popen = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd="/", env={}, start_new_session=True, close_fds=True, pass_fds=(keep_fd,))
        return cls(popen.pid, popen.stdin, popen.stdout, popen.stderr, popen)

    def poll(self) -> int | None:
        if self._popen is not None:
            self.returncode = self._popen.poll()
        elif self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its status is lost (as subprocess says then)
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """The exit code; subprocess.TimeoutExpired after ``timeout`` seconds, as Popen.wait."""
        if self._popen is not None:
            self.returncode = self._popen.wait(timeout)
            return self.returncode
        import time
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                import subprocess
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(min(delay, 0.05, remaining) if remaining is not None else min(delay, 0.05))
            delay *= 2
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            try:  # its session's group: the watching shell, bwrap, and the sandbox until it starts
                os.killpg(self.pid, 9)  # SIGKILL
            except (ProcessLookupError, PermissionError):
                pass


def _inherited_fds() -> list[int]:
    """This process's descriptors that a child would inherit (open and not close-on-exec)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no /proc: the first thousand numbers
        names = [str(fd) for fd in range(1024)]
    found = []
    for name in names:
        try:
            fd = int(name)
            if os.get_inheritable(fd):
                found.append(fd)
        except (ValueError, OSError):  # not a number, or not open (the listing's own descriptor)
            continue
    return found
