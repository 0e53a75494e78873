"""The report's list of top-level code that did not run, one line per cause.

A notebook written along the book leaves much top-level code that grading does not run
or that fails without the student being at fault: a training loop skipped on purpose,
twenty statements that use ``plt`` after ``import matplotlib`` failed, prints of a result
whose computation was skipped. Listing each of them buries the one line that matters, so
statements are grouped by cause, each group with its count and its first place:

* code skipped on purpose (training and gradient loops) and what uses its results: one line;
* a name that code which did not run would have set: one line per name, at the statement
  that failed to set it when it failed itself ("`plt` failed to import ...");
* demo code stopped or skipped for time: one line;
* every other error, syntax error or crash: a line each, repeats counted.

Plotting statements never appear: they are not graded and run against stand-ins.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Iterable

from ..i18n import _
from ..loaders.base import Submission
from ..report import Statement
from .toplevel import PLOT, names_bound_by, parsed


@dataclass
class _Group:
    place: str
    status: str
    message: str
    count: int = 1
    names: list[str] = field(default_factory=list)


def not_run(loaded: dict, submission: Submission, plans: dict[str, list[str]]) -> list[Statement]:
    trees: dict[str, list[ast.stmt]] = {}
    origin: dict[str, tuple[str, str]] = {}  # unset name -> (cause, key of the group that explains it)
    groups: dict[str, _Group] = {}
    for record in loaded.get("statements", []):
        status = record.get("status", "ok")
        cell_id, index = str(record.get("cell")), int(record.get("index", -1))
        if status == "ok" or _category(plans, cell_id, index) == PLOT:
            continue
        cell = submission.cell(cell_id)
        line = int(record.get("line", 0)) + ((cell.first_line - 1) if cell else 0)
        place = cell.place(line) if cell else str(line)
        error = record.get("error") or {}
        missing = _undefined_name(error)
        if missing in origin:
            # Not the student's mistake here: the statement that sets this name did not run.
            cause, key = origin[missing]
            _add(groups, key, place, cause, "")
            groups[key].names.append(missing)
        elif status in ("skipped-training",):
            key = "training"
            _add(groups, key, place, status, "")
        elif status in ("abandoned", "skipped-budget"):
            key = "budget"
            _add(groups, key, place, "abandoned", "")
        else:
            message = f"{error.get('type')}: {error.get('message')}" if error else _explain(status)
            key = f"{status}:{message}"
            _add(groups, key, place, status, message)
        for name in _bound(trees, cell, cell_id, index):
            origin.setdefault(name, (groups[key].status, key))
    return [Statement(g.place, g.status, _message(key, g)) for key, g in groups.items()]


def _add(groups: dict[str, _Group], key: str, place: str, status: str, message: str) -> None:
    if key in groups:
        groups[key].count += 1
    else:
        groups[key] = _Group(place, status, message, count=1)


def _message(key: str, group: _Group) -> str:
    if key == "training":
        if group.count == 1:
            return _("gradient or training code not run on purpose: grading calls your functions itself")
        return _("gradient or training code not run on purpose ({count} statements, with what uses their "
                 "results): grading calls your functions itself").format(count=group.count)
    if key == "budget":
        if group.count == 1:
            return _("demo code stopped to keep grading fast: grading calls your functions itself")
        return _("demo code stopped or skipped to keep grading fast ({count} statements): grading calls your "
                 "functions itself").format(count=group.count)
    others = group.count - 1
    if not others:
        return group.message
    names = sorted(set(group.names))
    if names and others == 1:
        return _("{message}; a later statement that uses {names} did not run").format(
            message=group.message, names=", ".join(f"`{n}`" for n in names))
    if names:
        return _("{message}; {count} later statements that use {names} did not run").format(
            message=group.message, count=others, names=", ".join(f"`{n}`" for n in names))
    return _("{message} ({count} times)").format(message=group.message, count=group.count)


def _explain(status: str) -> str:
    return {"timeout": _("stopped: it did not finish"), "killed": _("skipped: it ended the process"),
            "skipped": _("skipped"), "syntax-error": _("not run: syntax error")}.get(status, status)


def _category(plans: dict[str, list[str]], cell_id: str, index: int) -> str:
    plan = plans.get(cell_id) or []
    return plan[index] if 0 <= index < len(plan) else ""


def _bound(trees: dict[str, list[ast.stmt]], cell, cell_id: str, index: int) -> set[str]:
    """Names the statement would have bound; each cell is parsed once, whatever its size."""
    if cell_id not in trees:
        try:
            trees[cell_id] = parsed(cell.source).body if cell else []
        except (SyntaxError, ValueError):
            trees[cell_id] = []
    body = trees[cell_id]
    return names_bound_by(body[index]) if 0 <= index < len(body) else set()


def _undefined_name(error: dict) -> str | None:
    match = re.fullmatch(r"name '(\w+)' is not defined", str(error.get("message", ""))) \
        if error.get("type") == "NameError" else None
    return match.group(1) if match else None


def statements(skipped: Iterable[tuple[str, str]], loaded: dict, submission: Submission,
               plans: dict[str, list[str]]) -> tuple[Statement, ...]:
    """Cells that are not Python first, then the grouped top-level code that did not run."""
    return tuple([Statement(place, "skipped", why) for place, why in skipped] + not_run(loaded, submission, plans))
