"""Starting the sandboxed worker process, with nothing but the standard library.

``grade`` calls this before importing anything else, so the worker imports NumPy while
the grader loads its plugins and exercises: the two startups overlap on two cores.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")
WIRE = Path(__file__).with_name("wire.py")
GRADER_DIR = Path(__file__).resolve().parent.parent
COMPAT_DIR = GRADER_DIR / "compat"
# The answer key and the specs sit beside the grader, whether in a checkout or in site-packages.
PROTECTED = (GRADER_DIR, GRADER_DIR.parent / "reference", GRADER_DIR.parent / "exercises")
# The worker's environment is built from nothing: the student's code sees none of
# the grader's variables. Single-threaded BLAS keeps the process cheap and countable.
DEFAULT_MEMORY_MB = 2048  # address space of the worker
DEFAULT_CPU_SECONDS = 120  # CPU time of the worker over all its calls
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="dlfs-grade-"))


def spawn(workdir: Path, memory_mb: int, cpu_seconds: int) -> subprocess.Popen:
    """A fresh isolated interpreter (-I) in its own session, so its whole process group can be killed."""
    env = dict(WORKER_ENV, HOME=str(workdir), TMPDIR=str(workdir))
    mnist = os.environ.get("DLFS_MNIST")
    if mnist:  # the one setting of the student's environment the worker needs: where MNIST is
        env["DLFS_MNIST"] = mnist
    return subprocess.Popen(
        [sys.executable, "-I", str(RUNNER), str(WIRE), str(memory_mb), str(cpu_seconds),
         os.pathsep.join(map(str, PROTECTED)), str(COMPAT_DIR)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=workdir, env=env,
        start_new_session=True, close_fds=True)
