"""Late work: when each student handed in, and what the late policy takes for it.

When comes from what the download itself carries, never from guessing:

* Canvas marks a late submission ``_LATE_`` in the bulk download's file name, without a time: the
  policy's ``unknown_time`` rule says what that costs;
* nbgrader writes ``timestamp.txt`` beside each submission (``2026-10-05 23:59:01.123456 UTC``);
* a GitHub Classroom clone's last commit time (read with ``git log``, no network; the student's own
  clock wrote it, so ``--times`` from the push log is the stronger source where it matters);
* otherwise ``--times FILE`` (a CSV of ``student, time``), which also overrides all of the above;
* file modification times only with ``--times-from-mtime``: a copy or an unzip changes them.

A student whose time is not known is treated as on time, and their report says nothing of lateness.
"""
from __future__ import annotations

import csv
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..report import Adjustment
from ..specs.late_policy import LatePolicy, PolicyError, duration_text, parse_due
from .outcome import UsageError
from .roster import Student

CANVAS_LATE = re.compile(r"^[^_]+?_LATE_\d+_\d+_")
NBGRADER_FORMATS = ("%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class HandedIn:
    """When a student handed in, as far as the download says: a time, or only a late mark."""

    at: datetime | None  # None with ``marked_late``: late, but when is not known
    source: str  # canvas-late | nbgrader | git | times-file | mtime
    marked_late: bool = False


def read_times_file(path: Path) -> dict[str, datetime]:
    """``--times FILE``: ``student,time`` rows (a header row is allowed); a bad row is named by its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--times {path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    times: dict[str, datetime] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if number == 1 and row[0].strip().lower() in ("student", "id", "username"):
            continue
        if len(row) < 2:
            raise UsageError(f"--times {path}, line {number}: expected student,time (e.g. kim,2026-10-05T23:59+09:00)")
        try:
            times[row[0].strip()] = parse_due(row[1], f"--times {path}, line {number}")
        except PolicyError as exc:
            raise UsageError(str(exc)) from None
    return times


def handed_in(student: Student, times: dict[str, datetime], from_mtime: bool = False) -> HandedIn | None:
    if student.id in times:
        return HandedIn(times[student.id], "times-file")
    if student.layout == "canvas" and any(CANVAS_LATE.match(e.path.name) for e in student.entries):
        return HandedIn(None, "canvas-late", marked_late=True)
    if student.layout == "nbgrader":
        for entry in student.entries:
            stamp = _nbgrader_timestamp(entry.path / "timestamp.txt")
            if stamp is not None:
                return HandedIn(stamp, "nbgrader")
    if student.layout == "github-classroom":
        for entry in student.entries:
            stamp = last_commit_time(entry.path)
            if stamp is not None:
                return HandedIn(stamp, "git")
    if from_mtime:
        stamp = _newest_mtime([e.path for e in student.entries])
        if stamp is not None:
            return HandedIn(stamp, "mtime")
    return None


def _nbgrader_timestamp(path: Path) -> datetime | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()[:100]
    except OSError:
        return None
    for fmt in NBGRADER_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        # nbgrader writes UTC ("... UTC"); a stamp without a zone is read as UTC too, as nbgrader means it.
        return value.replace(tzinfo=timezone.utc)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def last_commit_time(folder: Path) -> datetime | None:
    """The committer time of HEAD in ``folder``'s own repository, read by git without the network.

    The repository is the student's: no pager, no hooks, no fsmonitor, nothing of the user's or the
    system's configuration, and only a repository at ``folder`` itself (never one above it)."""
    if not (folder / ".git").exists():
        return None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_TERMINAL_PROMPT": "0", "GIT_CEILING_DIRECTORIES": str(folder.parent), "HOME": os.devnull}
    try:
        done = subprocess.run(["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
                               "-c", f"safe.directory={folder}", "--no-pager", "-C", str(folder),
                               "log", "-1", "--format=%ct"], capture_output=True, text=True, timeout=20, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        return None
    return datetime.fromtimestamp(int(done.stdout.strip()), timezone.utc)


def _newest_mtime(paths: list[Path]) -> datetime | None:
    newest = None
    for path in paths:
        for item in [path, *(path.rglob("*") if path.is_dir() else ())]:
            try:
                if item.is_symlink() or not item.is_file():
                    continue
                stamp = item.stat().st_mtime
            except OSError:
                continue
            newest = stamp if newest is None else max(newest, stamp)
    return datetime.fromtimestamp(newest, timezone.utc) if newest is not None else None


def late_adjustment(when: HandedIn | None, due: datetime, policy: LatePolicy, score: float,
                    max_score: float) -> Adjustment | None:
    """What the policy does to ``score`` for work handed in ``when``; None when it was on time (or
    when is not known). The reason is data here (the policy's terms); reports word it (the student's
    language), see grader/reporters/adjustment_notes.py."""
    if when is None:
        return None
    if when.at is None:
        percent, late_seconds, submitted = policy.percent_unknown(), None, ""
    else:
        late_seconds = (when.at - due).total_seconds()
        if late_seconds <= 0:
            return None
        percent, submitted = policy.percent_for(late_seconds), when.at.astimezone(due.tzinfo).isoformat()
    after = max(0.0, round(score - max_score * percent / 100.0, 2))
    return Adjustment("late", f"{policy.describe()}; due {due.isoformat()}; source {when.source}",
                      before=score, after=after, submitted_at=submitted, late_seconds=late_seconds, percent=percent)


def late_text(seconds: float | None) -> str:
    """How late, for the gradebook: ``1d2h``, ``35m``; "" when not known."""
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    text = "".join(parts)
    return text or duration_text(secs)
