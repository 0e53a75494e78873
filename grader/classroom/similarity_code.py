"""How much of two students' own code is the same, seen through renaming and reshuffling.

Each student's code (what grading credited to them: the source of each graded definition, kept
in their record) becomes a stream of normalised tokens: every name that is not a keyword or an
attribute becomes ``V``, every string ``S``, comments, docstrings and blank lines go. Hashes of
every run of ``WINDOW`` tokens are winnowed (Schleimer, Wilkerson and Aiken, SIGMOD 2003): in
each ``GUARD`` consecutive hashes the smallest is kept, which guarantees that any shared run of
``WINDOW + GUARD - 1`` tokens leaves a shared fingerprint, whatever was inserted around it.
Every statement of ``STATEMENT_TOKENS`` tokens or more is a fingerprint too (see
:func:`statement_hashes`).

Dead statements (an unused name, a branch that never runs: :mod:`.similarity_dead_code`) are
blanked first, as JPlag normalises them: they are the cheapest disguise of a copy.

What is not evidence of copying is removed before any pair is compared:

* base code: every window the book's published code, its printed listings or the course
  template has (the hashes packaged by :mod:`.similarity_base`): two students who both typed
  the book's listing share the book, not each other's work;
* windows with fewer than ``OWN_TOKENS`` tokens that no base window covers: the book's line
  with the ``) ;`` of the student's previous statement in front of it is still the book's line;
* fragments most of the class shares (more than ``common_limit`` students), as MOSS and Dolos do.

Hashes are polynomials over the tokens' blake2b digests (not Python's ``hash``, salted per
process): the same class always gives the same pairs, and the packaged base hashes mean the same
on every machine.
"""
from __future__ import annotations

import keyword
import re
from collections import defaultdict
from dataclasses import dataclass
from hashlib import blake2b
from typing import Iterable, NamedTuple

from .similarity_dead_code import without_dead_code

# Chosen with benchmarks/bench_similarity.py (benchmarks/RESULTS.md): shorter windows or lower
# thresholds start to pair independent solutions, longer ones miss disguised copies.
WINDOW = 10  # tokens per hashed window
STATEMENT_TOKENS = 8  # a statement this long is a fingerprint of its own (see statement_hashes)
OWN_TOKENS = 2  # tokens of a window or statement that no base window covers, at least
GUARD = 3  # winnowing window: one fingerprint kept in every GUARD consecutive windows
FLAG_SIMILARITY = 0.4  # share of the smaller student's fingerprints also in the other's
FLAG_SHARED = 6  # and at least this many shared fingerprints (a few lines of code is no evidence)
REPORT_SIMILARITY = 0.25  # pairs below this, or sharing fewer than REPORT_SHARED fingerprints,
REPORT_SHARED = 3  # (and no wrong output) are not listed

# One pass of one regular expression: Python's tokenize costs four times as much, and a cell it
# cannot read (an IPython magic, a cut-off string) would need a second reader anyway.
_TOKEN = re.compile(r"""
 (?P<comment>\#[^\r\n]*)
|(?P<string>(?:[rRbBuUfF]{1,2})?(?:\'\'\'[\s\S]*?(?:\'\'\'|$)|\"\"\"[\s\S]*?(?:\"\"\"|$)
    |'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))
|(?P<number>0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)
|(?P<name>[^\W\d]\w*)
|(?P<newline>\n[ \t\f]*)
|(?P<continuation>\\\r?\n)
|(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@<>!=]=|[-+*/%&|^~<>()\[\]{},:;.=@])
|(?P<space>[ \t\f\r]+)
|(?P<other>\S)
""", re.X)
_OPENING, _CLOSING = frozenset("([{"), frozenset(")]}")
_STATEMENT_START = frozenset((";", "{", "}"))


class Token(NamedTuple):
    text: str
    line: int  # in the snippet's own numbering (its first_line counts)


@dataclass(frozen=True)
class Snippet:
    """A piece of one student's own code: where it is shown from and its text."""

    label: str
    code: str
    first_line: int = 1


