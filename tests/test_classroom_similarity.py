"""similarity.csv: copies found through disguises; the book's and the template's code never pair students.

Fast: the comparison runs on report data as the class run keeps it (each graded definition's
source, each check's actual value), with no grading. One class run at the end checks the file.
"""
from __future__ import annotations

import ast
import csv
import io
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from grader.classroom import similarity
from grader.classroom.similarity import compare, render_csv
from grader.classroom.similarity_base import PACKAGED_BASE, load_base
from grader.classroom.similarity_base import main as base_main
from grader.classroom.similarity_behaviour import canonical
from grader.classroom.similarity_code import FLAG_SHARED, normalised_tokens, window_hashes

MIRRORS = Path("/work/.mirror")
BOOK_MIRRORS = ("oreilly-japan+deep-learning-from-scratch", "WegraLee+deep-learning-from-scratch")

# Two students' own, independent solutions (neither is the book's way of writing them).
ALICE = {
    "sum_squares_error": '''def sum_squares_error(y, t):
    total = 0.0
    for predicted, wanted in zip(np.ravel(y), np.ravel(t)):
        total = total + (predicted - wanted) * (predicted - wanted)
    return total / 2
''',
    "numerical_gradient": '''def numerical_gradient(f, x):
    step = 1e-4
    result = np.empty(x.shape)
    flat = x.reshape(-1)
    out = result.reshape(-1)
    for position in range(flat.shape[0]):
        kept = float(flat[position])
        flat[position] = kept + step
        upper = f(x)
        flat[position] = kept - step
        lower = f(x)
        out[position] = (upper - lower) / (step + step)
        flat[position] = kept
    return result
''',
    "gradient_descent": '''def gradient_descent(f, init_x, lr=0.01, step_num=100):
    point = init_x
    counter = 0
    while counter < step_num:
        slope = numerical_gradient(f, point)
        point -= slope * lr
        counter += 1
    return point
''',
}
BOB = {
    "cross_entropy_error": '''def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    t = np.atleast_2d(t) if t.ndim == y.ndim else t
    rows = y.shape[0]
    labels = t if t.ndim == 1 else np.argmax(t, axis=-1)
    picked = y[np.arange(rows), labels]
    return float(-np.log(picked + 1e-7).sum() / rows)
''',
    "numerical_diff": '''def numerical_diff(f, x):
    eps = 0.0001
    ahead, behind = f(x + eps), f(x - eps)
    return (ahead - behind) / (eps * 2)
''',
    "simpleNet": '''class simpleNet:
    def __init__(self):
        self.W = np.random.standard_normal(size=(2, 3))

    def predict(self, x):
        return np.einsum("i,ij->j", x, self.W) if x.ndim == 1 else np.einsum("ni,ij->nj", x, self.W)

    def loss(self, x, t):
        scores = self.predict(x)
        shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
        return cross_entropy_error(shifted / shifted.sum(axis=-1, keepdims=True), t)
''',
}
# The book's listings, as a student types them.
BOOK = {
    "numerical_gradient": '''def numerical_gradient(f, x):
    h = 1e-4 # 0.0001
    grad = np.zeros_like(x)

    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x) # f(x+h)

        x[idx] = tmp_val - h
        fxh2 = f(x) # f(x-h)
        grad[idx] = (fxh1 - fxh2) / (2*h)

        x[idx] = tmp_val
    return grad
''',
    "gradient_descent": '''def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x

    for i in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad

    return x
''',
    "numerical_diff": '''def numerical_diff(f, x):
    h = 1e-4 # 0.0001
    return (f(x+h) - f(x-h)) / (2*h)
''',
}


def report(definitions, checks_by_exercise=None) -> dict:
    exercises, line = [], 1
    for name, code in definitions.items():
        exercises.append({"id": name, "sources": [{"label": f"{name} (line {line})", "code": code, "first_line": line}],
                          "checks": (checks_by_exercise or {}).get(name, []), "diagnoses": []})
        line += code.count("\n") + 2
    return {"exercises": exercises}


def rename(code: str, mapping: dict[str, str]) -> str:
    for old, new in mapping.items():
        code = __import__("re").sub(rf"\b{old}\b", new, code)
    return code


