"""Students' names as text, as file names of their reports, and never as paths of the grader's.

A name in SUBMISSIONS is whatever bytes the student's archive, LMS or file manager wrote: a
cp949 name unpacked by ``unzip`` is not UTF-8, and Python holds its bytes as lone surrogates
(``surrogateescape``) that no UTF-8 file, terminal or JSON writer accepts. So a name has three
forms here:

* the raw name (``str`` with surrogates), only ever used to open the student's own files;
* the student's **id**: the same text, with every byte that is not UTF-8 shown as ``\\xNN``
  (:func:`display_name`); what the gradebook, the reports and ``--student`` use;
* the student's **slug**: the file name of their reports and record in OUTDIR (:func:`assign_slugs`).

Ids and slugs are unique, and nobody can take another's: a name that is already a safe file
name (``kim_minsu``) is its own slug; any other gets a suffix made from a hash of its own id
(``Kim_Lee-3f2a9c01d4``). A name that looks like such a suffixed slug is suffixed again, and
names that only a case-insensitive or normalising disk (macOS, Windows) would confuse are all
suffixed, none kept plain: the first in the class never wins over a later one.
"""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

SUFFIX_DIGITS = 10  # 40 bits: a slug's suffix; clashes get longer ones, never a shared name
MAX_SLUG_BYTES = 100  # with '-' + the suffix, '.html' and the '.part' of an atomic write, under 255 bytes
_SUFFIXED = re.compile(r".*-[0-9a-f]{%d,}" % SUFFIX_DIGITS, re.IGNORECASE)
# File names Windows reserves whatever their extension ('con.html' is the console there).
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def display_name(text: str) -> str:
    """``text`` with the bytes that are not UTF-8 (lone surrogates) shown as ``\\xNN``; valid text unchanged."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:  # bytes of a name the file system gave as they are (surrogateescape)
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte: shown as its code point
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def name_bytes(text: str) -> bytes:
    """The bytes of a name as the file system has them (for hashing: every distinct name, distinct bytes)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def is_plain_component(name: str) -> bool:
    """A single file name that stays where it is put: not empty, '.', '..', and no separator or NUL."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _digest(text: str, digits: int) -> str:
    return hashlib.sha256(name_bytes(text)).hexdigest()[:digits]


def _readable(text: str) -> str:
    """Letters of any script, digits, '.', '-' and '_' are kept (Korean names stay readable)."""
    slug = re.sub(r"[^\w.-]+", "_", text).strip("._-")
    while len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        slug = slug[:-1].rstrip("._-")
    return slug or "student"


def _same_file(name: str) -> str:
    """What a case-insensitive, normalising disk (APFS, NTFS) sees of a file name."""
    return unicodedata.normalize("NFC", name).casefold()


def _resolve(wanted: dict[str, str], fallback: Callable[[str, int], str],
             keeps: Callable[[str], bool]) -> dict[str, str]:
    """Make the values of ``wanted`` unique as file names. A key for which ``keeps`` holds keeps its
    value when no other such key wants the same; every other key in a clash takes ``fallback(key,
    digits)``, with more digits until nothing clashes. Whoever comes first has no say."""
    names = dict(wanted)
    digits = SUFFIX_DIGITS
    while True:
        groups: dict[str, list[str]] = defaultdict(list)
        for key, name in names.items():
            groups[_same_file(name)].append(key)
        clashes = [keys for keys in groups.values() if len(keys) > 1]
        if not clashes or digits > 64:
            return names
        for keys in clashes:
            owners = [k for k in keys if keeps(k) and names[k] == wanted[k]]
            for key in keys:
                if len(owners) == 1 and key == owners[0]:
                    continue  # the one name that is itself: nobody else can take it
                names[key] = fallback(key, digits)
        digits += 6


def student_ids(raw_names: Iterable[str]) -> dict[str, str]:
    """Each raw name's id (:func:`display_name`). A name that is valid text keeps itself; a name shown
    with escapes that clashes with another gets a suffix from a hash of its bytes."""
    raws = list(dict.fromkeys(raw_names))
    shown = {raw: display_name(raw) for raw in raws}

    def suffixed(raw: str, digits: int) -> str:
        return f"{shown[raw]} [{_digest(raw, digits)}]"

    # Exact text, not file names: two ids may differ only in case (their slugs are kept apart below).
    ids = dict(shown)
    digits = SUFFIX_DIGITS
    while True:
        groups: dict[str, list[str]] = defaultdict(list)
        for raw, text in ids.items():
            groups[text].append(raw)
        clashes = [group for group in groups.values() if len(group) > 1]
        if not clashes or digits > 64:
            return ids
        for group in clashes:
            for raw in group:
                if shown[raw] != raw:  # a valid name is its own id; an escaped one yields
                    ids[raw] = suffixed(raw, digits)
        digits += 6


def plain_slug(student_id: str) -> bool:
    """True when the id is itself a safe, unmistakable file name (then it is its own slug)."""
    slug = _readable(student_id)
    return (slug == student_id and not _SUFFIXED.fullmatch(slug)
            and slug.split(".")[0].casefold() not in _RESERVED)


def assign_slugs(student_ids: Iterable[str]) -> dict[str, str]:
    """Each id's slug: unique even on a case-insensitive disk, the same whoever else is in the
    class unless a name clashes with it, and never one that another name can produce."""
    ids = list(dict.fromkeys(student_ids))

    def suffixed(student_id: str, digits: int) -> str:
        return f"{_readable(student_id)}-{_digest(student_id, digits)}"

    wanted = {i: i if plain_slug(i) else suffixed(i, SUFFIX_DIGITS) for i in ids}
    return _resolve(wanted, suffixed, keeps=plain_slug)


def slugify(text: str) -> str:
    """A slug for one name on its own (no class to keep it apart from)."""
    return assign_slugs([text])[text]


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as the student named it ('/'-separated, bytes shown), else its name:
    never the absolute path of this machine."""
    try:
        text = path.relative_to(root).as_posix()
    except ValueError:
        text = path.name
    return display_name(text)


def hide_paths(text: str, places: Iterable[tuple[str | Path, str]]) -> str:
    """``text`` with each host folder in ``places`` replaced by what the reader may see of it
    (longest first, so that a folder inside another is replaced as itself)."""
    pairs = sorted(((str(p), shown) for p, shown in places if str(p) not in ("", ".", "/")),
                   key=lambda pair: -len(pair[0]))
    for folder, shown in pairs:
        if folder in text:
            for separator in dict.fromkeys(("/", os.sep)):
                text = text.replace(folder + separator, f"{shown}/" if shown else "")
            text = text.replace(folder, shown or ".")
    return text
