"""Turn a notebook cell's IPython syntax into plain Python, keeping every line where it was.

Students' notebooks hold ``%matplotlib inline``, ``%%time``, ``!pip install ...`` and
``np.sum?``. None of it is Python, and none of it matters for grading, but a cell
that cannot be parsed loses every definition in it. Each such line becomes ``pass``
(or the statement it wraps), at the same indentation, so line numbers in messages
still match what the student sees.
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
    if first is not None and lines[first].lstrip().startswith("%%"):
        name, _sep, rest = lines[first].lstrip()[2:].partition(" ")
        if name == "writefile":
            target = rest.split()[-1] if rest.split() else "untitled.py"
            body = "\n".join(lines[first + 1:]) + "\n"
            return f"open({target!r}, 'w', encoding='utf-8').write({body!r})\n", None
        if name not in PYTHON_BODY_CELL_MAGICS:
            return "", _("cell magic %%{name}: not Python, not run").format(name=name)
        lines[first] = "pass"
    return "\n".join(_line(line) for line in lines) + ("\n" if source.endswith("\n") else ""), None


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
