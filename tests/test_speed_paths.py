"""The shortcuts taken for speed (issue 13) give what the long ways give.

Each shortcut is checked against the way it replaces: the early hand-over against grading in
the usual order, a v4 notebook read as JSON against nbformat, the quick look for installed
plugins against importlib.metadata, a stream of calls against single calls (hangs and crashes
included), the cached exercise specs against fresh ones, the kept MNIST images against new ones.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import ROOT, SUBMISSIONS, builtin_manager, run_grade
from grader.worker.client import Limits, WorkerClient, call_op

SEEDS = ROOT / "tests" / "fixtures" / "seeds"


def _comparable(report) -> dict:
    """The report as its JSON format shows it, without the times it took."""
    from grader.reporters.json import render

    data = json.loads(render(report))
    for key in ("graded_at", "duration"):
        data.pop(key, None)
    for exercise in data["exercises"]:
        exercise.pop("duration", None)
    return data


def _report_json(*args: str) -> dict:
    result = run_grade(*args, "-f", "json")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    for key in ("graded_at", "duration"):
        data.pop(key, None)
    for exercise in data["exercises"]:
        exercise.pop("duration", None)
    return data


# ---- the early hand-over ------------------------------------------------------------------

def test_the_early_hand_over_grades_as_the_usual_order_does():
    from grader.specs.files import spec_folders_answer_keys
    from grader.submission.handover import hand_over
    from grader.plugins import HANDOVER_PLUGINS, make_manager
    from grader.session import grade

    path = SUBMISSIONS / "correct.py"
    with WorkerClient(Limits()) as worker:
        usual = grade(path, builtin_manager(), worker)
    light = make_manager(plugins=HANDOVER_PLUGINS, entry_points_group=None)
    with WorkerClient(Limits()) as worker:
        handed = hand_over(path, light, worker, spec_folders_answer_keys(light))
        assert worker.sent_to is worker.proc  # the request went before the worker said it was ready
        early = grade(path, builtin_manager(), worker, handed=handed)
    assert _comparable(early) == _comparable(usual)


def test_the_hand_over_plugins_are_the_built_ins_that_read_submissions_and_name_exercise_folders():
    from grader.plugins import DEFAULT_PLUGINS, HANDOVER_PLUGINS

    assert [p for p in DEFAULT_PLUGINS if p in HANDOVER_PLUGINS] == list(HANDOVER_PLUGINS)  # same order
    pm = builtin_manager()
    for hook in ("grader_loaders", "grader_exercise_dirs"):
        implementers = {impl.plugin_name for impl in getattr(pm.hook, hook).get_hookimpls()}
        assert implementers <= set(HANDOVER_PLUGINS), hook


def test_the_answer_keys_read_from_the_specs_toml_are_those_of_the_loaded_exercises():
    from grader.specs.files import spec_folders_answer_keys
    from grader.specs.loading import load_exercises

    expected = sorted({p for e in load_exercises(builtin_manager()) for p in e.protected_paths()})
    assert spec_folders_answer_keys(builtin_manager()) == expected


def test_handing_over_imports_neither_numpy_nor_the_checks():
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        from grader.submission.handover import hand_over_early
        from grader.worker.client import Limits, WorkerClient
        worker = WorkerClient(Limits())
        handed = hand_over_early(Path(sys.argv[1]), worker)
        worker.close()
        print(handed is not None, "numpy" in sys.modules, any(m.startswith("grader.checking") for m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code, str(SUBMISSIONS / "correct.py")], cwd=ROOT,
                            capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == ["True", "False", "False"], result.stderr


def test_a_plugin_on_the_command_line_takes_the_usual_order_and_changes_nothing_else(tmp_path):
    plugin = tmp_path / "quiet_plugin.py"
    plugin.write_text("from grader import hookimpl\n\n@hookimpl\ndef grader_report_ready(report):\n    pass\n")
    path = str(SUBMISSIONS / "correct.py")
    assert _report_json(path, "--plugin", str(plugin)) == _report_json(path)


def test_a_load_request_larger_than_the_pipe_is_sent_once_the_worker_is_ready(tmp_path, monkeypatch):
    from grader.worker.tree import ProcessTree

    monkeypatch.setattr(ProcessTree, "room", lambda self: 0)
    with WorkerClient(Limits()) as worker:
        worker.files = {"s.py": b"def f(x):\n    return 2 * x\n"}
        worker.start_load([{"id": "0", "source": "def f(x):\n    return 2 * x\n", "plan": ["def"]}], "s.py")
        assert worker.sent_to is None
        record = worker.finish_load()
        assert [s["status"] for s in record["statements"]] == ["ok"]
        assert worker.call({"name": "f", "version": 0}, (21,)).value == 42


# ---- streams of calls ------------------------------------------------------------------------

SLOW_AND_CRASHING = """\
import os, time

