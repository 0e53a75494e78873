"""Who handed in what: the entries of a SUBMISSIONS folder grouped into students.

A plain class folder has one entry per student: a file (``kim.ipynb``), a folder (``kim/``) or
an archive (``kim.zip``). The layouts instructors actually download are recognised too:

* Canvas bulk download: ``lastfirst_12345_67890_chapter4.ipynb`` (``_LATE_`` after the name for
  a late one); a student's several files are grouped under their name;
* Moodle: ``Full Name_123456_assignsubmission_file_/...`` folders, or files named
  ``Full Name_123456_assignsubmission_file_chapter4.ipynb``;
* nbgrader: ``submitted/<student>/<assignment>/`` (SUBMISSIONS is the course folder or ``submitted``);
* GitHub Classroom: ``<assignment>-<username>/`` clones (every folder shares the prefix);
* ``--student-pattern REGEX`` for anything else: its ``student`` group (or first group) names the student.

Nothing here reads a file's content; staging does, student by student. Names are any bytes
(:mod:`.names`): a student's id is their name as text, their slug the file name of their reports.
"""
from __future__ import annotations

import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .names import assign_slugs, display_name, is_plain_component, relative_name, student_ids

CODE_SUFFIXES = (".py", ".ipynb")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Litter of operating systems and tools, never a student's work.
LITTER = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", "__pycache__", ".ipynb_checkpoints"}

CANVAS = re.compile(r"^(?P<name>[^_]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_(?P<kind>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<uid>\d+)_assignsubmission_file_(?P<file>.+)$")


class RosterError(Exception):
    """The class cannot be graded at all (no such folder, nothing recognisable); the message says why."""


@dataclass(frozen=True)
class Entry:
    """One thing a student handed in. ``target`` is where it goes in their staged folder:
    a file's name there, or ``""`` for a folder's or an archive's contents at the top."""

    path: Path
    target: str

    @property
    def is_archive(self) -> bool:
        return self.path.is_file() and is_archive(self.path.name)


@dataclass(frozen=True)
class Student:
    id: str  # their name as text (bytes that are not UTF-8 shown as \xNN), unique in the class
    slug: str  # a file-system-safe, unique form of ``id`` for the names of their reports (names.py)
    entries: tuple[Entry, ...]
    layout: str  # plain | canvas | moodle | nbgrader | github-classroom | pattern
    problem: str = ""  # why they cannot be graded (two entries that collide, a name unusable); "" when fine

    def describe(self, root: Path) -> str:
        return ", ".join(relative_name(e.path, root) + ("/" if _is_folder(e.path) else "") for e in self.entries)


@dataclass(frozen=True)
class Roster:
    root: Path
    students: tuple[Student, ...]
    ignored: tuple[tuple[str, str], ...] = ()  # (entry, why) for entries that belong to nobody

    def find(self, student_id: str) -> Student | None:
        """The student of that id, else of that slug (an id is never taken by another's slug)."""
        return (next((s for s in self.students if s.id == student_id), None)
                or next((s for s in self.students if s.slug == student_id), None))


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_stem(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_roster(root: Path, pattern: str | None = None, assignment: str | None = None) -> Roster:
    """Group the entries of ``root`` into students; raise :class:`RosterError` when there are none."""
    if not root.exists():
        raise RosterError(f"{root}: no such folder")
    if not root.is_dir():
        raise RosterError(f"{root} is a file: give the folder that holds one entry per student "
                          f"(to grade one submission, run `grade {root}`)")
    nbgrader = _nbgrader_base(root)
    if pattern:
        grouped, ignored = _by_pattern(root, pattern)
    elif nbgrader is not None:
        grouped, ignored = _nbgrader(nbgrader, assignment)
    else:
        grouped, ignored = _by_name(root)
    if not grouped:
        listing = _entries(root)
        if not listing and not ignored:
            raise RosterError(f"{root} is empty: there is nothing to grade")
        seen = (", ".join(f"{name} ({why})" for name, why in ignored[:8])
                or ", ".join(display_name(p.name) for p in listing[:8]))
        hint = "; use --student-pattern REGEX to say which files belong to whom" if listing else ""
        raise RosterError(f"{root}: no student submissions recognised (found: {seen}){hint}")
    return Roster(root, _students(grouped), tuple((display_name(name), why) for name, why in ignored))


# ---- layouts ------------------------------------------------------------------------------------

Grouped = dict[tuple[str, str], list[Entry]]  # (student id, layout) -> entries


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.name not in LITTER and not p.name.startswith("."))
    except OSError as exc:
        raise RosterError(f"{folder} cannot be read ({exc.strerror})") from None