def normalised_tokens(code: str, first_line: int = 1) -> list[Token]:
    """The tokens that survive renaming, re-commenting and re-spacing, with their lines.

    Statements end in ``;``, blocks open with ``{`` and close with ``}`` (from the indentation),
    so that the structure stays in the stream when every name is ``V``."""
    tokens: list[Token] = []
    append = tokens.append
    line, depth = first_line, 0
    indents = [0]
    previous = ";"
    pending = None  # a string at the start of a statement: a docstring unless more follows
    code = code.replace("\r\n", "\n") + "\n"  # a last line without its line end ends a statement too
    for match in _TOKEN.finditer(code):
        kind, text = match.lastgroup, match.group()
        if kind == "space" or kind == "comment":
            continue
        if kind == "continuation":
            line += 1
            continue
        if kind == "newline":
            line += 1
            if depth:
                continue
            rest = code[match.end():match.end() + 1]
            if pending is not None:
                pending, previous = None, ";"  # the string was the whole statement: dropped
            elif previous not in _STATEMENT_START:
                append(Token(";", line - 1))
                previous = ";"
            if rest in ("\n", "#", "\r", ""):
                continue  # a blank or comment line says nothing of the indentation
            width = len(text) - 1
            if width > indents[-1]:
                indents.append(width)
                append(Token("{", line))
                previous = "{"
            while width < indents[-1] and len(indents) > 1:
                indents.pop()
                append(Token("}", line))
                previous = "}"
            continue
        if pending is not None:
            append(pending)
            pending = None
        if kind == "string":
            token = Token("S", line)
            line += text.count("\n")
            if previous in _STATEMENT_START and not depth:
                pending = token
                previous = "S"
                continue
            append(token)
            previous = "S"
            continue
        if kind == "name":
            # Attributes (np.sum, self.params) say what the code does; other names are the writer's.
            text = text if keyword.iskeyword(text) or previous == "." else "V"
        elif kind == "number":
            text = text.lower().replace("_", "")
        elif text in _OPENING:
            depth += 1
        elif text in _CLOSING:
            depth = max(0, depth - 1)
        append(Token(text, line))
        previous = text
    if pending is not None and previous != "S":
        append(pending)
    return tokens


_MASK = (1 << 64) - 1
_BASE = 0x9E3779B97F4A7C15  # odd: the rolling hash is a polynomial in it, modulo 2**64
_token_ids: dict[str, int] = {}


