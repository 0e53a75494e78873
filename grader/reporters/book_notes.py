"""The one line each report format shows per file of the book's own code in the submission."""
from __future__ import annotations

from ..i18n import _
from ..report import Report
from . import labels


def book_notes(report: Report) -> list[str]:
    """``common/gradient.py is the book's own file: not graded as your work``, per file, in the
    report's language (call inside ``use(report.lang)``), with the rule the assignment applied."""
    credited = report.book_rule == "credited"
    lines = []
    for entry in report.book_code:
        if entry.names:
            message = labels.BOOK_NAMES_CREDITED if credited else labels.BOOK_NAMES
            lines.append(_(message).format(file=entry.file, names=", ".join(entry.names)))
        else:
            lines.append(_(labels.BOOK_FILE_CREDITED if credited else labels.BOOK_FILE).format(file=entry.file))
    return lines