def _kind(path: Path) -> str:
    """file | folder | archive, or why the entry cannot be a submission."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISLNK(mode):
        return "a symbolic link (not followed)"
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if is_archive(path.name):
        return "archive"
    return "file"


def _by_name(root: Path) -> tuple[Grouped, list[tuple[str, str]]]:
    grouped: Grouped = defaultdict(list)
    ignored: list[tuple[str, str]] = []
    plain_folders: list[Path] = []
    for path in _entries(root):
        kind = _kind(path)
        name = path.name
        if kind not in ("file", "folder", "archive"):
            # Still the student's entry: staging reports the problem in their row.
            grouped[(Path(name).stem, "plain")].append(Entry(path, name))
            continue
        if kind == "folder":
            moodle = MOODLE_FOLDER.match(name)
            if moodle:
                grouped[(f"{moodle['name']}_{moodle['uid']}", "moodle")].append(Entry(path, ""))
            else:
                plain_folders.append(path)
            continue
        moodle = MOODLE_FILE.match(name)
        canvas = CANVAS.match(name)
        if moodle:
            grouped[(f"{moodle['name']}_{moodle['uid']}", "moodle")].append(Entry(path, _inner_target(moodle['file'])))
        elif canvas:
            grouped[(canvas["name"] + "\0" + canvas["uid"], "canvas")].append(Entry(path, _inner_target(canvas['file'])))
        elif kind == "archive":
            grouped[(archive_stem(name), "plain")].append(Entry(path, ""))
        elif name.lower().endswith(CODE_SUFFIXES):
            grouped[(path.stem, "plain")].append(Entry(path, name))
        else:
            ignored.append((name, "not a .py file, a notebook, a folder or an archive"))
    prefix = _classroom_prefix(plain_folders)
    for path in plain_folders:
        if prefix:
            grouped[(path.name[len(prefix):], "github-classroom")].append(Entry(path, ""))
        else:
            grouped[(path.name, "plain")].append(Entry(path, ""))
    return _canvas_names(grouped), ignored


def _inner_target(name: str) -> str:
    """An LMS file's own name, or "" for an archive (its contents go to the top)."""
    return "" if is_archive(name) else name


def _canvas_names(grouped: Grouped) -> Grouped:
    """Canvas names are 'lastfirst'; two different people with the same one keep their user ids."""
    names: dict[str, set[str]] = defaultdict(set)
    for (key, layout) in grouped:
        if layout == "canvas":
            name, uid = key.split("\0")
            names[name].add(uid)
    out: Grouped = {}
    for (key, layout), entries in grouped.items():
        if layout == "canvas":
            name, uid = key.split("\0")
            key = name if len(names[name]) == 1 else f"{name}_{uid}"
        out.setdefault((key, layout), []).extend(entries)
    return out


def _classroom_prefix(folders: list[Path]) -> str:
    """GitHub Classroom clones are ``<assignment>-<username>``: the shared prefix up to a '-'."""
    if len(folders) < 2:
        return ""
    common = os.path.commonprefix([p.name for p in folders])
    prefix = common[: common.rfind("-") + 1] if "-" in common else ""
    if len(prefix) < 3 or any(len(p.name) == len(prefix) for p in folders):
        return ""
    # Two students called 'kim-a' and 'kim-b' are not a classroom: clones have .git, or there are many.
    if len(folders) >= 3 or any(_exists(p / ".git") for p in folders):
        return prefix
    return ""


