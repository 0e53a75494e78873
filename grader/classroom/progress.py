"""Progress of a class run: a rich bar on a terminal, one plain line per student otherwise (logs, CI).

Both show what an instructor waits for: done/total, the rate, the time left and how many
students ended in error so far.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..reporters.safe_text import one_line  # names and messages come from submissions
from .results import StudentResult


def outcome(result: StudentResult) -> str:
    if result.error:
        return f"error ({result.error_kind}): {result.error.splitlines()[0][:160] if result.error else ''}"
    return f"{result.score:g}/{sum(e.max_score for e in result.exercises):g}"


class PlainProgress:
    """One line per finished student: ``[ 12/500] kim: 85/100 (0.41 s)``."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done, self.errors = total, 0, 0
        self.stream = stream or sys.stdout
        self.started = time.monotonic()

    def __enter__(self) -> "PlainProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, result: StudentResult) -> None:
        self.done += 1
        self.errors += bool(result.error)
        width = len(str(self.total))
        try:
            print(f"[{self.done:>{width}}/{self.total}] {one_line(result.student)}: {one_line(outcome(result))} "
                  f"({result.seconds:.2f} s)",
                  file=self.stream, flush=True)
        except OSError:  # the log went away (a closed pipe): grading goes on, OUTDIR has everything
            pass


class RichProgress:
    """A live bar: done/total, students per second, ETA and the count of errors so far."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.total, self.done, self.errors = total, 0, 0
        self.console = Console(file=stream or sys.stdout)
        self.progress = Progress(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
            TextColumn("{task.fields[errors]}"), TimeElapsedColumn(), console=self.console)
        self.task = self.progress.add_task("class", total=total, rate="", errors="0 errors")
        self.started = time.monotonic()

    def __enter__(self) -> "RichProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self, result: StudentResult) -> None:
        self.done += 1
        self.errors += bool(result.error)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        if result.error:
            self.progress.console.print(f"[red]✘[/] {_markup_safe(one_line(result.student))}: "
                                        f"{_markup_safe(one_line(outcome(result)))}",
                                        highlight=False)
        self.progress.update(self.task, advance=1, rate=f"{self.done / elapsed:.1f}/s",
                             errors=f"[red]{self.errors} errors[/]" if self.errors else "0 errors")


def _markup_safe(text: str) -> str:
    from rich.markup import escape
    return escape(text)


def make_progress(total: int, stream: TextIO | None = None) -> PlainProgress | RichProgress:
    stream = stream or sys.stdout
    is_tty = getattr(stream, "isatty", lambda: False)()
    return RichProgress(total, stream) if is_tty else PlainProgress(total, stream)
