"""Shared helpers: grading a fixture in-process, and running the `grade` command."""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "fixtures" / "submissions"
EXERCISE_IDS = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
                "gradient_descent", "simple_net", "two_layer_net")


@functools.lru_cache(maxsize=1)
def builtin_manager():
    """The built-in plugins only: whatever else is installed on the machine must not change a verdict here."""
    from grader.plugins import make_manager
    return make_manager(entry_points=False)


def grade_path(path: Path, only: tuple[str, ...] = (), **limits):
    """Grade a submission with the built-in plugins, in this process (the worker is still separate)."""
    from grader.session import grade
    from grader.worker.client import Limits, WorkerClient

    with WorkerClient(Limits(**limits)) as worker:
        return grade(path, builtin_manager(), worker, only)


def statuses(report) -> dict[str, str]:
    return {e.id: e.status for e in report.exercises}


def run_grade(*args: str, cwd: Path | None = None, timeout: float = 120,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m grader.cli` as a student would run `grade` (``env``: variables set besides)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **(env or {}))
    for name in ("FORCE_COLOR", "COLUMNS", "LINES"):  # the report's width is the pipe's default here
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def write_submission(tmp_path):
    def write(source: str | bytes, name: str = "submission.py") -> Path:
        path = tmp_path / name
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(source, encoding="utf-8")
        return path
    return write


# What the machine is declared to provide (.ci/run declares CI's): "sandbox" (the namespace sandbox,
# namespaces+seccomp) and "chromium". A test that needs a declared layer fails where it is missing;
# elsewhere it skips, with the reason. A test never decides by itself, from the code it tests,
# that a missing layer is fine: a regression in the sandbox must not turn the suite green.
DECLARED = frozenset(os.environ.get("DLFS_TEST_MACHINE", "").replace(",", " ").split())


def machine_lacks(capability: str, reason: str) -> None:
    """Skip (``reason``), or fail where the machine is declared to have ``capability``."""
    if capability in DECLARED:
        pytest.fail(f"this machine is declared to have {capability} (DLFS_TEST_MACHINE), but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def class_isolation():
    """Skips a test of `grade class` on a machine that cannot isolate students from each other:
    `grade class` refuses to run there (without --allow-weak-isolation), rightly."""
    from grader.worker.doctor import probe_level
    from grader.worker.isolation import STRONG

    level, reason = probe_level()
    if level != STRONG:
        machine_lacks("sandbox", f"`grade class` needs '{STRONG}' isolation; this machine gives '{level}' ({reason})")
