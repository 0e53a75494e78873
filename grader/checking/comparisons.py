"""Comparisons made in the trusted process: kind, shape, dtype and finiteness first, then values.

``np.allclose([], [1.0])`` is True and ``np.allclose(x, y)`` broadcasts, so nothing
here trusts a bare ``allclose``: every structural property is checked explicitly
and each failure is named in words a student can act on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..i18n import _
from ..worker.wire import Handle, Opaque


@dataclass(frozen=True)
class Comparison:
    ok: bool
    problem: str = ""


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) or (isinstance(value, np.ndarray) and value.shape == ())


def describe_kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.shape:
            return _("an array of shape {shape} ({dtype})").format(shape=value.shape, dtype=value.dtype)
        return _("a number ({dtype})").format(dtype=value.dtype)
    if isinstance(value, Opaque):
        return _("an object of type {type}").format(type=value.type_name)
    if isinstance(value, Handle):
        return _("an object")
    if isinstance(value, bool):
        return _("a bool")
    if type(value) in (int, float):
        return _("a number")
    if value is None:
        return _("None (did you forget `return`?)")
    return _("a {type}").format(type=type(value).__name__)


def as_numeric(value: Any) -> np.ndarray | None:
    """Plain numbers, numeric arrays and (nested) lists of numbers as a float array; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, np.generic):  # only ever the reference's own scalars
        value = np.asarray(value)
    if type(value) in (int, float):
        return np.asarray(float(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iuf":
            return value.astype(float)
        return None
    if type(value) in (list, tuple):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
        return arr
    return None


def compare(expected: Any, actual: Any, rtol: float, atol: float) -> Comparison:
    """Is ``actual`` what ``expected`` is, within ``|a - e| <= atol + rtol * |e|``?"""
    if isinstance(expected, dict):
        return _compare_dict(expected, actual, rtol, atol)
    exp = as_numeric(expected)
    if exp is None:
        raise TypeError(f"cannot compare against {type(expected).__name__}")
    got = as_numeric(actual)
    if got is None:
        want = _("a number") if exp.shape == () else _("an array of shape {shape}").format(shape=exp.shape)
        return Comparison(False, _("expected {want}, got {got}").format(want=want, got=describe_kind(actual)))
    if exp.shape == () and not _is_number(actual):
        return Comparison(False, _("expected a single number, got {got}").format(got=describe_kind(actual)))
    if got.shape != exp.shape:
        return Comparison(False, _("shape {got} instead of {expected}").format(got=got.shape, expected=exp.shape))
    if np.all(np.isfinite(exp)) and not np.all(np.isfinite(got)):
        bad = "nan" if np.isnan(got).any() else "inf"
        return Comparison(False, _("the result contains {bad}").format(bad=bad))
    if got.size == 0:
        return Comparison(True)
    close = np.isclose(got, exp, rtol=rtol, atol=atol)
    if bool(close.all()):
        return Comparison(True)
    diff = np.abs(got - exp)
    where = np.unravel_index(int(np.argmax(np.where(close, -1, diff))), got.shape)
    allowed = atol + rtol * abs(float(exp[where]))
    if got.shape:
        text = _("off by {diff:.3g} at index {index} (allowed {allowed:.2g})")
    else:
        text = _("off by {diff:.3g} (allowed {allowed:.2g})")
    return Comparison(False, text.format(diff=float(diff[where]), index=tuple(int(i) for i in where), allowed=allowed))


def _compare_dict(expected: dict, actual: Any, rtol: float, atol: float) -> Comparison:
    if not isinstance(actual, dict):
        return Comparison(False, _("expected a dict with keys {keys}, got {got}").format(
            keys=sorted(expected), got=describe_kind(actual)))
    missing = [k for k in expected if k not in actual]
    if missing:
        return Comparison(False, _("missing key(s) {keys}").format(keys=", ".join(map(repr, missing))))
    for key, value in expected.items():
        result = compare(value, actual[key], rtol, atol)
        if not result.ok:
            return Comparison(False, f"[{key!r}]: {result.problem}")
    return Comparison(True)


def unchanged(before: Any, after: Any) -> Comparison:
    """An input the student's function must leave as it found it (exact, not approximate)."""
    b, a = as_numeric(before), as_numeric(after)
    if b is None or a is None or a.shape != b.shape:
        return Comparison(False, _("the argument came back as something else"))
    if np.array_equal(a, b, equal_nan=True):
        return Comparison(True)
    changed = int(np.sum(~((a == b) | (np.isnan(a) & np.isnan(b)))))
    return Comparison(False, _("{count} element(s) of the argument were changed by the call").format(count=changed))
