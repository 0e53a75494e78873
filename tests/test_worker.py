"""Tests pinning the sandboxed worker (grader/worker): isolation, plain-data replies, limits.

Every test drives a real worker process through :class:`WorkerClient`, the way the
grader does. Time limits are kept small so the whole file runs in a few seconds.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from grader.checking.comparisons import compare
from grader.worker.client import Limits, WorkerClient, wall_seconds
from grader.worker.wire import Fn, Opaque

REPO_ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits(call_seconds=1.0, statement_seconds=0.3, import_seconds=2.0)
# A call expected to run forever gets this budget; the trusted side gives up one second later.
SHORT = 0.4


@pytest.fixture
def make_worker():
    """Starts workers on demand (so a test can set up the environment first); closes them all."""
    started: list[WorkerClient] = []

    def make(limits: Limits = LIMITS) -> WorkerClient:
        w = WorkerClient(limits)
        started.append(w)
        w.start()
        return w

    yield make
    for w in started:
        w.close()


@pytest.fixture
def worker():
    """A started worker, closed (process group killed, folder removed) after the test."""
    w = WorkerClient(LIMITS)
    w.start()
    yield w
    w.close()


@pytest.fixture
def plain_worker(monkeypatch):
    """A worker without the namespace sandbox, its own uid or Landlock: the in-process guard is all
    that stands (its tests). (tests/test_isolation.py pins those layers.)"""
    from grader.worker import spawn
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("landlock", "uid"))
    w = WorkerClient(LIMITS, sandbox=False)
    w.start()
    yield w
    w.close()


def load(w: WorkerClient, *sources: str) -> dict:
    """Load one cell per source; returns the load record."""
    return w.load([{"id": str(i), "source": s} for i, s in enumerate(sources)], "sub.py")


def load_ok(w: WorkerClient, *sources: str) -> dict:
    loaded = load(w, *sources)
    bad = [s for s in loaded["statements"] if s["status"] != "ok"]
    assert not bad, bad
    return loaded


def call(w: WorkerClient, name: str, *args, version: int = 0, **kw):
    return w.call({"name": name, "version": version}, args, **kw)


def statuses(loaded: dict) -> list[str]:
    return [s["status"] for s in loaded["statements"]]


def written(loaded: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in loaded["definitions"]["written"]:
        out.setdefault(d["name"], []).append(d)
    return out


# ---------------------------------------------------------------------------
# 1. environment and working folder
# ---------------------------------------------------------------------------

def test_worker_environment_does_not_inherit_the_graders_variables(make_worker, monkeypatch):
    monkeypatch.setenv("DLFS_TEST_SECRET", "hunter2")
    w = make_worker()
    load_ok(w, "import os\ndef env():\n    return sorted(os.environ)\n"
               "def values():\n    return sorted(os.environ.values())\n")
    names = call(w, "env")
    assert names.ok, names.error
    assert "DLFS_TEST_SECRET" not in names.value
    assert names.value  # the worker does have an environment, just not ours
    values = call(w, "values")
    assert values.ok and "hunter2" not in values.value


@pytest.mark.parametrize("sandbox", [None, False], ids=["strongest", "plain_process"])
def test_worker_runs_in_a_private_temporary_folder_removed_on_close(sandbox):
    worker = WorkerClient(LIMITS, sandbox=sandbox)
    load_ok(worker, "import os\ndef cwd():\n    return os.getcwd()\n")
    reply = call(worker, "cwd")
    assert reply.ok, reply.error
    if worker.isolation.sandboxed:  # a tmpfs of its own: no folder on this machine's disk at all
        assert worker.workdir is None and worker.folders == []
        assert reply.value == "/submission/work"  # a folder of the submission's name (here none: "work")
        worker.close()
        return
    folder = Path(worker.workdir).resolve()
    assert reply.value == f"{folder}/work"
    assert Path(reply.value).resolve() != Path.cwd().resolve()
    assert folder.is_dir()
    worker.close()
    assert not folder.exists()


# ---------------------------------------------------------------------------
# 2. the grader, the reference and the exercises cannot be imported
# ---------------------------------------------------------------------------

BLOCKED = ("grader", "reference", "exercises")


def test_the_plain_worker_of_these_tests_has_only_the_audit_hook_between_it_and_the_grader(plain_worker):
    load_ok(plain_worker, "def alive():\n    return 1\n")
    assert plain_worker.isolation.level == "seccomp"  # no namespaces, no uid of its own, no Landlock


def test_student_code_cannot_import_the_grader_or_the_reference_at_top_level(plain_worker):
    for name in BLOCKED:
        assert (REPO_ROOT / name / "__init__.py").exists()  # importable if it were not blocked
    source = f"import sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n" + "".join(f"import {n}\n" for n in BLOCKED)
    source += "def alive():\n    return 1\n"
    loaded = load(plain_worker, source)
    records = loaded["statements"]
    assert [r["status"] for r in records] == ["ok", "ok", "error", "error", "error", "ok"]
    for record in records[2:5]:
        # grader: refused by name; reference and exercises (a student may have files of those names):
        # their folders cannot be read
        assert record["error"]["type"] in ("ImportError", "ModuleNotFoundError", "PermissionError")
    assert call(plain_worker, "alive").value == 1


STUDENT_IMPORTS = """
import importlib, os, sys

