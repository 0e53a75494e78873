"""A one-line wrapper around a bundled book helper is an import, not the student's work (issue 12)."""
from __future__ import annotations

import ast

import pytest

from conftest import ROOT, grade_path
from grader.submission.definitions import _dotted, _wrapped_import

CREDIT = ROOT / "tests" / "fixtures" / "credit"


@pytest.fixture(scope="module")
def wrapped():
    report = grade_path(CREDIT / "wrappers.py", only=("sum_squares_error", "cross_entropy_error",
                                                      "numerical_gradient"))
    return {e.id: e for e in report.exercises}


def test_a_wrapper_around_the_books_cross_entropy_is_missing_and_says_it_comes_from_an_import(wrapped):
    exercise = wrapped["cross_entropy_error"]
    assert exercise.status == "missing" and exercise.score == 0
    assert "`common.functions.cross_entropy_error`" in exercise.message
    assert "comes from `common.functions` (an import)" in exercise.message and "(line 11)" in exercise.message


def test_a_lambda_around_an_imported_numerical_gradient_is_missing_too(wrapped):
    exercise = wrapped["numerical_gradient"]
    assert exercise.status == "missing" and "`_ng`, which comes from `common.gradient`" in exercise.message


def test_the_students_own_function_beside_the_wrappers_is_still_graded(wrapped):
    assert wrapped["sum_squares_error"].status == "passed"


def _wraps(source: str, imported: dict[str, str] | None = None, roots: dict[str, str] | None = None,
           own: set[tuple[str, str]] = frozenset()):
    node = ast.parse(source).body[0]
    node = node.value if isinstance(node, ast.Assign) else node
    return _wrapped_import(node, imported or {}, roots or {}, set(own))


@pytest.mark.parametrize("source", [
    "def cross_entropy_error(y, t):\n    return cee(y.reshape(1, -1), t)\n",  # it does something itself
    "def cross_entropy_error(y, t):\n    print(y)\n    return cee(y, t)\n",  # two statements
    "def cross_entropy_error(y, t):\n    return my_cee(y, t)\n",  # the student's own helper
    "def cross_entropy_error(y, t):\n    return -np.sum(t * np.log(y + 1e-7))\n",  # real work
    "cross_entropy_error = lambda y, t: cee(t, 2 * y)\n",
    "def numerical_gradient(f, x):\n    return np.zeros_like(x)\n",  # a stub, not the book's answer
])
def test_code_that_computes_something_or_calls_the_students_own_helper_is_not_a_wrapper(source):
    assert _wraps(source, imported={"cee": "common.functions"}, roots={"np": "numpy"}) is None


def test_a_wrapper_around_the_students_own_common_module_is_their_work():
    source = "def cross_entropy_error(y, t):\n    return common.functions.cross_entropy_error(y, t)\n"
    roots = {"common": "common"}
    assert _wraps(source, roots=roots) == ("common.functions.cross_entropy_error", "common.functions")
    assert _wraps(source, roots=roots, own={("cross_entropy_error", "common.functions")}) is None


def test_aliased_modules_and_keyword_arguments_are_followed():
    source = "def numerical_gradient(f, x):\n    '''doc'''\n    return g.numerical_gradient(f, x=x)\n"
    assert _wraps(source, roots={"g": "common.gradient"}) == ("g.numerical_gradient", "common.gradient")
    assert _dotted(ast.parse("a.b.c", mode="eval").body) == ["a", "b", "c"]
    assert _dotted(ast.parse("f(x).c", mode="eval").body) == []


def test_the_books_own_ch04_modules_count_as_book_helpers():
    source = "def numerical_gradient(f, x):\n    return ng(f, x)\n"
    assert _wraps(source, imported={"ng": "gradient_2d"}) == ("ng", "gradient_2d")
    assert _wraps(source, imported={"ng": "my_helpers"}) is None  # not a bundled book module


def test_the_books_helpers_dressed_up_earn_nothing_and_no_more_than_the_honest_twin():
    only = ("cross_entropy_error", "numerical_gradient", "numerical_diff", "two_layer_net")
    attack = {e.id: e for e in grade_path(CREDIT / "disguised_wrappers.py", only=only).exercises}
    twin = {e.id: e for e in grade_path(CREDIT / "disguised_wrappers_twin.py", only=only).exercises}
    for exercise_id in ("cross_entropy_error", "numerical_gradient", "numerical_diff"):
        assert attack[exercise_id].status == "missing" and attack[exercise_id].score == 0, exercise_id
        assert "the book's own" in attack[exercise_id].message, exercise_id
    assert "`_ng` from `common.gradient`" in attack["numerical_gradient"].message
    assert sum(e.score for e in attack.values()) <= sum(e.score for e in twin.values())
    # The net takes numerical_gradient from common.gradient, as the book's own does: its work.
    assert attack["two_layer_net"].status != "missing" and attack["two_layer_net"].score > 0


def test_a_table_of_the_books_answers_with_zeros_elsewhere_is_hard_coded_and_earns_nothing():
    only = ("numerical_diff", "numerical_gradient")
    attack = {e.id: e for e in grade_path(CREDIT / "book_table.py", only=only).exercises}
    twin = {e.id: e for e in grade_path(CREDIT / "book_table_twin.py", only=only).exercises}
    for exercise_id in only:
        assert attack[exercise_id].score == 0, exercise_id
        # The cause the code has: a lookup of the printed answers (not a step that vanishes).
        assert [d.id for d in attack[exercise_id].diagnoses] == ["hard-coded"], exercise_id
    assert sum(e.score for e in attack.values()) <= sum(e.score for e in twin.values())