def _nbgrader_base(root: Path) -> Path | None:
    if (root / "submitted").is_dir() and not any(p.suffix.lower() in CODE_SUFFIXES for p in _entries(root)):
        return root / "submitted"
    if root.name == "submitted":
        return root
    return None


def _nbgrader(base: Path, assignment: str | None) -> tuple[Grouped, list[tuple[str, str]]]:
    grouped: Grouped = defaultdict(list)
    ignored: list[tuple[str, str]] = []
    for path in _entries(base):
        if _kind(path) != "folder":
            ignored.append((path.name, "not a student folder of nbgrader's submitted/"))
            continue
        folder = path / assignment if assignment else path
        if assignment and not _is_folder(folder):
            ignored.append((path.name, f"has no assignment folder '{assignment}'"))
            continue
        grouped[(path.name, "nbgrader")].append(Entry(folder, ""))
    return grouped, ignored


def _by_pattern(root: Path, pattern: str) -> tuple[Grouped, list[tuple[str, str]]]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise RosterError(f"--student-pattern {pattern!r} is not a valid regular expression ({exc})") from None
    if not regex.groups:
        raise RosterError(f"--student-pattern {pattern!r} needs a group for the student, e.g. (?P<student>\\w+)_hw4")
    grouped: Grouped = defaultdict(list)
    ignored: list[tuple[str, str]] = []
    for path in _entries(root):
        match = regex.match(path.name)
        if not match:
            ignored.append((path.name, "does not match --student-pattern"))
            continue
        student = match.groupdict().get("student") or match.group(1)
        if not student:
            ignored.append((path.name, "--student-pattern matched an empty student name"))
            continue
        inner = match.groupdict().get("file") or path.name
        kind = _kind(path)
        grouped[(student, "pattern")].append(Entry(path, "" if kind in ("folder", "archive") else inner))
    return grouped, ignored


# ---- students -------------------------------------------------------------------------------------

def _students(grouped: Grouped) -> tuple[Student, ...]:
    by_name: dict[str, list[tuple[str, list[Entry]]]] = defaultdict(list)
    for (raw_name, layout), entries in grouped.items():
        by_name[raw_name].append((layout, entries))
    ids = student_ids(by_name)  # raw name (any bytes) -> id (text), unique
    slugs = assign_slugs(ids.values())
    students = []
    for raw_name in sorted(by_name, key=lambda name: (ids[name].casefold(), ids[name])):
        layout = by_name[raw_name][0][0]
        entries = [e for _layout, group in by_name[raw_name] for e in group]
        student_id = ids[raw_name]
        students.append(Student(student_id, slugs[student_id], tuple(sorted(entries, key=lambda e: e.path.name)),
                                layout, entry_problem(entries, layout)))
    return tuple(students)


def entry_problem(entries: list[Entry], layout: str) -> str:
    """Why a student's entries cannot be graded as they are (neither is graded), in the current
    language: two entries that both claim the student's place, or a file name that would not stay
    in the student's folder ('..'). "" when there is none."""
    from ..i18n import _

    for entry in entries:
        if entry.target and not is_plain_component(entry.target):
            return _("{name}: its file name '{target}' cannot be used; hand it in under a name such as "
                     "chapter4.py and grade again").format(name=display_name(entry.path.name),
                                                            target=display_name(entry.target))
    if layout in ("plain", "github-classroom", "nbgrader") and len(entries) > 1:
        names = _(" and ").join(sorted(display_name(e.path.name) for e in entries))
        return _("{names} both belong to this student: keep one (or put both files in one folder) and grade "
                 "again").format(names=names)
    targets: dict[str, str] = {}
    for entry in entries:
        if entry.target and entry.target in targets:
            return _("{first} and {second} are both this student's '{target}': keep one and grade again").format(
                first=targets[entry.target], second=display_name(entry.path.name), target=display_name(entry.target))
        targets[entry.target] = display_name(entry.path.name)
    return ""


def _exists(path: Path) -> bool:
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _is_folder(path: Path) -> bool:
    """A real folder (not a link to one); False for what cannot be looked at (a folder of mode 000's child)."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except (OSError, ValueError):
        return False
