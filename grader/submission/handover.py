"""Handing a submission over to the worker: read it, plan its top-level statements, send the load.

Kept apart from session.py (which grades) and light on purpose: it imports neither NumPy nor the
checks. So ``grade`` can hand the submission over while the worker is still starting, and load the
rest of the grader (NumPy, the plugins, the exercise specs) while the worker runs the student's
code, instead of one after the other (issue 13).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pluggy

from ..i18n import _
from ..loaders.base import CodeCell, Submission, SubmissionError
from ..specs.files import spec_folders_answer_keys
from .repository import Staging, stage
from .toplevel import plan
from ..worker.client import WorkerClient

MAX_CODE_BYTES = 2_000_000  # the book's whole chapter 4 with every exercise is about 30 kB


@dataclass(frozen=True)
class Handover:
    """A submission read and planned, and its load request on its way to the worker."""

    path: Path
    submission: Submission | None
    plans: dict[str, list[str]]
    # Where the worker's module files come from, as the worker numbers them: the submission's
    # folder, again, and the repository's root (see grader/submission/repository.py)
    roots: tuple[Path, ...]
    refused: SubmissionError | None = None  # why the submission cannot be graded (grade raises it)
    staging: Staging | None = None  # what the worker got of the student's repository


def load_submission(pm: pluggy.PluginManager, path: Path) -> Submission:
    # Call order is newest plugin first: a plugin's loader may claim a path before the built-ins.
    loaders = [loader for group in pm.hook.grader_loaders() for loader in group or ()]
    for loader in loaders:
        if loader.accepts(path):
            return loader.load(path)
    if not path.exists():
        raise SubmissionError(_("{path}: no such file or folder").format(path=path))
    kinds = ", ".join(sorted({getattr(l, "name", "?") for l in loaders}))
    raise SubmissionError(_("{path}: cannot grade this kind of file (loaders available: {kinds}); hand in your "
                            "code as a .py file, a notebook (.ipynb) or a folder").format(path=path, kinds=kinds))


def hand_over(path: Path, pm: pluggy.PluginManager, worker: WorkerClient, protect: Iterable[str],
              ceiling: Path | None = None) -> Handover:
    """Read ``path`` with ``pm``'s loaders, plan it, stage the part of the student's repository it
    reaches (never above ``ceiling``), and start the worker's load (:meth:`WorkerClient.start_load`)."""
    try:
        # A .py file's code is at least as long in UTF-8 as on disk: one over the limit is refused
        # before it is read and parsed (a 9 MB file took 7 s and 750 MB only to be refused).
        on_disk = path.stat().st_size if path.suffix.lower() == ".py" and path.is_file() else 0
    except OSError:
        on_disk = 0
    if on_disk > MAX_CODE_BYTES:
        raise _too_large(path, on_disk)
    submission = load_submission(pm, path)
    size = sum(len(c.source.encode("utf-8")) for c in submission.cells)
    if size > MAX_CODE_BYTES:
        raise _too_large(path, size)
    protect = sorted(set(protect))
    staging = stage(submission, ceiling, tuple(protect))
    top = worker_top(staging.root)
    worker.files = {f"{top}/{name}": data for name, data in staging.files.items()}
    worker.home = f"{top}/{staging.home}" if staging.home else top
    plotting: set[str] = set()
    plans = {c.id: plan(c.source, plotting) for c in submission.cells}  # in order: a notebook shares its names
    cells = [_cell_request(c, plans[c.id]) for c in submission.cells]
    folder = submission.folder.resolve()
    roots = (folder, folder, staging.root)
    worker.start_load(cells, path.name, [], protect)
    return Handover(path, submission, plans, roots, staging=staging)


def worker_top(root: Path) -> str:
    """The name the repository's root has in the worker: its own, when that is a plain name."""
    name = root.name
    return name if name and name.isprintable() and name not in (".", "..") and name.encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace") == name and len(name) <= 100 else "repo"


def _too_large(path: Path, size: int) -> SubmissionError:
    # Grading is linear in the code's size (about 0.3 s per 1,000 statements), but no one's
    # chapter 4 is megabytes of code: refuse at once rather than spend the total time limit.
    return SubmissionError(_("{name}: {size:.1f} MB of code; a chapter-4 submission is far smaller, so the "
                             "grader refuses more than {limit:g} MB (is a data file pasted into the code?)"
                             ).format(name=path.name, size=size / 1e6, limit=MAX_CODE_BYTES / 1e6))


def _cell_request(cell: CodeCell, categories: list[str]) -> dict:
    request = {"id": cell.id, "source": cell.source, "plan": categories}
    if cell.module:
        request.update(module=cell.module, importable=cell.importable, file=cell.origin)
        if "/" in cell.origin and not cell.module.startswith("__dlfs_submission__/"):
            # A subfolder's file runs with its own folder first on sys.path, as `python sub/x.py` would.
            request["dir"] = cell.origin.rpartition("/")[0]
    return request


def hand_over_early(path: Path | None, worker: WorkerClient | None, plugins: Iterable[str] = (),
                    exercise_dirs: Iterable[Path] = (), ceiling: Path | None = None) -> Handover | None:
    """``path`` handed over before NumPy, the checks and the specs are loaded, or None.

    Only when nothing but the built-in plugins is in play (no ``--plugin``, no ``--exercises``, no
    installed plugin), so that the loaders and the answer keys are exactly the ones the full plugin
    manager has. Anything that goes wrong here is left to the usual order, which meets it again
    and reports it.
    """
    from ..plugins import HANDOVER_PLUGINS, make_manager, only_builtins

    if worker is None or path is None or not only_builtins(plugins, exercise_dirs):
        return None
    try:
        pm = make_manager(plugins=HANDOVER_PLUGINS, entry_points_group=None)
        protect = spec_folders_answer_keys(pm)
        return hand_over(path, pm, worker, protect, ceiling) if protect is not None else None
    except SubmissionError as exc:  # the same loaders would refuse it again: say so once, not twice
        return Handover(path, None, {}, (), refused=exc)
    except Exception:
        return None