def try_import(root, name, strip_guards):
    sys.path.insert(0, root)
    if strip_guards:
        # drop any finder that is not the interpreter's own, and any cached module
        sys.meta_path[:] = [f for f in sys.meta_path
                            if getattr(f, '__module__', '').startswith('_frozen_importlib')]
        for key in list(sys.modules):
            if key.partition('.')[0] in ('grader', 'reference', 'exercises'):
                del sys.modules[key]
    findable = os.path.exists(os.path.join(root, name, '__init__.py'))
    importlib.invalidate_caches()
    import colorsys  # imports still work in general
    try:
        __import__(name)
    except (ImportError, PermissionError) as exc:
        return [findable, type(exc).__name__, name in sys.modules]
    return [findable, 'imported', name in sys.modules]
"""


@pytest.mark.parametrize("strip_guards", [False, True], ids=["plain", "after_removing_meta_path_and_modules"])
@pytest.mark.parametrize("name", BLOCKED)
def test_student_code_cannot_import_the_grader_or_the_reference_inside_a_call(plain_worker, name, strip_guards):
    load_ok(plain_worker, STUDENT_IMPORTS)
    reply = call(plain_worker, "try_import", str(REPO_ROOT), name, strip_guards)
    assert reply.ok, reply.error
    findable, outcome, loaded = reply.value
    assert findable is True
    assert outcome in ("ImportError", "ModuleNotFoundError", "PermissionError")
    assert loaded is False


@pytest.mark.parametrize("name", BLOCKED)
def test_student_code_cannot_import_the_grader_or_the_reference_with_importlib(plain_worker, name):
    """importlib.import_module skips the import audit event, but it still has to read the files."""
    load_ok(plain_worker, "import importlib, sys\n"
                    "def sneak(root, name):\n"
                    "    sys.path.insert(0, root)\n"
                    "    try:\n"
                    "        module = importlib.import_module(name)\n"
                    "    except (ImportError, PermissionError) as exc:\n"
                    "        return type(exc).__name__\n"
                    "    return 'imported ' + str(getattr(module, '__file__', module))\n")
    reply = call(plain_worker, "sneak", str(REPO_ROOT), name)
    assert reply.ok, reply.error
    assert reply.value in ("ImportError", "ModuleNotFoundError", "PermissionError"), reply.value


def test_student_code_cannot_load_the_answer_key_by_file_path(plain_worker):
    load_ok(plain_worker, "import importlib.util\n"
                    "def sneak(path):\n"
                    "    try:\n"
                    "        spec = importlib.util.spec_from_file_location('stolen', path)\n"
                    "        module = importlib.util.module_from_spec(spec)\n"
                    "        spec.loader.exec_module(module)\n"
                    "    except OSError as exc:\n"
                    "        return type(exc).__name__\n"
                    "    return 'loaded'\n"
                    "def peek(path):\n"
                    "    try:\n"
                    "        return open(path).read()[:20]\n"
                    "    except OSError as exc:\n"
                    "        return type(exc).__name__\n")
    assert call(plain_worker, "sneak", str(REPO_ROOT / "reference" / "functions.py")).value == "PermissionError"
    assert call(plain_worker, "peek", str(REPO_ROOT / "exercises" / "01_sum_squares_error.toml")).value == "PermissionError"
    assert call(plain_worker, "peek", str(REPO_ROOT / "grader" / "worker" / "runner.py")).value == "PermissionError"


def test_the_workers_command_line_does_not_reveal_where_the_grader_lives(worker):
    load_ok(worker, "import sys\ndef argv():\n    return list(sys.argv)\n")
    assert call(worker, "argv").value == ["submission"]


# ---------------------------------------------------------------------------
# 3. only plain data comes back
# ---------------------------------------------------------------------------

HOSTILE = """
import numpy as np

