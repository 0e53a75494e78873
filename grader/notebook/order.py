"""Did the cells run in the order the notebook shows them? Compares the kernel's history with the
saved notebook's code cells, matched by their code."""
from __future__ import annotations

import json
from pathlib import Path

from .history import HistoryEntry


def saved_cells(path: Path) -> list[str]:
    """The code of each code cell of the notebook at ``path``, in the notebook's order ([] if unreadable)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook.get("cells", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return []
    out = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return out


def run_order(entries: list[HistoryEntry], cells: list[str]) -> str:
    """``"In [3] (cell 5), In [4] (cell 2)"``: the inputs in the order they ran, each with the
    notebook's cell it is, when that order differs from the notebook's; "" when it does not (or
    nothing can be matched). A cell run again after a later one counts as out of order."""
    where: dict[str, list[int]] = {}
    for number, source in enumerate(cells, 1):
        where.setdefault(source.strip(), []).append(number)
    placed = []
    for entry in entries:
        numbers = where.get(entry.source.strip())
        if numbers:
            placed.append((entry.count, numbers[0]))
    positions = [number for _count, number in placed]
    if all(a < b for a, b in zip(positions, positions[1:])):
        return ""
    return ", ".join(f"In [{count}] (cell {number})" for count, number in placed)
