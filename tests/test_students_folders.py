"""Real students' folders: their own helpers, one module per file, chapter-5 layer nets.

Each fixture under tests/fixtures/students/ is written the way learners write; each test
pins the verdict and the diagnosis a careful teacher gives it.
"""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT, grade_path, statuses

STUDENTS = ROOT / "tests" / "fixtures" / "students"


def _exercise(report, exercise_id):
    return next(e for e in report.exercises if e.id == exercise_id)


@pytest.fixture(scope="module")
def own_common_report():
    return grade_path(STUDENTS / "own_common" / "ch04", only=("sum_squares_error", "cross_entropy_error",
                                                              "two_layer_net"))


def test_a_students_own_common_folder_without_init_wins_over_the_books(own_common_report):
    # Their common/functions.py normalises softmax over the whole batch: their TwoLayerNet must
    # run it (and fail predict), not the book's correct softmax.
    net = _exercise(own_common_report, "two_layer_net")
    assert net.status == "partial"
    assert [d.id for d in net.diagnoses] == ["softmax-whole-batch"]
    failed = {c.name.split(" ")[0] for c in net.checks if not c.passed and not c.skipped}
    assert {"predict", "loss"} <= failed
    assert net.graded_name.startswith("TwoLayerNet (two_layer_net.py, line 9)")


def test_functions_in_the_students_own_helper_files_are_graded_as_their_work(own_common_report):
    cee = _exercise(own_common_report, "cross_entropy_error")
    # Their one-hot-only version: right on one-hot labels, wrong on integer labels.
    assert cee.status == "partial"
    assert cee.graded_name == "cross_entropy_error (../common/functions.py, line 18)"
    assert cee.sources and "np.log(y + 1e-7)" in cee.sources[0].code


def test_the_books_helpers_fill_in_a_missing_module_never_a_name_of_the_students_module(own_common_report):
    # common.gradient is not in their folder: it comes from the book's helpers, and grading ran.
    # sum_squares_error is not in their common/functions.py: Python's `from common.functions
    # import *` gives no such name, and neither does the grader (issue 19): not found.
    net = _exercise(own_common_report, "two_layer_net")
    # Training calls the bundled common.gradient.numerical_gradient through their net: it ran.
    assert any(c.passed for c in net.checks if c.name.startswith("20 steps of gradient descent"))
    sse = _exercise(own_common_report, "sum_squares_error")
    assert sse.status == "missing" and sse.message.startswith("Not found")


def test_top_level_names_of_one_file_do_not_leak_into_another():
    report = grade_path(STUDENTS / "leaky", only=("sum_squares_error", "cross_entropy_error"))
    assert statuses(report) == {"sum_squares_error": "passed", "cross_entropy_error": "error"}
    cee = _exercise(report, "cross_entropy_error")
    assert [d.id for d in cee.diagnoses] == ["undefined-name"] and "`delta`" in cee.diagnoses[0].message
    assert "losses.py, line 14" in cee.checks[0].message


def test_a_sibling_module_imported_before_its_own_turn_still_runs_first(tmp_path):
    # a_train.py sorts before z_net.py but imports it: z_net runs first, as a module.
    (tmp_path / "a_train.py").write_text("import numpy as np\nfrom z_net import sum_squares_error\n"
                                         "value = sum_squares_error(np.ones(3), np.zeros(3))\n")
    (tmp_path / "z_net.py").write_text("def sum_squares_error(y, t):\n    return 0.5 * ((y - t) ** 2).sum()\n"
                                       "import numpy as np\n")
    report = grade_path(tmp_path, only=("sum_squares_error",))
    assert statuses(report) == {"sum_squares_error": "passed"}
    assert report.exercises[0].graded_name == "sum_squares_error (z_net.py, line 1)"
    assert report.statements == ()


