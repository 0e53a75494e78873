"""``similarity.csv``: which pairs of students share their own code, or their wrong answers.

Every ``grade class`` run compares each pair of graded students from the records it keeps:

* their code (:mod:`.similarity_code`): the source of each definition grading credited to them,
  less the book's and the template's code and what most of the class shares;
* their behaviour (:mod:`.similarity_behaviour`): wrong answers that agree to many digits.

Columns: ``student_a, student_b, code_similarity, shared_lines, same_wrong_outputs, evidence``.
Only pairs with something shared are listed, flagged pairs first (``evidence`` starts with what
flags them). A student whose record cannot be read is left out and named on the terminal; a
failure of the whole comparison costs only this file and the overview's section, never the run.
"""
from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from .results import ClassReport
    from .similarity_behaviour import BehaviourMatch
    from .similarity_code import CodeMatch, Document

COLUMNS = ("student_a", "student_b", "code_similarity", "shared_lines", "same_wrong_outputs", "evidence")
SHOWN_CASES = 3
MAX_CODE = 200_000  # characters of one student's own code compared; a whole chapter is ~20,000


@dataclass(frozen=True)
class SimilarPair:
    student_a: str
    student_b: str
    code: CodeMatch | None
    behaviour: BehaviourMatch | None

    @property
    def flagged(self) -> bool:
        return bool((self.code and self.code.flagged) or (self.behaviour and self.behaviour.flagged))

    @property
    def code_similarity(self) -> float:
        return self.code.similarity if self.code else 0.0

    @property
    def same_wrong_outputs(self) -> int:
        return len(self.behaviour.answers) if self.behaviour else 0

    def evidence(self, documents: dict[str, Document]) -> str:
        parts = []
        if self.code:
            what = "similar code" if self.code.flagged else "some shared code"
            places = "; ".join(f"{side.student}: " + ", ".join(
                f"{_name(side.snippets[i].label)} lines {_ranges(lines)}" for i, lines in shared.items())
                for side, shared in ((documents[self.student_a], self.code.lines_a),
                                     (documents[self.student_b], self.code.lines_b)))
            parts.append(f"{what}: {self.code.shared} fingerprint{'s' if self.code.shared != 1 else ''} shared, "
                         f"{self.code.similarity:.0%} of the smaller one's own code ({places})")
        if self.behaviour:
            what = "same wrong answers" if self.behaviour.flagged else "a same wrong answer"
            cases = "; ".join(f"{a.exercise}: {a.case} -> {a.actual}" for a in self.behaviour.answers[:SHOWN_CASES])
            more = len(self.behaviour.answers) - SHOWN_CASES
            parts.append(f"{what} ({self.same_wrong_outputs}): {cases}" + (f"; and {more} more" if more > 0 else ""))
        return " | ".join(parts)


@dataclass(frozen=True)
class Similarity:
    pairs: tuple[SimilarPair, ...]
    documents: dict = field(default_factory=dict)  # student -> Document
    common_fragments: int = 0
    unreadable: tuple[str, ...] = ()

    @property
    def flagged(self) -> tuple[SimilarPair, ...]:
        return tuple(p for p in self.pairs if p.flagged)


def _name(label: str) -> str:
    """The definition's name of a report's label ("f (line 3)", in the student's language)."""
    found = re.match(r"[^\W\d]\w*", label)
    return found.group(0) if found else label


def _ranges(lines: tuple[int, ...]) -> str:
    spans: list[list[int]] = []
    for line in lines:
        if spans and line == spans[-1][1] + 1:
            spans[-1][1] = line
        else:
            spans.append([line, line])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def own_code(report: dict[str, Any]) -> list[Any]:
    """The snippets grading credited to the student: each graded definition's source, once, up to
    MAX_CODE characters in all (a student's 10 MB function must not slow the class's comparison)."""
    from .similarity_code import Snippet

    snippets, seen, budget = [], set(), MAX_CODE
    for exercise in report.get("exercises", ()):
        for source in exercise.get("sources", ()):
            code = source.get("code")
            if isinstance(code, str) and code not in seen and budget > 0:
                seen.add(code)
                snippets.append(Snippet(str(source.get("label", "")), code[:budget],
                                        int(source.get("first_line") or 1)))
                budget -= len(code)
    return snippets


def compare(students: list[tuple[str, dict[str, Any]]], base: frozenset[int] | None = None) -> Similarity:
    """The similar pairs of these (student, report data) in a deterministic order."""
    from .similarity_base import load_base
    from .similarity_behaviour import compare_behaviour, wrong_answers
    from .similarity_code import compare_documents, fingerprint_document

    base = load_base() if base is None else base
    documents, answers, unreadable = {}, [], []
    for name, report in sorted(students, key=lambda s: s[0]):
        try:  # a record damaged in a way no check foresaw costs its student only
            documents[name] = fingerprint_document(name, own_code(report), base)
            answers.append((name, wrong_answers(report)))
        except Exception:
            documents.pop(name, None)
            unreadable.append(name)
    code, common = compare_documents(list(documents.values()))
    behaviour = compare_behaviour(answers)
    by_pair: dict[tuple[str, str], dict[str, Any]] = {}
    for match in code:
        by_pair.setdefault((match.student_a, match.student_b), {})["code"] = match
    for match in behaviour:
        by_pair.setdefault((match.student_a, match.student_b), {})["behaviour"] = match
    pairs = [SimilarPair(a, b, found.get("code"), found.get("behaviour")) for (a, b), found in by_pair.items()]
    pairs.sort(key=lambda p: (not p.flagged, -p.code_similarity, -p.same_wrong_outputs, p.student_a, p.student_b))
    return Similarity(tuple(pairs), documents, common, tuple(unreadable))


_cache: dict[tuple, Similarity] = {}


def class_similarity(class_report: ClassReport) -> Similarity:
    """The class's similarity, computed once per class report (the CSV and the overview share it)."""
    key = (class_report.outdir, tuple((s.student, s.hash) for s in class_report.students))
    if key not in _cache:
        students, unreadable = [], []
        for student in class_report.students:
            if not student.graded:
                continue
            data = class_report.report_data_of(student)
            if data is None:
                unreadable.append(student.student)
                continue
            students.append((student.student, data))
        found = compare(students)
        _cache.clear()
        _cache[key] = Similarity(found.pairs, found.documents, found.common_fragments,
                                 tuple(unreadable) + found.unreadable)
    return _cache[key]


def render_csv(similarity: Similarity) -> str:
    import csv

    from .gradebook import cell_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(COLUMNS)
    for pair in similarity.pairs:
        writer.writerow([cell_text(pair.student_a), cell_text(pair.student_b), pair.code_similarity,
                         pair.code.shared_lines if pair.code else 0, pair.same_wrong_outputs,
                         cell_text(" ".join(pair.evidence(similarity.documents).split()))])
    return "\ufeff" + buffer.getvalue()


@hookimpl
def grader_class_report(class_report: ClassReport, outdir: Path) -> list[Path]:
    from ..reporters.safe_text import one_line
    from .results import write_atomic

    similarity = class_similarity(class_report)
    for name in similarity.unreadable:
        print(f"grade class: similarity: the record of {one_line(name)} could not be read; left out", file=sys.stderr)
    path = outdir / "similarity.csv"
    write_atomic(path, render_csv(similarity))
    return [path]
