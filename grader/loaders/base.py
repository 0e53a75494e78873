"""What a loader produces: the submission's code as cells, each knowing where it came from."""
from __future__ import annotations

import stat

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..i18n import _


class SubmissionError(Exception):
    """The submission cannot be graded at all (missing, unreadable, not code). Exit status 2."""


@dataclass(frozen=True)
class CodeCell:
    id: str
    source: str
    origin: str  # "" for a single file, "cell 12" in a notebook, "ch04/two_layer_net.py" in a folder
    first_line: int = 1
    # The module the cell runs in: "" for the submission's one namespace (a file, a notebook);
    # in a folder each .py file is its own module, importable by its siblings under its name.
    module: str = ""
    importable: bool = False

    def place(self, line: int) -> str:
        """Where a line of this cell is, in the student's terms: 'line 12' or 'In [3], line 2'."""
        if self.origin:
            return _("{origin}, line {line}").format(origin=self.origin, line=line)
        return _("line {line}").format(line=line)


@dataclass(frozen=True)
class Submission:
    path: Path
    cells: tuple[CodeCell, ...]
    # Files the student's code may open or import (a sibling common/ package, data),
    # copied into the worker's private folder: relative name -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)
    # Cells that are not Python (a %%bash cell): (where, why), listed in the report.
    skipped: tuple[tuple[str, str], ...] = ()
    # The student's own module files their code imported (common/functions.py), as cells, so
    # that the report can show and place the definitions in them; filled in after loading.
    helpers: tuple[CodeCell, ...] = ()

    @property
    def folder(self) -> Path:
        """The folder the student works in: imports and data files are looked up from here."""
        return self.path if self.path.is_dir() else self.path.parent

    def cell(self, cell_id: str) -> CodeCell | None:
        index = self.__dict__.get("_index")
        if index is None:  # built once: a submission may have thousands of cells
            index = {c.id: c for c in self.helpers + self.cells}
            object.__setattr__(self, "_index", index)
        return index.get(str(cell_id))


class Loader(Protocol):
    name: str

    def accepts(self, path: Path) -> bool: ...

    def load(self, path: Path) -> Submission: ...


def read_text(path: Path) -> str:
    """Read a text file a student handed in, with messages for every way it can be wrong."""
    if not path.exists():
        raise SubmissionError(_("{path}: no such file or folder").format(path=path))
    if not path.is_file():  # a FIFO or a device would block the read forever
        raise SubmissionError(_("{path}: not a regular file").format(path=path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(_("{path}: cannot be read ({reason})").format(path=path, reason=exc.strerror)) from None
    if b"\x00" in data:
        raise SubmissionError(_("{path}: this is a binary file, not Python source").format(path=path))
    text = decode_source(data)
    if text is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SubmissionError(_("{path}: not UTF-8 text (byte {position}); save the file as UTF-8").format(
                path=path, position=exc.start)) from None
    return text


def decode_source(data: bytes) -> str | None:
    """Source text as Python reads it (a coding line, else UTF-8), or as learners save it on
    Windows without saying so: cp949 (Korean), cp932 (Japanese), GBK (Chinese). None if none fits."""
    import io
    import tokenize
    try:
        declared = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        declared = "utf-8"
    for encoding in (declared, "utf-8", "cp949", "cp932", "gb18030"):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        return text[1:] if text.startswith("\ufeff") else text
    return None


# What is copied beside the submission into the worker's folder: the student's own
# modules and packages (common/, two_layer_net.py) and small data files, never large
# or hidden ones. The full MNIST cache is read in place instead (dataset/mnist.py).
COPY_SUFFIXES = {".py", ".pkl", ".npy", ".npz", ".csv", ".txt", ".json", ".gz"}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 40 * 1024 * 1024
SKIP_DIRS = {".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules", ".tox"}


def sibling_files(folder: Path, depth: int = 2) -> dict[str, bytes]:
    """Small files in ``folder`` (and its subfolders, ``depth`` deep), relative name -> bytes."""
    files: dict[str, bytes] = {}
    total = 0

    def walk(current: Path, level: int) -> None:
        nonlocal total
        try:
            entries = sorted(current.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIP_DIRS or entry.is_symlink():
                continue
            if entry.is_dir():
                if level < depth:
                    walk(entry, level + 1)
            elif entry.suffix.lower() in COPY_SUFFIXES:
                try:
                    info = entry.stat()
                    if not stat.S_ISREG(info.st_mode):
                        continue  # a FIFO or a device named *.py would block the read forever
                    size = info.st_size
                    if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
                        continue
                    files[entry.relative_to(folder).as_posix()] = entry.read_bytes()
                    total += size
                except OSError:
                    continue

    walk(folder, 0)
    return files
