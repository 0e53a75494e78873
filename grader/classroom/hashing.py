"""What decides whether a student's finished result is still valid: their content hash.

A rerun keeps a student's record only when its hash equals the hash of what they hand in now,
so two different hand-ins must never hash alike. The first format joined names and bytes with
no lengths: a folder holding ``a.py`` and ``b.py`` hashed like one ``a.py`` whose bytes ended
with ``\\0name\\0b.py`` and ``b.py``'s, and a rerun kept the other hand-in's grade. Here every
field is length-prefixed, every file is named by its whole path and its own digest, and the
hash names its format (``v2:``): a record of an older format never matches and is graded again.

Names are hashed as the bytes the file system has (any bytes, :func:`.names.name_bytes`), the
walk is bounded like staging's (:mod:`.tree`), and nothing here raises for a student's files:
what cannot be read is hashed as such, and staging then says why in that student's row.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .names import name_bytes
from .tree import FILE, FOLDER, SPECIAL, UNREADABLE, TreeTooLarge, walk

if TYPE_CHECKING:
    from .roster import Student
    from .staging import StagingLimits

HASH_FORMAT = "v2"
CHUNK = 1 << 20


class _Fields:
    """A sha256 over a sequence of byte strings, each prefixed by its length: unambiguous."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def add(self, *fields: bytes | str | int) -> None:
        for field in fields:
            if isinstance(field, int):
                field = str(field)
            data = name_bytes(field) if isinstance(field, str) else field
            self.digest.update(len(data).to_bytes(8, "big"))
            self.digest.update(data)


def content_hash(student: Student, fingerprint: str, limits: StagingLimits | None = None) -> str:
    """``v2:`` + sha256 of the grader's fingerprint and every byte the student handed in, with its name."""
    from .staging import StagingLimits

    limits = limits or StagingLimits()
    fields = _Fields()
    fields.add(f"dlfs-grader content {HASH_FORMAT}", fingerprint, student.problem, len(student.entries))
    budget = [limits.max_bytes + 1]  # hashing past what staging accepts tells nothing more
    for entry in student.entries:
        fields.add("entry", entry.target, entry.path.name)
        try:
            for node in walk(entry.path, limits.max_depth, limits.max_entries):
                fields.add(node.kind, len(node.parts), *node.parts)
                if node.kind == FILE:
                    fields.add(*_file_digest(node.path, budget))
                elif node.kind in (SPECIAL, UNREADABLE):
                    fields.add(stat.S_IFMT(node.mode), node.errno)
                elif node.kind != FOLDER:  # a link: what it is, never what it points at
                    fields.add(stat.S_IFMT(node.mode))
        except TreeTooLarge as exc:
            fields.add("refused", str(exc))
    return f"{HASH_FORMAT}:{fields.digest.hexdigest()}"


def _file_digest(path: Path, budget: list[int]) -> tuple[bytes | str, ...]:
    """(the file's sha256, its size) as read now; the reason when it cannot be read."""
    try:
        # Never follow a link swapped in, never wait on a FIFO swapped in since the walk.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return ("unreadable", str(exc.errno))
    digest, size = hashlib.sha256(), 0
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ("not a regular file",)
        while budget[0] > 0 and (chunk := os.read(fd, min(CHUNK, budget[0]))):
            digest.update(chunk)
            size += len(chunk)
            budget[0] -= len(chunk)
    except OSError as exc:
        return ("unreadable", str(exc.errno))
    finally:
        os.close(fd)
    return (digest.digest(), str(size))


def plugin_files(pm) -> list[Path]:
    """The source file of every plugin registered in ``pm`` outside the grader's own package (which is
    hashed whole): an instructor's plugin decides results too, and editing it must regrade."""
    import sys
    from types import ModuleType

    import grader

    package = Path(grader.__file__).resolve().parent
    files = set()
    for plugin in pm.get_plugins():
        module = plugin if isinstance(plugin, ModuleType) else sys.modules.get(type(plugin).__module__)
        source = getattr(module, "__file__", None)
        if source and not Path(source).resolve().is_relative_to(package):
            files.add(Path(source).resolve())
    return sorted(files)


def grader_fingerprint(spec_folders: list[Path], options: dict, plugins: list[Path] = ()) -> str:
    """What else decides a student's result: the grader's code, the exercise specs, the plugins' code
    (``plugins``: :func:`plugin_files`), the options."""
    import grader

    fields = _Fields()
    fields.add(repr(sorted(options.items())))
    for path in plugins:  # by name: the same plugin at another path on a Dask worker is the same code
        try:
            fields.add("plugin", path.name, path.read_bytes())
        except OSError as exc:
            fields.add("plugin", path.name, "unreadable", str(exc.errno))
    package = Path(grader.__file__).resolve().parent
    roots = [package, package.parent / "reference", *spec_folders]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".j2", ".po")):
            if "__pycache__" in path.parts:
                continue
            fields.add(path.relative_to(root).as_posix(), path.read_bytes())
    return fields.digest.hexdigest()
