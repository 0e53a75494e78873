"""Grades back into the LMS: its own grade export, written back with this assignment's column filled.

The template is the file the LMS itself produced, so its import takes the result unchanged; every
other cell, row, the delimiter, a byte-order mark and the line ends are kept as they were:

* Canvas: ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment
  (``Chapter 4 (12345)``) and a ``Points Possible`` row; students are matched by ``ID`` (the user id
  of the bulk download's file names), else ``SIS Login ID`` (a username);
* Moodle: its grading worksheet (``Identifier`` = ``Participant 123456``, matched by the download's
  participant id, column ``Grade``) or a grade import CSV keyed by ``Username``, ``ID number`` or
  ``Email address`` (with ``--map``), column ``Assignment: ... (Real)``;
* Blackboard: ``Username`` and a column named with its id, ``Chapter 4 [Total Pts: 100 Score] |123456``;
* Brightspace: ``OrgDefinedId`` or ``Username`` (``#``-prefixed), ``<item> Points Grade ...`` and
  ``End-of-Line Indicator``.

Nothing is guessed: a student matched by no identifier is listed, and a grade already in the template
is never replaced without ``overwrite``.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .lms_ids import Graded
from .outcome import UsageError


@dataclass(frozen=True)
class LmsLayout:
    name: str
    keys: tuple[tuple[str, str], ...]  # (template column, identifier kind), most specific first
    is_grade_column: Callable[[str], bool]
    example: str


def _key(value: str) -> str:
    """An identifier as compared: Brightspace writes ``#jdoe``, Moodle ``Participant 123``."""
    value = value.strip().lstrip("#").strip()
    value = re.sub(r"^Participant\s+", "", value, flags=re.IGNORECASE)
    return value.casefold()


LAYOUTS = {
    "canvas": LmsLayout("canvas", (("ID", "canvas_user_id"), ("SIS Login ID", "username")),
                        lambda h: bool(re.search(r"\(\d+\)\s*$", h)), "Chapter 4 (12345)"),
    "moodle": LmsLayout("moodle", (("Identifier", "moodle_participant"), ("Username", "username"),
                                   ("username", "username")),
                        lambda h: h.strip() == "Grade" or h.strip().startswith("Assignment:")
                        or h.strip().endswith("(Real)"), "Assignment: Chapter 4 (Real)"),
    "blackboard": LmsLayout("blackboard", (("Username", "username"),),
                            lambda h: bool(re.search(r"\|\d+\s*$", h)), "Chapter 4 [Total Pts: 100 Score] |123456"),
    "brightspace": LmsLayout("brightspace", (("Username", "username"), ("OrgDefinedId", "username")),
                             lambda h: " Points Grade" in h, "Chapter 4 Points Grade <Numeric MaxPoints:100>"),
}


@dataclass
class ExportResult:
    text: str
    column: str
    filled: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # graded students found in no row
    not_graded: list[str] = field(default_factory=list)
    kept: list[tuple[str, str, str]] = field(default_factory=list)  # (student, existing, ours): not overwritten
    without_submission: int = 0  # rows of the template no student of the class matched


@dataclass(frozen=True)
class Template:
    rows: list[list[str]]
    delimiter: str
    bom: bool
    newline: str
    encoding: str


def read_template(path: Path) -> Template:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--template {path}: cannot be read ({exc.strerror})") from None
    # Blackboard's "Excel" download is UTF-16 with tabs; the others UTF-8, Canvas with a BOM.
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise UsageError(f"--template {path}: not UTF-8 or UTF-16 text; export it again from the LMS as CSV") from None
    bom = text.startswith("\ufeff")
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ";" if first.count(";") > first.count(",") else ","
    newline = "\r\n" if "\r\n" in text[:len(first) + 2] else "\n"
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UsageError(f"--template {path}: not a CSV file ({exc})") from None
    if not rows or not any(rows[0]):
        raise UsageError(f"--template {path}: empty; export the grades from the LMS first")
    return Template(rows, delimiter, bom, newline, encoding)


def choose_column(header: list[str], layout: LmsLayout, wanted: str | None, path: Path) -> int:
    candidates = [i for i, h in enumerate(header) if layout.is_grade_column(h)]
    if wanted:
        exact = [i for i, h in enumerate(header) if h.strip() == wanted.strip()]
        prefixed = [i for i in candidates if header[i].strip().startswith(wanted.strip())]
        found = exact or prefixed
        if len(found) == 1:
            return found[0]
        listed = ", ".join(repr(header[i]) for i in (found or candidates)) or "none"
        raise UsageError(f"--column {wanted!r}: {'several' if found else 'no'} columns of {path} match "
                         f"(grade columns: {listed})")
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(repr(header[i]) for i in candidates)
    if not candidates:
        raise UsageError(f"{path}: no {layout.name} grade column (one like {layout.example!r}); is it the "
                         f"{layout.name} grade export? Name the column with --column")
    raise UsageError(f"{path}: several grade columns ({listed}); say which with --column NAME")


