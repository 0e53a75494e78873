"""Whether an input was changed is judged against the grader's own copy, and a worker that
reports forged arguments after a call gains nothing (issue 12).

The worker here is real; only what it reports as the arguments after each call is replaced,
as a student who patched the worker's reply from inside would.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SUBMISSIONS, builtin_manager
from grader.session import grade
from grader.worker.client import Limits, WorkerClient
from grader.worker.wire import Fn, Opaque

CREDIT = ROOT / "tests" / "fixtures" / "credit"


class ForgingWorker(WorkerClient):
    """Reports ``forge(args sent)`` as the arguments after every call that returns them."""

    def __init__(self, forge) -> None:
        super().__init__(Limits())
        self.forge = forge

    def call(self, target, args=(), kwargs=None, **options):
        reply = super().call(target, args, kwargs, **options)
        if options.get("return_args") and reply.ok:
            reply = replace(reply, args=self.forge(args))
        return reply

    def stream(self, ops, timeout=None):
        """No stream of calls is answered (an empty one): the cases then send each call by itself,
        through :meth:`call`, where the forgery sits, as they do for a second candidate."""
        return []


def _as_sent(args: tuple) -> tuple:
    """An untouched copy of what the grader sent: the lie "nothing was changed"."""
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def _gradient_score(path: Path, worker: WorkerClient) -> tuple[float, list]:
    with worker:
        report = grade(path, builtin_manager(), worker, ("numerical_gradient",))
    exercise = report.exercises[0]
    return exercise.score, [c for c in exercise.checks if "input left unchanged" in c.name]


def test_reporting_untouched_arguments_does_not_help_a_stub_that_changed_them():
    honest_score, honest = _gradient_score(CREDIT / "mutating_stub.py", WorkerClient(Limits()))
    lying_score, lied = _gradient_score(CREDIT / "mutating_stub.py", ForgingWorker(_as_sent))
    assert honest_score == lying_score == 0.0
    assert all("was not what was passed in" in c.message for c in honest)  # the honest report shows the change
    assert not any(c.passed for c in lied)


@pytest.mark.parametrize("forge", [
    lambda args: None,
    lambda args: (),
    lambda args: _as_sent(args)[:1],
    lambda args: tuple(Opaque("ndarray", "array([3., 4.])") for _ in args),
    lambda args: tuple(np.zeros((50, 50)) for _ in args),
    lambda args: tuple(Fn("lambda x: x") for _ in args),
], ids=["none", "empty", "too-short", "opaque", "another-shape", "a-function"])
def test_forged_arguments_cost_the_unchanged_check_and_nothing_else(forge):
    honest_score, _checks = _gradient_score(SUBMISSIONS / "correct.py", WorkerClient(Limits()))
    score, unchanged = _gradient_score(SUBMISSIONS / "correct.py", ForgingWorker(forge))
    assert honest_score == 15.0
    assert score == pytest.approx(15.0 * 6 / 10) and len(unchanged) == 4
    assert not any(c.passed for c in unchanged)