def f(x):
    print("called with", x)
    if x == 3:
        while True:
            pass
    if x == 5:
        os._exit(7)
    return x * 10
"""


def _worker(source: str, **limits) -> WorkerClient:
    worker = WorkerClient(Limits(**limits))
    worker.files = {"s.py": source.encode()}
    worker.load([{"id": "0", "source": source, "plan": ["import", "def"]}], "s.py")
    return worker


def test_a_stream_answers_each_call_as_a_single_call_would():
    with _worker(SLOW_AND_CRASHING) as worker:
        ops = [call_op({"name": "f", "version": 0}, (x,), seed=x) for x in (1, 2, 4)]
        streamed = worker.stream(ops)
        singles = [worker.call({"name": "f", "version": 0}, (x,), seed=x) for x in (1, 2, 4)]
    assert [r.value for r in streamed] == [r.value for r in singles] == [10, 20, 40]
    assert [r.output for r in streamed] == [r.output for r in singles] == [f"called with {x}\n" for x in (1, 2, 4)]


def test_a_call_that_hangs_ends_the_stream_with_its_timeout_and_the_next_call_gets_a_new_worker():
    with _worker(SLOW_AND_CRASHING, call_seconds=0.5) as worker:
        replies = worker.stream([call_op({"name": "f", "version": 0}, (x,)) for x in (1, 3, 4)])
        assert [r.status for r in replies] == ["ok", "timeout"]  # the call after the hang is not run
        assert replies[0].value == 10
        assert worker.call({"name": "f", "version": 0}, (4,)).value == 40


def test_a_call_that_kills_the_worker_ends_the_stream_with_a_crash_and_costs_only_itself():
    with _worker(SLOW_AND_CRASHING) as worker:
        replies = worker.stream([call_op({"name": "f", "version": 0}, (x,)) for x in (1, 5, 4)])
        assert [r.status for r in replies] == ["ok", "crash"]
        assert "7" in replies[1].error.message  # the exit code is named, as for a single call
        assert worker.call({"name": "f", "version": 0}, (4,)).value == 40


# ---- reading notebooks -------------------------------------------------------------------------

@pytest.mark.parametrize("notebook", sorted(SEEDS.glob("*.ipynb")) + sorted((ROOT / "tests" / "fixtures").rglob("*.ipynb"))[:20],
                         ids=lambda p: p.name)
def test_a_v4_notebook_read_as_json_gives_the_cells_nbformat_gives(notebook, monkeypatch):
    from grader.loaders import notebook as loader

    try:
        fast = loader.read_notebook_cells(notebook, notebook.name)
    except Exception as exc:  # a broken fixture: nbformat must say the same
        monkeypatch.setattr(loader, "_current_notebook", lambda text: None)
        with pytest.raises(type(exc)):
            loader.read_notebook_cells(notebook, notebook.name)
        return
    monkeypatch.setattr(loader, "_current_notebook", lambda text: None)  # the nbformat way
    assert loader.read_notebook_cells(notebook, notebook.name) == fast


def test_an_old_v3_notebook_is_still_read_through_nbformat(tmp_path):
    from grader.loaders.notebook import read_notebook_cells

    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["def f(x):\n", "    return x\n"], "language": "python",
         "outputs": [], "prompt_number": 4, "metadata": {}}], "metadata": {}}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3), encoding="utf-8")
    cells, _skipped = read_notebook_cells(path, path.name)
    assert [c.source for c in cells] == ["def f(x):\n    return x\n"] and cells[0].origin == "In [4]"


# ---- installed plugins, exercise specs, MNIST --------------------------------------------------

def test_the_quick_look_for_installed_plugins_finds_a_declared_group_and_only_that(tmp_path, monkeypatch):
    from grader.plugins import _may_declare

    site = tmp_path / "site"
    (site / "other-1.0.dist-info").mkdir(parents=True)
    (site / "other-1.0.dist-info" / "entry_points.txt").write_text("[console_scripts]\nx = y:z\n")
    monkeypatch.setattr(sys, "path", [str(site)])
    assert not _may_declare("grader")
    (site / "mine-1.0.dist-info").mkdir()
    (site / "mine-1.0.dist-info" / "entry_points.txt").write_text("[ grader ]\nmine = mine.plugin\n")
    assert _may_declare("grader")
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert _may_declare("grader")  # a zip on sys.path: only importlib.metadata can look inside


def test_exercise_specs_are_loaded_once_until_a_spec_or_the_secret_changes(tmp_path, monkeypatch):
    from grader.specs.instructor_secret import use_secret
    from grader.plugins import make_manager
    from grader.specs.loading import load_exercises

    folder = tmp_path / "specs"
    folder.mkdir()
    spec = ("id = 'double'\ntitle = 'Double'\nnames = ['double']\nreference = 'tests_double_ref:double'\n"
            "[[random]]\nname = 'random y and t'\ngenerator = 'probabilities'\nseeds = [1]\n")
    (folder / "double.toml").write_text(spec)
    pm = make_manager(exercise_dirs=[folder], entry_points=False)
    first, again = load_exercises(pm), load_exercises(pm)
    assert [id(e) for e in first] == [id(e) for e in again]
    double = next(e for e in first if e.id == "double")
    try:
        use_secret("instructor")
        salted = next(e for e in load_exercises(pm) if e.id == "double")
    finally:
        use_secret(None)
    assert not np.array_equal(salted.cases[0].args[0], double.cases[0].args[0])
    (folder / "double.toml").write_text(spec.replace("'Double'", "'Double it'"))
    assert next(e for e in load_exercises(pm) if e.id == "double").title == "Double it"


def test_load_mnist_gives_fresh_equal_arrays_on_every_call():
    sys.path.insert(0, str(ROOT / "grader" / "compat"))
    try:
        from dataset.mnist import load_mnist
        (a, _t), _ = load_mnist(normalize=True)
        a[0, 0] = 99.0  # a student's change must not reach the next call
        (b, _t), _ = load_mnist(normalize=True)
        (c, _t), _ = load_mnist(normalize=False)
    finally:
        sys.path.remove(str(ROOT / "grader" / "compat"))
    assert b[0, 0] != 99.0 and b.dtype == np.float32 and a is not b
    assert np.array_equal(b, c.astype(np.float32) / 255.0)


def test_the_bundled_subset_gives_the_books_arrays_scaled_exactly_as_the_book_scales():
    sys.path.insert(0, str(ROOT / "grader" / "compat"))
    try:
        from dataset.mnist import load_mnist
        (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
        (scaled, one_hot), (scaled_test, _t) = load_mnist(normalize=True, one_hot_label=True)
    finally:
        sys.path.remove(str(ROOT / "grader" / "compat"))
    assert (x_train.shape, x_test.shape, t_train.shape, t_test.shape) == ((4000, 784), (1000, 784), (4000,), (1000,))
    assert {a.dtype for a in (x_train, x_test, t_train, t_test)} == {np.dtype(np.uint8)}
    assert np.bincount(t_train).tolist() == [400] * 10 and np.bincount(t_test).tolist() == [100] * 10
    assert 0 < x_train.mean() < 255 and x_train.max() == 255  # images, not labels or padding
    # The same bits as the book's astype(np.float32) / 255.0, computed in one pass.
    for got, raw in ((scaled, x_train), (scaled_test, x_test)):
        assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), (raw.astype(np.float32) / 255.0).view(np.uint32))
    assert np.array_equal(one_hot.argmax(axis=1), t_train) and one_hot.sum() == 4000


def test_html_text_escapes_exactly_as_html_escape_does():
    import html

    from hypothesis import given, settings, strategies as st
    from grader.reporters.safe_text import html_text, visible

    @settings(max_examples=300, deadline=None)
    @given(st.text())
    def same(text):
        assert html_text(text) == html.escape(visible(text), quote=True)
    same()


def test_the_book_helpers_compute_bit_for_bit_what_their_plain_formulas_do():
    # common/functions.py and common/gradient.py, which students import, were made faster (array
    # methods, a flat view): a student's numbers, and so their report, must not move by one bit.
    sys.path.insert(0, str(ROOT / "grader" / "compat"))
    try:
        from common.functions import cross_entropy_error, softmax
        from common.gradient import numerical_gradient
    finally:
        sys.path.remove(str(ROOT / "grader" / "compat"))
    rng = np.random.default_rng(13)

    def plain_gradient(f, x):
        grad = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            saved = x[idx]
            x[idx] = saved + 1e-4
            plus = f(x)
            x[idx] = saved - 1e-4
            minus = f(x)
            grad[idx] = (plus - minus) / (2 * 1e-4)
            x[idx] = saved
        return grad

    for shape in ((4, 5), (5,), (2, 3, 2), ()):
        for order in ("C", "F", "T"):
            x = rng.normal(size=shape)
            x = np.asfortranarray(x) if order == "F" else (x.T if order == "T" else x)
            w = rng.normal(size=x.shape)
            seen = []
            f = lambda v: seen.append(v.copy()) or float(np.sum(np.sin(v * w)))  # noqa: E731
            got, calls = numerical_gradient(f, x), seen[:]
            seen.clear()
            plain = plain_gradient(f, x)
            assert got.tobytes() == plain.tobytes() and (got.dtype, got.strides) == (plain.dtype, plain.strides)
            assert all(np.array_equal(a, b) for a, b in zip(calls, seen)) and len(calls) == len(seen)
    for _ in range(50):
        a = rng.normal(size=(int(rng.integers(1, 30)), 3)) * rng.choice([1.0, 1000.0])
        plain = np.exp(a - np.max(a, axis=-1, keepdims=True))
        plain = plain / np.sum(plain, axis=-1, keepdims=True)
        assert np.array_equal(softmax(a), plain)
        t = np.eye(3)[rng.integers(0, 3, a.shape[0])]
        y = softmax(a)
        n = y.shape[0]
        assert cross_entropy_error(y, t) == -np.sum(np.log(y[np.arange(n), t.argmax(axis=1)] + 1e-7)) / n


# ---- shape probes ------------------------------------------------------------------------------

def test_a_shape_probe_brings_an_arrays_shape_and_dtype_and_anything_else_whole():
    source = ("import numpy as np\nclass Net:\n    def __init__(self):\n"
              "        self.params = {'W1': np.ones((784, 100)), 'n': np.int32(3), 'l': [1, 2], 'o': object()}\n")
    with WorkerClient(Limits()) as worker:
        worker.files = {"net.py": source.encode()}
        worker.load([{"id": "net.py", "source": source}], "net.py")
        handle = worker.call({"name": "Net", "version": 0}, keep=True).value.id
        probe = {"op": "get", "target": {"handle": handle}, "shape_only": True}
        from grader.worker.wire import shape_from_wire
        got = {key: worker.request(dict(probe, path=["params", key]), decode=shape_from_wire).value
               for key in ("W1", "n", "l", "o")}
    assert got["W1"].shape == (784, 100) and got["W1"].dtype == np.float64 and not got["W1"].flags.writeable
    assert not np.any(got["W1"]) and got["W1"].base.nbytes == 8  # a stand-in: no data came
    assert got["n"].shape == () and int(got["n"]) == 3  # a NumPy scalar travels whole, as without the probe
    assert got["l"] == [1, 2] and type(got["o"]).__name__ == "Opaque"


def test_the_init_check_judges_a_probed_weight_as_it_judged_the_whole_array(write_submission):
    from conftest import grade_path

    path = write_submission(textwrap.dedent("""\
        import numpy as np
        class TwoLayerNet:
            def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
                self.params = {'W1': weight_init_std * np.random.randn(hidden_size, input_size),
                               'b1': np.ones(hidden_size),
                               'W2': (weight_init_std * np.random.randn(hidden_size, output_size)).astype(np.float32),
                               'b2': np.zeros(output_size)}
        """))
    report = grade_path(path, ("two_layer_net",))
    init = next(c for e in report.exercises for c in e.checks if c.name.startswith("TwoLayerNet(784, 100, 10)"))
    assert not init.passed
    assert "params['W1'] is an array of shape (100, 784) (float64), expected shape (784, 100)" in init.message
    assert "params['b1'] is not all zeros" in init.message and "W2" not in init.message


# ---- the nets' round trips ----------------------------------------------------------------------
# Pinned from the grader before the writes were queued and the method names looked up with the call
# (each fixture graded the same, message for message, by both).

def _net_checks(name: str) -> list:
    from conftest import grade_path
    report = grade_path(SUBMISSIONS / name, ("simple_net", "two_layer_net"), call_seconds=3.0)
    return [c for e in report.exercises for c in e.checks]


def test_methods_under_the_students_names_are_found_and_named_in_the_messages():
    checks = _net_checks("nets_renamed_methods.py")
    assert all(c.passed for c in checks if not c.skipped)
    messages = " ".join(c.message for c in checks)
    assert "net.forward(np.array([0.6, 0.9])) returned [1.05414809, 0.63071653, 1.1328074 ] as expected. " \
           "(found under your names: `forward` for predict)" in messages
    assert "net.acc(<array (20, 5) float64>, <array (20, 3) float64>) returned 0.75 as expected. " \
           "(found under your names: `acc` for accuracy)" in messages
    assert "grads = net.numeric_gradient(x, t)" in messages


def test_a_renamed_method_that_kills_the_worker_is_named_by_the_students_name():
    checks = _net_checks("nets_crash_in_renamed_method.py")
    predict = next(c for c in checks if c.name.startswith("predict on a batch of 6"))
    assert predict.outcome == "crash" and predict.message == (
        "`net = TwoLayerNet(input_size=5, hidden_size=4, output_size=3); net.params[W1, b1, W2, b2] = the grader's "
        "values; net.forward(<array (6, 5) float64>)` ended the grading process (the process ended (exit code 3)).")
    assert all(c.passed for c in checks if c.name.startswith(("simpleNet()", "predict with", "loss with")))


def test_a_write_that_fails_is_reported_as_the_write_without_the_call_after_it():
    checks = _net_checks("nets_readonly_params.py")
    loss = next(c for c in checks if c.name.startswith("loss on a batch of 6"))
    assert loss.outcome == "error" and loss.message == (
        "`net = TwoLayerNet(input_size=5, hidden_size=4, output_size=3)` raised AttributeError: 'mappingproxy' "
        "object has no attribute 'W1'.")
    init = next(c for c in checks if c.name.startswith("TwoLayerNet(784, 100, 10)"))
    assert init.message == ("`net = TwoLayerNet(input_size=784, hidden_size=100, output_size=10); net.params['W1']` "
                            "raised AttributeError: 'mappingproxy' object has no attribute 'W1'.")
    # A read-only property holding a float32 W of the right shape is written in place.
    assert next(c for c in checks if c.name.startswith("predict with the book's W")).passed


BOOK_NETS = (SUBMISSIONS / "nets_book_names.py").read_text(encoding="utf-8")
GRADIENTS = "        return {k: numerical_gradient(f, self.params[k]) for k in ('W1', 'b1', 'W2', 'b2')}"


def _training(write_submission, source: str, **limits):
    from conftest import grade_path
    report = grade_path(write_submission(source), ("two_layer_net",), **limits)
    return next(c for c in report.exercises[0].checks if c.name.startswith("20 steps"))


@pytest.mark.parametrize("change, passed, ending", [
    # a gradient method that raises on its fifth call: the step it raised in, named
    (("    def numerical_gradient(self, x, t):\n", "    def numerical_gradient(self, x, t):\n        CALLS[0] += 1\n"
      "        if CALLS[0] == 5:\n            raise ValueError('fifth call')\n"), False,
     "raised ValueError: fifth call at line 60: `raise ValueError('fifth call')`."),
    # gradients that stop being a dict on the seventh call
    ((GRADIENTS, "        CALLS[0] += 1\n        g = {k: numerical_gradient(f, self.params[k]) for k in ('W1', 'b1', 'W2', "
                 "'b2')}\n        return g if CALLS[0] < 7 else list(g.values())"), False,
     "`net.numerical_gradient(x, t)` returned a list; expected a dict of arrays shaped like params."),
    # a gradient method that scales its x in place: every step gets the grader's x again
    (("    def numerical_gradient(self, x, t):\n", "    def numerical_gradient(self, x, t):\n        x *= 0.9\n"), True,
     "went from 1.0986574052373121 to 0.22548652014826712."),
    # one that replaces params['W1'] with a new array: the next step writes into the array it holds now
    ((GRADIENTS, "        g = {k: numerical_gradient(f, self.params[k]) for k in ('W1', 'b1', 'W2', 'b2')}\n"
                 "        self.params = dict(self.params)\n        self.params['W1'] = self.params['W1'] * 1.0\n"
                 "        return g"), False,
     "went from 1.0986574052373121 to 1.0155943258977551; it should drop by at least 10%."),
])
def test_the_training_steps_in_one_request_grade_as_one_request_a_step_did(write_submission, change, passed, ending):
    source = BOOK_NETS.replace(*change) + "\nCALLS = [0]\n"
    check = _training(write_submission, source)
    assert check.passed is passed, check.message
    # The losses are the pinned ones to 1e-9, not to the last digit: on this 2-core machine the
    # same grader gave 0.22548652014826712 in some suite runs and 0.22548652006567968 in others
    # (a difference of 4e-10, in the sixteenth digit). The cause is not found yet (suspected: the
    # order of a reduction in the grading process's NumPy); the verdict never depends on it.
    numbers = re.compile(r"\d+\.\d{6,}")
    assert numbers.sub("#", check.message).endswith(numbers.sub("#", ending)), check.message
    assert [float(n) for n in numbers.findall(check.message)[-2:]] == pytest.approx(
        [float(n) for n in numbers.findall(ending)], rel=1e-9) if numbers.findall(ending) else True


def test_a_training_step_that_hangs_ends_the_steps_with_its_timeout(write_submission):
    source = BOOK_NETS.replace("    def numerical_gradient(self, x, t):\n", "    def numerical_gradient(self, x, t):\n"
                               "        CALLS[0] += 1\n        while CALLS[0] == 3:\n            pass\n") + "\nCALLS = [0]\n"
    check = _training(write_submission, source, call_seconds=1.0)
    assert check.outcome == "timeout" and check.message.endswith("did not finish within 1 s. Look for a loop that never ends.")


# ---- reports -----------------------------------------------------------------------------------

def test_a_renderer_that_raises_costs_its_own_format_and_the_others_are_written(tmp_path):
    plugin = tmp_path / "broken_reporter.py"
    plugin.write_text("from grader import hookimpl\n\ndef render(report, tty=False):\n    raise RuntimeError('boom')\n\n"
                      "@hookimpl\ndef grader_reporters():\n    return {'broken': render}\n")
    out = tmp_path / "r.json"
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--plugin", str(plugin), "-f", "broken", "-f", "json",
                       "-o", str(out))
    assert result.returncode == 3
    assert "Traceback" not in result.stderr and "broken report could not be written: RuntimeError: boom" in result.stderr
    assert json.loads(out.read_text())["score"] == 100.0


def test_a_reports_modules_are_imported_one_a_bite_in_the_waits_for_the_worker():
    from grader.cli.main import _prepare_reports
    from grader.reporters import html, json as json_reporter, terminal

    with WorkerClient(Limits()) as worker:
        _prepare_reports(worker, [terminal.render, json_reporter.render])  # the terminal report loads no rich
        assert not worker.idle
        _prepare_reports(worker, [html.render])
        assert len(worker.idle) == len(html.render.prepare)
        for bite in list(worker.idle):
            bite()
    assert "jinja2.compiler" in sys.modules


def test_idle_work_runs_while_an_answer_is_awaited_and_never_before_one_that_has_arrived():
    done = []
    with _worker(SLOW_AND_CRASHING) as worker:
        worker.idle.extend([lambda: done.append(1), lambda: done.append(2)])
        really_readable = worker.proc.readable
        # Whether the answer comes before the first look depends on the machine's load, so the
        # test decides: nothing has arrived until both bites have run, then the real pipe is read.
        worker.proc.readable = lambda: len(done) == 2 and really_readable()
        assert worker.call({"name": "f", "version": 0}, (1,)).value == 10
        assert done == [1, 2]
        worker.idle.append(lambda: done.append(3))
        worker.proc.readable = lambda: True  # an answer is there: it is read first
        assert worker.call({"name": "f", "version": 0}, (2,)).value == 20
        assert done == [1, 2] and len(worker.idle) == 1


def test_the_html_template_compiled_once_renders_each_language_as_a_fresh_process_would(tmp_path):
    import pickle
    from grader.reporters.html import render
    from grader.session import grade

    with WorkerClient(Limits()) as worker:
        report = grade(SUBMISSIONS / "mistake_sse_missing_half.py", builtin_manager(), worker, lang="en")
    from dataclasses import replace
    report = replace(report, duration=0.0, graded_at="2026-12-01T00:00:00+00:00")
    korean_first = render(replace(report, lang="ko"))
    english_after = render(report)
    (tmp_path / "report.pickle").write_bytes(pickle.dumps(report))
    fresh = subprocess.run([sys.executable, "-c", "import pickle, sys; from grader.reporters.html import render; "
                            "sys.stdout.write(render(pickle.load(open(sys.argv[1], 'rb'))))", str(tmp_path / "report.pickle")],
                           cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert english_after == fresh.stdout and korean_first != english_after
