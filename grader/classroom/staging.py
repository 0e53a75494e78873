"""Each student alone: their files copied into the private folder of their own worker.

The worker of a student runs in ``<private>/w`` and finds there only what that student handed
in (DESIGN.md principle 1); the folder above it, which the worker also puts on ``sys.path``,
holds nothing but that folder. Links, devices and FIFOs are not copied, archives are
extracted safely (:mod:`.archives`), and a student's files are limited in number and size,
their folders in depth and entries (:mod:`.tree`). Every problem is a :class:`StagingError`
that says why, in the student's language: it costs that student's row and nothing else.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..i18n import _
from .archives import ArchiveError, ArchiveLimits, extract
from .names import display_name, is_plain_component, relative_name
from .roster import CODE_SUFFIXES, LITTER, Entry, Student, entry_problem, is_archive
from .tree import FOLDER, LINK, MAX_DEPTH, MAX_ENTRIES, SPECIAL, UNREADABLE, TreeTooLarge, walk

# Folders of the book's helpers and of tools: never where the student's own chapter-4 code is.
NOT_CODE_ROOTS = LITTER | {"common", "dataset", "venv", ".venv", "node_modules"}


def _UNREADABLE() -> str:
    return _("{name} cannot be read ({reason})")


def _NOT_REGULAR() -> str:
    return _("{name} is not a regular file (a device, FIFO or socket)")


class StagingError(Exception):
    """This student's files cannot be staged (unreadable, refused archive, no code); says why."""


MAX_NOTES = 20


@dataclass(frozen=True)
class StagingLimits:
    max_files: int = 2000
    max_bytes: int = 100 * 1024 * 1024
    max_depth: int = MAX_DEPTH  # folders nested in a folder handed in
    max_entries: int = MAX_ENTRIES  # files, folders and links of a folder handed in
    archive: ArchiveLimits = ArchiveLimits()


@dataclass(frozen=True)
class Staged:
    path: Path  # what to grade: a file, or a folder in the book's layout
    code_files: tuple[Path, ...]  # the .py files and notebooks graded (their comments say the language)
    notes: tuple[str, ...] = ()  # what was left out, for the instructor


def stage(student: Student, dest: Path, limits: StagingLimits = StagingLimits()) -> Staged:
    """Copy ``student``'s entries into ``dest`` and find what to grade in it."""
    if student.problem:
        raise StagingError(entry_problem(list(student.entries), student.layout))
    notes: list[str] = []
    counter = _Counter(limits)
    for entry in student.entries:
        try:
            _stage_entry(entry, dest, counter, notes, limits)
        except TreeTooLarge as exc:
            raise StagingError(exc.translated()) from None
    if len(notes) > MAX_NOTES:  # a thousand links are one remark, not a thousand
        notes[MAX_NOTES:] = [f"... and {len(notes) - MAX_NOTES} more"]
    return _code_root(dest, student, notes)


def _stage_entry(entry: Entry, dest: Path, counter: "_Counter", notes: list[str], limits: StagingLimits) -> None:
    path = entry.path
    name = display_name(path.name)
    if entry.target and not is_plain_component(entry.target):  # also checked by the roster: never a path
        raise StagingError(entry_problem([entry], "plain"))
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise StagingError(_UNREADABLE().format(name=name, reason=exc.strerror)) from None
    if stat.S_ISLNK(mode):
        raise StagingError(_("{name} is a symbolic link: links are not followed, hand in the file itself").format(
            name=name))
    if stat.S_ISDIR(mode):
        _copy_tree(path, dest / entry.target if entry.target else dest, counter, notes, limits)
    elif not stat.S_ISREG(mode):
        raise StagingError(_NOT_REGULAR().format(name=name))
    elif not entry.target:  # an archive: its contents go to the top of the student's folder
        _extract(path, dest, counter, limits)
    else:
        _copy_file(path, dest / entry.target, counter)


