"""The student's own import statements that failed, and the names they should have bound.

A name that an import of the student's should have bound is not "undefined": their code says
where it comes from, and the import failed. The report then names the import, why it failed and,
for a module the grader found outside the student's repository (or past the staging limits), the
file it looked for (grader/submission/repository.py), instead of "define it or import it".
"""
from __future__ import annotations

import ast
from typing import Any, NamedTuple

from ..loaders.base import Submission
from .repository import Staging
from .toplevel import parsed

IMPORT_ERRORS = ("ModuleNotFoundError", "ImportError")


class FailedImport(NamedTuple):
    name: str  # the name the statement should have bound
    statement: str  # "from helpers import softmax", as Python reads it
    place: str  # "line 5", "In [3], line 1"
    error: str  # "ModuleNotFoundError: No module named 'helpers'"
    looked_for: str = ""  # the file the grader found but could not stage, relative to the submission
    why: str = ""  # "outside" or "limits" when looked_for is set


def failed_imports(submission: Submission, loaded: dict[str, Any], staging: Staging | None) -> dict[str, FailedImport]:
    """name -> the failed top-level import statement of the student's that should have bound it."""
    unreachable = {u.module: u for u in staging.unreachable} if staging else {}
    found: dict[str, FailedImport] = {}
    for record in loaded.get("statements", []) if isinstance(loaded, dict) else ():
        if not isinstance(record, dict) or record.get("status") != "error":
            continue
        error = record.get("error") if isinstance(record.get("error"), dict) else {}
        if error.get("type") not in IMPORT_ERRORS:
            continue
        cell = submission.cell(str(record.get("cell")))
        index = record.get("index")
        if cell is None or type(index) is not int:
            continue
        try:
            body = parsed(cell.source).body
        except (SyntaxError, ValueError):
            continue
        node = body[index] if 0 <= index < len(body) else None
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        line = node.lineno + cell.first_line - 1
        text = f"{error.get('type')}: {error.get('message', '')}"
        for alias in node.names:
            if alias.name == "*":
                continue
            module = (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            name = alias.asname or (alias.name if isinstance(node, ast.ImportFrom) else alias.name.partition(".")[0])
            reached = next((unreachable[m] for m in _prefixes(module) if m in unreachable), None)
            found.setdefault(name, FailedImport(name, ast.unparse(node), cell.place(line), text,
                                                reached.looked_for if reached else "",
                                                reached.why if reached else ""))
    return found


def _prefixes(module: str) -> list[str]:
    """``a.b.c``, ``a.b``, ``a``: the longest first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
