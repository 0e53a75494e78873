"""Mistakes in any exercise's code: a name that is not defined, a misspelt method, no return.

Each says only what the code shows: "import it from common.layers" only when the book's
``common.layers`` really has that name; "did you mean `loss_W`" only when the student's
own code has that name.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path

from .imports import name_errors
from .model import DiagnosisRule, Evidence
from ..i18n import N_, _

COMPAT = Path(__file__).resolve().parent.parent / "compat"
# Types whose attributes a misspelling is checked against, by the name Python gives in the error.
KNOWN_TYPES = {"numpy.ndarray": "ndarray", "list": list, "dict": dict, "float": float, "int": int,
               "tuple": tuple, "str": str}


@lru_cache(maxsize=1)
def book_modules() -> dict[str, str]:
    """name -> the book's helper module that defines it (``Affine`` -> ``common.layers``)."""
    import ast
    found: dict[str, str] = {}
    for path in sorted(COMPAT.rglob("*.py")):
        rel = path.relative_to(COMPAT).with_suffix("")
        if rel.name == "__init__" or len(rel.parts) < 2:
            continue  # the packages themselves and the bare copies (functions.py) beside them
        module = ".".join(rel.parts)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                found.setdefault(node.name, module)
    return found


def _name_errors(e: Evidence) -> list[str]:
    """Names the code uses that it never defines or imports (one a failed import of the student's
    should have bound is import-not-reached's, grader/diagnoses/imports.py)."""
    return [name for name in name_errors(e) if name not in (e.imports or {})]


def _undefined_name(e: Evidence) -> bool:
    return bool(_name_errors(e))


def _undefined_name_details(e: Evidence) -> dict:
    name = _name_errors(e)[0]
    module = book_modules().get(name)
    if module is not None:
        advice = _("the book keeps it in `{module}`: add `from {module} import {name}` before the code that "
                   "uses it.").format(module=module, name=name)
        return {"name": name, "advice": advice}
    close = _closest(name, [n for n in e.names if n != name])
    if close:
        return {"name": name, "advice": _("did you mean `{close}`? Python tells upper and lower case apart."
                                          ).format(close=close)}
    return {"name": name, "advice": _("define it or import it before the code that uses it.")}


def _closest(name: str, pool: list[str]) -> str:
    lowered = {n.lower(): n for n in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.8)
    return matches[0] if matches else ""


def _attribute_typos(e: Evidence) -> list[tuple[str, str, str]]:
    """(type, wrong, right) for AttributeErrors where the attribute is a misspelling of a real one."""
    import numpy as np
    found = []
    for o in e.failed():
        if o.error is None or o.error.type != "AttributeError":
            continue
        match = re.search(r"'([\w.]+)' object has no attribute '(\w+)'", o.error.message)
        if not match or match.group(1) not in KNOWN_TYPES:
            continue
        kind = KNOWN_TYPES[match.group(1)]
        attributes = [a for a in dir(np.ndarray if kind == "ndarray" else kind) if not a.startswith("_")]
        close = difflib.get_close_matches(match.group(2), attributes, n=1, cutoff=0.75)
        if close:
            found.append((match.group(1), match.group(2), close[0]))
    return found


def _misspelt_attribute(e: Evidence) -> bool:
    return bool(_attribute_typos(e))


def _misspelt_attribute_details(e: Evidence) -> dict:
    kind, wrong, right = _attribute_typos(e)[0]
    return {"type": kind, "wrong": wrong, "right": right}


def _missing_return(e: Evidence) -> bool:
    return any(o.outcome == "wrong" and o.actual is None for o in e.failed())


RULES = [
    DiagnosisRule("undefined-name", ("*",), N_(
        "Your code uses `{name}`, which is neither defined nor imported where it runs: {advice}"),
                  _undefined_name, _undefined_name_details,
                  summary=N_("The code uses a name that is neither defined nor imported where it runs.")),
    DiagnosisRule("misspelt-attribute", ("*",), N_(
        "A {type} has no `{wrong}`: did you mean `{right}`? Check the spelling of the method name."),
                  _misspelt_attribute, _misspelt_attribute_details,
                  summary=N_("The code uses a method or attribute the object does not have: a misspelt name.")),
    DiagnosisRule("missing-return", ("*",), N_(
        "The function returns None: it computes a value but does not `return` it."), _missing_return),
]
