"""Credit only for what was computed (issue 12): stubs that compute nothing, methods that raise
and losses that lie each earn no more than their honest twin (the same file with do-nothing stubs)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, grade_path

CREDIT = ROOT / "tests" / "fixtures" / "credit"
GRADIENT = re.compile(r"^    #<gradient>\n.*?^    #</gradient>\n", re.S | re.M)
ATTACK = re.compile(r"^[ \t]*#<attack>[ \t]*\n.*?^[ \t]*#</attack>[ \t]*\n", re.S | re.M)


_GRADED: dict[tuple[str, tuple[str, ...]], object] = {}


def grade_source(tmp_path_factory, source: str, *only: str):
    """Grade ``source`` as a submission alone in a fresh folder (siblings are handed in too), once per run."""
    key = (source, only)
    if key not in _GRADED:
        path = tmp_path_factory.mktemp("credit") / "submission.py"
        path.write_text(source, encoding="utf-8")
        _GRADED[key] = grade_path(path, only=only)
    return _GRADED[key]


def _exercise(report, exercise_id: str):
    return next(e for e in report.exercises if e.id == exercise_id)


def _counted(exercise) -> list:
    return [c for c in exercise.checks if not c.skipped]


def test_a_stub_gradient_earns_nothing_for_leaving_its_input_alone(tmp_path_factory):
    # np.zeros_like(x) leaves x alone, and that used to earn 6/15.
    report = grade_source(tmp_path_factory, (CREDIT / "stubs.py").read_text(encoding="utf-8"), "numerical_gradient")
    exercise = _exercise(report, "numerical_gradient")
    assert exercise.score == 0.0
    unchanged = [c for c in exercise.checks if "input left unchanged" in c.name]
    assert len(unchanged) == 4 and not any(c.passed or c.skipped for c in unchanged)
    assert all("counts only when the value is right" in c.message for c in unchanged)


def test_a_stub_net_earns_only_its_real_constructor(tmp_path_factory):
    # The stub's __init__ is real work (3 checks of 9); zero gradients leaving the params alone added a 4th (11.11).
    report = grade_source(tmp_path_factory, (CREDIT / "stubs.py").read_text(encoding="utf-8"), "two_layer_net")
    exercise = _exercise(report, "two_layer_net")
    passed = [c.name for c in exercise.checks if c.passed and not c.skipped]
    assert len(passed) == 3 and all(name.startswith(("TwoLayerNet(784", "initial weights")) for name in passed)
    assert exercise.score == round(25 * 3 / 9, 2)
    kept = next(c for c in exercise.checks if "params left unchanged" in c.name)
    assert not kept.passed and not kept.skipped


def test_a_right_gradient_that_leaves_its_input_alone_still_earns_both_checks(tmp_path_factory):
    source = (ROOT / "tests" / "fixtures" / "submissions" / "correct.py").read_text(encoding="utf-8")
    exercise = _exercise(grade_source(tmp_path_factory, source, "numerical_gradient"), "numerical_gradient")
    unchanged = [c for c in exercise.checks if "input left unchanged" in c.name]
    assert exercise.score == 15.0 and len(unchanged) == 4 and all(c.passed for c in unchanged)


ONE_D_ONLY = '''import numpy as np
def numerical_gradient(f, x):
    if x.ndim != 1:
        {two_d}
    h = 1e-4
    grad = np.zeros_like(x)
    for i in range(x.size):
        keep = x[i]
        x[i] = keep + h
        a = f(x)
        x[i] = keep - h
        b = f(x)
        grad[i] = (a - b) / (2 * h)
        x[i] = keep
    return grad
'''


def test_a_call_that_raises_costs_what_a_wrong_value_costs(tmp_path_factory):
    raises = ONE_D_ONLY.format(two_d="raise ValueError('1-D only, sorry')")
    wrong = ONE_D_ONLY.format(two_d="return x * 3.0")
    by_raising = _exercise(grade_source(tmp_path_factory, raises, "numerical_gradient"), "numerical_gradient")
    by_value = _exercise(grade_source(tmp_path_factory, wrong, "numerical_gradient"), "numerical_gradient")
    # Right on the 1-D cases only, either way: the same checks counted, the same score.
    assert 0 < by_raising.score == by_value.score < 15
    assert len(_counted(by_raising)) == len(_counted(by_value)) == 10
    lost = [c for c in by_raising.checks if "input left unchanged" in c.name and not c.passed]
    assert lost and all(c.outcome == "error" and not c.skipped for c in lost)


def _net_variants() -> dict[str, str]:
    source = (CREDIT / "layer_net_gradient_raises.py").read_text(encoding="utf-8")
    wrong = ("    def gradient(self, x, t):\n"
             "        return {k: np.zeros_like(v) for k, v in self.params.items()}\n")
    return {"raises": source, "absent": GRADIENT.sub("", source), "wrong": GRADIENT.sub(wrong, source)}


def test_a_broken_backprop_scores_like_a_missing_one(tmp_path_factory):
    scores, counted = {}, {}
    for name, source in _net_variants().items():
        exercise = _exercise(grade_source(tmp_path_factory, source, "two_layer_net"), "two_layer_net")
        scores[name], counted[name] = exercise.score, sum(c.weight for c in _counted(exercise))
        training = next(c for c in exercise.checks if "gradient descent" in c.name)
        assert training.passed, (name, training.message)  # trained with numerical_gradient in every case
    assert scores["raises"] == scores["absent"] == scores["wrong"] == 25.0, scores
    assert counted["raises"] == counted["absent"] == counted["wrong"], counted


def test_a_raising_backprop_is_still_shown_to_the_student(tmp_path_factory):
    exercise = _exercise(grade_source(tmp_path_factory, _net_variants()["raises"], "two_layer_net"), "two_layer_net")
    backprop = next(c for c in exercise.checks if "backprop" in c.name)
    assert not backprop.passed and backprop.outcome == "error" and backprop.weight == 0


def test_a_loss_that_falls_by_itself_does_not_pass_training(tmp_path_factory):
    liar = (CREDIT / "lying_loss.py").read_text(encoding="utf-8")
    twin = ATTACK.sub("", liar)
    assert twin != liar
    lying = _exercise(grade_source(tmp_path_factory, liar, "two_layer_net"), "two_layer_net")
    honest = _exercise(grade_source(tmp_path_factory, twin, "two_layer_net"), "two_layer_net")
    training = next(c for c in lying.checks if "gradient descent" in c.name)
    assert not training.passed and "the grader's" in training.message
    assert lying.score <= honest.score


def test_training_is_judged_by_the_reference_loss_on_the_parameters_reached(tmp_path_factory):
    source = (ROOT / "tests" / "fixtures" / "submissions" / "correct.py").read_text(encoding="utf-8")
    exercise = _exercise(grade_source(tmp_path_factory, source, "two_layer_net"), "two_layer_net")
    training = next(c for c in exercise.checks if "gradient descent" in c.name)
    before, after = training.actual
    # The book's start (weights of std 0.01, zero biases) on 3 classes: the loss starts at about log(3).
    assert training.passed and abs(before - np.log(3)) < 0.01 and after < 0.9 * before
