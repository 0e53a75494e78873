"""A student's folder walked without recursion, within bounds: what staging, the content hash,
the Dask parcel and the language guess all read.

A folder handed in is untrusted like its code: 1,200 nested folders overflow Python's stack
(a recursive walk ends in a RecursionError), and a million empty folders take a walk that no
per-file limit stops. Here the walk is a loop with a stack of its own, never follows a link,
and stops with :class:`TreeTooLarge` past ``max_depth`` folders deep or ``max_entries``
entries in all; the litter of tools and operating systems (:data:`.roster.LITTER`, ``.git``)
is skipped as staging skips it, so every reader sees the same tree.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..i18n import N_
from .roster import LITTER

FOLDER, FILE, LINK, SPECIAL, UNREADABLE = "folder", "file", "link", "special", "unreadable"
MAX_DEPTH = 50  # a repository in the book's layout is a few folders deep; 50 leaves room for any real one
MAX_ENTRIES = 20_000  # files, folders, links together (the number of files is limited on its own too)
TOO_DEEP = N_("{name} holds folders nested more than {limit} deep; hand in your chapter 4 folder, not a copy of "
              "a whole disk")
TOO_MANY = N_("{name} holds more than {limit} files and folders; remove what is not needed")


class TreeTooLarge(Exception):
    """A folder past the bounds: ``message`` (a msgid) with ``values`` says which bound, for the student's row."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message.format(**values))
        self.message, self.values = message, values

    def translated(self) -> str:
        from ..i18n import _
        return _(self.message).format(**self.values)


@dataclass(frozen=True)
class Node:
    parts: tuple[str, ...]  # the path below the top, one raw name (any bytes) per folder
    path: Path
    kind: str  # folder | file | link | special | unreadable
    mode: int = 0
    errno: int = 0  # why an unreadable folder could not be listed

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else self.path.name


def skipped(name: str) -> bool:
    """Never a student's work: not copied, not hashed, not carried to a Dask worker."""
    return name in LITTER or name == ".git"


def walk(top: Path, max_depth: int = MAX_DEPTH, max_entries: int = MAX_ENTRIES,
         shown: str | None = None) -> Iterator[Node]:
    """``top`` and everything under it, each folder before its contents, names in sorted order.

    Raises :class:`TreeTooLarge` (naming ``shown``, else the top's name) on reaching a folder below
    ``max_depth`` or entry number ``max_entries + 1``; what was yielded before stays valid."""
    from .names import display_name

    label = shown if shown is not None else display_name(top.name) + "/"
    stack: list[tuple[tuple[str, ...], Path, int]] = [((), top, _lmode(top))]
    count = 0
    while stack:
        parts, path, mode = stack.pop()
        count += 1
        if count > max_entries:
            raise TreeTooLarge(TOO_MANY, name=label, limit=max_entries)
        if mode < 0:
            yield Node(parts, path, UNREADABLE, errno=-mode)
            continue
        if not stat.S_ISDIR(mode):
            kind = LINK if stat.S_ISLNK(mode) else FILE if stat.S_ISREG(mode) else SPECIAL
            yield Node(parts, path, kind, mode)
            continue
        if len(parts) > max_depth:
            raise TreeTooLarge(TOO_DEEP, name=label, limit=max_depth)
        try:
            with os.scandir(path) as listing:
                children = sorted((entry.name, _entry_mode(entry)) for entry in listing if not skipped(entry.name))
        except OSError as exc:
            yield Node(parts, path, UNREADABLE, errno=exc.errno or 0)
            continue
        yield Node(parts, path, FOLDER, mode)
        for name, child_mode in reversed(children):  # popped in sorted order
            stack.append(((*parts, name), path / name, child_mode))


def _lmode(path: Path) -> int:
    """The file's type and permission bits (links not followed), or minus the errno."""
    try:
        return os.lstat(path).st_mode
    except OSError as exc:
        return -(exc.errno or 1)


def _entry_mode(entry: os.DirEntry) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return -(exc.errno or 1)
