"""Regenerate ``locale/messages.pot`` and bring the ``.po`` catalogs up to date (read and written with polib).

Usage, from the repository root::

    python -m grader.i18n.extract                       # the grader's own catalogs
    python -m grader.i18n.extract --plugin PACKAGE_DIR  # a plugin's: PACKAGE_DIR/locale/*.po
    python -m grader.i18n.extract --merge-from OTHER.po # also keep OTHER.po's translations
                                                        # (e.g. the other side of a merge conflict)

Messages come from ``_("...")``, ``N_("...")``, ``ngettext("...", "...", n)`` and
``NP_("...", "...")`` calls with literal strings, the English message of every
``DiagnosisRule(id, exercises, message, ...)``, and the student-facing fields of exercise
specs (titles, case and check names, hints). Each catalog keeps its translations, gains
the new messages untranslated and drops the ones no longer used. References name the
file only (no line numbers), so editing code elsewhere in a file leaves the catalogs alone.
"""
from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from pathlib import Path

import polib

from . import LANGUAGES, LOCALE_DIR, SOURCE_STAMP, source_stamp

ROOT = Path(__file__).resolve().parents[2]
HEADER = ('Messages of {project}, keyed by their English text.\n'
          'The English text in the code and the exercise specs is the source of truth.')
# Korean, Japanese and Chinese have one form for every number.
PLURAL_FORMS = {"ko": "nplurals=1; plural=0;", "ja": "nplurals=1; plural=0;", "zh": "nplurals=1; plural=0;",
                "": "nplurals=2; plural=(n != 1);"}

