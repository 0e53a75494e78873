"""Reading what the worker sends, as hostile input (DESIGN.md principle 1).

Every field is checked for its type and size before it is used. A malformed load
record loses only its malformed entries; a malformed answer to a call becomes a
``BadReply`` error of that one call, never an exception in the grader.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 2000
MAX_OUTPUT = 8000
MAX_WHERE = 5
MAX_STATEMENTS = 100_000
MAX_DEFINITIONS = 10_000
MAX_MODULES = 1_000
STATUSES = frozenset({"ok", "error", "abandoned", "skipped", "skipped-training", "skipped-budget", "syntax-error",
                      "killed", "timeout"})
REPLY_KEYS = frozenset({"ok", "value", "args", "output", "error", "timeout", "replies", "method", "more"})


def _(message: str) -> str:
    """Translate lazily: importing the catalogs must not delay starting the worker."""
    from ..i18n import _ as translate
    return translate(message)


class BadReply(ValueError):
    """A reply that does not follow the protocol."""


@dataclass(frozen=True)
class StudentError:
    """An exception raised by student code, located in the submission."""

    type: str
    message: str
    where: tuple[dict[str, Any], ...] = ()

    def summary(self) -> str:
        text = f"{self.type}: {self.message}" if self.message else self.type
        if self.where:
            last = self.where[-1]
            text += f" (line {last['line']}, in {last['function']}: {last['code']})"
        return text


@dataclass(frozen=True)
class Reply:
    """The outcome of one request: ``status`` is ok, error, timeout or crash."""

    status: str
    value: Any = None
    error: StudentError | None = None
    args: tuple[Any, ...] | None = None
    output: str = ""
    replies: tuple["Reply", ...] = ()
    method: str = ""  # the name a call given several names for one method used (see call_op)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_frame(body: bytes) -> dict[str, Any]:
    """One frame's JSON object; BadReply for anything else (bad UTF-8, bad JSON, too deep, not an object)."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError, MemoryError) as exc:
        raise BadReply(f"garbled reply ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise BadReply("garbled reply (not an object)")
    return message


def text(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if type(value) is int and -2**31 < value < 2**31 else None


def where_frames(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        return ()
    frames = []
    for item in value[-MAX_WHERE:]:
        if isinstance(item, dict) and isinstance(item.get("cell"), str) and _int(item.get("line")) is not None:
            frames.append({"cell": text(item["cell"], 100), "line": item["line"],
                           "function": text(item.get("function"), 200), "code": text(item.get("code"), 200)})
    return tuple(frames)


def error_info(value: Any) -> dict[str, Any]:
    """The plain-dict form the load record uses for a statement's exception."""
    if not isinstance(value, dict):
        return {"type": "Error", "message": "", "where": []}
    return {"type": text(value.get("type"), 100) or "Error", "message": text(value.get("message")),
            "where": list(where_frames(value.get("where")))}


def student_error(value: Any) -> StudentError:
    info = error_info(value)
    return StudentError(info["type"], info["message"], tuple(info["where"]))


def load_record(raw: dict[str, Any], keys: dict[tuple[str, int], int]) -> dict[str, Any]:
    """The validated record of a load: statements of known cells, definitions of plain fields."""
    if raw.get("ok") is not True:
        raise BadReply("the load did not report success")
    statements = []
    seen: set[tuple[str, int]] = set()
    for item in raw.get("statements") if isinstance(raw.get("statements"), list) else ():
        if len(statements) >= MAX_STATEMENTS or not isinstance(item, dict):
            continue
        cell, index, line = item.get("cell"), _int(item.get("index")), _int(item.get("line"))
        status = item.get("status", "ok")
        if not isinstance(cell, str) or index is None or line is None or status not in STATUSES:
            continue
        if ((cell, index) not in keys and status != "syntax-error") or (cell, index) in seen:
            continue
        seen.add((cell, index))
        record = {"cell": cell, "index": index, "line": line, "status": status}
        if "error" in item:
            record["error"] = error_info(item["error"])
        statements.append(record)
    definitions = raw.get("definitions") if isinstance(raw.get("definitions"), dict) else {}
    written = []
    for item in definitions.get("written") if isinstance(definitions.get("written"), list) else ():
        if len(written) >= MAX_DEFINITIONS or not isinstance(item, dict):
            continue
        name, version, cell, line = item.get("name"), _int(item.get("version")), item.get("cell"), _int(item.get("line"))
        if not (isinstance(name, str) and name.isidentifier() and version is not None and version >= 0
                and isinstance(cell, str) and line is not None and item.get("kind") in ("class", "function")):
            continue
        entry = {"name": name, "version": version, "cell": cell, "line": line, "kind": item["kind"],
                 "current": item.get("current") is True, "uses": _uses(item.get("uses"))}
        if isinstance(item.get("module"), str):
            entry["module"] = text(item["module"], 200)
        params = _params(item.get("params"))
        if params is not None:
            entry["params"] = params
        names = item.get("param_names")
        if isinstance(names, list) and len(names) <= 255 and all(isinstance(n, str) and n.isidentifier()
                                                                   and len(n) <= 100 for n in names):
            entry["param_names"] = list(names)
        written.append(entry)
    imported = []
    for item in definitions.get("imported") if isinstance(definitions.get("imported"), list) else ():
        if len(imported) < 500 and isinstance(item, dict) and isinstance(item.get("name"), str) \
                and isinstance(item.get("module"), str):
            imported.append({"name": text(item["name"], 200), "module": text(item["module"], 200)})
    modules = []
    for item in definitions.get("modules") if isinstance(definitions.get("modules"), list) else ():
        root = _int(item.get("root")) if isinstance(item, dict) else None
        if len(modules) < MAX_MODULES and root is not None and root >= 0 and isinstance(item.get("cell"), str) \
                and isinstance(item.get("rel"), str):
            modules.append({"cell": text(item["cell"], 200), "root": root, "rel": text(item["rel"], 500)})
    broken = []
    for item in definitions.get("broken") if isinstance(definitions.get("broken"), list) else ():
        line = _int(item.get("line")) if isinstance(item, dict) else None
        if len(broken) < MAX_MODULES and line is not None and isinstance(item.get("cell"), str):
            broken.append({"cell": text(item["cell"], 200), "line": line, "message": text(item.get("message"), 500)})
    return {"ok": True, "statements": statements, "definitions": {"written": written, "imported": imported,
                                                                 "modules": modules, "broken": broken}}


def _uses(value: Any) -> list[list[Any]]:
    """The (name, version) pairs of the student's definitions a definition calls."""
    pairs = []
    for item in value if isinstance(value, list) else ():
        if len(pairs) < 200 and isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) \
                and item[0].isidentifier() and _int(item[1]) is not None and item[1] >= 0:
            pairs.append([item[0], item[1]])
    return pairs


def _params(value: Any) -> list[Any] | None:
    """[required, most] positional parameters (most None for ``*args``), or None when malformed."""
    if not (isinstance(value, list) and len(value) == 2):
        return None
    required, most = _int(value[0]), value[1]
    if required is None or not 0 <= required <= 255 or not (most is None or (_int(most) is not None and 0 <= most <= 255)):
        return None
    return [required, most]


def call_reply(raw: dict[str, Any], decode, *, nested: int = 0) -> Reply:
    """A call's answer; anything off-protocol costs only this call (a BadReply error)."""
    try:
        return _call_reply(raw, decode, nested)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, MemoryError) as exc:
        reason = str(exc)[:200] if isinstance(exc, BadReply) else type(exc).__name__
        return Reply("error", error=StudentError("BadReply", _("could not read the returned value: {reason}").format(
            reason=reason)))


def _call_reply(raw: Any, decode, nested: int) -> Reply:
    if not isinstance(raw, dict):
        raise BadReply("not an object")
    unknown = set(raw) - REPLY_KEYS
    if unknown:
        raise BadReply(f"unknown field {sorted(unknown)[0][:40]!r}")
    output = raw.get("output", "")
    if not isinstance(output, str):
        raise BadReply("output is not text")
    output = output[:MAX_OUTPUT]
    method = raw.get("method", "")
    if not isinstance(method, str) or len(method) > 200:
        raise BadReply("method is not a name")
    if raw.get("ok") is True:
        value = decode(raw.get("value"))
        args = None
        if "args" in raw:
            if not isinstance(raw["args"], list):
                raise BadReply("args is not a list")
            args = tuple(decode(raw["args"]))
        replies: tuple[Reply, ...] = ()
        if "replies" in raw:
            if nested < 0 or not isinstance(raw["replies"], list) or len(raw["replies"]) > nested:
                raise BadReply("unexpected replies")
            replies = tuple(call_reply(r, decode, nested=-1) for r in raw["replies"])
        return Reply("ok", value=value, args=args, output=output, replies=replies, method=method)
    if raw.get("ok") is not False:
        raise BadReply("no ok field")
    return Reply("timeout" if raw.get("timeout") is True else "error", error=student_error(raw.get("error")),
                 output=output, method=method)