class Evil(np.ndarray):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False

class Always:
    def __eq__(self, other):
        return True
    def __float__(self):
        return 1.0
    def __array__(self, *a, **k):
        return np.array(1.0)

class TrueFloat(float):
    def __eq__(self, other):
        return True

def evil_subclass():
    return np.array(1.0).view(Evil)
def matrix():
    return np.matrix([[1.0]])
def object_array():
    return np.array([1.0], dtype=object)
def object_scalar_array():
    return np.array(1.0, dtype=object)
def structured():
    return np.zeros((), dtype=[('a', 'f8')])
def custom_eq():
    return Always()
def float_subclass():
    return TrueFloat(1.0)
"""


@pytest.mark.parametrize("name", ["evil_subclass", "matrix", "object_array", "object_scalar_array", "structured",
                                  "custom_eq", "float_subclass"])
def test_hostile_return_values_come_back_opaque_and_never_compare_equal(worker, name):
    load_ok(worker, HOSTILE)
    reply = call(worker, name)
    assert reply.ok, reply.error
    assert type(reply.value) is Opaque
    assert not compare(1.0, reply.value, 1e-7, 0).ok
    assert not compare(np.array(1.0), reply.value, 1e-7, 0).ok


def test_hostile_values_nested_in_plain_containers_stay_opaque(worker):
    load_ok(worker, HOSTILE + "def nested():\n    return (evil_subclass(), {'W': Always()}, [matrix()])\n")
    reply = call(worker, "nested")
    assert reply.ok, reply.error
    first, mapping, listed = reply.value
    assert type(first) is Opaque and type(mapping["W"]) is Opaque and type(listed[0]) is Opaque


PLAIN = """
import numpy as np
def array():
    return np.arange(6, dtype=np.float64).reshape(2, 3) / 4
def scalar():
    return np.float64(2.5)
def descent():
    return np.array([0.5, -1.0]), [np.array([3.0, 4.0]), np.array([1.0, 2.0])]
def params():
    return {'W1': np.ones((2, 3)), 'b1': np.zeros(3)}
"""


def test_plain_float_array_comes_back_as_a_plain_ndarray(worker):
    load_ok(worker, PLAIN)
    value = call(worker, "array").value
    assert type(value) is np.ndarray and value.dtype == np.float64 and value.shape == (2, 3)
    np.testing.assert_array_equal(value, np.arange(6.0).reshape(2, 3) / 4)
    assert value.flags.writeable


def test_numpy_scalar_comes_back_as_a_zero_dimensional_ndarray(worker):
    load_ok(worker, PLAIN)
    value = call(worker, "scalar").value
    assert type(value) is np.ndarray and value.shape == () and float(value) == 2.5
    assert compare(2.5, value, 1e-7, 0).ok


def test_tuple_of_array_and_history_comes_back_as_a_plain_tuple(worker):
    load_ok(worker, PLAIN)
    value = call(worker, "descent").value
    assert type(value) is tuple and len(value) == 2
    x, history = value
    assert type(x) is np.ndarray and x.tolist() == [0.5, -1.0]
    assert type(history) is list and all(type(h) is np.ndarray for h in history)
    assert [h.tolist() for h in history] == [[3.0, 4.0], [1.0, 2.0]]


def test_dict_of_arrays_comes_back_as_a_plain_dict(worker):
    load_ok(worker, PLAIN)
    value = call(worker, "params").value
    assert type(value) is dict and set(value) == {"W1", "b1"}
    assert all(type(v) is np.ndarray for v in value.values())
    assert value["W1"].shape == (2, 3) and value["b1"].shape == (3,)


def test_grader_written_functions_can_be_passed_as_arguments(worker):
    load_ok(worker, "def apply(f, x):\n    return f(x)\n")
    reply = call(worker, "apply", Fn("lambda x: x**2"), np.array([3.0]))
    assert reply.ok, reply.error
    assert reply.value.tolist() == [9.0]


# ---------------------------------------------------------------------------
# 4. printed output
# ---------------------------------------------------------------------------

MARKER = "DLFS-STUDENT-OUTPUT-MARKER"


def test_printed_output_is_captured_capped_and_never_reaches_the_graders_streams(worker, capfd):
    load_ok(worker, f"import os, sys\nprint({MARKER!r} + ' at load')\n"
                    "def chatty():\n"
                    f"    print({MARKER!r})\n"
                    "    print('x' * 10**6)\n"
                    f"    print({MARKER!r}, file=sys.stderr)\n"
                    f"    sys.__stdout__.write({MARKER!r}); sys.__stdout__.flush()\n"
                    f"    os.write(1, b{MARKER!r}); os.write(2, b{MARKER!r})\n"
                    "    return 7\n")
    reply = call(worker, "chatty")
    assert reply.ok, reply.error
    assert reply.value == 7
    assert reply.output.startswith(MARKER + "\n")
    assert 1000 < len(reply.output) <= 4000
    out, err = capfd.readouterr()
    assert MARKER not in out and MARKER not in err
    assert "x" * 100 not in out and "x" * 100 not in err


def test_output_of_one_call_does_not_leak_into_the_next(worker):
    load_ok(worker, "def talk():\n    print('hello')\n    return 1\ndef quiet():\n    return 2\n")
    assert call(worker, "talk").output == "hello\n"
    assert call(worker, "quiet").output == ""


# ---------------------------------------------------------------------------
# 5. calls that run forever
# ---------------------------------------------------------------------------

FOREVER = """
import os
TOKEN = os.urandom(8).hex()  # new in every worker (in a PID namespace every worker is pid 2)
def pid():
    return TOKEN
