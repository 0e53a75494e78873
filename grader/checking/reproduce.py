"""A snippet that rebuilds a failing case's call, for the student to paste and run.

Small inputs are written in the snippet, exactly (every float as Python writes it, so the call
is the one graded, not a rounded copy). Above :data:`INLINE_ELEMENTS` numbers in all, the inputs
go to an ``.npz`` file that ``grade SUBMISSION --save-inputs DIR`` writes, and the snippet loads
it. The snippet is report data (CheckResult.reproduce): JSON carries it, every renderer escapes
it, and a hidden case never has one shown (reporters/visibility.py).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from ..i18n import _
from ..worker.wire import Fn, Handle
from .display import value_text

INLINE_ELEMENTS = 60  # numbers in all the inputs; above it they go to an .npz file
DEFAULT_FOLDER = "grade-inputs"

# Where `grade --save-inputs DIR` writes the inputs (None: nowhere). Set by the command line only:
# one `grade` grades one submission.
save_folder: Path | None = None


def file_name(exercise: str, case: str) -> str:
    """The .npz file of one case: the exercise's id and the case's name, as plain characters."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", case).strip("-").lower()[:60] or "case"
    return f"{exercise}-{slug}.npz"


def snippet(exercise: str, case: str, name: str, args: tuple, kwargs: dict, names: tuple[str, ...],
            expected: Any) -> str:
    """The code that calls the student's ``name`` as the case did; "" when an input cannot be
    written as code (an object the grader built in the worker)."""
    values = list(args) + list(kwargs.values())
    if any(isinstance(v, Handle) or (isinstance(v, Fn) and v.bind) for v in values):
        return ""
    size = sum(np.size(v) for v in values if isinstance(v, (np.ndarray, list, tuple)))
    arrays = {k: v for k, v in _named(args, kwargs, names).items() if isinstance(v, np.ndarray)}
    lines = ["import numpy as np"]
    text = _loaded(exercise, case, arrays, lines) if size > INLINE_ELEMENTS and arrays else {}
    positional = [(names[i] if i < len(names) else f"arg{i}", a) for i, a in enumerate(args)]
    parts = [text.get(k) or _code(v) for k, v in positional]
    parts += [f"{k}={text.get(k) or _code(v)}" for k, v in kwargs.items()]
    lines.append(f"result = {name}({', '.join(parts)})")
    lines.append("print(result)  # " + _("expected: {value}").format(value=" ".join(value_text(expected).split())))
    return "\n".join(lines)


def _loaded(exercise: str, check: str, arrays: dict[str, np.ndarray], lines: list[str]) -> dict[str, str]:
    """Too large to write: the lines that load ``arrays`` from the .npz `grade --save-inputs` writes
    (written now when the folder is given), and each array's code in the snippet."""
    folder = str(save_folder) if save_folder is not None else DEFAULT_FOLDER  # as the student typed it
    path = f"{folder.rstrip('/')}/{file_name(exercise, check)}"
    lines.append("# " + _("the inputs are too large to show: `grade YOUR_FILE --save-inputs {folder}` writes "
                          "{path}").format(folder=folder, path=path))
    lines.append(f"inputs = np.load({path!r})")
    if save_folder is not None:
        _save(save_folder / file_name(exercise, check), arrays)
    return {key: f"inputs[{key!r}]" for key in arrays}


def _named(args: tuple, kwargs: dict, names: tuple[str, ...]) -> dict[str, Any]:
    named = {(names[i] if i < len(names) else f"arg{i}"): a for i, a in enumerate(args)}
    named.update(kwargs)
    return named


def _code(value: Any) -> str:
    """``value`` as Python source that rebuilds it exactly."""
    if isinstance(value, np.ndarray):
        # nan and inf are not Python literals; no other number's repr has those letters.
        body = repr(value.tolist()).replace("nan", "np.nan").replace("inf", "np.inf")
        return f"np.array({body})" if value.dtype == np.float64 else f"np.array({body}, dtype=np.{value.dtype})"
    if isinstance(value, np.generic):
        return f"np.{value.dtype}({_code(value.item())})"
    if isinstance(value, float) and not np.isfinite(value):
        return "np.nan" if np.isnan(value) else ("np.inf" if value > 0 else "-np.inf")
    if isinstance(value, Fn):
        return value.source
    if isinstance(value, tuple):
        return "(" + ", ".join(_code(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    return repr(value)


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **arrays)
    except OSError:  # the report still says which file it would be; `grade` says nothing is lost
        pass


def net_snippet(exercise: str, check: str, construct: str, settings: list[tuple[str, str, np.ndarray]],
                method: str, args: list[tuple[str, Any]], expected: Any) -> str:
    """The code that builds the student's net as the check did (``construct``: ``net = ...(...)``),
    gives it the grader's parameters (``settings``: the target's code, a short name, the value)
    and calls ``method`` with ``args``; the same .npz rule as :func:`snippet` for large inputs."""
    arrays = {key: value for _target, key, value in settings}
    arrays.update({name: value for name, value in args if isinstance(value, np.ndarray)})
    lines = ["import numpy as np"]
    text = _loaded(exercise, check, arrays, lines) if sum(np.size(v) for v in arrays.values()) > INLINE_ELEMENTS \
        else {}
    lines.append(construct)
    lines += [f"{target} = {text.get(key) or _code(value)}" for target, key, value in settings]
    parts = [text.get(name) or _code(value) for name, value in args]
    lines.append(f"result = net.{method}({', '.join(parts)})")
    lines.append("print(result)  # " + _("expected: {value}").format(value=" ".join(value_text(expected).split())))
    return "\n".join(lines)
