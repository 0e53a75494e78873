"""Due dates and late policies: assignment data (DESIGN.md principle 2).

In an assignment file::

    due = "2026-10-05T23:59:00+09:00"   # ISO 8601 with its offset (or Z): the same instant everywhere
    [late_policy]
    penalty = 10          # percent of the assignment's points taken per period late
    per = "day"           # "day" or "hour": a period begun counts whole
    cap = 50              # never more than this percent in all (default 100)
    grace = "15m"         # this late costs nothing (a duration: "90s", "15m", "2h", "1d")
    last = "7d"           # after due + this (or at this date), work earns nothing
    unknown_time = "one-period"  # late, but when is not known (Canvas's LATE mark): "one-period", "cap", "nothing"

On the command line, ``grade class --due 2026-10-05T23:59+09:00 --late-policy 10%/day,cap=50%,grace=15m,last=7d``.
A date without an offset is refused: a due date that means another instant on another machine would
give the same submission another grade.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

UNKNOWN_TIME_RULES = ("one-period", "cap", "nothing")
PERIODS = {"hour": 3600.0, "day": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class PolicyError(ValueError):
    """A due date or a late policy that cannot be used; the message names the field and shows the form."""


@dataclass(frozen=True)
class LatePolicy:
    penalty: float = 0.0  # percent of the points possible, per period
    per: str = "day"
    cap: float = 100.0  # percent, in all
    grace_seconds: float = 0.0
    last_seconds: float | None = None  # after due + this, nothing is earned; None: no last day
    unknown_time: str = "one-period"

    @property
    def period_seconds(self) -> float:
        return PERIODS[self.per]

    def percent_for(self, late_seconds: float) -> float:
        """The percent of the points possible taken for work ``late_seconds`` after the due date."""
        if late_seconds <= self.grace_seconds:
            return 0.0
        if self.last_seconds is not None and late_seconds > self.last_seconds:
            return 100.0
        periods = math.ceil(late_seconds / self.period_seconds - 1e-9)
        return min(self.cap, self.penalty * periods)

    def percent_unknown(self) -> float:
        """The percent taken for work marked late without a time (the rule ``unknown_time``)."""
        return {"one-period": min(self.cap, self.penalty), "cap": self.cap, "nothing": 0.0}[self.unknown_time]

    def describe(self) -> str:
        """The policy in the words of ``--late-policy``: shown in reports, so the student sees the rule."""
        parts = [f"{self.penalty:g}%/{self.per}"]
        if self.cap < 100:
            parts.append(f"cap={self.cap:g}%")
        if self.grace_seconds:
            parts.append(f"grace={duration_text(self.grace_seconds)}")
        if self.last_seconds is not None:
            parts.append(f"last={duration_text(self.last_seconds)}")
        return ",".join(parts)


def parse_due(text: Any, where: str = "due") -> datetime:
    if isinstance(text, datetime):  # TOML's own date-time
        value = text
    elif isinstance(text, str):
        try:
            value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
        except ValueError:
            raise PolicyError(f"{where}: {text!r} is not a date and time; write it as 2026-10-05T23:59+09:00") from None
    else:
        raise PolicyError(f"{where}: expected a date and time such as 2026-10-05T23:59+09:00, got {text!r}")
    if value.tzinfo is None:
        raise PolicyError(f"{where}: {text!s} has no time zone; add its offset, e.g. {value.isoformat()}+09:00 "
                          "(or Z for UTC), so that it names the same instant on every machine")
    return value


def parse_duration(text: Any, where: str) -> float:
    if isinstance(text, (int, float)) and not isinstance(text, bool) and text >= 0:
        return float(text) * 86400.0  # a bare number of days
    match = _DURATION.match(str(text))
    if not match:
        raise PolicyError(f"{where}: {text!r} is not a duration; write e.g. 90s, 15m, 2h or 1d")
    return float(match[1]) * _UNITS[match[2]]


def duration_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _percent(value: Any, where: str) -> float:
    text = str(value).strip().removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if isinstance(value, bool) or not 0 <= number <= 100:
        raise PolicyError(f"{where}: expected a percent from 0 to 100, got {value!r}")
    return number


def _last(value: Any, due: datetime | None, where: str) -> float:
    """``last``: a duration after the due date, or a date (then the due date must be known)."""
    if isinstance(value, datetime) or (isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d", value.strip())):
        if due is None:
            raise PolicyError(f"{where}: a last day as a date needs the due date too")
        seconds = (parse_due(value, where) - due).total_seconds()
        if seconds < 0:
            raise PolicyError(f"{where}: the last day {value} is before the due date")
        return seconds
    return parse_duration(value, where)


def policy_from_table(table: Mapping[str, Any], due: datetime | None, where: str = "late_policy") -> LatePolicy:
    allowed = {"penalty", "per", "cap", "grace", "last", "unknown_time"}
    extra = sorted(set(table) - allowed)
    if extra:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    per = table.get("per", "day")
    if per not in PERIODS:
        raise PolicyError(f"{where}.per: expected \"day\" or \"hour\", got {per!r}")
    unknown = table.get("unknown_time", "one-period")
    if unknown not in UNKNOWN_TIME_RULES:
        raise PolicyError(f"{where}.unknown_time: expected one of {', '.join(UNKNOWN_TIME_RULES)}, got {unknown!r}")
    return LatePolicy(penalty=_percent(table.get("penalty", 0), f"{where}.penalty"), per=per,
                      cap=_percent(table.get("cap", 100), f"{where}.cap"),
                      grace_seconds=parse_duration(table.get("grace", "0s"), f"{where}.grace"),
                      last_seconds=_last(table["last"], due, f"{where}.last") if "last" in table else None,
                      unknown_time=unknown)


def policy_from_option(text: str, due: datetime | None) -> LatePolicy:
    """``--late-policy 10%/day,cap=50%,grace=15m,last=7d,unknown=cap``."""
    where = "--late-policy"
    head, *rest = [part.strip() for part in text.split(",")]
    match = re.match(r"^(\d+(?:\.\d+)?)%?\s*/\s*(day|hour)$", head)
    if not match:
        raise PolicyError(f"{where} {text!r}: start with the penalty per period, e.g. 10%/day or 2%/hour")
    table: dict[str, Any] = {"penalty": match[1], "per": match[2]}
    for part in rest:
        key, sep, value = part.partition("=")
        key = {"unknown": "unknown_time"}.get(key.strip(), key.strip())
        if not sep or key not in ("cap", "grace", "last", "unknown_time"):
            raise PolicyError(f"{where} {text!r}: {part!r} is not one of cap=N%, grace=DURATION, last=DURATION "
                              "or DATE, unknown=one-period|cap|nothing")
        table[key] = value.strip()
    return policy_from_table(table, due, where)
