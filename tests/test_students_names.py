"""Functions that exist under another name, files that do not parse, files not in UTF-8.

Fixtures under tests/fixtures/students/, written the way learners write; each test pins
the teacher's verdict and what the report says about how the code was found.
"""
from __future__ import annotations

import pytest

from conftest import ROOT, grade_path, statuses

STUDENTS = ROOT / "tests" / "fixtures" / "students"


def _exercise(report, exercise_id):
    return next(e for e in report.exercises if e.id == exercise_id)


@pytest.fixture(scope="module")
def renamed():
    return grade_path(STUDENTS / "renamed_api.py")


def test_renamed_functions_are_graded_and_the_report_says_which_name_was_taken(renamed):
    assert statuses(renamed) == {"sum_squares_error": "passed", "cross_entropy_error": "passed",
                                 "numerical_diff": "missing", "numerical_gradient": "passed",
                                 "gradient_descent": "passed", "simple_net": "passed", "two_layer_net": "passed"}
    sse = _exercise(renamed, "sum_squares_error")
    assert sse.graded_name == "get_mse (line 7)"
    assert "Graded `get_mse` as sum_squares_error" in sse.message


def test_a_signature_with_other_names_and_no_defaults_is_called_positionally(renamed):
    descent = _exercise(renamed, "gradient_descent")
    assert descent.graded_name.startswith("gradient_descend (")
    assert all(c.passed for c in descent.checks)


def test_a_working_near_name_beats_a_broken_leftover_with_an_accepted_name(renamed):
    gradient = _exercise(renamed, "numerical_gradient")
    assert gradient.graded_name.startswith("numeric_gradient (")
    assert "`numeric_gradient` earns more than `numerical_gradient_2d`" in gradient.message


def test_a_near_name_that_fails_the_probe_is_not_graded_and_is_listed(renamed):
    diff = _exercise(renamed, "numerical_diff")
    assert diff.status == "missing"
    assert "`numerical_diff_v2`: it does not reproduce the book's example" in diff.message


def test_class_methods_under_learners_names_are_found_and_named(renamed):
    simple = _exercise(renamed, "simple_net")
    assert simple.status == "passed"
    predict = next(c for c in simple.checks if c.name.startswith("predict"))
    assert "net.forward(" in predict.call and "`forward` for predict" in predict.message
    net = _exercise(renamed, "two_layer_net")
    assert net.graded_name.startswith("TwoLayerNN (") and "Graded `TwoLayerNN` as TwoLayerNet" in net.message


def test_an_unrelated_function_is_never_probed_into_credit(write_submission):
    # `crossesse` holds the letters of sse but not as a name part; `diff` computes something else.
    report = grade_path(write_submission("import numpy as np\n"
                                         "def crossesse(y, t):\n    return 0.5 * np.sum((y - t)**2)\n"
                                         "def diff(f, x):\n    return f(x) - f(0)\n"),
                        only=("sum_squares_error", "numerical_diff"))
    assert statuses(report) == {"sum_squares_error": "missing", "numerical_diff": "missing"}
    assert "`diff`: it does not reproduce" in report.exercises[1].message


def test_a_file_that_does_not_parse_fails_its_exercises_naming_file_and_line():
    report = grade_path(STUDENTS / "koubai", only=("sum_squares_error", "numerical_gradient"))
    assert statuses(report) == {"sum_squares_error": "passed", "numerical_gradient": "failed"}
    message = report.exercises[1].message
    assert "koubai.py, which does not parse: line 22, U+3000 ideographic space" in message
    assert "import" not in message


def test_a_notebook_cell_that_does_not_parse_fails_its_exercise(write_submission):
    import json
    cells = ["import numpy as np", "def numerical_diff(f, x):\n    h = 1e-4\n    return (f(x+h) - f(x-h)) / (2*h",
             "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t)**2)"]
    nb = {"cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i + 1, "outputs": [],
                     "source": s}
                    for i, s in enumerate(cells)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    report = grade_path(write_submission(json.dumps(nb), "broken_cell.ipynb"),
                        only=("sum_squares_error", "numerical_diff"))
    assert statuses(report) == {"sum_squares_error": "passed", "numerical_diff": "failed"}
    assert "`numerical_diff` is in In [2], which does not parse: line 3" in report.exercises[1].message


def test_a_cp949_file_without_a_coding_line_is_read_as_the_student_wrote_it():
    report = grade_path(STUDENTS / "cp949_losses.py", only=("sum_squares_error", "cross_entropy_error"))
    assert statuses(report) == {"sum_squares_error": "passed", "cross_entropy_error": "passed"}
    assert "# 평균 제곱 오차" in report.exercises[0].sources[0].code or "(y - t)" in report.exercises[0].sources[0].code


def test_a_students_cp949_helper_module_is_imported_and_graded_as_their_work():
    report = grade_path(STUDENTS / "cp949_helpers" / "chapter4.py", only=("sum_squares_error", "cross_entropy_error"))
    assert statuses(report) == {"sum_squares_error": "passed", "cross_entropy_error": "passed"}
    assert report.exercises[1].graded_name == "cross_entropy_error (common/functions.py, line 9)"


def test_of_two_candidate_classes_the_one_that_earns_more_is_graded_and_named():
    # The newest class (an abandoned lowercase `twolayernet`) would be graded first by name alone.
    report = grade_path(STUDENTS / "two_classes.py", only=("two_layer_net",))
    net = report.exercises[0]
    assert net.status == "passed" and net.graded_name.startswith("TwoLayerNet (line 6)")
    assert "Graded `TwoLayerNet (line 6)`: it earns more than `twolayernet (line 27)`." in net.message


def test_suffixed_and_misspelt_names_are_found_and_said_so(write_submission):
    source = ("import numpy as np\n"
              "# 3 versions while reading the book; the last one is right\n"
              "def numerical_diff_0(f, x):\n    h = 1e-4\n    return (f(x + h) - f(x - h)) / (2 * h)\n"
              "def cross_entrophy_error(y, t):\n"
              "    if y.ndim == 1:\n        t = t.reshape(1, t.size)\n        y = y.reshape(1, y.size)\n"
              "    if t.size == y.size:\n        t = t.argmax(axis=1)\n"
              "    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]\n")
    report = grade_path(write_submission(source), only=("cross_entropy_error", "numerical_diff"))
    assert statuses(report) == {"cross_entropy_error": "passed", "numerical_diff": "passed"}
    cee, diff = report.exercises
    assert "Graded `cross_entrophy_error` as cross_entropy_error (close to `cross_entropy_error`" in cee.message
    assert "Graded `numerical_diff_0` as numerical_diff (`numerical_diff` with a prefix or suffix" in diff.message


def test_a_name_the_student_never_imported_is_not_said_to_come_from_an_import(write_submission):
    source = "import numpy as np\nfrom common.functions import softmax\nprint(softmax(np.zeros(3)))\n"
    report = grade_path(write_submission(source), only=("cross_entropy_error",))
    assert report.exercises[0].status == "missing"
    assert "import" not in report.exercises[0].message and "Not found" in report.exercises[0].message


def test_the_books_parameter_names_in_another_order_are_passed_by_name():
    # gradient_descent(f, init_x, step_num=100, lr=0.01): the book's own demo call passes lr and
    # step_num by name, so this works for the student; a positional call would swap them.
    report = grade_path(STUDENTS / "keyword_order.py", only=("gradient_descent",))
    descent = report.exercises[0]
    assert descent.status == "passed"
    assert "lr=0.1, step_num=100" in descent.checks[0].call
