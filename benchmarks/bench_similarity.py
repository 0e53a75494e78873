"""How well ``similarity.csv`` finds copies, and what it costs for a class of 500.

Usage: python benchmarks/bench_similarity.py [--size 500] [--copies 3] [--seed 22]

Independent solutions: the fixtures (tests/fixtures/submissions, tests/fixtures/classes/ch4) and
the five seed notebooks, read as the loaders read them; each student's own code is what grading
credits (the top-level definitions named as an exercise, the last one of a name winning, as a
notebook's run leaves it). Fixtures that are one-mistake variants of the same file are one family:
the first of each family (by its code's fingerprints) is the original, the rest are not counted
as independent.

From each original, ``--copies`` copies are generated per class, each with every disguise at
once: its variables and parameters renamed, its functions in another order, its comments
rewritten and more added, and junk inserted before a quarter of the statements of every
function (half of it dead code, half alive: a print, a call, a name read again). Then:

* book-only students: the book's own functions (common/functions.py, ch04's gradient files and
  two_layer_net.py) typed with renamed variables and comments of their own;
* template-only students: the course template as handed out, each with one original's function
  filled in (no two from the same original);
* the class is filled up to ``--size`` with book-typists: some of the book's functions, their
  own names and comments.

One class per ``--seeds`` value; the counts are summed. The learners' repositories and the seed
notebooks are also compared as a class of their own, undisguised: people who never met, so any
pair flagged there is a false one.

It prints: the copies caught (the pair of a copy and its original flagged), the flagged pairs
of different families (false positives), whether any book-only or template-only pair is flagged,
and the time of the comparison (fingerprinting included, reading records not) next to
``python -c "import numpy"`` timed in the same run.
"""
from __future__ import annotations

import argparse
import ast
import functools
import io
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.classroom.similarity import compare, own_code  # noqa: E402
from grader.classroom.similarity_code import FLAG_SHARED  # noqa: E402
from grader.loaders.notebook import read_notebook_cells  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
BOOK = Path("/work/.mirror/oreilly-japan+deep-learning-from-scratch/repo")
EXERCISE_NAMES = {"sum_squares_error", "mean_squared_error", "cross_entropy_error", "cross_entropy_error_batch",
                  "cross_entropy_error_new_label", "numerical_diff", "numerical_gradient", "gradient_descent",
                  "simpleNet", "SimpleNet", "TwoLayerNet", "twolayerNet"}
WORDS = ("alpha", "beta", "gamma", "delta_", "omega", "kappa", "sigma_", "value", "item", "thing", "tmp", "buf")


