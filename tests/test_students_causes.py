"""Names, signatures and causes seen in real code: a label-only loss under a near name, a switch the
book does not have, the chapter-5 net handed in for chapter 4, the dependency really called, and
answers that were not computed (a constant, a table harvested from an earlier report)."""
from __future__ import annotations

import pytest

from conftest import ROOT, SUBMISSIONS, grade_path

MISTAKES = ROOT / "tests" / "fixtures" / "students" / "mistakes"
SECRET = "an instructor's secret for the harvested table"


def _exercise(report, exercise_id: str):
    return next(e for e in report.exercises if e.id == exercise_id)


def _ids(result) -> list[str]:
    return [d.id for d in result.diagnoses]


# ---- a label-only cross-entropy under a near name ---------------------------------------

def test_a_label_only_cross_entropy_under_a_near_name_is_found_by_the_label_form_of_the_book_example():
    result = grade_path(MISTAKES / "cee_labels_only_near_name.py", only=("cross_entropy_error",)).exercises[0]
    assert result.status == "partial" and result.graded_name.startswith("cross_entropy_error3")
    assert "given the label as a class number" in result.message
    passed = [c.name for c in result.checks if c.passed]
    assert passed and all("integer labels" in name for name in passed)
    assert result.score == round(15 * len(passed) / len(result.checks), 2)


def test_only_a_reference_that_gives_the_same_value_both_ways_gets_a_label_form_probe():
    from grader.specs.assignments import exercises_for
    from grader.submission.finding import _label_form, _probe_case
    from conftest import builtin_manager

    by_id = {e.id: e for e in exercises_for(builtin_manager(), None, ("cross_entropy_error", "sum_squares_error"))}
    labels = _label_form(by_id["cross_entropy_error"], _probe_case(by_id["cross_entropy_error"]))
    assert labels is not None and labels.args[0].shape == (1, 10) and labels.args[1].tolist() == [2]
    # 0.5 * sum((y - 2)**2) is not the book's example: no label form for the sum of squares error.
    assert _label_form(by_id["sum_squares_error"], _probe_case(by_id["sum_squares_error"])) is None


# ---- a switch the book does not have ---------------------------------------------------------

def test_a_switch_is_set_as_the_students_own_code_sets_it_for_integer_labels():
    result = grade_path(MISTAKES / "cee_one_hot_keyword.py", only=("cross_entropy_error",)).exercises[0]
    assert result.status == "passed" and result.score == 15
    labels = [c for c in result.checks if "integer labels" in c.name]
    assert len(labels) == 2 and all("one_hot_label=False" in c.call for c in labels)
    assert all("as your own code calls it" in c.message for c in labels)
    assert all("one_hot_label" not in c.call for c in result.checks if c not in labels)


SWITCH_NEVER_CALLED = '''import numpy as np
# 标签形式要把 one_hot 设成 False
def cross_entropy_error(y, t, one_hot=True):
    if y.ndim == 1:
        y, t = y.reshape(1, y.size), t.reshape(1, t.size)
    if one_hot:
        return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]
'''


def test_a_true_or_false_switch_the_code_never_sets_is_tried_with_its_other_value(write_submission):
    result = grade_path(write_submission(SWITCH_NEVER_CALLED), only=("cross_entropy_error",)).exercises[0]
    assert result.status == "passed"
    labels = [c for c in result.checks if "integer labels" in c.name]
    assert all("one_hot=False" in c.call and "the other value of that parameter" in c.message for c in labels)


ONE_HOT_ONLY = '''import numpy as np
def cross_entropy_error(y, t{extra}):
{switch}    if y.ndim == 1:
        y, t = y.reshape(1, y.size), t.reshape(1, t.size)
    return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]
'''


@pytest.mark.parametrize("extra, switch, calls", [
    # The switch returns one integer-label case's answer whatever the input.
    (", labels=False", "    if labels:\n        return 3.604432482928512\n", ""),
    # A number in the student's own call could carry the answer: it is never tried.
    (", answer=None", "    if answer is not None:\n        return answer\n",
     "y = np.array([0.1, 0.9])\nprint(cross_entropy_error(y, y, answer=3.604432482928512))\n"),
])
def test_a_switch_earns_nothing_its_function_does_not_compute(write_submission, tmp_path, extra, switch, calls):
    honest = grade_path(write_submission(ONE_HOT_ONLY.format(extra="", switch=""), "honest.py"),
                        only=("cross_entropy_error",)).exercises[0]
    source = ONE_HOT_ONLY.format(extra=extra, switch=switch) + calls
    result = grade_path(write_submission(source, "switch.py"), only=("cross_entropy_error",)).exercises[0]
    assert result.score == honest.score < 15
    assert not any(c.passed for c in result.checks if "integer labels" in c.name)


