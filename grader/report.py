"""The report model: what grading produced, as plain data (DESIGN.md principle 4).

JSON is a plain dump of :meth:`Report.to_dict`; every renderer reads only this object.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

STATUSES = ("passed", "partial", "failed", "missing", "error", "timeout")


@dataclass(frozen=True)
class CheckResult:
    """One comparison. ``expected``/``actual`` are JSON-ready; ``call`` says what was called."""

    name: str
    passed: bool
    message: str
    expected: Any = None
    actual: Any = None
    call: str = ""
    hint: str = ""
    graded_by: str = ""
    skipped: bool = False
    outcome: str = "ok"  # ok | wrong | error | timeout | crash: how the student's code behaved
    weight: float = 1.0
    hidden: bool = False  # a hidden case: student-facing reports show only its name and verdict
    # Code that rebuilds the failing call, for the student to paste (grader/checking/reproduce.py).
    reproduce: str = ""


@dataclass(frozen=True)
class SourceSnippet:
    """The student's code of a graded definition, as they wrote it."""

    label: str
    code: str
    first_line: int


@dataclass(frozen=True)
class Diagnosis:
    """A named mistake (a diagnosis rule's id) and what it tells the student."""

    id: str
    message: str


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise's verdict: its status and points, its checks, the mistakes named, the code graded."""

    id: str
    title: str
    section: str
    status: str
    score: float
    max_score: float
    graded_name: str
    checks: tuple[CheckResult, ...] = ()
    diagnoses: tuple[Diagnosis, ...] = ()
    message: str = ""
    sources: tuple[SourceSnippet, ...] = ()
    duration: float = 0.0  # seconds spent grading this exercise
    graded: bool = True  # False: the total time limit ran out before this exercise was done
    # The graded definition is the student's own, and matches a listing printed in the book
    # (typing the listing is the exercise: it counts, and the instructor can see it).
    book_listing: bool = False


@dataclass(frozen=True)
class BookCode:
    """A file of the submission that is the book's own code (grader/submission/book_code.py): the
    file as the student names it, where the book has it, and ``names`` when only those
    definitions of a helper file are the book's (empty: the whole file is)."""

    file: str
    repository: str
    path: str
    commit: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """A top-level statement of the submission that did not simply run: failed, abandoned or skipped."""

    place: str  # "line 12" or "cell 3, line 2"
    status: str
    message: str = ""


def raw_score_of(exercises: Iterable["ExerciseResult"]) -> float:
    """The points of graded exercises (overrides included), before any late penalty: a report's and a
    class record's score are the same sum."""
    return round(sum(e.score for e in exercises), 2)


def penalty_of(adjustments: Iterable["Adjustment"]) -> float:
    """The points a late penalty took (overrides change exercises, not the penalty)."""
    return round(sum(a.before - a.after for a in adjustments if a.kind == "late"), 2)


@dataclass(frozen=True)
class Adjustment:
    """A change the teacher's rules made to the grade after grading (grader/classroom/late.py and
    overrides.py): a late penalty on the whole, or an override of one exercise. ``reason`` says why,
    in the policy's terms or the teacher's own words."""

    kind: str  # "late" | "override"
    reason: str
    before: float  # points before this change (the exercise's, or the whole's for "late")
    after: float
    exercise: str = ""  # the exercise overridden; "" for the whole
    status: str = ""  # an override's status, when it set one
    submitted_at: str = ""  # "late": when the work was handed in (ISO 8601), "" when not known
    late_seconds: float | None = None  # "late": how late, None when not known (a LATE mark alone)
    percent: float = 0.0  # "late": the percent of the points possible taken


@dataclass(frozen=True)
class Report:
    """One grading of one submission: what every renderer shows (see to_dict for its plain data)."""

    submission: str
    exercises: tuple[ExerciseResult, ...]
    statements: tuple[Statement, ...] = ()
    lang: str = "en"
    # How the student's code was isolated: "namespaces+seccomp", "namespaces", "uid+landlock+seccomp",
    # "uid+seccomp", "landlock+seccomp", "seccomp" or "process only" (grader/worker/isolation.py,
    # docs/sandbox.md); "" when no worker ran.
    isolation: str = ""
    # Why the submission could not be graded (entirely): it did not load, or the total
    # time limit ran out. Empty for a complete grading.
    error: str = ""
    assignment: str = ""  # the exercise set graded (an assignment's id)
    grader_version: str = ""
    graded_at: str = ""  # when grading started, ISO 8601 in UTC
    duration: float = 0.0  # seconds, loading the submission included
    # The submission's files that are the book's own code, and the assignment's rule for them:
    # "not-credited" (the default: never graded as the student's work) or "credited".
    book_code: tuple[BookCode, ...] = ()
    book_rule: str = "not-credited"
    # What the teacher's rules changed after grading (overrides are already in ``exercises``, the
    # late penalty is taken from the total): empty for a report as graded.
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def raw_score(self) -> float:
        """The points of the exercises (overrides included), before any late penalty."""
        return raw_score_of(self.exercises)

    @property
    def penalty(self) -> float:
        return penalty_of(self.adjustments)

    @property
    def score(self) -> float:
        return round(self.raw_score - self.penalty, 2)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 2)

    @property
    def all_passed(self) -> bool:
        return all(e.status == "passed" for e in self.exercises)

    def to_dict(self, run_info: bool = False) -> dict[str, Any]:
        """The report as plain data. ``run_info`` adds what differs from run to run of the same
        submission (the grader's version, when and how long): the rest is deterministic."""
        data: dict[str, Any] = {
            "submission": self.submission,
            "lang": self.lang,
            "isolation": self.isolation,
            "assignment": self.assignment,
            "book_rule": self.book_rule,
            "book_code": [asdict(b) for b in self.book_code],
            "error": self.error,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [
                {"id": e.id, "title": e.title, "section": e.section, "status": e.status, "score": e.score,
                 "max_score": e.max_score, "graded_name": e.graded_name, "message": e.message, "graded": e.graded,
                 "book_listing": e.book_listing,
                 "checks": [asdict(c) for c in e.checks], "diagnoses": [asdict(d) for d in e.diagnoses],
                 "sources": [asdict(s) for s in e.sources]}
                for e in self.exercises
            ],
            "statements": [asdict(s) for s in self.statements],
        }
        if self.adjustments:  # a report as graded keeps exactly its former shape
            data.update(raw_score=self.raw_score, penalty=self.penalty,
                        adjustments=[asdict(a) for a in self.adjustments])
        if run_info:
            data.update(grader_version=self.grader_version, graded_at=self.graded_at, duration=round(self.duration, 3))
            for exercise, result in zip(data["exercises"], self.exercises):
                exercise["duration"] = round(result.duration, 3)
        return data
