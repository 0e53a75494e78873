"""Each student alone: their files copied into the private folder of their own worker.

The worker of a student runs in ``<private>/w`` and finds there only what that student handed
in (DESIGN.md principle 1); the folder above it, which the worker also puts on ``sys.path``,
holds nothing but that folder. Links, devices and FIFOs are not copied, archives are
extracted safely (:mod:`.archives`), and a student's files are limited in number and size.

The content hash of a student's files decides, with the grader's own fingerprint, whether a
finished result is still valid: a rerun grades only what changed.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..i18n import _
from .archives import ArchiveError, ArchiveLimits, extract
from .roster import CODE_SUFFIXES, LITTER, Entry, Student, collision, is_archive

# Folders of the book's helpers and of tools: never where the student's own chapter-4 code is.
NOT_CODE_ROOTS = LITTER | {"common", "dataset", "venv", ".venv", "node_modules"}


def _UNREADABLE() -> str:
    return _("{name} cannot be read ({reason})")


def _NOT_REGULAR() -> str:
    return _("{name} is not a regular file (a device, FIFO or socket)")


class StagingError(Exception):
    """This student's files cannot be staged (unreadable, refused archive, no code); says why."""


@dataclass(frozen=True)
class StagingLimits:
    max_files: int = 2000
    max_bytes: int = 100 * 1024 * 1024
    archive: ArchiveLimits = ArchiveLimits()


@dataclass(frozen=True)
class Staged:
    path: Path  # what to grade: a file, or a folder in the book's layout
    code_files: tuple[Path, ...]  # the .py files and notebooks graded (their comments say the language)
    notes: tuple[str, ...] = ()  # what was left out, for the instructor


def stage(student: Student, dest: Path, limits: StagingLimits = StagingLimits()) -> Staged:
    """Copy ``student``'s entries into ``dest`` and find what to grade in it."""
    if student.problem:
        raise StagingError(collision(list(student.entries), student.layout))
    notes: list[str] = []
    counter = _Counter(limits)
    for entry in student.entries:
        _stage_entry(entry, dest, counter, notes, limits)
    return _code_root(dest, student, notes)


def _stage_entry(entry: Entry, dest: Path, counter: "_Counter", notes: list[str], limits: StagingLimits) -> None:
    path = entry.path
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise StagingError(_UNREADABLE().format(name=path.name, reason=exc.strerror)) from None
    if stat.S_ISLNK(mode):
        raise StagingError(_("{name} is a symbolic link: links are not followed, hand in the file itself").format(
            name=path.name))
    if stat.S_ISDIR(mode):
        _copy_tree(path, dest / entry.target if entry.target else dest, counter, notes, limits, top=True)
    elif not stat.S_ISREG(mode):
        raise StagingError(_NOT_REGULAR().format(name=path.name))
    elif not entry.target:  # an archive: its contents go to the top of the student's folder
        try:
            written = extract(path, dest, limits.archive)
        except ArchiveError as exc:
            raise StagingError(f"{path.name}: {exc}") from None
        counter.files += len(written)
    else:
        _copy_file(path, dest / entry.target, counter)


class _Counter:
    def __init__(self, limits: StagingLimits) -> None:
        self.limits, self.files, self.bytes = limits, 0, 0

    def add(self, name: str, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.files > self.limits.max_files:
            raise StagingError(_("more than {limit} files handed in; remove what is not needed").format(
                limit=self.limits.max_files))
        if self.bytes > self.limits.max_bytes:
            raise StagingError(_("more than {megabytes} MB handed in (at {name}); remove data sets and large "
                                 "files").format(megabytes=self.limits.max_bytes // (1024 * 1024), name=name))


def _copy_file(source: Path, target: Path, counter: _Counter) -> None:
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise StagingError(_UNREADABLE().format(name=source.name, reason=exc.strerror)) from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise StagingError(_NOT_REGULAR().format(name=source.name))
        counter.add(source.name, info.st_size)
        try:
            data = src.read()
        except OSError as exc:
            raise StagingError(_UNREADABLE().format(name=source.name, reason=exc.strerror)) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _copy_tree(source: Path, target: Path, counter: _Counter, notes: list[str], limits: StagingLimits,
               top: bool = False) -> None:
    """Copy a student's folder; an archive at its top (an LMS folder holding ``kim.zip``) is extracted."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        entries = sorted(os.scandir(source), key=lambda e: e.name)
    except OSError as exc:
        raise StagingError(_UNREADABLE().format(name=source.name + "/", reason=exc.strerror)) from None
    for entry in entries:
        if entry.name in LITTER or entry.name == ".git":
            continue
        if entry.is_symlink():
            notes.append(f"{entry.name}: a symbolic link, not followed")
        elif entry.is_dir(follow_symlinks=False):
            _copy_tree(Path(entry.path), target / entry.name, counter, notes, limits)
        elif top and entry.is_file(follow_symlinks=False) and is_archive(entry.name):
            try:
                counter.files += len(extract(Path(entry.path), target, limits.archive))
            except ArchiveError as exc:
                raise StagingError(f"{entry.name}: {exc}") from None
        elif entry.is_file(follow_symlinks=False):
            _copy_file(Path(entry.path), target / entry.name, counter)
        else:
            notes.append(f"{entry.name}: not a regular file, not copied")


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
                notes.append(f"graded {folder.relative_to(dest).as_posix()}/; also found "
                             + ", ".join(f.relative_to(dest).as_posix() + "/" for f, _ in holding[1:]))
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


# ---- what decides a regrade ---------------------------------------------------------------------------

def content_hash(student: Student, fingerprint: str) -> str:
    """sha256 of the grader's fingerprint and every byte the student handed in, with its name."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(student.problem.encode())
    for entry in student.entries:
        digest.update(b"\0entry\0" + entry.target.encode() + b"\0" + entry.path.name.encode())
        _hash_path(entry.path, digest)
    return digest.hexdigest()


def _hash_path(path: Path, digest) -> None:
    try:
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            for child in sorted(os.scandir(path), key=lambda e: e.name):
                if child.name in LITTER or child.name == ".git":
                    continue
                digest.update(b"\0name\0" + child.name.encode("utf-8", "surrogateescape"))
                _hash_path(Path(child.path), digest)
        elif stat.S_ISREG(mode):
            with open(path, "rb") as source:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
        else:
            digest.update(f"\0special {mode}\0".encode())
    except OSError as exc:
        digest.update(f"\0unreadable {exc.errno}\0".encode())


def grader_fingerprint(spec_folders: list[Path], options: dict) -> str:
    """What else decides a student's result: the grader's code, the exercise specs, the options."""
    import grader

    digest = hashlib.sha256(repr(sorted(options.items())).encode())
    package = Path(grader.__file__).resolve().parent
    roots = [package, package.parent / "reference", *spec_folders]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".j2", ".po")):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()
