"""Turn a notebook cell's IPython syntax into plain Python, keeping every line where it was.

Students' notebooks hold ``%matplotlib inline``, ``%%time``, ``!pip install ...`` and
``np.sum?``. None of it is Python, and none of it matters for grading, but a cell
that cannot be parsed loses every definition in it. Each such line becomes ``pass``
(or the statement it wraps), at the same indentation, so line numbers in messages
still match what the student sees. Only a line that starts a statement can be IPython
syntax: lines inside brackets, triple-quoted strings or after a backslash are left alone,
as IPython's TransformerManager leaves them (tests/test_hardening_inputs.py pins the cases).
"""
from __future__ import annotations

import re

from ..i18n import _

# Cell magics whose body is Python: the first line goes, the body stays.
PYTHON_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
# Line magics that wrap a Python statement: `%time y = f(x)` runs `y = f(x)`.
WRAPPING_LINE_MAGICS = {"time", "timeit", "prun"}
_LINE_MAGIC = re.compile(r"^(\s*)%(\w+)(.*)$")
_SHELL = re.compile(r"^(\s*)!")
_ASSIGNED_SHELL = re.compile(r"^(\s*)([\w.,\s]+?)\s*=\s*[!%]")
_OPTIONS = re.compile(r"^(?:\s*-[nrp]\s*\d+|\s*-\w+)*\s*(.*)$")  # %timeit -n 10 -r 3 stmt
_HELP = re.compile(r"^(\s*)(\?\??[\w.]+|[\w.]+\?\??)\s*$")


def to_python(source: str) -> tuple[str, str | None]:
    """Returns (python_source, note); note says what was done with a cell that is not Python."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        # As IPython does: a cell whose first line is indented loses that indentation on every line.
        indent = lines[first][:len(lines[first]) - len(lines[first].lstrip())]
        if indent:
            lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    if first is not None and lines[first].lstrip().startswith("%%"):
        name, _sep, rest = lines[first].lstrip()[2:].partition(" ")
        if name == "writefile":
            target = rest.split()[-1] if rest.split() else "untitled.py"
            body = "\n".join(lines[first + 1:]) + "\n"
            return f"open({target!r}, 'w', encoding='utf-8').write({body!r})\n", None
        if name not in PYTHON_BODY_CELL_MAGICS:
            return "", _("cell magic %%{name}: not Python, not run").format(name=name)
        lines[first] = "pass"
    return "\n".join(_rewrite(lines)) + ("\n" if source.endswith("\n") else ""), None


def _rewrite(lines: list[str]) -> list[str]:
    """Rewrite IPython syntax only where IPython sees it: at the start of a logical line.

    A line inside brackets, inside a triple-quoted string or after a backslash continues
    the statement before it (``x = (1 +`` then ``%2)``) and is Python, whatever it starts
    with; IPython's own TransformerManager leaves such lines alone too.
    """
    out: list[str] = []
    scanner = _Scanner()
    magic_continues = False
    for line in lines:
        if magic_continues:  # a magic's backslash continuation belongs to the magic
            out.append("")
            magic_continues = line.rstrip().endswith("\\")
            continue
        if scanner.at_statement_start():
            rewritten = _line(line)
            if rewritten != line:
                out.append(rewritten)
                magic_continues = line.rstrip().endswith("\\")
                continue  # not Python: its quotes and brackets must not be counted
        out.append(line)
        scanner.feed(line)
    return out


class _Scanner:
    """Just enough of Python's tokenizer to know whether a line starts a new statement."""

    def __init__(self) -> None:
        self.depth = 0  # open brackets
        self.quote: str | None = None  # the open string's delimiter
        self.continued = False  # the last line ended with a backslash

    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        i, n, comment = 0, len(line), False
        while i < n:
            ch = line[i]
            if self.quote is not None:
                if ch == "\\":
                    i += 2  # an escaped character (in raw strings too, a backslash keeps the quote in)
                    continue
                if line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                    continue
                i += 1
                continue
            if ch == "#":
                comment = True
                break
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            elif ch in "'\"":
                self.quote = ch * 3 if line.startswith(ch * 3, i) else ch
                i += len(self.quote)
                continue
            i += 1
        ends_with_backslash = not comment and line.endswith("\\")
        if self.quote in ("'", '"') and not ends_with_backslash:
            self.quote = None  # a one-line string cannot go on (Python reports the error itself)
        self.continued = self.quote is None and ends_with_backslash


def _line(line: str) -> str:
    magic = _LINE_MAGIC.match(line)
    if magic:
        indent, name, rest = magic.groups()
        if name in WRAPPING_LINE_MAGICS:
            statement = _OPTIONS.match(rest).group(1).strip()
            return indent + (statement or "pass")
        return indent + "pass"
    shell = _SHELL.match(line)
    if shell:
        return shell.group(1) + "pass"
    assigned = _ASSIGNED_SHELL.match(line)
    if assigned and not _is_comparison(line):
        return f"{assigned.group(1)}{assigned.group(2).strip()} = []"
    help_line = _HELP.match(line)
    if help_line:
        return help_line.group(1) + "pass"
    return line


def _is_comparison(line: str) -> bool:
    return "!=" in line or "%=" in line
