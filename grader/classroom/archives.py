"""Extracting a student's zip or tar archive without trusting it.

An archive is untrusted input like the code in it. Refused, with a message, before anything
is written: absolute names and ``..`` (writing outside the student's folder), links, devices
and FIFOs, more than ``max_files`` members, more than ``max_bytes`` in all, names nested more
than ``max_depth`` folders deep, and members whose compression ratio gives away a zip bomb.
While extracting, the bytes actually produced are counted too, since the sizes an archive
declares can lie.
"""
from __future__ import annotations

import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from ..i18n import _
from .names import display_name

CHUNK = 1 << 16


# Messages used in several places, translated where they are raised (in the student's language).
def _TOO_MANY() -> str:
    return _("refused: more than {limit} members")


def _TOO_BIG() -> str:
    return _("refused: more than {megabytes} MB uncompressed (a zip bomb?)")


def _LINK() -> str:
    return _("refused: member '{name}' is a link")


def _SPECIAL() -> str:
    return _("refused: member '{name}' is not a regular file (a device, FIFO or other special file)")


class ArchiveError(Exception):
    """The archive is corrupt or refused; the message names the member and the reason."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = 2000
    max_bytes: int = 100 * 1024 * 1024  # all members together, uncompressed
    max_ratio: float = 200.0  # uncompressed / compressed, for members above ``ratio_floor``
    ratio_floor: int = 1024 * 1024
    max_depth: int = 50  # folders in a member's name (a deeper tree is no chapter-4 repository)


# Members that are never a student's work (and often hold odd names): skipped silently.
SKIPPED_PARTS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git"}


def safe_name(name: str, max_depth: int = ArchiveLimits.max_depth) -> PurePosixPath | None:
    """The member's relative path, or None when it is litter; raise for a name that escapes or is too deep."""
    clean = name.replace("\\", "/")
    name = display_name(name)  # in messages: a tar name that is not UTF-8 has its bytes shown
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise ArchiveError(_("refused: member '{name}' has an absolute path").format(name=name))
    parts = [p for p in PurePosixPath(clean).parts if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(_("refused: member '{name}' points outside the archive ('..')").format(name=name))
    if not parts or any(p in SKIPPED_PARTS or p == ".DS_Store" for p in parts):
        return None
    if len(parts) > max_depth + 1:
        raise ArchiveError(_("refused: member '{name}' is nested more than {limit} folders deep").format(
            name=name[:200] + ("..." if len(name) > 200 else ""), limit=max_depth))
    return PurePosixPath(*parts)


def extract(archive: Path, dest: Path, limits: ArchiveLimits = ArchiveLimits()) -> list[str]:
    """Extract ``archive`` into ``dest``; returns the files written (relative, POSIX)."""
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            return _extract_zip(archive, dest, limits)
        return _extract_tar(archive, dest, limits)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, OSError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        kind = "zip" if name.endswith(".zip") else "tar"
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ArchiveError(_("not a readable {kind} archive ({reason})").format(kind=kind, reason=reason)) from None


def _extract_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_files:
            raise ArchiveError(_TOO_MANY().format(limit=limits.max_files))
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        declared = 0
        for info in infos:
            target = safe_name(info.filename, limits.max_depth)
            if target is None:
                continue
            # Unix type bits, when the tool that made the archive wrote them (many write only permissions).
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind == stat.S_IFLNK:
                raise ArchiveError(_LINK().format(name=display_name(info.filename)))
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveError(_SPECIAL().format(name=display_name(info.filename)))
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ArchiveError(_("refused: member '{name}' is encrypted").format(name=display_name(info.filename)))
            _check_ratio(info.filename, info.file_size, info.compress_size, limits)
            declared += info.file_size
            if declared > limits.max_bytes:
                raise ArchiveError(_TOO_BIG().format(megabytes=limits.max_bytes // (1024 * 1024)))
            plan.append((info, target))
        budget = _Budget(limits.max_bytes)
        for info, target in plan:
            with zf.open(info) as source:
                _write(dest, target, source, budget)
        return [t.as_posix() for _info, t in plan]


def _extract_tar(archive: Path, dest: Path, limits: ArchiveLimits) -> list[str]:
    compressed = max(archive.stat().st_size, 1)
    with tarfile.open(archive, mode="r:*") as tf:
        plan: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
        declared = 0
        for count, member in enumerate(_members(tf), start=1):
            if count > limits.max_files:
                raise ArchiveError(_TOO_MANY().format(limit=limits.max_files))
            target = safe_name(member.name, limits.max_depth)
            if member.issym() or member.islnk():
                raise ArchiveError(_LINK().format(name=display_name(member.name)))
            if not (member.isfile() or member.isdir()):
                raise ArchiveError(_SPECIAL().format(name=display_name(member.name)))
            if target is None or member.isdir():
                continue
            declared += member.size
            if declared > limits.max_bytes:
                raise ArchiveError(_TOO_BIG().format(megabytes=limits.max_bytes // (1024 * 1024)))
            plan.append((member, target))
        # A compressed tar has one stream: its ratio as a whole gives a bomb away.
        _check_ratio(archive.name, declared, compressed, limits)
        budget = _Budget(limits.max_bytes)
        for member, target in plan:
            source = tf.extractfile(member)
            if source is None:
                raise ArchiveError(_("refused: member '{name}' cannot be read").format(name=display_name(member.name)))
            with source:
                _write(dest, target, source, budget)
        return [t.as_posix() for _m, t in plan]


def _members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    member = tf.next()
    while member is not None:
        yield member
        member = tf.next()


def _check_ratio(name: str, size: int, compressed: int, limits: ArchiveLimits) -> None:
    if size > limits.ratio_floor and size / max(compressed, 1) > limits.max_ratio:
        raise ArchiveError(_("refused: '{name}' expands {compressed:,} bytes into {size:,} (ratio {ratio:,.0f}:1), "
                             "which looks like a zip bomb").format(name=name, compressed=compressed, size=size,
                                                                   ratio=size / max(compressed, 1)))


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise ArchiveError(_("refused: the archive expands to more than it declares (a zip bomb?)"))


def _write(dest: Path, target: PurePosixPath, source: BinaryIO, budget: _Budget) -> None:
    path = dest.joinpath(*target.parts)
    # Never through a link or into an existing file of another member (names differing only by '..' are gone).
    if not path.resolve().is_relative_to(dest.resolve()):
        raise ArchiveError(_("refused: member '{name}' would be written outside the student's folder").format(
            name=target))
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            budget.take(len(chunk))
            out.write(chunk)

