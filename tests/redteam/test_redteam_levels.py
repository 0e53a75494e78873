"""The attacks that only an operating-system layer can stop, at every isolation level this machine
can produce (tests/redteam/levels.py makes each level from the outside): the namespace sandbox,
root without namespaces, and an ordinary user without namespaces.

Each attack scores no more than its honest twin, leaves no process, file, shared memory or
connection behind, never crashes the grader, never puts the grader's secret or environment in a
report, never writes on the grader's standard output, and never grows the host's shared memory
past what the worker's own limit allows. The level each report names is the one the machine
was made to give.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402
import levels  # noqa: E402

# The attacks of issue 20 (fixtures written for it), and every fixture the namespace sandbox alone
# used to stop (needs=sandbox): without namespaces, the uid, Landlock and seccomp must stop them now.
NEW = ("memfd_shm_flood", "secret_from_the_grader", "forged_report_on_stdout", "classmate_staged_files")
CASES = [c for c in harness.cases() if c.name in NEW or c.needs_sandbox]
# What each level must be named in every report: the layers the machine was made to give.
EXPECTED = {"namespaces": ("namespaces+seccomp",), "uid": ("uid+landlock+seccomp",),
            "user": ("landlock+seccomp",)}
# The worker's memory limit (RLIMIT_AS, which counts shared anonymous mappings too), and the
# sandbox's two tmpfs (grader/worker/isolation.py): shared memory one worker could ever hold.
SHMEM_ALLOWANCE_KIB = harness.LIMITS.memory_mb * 1024 + (128 + 32) * 1024


def _landlock_abi() -> int:
    """The kernel's Landlock ABI (0 without it), asked of the kernel directly."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(0, libc.syscall(ctypes.c_long(444), None, ctypes.c_long(0), ctypes.c_long(1)))


def _expected(level: str) -> tuple[str, ...]:
    if level != "namespaces" and not _landlock_abi():  # a kernel before 5.13, or Landlock not enabled
        return tuple(name.replace("landlock+", "") for name in EXPECTED[level])
    return EXPECTED[level]


def _lacks(level: str, reason: str) -> None:
    try:
        from conftest import machine_lacks
    except ImportError:
        pytest.skip(reason)
    machine_lacks("sandbox" if level == "namespaces" else "root", reason)


@pytest.mark.parametrize("level", levels.LEVELS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attack_at_every_level_scores_no_more_than_its_twin_and_leaves_nothing_behind(case, level):
    reason = levels.unavailable(level)
    if reason:
        _lacks(level, f"the {level} level cannot be made here: {reason}")
    slot = levels.SLOTS[(os.getpid() * 7 + CASES.index(case) * 3 + levels.LEVELS.index(level)) % (len(levels.SLOTS) - 1)]
    graded = levels.grade_at(level, case.name, slot)
    attack, twin = graded.attack, graded.twin
    assert not twin["problems"], twin["problems"]
    assert not attack["problems"], attack["problems"]
    assert attack["score"] <= twin["score"], f"{case.mechanism}: {attack['score']} > twin's {twin['score']}"
    for outcome in (attack, twin):
        assert outcome["isolation"] in _expected(level), (level, outcome["isolation"])
    # Nothing but the grading process's own answer on its standard output, nothing forged on its errors.
    assert graded.stdout.count("\n") == 1 and graded.stdout.startswith("{"), graded.stdout[:500]
    assert "FORGED-BY-STUDENT" not in graded.stdout + graded.stderr
    assert not graded.left, graded.left
    assert graded.shmem_growth_kib <= SHMEM_ALLOWANCE_KIB, \
        f"shared memory grew by {graded.shmem_growth_kib // 1024} MiB during one grading"
