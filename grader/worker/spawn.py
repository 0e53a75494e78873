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

import json
import os
import subprocess
import sys
from pathlib import Path

from . import isolation

HERE = Path(__file__).resolve().parent
WORKER_FILES = {name: HERE / name for name in isolation.WORKER_SCRIPTS}
RUNNER = WORKER_FILES["runner.py"]
WIRE = WORKER_FILES["wire.py"]
GRADER_DIR = HERE.parent
COMPAT_DIR = GRADER_DIR / "compat"
# The answer key and the specs sit beside the grader, whether in a checkout or in site-packages.
PROTECTED = (GRADER_DIR, GRADER_DIR.parent / "reference", GRADER_DIR.parent / "exercises")
# The worker's environment is built from nothing: the student's code sees none of
# the grader's variables. Single-threaded BLAS keeps the process cheap and countable.
DEFAULT_MEMORY_MB = 2048  # address space of the worker
DEFAULT_CPU_SECONDS = 120  # CPU time of the worker over all its calls
# Features the worker behaves as if it lacked ("resource", "alarm", "seccomp"): how the tests
# play a macOS or Windows laptop, which has none of them, on Linux.
SIMULATE_MISSING: tuple[str, ...] = ()
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


# The runner is started as a module loaded by path, not as a script: Python never caches a
# script's bytecode, and compiling the five worker scripts costs each worker about 10 ms before
# it can say it is ready. Loaded like this, each script's compiled form in __pycache__ is used.
BOOT = ("import sys, importlib.util as u; s = u.spec_from_file_location('_dlfs_runner', sys.argv[1]); "
        "m = u.module_from_spec(s); sys.modules[s.name] = m; sys.argv = sys.argv[1:]; "
        "s.loader.exec_module(m); m.main()")


def _bytecode(path: Path) -> Path | None:
    """The compiled form of a worker script, written once if this Python may write bytecode;
    None when there is none (a read-only installation without it: the worker compiles, as before)."""
    import importlib.util

    cached = Path(importlib.util.cache_from_source(str(path)))
    try:
        source = path.stat()
        with open(cached, "rb") as handle:
            header = handle.read(16)
        # A timestamp .pyc: this Python's magic, flags 0, the source's mtime and size (what the importer checks).
        if header[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == 0 and \
                int.from_bytes(header[8:12], "little") == int(source.st_mtime) & 0xFFFFFFFF and \
                int.from_bytes(header[12:16], "little") == source.st_size & 0xFFFFFFFF:
            return cached
    except OSError:
        pass
    if sys.dont_write_bytecode:
        return None
    try:
        import py_compile
        py_compile.compile(str(path), cfile=str(cached), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        return cached
    except (OSError, py_compile.PyCompileError):
        return None


def worker_binds() -> dict[str, Path]:
    """What the sandbox shows in its worker folder: the scripts, and their compiled forms."""
    binds = dict(WORKER_FILES)
    for path in WORKER_FILES.values():
        cached = _bytecode(path)
        if cached is not None:
            binds[f"__pycache__/{cached.name}"] = cached
    return binds


class WorkerProcess(subprocess.Popen):
    """The worker's process, with how it was isolated (``sandboxed``) and bwrap's info pipe."""

    sandboxed: bool = False
    info_fd: int | None = None


WORKDIR_PREFIX = "dlfs-grade-"


def new_workdir() -> Path:
    """A plain worker's folder, named after this process: a run killed with SIGKILL leaves it, and the
    next run removes it (a sandboxed worker has no folder on this machine's disk)."""
    import tempfile

    from .cleanup import remove_stale_folders
    remove_stale_folders(WORKDIR_PREFIX)
    return Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))


def spawn(workdir: Path, memory_mb: int, cpu_seconds: int, *, slot: int | None = None,
          sandbox: bool | None = None) -> WorkerProcess:
    """A fresh interpreter (-I) in its own session, so its whole process group can be killed.

    ``sandbox``: None uses bubblewrap when this machine allows it; False forces a plain process.
    """
    if sandbox is None:
        sandbox = isolation.bwrap_unavailable_reason() == ""
    mnist = os.environ.get("DLFS_MNIST")
    if sandbox:
        return _spawn_sandboxed(memory_mb, cpu_seconds, slot, mnist)
    env = dict(WORKER_ENV, HOME=str(workdir), TMPDIR=str(workdir))
    if mnist:  # the one setting of the student's environment the worker needs: where MNIST is
        env["DLFS_MNIST"] = mnist
    config = {"wire": str(WIRE), "guard": str(WORKER_FILES["guard.py"]),
              "student_imports": str(WORKER_FILES["student_imports.py"]),
              "filter": str(WORKER_FILES["syscall_filter.py"]), "memory_mb": memory_mb,
              "cpu_seconds": cpu_seconds, "protected": [str(p) for p in PROTECTED], "compat": [str(COMPAT_DIR)],
              "drop_to": None, "missing": list(SIMULATE_MISSING)}
    if not isolation.PLATFORM.startswith("linux"):
        config["missing"].append("seccomp")
    worker_binds()  # the scripts' compiled forms beside them (-B: the worker itself writes none)
    process = WorkerProcess(
        [sys.executable, "-I", "-B", "-c", BOOT, str(RUNNER), json.dumps(config)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir, env=env,
        start_new_session=True, close_fds=True)
    return process


def _spawn_sandboxed(memory_mb: int, cpu_seconds: int, slot: int | None, mnist: str | None) -> WorkerProcess:
    privileged = os.geteuid() == 0
    uid = isolation.sandbox_uid(slot)
    env = dict(WORKER_ENV, HOME=isolation.WORK_DIR, TMPDIR="/tmp")
    if mnist:
        env["DLFS_MNIST"] = isolation.MNIST_DIR
    worker = isolation.WORKER_DIR
    config = {"wire": f"{worker}/wire.py", "guard": f"{worker}/guard.py", "filter": f"{worker}/syscall_filter.py",
              "student_imports": f"{worker}/student_imports.py",
              "memory_mb": memory_mb, "cpu_seconds": cpu_seconds, "protected": [], "compat": [isolation.COMPAT_DIR],
              "drop_to": [uid, uid] if privileged else None, "missing": list(SIMULATE_MISSING)}
    info_read, info_write = os.pipe()
    try:
        command = isolation.bwrap_command(["-B", "-c", BOOT, f"{worker}/runner.py", json.dumps(config)], worker_binds(),
                                          COMPAT_DIR,
                                          env=env, info_fd=info_write, uid=uid, privileged=privileged, mnist=mnist)
        process = WorkerProcess(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd="/", env={}, start_new_session=True, close_fds=True, pass_fds=(info_write,))
    except BaseException:
        os.close(info_read)
        raise
    finally:
        os.close(info_write)
    process.sandboxed = True
    process.info_fd = info_read
    return process
