"""A student's handed-in files as bytes, so that a Dask worker on another host can grade them.

The cluster shares no filesystem with the machine that holds SUBMISSIONS: the driver reads
each student's entries into a :class:`Parcel` (plain data, sent with the task) and the Dask
worker lays them out again under a private folder of its own, at the same paths relative to
SUBMISSIONS, then stages and grades them exactly as a local pool process does. What staging
would refuse or leave out travels as what it is, never followed: a symbolic link is laid out
as a link to nowhere, a device or FIFO as a FIFO, so the student's row says the same thing
either way. Nothing here runs student code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .names import display_name
from .roster import Entry, Student
from .staging import StagingLimits
from .tree import FILE, FOLDER, LINK, SPECIAL, UNREADABLE, walk
# Where a carried symbolic link points on the Dask worker: nowhere (staging never follows it anyway).
LINK_TARGET = "/nonexistent/dlfs-grader-link-not-carried"


class ParcelTooLarge(Exception):
    """More bytes handed in than the staging limits could ever accept: not sent over the network."""


@dataclass(frozen=True)
class Item:
    path: str  # relative to SUBMISSIONS, '/'-separated
    kind: str  # file | folder | link | special | unreadable
    data: bytes = b""


@dataclass(frozen=True)
class Parcel:
    """A student (as the roster saw them) and every file of their entries, relative to SUBMISSIONS."""

    student: Student  # entry paths relative to SUBMISSIONS
    items: tuple[Item, ...]

    @property
    def size(self) -> int:
        return sum(len(i.data) for i in self.items)


def pack(student: Student, submissions: Path, limits: StagingLimits = StagingLimits()) -> Parcel:
    """Read ``student``'s entries under ``submissions``; :class:`ParcelTooLarge` past the limits,
    :class:`.tree.TreeTooLarge` for a folder staging would refuse as too deep or too full.

    The limit is twice the staging limit: an archive is carried whole and limited when it is
    extracted, on the worker, as locally."""
    budget = 2 * limits.max_bytes
    items: list[Item] = []
    entries = []
    for entry in student.entries:
        relative = _relative(entry.path, submissions)
        entries.append(Entry(Path(relative), entry.target))
        for node in walk(entry.path, limits.max_depth, limits.max_entries):  # no recursion: any depth of folders
            path = "/".join((relative, *node.parts))
            if node.kind != FILE:
                items.append(Item(path, node.kind))
                continue
            try:
                # Never a link or a FIFO swapped in since the walk: not followed, not waited on.
                fd = os.open(node.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
                with os.fdopen(fd, "rb") as source:
                    data = source.read(budget + 1)
            except OSError:
                items.append(Item(path, UNREADABLE))
                continue
            budget -= len(data)
            if budget < 0:
                raise ParcelTooLarge(display_name(path))
            items.append(Item(path, FILE, data))
    return Parcel(Student(student.id, student.slug, tuple(entries), student.layout, student.problem), tuple(items))


def unpack(parcel: Parcel, root: Path) -> Student:
    """Lay the parcel out under ``root`` (a fresh folder of the caller's); the student with paths in it."""
    root = root.resolve()
    for item in parcel.items:
        target = _inside(root, item.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if item.kind == FOLDER:
            target.mkdir(exist_ok=True)
        elif item.kind == FILE:
            target.write_bytes(item.data)
        elif item.kind == LINK:
            os.symlink(LINK_TARGET, target)
        elif item.kind == SPECIAL:
            os.mkfifo(target)
        elif item.kind == UNREADABLE:
            target.touch()
            target.chmod(0)
    student = parcel.student
    entries = tuple(Entry(_inside(root, e.path.as_posix()), e.target) for e in student.entries)
    return Student(student.id, student.slug, entries, student.layout, student.problem)


def _inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that would leave ``root`` (a parcel is data from the network)."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"a parcel path leaves its folder: {relative!r}")
    return root.joinpath(*parts)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
