"""What a loader produces: the submission's code as cells, each knowing where it came from."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class SubmissionError(Exception):
    """The submission cannot be graded at all (missing, unreadable, not code). Exit status 2."""


@dataclass(frozen=True)
class CodeCell:
    id: str
    source: str
    origin: str  # "" for a single file, "cell 12" in a notebook, "ch04/two_layer_net.py" in a folder
    first_line: int = 1

    def place(self, line: int) -> str:
        """Where a line of this cell is, in the student's terms: 'line 12' or 'cell 3, line 2'."""
        return f"{self.origin}, line {line}" if self.origin else f"line {line}"


@dataclass(frozen=True)
class Submission:
    path: Path
    cells: tuple[CodeCell, ...]
    # Files the student's code may open or import (a sibling common/ package, data),
    # copied into the worker's private folder: relative name -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)

    def cell(self, cell_id: str) -> CodeCell | None:
        return next((c for c in self.cells if c.id == str(cell_id)), None)


class Loader(Protocol):
    name: str

    def accepts(self, path: Path) -> bool: ...

    def load(self, path: Path) -> Submission: ...


def read_text(path: Path) -> str:
    """Read a text file a student handed in, with messages for every way it can be wrong."""
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    if path.is_dir():
        raise SubmissionError(f"{path} is a folder; give a .py file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot be read ({exc.strerror})") from None
    if b"\x00" in data:
        raise SubmissionError(f"{path}: this is a binary file, not Python source")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
