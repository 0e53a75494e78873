"""What the grading process asks of the worker: the load request's parts and the operations.

Standard library only, and no NumPy: the load request is built and sent before the grading
process has imported NumPy (grader/submission/handover.py); the operations encode their arguments with
the wire codec, imported when first needed.
"""
from __future__ import annotations

import ast
import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..submission.toplevel import parsed

if TYPE_CHECKING:
    from .client import Limits

# The book's helper folders, copied from beside the submission (and its parent, the book's
# layout: ch04/ next to common/ and dataset/) into the worker's private folder.
BOOK_FOLDERS = ("common", "dataset")


def statement_keys(cells: list[dict[str, Any]], limits: Limits) -> dict[tuple[str, int], float]:
    """Every top-level statement of the submission, in order, with its time budget (parsed here, never told)."""
    keys: dict[tuple[str, int], float] = {}
    for cell in cells:
        try:
            body = parsed(cell["source"]).body  # the tree the plan was made from, not a second parse
        except (SyntaxError, ValueError):
            continue
        plan = cell.get("plan") or []
        for index, node in enumerate(body):
            category = plan[index] if index < len(plan) else "demo"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                budget = limits.import_seconds
            elif category == "demo":
                budget = limits.demo_statement_seconds
            else:
                budget = limits.statement_seconds
            keys[(str(cell["id"]), index)] = budget
    return keys


def private_copy(files: dict[str, bytes], paths: list[Path]) -> tuple[str, dict[str, bytes]]:
    """The worker's folder: ``home``/ with the student's files, and the book's folders beside it
    (for a caller that has not staged the repository: see grader/submission/repository.py)."""
    home = paths[0].name if paths and paths[0].name not in ("", ".", "..") else "work"
    tree = {f"{home}/{name}": data for name, data in files.items()}
    from ..loaders.base import sibling_files
    for base, folder in zip((f"{home}/", ""), paths[:2]):
        for book in BOOK_FOLDERS:
            source = folder / book
            if source.is_dir() and not source.is_symlink():
                for name, data in sibling_files(source).items():
                    tree.setdefault(f"{base}{book}/{name}", data)
    return home, tree


def load_request(cells: list[dict[str, Any]], filename: str, files: dict[str, bytes], paths: list[Path],
                 protect, limits: "Limits", home: str | None = None) -> dict[str, Any]:
    """The load request, before the worker that gets it adds where it runs (WorkerClient._load_message).

    ``home``: the submission's folder in ``files``, when ``files`` is already the staged repository
    (its paths relative to the worker's folder); else ``files`` are the submission folder's and
    ``paths`` where the book's folders are copied from (:func:`private_copy`)."""
    if home is None:
        home, tree = private_copy(files, paths)
    else:
        tree = files
    return {"op": "load", "cells": cells, "file": filename, "home": home, "protect": list(protect),
            "files": {name: base64.b64encode(data).decode("ascii") for name, data in tree.items()},
            "statement_budget": limits.statement_seconds, "demo_statement_budget": limits.demo_statement_seconds,
            "demo_budget": limits.demo_total_seconds, "import_budget": limits.import_seconds}


def load_frame(message: dict[str, Any]) -> bytes:
    """The load request as it crosses the pipe: the wire's framing (wire.frame: a big-endian
    4-byte length, then compact JSON), written here because wire.py imports NumPy."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    return len(body).to_bytes(4, "big") + body


def call_op(target: dict[str, Any], args: tuple = (), *, seed: int = 0, keep: bool = False,
            kwargs: dict | None = None, return_args: bool = False) -> dict[str, Any]:
    """One call inside a batch or stream request."""
    from . import wire
    op = {"op": "call", "target": target, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs) if kwargs else {},
          "seed": seed, "keep": keep}
    if return_args:
        op["return_args"] = True
    return op


def set_op(target: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    from . import wire
    return {"op": "set", "target": target, "path": path, "value": wire.encode(value)}


def get_op(target: dict[str, Any], path: list[str]) -> dict[str, Any]:
    return {"op": "get", "target": target, "path": path}


def put_op(target: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """``target.path = value``, written into the float array already there when it has the value's
    shape (whatever shares that array sees the change), else replacing it (see Worker.put)."""
    from . import wire
    return {"op": "put", "target": target, "path": path, "value": wire.encode(value)}


def hold_op(target: dict[str, Any], path: list[str], shape: tuple[int, ...]) -> dict[str, Any]:
    """A handle to the float array at ``path`` if it has this shape, else None (see Worker.holder)."""
    return {"op": "hold", "target": target, "path": path, "shape": list(shape)}


def has_op(target: dict[str, Any], names: list[str], first: bool = False) -> dict[str, Any]:
    """Which of ``names`` are callable attributes of the target, one flag each; with ``first`` they are
    looked up in order until one is (as asking for one name after another would)."""
    return {"op": "has", "target": target, "names": names, **({"first": True} if first else {})}