def points_possible(template: Template, layout: LmsLayout, target: int) -> float | None:
    """What the LMS says the column is worth, where its export says it: Canvas's ``Points
    Possible`` row, Blackboard's ``[Total Pts: 25 ...]``, Brightspace's ``MaxPoints:25``,
    the Moodle worksheet's ``Maximum Grade`` column. None: the export does not say."""
    header = template.rows[0][target]
    found = None
    if layout.name == "canvas":
        row = next((r for r in template.rows[1:] if r and r[0].strip() == "Points Possible"), None)
        found = row[target] if row is not None and target < len(row) else None
    elif layout.name == "blackboard":
        match = re.search(r"\[Total Pts:\s*([\d.,]+)", header)
        found = match.group(1) if match else None
    elif layout.name == "brightspace":
        match = re.search(r"MaxPoints:\s*([\d.,]+)", header)
        found = match.group(1) if match else None
    elif layout.name == "moodle":
        names = [h.strip() for h in template.rows[0]]
        if "Maximum Grade" in names:
            position = names.index("Maximum Grade")
            found = next((r[position] for r in template.rows[1:] if position < len(r) and r[position].strip()), None)
    if found is None:
        return None
    try:
        value = float(found.strip().replace(",", "."))
    except ValueError:
        return None
    return value if value > 0 else None


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _existing(cell: str) -> float | None:
    """A grade already in the template's cell; None when it holds none (empty, '-', 'N/A')."""
    text = cell.strip()
    if text in ("", "-", "N/A", "n/a"):
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return float("nan")  # something else (a letter grade, 'EX'): still a grade not to replace


def fill(template: Template, layout: LmsLayout, students: list[Graded], column: str | None, path: Path,
         mapping: tuple[str, dict[str, str]] | None = None, overwrite: bool = False,
         scale: Callable[[int], float] = lambda target: 1.0) -> ExportResult:
    """``scale(target column)``: what each score is multiplied by (the caller decides, from the
    column's points possible and the gradebook's maximum)."""
    header = template.rows[0]
    target = choose_column(header, layout, column, path)
    factor = scale(target)
    positions = {h.strip(): i for i, h in enumerate(header)}
    keys = [(positions[col], kind) for col, kind in layout.keys if col in positions]
    map_column = None
    if mapping is not None:
        if mapping[0] not in positions:
            raise UsageError(f"--map: the template has no column {mapping[0]!r} (columns: {', '.join(header)})")
        map_column = positions[mapping[0]]
    if not keys and map_column is None:
        wanted = " or ".join(repr(col) for col, _kind in layout.keys)
        raise UsageError(f"{path}: no column {wanted} to match students by; give --map FILE")
    rows = [list(r) for r in template.rows]
    # Each template row's identifiers, by the columns this LMS keys students by.
    index: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1:], start=1):
        for position, kind in keys:
            if position < len(row) and row[position].strip():
                index.setdefault((kind, _key(row[position])), number)
        if map_column is not None and map_column < len(row) and row[map_column].strip():
            index.setdefault(("map", _key(row[map_column])), number)
    result = ExportResult("", header[target].strip())
    used: set[int] = set()
    for student in students:
        if student.score is None:
            result.not_graded.append(student.student)
            continue
        wanted = []
        if mapping is not None and student.student in mapping[1]:
            wanted.append(("map", _key(mapping[1][student.student])))
        wanted += [(kind, _key(value)) for kind, value in student.ids.items()]
        number = next((index[w] for w in wanted if w in index), None)
        if number is None:
            result.unmatched.append(student.student)
            continue
        used.add(number)
        row = rows[number]
        row.extend([""] * (target + 1 - len(row)))
        existing = _existing(row[target])
        ours = _number(student.score * factor)
        if existing is not None and not overwrite and not existing == float(ours):
            result.kept.append((student.student, row[target].strip(), ours))
            continue
        row[target] = ours
        result.filled.append(student.student)
    result.without_submission = sum(1 for n, row in enumerate(rows[1:], start=1)
                                    if n not in used and any((row[p].strip() if p < len(row) else "")
                                                             for p, _kind in keys))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=template.delimiter, lineterminator=template.newline)
    writer.writerows(rows)
    result.text = ("\ufeff" if template.bom else "") + buffer.getvalue()
    return result