def spin():
    while True:
        pass
def cpu():
    import time
    return time.process_time()
def half():  # as on a machine that gives it half a core: CPU time runs at half the clock's pace
    import time
    while True:
        time.sleep(0.02)
        until = time.process_time() + 0.02
        while time.process_time() < until:
            pass
def nap():
    import time
    time.sleep(1000)
def stubborn():
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
"""


def test_endless_call_is_stopped_after_its_budget_of_cpu_time_by_the_worker_itself(worker):
    # CPU time, not the clock (DESIGN.md principle 6): on a busy machine the call gets the same
    # work done before it is cut, so the verdict does not depend on the load. A call that gets
    # half of the CPU (it sleeps as much as it runs) is cut after SHORT seconds of CPU time, not of
    # the clock's (which gave it half as much).
    load_ok(worker, FOREVER)
    before = call(worker, "pid").value
    for name in ("spin", "half"):
        used = call(worker, "cpu").value
        reply = call(worker, name, timeout=SHORT)
        assert reply.status == "timeout"
        used = call(worker, "cpu").value - used
        assert SHORT * 0.9 <= used < SHORT + 0.3, (name, used)
    assert call(worker, "pid").value == before  # stopped inside the worker: the same worker carries on


def test_a_call_that_sleeps_is_stopped_by_the_clock_before_the_trusted_sides_deadline(worker):
    load_ok(worker, FOREVER)
    before = call(worker, "pid").value
    start = time.monotonic()
    reply = call(worker, "nap", timeout=SHORT)
    assert reply.status == "timeout"
    assert time.monotonic() - start < wall_seconds(SHORT) + 1.0
    assert call(worker, "pid").value == before


def test_endless_call_swallowing_every_exception_is_killed_and_the_worker_restarted(worker):
    load_ok(worker, FOREVER)
    before = call(worker, "pid").value
    start = time.monotonic()
    reply = call(worker, "stubborn", timeout=SHORT)
    elapsed = time.monotonic() - start
    assert reply.status == "timeout"
    assert elapsed < wall_seconds(SHORT) + 3.0
    after = call(worker, "pid")
    assert after.ok, after.error
    assert after.value != before  # a new worker, with the definitions replayed
    assert call(worker, "spin", timeout=SHORT).status == "timeout"


# ---------------------------------------------------------------------------
# 6. exits
# ---------------------------------------------------------------------------

def test_os_exit_in_a_call_is_a_crash_and_the_next_call_works(worker):
    load_ok(worker, "import os\nTOKEN = os.urandom(8).hex()\ndef die():\n    os._exit(3)\ndef pid():\n    return TOKEN\n")
    before = call(worker, "pid").value
    reply = call(worker, "die")
    assert reply.status == "crash"
    after = call(worker, "pid")
    assert after.ok, after.error
    assert after.value != before


def test_os_exit_at_top_level_marks_that_statement_killed_and_later_definitions_load(worker):
    loaded = load(worker, "import os\ndef before():\n    return 1\n", "os._exit(3)\ndef after():\n    return 2\n")
    assert statuses(loaded) == ["ok", "ok", "killed", "ok"]
    assert {"before", "after"} <= set(written(loaded))
    assert call(worker, "before").value == 1
    assert call(worker, "after").value == 2


@pytest.mark.parametrize("statement", ["import sys\nsys.exit(0)", "raise SystemExit", "raise SystemExit(2)"])
def test_system_exit_at_top_level_costs_only_that_statement(worker, statement):
    loaded = load(worker, "def before():\n    return 1\n" + statement + "\ndef after():\n    return 2\n")
    record = statuses(loaded)
    assert record[-2] == "error" and record.count("error") == 1
    assert record[-1] == "ok"
    assert loaded["statements"][-2]["error"]["type"] == "SystemExit"
    assert call(worker, "before").value == 1
    assert call(worker, "after").value == 2


def test_system_exit_inside_a_call_is_an_error_not_a_crash(worker):
    load_ok(worker, "import os, sys\ndef leave():\n    sys.exit(0)\ndef pid():\n    return os.getpid()\n")
    before = call(worker, "pid").value
    reply = call(worker, "leave")
    assert reply.status == "error" and reply.error.type == "SystemExit"
    assert call(worker, "pid").value == before


# ---------------------------------------------------------------------------
# 7. endless top-level statements
# ---------------------------------------------------------------------------

def test_endless_top_level_statement_is_abandoned_and_later_definitions_load(worker):
    start = time.monotonic()
    loaded = load(worker, "def before():\n    return 1\n", "while True:\n    pass\n", "def after():\n    return 2\n")
    assert time.monotonic() - start < 2.0
    assert statuses(loaded) == ["ok", "abandoned", "ok"]
    assert call(worker, "after").value == 2
    assert call(worker, "before").value == 1


# ---------------------------------------------------------------------------
# 8. resource limits
# ---------------------------------------------------------------------------

LIMITED = """
import os, socket, subprocess
import numpy as np
TOKEN = os.urandom(8).hex()
def huge():
    return np.ones(10**10)
