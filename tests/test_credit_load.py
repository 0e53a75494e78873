"""Definitions made indirectly (exec of a helper file from inside a function) are found, and
loading stays linear: only the names that are new since the statement began are looked at."""
from __future__ import annotations

from conftest import ROOT, grade_path

from grader.worker.loading import TAIL_SLACK, _namespace_mark, _new_names

CREDIT = ROOT / "tests" / "fixtures" / "credit"


def test_helpers_run_by_exec_inside_a_function_are_graded():
    report = grade_path(CREDIT / "exec_helpers" / "chapter4.py",
                        only=("sum_squares_error", "cross_entropy_error", "numerical_diff"))
    by_id = {e.id: e for e in report.exercises}
    assert by_id["sum_squares_error"].status == "passed", by_id["sum_squares_error"].message
    assert by_id["cross_entropy_error"].status == "passed", by_id["cross_entropy_error"].message
    assert by_id["numerical_diff"].status == "passed"
    # Placed at the statement that made them: the call of load_helpers.
    assert "line 11" in by_id["sum_squares_error"].graded_name


def test_new_names_are_the_tail_after_the_marks_newest_name():
    namespace = {f"a{i}": i for i in range(1000)}
    mark = _namespace_mark(namespace)
    namespace["a5"] = "rebound"  # an existing name keeps its place: not new
    namespace.update(f=1, g=2)
    assert _new_names(namespace, mark) == ["g", "f"]
    assert _new_names(namespace, _namespace_mark(namespace)) == []


def test_a_deleted_newest_name_costs_a_bounded_walk_not_the_namespace():
    namespace = {f"a{i}": i for i in range(1000)}
    mark = _namespace_mark(namespace)
    del namespace["a999"]
    namespace["h"] = 1
    found = _new_names(namespace, mark)
    assert found[0] == "h" and len(found) == TAIL_SLACK  # growth 0 + slack, never all 1,000


def test_keys_that_are_not_names_are_skipped_without_being_compared():
    class Hostile:
        def __eq__(self, other):
            raise RuntimeError("compared")

        __hash__ = object.__hash__

    namespace = {"a": 1}
    mark = _namespace_mark(namespace)
    namespace[Hostile()] = 2
    namespace["b"] = 3
    assert _new_names(namespace, mark) == ["b"]
