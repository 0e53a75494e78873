"""A name the student's own import should have bound, when that import failed.

Said instead of "undefined-name" (grader/diagnoses/code_mistakes.py), which is only for a name the
student's code never defines or imports: telling a student to "import it" when their import is
right there, and failed for a reason the grader can name, would send them after the wrong fix.
"""
from __future__ import annotations

import re

from .model import DiagnosisRule, Evidence
from ..i18n import N_, _


def failed_import(e: Evidence, name: str):
    return (e.imports or {}).get(name)


def name_errors(e: Evidence) -> list[str]:
    names = []
    for o in e.failed():
        if o.error is not None and o.error.type == "NameError":
            match = re.search(r"name '(\w+)' is not defined", o.error.message)
            if match:
                names.append(match.group(1))
    return names


def _reached(e: Evidence):
    return next((f for f in (failed_import(e, n) for n in name_errors(e)) if f is not None), None)


def _import_not_reached(e: Evidence) -> bool:
    return _reached(e) is not None


def _details(e: Evidence) -> dict:
    found = _reached(e)
    if found.why == "outside":
        advice = _("the grader found {file}, but it is outside your repository (the folder holding .git, or the "
                   "folders your own path edits reach from your work), so it cannot run there: hand that file in "
                   "with your work, or copy it into your repository.").format(file=found.looked_for)
    elif found.why == "limits":
        advice = _("the grader found {file}, but your repository is larger than the grader copies for one "
                   "submission: hand in only the chapter's folder and the files it imports.").format(
            file=found.looked_for)
    else:
        advice = _("Python found no such module in your folder or in the folders your code adds to sys.path: "
                   "check the module's name and the folder you add.")
    return {"name": found.name, "statement": found.statement, "place": found.place, "error": found.error,
            "advice": advice}


RULES = [
    DiagnosisRule("import-not-reached", ("*",), N_(
        "Your code uses `{name}`, which `{statement}` ({place}) should have imported, but that import failed "
        "({error}): {advice}"), _import_not_reached, _details,
                  summary=N_("The code uses a name that one of its imports should have provided, but that import "
                      "failed.")),
]