def pid():
    return TOKEN
def write(path):
    with open(path, 'w') as f:
        f.write('x')
    return os.path.realpath(path)
def system():
    return os.system('true')
def run():
    return subprocess.run(['true']).returncode
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return pid
def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.2)
    s.connect(('127.0.0.1', 9))
    return 'connected'
def remove(path):
    os.remove(path)
"""


def test_huge_allocation_is_a_memory_error_not_a_crash(worker):
    load_ok(worker, LIMITED)
    before = call(worker, "pid").value
    reply = call(worker, "huge")
    assert reply.status == "error"
    assert reply.error.type == "MemoryError"
    assert call(worker, "pid").value == before


def test_writing_outside_the_worker_folder_is_refused(worker):
    target = Path(f"/tmp/dlfs_test_outside_{os.getpid()}")
    target.unlink(missing_ok=True)
    load_ok(worker, LIMITED)
    try:
        reply = call(worker, "write", str(target))
        assert reply.status == "error"
        assert reply.error.type == "PermissionError"
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_removing_files_outside_the_worker_folder_is_refused(worker, tmp_path):
    victim = tmp_path / "keep.txt"
    victim.write_text("x")
    load_ok(worker, LIMITED)
    reply = call(worker, "remove", str(victim))
    assert reply.status == "error" and reply.error.type == "PermissionError"
    assert victim.exists()


def test_writing_outside_the_worker_folder_through_a_directory_descriptor_is_refused(plain_worker):
    target = Path(f"/tmp/dlfs_test_dirfd_{os.getpid()}")
    target.unlink(missing_ok=True)
    load_ok(plain_worker, "import os\n"
                    "def sneak(folder, name):\n"
                    "    d = os.open(folder, os.O_RDONLY)\n"
                    "    fd = os.open(name, os.O_WRONLY | os.O_CREAT, dir_fd=d)\n"
                    "    os.write(fd, b'x')\n"
                    "    os.close(fd)\n")
    try:
        reply = call(plain_worker, "sneak", str(target.parent), target.name)
        assert not target.exists()
        assert reply.status == "error" and reply.error.type == "PermissionError"
    finally:
        target.unlink(missing_ok=True)


def test_writing_inside_the_worker_folder_works(plain_worker):
    load_ok(plain_worker, LIMITED)
    reply = call(plain_worker, "write", "scratch.txt")
    assert reply.ok, reply.error
    inside = Path(plain_worker.workdir).resolve() / "work" / "scratch.txt"
    assert reply.value == str(inside)
    assert inside.read_text() == "x"


@pytest.mark.parametrize("name", ["system", "run", "fork"])
def test_starting_processes_is_refused(worker, name):
    load_ok(worker, LIMITED)
    before = call(worker, "pid").value
    reply = call(worker, name)
    assert reply.status == "error"
    assert reply.error.type == "PermissionError"
    assert call(worker, "pid").value == before  # and the worker is still the same, healthy process


def test_network_connections_are_refused(worker):
    load_ok(worker, LIMITED)
    reply = call(worker, "connect")
    assert reply.status == "error"
    assert reply.error.type == "PermissionError"


# ---------------------------------------------------------------------------
# 9. definitions
# ---------------------------------------------------------------------------

def test_every_version_of_a_redefined_function_is_kept(worker):
    loaded = load_ok(worker, "from math import sqrt\ndef f():\n    return 1\n", "def f():\n    return 2\n")
    versions = written(loaded)["f"]
    assert sorted(d["version"] for d in versions) == [0, 1]
    by_version = {d["version"]: d for d in versions}
    assert (by_version[0]["cell"], by_version[1]["cell"]) == ("0", "1")
    assert (by_version[0]["current"], by_version[1]["current"]) == (False, True)
    assert call(worker, "f", version=0).value == 1
    assert call(worker, "f", version=1).value == 2


def test_imported_names_are_listed_as_imported_not_written(worker):
    loaded = load_ok(worker, "from math import sqrt\ndef f():\n    return sqrt(4.0)\n")
    assert {"name": "sqrt", "module": "math"} in loaded["definitions"]["imported"]
    assert "sqrt" not in written(loaded)
    assert written(loaded)["f"][0]["kind"] == "function"


def test_kept_instances_answer_method_calls_and_attribute_reads(worker):
    load_ok(worker, "import numpy as np\n"
                    "class Net:\n"
                    "    def __init__(self):\n"
                    "        self.params = {'W1': np.full((2, 2), 3.0)}\n"
                    "    def predict(self, x):\n"
                    "        return x @ self.params['W1']\n")
    kept = worker.call({"name": "Net", "version": 0}, (), keep=True)
    assert kept.ok, kept.error
    handle = kept.value.id
    got = worker.request({"op": "get", "target": {"handle": handle}, "path": ["params", "W1"]})
    assert got.ok and got.value.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    predicted = worker.call({"handle": handle, "method": "predict"}, (np.ones((1, 2)),))
    assert predicted.ok and predicted.value.tolist() == [[6.0, 6.0]]


# ---------------------------------------------------------------------------
# 10. determinism
# ---------------------------------------------------------------------------

def test_student_code_runs_with_the_garbage_collector_on_at_its_usual_thresholds(worker):
    # The worker loads itself with the collector off (speed); the student's code must not notice.
    load_ok(worker, "import gc\ndef state():\n    return [gc.isenabled(), list(gc.get_threshold())]\n"
                    "class Cycle:\n    pass\n"
                    "def collects():\n    a = Cycle(); a.me = a\n    del a\n    return gc.collect() >= 1\n")
    assert call(worker, "state").value == [True, [700, 10, 10]]
    assert call(worker, "collects").value is True


def test_same_seed_gives_the_same_random_numbers_and_another_seed_others(worker):
    load_ok(worker, "import random\nimport numpy as np\n"
                    "def draw():\n    return np.random.rand(4), np.random.randn(2), random.random()\n")
    a = call(worker, "draw", seed=0).value
    b = call(worker, "draw", seed=0).value
    c = call(worker, "draw", seed=1).value
    for x, y in zip(a[:2], b[:2]):
        np.testing.assert_array_equal(x, y)
    assert a[2] == b[2]
    assert not np.array_equal(a[0], c[0])
    assert a[2] != c[2]


# ---------------------------------------------------------------------------
# 11. arguments mutated by the call
# ---------------------------------------------------------------------------

def test_mutated_argument_comes_back_mutated_with_return_args(worker):
    load_ok(worker, "def scribble(x, k):\n    x[0] = 99.0\n    return None\n")
    x = np.array([1.0, 2.0, 3.0])
    reply = call(worker, "scribble", x, 5, return_args=True)
    assert reply.ok, reply.error
    assert reply.value is None
    mutated, k = reply.args
    assert type(mutated) is np.ndarray and mutated.tolist() == [99.0, 2.0, 3.0]
    assert k == 5
    assert x.tolist() == [1.0, 2.0, 3.0]  # the grader's own copy is untouched
    assert call(worker, "scribble", x, 5).args is None


def test_the_low_level_process_starter_is_disarmed_even_when_reloaded(plain_worker):
    load_ok(plain_worker, "import sys\n"
                    "def direct():\n"
                    "    import _posixsubprocess\n"
                    "    try:\n"
                    "        _posixsubprocess.fork_exec(*([None] * 23))\n"
                    "    except PermissionError:\n"
                    "        return 'refused'\n"
                    "    except Exception as exc:\n"
                    "        return 'reached: ' + type(exc).__name__\n"
                    "def reload():\n"
                    "    sys.modules.pop('_posixsubprocess', None)\n"
                    "    try:\n"
                    "        import _posixsubprocess\n"
                    "    except ImportError:\n"
                    "        return 'refused'\n"
                    "    return 'reloaded'\n")
    assert call(plain_worker, "direct").value == "refused"
    assert call(plain_worker, "reload").value == "refused"


# ---------------------------------------------------------------------------
# 12. restarts are counted per statement, cleanup never fails
# ---------------------------------------------------------------------------

def test_nine_exiting_statements_cost_only_themselves(worker):
    cells = ["import os\ndef before():\n    return 1\n"] + ["os._exit(%d)\n" % n for n in range(9)] + \
        ["def after():\n    return 2\n"]
    loaded = load(worker, *cells)
    assert statuses(loaded) == ["ok", "ok"] + ["killed"] * 9 + ["ok"]
    assert call(worker, "before").value == 1
    assert call(worker, "after").value == 2


def test_a_replay_starts_from_a_clean_copy_of_the_files_not_from_what_the_code_wrote(worker):
    worker.files = {"data.txt": b"original"}
    loaded = load(worker, "import os\nwith open('data.txt', 'a') as f:\n    f.write('+')\n"
                          "open('_posixsubprocess.py', 'w').write('raise SystemExit(9)')\n"
                          "def read():\n    return open('data.txt').read(), os.path.exists('_posixsubprocess.py')\n"
                          "def die():\n    os._exit(1)\n")
    assert all(s == "ok" for s in statuses(loaded))
    assert call(worker, "read").value == ("original+", True)
    assert call(worker, "die").status == "crash"
    # The replay appended once more to the file as handed in (not to 'original+'), and the
    # _posixsubprocess.py written by the first worker did not stop the second from starting.
    assert call(worker, "read").value == ("original+", True)
    assert worker.restarts == 1


def test_a_folder_tree_deeper_than_any_path_is_removed_and_close_never_raises(tmp_path):
    from grader.worker.cleanup import remove_tree
    root = tmp_path / "deep"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    for _ in range(1100):
        os.mkdir("d", dir_fd=fd)
        new = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = new
    os.symlink("/etc", "link", dir_fd=fd)
    os.close(fd)
    remove_tree(root)
    assert not root.exists()
    assert Path("/etc").is_dir()


def test_a_killed_worker_its_parent_has_not_reaped_yet_is_not_alive():
    # A zombie still answers kill(pid, 0): leftover checks and stale-folder sweeps must not count it.
    import signal
    import subprocess
    import sys
    import time as clock

    from grader.worker.cleanup import alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert alive(child.pid)
        os.kill(child.pid, signal.SIGKILL)
        deadline = clock.monotonic() + 30
        while Path(f"/proc/{child.pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z":
            assert clock.monotonic() < deadline
            clock.sleep(0.01)
        assert not alive(child.pid)
    finally:
        child.kill()
        child.wait()
