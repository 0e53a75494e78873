"""How values appear in reports: JSON-ready forms and short source-like text for calls."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..worker.wire import Fn, Handle, Opaque

MAX_ELEMENTS = 60


def to_jsonable(value: Any) -> Any:
    """Numbers, lists and dicts for the JSON report; large arrays become a summary."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            value = value.real
        if value.size > MAX_ELEMENTS:
            flat = value.ravel()
            return {"shape": list(value.shape), "dtype": str(value.dtype),
                    "first": [_num(v) for v in flat[:8]], "mean": _num(flat.mean()), "std": _num(flat.std())}
        return _nested(value.tolist())
    if isinstance(value, np.generic):
        return _num(value.item())
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Opaque):
        return {"type": value.type_name, "repr": value.text}
    if isinstance(value, Fn):
        return value.source
    if isinstance(value, Handle):
        return "<object>"
    return value


def _nested(value: Any) -> Any:
    if isinstance(value, list):
        return [_nested(v) for v in value]
    return _num(value)


def _num(value: Any) -> Any:
    """JSON has no nan or inf: write them as strings rather than emit invalid JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (np.floating, np.integer)):
        return _num(value.item())
    return value


def source_text(value: Any, name_hint: str = "") -> str:
    """A compact source-like rendering of an argument, for 'what was called'."""
    if isinstance(value, Fn):
        text = value.source
        for key, bound in value.bind:
            text += f", {key}={source_text(bound)}"
        return text
    if isinstance(value, Handle):
        return name_hint or "obj"
    if isinstance(value, np.ndarray):
        if value.size > 12:
            return f"<array {value.shape} {value.dtype}>"
        body = np.array2string(value, separator=", ", precision=6, suppress_small=False).replace("\n", "")
        body = " ".join(body.split())
        return f"np.array({body})" if value.dtype.kind == "f" else f"np.array({body}, dtype={value.dtype})"
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, float):
        return repr(value)
    return repr(value)


def value_text(value: Any) -> str:
    """A student-readable rendering of a result."""
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, np.ndarray):
        if value.shape == ():
            return repr(value.item())
        if value.size > MAX_ELEMENTS:
            return f"<array of shape {value.shape}, mean {value.mean():.4g}, std {value.std():.4g}>"
        return " ".join(np.array2string(value, precision=8, separator=", ").split())
    if isinstance(value, Opaque):
        return f"<{value.type_name}: {value.text}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(value_text(v) for v in value) + ")"
    return repr(value)
