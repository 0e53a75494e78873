"""``--format html``: one self-contained page (no network, opens from disk), rendered with jinja2.

The page shows the summary, each exercise with its status and points, every failing
check with the call, the expected and actual values laid out as arrays, the likely
mistake and its hint, and the student's own code of the graded function, highlighted
with Pygments. It reads only the report.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..i18n import _, ngettext, use
from ..report import Report
from . import labels
from .adjustment_notes import ADJUSTMENTS, adjustment_notes
from .book_notes import book_notes
from .safe_text import displayable
from .visibility import student_view


def shaped(value: Any) -> str:
    """A value from the report as aligned text: nested lists become a NumPy-style grid."""
    if value is None:
        return ""
    if isinstance(value, dict) and {"shape", "first"} <= set(value):
        return _("array of shape {shape}, mean {mean:.4g}, std {std:.4g}; first values {first}").format(
            shape=tuple(value["shape"]), mean=float(value["mean"]), std=float(value["std"]),
            first=", ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in value["first"]))
    if isinstance(value, dict):
        return "\n".join(f"{key}:\n{shaped(item)}" for key, item in value.items())
    if isinstance(value, list):
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError):
            return str(value)
        return np.array2string(array, precision=8, separator=", ", max_line_width=88, threshold=200)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def highlight(code: str, first_line: int) -> str:
    """The student's code as HTML; Pygments escapes every token, so the result is marked safe."""
    from pygments import highlight as pygments_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(linenos="inline", linenostart=first_line, cssclass="highlight", wrapcode=True)
    from markupsafe import Markup

    return Markup(pygments_highlight(code, PythonLexer(), formatter))


@lru_cache(maxsize=1)
def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="friendly").get_style_defs(".highlight")


@lru_cache(maxsize=1)
def _template():
    """The page's template, compiled once per process: a class's pool process renders one page per
    student, and compiling report.html.j2 again each time was about a quarter of that work."""
    from jinja2 import Environment, PackageLoader

    # Autoescape always on (the template's name, report.html.j2, would not switch it on by
    # extension): every value is escaped unless marked safe, and only Pygments' output is.
    env = Environment(loader=PackageLoader("grader.reporters", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["shaped"] = shaped
    env.filters["student_view"] = lambda checks: [student_view(c) for c in checks]
    # _ and ngettext read the language of the moment (i18n.use), so one environment serves every language.
    env.globals.update(_=_, ngettext=ngettext, labels=labels)
    return env.get_template("report.html.j2")


def render(report: Report, tty: bool = False) -> str:
    from markupsafe import Markup

    report = displayable(report)
    with use(report.lang):
        return _template().render(
            report=report, highlight=highlight, pygments_css=Markup(_pygments_css()), book_notes=book_notes(report),
            adjustment_notes=adjustment_notes(report), adjustments_title=_(ADJUSTMENTS),
            percent=0 if not report.max_score else round(100 * report.score / report.max_score))


# What render imports, smallest first, for `grade` to import in the waits for the worker.
render.prepare = ("markupsafe", "jinja2.utils", "jinja2.nodes", "jinja2.lexer", "jinja2.parser", "jinja2.compiler",
                  "jinja2.environment", "jinja2", "pygments.token", "pygments.lexer", "pygments.formatter",
                  "pygments.lexers.python", "pygments.formatters.html", "pygments.lexers", "pygments.formatters")


@hookimpl
def grader_reporters() -> dict:
    return {"html": render}
