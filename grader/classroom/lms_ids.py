"""Who a graded student is in the LMS: the identifiers their download carried, read back from OUTDIR.

* Canvas's bulk download names each file ``lastfirst[_LATE]_<user id>_<attachment id>_<file>``: the
  user id is the ``ID`` column of Canvas's grade export;
* Moodle's names each folder (or file) ``Full Name_<participant id>_assignsubmission_file_``: the
  participant id is the ``Identifier`` (``Participant 123456``) of its grading worksheet;
* GitHub Classroom (``<assignment>-<username>/``) and nbgrader (``submitted/<username>/``) carry the
  username, as does a plain class folder whose entries are named by username.

``--map FILE`` (``student,<template column>`` rows) supplies what a download does not carry.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .outcome import UsageError

CANVAS_FILE = re.compile(r"^(?P<name>[^_]+?)_(?:LATE_)?(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE_ENTRY = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")


@dataclass(frozen=True)
class Graded:
    """One student of the gradebook, with what the LMS may know them by."""

    student: str
    slug: str
    layout: str
    files: tuple[str, ...]
    score: float | None  # None: not graded (their row says why)
    lang: str = "en"
    ids: dict[str, str] = field(default_factory=dict)  # canvas_user_id | moodle_participant | username


def identifiers(student: str, layout: str, files: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in files:
        first = PurePosixPath(name).parts[0] if name else ""
        canvas = CANVAS_FILE.match(first)
        if layout == "canvas" and canvas:
            found.setdefault("canvas_user_id", canvas["uid"])
        moodle = MOODLE_ENTRY.match(first)
        if layout == "moodle" and moodle:
            found.setdefault("moodle_participant", moodle["pid"])
    if layout in ("github-classroom", "nbgrader", "plain", "pattern"):
        found["username"] = student
    return found


def read_gradebook(outdir: Path) -> list[Graded]:
    """The students of ``OUTDIR/gradebook.json`` (written by ``grade class``)."""
    import json

    path = outdir / "gradebook.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        students = data["students"]
    except FileNotFoundError:
        raise UsageError(f"{outdir}: no gradebook.json; run `grade class SUBMISSIONS -o {outdir}` first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a gradebook written by grade class ({type(exc).__name__})") from None
    graded = []
    for s in students:
        files = tuple(str(f) for f in s.get("files", ()))
        score = None if s.get("error") else float(s.get("score", 0.0))
        graded.append(Graded(str(s["student"]), str(s.get("slug", s["student"])), str(s.get("layout", "")), files,
                             score, str(s.get("lang", "en")), identifiers(str(s["student"]), str(s.get("layout", "")),
                                                                          files)))
    return graded


def gradebook_max(outdir: Path) -> float | None:
    """The points a student of ``OUTDIR/gradebook.json`` could earn (None where it does not say)."""
    import json

    try:
        value = json.loads((outdir / "gradebook.json").read_text(encoding="utf-8")).get("max_score")
        return float(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def read_map(path: Path) -> tuple[str, dict[str, str]]:
    """``--map FILE``: a header ``student,<template column>`` and one row a student; the column's name
    and each student's value in it."""
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--map {path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not rows or len(rows[0]) < 2 or rows[0][0].strip().lower() != "student":
        raise UsageError(f"--map {path}, line 1: expected the header student,<column of the template> "
                         "(e.g. student,Email address)")
    column, mapping = rows[0][1].strip(), {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise UsageError(f"--map {path}, line {number}: expected student,{column}")
        mapping[row[0].strip()] = row[1].strip()
    return column, mapping
