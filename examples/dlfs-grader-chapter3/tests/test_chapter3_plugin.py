"""The chapter-3 example plugin, used the way dlfs-grader uses any plugin.

These tests do not need the package to be pip-installed: the example's root folder
goes on sys.path and the plugin module is registered by name, as
``grade --plugin dlfs_grader_chapter3.plugin`` would. Installed plugins (entry
points) are left out, so the result does not depend on what else is installed.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from grader.plugins import make_manager  # noqa: E402
from grader.session import grade  # noqa: E402
from grader.specs.loading import load_exercises  # noqa: E402
from grader.checking.spec_check import check_folder  # noqa: E402
from grader.worker.client import WorkerClient  # noqa: E402

from dlfs_grader_chapter3 import plugin, reference  # noqa: E402

BUILTIN_IDS = ("sum_squares_error", "cross_entropy_error", "numerical_diff", "numerical_gradient",
               "gradient_descent", "simple_net", "two_layer_net")
CHAPTER3_IDS = ("step_function", "sigmoid", "softmax")
PLUGIN_NAME = "--plugin dlfs_grader_chapter3.plugin"

CORRECT = '''
import numpy as np

def step_function(x):
    return np.array(x > 0, dtype=int)

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def softmax(a):
    c = np.max(a, axis=-1, keepdims=True)
    exp_a = np.exp(a - c)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
'''

# Book 3.5.1 before the overflow countermeasure of 3.5.2.
NO_MAX_SUBTRACTION = '''
import numpy as np

def softmax(a):
    exp_a = np.exp(a)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
'''

# Book 3.5.2's softmax, written for one sample: on a batch it normalises everything at once.
WHOLE_BATCH = '''
import numpy as np

def softmax(a):
    c = np.max(a)
    exp_a = np.exp(a - c)
    sum_exp_a = np.sum(exp_a)
    y = exp_a / sum_exp_a
    return y
'''

NO_KEEPDIMS = '''
import numpy as np

def softmax(a):
    c = np.max(a, axis=-1, keepdims=True)
    exp_a = np.exp(a - c)
    return exp_a / np.sum(exp_a, axis=-1)
'''

IN_PLACE = '''
import numpy as np

def softmax(a):
    a -= np.max(a, axis=-1, keepdims=True)
    exp_a = np.exp(a)
    return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
'''

SCALAR_ONLY = '''
import math
import numpy as np

def step_function(x):
    if x > 0:
        return 1
    else:
        return 0

def sigmoid(x):
    return 1 / (1 + math.exp(-x))
'''

TYPOS = '''
import numpy as np

def step_function(x):
    return x > 0

def sigmoid(x):
    return 1 / 1 + np.exp(-x)
'''


@pytest.fixture(scope="module")
def pm():
    return make_manager(extra=["dlfs_grader_chapter3.plugin"], entry_points=False)


def grade_source(pm, tmp_path: Path, source: str, only=CHAPTER3_IDS):
    path = tmp_path / "submission.py"
    path.write_text(source, encoding="utf-8")
    with WorkerClient() as worker:
        report = grade(path, pm, worker, only=only)
    return {e.id: e for e in report.exercises}, report


def check(result, name_start: str):
    matches = [c for c in result.checks if c.name.startswith(name_start)]
    assert matches, f"no check named {name_start!r} in {[c.name for c in result.checks]}"
    return matches


def diagnosis_ids(result) -> list[str]:
    return [d.id for d in result.diagnoses]


# ---- the plugin as data -------------------------------------------------------------------

def test_the_specs_pass_check_exercises(pm):
    reports = check_folder(plugin.EXERCISES, pm)
    assert [Path(r.path).name for r in reports] == ["00_step_function.toml", "01_sigmoid.toml", "02_softmax.toml"]
    assert all(r.problems == () for r in reports), [r.problems for r in reports]
    assert all(r.cases >= 4 for r in reports)


def test_the_new_exercises_sit_beside_the_builtin_seven(pm):
    exercises = {e.id: e for e in load_exercises(pm)}
    assert set(BUILTIN_IDS) <= set(exercises)
    assert set(CHAPTER3_IDS) <= set(exercises)
    # No id clashes: each exercise still comes from where it was registered.
    for exercise_id in CHAPTER3_IDS:
        assert exercises[exercise_id].plugin == PLUGIN_NAME
        assert exercises[exercise_id].source.startswith(str(plugin.EXERCISES))
    for exercise_id in BUILTIN_IDS:
        assert exercises[exercise_id].plugin == "grader.specs.builtin_exercises"


def test_generators_are_seeded_and_prefixed():
    names = plugin.grader_generators()
    assert names and all(name.startswith("ch3_") for name in names)
    first = plugin.ch3_logits(np.random.default_rng(7), batch=3, classes=4, offset=1000.0)[0]
    again = plugin.ch3_logits(np.random.default_rng(7), batch=3, classes=4, offset=1000.0)[0]
    assert first.shape == (3, 4) and np.array_equal(first, again) and first.min() > 900
    (x,) = plugin.ch3_points(np.random.default_rng(7), shape=[8], zeros=2)
    assert x.shape == (8,) and np.count_nonzero(x == 0) >= 2


def test_the_reference_reproduces_the_book():
    assert np.allclose(reference.sigmoid(np.array([-1.0, 1.0, 2.0])), [0.26894142, 0.73105858, 0.88079708])
    assert np.allclose(reference.softmax(np.array([0.3, 2.9, 4.0])), [0.01821127, 0.24519181, 0.73659691])
    with np.errstate(over="raise"):  # overflow-safe: np.exp never sees 1010
        y = reference.softmax(np.array([1010.0, 1000.0, 990.0]))
    assert np.allclose(y, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-7, atol=1e-12)
    batch = reference.softmax(np.array([[0.3, 2.9, 4.0], [1010.0, 1000.0, 990.0]]))
    assert np.allclose(batch.sum(axis=1), 1.0) and np.allclose(batch[0], reference.softmax(np.array([0.3, 2.9, 4.0])))
    assert reference.step_function(np.array([-1.0, 0.0, 2.0])).tolist() == [0, 0, 1]


def test_diagnosis_ids_are_unique_and_do_not_shadow_builtin_ones():
    from grader.diagnoses.chapter4 import RULES as BUILTIN

    ids = [rule.id for rule in plugin.RULES]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {rule.id for rule in BUILTIN}
    assert all(set(rule.exercises) <= set(CHAPTER3_IDS) for rule in plugin.RULES)


def test_the_package_declares_its_entry_point_and_ships_its_specs():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "dlfs-grader-chapter3"
    assert "dlfs-grader" in project["project"]["dependencies"]
    assert project["project"]["entry-points"]["grader"] == {"chapter3": "dlfs_grader_chapter3.plugin"}
    assert project["tool"]["setuptools"]["package-data"]["dlfs_grader_chapter3"] == [
        "exercises/*.toml", "assignments/*.toml", "locale/*.po", "locale/*.pot"]


# ---- grading submissions -------------------------------------------------------------------

def test_a_correct_submission_passes_every_chapter3_exercise(pm, tmp_path):
    results, report = grade_source(pm, tmp_path, CORRECT)
    assert {i: r.status for i, r in results.items()} == {i: "passed" for i in CHAPTER3_IDS}
    assert report.score == report.max_score == 20
    assert all(not r.diagnoses for r in results.values())
    # The hidden case ran and passed; the JSON keeps its inputs and expected values.
    hidden = [c for c in results["softmax"].checks if c.hidden]
    assert len(hidden) == 1 and hidden[0].passed
    assert hidden[0].expected is not None and hidden[0].call.startswith("softmax(")


def test_softmax_without_max_subtraction_fails_the_overflow_case(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, NO_MAX_SUBTRACTION, only=("softmax",))
    softmax = results["softmax"]
    assert softmax.status == "partial"
    assert diagnosis_ids(softmax) == ["softmax-no-max-subtraction"]
    (overflow,) = check(softmax, "book: softmax(np.array([1010, 1000, 990]))")
    assert not overflow.passed and "nan" in overflow.message
    assert overflow.weight == 2
    assert check(softmax, "book: softmax(np.array([0.3, 2.9, 4.0]))")[0].passed
    assert not check(softmax, "a batch of scores around 1000")[0].passed  # the hidden case overflows too
    # Partial credit: points x passed weight / total weight.
    counted = [c for c in softmax.checks if not c.skipped]
    earned = sum(c.weight for c in counted if c.passed) / sum(c.weight for c in counted)
    assert softmax.score == round(10 * earned, 2)


def test_softmax_normalising_the_whole_batch_fails_the_batch_cases(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, WHOLE_BATCH, only=("softmax",))
    softmax = results["softmax"]
    assert softmax.status == "partial"
    assert "softmax-batch-as-whole" in diagnosis_ids(softmax)
    assert all(not c.passed for c in check(softmax, "a batch of 4 samples with 5 classes"))
    # One sample at a time it is right, the overflow example included.
    assert all(c.passed for c in check(softmax, "book:"))
    assert all(c.passed for c in check(softmax, "random scores of one sample"))


def test_softmax_without_keepdims_is_named(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, NO_KEEPDIMS, only=("softmax",))
    softmax = results["softmax"]
    assert "softmax-missing-keepdims" in diagnosis_ids(softmax)
    # A (4, 5) batch raises; a square one silently gives the wrong numbers.
    assert all(c.outcome == "error" for c in check(softmax, "a batch of 4 samples with 5 classes"))
    (square,) = check(softmax, "a square batch")
    assert square.outcome == "wrong"


def test_softmax_that_changes_its_input_fails_the_unchanged_check(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, IN_PLACE, only=("softmax",))
    softmax = results["softmax"]
    assert diagnosis_ids(softmax) == ["softmax-changes-input"]
    failed = [c for c in softmax.checks if not c.passed]
    assert [c.name for c in failed] == ["one sample: the scores passed in are left as they were (seed 3503): "
                                        "input left unchanged"]


def test_scalar_only_code_is_named(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, SCALAR_ONLY, only=("step_function", "sigmoid"))
    assert diagnosis_ids(results["step_function"]) == ["step-function-scalar-only"]
    assert diagnosis_ids(results["sigmoid"]) == ["math-exp-on-array"]
    assert check(results["sigmoid"], "a single number")[0].passed


def test_bool_step_function_and_sigmoid_precedence_are_named(pm, tmp_path):
    results, _report = grade_source(pm, tmp_path, TYPOS, only=("step_function", "sigmoid"))
    assert results["step_function"].status == "failed"
    assert diagnosis_ids(results["step_function"]) == ["step-function-returns-bool"]
    assert diagnosis_ids(results["sigmoid"]) == ["sigmoid-operator-precedence"]


def test_plugin_messages_come_from_its_own_catalog_and_reused_ones_from_the_graders(pm, tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(NO_MAX_SUBTRACTION.replace("axis=-1, keepdims=True", ""), encoding="utf-8")
    with WorkerClient() as worker:
        report = grade(path, pm, worker, only=("softmax",), lang="ko")
    found = {d.id: d.message for d in report.exercises[0].diagnoses}
    # The plugin's own locale/ko.po (grader_catalogs hook); it was English only before it had one.
    assert found["softmax-no-max-subtraction"].startswith("입력 값이 1000 정도로 크면")
    assert "배치" in found["softmax-batch-as-whole"]  # the built-in rule's text, already in ko.po