class _Counter:
    def __init__(self, limits: StagingLimits) -> None:
        self.limits, self.files, self.bytes = limits, 0, 0

    def add(self, name: str, size: int, files: int = 1) -> None:
        self.files += files
        self.bytes += size
        if self.files > self.limits.max_files:
            raise StagingError(_("more than {limit} files handed in; remove what is not needed").format(
                limit=self.limits.max_files))
        if self.bytes > self.limits.max_bytes:
            raise StagingError(_("more than {megabytes} MB handed in (at {name}); remove data sets and large "
                                 "files").format(megabytes=self.limits.max_bytes // (1024 * 1024),
                                                 name=display_name(name)))


def _extract(archive: Path, dest: Path, counter: _Counter, limits: StagingLimits) -> None:
    try:
        written = extract(archive, dest, limits.archive)
    except ArchiveError as exc:
        raise StagingError(f"{display_name(archive.name)}: {exc}") from None
    counter.add(archive.name, 0, files=len(written))


def _copy_file(source: Path, target: Path, counter: _Counter) -> None:
    name = display_name(source.name)
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise StagingError(_UNREADABLE().format(name=name, reason=exc.strerror)) from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise StagingError(_NOT_REGULAR().format(name=name))
        counter.add(source.name, info.st_size)
        try:
            # Never more than the limit allows, whatever the size said a moment ago (a file still growing).
            data = src.read(counter.limits.max_bytes - counter.bytes + info.st_size + 1)
        except OSError as exc:
            raise StagingError(_UNREADABLE().format(name=name, reason=exc.strerror)) from None
    if len(data) > info.st_size:  # it grew while it was read
        counter.add(source.name, len(data) - info.st_size, files=0)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _copy_tree(source: Path, target: Path, counter: _Counter, notes: list[str], limits: StagingLimits) -> None:
    """Copy a student's folder, walked without recursion (:mod:`.tree`); an archive at its top (an LMS
    folder holding ``kim.zip``) is extracted."""
    for node in walk(source, limits.max_depth, limits.max_entries):
        here = target.joinpath(*node.parts)
        shown = display_name("/".join(node.parts) or source.name)
        if node.kind == FOLDER:
            here.mkdir(parents=not node.parts, exist_ok=True)
        elif node.kind == UNREADABLE:
            reason = os.strerror(node.errno) if node.errno else "?"
            raise StagingError(_UNREADABLE().format(name=shown + ("/" if not node.parts else ""), reason=reason))
        elif node.kind == LINK:
            notes.append(f"{shown}: a symbolic link, not followed")
        elif node.kind == SPECIAL:
            notes.append(f"{shown}: not a regular file, not copied")
        elif len(node.parts) == 1 and is_archive(node.name):
            _extract(node.path, target, counter, limits)
        else:
            _copy_file(node.path, here, counter)


def _code_root(dest: Path, student: Student, notes: list[str]) -> Staged:
    """The shallowest folder holding .py files or notebooks (not common/ or dataset/)."""
    level = [dest]
    while level:
        holding = [(folder, _code_files(folder)) for folder in level]
        holding = [(folder, files) for folder, files in holding if files]
        if holding:
            # Several folders at the same depth (ch03/, ch04/): the chapter-4 one, else the first.
            holding.sort(key=lambda item: ("4" not in item[0].name, item[0].name))
            folder, files = holding[0]
            if len(holding) > 1:
                notes.append(f"graded {relative_name(folder, dest)}/; also found "
                             + ", ".join(relative_name(f, dest) + "/" for f, _ in holding[1:]))
            path = files[0] if len(files) == 1 else folder
            return Staged(path, tuple(files), tuple(notes))
        level = [sub for folder in level for sub in _subfolders(folder)]
    raise StagingError(_("no .py file or notebook found in {files}").format(
        files=student.describe(student.entries[0].path.parent)))


def _code_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in CODE_SUFFIXES and not p.name.startswith("."))


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.is_symlink() and p.name not in NOT_CODE_ROOTS and not p.name.startswith("."))
