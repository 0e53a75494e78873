"""Diagnoses on learners' code: each names only a cause the code has.

One fixture per mistake under tests/fixtures/students/mistakes/, each pinned with the verdict
a teacher gives, the diagnosis that must appear and the ones that must not.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, SUBMISSIONS, grade_path

MISTAKES = ROOT / "tests" / "fixtures" / "students" / "mistakes"

# fixture -> (exercise, status, the diagnosis it must carry, diagnoses it must not carry)
CASES = {
    "book_gradient_2d.py": ("numerical_gradient", "partial", "gradient-row-wise", {"gradient-1d-only"}),
    "diff_precedence.py": ("numerical_diff", "failed", "diff-operator-precedence", {"forward-difference"}),
    "cee_wrong_sign.py": ("cross_entropy_error", "failed", "cee-wrong-sign", {"cee-missing-delta"}),
    "cee_onehot_indexed.py": ("cross_entropy_error", "partial", "cee-onehot-indexed-as-labels",
                              {"single-sample-not-reshaped"}),
    "descent_assigns.py": ("gradient_descent", "partial", "descent-assigns-step", {"hard-coded", "gradient-ascent"}),
    "net_gradient_copy.py": ("two_layer_net", "partial", "net-gradient-never-reaches-loss", {"hard-coded"}),
    "net_params_not_restored.py": ("two_layer_net", "partial", "net-params-not-restored", {"input-not-restored"}),
    "loss_w_typo.py": ("two_layer_net", "partial", "undefined-name", set()),
    "undefined_names.py": ("cross_entropy_error", "partial", "misspelt-attribute", {"single-sample-not-reshaped"}),
}


@pytest.fixture(scope="module")
def reports():
    return {name: grade_path(MISTAKES / name, only=(CASES[name][0],)) for name in CASES}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_learners_mistake_gets_the_teachers_verdict_and_diagnosis(reports, name):
    exercise, status, diagnosis, never = CASES[name]
    result = reports[name].exercises[0]
    ids = [d.id for d in result.diagnoses]
    assert result.status == status, (result.status, ids)
    assert diagnosis in ids
    assert not set(ids) & never


def test_the_books_row_wise_gradient_is_not_called_one_dimensional_only(reports):
    gradient = reports["book_gradient_2d.py"].exercises[0]
    assert [d.id for d in gradient.diagnoses] == ["gradient-row-wise"]
    assert "each row as a separate point" in gradient.diagnoses[0].message
    # 1-D inputs are right: only the 2-D cases fail.
    failed = [c for c in gradient.checks if not c.passed and not c.skipped]
    assert failed and all("(2, 3)" in c.name for c in failed)


def test_an_undefined_name_points_to_the_module_that_has_it_or_the_close_name():
    report = grade_path(MISTAKES / "undefined_names.py", only=("two_layer_net",))
    message = next(d.message for d in report.exercises[0].diagnoses if d.id == "undefined-name")
    assert "`Affine`" in message and "from common.layers import Affine" in message
    assert "common.functions" not in message


def test_a_typo_of_a_local_name_is_called_a_typo(reports):
    message = next(d.message for d in reports["loss_w_typo.py"].exercises[0].diagnoses if d.id == "undefined-name")
    assert "did you mean `loss_W`" in message and "common." not in message


def test_a_misspelt_array_method_is_not_called_a_missing_reshape(reports):
    cee = reports["undefined_names.py"].exercises[0]
    message = next(d.message for d in cee.diagnoses if d.id == "misspelt-attribute")
    assert "`reshpae`" in message and "`reshape`" in message


def test_the_other_operator_precedence_slip_is_diagnosed_too(write_submission):
    source = "def numerical_diff(f, x):\n    h = 1e-4\n    return (f(x+h) - f(x-h)) / 2*h\n"
    report = grade_path(write_submission(source), only=("numerical_diff",))
    assert [d.id for d in report.exercises[0].diagnoses] == ["diff-operator-precedence"]


def test_a_hard_coded_exercise_earns_nothing():
    report = grade_path(SUBMISSIONS / "hard_coded.py", only=("cross_entropy_error", "numerical_gradient"))
    for result in report.exercises:
        assert "hard-coded" in [d.id for d in result.diagnoses]
        assert result.score == 0.0 and result.status == "failed"
