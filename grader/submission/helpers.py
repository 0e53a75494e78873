"""The student's own module files the worker ran, as cells of the submission (``common/functions.py``)."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..loaders.base import CodeCell, Submission, decode_source


def with_helpers(submission: Submission, reported: dict, roots: list[Path],
                 staged: dict[str, bytes] | None = None, staged_root: Path | None = None) -> Submission:
    """The student's own module files the worker ran (``common/functions.py``), as cells of the
    submission, so their definitions can be placed and shown like any other.

    Their text is the staged copy's (``staged``: paths relative to ``staged_root``): what the worker
    ran, never read again from the disk, which may have changed meanwhile."""
    helpers = []
    modules = reported.get("modules") if isinstance(reported, dict) else None
    folder = submission.folder.resolve()
    for module in modules if isinstance(modules, list) else []:
        try:
            index, rel, cell_id = int(module["root"]), str(module["rel"]), str(module["cell"])
            if index < 0:
                continue
            root = roots[index].resolve()
            path = Path(os.path.normpath(root / rel))
            # The worker's word is not trusted: only a .py file inside that root is read.
            if path.suffix != ".py" or not path.is_relative_to(root):
                continue
            if staged is not None and staged_root is not None:
                data = staged[path.relative_to(staged_root).as_posix()]
            elif index < 2:
                data = submission.files[path.relative_to(folder).as_posix()]
            else:
                data = path.read_bytes()
            text = decode_source(data)
        except (KeyError, IndexError, ValueError, OSError, TypeError):
            continue
        if text is None or any(h.id == cell_id for h in helpers):
            continue
        shown = os.path.relpath(path, folder).replace(os.sep, "/")
        helpers.append(CodeCell(cell_id, text, shown))
    return replace(submission, helpers=tuple(helpers)) if helpers else submission