def _token_id(text: str) -> int:
    found = _token_ids.get(text)
    if found is None:
        found = _token_ids[text] = int.from_bytes(
            blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
    return found


def window_hashes(tokens: list[Token]) -> list[int]:
    """The hash of every WINDOW consecutive tokens (none for fewer tokens than that), rolled:
    each token's blake2b digest is a coefficient of a polynomial modulo 2**64."""
    ids = [_token_ids.get(t.text) or _token_id(t.text) for t in tokens]
    if len(ids) < WINDOW:
        return []
    top = pow(_BASE, WINDOW - 1, 1 << 64)
    value = 0
    for token in ids[:WINDOW]:
        value = (value * _BASE + token) & _MASK
    hashes = [value]
    for out, token in zip(ids, ids[WINDOW:]):
        value = ((value - out * top) * _BASE + token) & _MASK
        hashes.append(value)
    return hashes


def statement_hashes(tokens: list[Token]) -> list[tuple[int, int, int]]:
    """(hash, first token, last token) of every statement of STATEMENT_TOKENS tokens or more.

    Junk inserted between statements breaks every window that spans it, and in a function of
    two statements that is all of them; a statement itself survives it. Hashed apart from the
    windows (a marker token first), they are fingerprints too."""
    found = []
    start = 0
    for position, token in enumerate(tokens + [Token(";", 0)]):
        if token.text in _STATEMENT_START:
            if position - start >= STATEMENT_TOKENS:
                value = 0
                for text in ["<statement>"] + [t.text for t in tokens[start:position]]:
                    value = (value * _BASE + (_token_ids.get(text) or _token_id(text))) & _MASK
                found.append((value, start, position - 1))
            start = position + 1
    return found


def winnow(hashes: list[int]) -> list[int]:
    """The positions of the smallest hash of every GUARD consecutive ones (the rightmost of
    equals, as the paper has it), in order, each once."""
    if len(hashes) <= GUARD:
        return list(range(len(hashes)))
    chosen: list[int] = []
    for start in range(len(hashes) - GUARD + 1):
        window = hashes[start:start + GUARD]
        smallest = min(window)
        position = start + GUARD - 1 - window[::-1].index(smallest)
        if not chosen or chosen[-1] != position:
            chosen.append(position)
    return chosen


@dataclass(frozen=True)
class Document:
    """One student's own code, fingerprinted: what survives the base code, and where each window is."""

    student: str
    snippets: tuple[Snippet, ...]
    fingerprints: frozenset[int]
    places: dict  # hash -> ((snippet index, first line, last line), ...) of every window with that hash
    base_share: float  # the share of their windows that is the book's or the template's


def _own_tokens(hashes: list[int], base: frozenset[int], tokens: int) -> list[int]:
    """Prefix sums of the tokens no base window covers: ``own[j] - own[i]`` is how many of the
    tokens i..j-1 are nobody's but the student's."""
    covered = [False] * tokens
    for position, value in enumerate(hashes):
        if value in base:
            covered[position:position + WINDOW] = [True] * WINDOW
    own = [0]
    for flag in covered:
        own.append(own[-1] + (not flag))
    return own


def fingerprint_document(student: str, snippets: Iterable[Snippet], base: frozenset[int]) -> Document:
    snippets = tuple(snippets)
    places: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    total = in_base = 0
    for number, snippet in enumerate(snippets):
        tokens = normalised_tokens(without_dead_code(snippet.code), snippet.first_line)
        hashes = window_hashes(tokens)
        total += len(hashes)
        in_base += sum(1 for h in hashes if h in base)
        own = _own_tokens(hashes, base, len(tokens))
        for position in winnow(hashes):
            value = hashes[position]
            # A book line with the tail of the student's previous statement (a print added above
            # it, say) is not their code: a window needs OWN_TOKENS tokens no book window has.
            if value not in base and own[position + WINDOW] - own[position] >= OWN_TOKENS:
                places[value].append((number, tokens[position].line, tokens[position + WINDOW - 1].line))
        for value, first, last in statement_hashes(tokens):
            if value not in base and own[last + 1] - own[first] >= OWN_TOKENS:
                places[value].append((number, tokens[first].line, tokens[last].line))
    return Document(student, snippets, frozenset(places), {h: tuple(p) for h, p in places.items()},
                    in_base / total if total else 0.0)


@dataclass(frozen=True)
class CodeMatch:
    """Two students' shared own code."""

    student_a: str
    student_b: str
    similarity: float  # shared fingerprints / the smaller student's fingerprints
    shared: int  # shared fingerprints
    lines_a: dict  # snippet index -> sorted lines of student_a's code in shared windows
    lines_b: dict

    @property
    def shared_lines(self) -> int:
        return min(sum(map(len, self.lines_a.values())), sum(map(len, self.lines_b.values())))

    @property
    def flagged(self) -> bool:
        return self.similarity >= FLAG_SIMILARITY and self.shared >= FLAG_SHARED


def common_limit(students: int) -> int:
    """More students than this sharing a fragment make it the class's, not a pair's (at least 4)."""
    return max(4, -(-students // 10))


def compare_documents(documents: list[Document], limit: int | None = None) -> tuple[list[CodeMatch], int]:
    """Every pair sharing own fingerprints at REPORT_SIMILARITY or more, and how many fragments
    were dropped as the class's. Pairs come from an inverted index, not from all n² pairs."""
    limit = common_limit(len(documents)) if limit is None else limit
    holders: dict[int, list[int]] = defaultdict(list)
    for position, document in enumerate(documents):
        for value in document.fingerprints:
            holders[value].append(position)
    common = {value for value, who in holders.items() if len(who) > limit}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for value, who in holders.items():
        if value in common or len(who) < 2:
            continue
        for i, a in enumerate(who):
            for b in who[i + 1:]:
                counts[(a, b)] += 1
    sizes = [len(d.fingerprints - common) for d in documents]
    matches = []
    for (a, b), shared in counts.items():
        similarity = shared / max(1, min(sizes[a], sizes[b]))
        if similarity < REPORT_SIMILARITY or shared < REPORT_SHARED:
            continue
        first, second = sorted((documents[a], documents[b]), key=lambda d: d.student)
        both = (first.fingerprints & second.fingerprints) - common
        matches.append(CodeMatch(first.student, second.student, round(similarity, 3), shared,
                                 _lines(first, both), _lines(second, both)))
    matches.sort(key=lambda m: (-m.similarity, -m.shared, m.student_a, m.student_b))
    return matches, len(common)


def _lines(document: Document, shared: set[int]) -> dict[int, tuple[int, ...]]:
    lines: dict[int, set[int]] = defaultdict(set)
    for value in shared:
        for snippet, first, last in document.places[value]:
            lines[snippet].update(range(first, last + 1))
    return {snippet: tuple(sorted(found)) for snippet, found in sorted(lines.items())}