def file_code(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells, _skipped = read_notebook_cells(path, path.name)
        return "\n\n".join(cell.source for cell in cells)
    from grader.loaders.python_file import read_source
    return read_source(path)


def own_definitions(code: str) -> list[str]:
    """The exercise definitions of ``code`` (the last of each name), as source, in file order."""
    found: dict[str, str] = {}
    blocks = []
    for block in re.split(r"\n(?=\S)", code):  # top-level blocks, parsed one by one (a cell may be broken)
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in EXERCISE_NAMES:
                found.pop(node.name, None)
                found[node.name] = ast.get_source_segment(block, node, padded=False) or ""
        blocks.append(block)
    return [text for text in found.values() if text]


def report(definitions: list[str], checks: tuple = ()) -> dict:
    line, sources = 1, []
    for number, code in enumerate(definitions):
        sources.append({"label": f"{code.split('(')[0].split()[-1].rstrip(':')} (line {line})", "code": code,
                        "first_line": line})
        line += code.count("\n") + 3
    return {"exercises": [{"id": f"e{n}", "sources": [s], "checks": list(checks)} for n, s in enumerate(sources)]}


# ---- disguises ---------------------------------------------------------------------------

def rename_variables(code: str, rng: random.Random) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg != "self":
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    mapping = {name: f"{rng.choice(WORDS)}_{rng.randrange(1000)}" for name in sorted(names)}
    out = []
    previous = ""
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        text = token.string
        if token.type == tokenize.NAME and previous != "." and text in mapping:
            text = mapping[text]
        out.append((token.type, text))
        if token.type not in (tokenize.NL, tokenize.COMMENT):
            previous = token.string
    return tokenize.untokenize(out)


def rewrite_comments(code: str, rng: random.Random) -> str:
    lines = []
    for line in code.splitlines():
        stripped = line.split("#", 1)[0].rstrip() if "#" in line and "'" not in line and '"' not in line else line
        if stripped.strip():
            lines.append(stripped + (f"  # step {rng.randrange(100)}" if rng.random() < 0.3 else ""))
        elif not line.strip() or line.strip().startswith("#"):
            lines.append(f"{line[:len(line) - len(line.lstrip())]}# my note {rng.randrange(1000)}")
    return "\n".join(lines) + "\n"


def insert_dead_code(code: str, rng: random.Random) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    starts = sorted({node.lineno for node in ast.walk(tree) if isinstance(node, ast.stmt)
                     and not isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.col_offset > 0})
    lines = code.splitlines()
    chosen = set(rng.sample(starts, k=max(1, len(starts) // 4))) if starts else set()
    out = []
    for number, line in enumerate(lines, start=1):
        if number in chosen:
            indent = line[:len(line) - len(line.lstrip())]
            # Junk as a copier types it: its own names and numbers (a number stays a number when
            # tokens are normalised, so two copiers' junk differs as theirs would).
            number = rng.randrange(10 ** 6)
            # Half of it dead by the rules the comparison blanks (similarity_dead_code), half alive:
            # a print and a call have effects, and a name that is read later is not unused.
            out.append(indent + rng.choice((f"unused_counter = {number}",
                                            f"if {number} < 0:\n{indent}    print('debug', {number})",
                                            f"_ = [{number}] * 0", f"debug_flag = {number} is None",
                                            f"print('step', {number})", f"np.random.seed({number})",
                                            f"counter_{number % 97} = {number}\n{indent}counter_{number % 97} += {number // 7}",
                                            f"assert {number} >= 0")))
        out.append(line)
    return "\n".join(out) + "\n"


def disguise(definitions: list[str], rng: random.Random) -> list[str]:
    changed = [insert_dead_code(rewrite_comments(rename_variables(code, rng), rng), rng) for code in definitions]
    rng.shuffle(changed)
    return changed


# ---- the class ---------------------------------------------------------------------------

def mirror_solutions(mirrors: Path, scratch: Path) -> list[tuple[str, Path]]:
    """Real learners' chapter-4 work (tests/realworld/verdicts.toml), extracted from the local
    mirrors into ``scratch``."""
    import tomllib

    entries = tomllib.loads((ROOT / "tests" / "realworld" / "verdicts.toml").read_text(encoding="utf-8"))
    found = []
    for entry in entries.get("repository", ()):
        git_dir = mirrors / entry["name"].replace("/", "+") / "repo"
        if not git_dir.exists() or entry["name"].endswith("deep-learning-from-scratch") and entry["name"].split("/")[0] in (
                "oreilly-japan", "WegraLee"):
            continue
        listing = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", entry["commit"],
                                  "--", entry["path"]], capture_output=True, text=True)
        for path in listing.stdout.split():
            if path.endswith((".py", ".ipynb")):
                data = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{entry['commit']}:{path}"],
                                      capture_output=True).stdout
                target = scratch / entry["name"].replace("/", "+") / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        folder = scratch / entry["name"].replace("/", "+")
        if folder.exists():
            found.append((entry["name"], folder))
    return found


@functools.lru_cache(maxsize=1)
def originals(mirrors: Path) -> tuple[list[tuple[str, list[str]]], int]:
    """Independent solutions with own code enough to copy, and how many were left out as
    (nearly) the book's code: a copy of the book's listing is not told apart from typing it."""
    paths = (sorted((FIXTURES / "submissions").glob("*.py")) + sorted((FIXTURES / "classes" / "ch4").glob("*.py"))
             + sorted((FIXTURES / "classes" / "ch4").glob("*.ipynb")) + sorted((FIXTURES / "seeds").glob("*.ipynb")))
    found = []
    for path in paths:
        try:
            definitions = own_definitions(file_code(path))
        except Exception:
            continue
        if len(definitions) >= 2:
            found.append((f"{path.parent.name}/{path.stem}", definitions))
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        for name, folder in mirror_solutions(mirrors, Path(scratch)):
            definitions = []
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".py", ".ipynb"):
                    try:
                        definitions += own_definitions(file_code(path))
                    except Exception:
                        continue
            if len(definitions) >= 2:
                found.append((name, definitions))
    # One family per group of variants: an original flagged with an earlier one (counted with no
    # fragment dropped as the class's) is not independent of it.
    from grader.classroom.similarity_base import load_base
    from grader.classroom.similarity_code import compare_documents, fingerprint_document

    documents = [fingerprint_document(name, own_code(report(d)), load_base()) for name, d in found]
    matches, _common = compare_documents(documents, limit=len(documents))
    dependent = set()
    kept = {name for name, _ in found}
    for match in sorted(matches, key=lambda m: (m.student_a, m.student_b)):
        if match.flagged and match.student_a in kept and match.student_b in kept:
            kept.discard(match.student_b)
    size = {document.student: len(document.fingerprints) for document in documents}
    chosen = [(name, d) for name, d in found if name in kept and size[name] >= FLAG_SHARED]
    return chosen, sum(1 for name in kept if size[name] < FLAG_SHARED)


