"""The overview's similar pairs: the closest pairs of students, their shared code side by side.

Built from the class's similarity (grader/classroom/similarity.py, the same data as
similarity.csv). For each flagged pair, each side shows the definitions holding shared code,
the shared lines marked and the others around them folded away, and the wrong answers they
share, case by case. Everything here came from submissions: the template escapes it all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import ClassReport
    from .similarity import SimilarPair
    from .similarity_behaviour import WrongAnswer
    from .similarity_code import Document

SHOWN_PAIRS = 10  # the closest ones: similarity.csv has them all
CONTEXT = 1  # unshared lines shown around shared ones
MAX_LINES = 40  # per side: a pair that shares a whole net is not shown all at once


@dataclass(frozen=True)
class Line:
    number: int | None  # None: lines folded away
    text: str
    shared: bool = False


@dataclass(frozen=True)
class Snippet:
    label: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Side:
    student: str
    slug: str
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True)
class PairView:
    a: Side
    b: Side
    code_similarity: float
    shared_lines: int
    answers: tuple[WrongAnswer, ...]


@dataclass(frozen=True)
class SimilarSection:
    pairs: tuple[PairView, ...]
    flagged: int  # in all (only SHOWN_PAIRS are shown)
    listed: int  # rows of similarity.csv
    error: str = ""  # why there is no comparison (the rest of the overview is not affected)


def _name(label: str) -> str:
    """The definition's name of a report's label, which is in the student's language ("f (3번째 줄)")."""
    found = re.match(r"[^\W\d]\w*", label)
    return found.group(0) if found else label


def _side(document: Document, slug: str, shared: dict[int, tuple[int, ...]]) -> Side:
    snippets, budget = [], MAX_LINES
    for index, lines in shared.items():
        if budget <= 0:
            break
        snippet = document.snippets[index]
        marked = set(lines)
        keep = {n + d for n in marked for d in range(-CONTEXT, CONTEXT + 1)}
        shown: list[Line] = []
        for offset, text in enumerate(snippet.code.splitlines()):
            number = snippet.first_line + offset
            if number in keep and budget > 0:
                shown.append(Line(number, text, number in marked))
                budget -= 1
            elif not shown or shown[-1].number is not None:
                shown.append(Line(None, "…"))
        snippets.append(Snippet(f"{_name(snippet.label)} (line {snippet.first_line})", tuple(shown)))
    return Side(document.student, slug, tuple(snippets))


def _pair_view(pair: SimilarPair, documents: dict, slugs: dict[str, str]) -> PairView:
    code = pair.code
    a = _side(documents[pair.student_a], slugs.get(pair.student_a, ""), code.lines_a if code else {})
    b = _side(documents[pair.student_b], slugs.get(pair.student_b, ""), code.lines_b if code else {})
    return PairView(a, b, pair.code_similarity, code.shared_lines if code else 0,
                    pair.behaviour.answers if pair.behaviour else ())


def similar_section(class_report: ClassReport) -> SimilarSection:
    """The section's data; a failure of the comparison is said in it, never raised."""
    from .similarity import class_similarity

    try:
        similarity = class_similarity(class_report)
        slugs = {s.student: s.slug for s in class_report.students}
        flagged = similarity.flagged
        pairs = tuple(_pair_view(p, similarity.documents, slugs) for p in flagged[:SHOWN_PAIRS])
        return SimilarSection(pairs, len(flagged), len(similarity.pairs))
    except Exception as exc:  # the overview is still written, without this part
        return SimilarSection((), 0, 0, f"{type(exc).__name__}: {exc}")
