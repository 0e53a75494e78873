"""Regenerate ``locale/messages.pot`` and bring the ``.po`` catalogs up to date.

Usage: ``python -m grader.i18n.extract`` (from the repository root).

Messages come from two places: ``_("...")`` / ``N_("...")`` calls with a literal
string in the grader's code, and the student-facing fields of the built-in exercise
specs (titles, case and check names, hints). Each catalog keeps its translations,
gains the new messages untranslated and drops the ones no longer used.
"""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from . import LANGUAGES, LOCALE_DIR
from .po import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
HEADER = '''# Messages of dlfs-grader, the autograder for chapter 4 of "Deep Learning from Scratch".
# The English text in the code and the exercise specs is the source of truth.
msgid ""
msgstr ""
"Project-Id-Version: dlfs-grader\\n"
"Language: {lang}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
'''


def from_code(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        if "compat" in path.parts or path.name in ("runner.py", "wire.py"):
            continue  # these run in the sandbox, which has no catalogs
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_") \
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                ref = f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
                found.setdefault(node.args[0].value, []).append(ref)
    return found


def from_specs(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def add(text: object, ref: str) -> None:
        if isinstance(text, str) and text:
            found.setdefault(text, []).append(ref)

    for path in sorted(folder.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        ref = path.relative_to(ROOT).as_posix()
        add(data.get("title"), ref)
        add(data.get("hint"), ref)
        for table in data.get("case", []) + data.get("random", []) + data.get("check", []):
            add(table.get("name"), ref)
            add(table.get("hint"), ref)
            add(table.get("params", {}).get("hint"), ref)
    return found


def messages() -> dict[str, list[str]]:
    merged = from_code(ROOT / "grader")
    for text, refs in from_specs(ROOT / "exercises").items():
        merged.setdefault(text, []).extend(refs)
    return merged


def main() -> int:
    found = messages()
    entries = [(text, "", refs[:3]) for text, refs in found.items()]
    (LOCALE_DIR / "messages.pot").write_text(write_po(entries, HEADER.format(lang="")), encoding="utf-8")
    for lang in LANGUAGES:
        if lang == "en":
            continue
        path = LOCALE_DIR / f"{lang}.po"
        old = read_po(path.read_text(encoding="utf-8")) if path.exists() else {}
        translated = [(text, old.get(text, ""), refs[:3]) for text, refs in found.items()]
        path.write_text(write_po(translated, HEADER.format(lang=lang)), encoding="utf-8")
        missing = sum(1 for _text, value, _refs in translated if not value)
        print(f"{lang}.po: {len(translated) - missing} translated, {missing} to translate")
    print(f"messages.pot: {len(found)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
