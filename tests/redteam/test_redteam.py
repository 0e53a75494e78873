"""The red-team suite: every hostile fixture scores no more than its honest twin, changes no
canary outside its worker, leaves no process, folder or connection behind, and never
crashes or hangs the grader (tests/redteam/harness.py says how each is run).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402

from grader.worker import isolation  # noqa: E402
from grader.worker.client import WorkerClient  # noqa: E402

CASES = harness.cases()
_TWINS: dict[tuple[str, tuple[str, ...]], harness.Outcome] = {}


def _sandbox_reason() -> str:
    reason = isolation.bwrap_unavailable_reason()
    if reason:
        return reason
    with WorkerClient(harness.LIMITS) as w:
        w.start()
        w._await_ready()
        return "" if w.isolation.sandboxed else w.isolation.fallback


SANDBOX_REASON = _sandbox_reason()


@pytest.fixture(scope="module")
def listeners():
    return harness.Listeners()


def test_there_are_at_least_forty_hostile_fixtures_each_with_a_twin():
    assert len(CASES) >= 40
    for case in CASES:
        assert harness.twin_text(case) != case.path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attack_scores_no_more_than_its_twin_and_leaves_nothing_behind(case, tmp_path, listeners):
    if case.needs_sandbox and SANDBOX_REASON:
        from conftest import machine_lacks
        machine_lacks("sandbox", f"{case.mechanism}: only the namespace sandbox stops this, and it is unavailable "
                                 f"here ({SANDBOX_REASON})")
    slot = 1000 + (os.getpid() * 7 + CASES.index(case)) % 3000  # a uid of its own: survivors are findable
    attack = harness.run(case, case.path.read_text(encoding="utf-8"), tmp_path, listeners, slot, attack=True)
    key = (harness.twin_text(case), case.only)
    if key not in _TWINS:
        _TWINS[key] = harness.run(case, key[0], tmp_path, listeners, slot, attack=False)
    twin = _TWINS[key]
    assert not twin.problems, twin.problems
    assert not attack.problems, attack.problems
    assert attack.score <= twin.score, f"{case.mechanism}: {attack.score} > twin's {twin.score}"
