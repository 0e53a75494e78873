"""A reader and writer for gettext ``.po`` files: msgid/msgstr pairs, comments, continued strings.

Only what the grader's catalogs use: no plural forms, no message contexts.
"""
from __future__ import annotations

import ast


def read_po(text: str, keep_empty: bool = False) -> dict[str, str]:
    """``{msgid: msgstr}`` for every translated entry (every entry with ``keep_empty``, as in a
    ``.pot`` template); the header and fuzzy entries are left out."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    field: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal entry, field, fuzzy
        key, value = "".join(entry.get("msgid", [])), "".join(entry.get("msgstr", []))
        if key and (value or keep_empty) and not fuzzy:
            messages[key] = value
        entry, field, fuzzy = {}, None, False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#"):
            if "msgstr" in entry:
                flush()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
        elif line.startswith(("msgid ", "msgstr ")):
            keyword, _, literal = line.partition(" ")
            if keyword == "msgid" and "msgstr" in entry:
                flush()
            field = keyword
            entry[field] = [_unquote(literal)]
        elif line.startswith('"') and field is not None:
            entry[field].append(_unquote(line))
    flush()
    return messages


def _unquote(literal: str) -> str:
    value = ast.literal_eval(literal.strip())
    if not isinstance(value, str):
        raise ValueError(f"not a string literal: {literal!r}")
    return value


def quote(text: str) -> str:
    """A .po string literal; a message with line breaks is split after each one, the gettext way."""
    def escape(s: str) -> str:
        return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")

    if "\n" not in text.rstrip("\n"):
        return f'"{escape(text)}"'
    pieces = text.splitlines(keepends=True)
    return '""\n' + "\n".join(f'"{escape(p)}"' for p in pieces)


def write_po(entries: list[tuple[str, str, list[str]]], header: str) -> str:
    """A whole catalog: ``header`` (the empty msgid's entry), then (msgid, msgstr, references)."""
    out = [header.rstrip("\n"), ""]
    for msgid, msgstr, refs in entries:
        out.extend(f"#: {ref}" for ref in refs)
        out.append(f"msgid {quote(msgid)}")
        out.append(f"msgstr {quote(msgstr)}")
        out.append("")
    return "\n".join(out)
