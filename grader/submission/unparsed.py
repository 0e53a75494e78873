"""Files and cells of the student's that Python could not parse, and the exercises they hold."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..specs.exercises import Exercise
from ..i18n import _
from ..loaders.base import Submission
from .finding import how_near


@dataclass(frozen=True)
class Unparsed:
    """A file or cell that does not parse: where, the line, Python's reason, and what it defines."""

    where: str
    line: int
    reason: str
    defines: tuple[str, ...]


DEFINITION_LINE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)", re.MULTILINE)


def unparsed_cells(loaded: dict, submission: Submission) -> tuple[Unparsed, ...]:
    """Every cell or module file of the student's that Python could not parse."""
    found = []
    places = [(r.get("cell"), r.get("line", 0), (r.get("error") or {}).get("message", ""))
              for r in loaded.get("statements", []) if isinstance(r, dict) and r.get("status") == "syntax-error"]
    broken = (loaded.get("definitions") or {}).get("broken") or []
    places += [(b.get("cell"), b.get("line", 0), b.get("message", "")) for b in broken if isinstance(b, dict)]
    for cell_id, line, reason in places:
        cell = submission.cell(str(cell_id))
        if cell is None or not isinstance(line, int):
            continue
        where = cell.origin or submission.path.name
        found.append(Unparsed(where, int(line or 0) + cell.first_line - 1, _describe_syntax_error(str(reason)),
                              tuple(DEFINITION_LINE.findall(cell.source))))
    return tuple(found)


def _describe_syntax_error(reason: str) -> str:
    """Python's reason, with the name of an invisible character it mentions (U+3000 ideographic space)."""
    import unicodedata
    match = re.search(r"U\+([0-9A-Fa-f]{4,6})", reason)
    if match:
        try:
            name = unicodedata.name(chr(int(match.group(1), 16))).lower()
            return f"U+{match.group(1).upper()} {name} ({reason})"
        except ValueError:
            pass
    return reason


def unparsed_definition(exercise: Exercise, broken: tuple[Unparsed, ...]) -> str:
    for item in broken:
        name = next((n for n in item.defines if exercise.matches(n) or how_near(exercise, n)), None)
        if name is not None:
            return _("`{name}` is in {where}, which does not parse: line {line}, {reason}. Python cannot run any "
                     "of that file or cell until this is fixed.").format(name=name, where=item.where,
                                                                          line=item.line, reason=item.reason)
    return ""
