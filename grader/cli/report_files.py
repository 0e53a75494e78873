"""Where ``grade`` writes its reports: ``-f FORMAT [-o FILE]`` pairs, checked before grading, written atomically.

``grade sub.py -f terminal -f json -o report.json -f html -o report.html`` grades once and
writes each format: every ``-o`` names the file of the ``-f`` just before it, and at most one
format (the one without ``-o``) goes to standard output. With a single ``-f`` and a single
``-o`` their order does not matter (``grade sub.py -o report.json -f json`` works as before).

A report never overwrites an input: the submission, a ``--plugin`` file, an ``--assignment``
file, an exercise spec, or any Python file or notebook. A report file is written to a
temporary file beside it and renamed, so a reader (Gradescope, a CI step) sees either the
old file or the whole new one, never half a report.
"""
from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..i18n import _

DEFAULT_FORMAT = "terminal"
CODE_SUFFIXES = {".py", ".ipynb", ".pyw", ".toml"}


class TargetError(Exception):
    """The -f/-o options do not make a usable set of reports; the message says why."""


@dataclass(frozen=True)
class Target:
    format: str
    path: Path | None  # None: standard output


FORMAT_OF_SUFFIX = {".html": "html", ".htm": "html", ".json": "json", ".xml": "junit", ".md": "markdown"}


def pair(events: Iterable[tuple[str, str]]) -> list[Target]:
    """Targets from the command line's ``("format", name)`` and ``("output", path)`` events, in order."""
    events = list(events)
    formats = [value for kind, value in events if kind == "format"]
    outputs = [value for kind, value in events if kind == "output"]
    if len(formats) <= 1 and len(outputs) <= 1:
        path = Path(outputs[0]) if outputs else None
        # `-o report.html` alone: the file's extension says the format (terminal text in an .html is no use).
        guessed = FORMAT_OF_SUFFIX.get(path.suffix.lower()) if path is not None else None
        return [Target(formats[0] if formats else guessed or DEFAULT_FORMAT, path)]
    targets: list[Target] = []
    for kind, value in events:
        if kind == "format":
            targets.append(Target(value, None))
        elif not targets or targets[-1].path is not None:
            raise TargetError(_("-o {path} does not follow a -f FORMAT: with several formats, give each -o right "
                                "after the -f it is for").format(path=value))
        else:
            targets[-1] = Target(targets[-1].format, Path(value))
    to_stdout = [t.format for t in targets if t.path is None]
    if len(to_stdout) > 1:
        raise TargetError(_("only one format can go to standard output, not {formats}: give the others "
                            "-o FILE").format(formats=", ".join(to_stdout)))
    seen: set[Path] = set()
    for target in targets:
        if target.path is not None:
            key = target.path.resolve()
            if key in seen:
                raise TargetError(_("-o {path} is given twice").format(path=target.path))
            seen.add(key)
    return targets


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_targets(targets: Iterable[Target], inputs: Iterable[Path]) -> None:
    """Refuse, before grading, any report file that would overwrite an input or a code file."""
    inputs = [Path(p) for p in inputs]
    for target in targets:
        path = target.path
        if path is None:
            continue
        if path.is_dir():
            raise TargetError(_("-o {path} is a folder; name a file").format(path=path))
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():  # found now, not after a minute of grading
            raise TargetError(_("-o {path}: there is no folder {folder}").format(path=path, folder=folder))
        for source in inputs:
            if _same_file(path, source):
                raise TargetError(_("-o {path} would overwrite {source}, which is an input of this grading; write "
                                    "the report to another file").format(path=path, source=source))
        if path.suffix.lower() in CODE_SUFFIXES:
            raise TargetError(_("-o {path}: a report is not written over a {suffix} file; name it after its format, "
                                "e.g. report.json").format(path=path, suffix=path.suffix))


def input_files(submission: Path | None, plugins: Iterable[str], exercise_dirs: Iterable[Path],
                assignment: str | None) -> list[Path]:
    """Every file this grading reads that a report must not replace."""
    found: list[Path] = []
    if submission is not None:
        found.append(submission)  # in a folder, its code files are covered by CODE_SUFFIXES
    found += [Path(p) for p in plugins if Path(p).is_file()]
    for folder in exercise_dirs:
        if Path(folder).is_dir():
            found += [p for p in Path(folder).iterdir() if p.is_file()]
    if assignment and Path(assignment).is_file():
        found.append(Path(assignment))
    return found


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8 via a temporary file in the same folder and a rename.

    Only a regular file is replaced that way. A symbolic link is followed (the file it names is
    replaced; the link stays); a device, a FIFO or a terminal (``-o /dev/stdout``, ``/dev/null``)
    is written to as it is, never replaced by a file; a regular file without write permission is
    refused (OSError EACCES), as a shell's ``>`` would, even for root.
    """
    import stat
    import tempfile

    path = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError:
        mode = None  # a dangling or unreadable link target: the rename below says why if it fails
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        with open(path, "w", encoding="utf-8", newline="") as stream:  # a device or a pipe: written through
            stream.write(text)
        return
    if mode is not None and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES) + " (the file is read-only)", str(path))
    folder = path.parent if str(path.parent) else Path(".")
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False, newline="")
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise
