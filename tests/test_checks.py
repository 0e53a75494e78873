"""Tests pinning grader.checking.comparisons: compare() checks kind, shape and finiteness before values,
never trusting a bare np.allclose, and unchanged() counts what a call changed."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checking.comparisons import compare, unchanged
from grader.worker.wire import Handle, Opaque

RTOL, ATOL = 1e-7, 0.0


def test_empty_array_does_not_match_a_one_element_expectation():
    assert np.allclose(np.array([]), np.array([1.0]))  # the trap
    result = compare(np.array([1.0]), np.array([]), RTOL, ATOL)
    assert not result.ok
    assert "(0,)" in result.problem and "(1,)" in result.problem


def test_broadcastable_shapes_are_not_accepted_and_both_shapes_are_named():
    expected = np.array([1.0, 2.0, 3.0])
    actual = expected.reshape(3, 1)
    assert np.allclose(actual, np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]))  # broadcasting
    result = compare(expected, actual, RTOL, ATOL)
    assert not result.ok
    assert "(3, 1)" in result.problem and "(3,)" in result.problem


def test_broadcasting_a_single_value_over_the_expected_array_is_not_accepted():
    assert np.allclose(np.array([2.0]), np.array([2.0, 2.0]))
    assert not compare(np.array([2.0, 2.0]), np.array([2.0]), RTOL, ATOL).ok


def test_matching_arrays_pass():
    expected = np.arange(6.0).reshape(2, 3)
    assert compare(expected, expected.copy(), RTOL, ATOL).ok
    assert compare(expected, expected.astype(np.float32), 1e-6, 0).ok


@pytest.mark.parametrize("bad, word", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "inf")])
def test_non_finite_result_is_reported_as_such(bad, word):
    actual = np.array([1.0, bad, 3.0])
    result = compare(np.array([1.0, 2.0, 3.0]), actual, RTOL, ATOL)
    assert not result.ok
    assert word in result.problem


def test_nan_scalar_result_is_reported_as_nan():
    result = compare(0.5, np.array(np.nan), RTOL, ATOL)
    assert not result.ok and "nan" in result.problem


def test_scalar_expected_is_not_matched_by_a_one_element_array():
    for actual in (np.array([2.0]), np.array([[2.0]]), [2.0]):
        result = compare(2.0, actual, RTOL, ATOL)
        assert not result.ok, actual
        assert "single number" in result.problem


def test_scalar_expected_is_matched_by_numbers_and_zero_dimensional_arrays():
    for actual in (2.0, 2, np.array(2.0), np.array(2, dtype=np.int64)):
        assert compare(2.0, actual, RTOL, ATOL).ok, actual


def test_python_list_of_numbers_of_the_right_shape_is_accepted():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert compare(expected, [[1.0, 2.0], [3.0, 4.0]], RTOL, ATOL).ok
    assert compare(expected, [[1, 2], [3, 4]], RTOL, ATOL).ok
    assert not compare(expected, [1.0, 2.0, 3.0, 4.0], RTOL, ATOL).ok
    assert not compare(expected, [[1.0, 2.0], [3.0, 4.5]], RTOL, ATOL).ok


def test_ragged_or_non_numeric_lists_are_rejected_not_raised():
    assert not compare(np.array([1.0, 2.0]), [[1.0], [2.0, 3.0]], RTOL, ATOL).ok
    assert not compare(np.array([1.0, 2.0]), ["1.0", "x"], RTOL, ATOL).ok
    assert not compare(np.array([1.0]), [Opaque("Evil", "1.0")], RTOL, ATOL).ok


def test_relative_tolerance_is_measured_against_the_expected_value():
    # |a - e| <= atol + rtol * |e|: with e = 1, rtol = 0.1 allows 0.1
    assert compare(1.0, 1.099, 0.1, 0.0).ok
    assert not compare(1.0, 1.101, 0.1, 0.0).ok
    # 0.105 would be allowed by rtol * |a| (0.1105) but not by rtol * |e| (0.1)
    assert not compare(1.0, 1.105, 0.1, 0.0).ok
    assert compare(-10.0, -10.99, 0.1, 0.0).ok
    assert not compare(-10.0, -11.01, 0.1, 0.0).ok


def test_absolute_tolerance_adds_to_the_relative_one():
    # allowed = 0.5 + 0.1 * 2 = 0.7
    assert compare(2.0, 2.69, 0.1, 0.5).ok
    assert not compare(2.0, 2.71, 0.1, 0.5).ok
    assert compare(0.0, 1e-9, 0.0, 1e-8).ok
    assert not compare(0.0, 1e-7, 0.0, 1e-8).ok


def test_failure_message_gives_the_size_and_place_of_the_worst_miss():
    expected = np.array([1.0, 2.0, 3.0])
    result = compare(expected, np.array([1.0, 2.5, 3.1]), 0.0, 0.01)
    assert not result.ok
    assert "0.5" in result.problem and "(1,)" in result.problem


def test_dict_comparison_names_the_missing_key():
    expected = {"W1": np.ones(2), "b1": np.zeros(2)}
    result = compare(expected, {"W1": np.ones(2)}, RTOL, ATOL)
    assert not result.ok
    assert "'b1'" in result.problem and "missing" in result.problem


def test_dict_comparison_names_the_wrong_key():
    expected = {"W1": np.ones(2), "b1": np.zeros(2)}
    result = compare(expected, {"W1": np.ones(2), "b1": np.array([0.0, 1.0])}, RTOL, ATOL)
    assert not result.ok
    assert "'b1'" in result.problem and "'W1'" not in result.problem


def test_dict_comparison_passes_when_every_key_matches():
    expected = {"W1": np.ones(2), "b1": np.zeros(2)}
    assert compare(expected, {"b1": np.zeros(2), "W1": np.ones(2)}, RTOL, ATOL).ok


def test_dict_expected_but_something_else_returned():
    result = compare({"W1": np.ones(2)}, np.ones(2), RTOL, ATOL)
    assert not result.ok and "W1" in result.problem


def test_none_result_suggests_a_missing_return():
    for expected in (1.0, np.ones(3)):
        result = compare(expected, None, RTOL, ATOL)
        assert not result.ok
        assert "return" in result.problem


@pytest.mark.parametrize("actual", [Opaque("Evil", "array(1.)"), Handle(1), True, "1.0",
                                    np.array([1.0 + 0j]), np.array([True])])
def test_non_numeric_results_never_match(actual):
    result = compare(np.array([1.0]), actual, RTOL, ATOL)
    assert not result.ok
    assert result.problem


def test_unchanged_accepts_an_identical_argument():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert unchanged(x, x.copy()).ok


def test_unchanged_reports_the_number_of_changed_elements():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = x.copy()
    y[0, 1] = 0.0
    y[1, 0] += 1e-12  # exact, not approximate
    result = unchanged(x, y)
    assert not result.ok
    assert "2 element" in result.problem


def test_unchanged_rejects_an_argument_that_came_back_as_something_else():
    x = np.ones(3)
    assert not unchanged(x, np.ones((3, 1))).ok
    assert not unchanged(x, Opaque("Evil", "")).ok
    assert not unchanged(x, None).ok
