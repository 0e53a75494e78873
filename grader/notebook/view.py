"""The inline view of a report in a notebook: compact HTML, and the terminal text as its plain form.

The HTML is one block whose every style rule starts with its own class, and whose root resets
what it would inherit (``all: initial``): the notebook's styles do not reach into it, and its
styles reach nothing outside it. Every string that came from the submission (names, messages,
calls, values) goes through :func:`grader.reporters.safe_text.html_text`. A hidden case shows
only its name and verdict (grader/reporters/visibility.py), and "all checks passed" is said only
when every check of every exercise ran and passed.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from ..i18n import N_, _, ngettext, use
from ..report import CheckResult, ExerciseResult, Report
from ..reporters import labels
from ..reporters.safe_text import html_text
from ..reporters.terminal_layout import MAX_FAILURES_SHOWN, STYLE
from ..reporters.terminal_text import render as terminal_text
from ..reporters.visibility import student_report

GRADED_HISTORY = N_("Graded: the code of the {count} cells run in this kernel, in the order they ran "
                    "(not the saved file).")
GRADED_FILE = N_("Graded: the saved notebook {name} (not the cells run in this kernel).")
OUT_OF_ORDER = N_("The cells ran in a different order than the notebook shows them; they were graded in the "
                  "order they ran: {order}.")
NOT_GRADED = N_("Not graded: {reason}")

ROOT = "dlfs-grade-view"  # the one class every rule below is scoped to
_STYLE = f"""<style>
.{ROOT}{{all:initial;display:block;font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;
background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;max-width:60em}}
.{ROOT} .dg-score{{font-weight:600;font-size:15px}}
.{ROOT} .dg-note{{color:#57606a;margin:2px 0}}
.{ROOT} .dg-warn{{color:#9a6700;margin:2px 0}}
.{ROOT} .dg-error{{color:#cf222e;margin:2px 0;white-space:pre-wrap}}
.{ROOT} table{{border-collapse:collapse;margin:6px 0;font-size:13px;border:0}}
.{ROOT} tr,.{ROOT} tr:hover,.{ROOT} tr:nth-child(odd){{background:transparent!important}}
.{ROOT} th,.{ROOT} td{{text-align:left!important;padding:2px 12px 2px 0!important;border:0!important;
border-bottom:1px solid #eaeef2!important;vertical-align:top!important;background:transparent!important;
color:inherit;line-height:1.45!important}}
.{ROOT} td.dg-num{{text-align:right!important}}
.{ROOT} .dg-passed{{color:#1a7f37}} .{ROOT} .dg-partial,.{ROOT} .dg-missing{{color:#9a6700}}
.{ROOT} .dg-failed,.{ROOT} .dg-error-status,.{ROOT} .dg-timeout{{color:#cf222e}}
.{ROOT} .dg-failure{{margin:6px 0 6px 0;padding-left:8px;border-left:3px solid #d0d7de}}
.{ROOT} .dg-ex{{font-weight:600;margin-top:6px}}
.{ROOT} .dg-msg{{white-space:pre-wrap;margin:1px 0}}
.{ROOT} .dg-diag{{color:#9a6700;white-space:pre-wrap}}
.{ROOT} .dg-hint{{color:#0550ae;white-space:pre-wrap}}
.{ROOT} pre{{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#f6f8fa;padding:6px;margin:3px 0;
white-space:pre-wrap;overflow-x:auto;border-radius:4px;color:#1f2328}}
.{ROOT} button{{font:12px system-ui,sans-serif;padding:1px 8px;margin:2px 0;cursor:pointer}}
.{ROOT} details{{margin:2px 0}} .{ROOT} summary{{cursor:pointer;color:#57606a}}
</style>"""


@dataclass(frozen=True)
class Graded:
    """What ``%grade`` graded: the kernel's history (``kind`` "history", ``count`` cells) or a saved
    notebook ("file", ``name``); ``order``: the run order when it differs from the notebook's."""

    kind: str
    name: str
    count: int = 0
    order: str = ""


def graded_lines(graded: Graded) -> list[tuple[str, str]]:
    """(css class, text) for the lines that say what was graded, in the current language."""
    if graded.kind == "history":
        lines = [("dg-note", _(GRADED_HISTORY).format(count=graded.count))]
    else:
        lines = [("dg-note", _(GRADED_FILE).format(name=graded.name))]
    if graded.order:
        lines.append(("dg-warn", _(OUT_OF_ORDER).format(order=graded.order)))
    return lines


def everything_passed(report: Report) -> bool:
    """Every exercise graded and passed, and every one of its checks ran and passed (a hidden one too)."""
    return not report.error and all(e.graded and e.status == "passed" and
                                    all(c.passed and not c.skipped for c in e.checks) for e in report.exercises)


def render_text(report: Report, graded: Graded) -> str:
    """The plain-text form: what was graded, then the terminal report as `grade` writes it to a file."""
    with use(report.lang):
        head = "\n".join(text for _class, text in graded_lines(graded))
        return head + "\n" + terminal_text(report, tty=False)


def render_html(report: Report, graded: Graded) -> str:
    """The compact inline view (a failing visible case with the code that rebuilds its call)."""
    with use(report.lang):
        return _html(student_report(report), graded)


def _html(report: Report, graded: Graded) -> str:
    e = html_text
    out = [f'<div class="{ROOT}">', _STYLE]
    out.append(f'<div class="dg-score">{e(_(labels.SCORE).format(score=report.score, max_score=report.max_score))}'
               '</div>')
    for css, text in graded_lines(graded):
        out.append(f'<div class="{css}">{e(text)}</div>')
    if report.error:
        out.append(f'<div class="dg-error">{e(report.error)}</div>')
    out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in (
        _(labels.EXERCISE), _(labels.STATUS_HEADER), _(labels.CHECKS), _(labels.POINTS))) + "</tr></thead><tbody>")
    for ex in report.exercises:
        counted = [c for c in ex.checks if not c.skipped]
        mark = STYLE.get(ex.status, ("?", ""))[0]
        status = _(labels.STATUS.get(ex.status, ex.status))
        out.append(f'<tr><td>{e(ex.id)}</td><td class="dg-{_status_class(ex.status)}">{e(mark)} {e(status)}</td>'
                   f'<td class="dg-num">{sum(c.passed for c in counted)}/{len(counted)}</td>'
                   f'<td class="dg-num">{e(f"{ex.score:g}/{ex.max_score:g}")}</td></tr>')
    out.append("</tbody></table>")
    if everything_passed(report):
        out.append(f'<div class="dg-passed">{e(_(labels.ALL_PASSED))}</div>')
    for ex in report.exercises:
        out += _failures(ex, shlex.quote(report.submission))
    if report.statements:
        out.append(f'<details><summary>{e(_(labels.NOT_RUN))}</summary>')
        out += [f'<div class="dg-msg">{e(s.place)}: {e(s.message)}</div>' for s in report.statements]
        out.append("</details>")
    if report.isolation:
        out.append(f'<div class="dg-note">{e(_(labels.ISOLATION).format(level=report.isolation))}</div>')
    out.append("</div>")
    return "\n".join(out)


def _status_class(status: str) -> str:
    return "error-status" if status == "error" else status


def _failures(ex: ExerciseResult, path: str) -> list[str]:
    e = html_text
    failing = [c for c in ex.checks if not c.passed and not c.skipped]
    if not (failing or ex.diagnoses or (ex.message and ex.status != "passed")):
        return []
    out = [f'<div class="dg-failure"><div class="dg-ex">{e(ex.id)}</div>']
    if ex.message:
        out.append(f'<div class="dg-msg">{e(ex.message)}</div>')
    for d in ex.diagnoses:
        out.append(f'<div class="dg-diag">→ {e(d.message)}</div>')
    first = next((c for c in failing if c.reproduce and not c.hidden), None)
    for check in failing[:MAX_FAILURES_SHOWN]:
        out += _check(ex, check, opened=check is first)
    if len(failing) > MAX_FAILURES_SHOWN:
        more = len(failing) - MAX_FAILURES_SHOWN
        out.append(f'<div class="dg-note">{e(ngettext(*labels.MORE_FAILURES, more).format(count=more, path=path))}'
                   '</div>')
    out.append("</div>")
    return out


def _check(ex: ExerciseResult, check: CheckResult, opened: bool = False) -> list[str]:
    """One failing check; ``opened``: its snippet shown, not folded (the exercise's first one)."""
    e = html_text
    out = [f'<div class="dg-msg"><b>✘ {e(check.name)}</b></div>', f'<div class="dg-msg">{e(check.message)}</div>']
    if check.hint and not check.hidden:
        out.append(f'<div class="dg-hint">{e(_(labels.HINT))} {e(check.hint)}</div>')
    if check.reproduce and not check.hidden:
        # The snippet travels as the text of a <pre>; the button copies that element's text, so
        # no submission string is ever placed inside the script.
        out.append(f'<details{" open" if opened else ""}><summary>{e(_(labels.REPRODUCE))}</summary>'
                   f'<pre>{e(check.reproduce)}</pre><button type="button" onclick="navigator.clipboard.writeText('
                   f'this.previousElementSibling.textContent)">{e(_(labels.COPY))}</button></details>')
    return out


def not_graded(reason: str, graded: Graded, lang: str = "en") -> tuple[str, str]:
    """(html, text) when there is no report at all: the grading process could not answer."""
    with use(lang):
        text = _(NOT_GRADED).format(reason=reason)
        lines = [t for _c, t in graded_lines(graded)]
    html = f'<div class="{ROOT}">{_STYLE}<div class="dg-error">{html_text(text)}</div></div>'
    return html, "\n".join(lines + [text])


def with_submission(report: Report, name: str) -> Report:
    """The report named after what the student knows (their notebook), not the private history file."""
    return replace(report, submission=name)