# ---- the chapter-5 net handed in for chapter 4 -----------------------------------------------

def test_the_chapter5_relu_net_is_named_and_earns_what_its_own_consistency_earns():
    result = grade_path(MISTAKES / "relu_layer_net.py", only=("two_layer_net",)).exercises[0]
    assert "relu-net-for-chapter4" in _ids(result)
    # Not chapter 4's sigmoid net: its predictions, loss and accuracy are not credited.
    for name in ("predict on", "loss on", "accuracy on"):
        assert not next(c for c in result.checks if c.name.startswith(name)).passed, name
    # Its numerical gradient is the gradient of its own (ReLU) loss, its backprop agrees, training lowers that loss.
    numerical = next(c for c in result.checks if c.name == "numerical_gradient on a 5-4-3 net")
    backprop = next(c for c in result.checks if c.name.startswith("gradient (backprop"))
    training = next(c for c in result.checks if "gradient descent" in c.name)
    assert numerical.passed and "ReLU" in numerical.message
    assert backprop.passed and backprop.weight == 0
    assert training.passed and "ReLU" in training.message
    assert result.status == "partial" and result.score == round(25 * 6 / 9, 2)  # 11.11 before, with no word of why


# ---- the dependency that was really called ----------------------------------------------------

def test_a_dependency_note_names_the_definition_the_net_calls_not_the_first_of_its_exercise():
    report = grade_path(MISTAKES / "net_calls_its_cee.py", only=("cross_entropy_error", "two_layer_net"))
    net = _exercise(report, "two_layer_net")
    (note,) = [d for d in net.diagnoses if d.id == "depends-on-failing"]
    assert "your CEE (line 16)" in note.message and "cross_entropy_error (" not in note.message


def test_a_descent_on_a_broken_gradient_points_at_the_gradient_not_at_ascent():
    report = grade_path(MISTAKES / "gradient_not_indexed.py", only=("numerical_gradient", "gradient_descent"))
    descent = _exercise(report, "gradient_descent")
    assert _ids(descent) == ["depends-on-failing"]
    assert "numerical_gradient (line 4)" in descent.diagnoses[0].message


# ---- answers that were not computed -------------------------------------------------------------

def test_a_descent_that_returns_zeros_earns_nothing_for_the_case_zeros_happen_to_fit():
    result = grade_path(MISTAKES / "descent_zeros.py", only=("gradient_descent",)).exercises[0]
    assert result.score == 0 and result.status == "failed"
    book = next(c for c in result.checks if "lr = 0.1" in c.name and c.name.startswith("book"))
    assert not book.passed and "by chance" in book.message  # 2/10 before, and "descent-assigns-step"
    assert _ids(result) == ["constant-result"]
    assert "[0., 0.] for each of 5 different inputs" in result.diagnoses[0].message


def test_a_stub_that_returns_zero_is_not_said_to_have_a_tiny_step(write_submission):
    source = "def numerical_diff(f, x):\n    return 0\n"
    result = grade_path(write_submission(source), only=("numerical_diff",)).exercises[0]
    assert _ids(result) == ["constant-result"]


@pytest.fixture
def secret():
    from grader.specs.instructor_secret import use_secret
    use_secret(SECRET)
    yield SECRET
    use_secret(None)


HARVESTED = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient", "gradient_descent")


def test_a_harvested_table_passes_only_where_it_was_harvested():
    report = grade_path(SUBMISSIONS / "harvested_table.py", only=HARVESTED)
    assert all(e.status == "passed" for e in report.exercises)  # without the secret: the inputs it copied


def test_under_the_secret_a_harvested_table_is_hard_coded_and_earns_no_more_than_do_nothing_stubs(secret):
    attack = {e.id: e for e in grade_path(SUBMISSIONS / "harvested_table.py", only=HARVESTED).exercises}
    twin = {e.id: e for e in grade_path(SUBMISSIONS / "harvested_table_twin.py", only=HARVESTED).exercises}
    for exercise_id in HARVESTED:
        assert attack[exercise_id].score == 0 and attack[exercise_id].status == "failed", exercise_id
        assert "hard-coded" in _ids(attack[exercise_id]), exercise_id
        # It still gets every book example right: the secret only hides the random inputs.
        assert all(c.passed for c in attack[exercise_id].checks if c.name.startswith("book"))
    assert sum(e.score for e in attack.values()) <= sum(e.score for e in twin.values())
