"""End-to-end grading of whole submissions: the verdict a careful teacher would give."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import EXERCISE_IDS, ROOT, SUBMISSIONS, grade_path, statuses


@pytest.mark.parametrize("name", ["correct.py", "template_filled.py"])
def test_a_correct_submission_gets_full_marks(name):
    report = grade_path(SUBMISSIONS / name)
    assert statuses(report) == {i: "passed" for i in EXERCISE_IDS}
    assert report.score == report.max_score == 100


def _reference_as_submission() -> str:
    """The answer key's own modules pasted into one student-style file (no package imports)."""
    parts = ["import numpy as np\nfrom typing import Callable\n"]
    for module in ("functions", "gradients", "nets"):
        source = (ROOT / "reference" / f"{module}.py").read_text(encoding="utf-8")
        lines = [l for l in source.splitlines() if not l.startswith(("from .", "from __future__"))]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def test_the_reference_wrapped_as_a_submission_gets_full_marks(write_submission):
    report = grade_path(write_submission(_reference_as_submission(), "reference_as_submission.py"))
    assert statuses(report) == {i: "passed" for i in EXERCISE_IDS}


def test_the_empty_student_template_is_missing_everywhere():
    report = grade_path(ROOT / "student_template" / "chapter4.py")
    assert statuses(report) == {i: "missing" for i in EXERCISE_IDS}
    assert report.score == 0
    assert all("TODO stub" in e.message for e in report.exercises)


# Each one-mistake submission and the exercises it must fail. Where a mistake also
# breaks another exercise it is because the student's own class calls the broken
# function (TwoLayerNet.numerical_gradient calls numerical_gradient; TwoLayerNet.loss
# calls cross_entropy_error on a batch): the report then points at the root cause.
MISTAKES = {
    "sse_missing_half": {"sum_squares_error"},
    "cee_missing_delta": {"cross_entropy_error"},
    "cee_batch_not_averaged": {"cross_entropy_error", "two_layer_net"},
    "forward_difference": {"numerical_diff"},
    "step_too_small": {"numerical_diff"},
    "gradient_1d_only": {"numerical_gradient", "two_layer_net"},
    "input_not_restored": {"numerical_gradient", "gradient_descent", "two_layer_net"},
    "gradient_ascent": {"gradient_descent"},
    "softmax_whole_batch": {"two_layer_net"},
    "softmax_overflow": {"simple_net"},
    "sigmoid_output": {"two_layer_net"},
    "accuracy_onehot_labels": {"two_layer_net"},
    "init_scale_ignored": {"two_layer_net"},
    "backprop_batch_not_averaged": {"two_layer_net"},
}

