"""A student's result as data, written to OUTDIR atomically the moment it is known, and the class report.

``OUTDIR/.results/<slug>.json`` is the record of one student: the content hash their result
was graded from, the time it took, the error if any and the full report. It is written last,
after the student's HTML and JSON reports, with a rename, so it is there only when everything
for that student is: a kill or a power cut loses nothing already graded, and the next run
resumes from the records whose hash still matches.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from ..report import Adjustment, BookCode, penalty_of, raw_score_of, CheckResult, Diagnosis, ExerciseResult, Report, SourceSnippet, Statement

RECORDS = ".results"
REPORTS = "reports"
RECORD_FORMAT = 1


@dataclass(frozen=True)
class ExerciseSummary:
    """What the class outputs need of one exercise of one student (the full report stays on disk)."""

    id: str
    status: str
    score: float
    max_score: float
    diagnoses: tuple[Diagnosis, ...] = ()
    book_listing: bool = False  # the student's own code, matching a listing printed in the book


@dataclass(frozen=True)
class StudentResult:
    """One student's result. The parent process and the class outputs hold only the summary
    (``exercises``), so memory stays bounded by -j, not by the class size; ``report`` is the
    full report where it was just produced, and :meth:`ClassReport.report_of` reads it back."""

    student: str
    slug: str
    files: tuple[str, ...]  # what they handed in, relative to SUBMISSIONS
    layout: str
    hash: str
    lang: str = "en"
    seconds: float = 0.0
    exercises: tuple[ExerciseSummary, ...] = ()
    error: str = ""  # why they could not be graded: shown in the gradebook
    error_kind: str = ""  # unreadable | timeout | crash | internal ("" when graded)
    notes: tuple[str, ...] = ()
    report: Report | None = field(default=None, compare=False)
    # The teacher's rules laid over the record in this run (grader/classroom/adjusting.py); never in
    # the record itself, which stays as graded. Overrides are already in ``exercises``.
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def graded(self) -> bool:
        return not self.error

    @property
    def raw_score(self) -> float:
        return raw_score_of(self.exercises)

    @property
    def penalty(self) -> float:
        return penalty_of(self.adjustments)

    @property
    def score(self) -> float:
        return round(self.raw_score - self.penalty, 2)

    def late(self) -> Adjustment | None:
        return next((a for a in self.adjustments if a.kind == "late"), None)

    def overrides(self) -> tuple[Adjustment, ...]:
        return tuple(a for a in self.adjustments if a.kind == "override")

    def exercise(self, exercise_id: str) -> ExerciseSummary | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def status_of(self, exercise_id: str) -> str:
        found = self.exercise(exercise_id)
        return found.status if found else ""

    def diagnoses(self) -> list[str]:
        return sorted({d.id for e in self.exercises for d in e.diagnoses})

    def summary(self) -> "StudentResult":
        """Without the full report: what travels to the parent process and stays in memory."""
        return replace(self, report=None)

    def to_dict(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, "student": self.student, "slug": self.slug, "files": list(self.files),
                "layout": self.layout, "hash": self.hash, "lang": self.lang, "seconds": self.seconds,
                "error": self.error, "error_kind": self.error_kind, "notes": list(self.notes),
                "report": self.report.to_dict() if self.report else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], full: bool = False) -> "StudentResult":
        _check_types(data)
        report = data.get("report")
        exercises = tuple(ExerciseSummary(e["id"], e["status"], float(e["score"]), float(e["max_score"]),
                                          tuple(Diagnosis(**d) for d in e.get("diagnoses", ())),
                                          e.get("book_listing") is True)
                          for e in (report or {}).get("exercises", ()))
        return cls(str(data["student"]), str(data["slug"]), tuple(data.get("files", ())), str(data.get("layout", "")),
                   str(data["hash"]), str(data.get("lang", "en")), float(data.get("seconds", 0.0)), exercises,
                   str(data.get("error", "")), str(data.get("error_kind", "")), tuple(data.get("notes", ())),
                   report_from_dict(report) if full and report else None)

    @classmethod
    def from_report(cls, base: "StudentResult", report: Report) -> "StudentResult":
        exercises = tuple(ExerciseSummary(e.id, e.status, e.score, e.max_score, e.diagnoses, e.book_listing)
                          for e in report.exercises)
        return replace(base, exercises=exercises, report=report)


@dataclass(frozen=True)
class ExerciseInfo:
    id: str
    title: str
    max_score: float


@dataclass(frozen=True)
class ClassReport:
    """What the class-level plugins (``grader_class_report``) receive: every student's result."""

    submissions: str
    outdir: str
    exercises: tuple[ExerciseInfo, ...]
    students: tuple[StudentResult, ...]
    ignored: tuple[tuple[str, str], ...] = ()  # entries of SUBMISSIONS that belong to no student
    lang: str = "en"  # the language of the class overview
    formats: tuple[str, ...] = ("html", "json")  # per-student report formats written
    complete: bool = True  # False when the run was interrupted: some students are not graded yet
    graded_now: int = 0
    pending: tuple[str, ...] = field(default=())  # students not graded (yet)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 2)

    def in_error(self) -> list[StudentResult]:
        return [s for s in self.students if s.error]

    def report_of(self, student: StudentResult) -> Report | None:
        """The student's full report, read from their record in OUTDIR (one at a time keeps memory flat)."""
        record = read_record(Path(self.outdir), student.slug, full=True)
        return record.report if record else None

    def report_data_of(self, student: StudentResult) -> dict[str, Any] | None:
        """The same as plain data (``Report.to_dict()``), without building the report objects."""
        try:
            data = json.loads(record_path(Path(self.outdir), student.slug).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        report = data.get("report") if isinstance(data, dict) else None
        return report if isinstance(report, dict) else None


_TEXT_FIELDS = ("student", "slug", "hash", "layout", "lang", "error", "error_kind")


def _check_types(data: dict[str, Any]) -> None:
    """Raise ValueError for a field of the wrong type: ``str(None)`` would make a gradebook error "None",
    ``tuple("a.py")`` a list of letters. Only what this grader writes is read back as a result."""
    wrong = [key for key in _TEXT_FIELDS if not isinstance(data.get(key, ""), str)]
    wrong += [key for key in ("files", "notes") if not isinstance(data.get(key, []), list)
              or not all(isinstance(item, str) for item in data.get(key, []))]
    seconds = data.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        wrong.append("seconds")
    if not isinstance(data.get("report"), (dict, type(None))):
        wrong.append("report")
    if wrong:
        raise ValueError(f"fields of the wrong type: {', '.join(wrong)}")


def report_path(outdir: Path, slug: str, fmt: str) -> Path:
    suffix = {"markdown": "md"}.get(fmt, fmt)
    return outdir / REPORTS / f"{slug}.{suffix}"


def record_path(outdir: Path, slug: str) -> Path:
    return outdir / RECORDS / f"{slug}.json"


def write_atomic(path: Path, text: str | Iterable[str], encoding: str = "utf-8") -> None:
    """Write ``text`` (or its pieces, as they come) to ``path`` so that readers see the old file or the
    whole new one, never a part.

    A lone surrogate (the bytes of a name that is not UTF-8, should one get this far) is written as
    its escape, ``\\udcb1``: in JSON that is the same string again, elsewhere it is visible text; a
    student's file name never makes a write fail."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding=encoding, errors="backslashreplace", newline="") as out:
            for piece in [text] if isinstance(text, str) else text:
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def write_record(outdir: Path, result: StudentResult) -> None:
    write_atomic(record_path(outdir, result.slug), json.dumps(result.to_dict(), ensure_ascii=False))


def read_record(outdir: Path, slug: str, full: bool = False) -> StudentResult | None:
    """The student's finished result (with the full report if ``full``), or None when there is none
    (or it cannot be read: then the student is graded again)."""
    try:
        data = json.loads(record_path(outdir, slug).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
            return None
        # The full report is read even for the summary: a record kept on a rerun must give its report
        # back later (ClassReport.report_of), or the gradebook would hold a row without one.
        record = StudentResult.from_dict(data, full=True)
        return record if full else record.summary()
    except Exception:  # whatever a damaged or foreign file holds: no record, the student is graded again
        return None


def report_from_dict(data: dict[str, Any]) -> Report:
    """The inverse of :meth:`Report.to_dict`."""
    exercises = tuple(
        ExerciseResult(e["id"], e["title"], e["section"], e["status"], float(e["score"]), float(e["max_score"]),
                       e.get("graded_name", ""), tuple(CheckResult(**c) for c in e.get("checks", ())),
                       tuple(Diagnosis(**d) for d in e.get("diagnoses", ())), e.get("message", ""),
                       tuple(SourceSnippet(**s) for s in e.get("sources", ())),
                       graded=e.get("graded") is not False, book_listing=e.get("book_listing") is True)
        for e in data.get("exercises", ()))
    statements = tuple(Statement(**s) for s in data.get("statements", ()))
    book_code = tuple(BookCode(**{**b, "names": tuple(b.get("names", ()))}) for b in data.get("book_code", ()))
    adjustments = tuple(Adjustment(**a) for a in data.get("adjustments", ()))
    # Everything to_dict keeps (a page written again from a record shows what the first one showed).
    return Report(data["submission"], exercises, statements, lang=data.get("lang", "en"),
                  isolation=str(data.get("isolation", "")), error=str(data.get("error", "")),
                  assignment=str(data.get("assignment", "")), book_code=book_code,
                  book_rule=data.get("book_rule", "not-credited"), adjustments=adjustments)
