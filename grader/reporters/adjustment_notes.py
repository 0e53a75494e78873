"""The lines each report format shows for what the teacher's rules changed after grading: a late
penalty (how late, the policy, what it took) and each override (the change and its reason)."""
from __future__ import annotations

from ..i18n import N_, _
from ..report import Adjustment, Report

LATE = N_("Handed in {submitted}, {late} after the due date: the late policy ({policy}) takes {percent:g}% of "
          "the points: {before:g} → {after:g}.")
LATE_GRACE = N_("Handed in {submitted}, {late} after the due date: within the grace period of the late policy "
                "({policy}), so nothing is taken.")
LATE_PAST_LAST = N_("Handed in {submitted}, {late} after the due date: after the last day the late policy "
                    "({policy}) accepts work, so it earns nothing: {before:g} → {after:g}.")
LATE_UNKNOWN = N_("Marked late by the course site, without the time: the late policy ({policy}) takes {percent:g}% "
                  "of the points for that: {before:g} → {after:g}.")
OVERRIDE = N_("{exercise}: changed by your teacher from {before:g} to {after:g} points ({status}). Reason: {reason}")
OVERRIDE_NO_REASON = N_("{exercise}: changed by your teacher from {before:g} to {after:g} points ({status}).")
ADJUSTMENTS = N_("Changes after grading")


def _lateness(seconds: float) -> str:
    from ..classroom.late import late_text

    return late_text(seconds)


def adjustment_note(adjustment: Adjustment) -> str:
    """One adjustment in the report's language (call inside ``use(report.lang)``)."""
    from . import labels

    a = adjustment
    if a.kind == "override":
        status = _(labels.STATUS.get(a.status, a.status))
        message = OVERRIDE if a.reason else OVERRIDE_NO_REASON
        return _(message).format(exercise=a.exercise, before=a.before, after=a.after, status=status, reason=a.reason)
    policy = a.reason.split(";", 1)[0]
    if a.late_seconds is None:
        return _(LATE_UNKNOWN).format(policy=policy, percent=a.percent, before=a.before, after=a.after)
    shown = a.submitted_at.replace("T", " ")
    values = dict(submitted=shown, late=_lateness(a.late_seconds), policy=policy, percent=a.percent,
                  before=a.before, after=a.after)
    if a.percent == 0:
        return _(LATE_GRACE).format(**values)
    if a.percent >= 100 and a.after == 0 and "last=" in policy:
        return _(LATE_PAST_LAST).format(**values)
    return _(LATE).format(**values)


def adjustment_notes(report: Report) -> list[str]:
    return [adjustment_note(a) for a in report.adjustments]