# For mistakes inside TwoLayerNet or simpleNet: the check that must catch it.
FAILING_CHECK = {
    "softmax_whole_batch": "predict on a batch",
    "softmax_overflow": "logits around 1000",
    "sigmoid_output": "predict on a batch",
    "accuracy_onehot_labels": "accuracy",
    "init_scale_ignored": "weight_init_std = 0.1",
    "backprop_batch_not_averaged": "backprop",
    "gradient_1d_only": "numerical_gradient on a 5-4-3 net",
    "input_not_restored": "params left unchanged",
    "cee_batch_not_averaged": "loss on a batch",
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_fails_exactly_the_exercises_it_should(mistake):
    report = grade_path(SUBMISSIONS / f"mistake_{mistake}.py")
    failing = {i for i, s in statuses(report).items() if s != "passed"}
    assert failing == MISTAKES[mistake]
    if mistake in FAILING_CHECK:
        failed_checks = [c.name for e in report.exercises for c in e.checks if not c.passed and not c.skipped]
        assert any(FAILING_CHECK[mistake] in name for name in failed_checks), failed_checks


def test_a_failing_check_says_what_was_called_expected_got_and_a_hint():
    report = grade_path(SUBMISSIONS / "mistake_forward_difference.py", only=("numerical_diff",))
    check = next(c for c in report.exercises[0].checks if "x^3" in c.name)
    assert not check.passed
    assert check.call == "numerical_diff(lambda x: x**3, 1.0)"
    assert "returned 3.0003" in check.message and "expected 3.0000000" in check.message
    # The hint gives way to the named mistake, which says more.
    assert check.hint == ""
    assert [d.id for d in report.exercises[0].diagnoses] == ["forward-difference"]
    assert check.expected == pytest.approx(3.00000001, rel=1e-9)
    assert check.actual == pytest.approx(3.00030001, rel=1e-6)


def test_a_hard_coded_submission_passes_no_exercise():
    report = grade_path(SUBMISSIONS / "hard_coded.py")
    assert all(s != "passed" for s in statuses(report).values())
    sse = next(e for e in report.exercises if e.id == "sum_squares_error")
    book = [c for c in sse.checks if c.name.startswith("book")]
    random = [c for c in sse.checks if "seed" in c.name]
    assert book and all(c.passed for c in book)  # it does reproduce the printed values...
    assert random and not any(c.passed for c in random)  # ...and nothing else


def test_each_case_is_credited_to_the_function_that_handles_it():
    """cross_entropy_error handles one-hot labels, CEE2 integer labels: together full marks."""
    report = grade_path(SUBMISSIONS / "correct.py", only=("cross_entropy_error",))
    cee = report.exercises[0]
    assert cee.status == "passed"
    assert cee.graded_name == "cross_entropy_error (line 39), CEE2 (line 50)"
    by_name = {c.name: c.graded_by for c in cee.checks}
    assert all(v.startswith("CEE2") for k, v in by_name.items() if "integer labels" in k)
    assert all(v.startswith("cross_entropy_error") for k, v in by_name.items() if "one-hot" in k)


def test_a_label_only_cross_entropy_earns_only_the_label_cases(write_submission):
    source = ("import numpy as np\n"
              "def CEE2(y, t):\n"
              "    if y.ndim == 1:\n        t = t.reshape(1, t.size); y = y.reshape(1, y.size)\n"
              "    n = y.shape[0]\n    return -np.sum(np.log(y[np.arange(n), t] + 1e-7)) / n\n")
    report = grade_path(write_submission(source), only=("cross_entropy_error",))
    cee = report.exercises[0]
    assert cee.status == "partial"
    passed = {c.name for c in cee.checks if c.passed}
    assert passed and all("integer labels" in name for name in passed)


def test_a_name_that_only_arrives_by_import_is_missing_not_passed(write_submission):
    source = "import numpy as np\nfrom numpy import gradient as numerical_gradient\n"
    report = grade_path(write_submission(source), only=("numerical_gradient",))
    result = report.exercises[0]
    assert result.status == "missing" and result.score == 0
    assert "import" in result.message and "numpy" in result.message


def test_a_function_that_fails_because_its_dependency_fails_says_so():
    report = grade_path(SUBMISSIONS / "mistake_input_not_restored.py",
                        only=("numerical_gradient", "gradient_descent"))
    descent = next(e for e in report.exercises if e.id == "gradient_descent")
    assert [d.id for d in descent.diagnoses] == ["depends-on-failing"]
    assert "numerical_gradient" in descent.diagnoses[0].message


def test_an_infinite_loop_in_one_function_leaves_the_others_graded():
    report = grade_path(SUBMISSIONS / "hostile_infinite_loop.py", call_seconds=1.0)
    result = statuses(report)
    assert result.pop("numerical_diff") == "timeout"
    assert set(result.values()) == {"passed"}
    loop = next(e for e in report.exercises if e.id == "numerical_diff")
    assert "did not finish" in loop.checks[0].message


def test_sys_exit_at_import_costs_only_that_statement():
    report = grade_path(SUBMISSIONS / "hostile_sys_exit.py")
    assert set(statuses(report).values()) == {"passed"}
    assert any(s.message.startswith("SystemExit") for s in report.statements)


def test_os_exit_inside_a_call_costs_only_what_calls_it():
    report = grade_path(SUBMISSIONS / "hostile_os_exit.py")
    result = statuses(report)
    assert result["numerical_gradient"] == "error"
    assert "ended the grading process" in report.exercises[3].checks[0].message
    # gradient_descent and TwoLayerNet.numerical_gradient call it too; everything else passes.
    assert {k for k, v in result.items() if v != "passed"} == {"numerical_gradient", "gradient_descent",
                                                               "two_layer_net"}


def test_a_submission_that_attacks_the_grader_gains_nothing(tmp_path):
    outside = Path("/tmp/dlfs_pwned")
    outside.unlink(missing_ok=True)
    report = grade_path(SUBMISSIONS / "hostile_misc.py")
    result = statuses(report)
    assert result["sum_squares_error"] == "passed"
    # An object whose __eq__ always says True is not a number, whatever it claims.
    assert result["cross_entropy_error"] != "passed"
    cee = next(e for e in report.exercises if e.id == "cross_entropy_error")
    assert any("AlwaysEqual" in c.message for c in cee.checks if not c.passed)
    assert not outside.exists()


def test_failed_top_level_statements_are_listed_with_their_line():
    report = grade_path(SUBMISSIONS / "correct.py")
    errors = [s for s in report.statements if s.status == "error"]
    assert len(errors) == 1
    # The book's demo calls of numerical_gradient / gradient_descent are training code: not run,
    # and what uses their results is counted with them in one line, not as the student's error.
    assert {s.status for s in report.statements} == {"error", "skipped-training"}
    training = next(s for s in report.statements if s.status == "skipped-training")
    assert "(6 statements, with what uses their results)" in training.message
    line = int(errors[0].place.removeprefix("line "))
    source_line = (SUBMISSIONS / "correct.py").read_text(encoding="utf-8").splitlines()[line - 1]
    assert "x_train" in source_line and "NameError" in errors[0].message


def test_grading_is_deterministic():
    first = grade_path(SUBMISSIONS / "mistake_init_scale_ignored.py", only=("two_layer_net",)).to_dict()
    second = grade_path(SUBMISSIONS / "mistake_init_scale_ignored.py", only=("two_layer_net",)).to_dict()
    assert first == second


def test_a_missing_backprop_gradient_is_not_a_failure(write_submission):
    source = (SUBMISSIONS / "correct.py").read_text(encoding="utf-8")
    # Drop TwoLayerNet.gradient: chapter-5 material, absent is fine.
    cut = re.sub(r"\n    def gradient\(self, x, t\):.*?(?=\n\S|\Z)", "\n", source, flags=re.S)
    assert "def gradient(self" not in cut
    report = grade_path(write_submission(cut), only=("two_layer_net",))
    net = report.exercises[0]
    assert net.status == "passed"
    backprop = next(c for c in net.checks if "backprop" in c.name)
    assert backprop.skipped and "not graded" in backprop.message
