"""Students whose wrong answers agree to many digits: shared code, even when it was rewritten.

A wrong answer to a seeded random case is a number no one else should produce: two students
whose code is wrong in the same way give the same digits only when it is the same code. Read
from the reports the class run already keeps (each check's ``actual`` value, as data), so no
submission is run again.

What is not evidence is left out:

* a wrong answer with few significant digits (0.0, 1, True): anyone's mistake gives those;
* a wrong answer that a named mistake of the catalogue explains in both students (the same
  missing 0.5 gives the same digits to everyone who forgets it);
* a wrong answer shared by more students than ``common_limit`` allows: the class's mistake.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .similarity_code import common_limit

SIGNIFICANT = 10  # digits two answers must agree to
MIN_DIGITS = 8  # an answer needs at least one number written with this many significant digits
FLAG_OUTPUTS = 2  # shared wrong answers that make a pair worth a look on their own
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


@dataclass(frozen=True)
class WrongAnswer:
    exercise: str
    case: str  # the call, or the check's name when it has none
    actual: str  # as the report holds it


@dataclass(frozen=True)
class BehaviourMatch:
    student_a: str
    student_b: str
    answers: tuple[WrongAnswer, ...]  # student_a's wording of each shared wrong answer

    @property
    def flagged(self) -> bool:
        return len(self.answers) >= FLAG_OUTPUTS


def _significant_digits(number: str) -> int:
    mantissa = re.split(r"[eE]", number)[0].lstrip("+-").replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in number else len(mantissa)


def canonical(actual: str) -> str | None:
    """The answer's numbers to SIGNIFICANT digits, or None when it has no precise number."""
    numbers = _NUMBER.findall(actual)
    if not numbers or max(_significant_digits(n) for n in numbers) < MIN_DIGITS:
        return None
    return " ".join(f"{float(n):.{SIGNIFICANT}g}" for n in numbers)


def wrong_answers(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, WrongAnswer, frozenset[str]]]:
    """(exercise, case) -> (canonical answer, the answer, the diagnoses of that exercise)."""
    found = {}
    for exercise in report.get("exercises", ()):
        diagnoses = frozenset(str(d.get("id", "")) for d in exercise.get("diagnoses", ()))
        for check in exercise.get("checks", ()):
            if check.get("passed") is True or check.get("skipped") is True or check.get("outcome") != "wrong":
                continue
            actual = check.get("actual")
            if isinstance(actual, bool) or actual is None:
                continue
            if not isinstance(actual, str):  # a number or an array, as the report's JSON holds it
                actual = json.dumps(actual)
            key = canonical(actual)
            case = str(check.get("call") or check.get("name") or "")
            if key is not None and case:
                found[(str(exercise.get("id", "")), case)] = (key, WrongAnswer(str(exercise.get("id", "")), case,
                                                                               actual), diagnoses)
    return found


Answers = dict[tuple[str, str], tuple[str, WrongAnswer, frozenset[str]]]


def compare_behaviour(answers: list[tuple[str, Answers]], limit: int | None = None) -> list[BehaviourMatch]:
    """Every pair of students sharing at least one wrong answer that counts as evidence, from
    each student's :func:`wrong_answers`."""
    limit = common_limit(len(answers)) if limit is None else limit
    holders: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for position, (_student, found) in enumerate(answers):
        for (exercise, case), (key, _answer, _d) in found.items():
            holders[(exercise, case, key)].append(position)
    shared: dict[tuple[int, int], list[WrongAnswer]] = defaultdict(list)
    for (exercise, case, _key), who in sorted(holders.items()):
        if len(who) < 2 or len(who) > limit:
            continue
        for i, a in enumerate(who):
            for b in who[i + 1:]:
                first, second = sorted((a, b), key=lambda p: answers[p][0])
                _k, answer, diagnoses_a = answers[first][1][(exercise, case)]
                diagnoses_b = answers[second][1][(exercise, case)][2]
                if diagnoses_a & diagnoses_b:
                    continue  # the same named mistake explains the same digits
                shared[(first, second)].append(answer)
    matches = [BehaviourMatch(answers[a][0], answers[b][0], tuple(found)) for (a, b), found in shared.items()]
    matches.sort(key=lambda m: (-len(m.answers), m.student_a, m.student_b))
    return matches
