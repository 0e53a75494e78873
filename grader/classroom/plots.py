"""The class overview's plots, drawn with matplotlib as inline SVG (in the grading process only).

Each function takes plain numbers and labels that come from the grader (exercise ids,
diagnosis ids, statuses), never text from a submission, and returns an ``<svg>`` element.
Text stays text in the SVG (``svg.fonttype = none``): smaller, selectable, and the browser's
fonts draw it. The SVG is deterministic (fixed id salt, no date), like the reports.
"""
from __future__ import annotations

import io
import threading
from typing import Sequence

COLOURS = {"passed": "#1a7f37", "partial": "#d4a72c", "failed": "#cf222e", "missing": "#8250df",
           "not graded": "#8c959f"}
ACCENT = "#0969da"


def prepare_in_background() -> threading.Thread:
    """Import matplotlib's figure and SVG backend in a daemon thread (about 1 s of a class run,
    most of the overview's cost) while the pool grades and this process mostly waits on it.
    ``_figure`` then finds them imported; if the thread is still importing, Python's import lock
    makes the overview wait for it, never import twice. Nothing here runs student code."""
    def prepare() -> None:
        try:
            import matplotlib.backends.backend_svg  # noqa: F401  (savefig's format="svg")
            import matplotlib.figure  # noqa: F401
        except Exception:  # the overview imports them again and says what is wrong there
            pass

    thread = threading.Thread(target=prepare, name="overview-plots-import", daemon=True)
    thread.start()
    return thread


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=96, layout="constrained")
    return figure, figure.add_subplot()


def _svg(figure) -> str:
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dlfs-grader", "font.size": 10}):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: without the XML declaration and doctype


def _style(axes) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(length=0)
    axes.grid(axis="x", color="#d0d7de", linewidth=0.6)
    axes.set_axisbelow(True)


def score_distribution(scores: Sequence[float], max_score: float) -> str:
    figure, axes = _figure(5.2, 2.8)
    top = max_score or 1.0
    bins = [top * i / 10 for i in range(11)]
    axes.hist([min(max(s, 0.0), top) for s in scores], bins=bins, color=ACCENT, edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_xlabel(f"score (of {top:g})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    _style(axes)
    axes.grid(axis="x", visible=False)
    axes.grid(axis="y", color="#d0d7de", linewidth=0.6)
    return _svg(figure)


def exercise_outcomes(counts: dict[str, dict[str, int]]) -> str:
    """One horizontal bar per exercise, split into passed / partial / failed / missing / not graded."""
    ids = list(counts)
    figure, axes = _figure(6.4, 0.45 * len(ids) + 1.2)
    left = [0] * len(ids)
    for status, colour in COLOURS.items():
        values = [counts[i].get(status, 0) for i in ids]
        if not any(values):
            continue
        axes.barh(ids, values, left=left, color=colour, label=status, height=0.65)
        left = [a + b for a, b in zip(left, values)]
    axes.invert_yaxis()
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=5, frameon=False, fontsize=9)
    _style(axes)
    return _svg(figure)


def misconceptions(ranked: Sequence[tuple[str, int]]) -> str:
    """Diagnosis ids, most common first, by how many students show them."""
    figure, axes = _figure(6.4, 0.4 * max(len(ranked), 1) + 0.9)
    if ranked:
        ids = [r[0] for r in ranked]
        axes.barh(ids, [r[1] for r in ranked], color="#bc4c00", height=0.6)
        axes.invert_yaxis()
    else:
        axes.text(0.5, 0.5, "no misconception found", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    _style(axes)
    return _svg(figure)


def grading_times(seconds: Sequence[float]) -> str:
    figure, axes = _figure(5.2, 2.8)
    values = list(seconds) or [0.0]
    top = max(max(values), 0.5)
    axes.hist(values, bins=20, range=(0, top * 1.02), color="#6e7781", edgecolor="white")
    axes.set_xlabel("seconds to grade one submission")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    _style(axes)
    axes.grid(axis="x", visible=False)
    axes.grid(axis="y", color="#d0d7de", linewidth=0.6)
    return _svg(figure)