def test_a_chapter_5_layer_net_passes_every_check():
    # Affine/Sigmoid/Affine layers sharing the arrays in params, a SoftmaxWithLoss last layer
    # (predict returns scores) and an `activation` parameter before weight_init_std.
    report = grade_path(STUDENTS / "layer_net", only=("two_layer_net",))
    net = report.exercises[0]
    assert net.status == "passed", [c.message for c in net.checks if not c.passed]
    scale = next(c for c in net.checks if "0.1" in c.name and "weight_init_std" in c.name)
    assert "weight_init_std=0.1" in scale.call
    predict = next(c for c in net.checks if c.name.startswith("predict"))
    assert "SoftmaxWithLoss" in predict.call


def test_a_layer_net_whose_layers_do_not_share_params_fails_predict(tmp_path):
    # Its layers copy the arrays: setting params does not reach them, as in the student's own run.
    source = (STUDENTS / "layer_net" / "two_layer_net.py").read_text(encoding="utf-8")
    source = source.replace("Affine(self.params['W1'], self.params['b1'])",
                            "Affine(self.params['W1'].copy(), self.params['b1'].copy())")
    (tmp_path / "two_layer_net.py").write_text(source, encoding="utf-8")
    report = grade_path(tmp_path, only=("two_layer_net",))
    predict = next(c for c in report.exercises[0].checks if c.name.startswith("predict"))
    assert not predict.passed


def test_a_hostile_worker_reply_cannot_make_the_grader_read_files_outside_the_submission(tmp_path):
    from grader.loaders.base import CodeCell, Submission
    from grader.submission.helpers import with_helpers
    (tmp_path / "sub").mkdir()
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'never shown'\n")
    submission = Submission(tmp_path / "sub" / "a.py", (CodeCell("0", "x = 1\n", ""),))
    reported = {"modules": [{"cell": "path:1:../secret.py", "root": 1, "rel": "../secret.py"},
                            {"cell": "path:0:/etc/passwd", "root": 0, "rel": "/etc/passwd"},
                            {"cell": "path:-1:x.py", "root": -1, "rel": "x.py"}]}
    folder = tmp_path / "sub"
    assert with_helpers(submission, reported, [folder, folder, folder]).helpers == ()


def test_a_whole_book_layout_folder_gets_every_exercise_from_the_right_file():
    # ch04/ in the book's layout with the student's own common/ (no __init__.py) one level up:
    # sibling imports (gradient_method imports gradient_2d), plots, a __main__ block, a training
    # script. The row-wise gradient of gradient_2d.py is not the graded one: the n-D version in
    # their common/gradient.py is, and each file is named.
    report = grade_path(STUDENTS / "book_layout" / "ch04")
    assert all(e.status == "passed" for e in report.exercises), statuses(report)
    names = {e.id: e.graded_name for e in report.exercises}
    assert names["sum_squares_error"] == "mean_squared_error (../common/functions.py, line 15)"
    assert names["numerical_diff"] == "numerical_diff (gradient_1d.py, line 5)"
    assert names["numerical_gradient"] == "numerical_gradient (../common/gradient.py, line 4)"
    assert names["gradient_descent"] == "gradient_descent (gradient_method.py, line 6)"
    assert names["simple_net"] == "simpleNet (gradient_simplenet.py, line 8)"
    # Only the training of train_neuralnet.py and the descent demo: one line, nothing about plots.
    assert [s.status for s in report.statements] == ["skipped-training"]


def test_malformed_new_fields_of_a_worker_reply_are_dropped_not_a_traceback(tmp_path):
    from grader.submission.definitions import build_inventory
    from grader.loaders.base import CodeCell, Submission
    from grader.submission.unparsed import unparsed_cells
    submission = Submission(tmp_path / "a.py", (CodeCell("0", "def f(x):\n    return x\n", ""),))
    reported = {"written": [{"name": "f", "version": 0, "cell": "0", "line": 1, "kind": "function",
                             "params": ["one", None], "uses": [[1, "x"], "bad"], "param_names": "xyz"}],
                "imported": [], "modules": "nope", "broken": [{"cell": "0", "line": "two"}, 7]}
    definition = build_inventory(submission, reported).written[0]
    assert (definition.params, definition.uses, definition.param_names) == (None, (), ())
    assert unparsed_cells({"statements": [None, {"status": "syntax-error", "cell": "0", "line": None}],
                           "definitions": reported}, submission) == ()