def real_learners_flagged(mirrors: Path) -> tuple[int, list]:
    """Flagged pairs among people who never met: the learners' repositories and the seed
    notebooks, compared as one class with nothing disguised (any pair flagged is a false one)."""
    people = []
    for path in sorted((FIXTURES / "seeds").glob("*.ipynb")):
        people.append((f"seeds/{path.stem}", own_definitions(file_code(path))))
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as scratch:
        for name, folder in mirror_solutions(mirrors, Path(scratch)):
            definitions = []
            for path in sorted(folder.rglob("*")):
                if path.suffix in (".py", ".ipynb"):
                    try:
                        definitions += own_definitions(file_code(path))
                    except Exception:
                        continue
            people.append((name, definitions))
    people = [(name, report(d)) for name, d in people if d]
    return len(people), [(p.student_a, p.student_b, p.code.shared) for p in compare(people).flagged]


def book_definitions() -> list[list[str]]:
    texts = []
    for path in ("common/functions.py", "common/gradient.py", "ch04/gradient_1d.py", "ch04/gradient_2d.py",
                 "ch04/two_layer_net.py", "ch04/gradient_simplenet.py"):
        code = subprocess.run(["git", "-C", str(BOOK), "show", f"HEAD:{path}"], capture_output=True,
                              text=True).stdout
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        texts += [ast.get_source_segment(code, n) or "" for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    return [[t for t in texts if t]]


def template_definitions() -> list[str]:
    code = (ROOT / "student_template" / "chapter4.py").read_text(encoding="utf-8")
    tree = ast.parse(code)
    return [ast.get_source_segment(code, n) or "" for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def build_class(size: int, copies: int, seed: int, mirrors: Path):
    """Originals, ``copies`` disguised copies of each, book-only and template-only students, then
    more disguised copies, spread over the originals, up to ``size``."""
    rng = random.Random(seed)
    independent, bookish = originals(mirrors)
    students: list[tuple[str, dict]] = []
    family: dict[str, str] = {}
    copy_of: dict[str, str] = {}
    for name, definitions in independent:
        students.append((name, report(definitions)))
        family[name] = name
    book = book_definitions()[0]
    for number in range(4):  # the book's code with renamed variables and comments of their own
        name = f"book-only/{number}"
        students.append((name, report([rewrite_comments(rename_variables(c, rng), rng) for c in book])))
        family[name] = name
    template = template_definitions()
    names = [re.match(r"(?:def|class)\s+(\w+)", t).group(1) for t in template]
    for number, (source, definitions) in enumerate(independent[:6]):
        filled = list(template)
        for definition in definitions:
            defined = re.match(r"(?:def|class)\s+(\w+)", definition).group(1)
            if defined in names:
                filled[names.index(defined)] = definition
                break
        name = f"template-only/{number}"
        students.append((name, report(filled)))
        family[name] = f"{name}<{source}>"  # shares its one function with its source: that is a copy
    for number, (source, definitions) in enumerate(independent * copies):
        name = f"copy{number // len(independent)}/{source}"
        students.append((name, report(disguise(definitions, rng))))
        family[name], copy_of[name] = source, source
    # The rest of the class typed the book: some of its functions, their own names and comments.
    # (Filling it with more copies instead made each original a family of ~40 in 500, so any idiom
    # two originals share was held by more than a tenth of the class and dropped as the class's.)
    number = 0
    while len(students) < size:
        name = f"book-typist/{number}"
        chosen = rng.sample(book, k=rng.randrange(3, len(book) + 1))
        students.append((name, report([rewrite_comments(rename_variables(c, rng), rng) for c in chosen])))
        family[name] = name
        number += 1
    return students, family, copy_of, [name for name, _ in independent], bookish


def numpy_import() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    return time.perf_counter() - started


def measure(students, family, copy_of, independent, result) -> dict:
    """What one class's comparison caught and what it should not have flagged."""
    flagged = {(p.student_a, p.student_b) for p in result.flagged}
    def is_base(name: str) -> bool:
        return name.startswith(("book-only", "book-typist"))
    per_original = {}
    for original in independent:
        mine = [c for c, o in copy_of.items() if o == original]
        per_original[original] = (len(result.documents[original].fingerprints),
                                  sum(1 for c in mine if tuple(sorted((c, original))) in flagged), len(mine))
    return {
        # A copy is caught when it is flagged with its original.
        "caught": sum(1 for c, o in copy_of.items() if tuple(sorted((c, o))) in flagged),
        "copies": len(copy_of),
        "cross": sorted(pair for pair in flagged if family[pair[0]] != family[pair[1]]
                        and not any(family[x].startswith("template-only") for x in pair)),
        "book_with_anyone": [p for p in flagged if any(is_base(x) for x in p)],
        "template_pairs": [p for p in flagged if p[0].startswith("template-only") and p[1].startswith("template-only")],
        "flagged": len(flagged), "common": result.common_fragments, "per_original": per_original,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[22, 23, 24, 25, 26],
                        help="one class per seed (other disguises, other book-typists); the counts are summed")
    parser.add_argument("--runs", type=int, default=3, help="timed comparisons of the first seed's class")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                        help="where the learners' repositories of tests/realworld are mirrored")
    args = parser.parse_args()
    totals: dict = {"caught": 0, "copies": 0, "cross": [], "book_with_anyone": [], "template_pairs": [],
                    "flagged": 0}
    per_original: dict[str, list[int]] = {}
    timings, numpy_timings = [], []
    for number, seed in enumerate(args.seeds):
        students, family, copy_of, independent, bookish = build_class(args.size, args.copies, seed, args.mirrors)
        for _ in range(args.runs if number == 0 else 1):
            if number == 0:
                numpy_timings.append(numpy_import())
            started = time.perf_counter()
            result = compare(students)
            if number == 0:
                timings.append(time.perf_counter() - started)
        found = measure(students, family, copy_of, independent, result)
        for key in ("caught", "copies", "flagged"):
            totals[key] += found[key]
        for key in ("cross", "book_with_anyone", "template_pairs"):
            totals[key] += found[key]
        for original, (own, caught, made) in found["per_original"].items():
            row = per_original.setdefault(original, [own, 0, 0])
            row[1] += caught
            row[2] += made
    caught, copies = totals["caught"], totals["copies"]
    learners, learner_pairs = real_learners_flagged(args.mirrors)
    print(f"classes: {len(args.seeds)} of {len(students)} students (seeds {' '.join(map(str, args.seeds))}), "
          f"{len(independent)} independent originals ({bookish} more left out: fewer than {FLAG_SHARED} "
          f"fingerprints of their own beside the book's), {args.copies} disguised copies of each per class")
    print(f"copies caught with their original: {caught}/{copies} = {caught / copies:.1%}")
    print(f"flagged pairs across families (false positives): {len(totals['cross'])} {totals['cross'][:5]}")
    print(f"book-only and book-typist students flagged with anyone: {len(totals['book_with_anyone'])}")
    print(f"template-only pairs flagged: {len(totals['template_pairs'])}")
    print(f"real learners (repositories and seed notebooks, {learners}) flagged with each other: {len(learner_pairs)} "
          f"{learner_pairs[:5]}")
    print(f"flagged pairs in all: {totals['flagged']}")
    groups: dict[str, list[int]] = {"substantive": [0, 0], "slight": [0, 0]}
    for original, (own, caught_here, made) in per_original.items():
        group = groups["substantive" if own >= 2 * FLAG_SHARED else "slight"]
        group[0] += caught_here
        group[1] += made
        print(f"  {original}: {own} own fingerprints, {caught_here}/{made} copies caught")
    for name, (caught_here, made) in groups.items():
        if made:
            print(f"copies of originals with {'at least' if name == 'substantive' else 'fewer than'} "
                  f"{2 * FLAG_SHARED} own fingerprints ({name}): {caught_here}/{made} = {caught_here / made:.1%}")
    median, floor = statistics.median(timings), statistics.median(numpy_timings)
    print(f"compare() of the first class: median {median:.2f} s of {args.runs} (min {min(timings):.2f}); "
          f"python -c 'import numpy' median {floor:.3f} s; ratio {median / floor:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