Message = tuple[str, str]  # (msgid, msgid_plural or "")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def from_code(folder: Path, root: Path = ROOT) -> dict[Message, list[str]]:
    found: dict[Message, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        if "compat" in path.parts or path.name in ("runner.py", "wire.py"):
            continue  # these run in the sandbox, which has no catalogs
        ref = _relative(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name, args = node.func.id, node.args
            texts = [_literal(a) for a in args]
            message: Message | None = None
            if name in ("_", "N_") and texts[:1] and texts[0]:
                message = (texts[0], "")
            elif name in ("ngettext", "NP_") and len(texts) >= 2 and texts[0] and texts[1]:
                message = (texts[0], texts[1])
            elif name == "DiagnosisRule" and len(texts) >= 3 and texts[2]:
                message = (texts[2], "")
            if message:
                refs = found.setdefault(message, [])
                if ref not in refs:
                    refs.append(ref)
    return found


def from_specs(folder: Path, root: Path = ROOT) -> dict[Message, list[str]]:
    found: dict[Message, list[str]] = {}

    def add(text: object, ref: str) -> None:
        if isinstance(text, str) and text:
            refs = found.setdefault((text, ""), [])
            if ref not in refs:
                refs.append(ref)

    for path in sorted(folder.glob("*.toml")) + sorted(folder.glob("assignments/*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        ref = _relative(path, root)
        add(data.get("title"), ref)
        add(data.get("hint"), ref)
        for table in data.get("case", []) + data.get("random", []) + data.get("check", []):
            add(table.get("name"), ref)
            add(table.get("hint"), ref)
            add(table.get("params", {}).get("hint"), ref)
    return found


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


def messages() -> dict[Message, list[str]]:
    """Every message of the grader (code and built-in specs), with the files it is used in."""
    merged = from_code(ROOT / "grader")
    for message, refs in from_specs(ROOT / "exercises").items():
        merged.setdefault(message, []).extend(r for r in refs if r not in merged.get(message, []))
    return merged


def catalog(path: Path) -> dict[Message, list[str]]:
    """The translations in a ``.po`` file: (msgid, msgid_plural) -> its forms (empty when untranslated)."""
    if not path.exists():
        return {}
    out = {}
    for entry in polib.pofile(str(path)):
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        forms = [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)] if entry.msgid_plural \
            else [entry.msgstr]
        out[(entry.msgid, entry.msgid_plural)] = forms if any(forms) else []
    return out


def write_catalog(path: Path, found: dict[Message, list[str]], lang: str, project: str,
                  old: dict[Message, list[str]] | None = None) -> tuple[int, int]:
    """Write a ``.po`` (or, with ``lang=""``, the ``.pot``); returns (translated, untranslated)."""
    po = polib.POFile(wrapwidth=0)
    po.header = HEADER.format(project=project)
    po.metadata = {"Project-Id-Version": project, "Language": lang, "MIME-Version": "1.0",
                   "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                   "Plural-Forms": PLURAL_FORMS.get(lang, PLURAL_FORMS[""])}
    nplurals = 2 if not lang else 1
    done = 0
    for (msgid, plural), refs in found.items():
        forms = (old or {}).get((msgid, plural)) or []
        done += bool(forms)
        occurrences = [(ref, "") for ref in refs[:3]]
        if plural:
            forms = (forms + [""] * nplurals)[:nplurals] if forms else [""] * nplurals
            po.append(polib.POEntry(msgid=msgid, msgid_plural=plural, msgstr_plural=dict(enumerate(forms)),
                                    occurrences=occurrences))
        else:
            po.append(polib.POEntry(msgid=msgid, msgstr=forms[0] if forms else "", occurrences=occurrences))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(po) + "\n", encoding="utf-8")
    return done, len(found) - done


def update(found: dict[Message, list[str]], locale: Path, project: str, merge_from: list[Path] = ()) -> None:
    extra: dict[str, dict[Message, list[str]]] = {}
    for other in merge_from:  # its language is in its header
        lang = polib.pofile(str(other)).metadata.get("Language", "")
        for key, forms in catalog(other).items():
            if forms:
                extra.setdefault(lang, {}).setdefault(key, forms)
    write_catalog(locale / "messages.pot", found, "", project)
    for lang in LANGUAGES:
        if lang == "en":
            continue
        path = locale / f"{lang}.po"
        old = {**extra.get(lang, {}), **{k: v for k, v in catalog(path).items() if v}}
        done, missing = write_catalog(path, found, lang, project, old)
        compile_catalog(path)
        print(f"{path}: {done} translated, {missing} to translate")
    print(f"{locale / 'messages.pot'}: {len(found)} messages")


def compile_catalog(po: Path) -> Path:
    """``po``'s ``.mo`` beside it, stamped with the CRC-32 of the ``.po`` (see grader.i18n): the
    grader reads it instead of parsing the ``.po`` as long as the ``.po`` is unchanged."""
    source = po.read_bytes()
    catalog_ = polib.pofile(source.decode("utf-8"))
    catalog_.metadata[SOURCE_STAMP] = source_stamp(source)
    mo = po.with_suffix(".mo")
    mo.write_bytes(catalog_.to_binary())
    return mo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.i18n.extract", description=__doc__.split("\n\n")[0])
    parser.add_argument("--plugin", type=Path, metavar="PACKAGE_DIR",
                        help="a plugin's package folder: its code and exercises/ specs; catalogs in PACKAGE_DIR/locale")
    parser.add_argument("--merge-from", action="append", default=[], type=Path, metavar="OTHER.po",
                        help="take translations missing here from another catalog of the same language (repeatable)")
    parser.add_argument("--compile", action="store_true",
                        help="only compile each .po into its .mo (after filling in translations by hand)")
    args = parser.parse_args(argv)
    if args.compile:
        folder = (args.plugin.resolve() / "locale") if args.plugin is not None else LOCALE_DIR
        for lang in LANGUAGES:
            if lang != "en" and (folder / f"{lang}.po").is_file():
                print(compile_catalog(folder / f"{lang}.po"))
        return 0
    if args.plugin is None:
        update(messages(), LOCALE_DIR, "dlfs-grader", args.merge_from)
        return 0
    package = args.plugin.resolve()
    found = from_code(package, package.parent)
    for folder in (package / "exercises", package):  # specs, and the assignments beside them
        for message, refs in from_specs(folder, package.parent).items():
            found.setdefault(message, []).extend(r for r in refs if r not in found.get(message, []))
    own = messages()  # what the grader's catalogs already translate needs no second translation
    update({m: refs for m, refs in found.items() if m not in own}, package / "locale", package.name, args.merge_from)
    return 0


if __name__ == "__main__":
    sys.exit(main())