def disguise(definitions: dict[str, str], seed: int) -> dict[str, str]:
    """Renamed variables, functions in another order, other comments, dead code in every function."""
    rng = random.Random(seed)
    out = {}
    for name, code in definitions.items():
        names = sorted({n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)} - {"np", "f"})
        code = rename(code, {n: f"v{rng.randrange(100)}_{n[::-1]}" for n in names})
        lines = code.splitlines()
        lines.insert(2, lines[1][:len(lines[1]) - len(lines[1].lstrip())] + f"unused = {rng.randrange(10**6)}  # keep")
        out[name] = "# my own version\n" + "\n".join(lines) + "\n"
    return dict(reversed(list(out.items())))


def template_stubs() -> dict[str, str]:
    code = (ROOT / "student_template" / "chapter4.py").read_text(encoding="utf-8")
    tree = ast.parse(code)
    return {n.name: ast.get_source_segment(code, n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


@pytest.fixture(scope="module")
def small_class():
    stubs = template_stubs()
    # Each template-only student hands in the template with one function of their own filled in.
    template_a = {**stubs, "sum_squares_error": ALICE["sum_squares_error"]}
    template_b = {**stubs, "numerical_diff": BOB["numerical_diff"]}
    students = [
        ("alice", report(ALICE)), ("alice_copy", report(disguise(ALICE, 1))),
        ("bob", report(BOB)), ("bob_copy", report(disguise(BOB, 2))),
        ("book_1", report(BOOK)),
        ("book_2", report({k: rename(v, {"grad": "g", "tmp_val": "keep", "idx": "i"}).replace("# 0.0001", "# h")
                           for k, v in BOOK.items()})),
        ("template_a", report(template_a)), ("template_b", report(template_b)),
    ]
    return compare(students)


def test_two_disguised_copies_are_found_and_the_book_only_and_template_only_pairs_are_not(small_class):
    flagged = {(p.student_a, p.student_b) for p in small_class.flagged}
    # template_a filled in alice's own sum_squares_error, template_b bob's numerical_diff: those are
    # copies too, and only of that one function; the pair of them shares nothing but the template.
    assert ("alice", "alice_copy") in flagged and ("bob", "bob_copy") in flagged
    assert ("book_1", "book_2") not in flagged
    assert ("template_a", "template_b") not in flagged
    assert not any({"book_1", "book_2"} & set(pair) for pair in flagged), flagged
    assert not any(pair in flagged for pair in (("alice", "bob"), ("alice_copy", "bob_copy")))


def test_a_student_who_typed_the_book_has_no_own_code_left_to_match(small_class):
    for student in ("book_1", "book_2"):
        document = small_class.documents[student]
        assert document.base_share > 0.9 and len(document.fingerprints) < FLAG_SHARED, (student, document.base_share)
    assert small_class.documents["alice"].base_share < 0.5 and len(small_class.documents["alice"].fingerprints) > 20


def test_the_evidence_names_both_sides_shared_lines_and_the_csv_has_the_issue_columns(small_class):
    text = render_csv(small_class)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert list(rows[0]) == ["student_a", "student_b", "code_similarity", "shared_lines", "same_wrong_outputs",
                             "evidence"]
    alice = next(r for r in rows if (r["student_a"], r["student_b"]) == ("alice", "alice_copy"))
    assert float(alice["code_similarity"]) >= 0.4 and int(alice["shared_lines"]) >= 5
    assert alice["evidence"].startswith("similar code") and "numerical_gradient lines" in alice["evidence"]
    # Flagged pairs first.
    flags = [r["evidence"].startswith(("similar code", "same wrong answers")) for r in rows]
    assert flags == sorted(flags, reverse=True)


def test_the_same_class_in_any_order_gives_the_same_pairs(small_class):
    students = [(p, report(ALICE)) for p in ("z", "y")] + [("x", report(BOB))]
    again = compare(list(reversed(students)))
    assert [(p.student_a, p.student_b, p.code_similarity) for p in compare(students).pairs] == \
        [(p.student_a, p.student_b, p.code_similarity) for p in again.pairs]
    assert render_csv(compare(students)) == render_csv(again)


def _check(call: str, actual, expected: str = "1.0") -> dict:
    return {"name": call, "call": call, "passed": False, "outcome": "wrong", "actual": actual, "expected": expected}


def test_wrong_answers_agreeing_to_many_digits_pair_students_with_the_cases_named():
    wrong = {"numerical_diff": [_check("numerical_diff(cubic, 0.7312)", "1.6041183217045612"),
                                _check("numerical_diff(sin_exp, 1.25)", 0.31529862177350054),  # as JSON holds it
                                _check("numerical_diff(exact, 2)", "0.0")]}
    other = {"numerical_diff": [_check("numerical_diff(cubic, 0.7312)", "1.6041187741112001")]}
    students = [("ann", report({"numerical_diff": "def numerical_diff(f, x):\n    return 0\n"}, wrong)),
                ("ben", report({"numerical_diff": "def numerical_diff(g, y):\n    return 1\n"}, wrong)),
                ("cat", report({"numerical_diff": "def numerical_diff(g, y):\n    return 2\n"}, other))]
    result = compare(students)
    pair = next(p for p in result.pairs if (p.student_a, p.student_b) == ("ann", "ben"))
    # Two precise answers shared; 0.0 says nothing; cat's answer differs in the 7th digit.
    assert pair.same_wrong_outputs == 2 and pair.flagged
    evidence = pair.evidence(result.documents)
    assert "numerical_diff(cubic, 0.7312) -> 1.6041183217045612" in evidence
    assert "numerical_diff(sin_exp, 1.25) -> 0.31529862177350054" in evidence
    assert not any("cat" in (p.student_a, p.student_b) for p in result.pairs)


def test_a_wrong_answer_a_named_mistake_explains_in_both_students_is_not_evidence():
    checks = {"sum_squares_error": [_check("sum_squares_error(y, t)", "0.19500000000000006"),
                                    _check("sum_squares_error(y2, t2)", "1.1950000000000003")]}
    students = []
    for name in ("dan", "eve"):
        data = report({"sum_squares_error": f"def sum_squares_error(y, t):\n    return {name!r}\n"}, checks)
        data["exercises"][0]["diagnoses"] = [{"id": "sse-missing-half", "message": "..."}]
        students.append((name, data))
    assert compare(students).pairs == ()
    assert canonical("0.0") is None and canonical("[1. 2.]") is None
    assert canonical("[0.123456789012 2.5]") == "0.123456789 2.5"


def test_a_damaged_report_costs_only_itself():
    broken = {"exercises": [{"id": "x", "sources": [{"label": None, "code": None}], "checks": [{"actual": 3}]},
                            {"id": "y", "sources": "nonsense", "checks": None}, "not even a dict"]}
    students = [("alice", report(ALICE)), ("alice_copy", report(disguise(ALICE, 1))), ("broken", broken)]
    result = compare(students)
    assert ("alice", "alice_copy") in {(p.student_a, p.student_b) for p in result.flagged}
    assert "broken" in result.unreadable or all("broken" not in (p.student_a, p.student_b) for p in result.pairs)


def test_names_that_start_a_formula_are_defused_in_the_csv():
    students = [("=HYPERLINK(1)", report(ALICE)), ("+bob", report(disguise(ALICE, 3)))]
    rows = list(csv.reader(io.StringIO(render_csv(compare(students))[1:])))
    assert rows[1][0].startswith("'+") and rows[1][1].startswith("'=")


def test_tokens_drop_names_comments_docstrings_and_layout_but_keep_attributes_and_numbers():
    one = 'def f(a, b):\n    """Doc."""\n    # note\n    return np.sum(a * 2.5) + b.size\n'
    two = 'def g(x,y) :\r\n\r\n    return np.sum(x*2.5)+y.size  # other note'
    assert [t.text for t in normalised_tokens(one)] == [t.text for t in normalised_tokens(two)]
    assert "sum" in [t.text for t in normalised_tokens(one)] and "2.5" in [t.text for t in normalised_tokens(one)]
    # What tokenize would refuse (an IPython magic, an unclosed bracket) is still read.
    assert normalised_tokens("%timeit f(x\nx = [1,\n")


def test_the_packaged_base_holds_hashes_of_the_book_and_the_template_and_no_code():
    data = json.loads(PACKAGED_BASE.read_text(encoding="utf-8"))
    # The chapter's listings as printed are the book's code too (typed for the build, not kept).
    assert [s.get("repository") or s.get("folder") for s in data["sources"]] == [
        "oreilly-japan/deep-learning-from-scratch", "WegraLee/deep-learning-from-scratch", "template",
        "chapter-4-listings-as-printed"]
    text = PACKAGED_BASE.read_text(encoding="utf-8")
    for word in ("numerical_gradient", "np.zeros_like", "def ", "tmp_val"):
        assert word not in text
    assert len(load_base()) > 10_000


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_base_is_built_from_published_history_only_and_the_template_folder(tmp_path):
    work = tmp_path / "book"
    work.mkdir()

    def git(*args: str) -> None:
        env = {"GIT_AUTHOR_DATE": "2020-01-01T00:00:00", "GIT_COMMITTER_DATE": "2020-01-01T00:00:00",
               "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=work, env=env,
                       check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (work / "gradient.py").write_text(BOOK["numerical_gradient"], encoding="utf-8")
    git("add", "."); git("commit", "-qm", "the book")
    git("checkout", "-qb", "learner")
    (work / "mine.py").write_text(BOB["simpleNet"], encoding="utf-8")
    git("add", "."); git("commit", "-qm", "a learner's pull request, never merged")
    git("update-ref", "refs/pull/1/head", "HEAD")
    git("checkout", "-q", "main"); git("branch", "-qD", "learner")
    template = tmp_path / "template"
    template.mkdir()
    (template / "chapter4.py").write_text(BOB["numerical_diff"], encoding="utf-8")
    out = tmp_path / "base.json"
    assert base_main(["build", "--repo", f"someone/book={work / '.git'}", "--files", str(template),
                      "--name", "template", "-o", str(out)]) == 0
    base = load_base(out)

    def windows(code: str) -> set[int]:
        return set(window_hashes(normalised_tokens(code)))

    assert windows(BOOK["numerical_gradient"]) <= base and windows(BOB["numerical_diff"]) <= base
    # The unmerged pull request is a learner's, not the book's: at most a few generic windows
    # ("def V ( V ) : ; {") happen to be the book's too.
    learner = windows(BOB["simpleNet"])
    assert len(learner & base) <= len(learner) // 5, (len(learner & base), len(learner))
    header = json.loads(out.read_text(encoding="utf-8"))
    assert header["built"]["command"].startswith("python -m grader.classroom.similarity_base build --repo someone/book=")
    assert "def " not in out.read_text(encoding="utf-8")


@pytest.mark.skipif(not all((MIRRORS / name / "repo").exists() for name in BOOK_MIRRORS),
                    reason="the book's repositories are not mirrored on this machine")
def test_the_packaged_base_is_what_its_recorded_command_builds(tmp_path):
    out = tmp_path / "base.json"
    assert base_main(["build"] + [arg for name in BOOK_MIRRORS for arg in
                                  ("--repo", f"{name.replace('+', '/')}={MIRRORS / name / 'repo'}")]
                     + ["--files", str(ROOT / "student_template"), "--name", "template", "-o", str(out)]) == 0
    # The printed listings are typed from the book for the build and not kept in the repository:
    # everything else is rebuilt exactly, and they add no more windows than the header records.
    rebuilt, packaged = load_base(out), load_base()
    listings = json.loads(PACKAGED_BASE.read_text(encoding="utf-8"))["sources"][-1]
    assert rebuilt <= packaged and 0 < len(packaged - rebuilt) <= listings["windows"]


# The batch listing of cross_entropy_error as printed in the chapter (4.2.4) with the delta of its
# single-sample listing (4.2.2) kept: a merge many learners make on their own.
PRINTED_MERGE = '''def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    delta = 1e-7
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + delta)) / batch_size
'''


def test_two_students_who_typed_the_printed_listings_and_the_same_small_edit_are_not_paired():
    # Two real learners who never met (and one of our fixtures) wrote exactly this; before the
    # printed listings were base code and a window needed own tokens, they were flagged (8 shared).
    first = {"cross_entropy_error": PRINTED_MERGE, **BOOK}
    second = {"cross_entropy_error": rename(PRINTED_MERGE, {"delta": "eps", "batch_size": "n"}),
              **{k: rename(v, {"grad": "g", "idx": "i"}) for k, v in BOOK.items()}}
    result = compare([("kim", report(first)), ("sato", report(second)), ("alice", report(ALICE))])
    assert not result.flagged, [(p.student_a, p.student_b, p.code.shared) for p in result.flagged]


def test_dead_code_put_between_copied_lines_does_not_hide_a_copy():
    # Every other line of alice's functions with a dead statement above it: an unused name, a
    # branch that never runs. Without the blanking, most windows of short functions break.
    def pad(code: str, seed: int) -> str:
        rng, out = random.Random(seed), []
        for number, line in enumerate(code.splitlines()):
            indent = line[:len(line) - len(line.lstrip())]
            if number and number % 2 and line.strip():
                out.append(indent + rng.choice((f"unused_{number} = {rng.randrange(10**6)}",
                                                f"if {rng.randrange(10**6)} < 0:\n{indent}    print('never')")))
            out.append(line)
        return "\n".join(out) + "\n"
    padded = {name: pad(code, 7) for name, code in disguise(ALICE, 5).items()}
    result = compare([("alice", report(ALICE)), ("padded", report(padded)), ("bob", report(BOB))])
    pair = next(p for p in result.pairs if (p.student_a, p.student_b) == ("alice", "padded"))
    assert pair.flagged and pair.code.similarity >= 0.8, pair.code


def test_their_own_prints_above_the_book_lines_do_not_pair_two_students_who_typed_the_book():
    # Each opens every function with a print of their own. The prints differ (their numbers), but
    # every window that starts on a print's closing ")" and runs on into the book's line is in
    # neither the book nor the template: without the own-token rule these two shared 8 of them.
    def with_prints(code: str, seed: int) -> str:
        rng, out, printed = random.Random(seed), [], False
        for line in code.splitlines():
            if line.startswith("def "):
                printed = False
            elif line.strip() and not printed:
                out.append(f"{line[:len(line) - len(line.lstrip())]}print('step', {rng.randrange(10**6)})")
                printed = True
            out.append(line)
        return "\n".join(out) + "\n"
    typed = {**BOOK, "sum_squares_error": "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y-t)**2)\n",
             "cross_entropy_error": PRINTED_MERGE.replace("    delta = 1e-7\n", "").replace("+ delta", "+ 1e-7")}
    one = {k: with_prints(v, 1) for k, v in typed.items()}
    two = {k: with_prints(rename(v, {"grad": "g", "idx": "i", "tmp_val": "old"}), 2) for k, v in typed.items()}
    result = compare([("one", report(one)), ("two", report(two)), ("alice", report(ALICE))])
    assert not [p for p in result.pairs if p.code], [(p.student_a, p.student_b, p.code.shared) for p in result.pairs]


def test_only_dead_statements_alone_on_their_lines_are_blanked_and_nothing_is_evaluated():
    from grader.classroom.similarity_dead_code import without_dead_code

    code = ("def f(x):\n    unused = 3  # note\n    a = 1; b = g(a)\n    if 9**9**9 < 0:\n        print(1)\n"
            "    if 5 < 0:\n        print(2)\n    logged = print(x)\n    k = x.shape[0]\n    return k\n")
    out = without_dead_code(code).split("\n")
    assert len(out) == len(code.split("\n"))  # lines keep their numbers
    assert out[1] == "" and out[5] == out[6] == ""  # an unused name; a literal comparison that is false
    assert out[2] == "    a = 1; b = g(a)"  # shares its line with a call
    assert out[3].startswith("    if 9**9**9")  # never computed: only two literal numbers are compared
    assert out[7] == "    logged = print(x)"  # a call may have an effect
    assert without_dead_code("def f(:\n") == "def f(:\n"


def test_a_huge_submission_is_compared_only_up_to_its_budget():
    from grader.classroom.similarity import MAX_CODE, own_code

    huge = "def f(x):\n" + "    x = x + 1\n" * 100_000
    snippets = own_code(report({"f": huge, "g": ALICE["gradient_descent"]}))
    assert sum(len(s.code) for s in snippets) == MAX_CODE and len(snippets) == 1
