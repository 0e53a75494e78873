"""`grade class --scheduler`: the class graded as Dask tasks gives the local run's gradebook.

Two clusters: an in-process ``LocalCluster`` (worker processes it starts itself), and a real
``dask scheduler`` with two ``dask worker`` processes on 127.0.0.1, one of which is killed in
the middle of the class. Both must give the gradebook of the local pool (tests/test_classroom.py)
except the timings; a student whose task kills its Dask workers gets an error row; workers
with another grader are refused; without Dask, --scheduler says how to install it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from test_classroom import CLASS, PINNED, graded_class, gradebook_without_times, left_behind  # noqa: F401
from test_classroom_resume import no_workers_left

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason='dask is not installed here (pip install "dlfs-grader[dask]"; '
                                                      "CI installs it through the test extra)")
TIMING_KEYS = {"seconds", "duration"}


def without_timings(value):
    """gradebook.json with every timing taken out, everything else kept."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def whole_gradebook(out: Path) -> dict[str, dict]:
    """gradebook.csv and each student's full record in gradebook.json, without timings, by student."""
    book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    rows = gradebook_without_times(out)
    students = {s["student"]: without_timings(s) for s in book["students"]}
    rest = without_timings({k: v for k, v in book.items() if k not in ("outdir", "submissions", "students")})
    return {"(class)": rest, **{name: {"csv": rows[name], "json": students.get(name)} for name in rows}}


def assert_same_gradebook(out: Path, reference: Path) -> None:
    mine, theirs = whole_gradebook(out), whole_gradebook(reference)
    assert list(mine) == list(theirs)
    for name in theirs:
        if mine[name] != theirs[name]:
            import difflib

            lines = [json.dumps(side[name], indent=1, ensure_ascii=False, sort_keys=True).splitlines()
                     for side in (theirs, mine)]
            diff = "\n".join(difflib.unified_diff(*lines, "local run", "cluster run", lineterm=""))
            pytest.fail(f"{name} differs from the local run:\n{diff}")


def same_secret_as(reference: Path, out: Path) -> None:
    """OUTDIR starts with the reference run's own secret (made there by `grade class`): the same random
    inputs, so the same reports. The secret is carried to the Dask workers with each task."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(reference / ".instructor-secret", out / ".instructor-secret")


def grade_in_process(subs: Path, out: Path, *extra: str) -> int:
    from grader.classroom.cli import main

    return main([str(subs), "-o", str(out), *extra])


def remote_folders_of_dead_processes(folder: Path) -> list[Path]:
    """Folders Dask workers whose TMPDIR is ``folder`` (this test's own) left when they died."""
    from grader.worker.cleanup import alive as _alive
    from grader.classroom.remote import REMOTE_TMP_PREFIX

    return [p for p in folder.glob(f"{REMOTE_TMP_PREFIX}*")
            if not _alive(int(p.name[len(REMOTE_TMP_PREFIX):].split("-")[0]))]


@pytest.fixture(scope="module")
def local_reference(graded_class):
    """The class graded by the local pool (test_classroom's run, shared when both run): the gradebook
    every cluster run must reproduce. Only read here, never written."""
    subs, out, proc, _started = graded_class
    assert proc.returncode == 0, proc.stderr
    return subs, out


def test_without_dask_the_scheduler_option_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None\n"  # as if Dask were not installed
            "from grader.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-c", code, "class", str(CLASS), "-o", str(tmp_path / "out"),
                           "--scheduler", "tcp://127.0.0.1:8786"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert 'pip install "dlfs-grader[dask]"' in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out" / ".results").exists()  # nothing was graded


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_an_unreachable_scheduler_is_a_usage_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "2s")
    import dask.config
    dask.config.refresh()
    try:
        subs = tmp_path / "subs"
        subs.mkdir()
        shutil.copy(CLASS / "kim_minsu.py", subs)
        assert grade_in_process(subs, tmp_path / "out", "--scheduler", f"tcp://127.0.0.1:{port}") == 2
    finally:
        monkeypatch.delenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT")
        dask.config.refresh()
    err = capsys.readouterr().err
    assert f"cannot connect to the Dask scheduler at tcp://127.0.0.1:{port}" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    """Two Dask worker processes with a TMPDIR of their own (``cluster.tmp``): what they leave there
    is theirs, whatever other runs on the machine leave in /tmp."""
    started = time.time()
    from distributed import LocalCluster

    import dask.config

    tmp = tmp_path_factory.mktemp("cluster-tmp")
    kept = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp)  # read by the worker processes as they start
    try:
        # One death is enough to give up on a task here, so that the worker-killing student is quick to test.
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, scheduler_port=0,
                              dashboard_address=None) as cluster:
                cluster.tmp = tmp
                yield cluster
    finally:
        if kept is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = kept
    assert remote_folders_of_dead_processes(tmp) == []
    assert left_behind(started)[1] == []  # no sandboxed worker outlived its Dask worker


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_a_local_cluster_gives_the_local_runs_gradebook_and_resumes_from_its_records(local_reference, local_cluster,
                                                                                    tmp_path, capsys):
    subs, local_out = local_reference
    out = tmp_path / "graded"
    same_secret_as(local_out, out)
    assert grade_in_process(subs, out, "--scheduler", local_cluster.scheduler_address) == 0
    printed = capsys.readouterr().out
    assert "20 to grade, 0 up to date" in printed and "20 in the gradebook, 1 in error" in printed
    assert_same_gradebook(out, local_out)
    for student in PINNED:  # every student's own pages, written on the driver's side
        assert (out / "reports" / f"{student}.html").is_file() and (out / "reports" / f"{student}.json").is_file()

    # The records are the local pool's: a local OUTDIR resumes on the cluster with nothing to grade,
    # and a changed file is the only one graded again.
    resumed = tmp_path / "resumed"
    shutil.copytree(local_out, resumed)
    assert grade_in_process(subs, resumed, "--scheduler", local_cluster.scheduler_address) == 0
    assert "0 to grade, 20 up to date" in capsys.readouterr().out
    changed = tmp_path / "changed"
    shutil.copytree(subs, changed)
    with open(changed / "kim_minsu.py", "a", encoding="utf-8") as source:
        source.write("\n# 다시 제출\n")
    assert grade_in_process(changed, resumed, "--scheduler", local_cluster.scheduler_address) == 0
    assert "1 to grade, 19 up to date" in capsys.readouterr().out
    assert_same_gradebook(resumed, local_out)


KILLER_PLUGIN = '''
"""Ends the grading process when it grades a submission named worker_killer: a Dask worker dying mid-task."""
import os

from grader import hookimpl


@hookimpl
def grader_report_ready(report):
    if "worker_killer" in report.submission:
        os._exit(1)
'''


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_a_student_whose_task_kills_its_workers_gets_an_error_row_and_the_class_goes_on(local_cluster, tmp_path,
                                                                                        capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("kim_minsu.py", "lim_nari.py", "garcia_maria.py"):
        shutil.copy(CLASS / name, subs)
    shutil.copy(CLASS / "kim_minsu.py", subs / "worker_killer.py")
    plugin = tmp_path / "killer_plugin.py"
    plugin.write_text(KILLER_PLUGIN, encoding="utf-8")
    out = tmp_path / "graded"
    assert grade_in_process(subs, out, "--plugin", str(plugin), "--lang", "en",
                            "--scheduler", local_cluster.scheduler_address) == 0
    printed = capsys.readouterr().out
    book = {s["student"]: s for s in json.loads((out / "gradebook.json").read_text(encoding="utf-8"))["students"]}
    killed = book["worker_killer"]
    assert killed["error_kind"] == "crash"
    # allowed-failures 1: tried on two workers that both died, then given up.
    assert "2 times (distributed.KilledWorker)" in killed["error"]
    assert "✘ worker_killer" in printed
    assert {s: book[s]["score"] for s in ("kim_minsu", "lim_nari", "garcia_maria")} == \
        {"kim_minsu": 100, "lim_nari": 100, "garcia_maria": 31.25}
    page = (out / "reports" / "worker_killer.html").read_text(encoding="utf-8")
    assert "distributed.KilledWorker" in page
    # A killed worker cannot tidy up; the next student graded on the host removes what it left.
    assert grade_in_process(subs, tmp_path / "after", "--only", "sum_squares_error", "--student", "kim_minsu",
                            "--scheduler", local_cluster.scheduler_address) == 0
    assert remote_folders_of_dead_processes(local_cluster.tmp) == []


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_workers_with_another_grader_version_are_refused(local_cluster, tmp_path, capsys):
    from distributed import Client

    def pretend_older_version() -> str:
        import grader
        previous, grader.__version__ = grader.__version__, "0.0.9"
        return previous

    def restore(previous: str) -> None:
        import grader
        grader.__version__ = previous

    with Client(local_cluster.scheduler_address, set_as_default=False) as client:
        previous = next(iter(client.run(pretend_older_version).values()))
        try:
            subs = tmp_path / "subs"
            subs.mkdir()
            shutil.copy(CLASS / "kim_minsu.py", subs)
            assert grade_in_process(subs, tmp_path / "out", "--scheduler", local_cluster.scheduler_address) == 2
        finally:
            client.run(restore, previous)
    err = capsys.readouterr().err
    assert "the Dask workers do not grade like this machine" in err
    assert "dlfs-grader 0.0.9, this machine" in err and "Traceback" not in err
    assert not list((tmp_path / "out").glob(".results/*.json"))  # refused before anything was graded


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_a_student_past_the_total_time_limit_gets_the_local_pools_timeout_row(local_cluster, tmp_path, capsys):
    from test_classroom import grade_class

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "submissions" / "hostile_infinite_loop.py", subs / "loopy.py")
    rows = {}
    for name, extra in (("local", ()), ("dask", ("--scheduler", local_cluster.scheduler_address))):
        out = tmp_path / name
        proc = grade_class(subs, out, "--student-timeout", "3", "--lang", "en", *extra)
        assert proc.returncode == 1, proc.stderr  # the only student could not be graded
        book = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
        rows[name] = {k: book["students"][0][k] for k in ("error_kind", "error", "seconds")}
    assert rows["dask"]["error_kind"] == rows["local"]["error_kind"] == "timeout"
    assert rows["dask"]["error"] == rows["local"]["error"]
    assert "3 s" in rows["dask"]["error"]
    # Stopped at the limit, and every later call ends at once (no 5 s per-call wait for each exercise).
    assert rows["dask"]["seconds"] < 12


# ---- a real scheduler and two workers on loopback ------------------------------------------------

def start(command: list[str], log: Path, tmp: Path | None = None) -> subprocess.Popen:
    """A Dask process in a process group of its own (so that it and its nanny's children can be killed),
    with ``tmp`` as its TMPDIR if given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **({"TMPDIR": str(tmp)} if tmp else {}))
    with open(log, "wb") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def wait_for(condition, seconds: float, what: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        for process in processes:
            assert process.poll() is None, f"{process.args[2]} ended while waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} within {seconds:g} s"
        time.sleep(0.1)


@pytest.mark.usefixtures("class_isolation")
@needs_dask
def test_a_real_cluster_with_a_worker_killed_midway_gives_the_local_runs_gradebook(local_reference, tmp_path):
    subs, local_out = local_reference
    started = time.time()
    scheduler_file = tmp_path / "scheduler.json"
    workers_tmp = tmp_path / "workers-tmp"
    workers_tmp.mkdir()
    dask_module = [sys.executable, "-m"]
    processes: list[subprocess.Popen] = []
    folders_before = remote_folders()
    try:
        processes.append(start([*dask_module, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                "--no-dashboard", "--scheduler-file", str(scheduler_file)], tmp_path / "scheduler.log"))
        wait_for(scheduler_file.exists, 60, "scheduler file", processes)
        for index in range(2):
            processes.append(start([*dask_module, "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
                                    "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--name", f"w{index}"],
                                   tmp_path / f"worker{index}.log", workers_tmp))
        address = json.loads(scheduler_file.read_text())["address"]

        def workers_connected() -> bool:
            from distributed import Client
            with Client(address, set_as_default=False, timeout=10) as client:
                return len(client.scheduler_info()["workers"]) == 2
        wait_for(workers_connected, 60, "two workers", processes)

        out = tmp_path / "graded"
        same_secret_as(local_out, out)
        env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
        with open(tmp_path / "driver.log", "wb") as log:
            driver = subprocess.Popen([sys.executable, "-m", "grader.cli", "class", str(subs), "-o", str(out),
                                       "--scheduler", address], cwd=ROOT, env=env, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(driver)
        try:
            wait_for(lambda: len(list(out.glob(".results/*.json"))) >= 5, 120, "5 students graded", processes)
            victim = processes[1]
            assert driver.poll() is None and len(list(out.glob(".results/*.json"))) < len(PINNED)
            os.killpg(victim.pid, signal.SIGKILL)  # the worker, its nanny and its sandboxes: gone mid-class
            victim.wait(timeout=30)
            assert driver.wait(timeout=240) == 0, (tmp_path / "driver.log").read_text()
        finally:
            stop(driver)
        printed = (tmp_path / "driver.log").read_text(encoding="utf-8")
        assert "20 in the gradebook, 1 in error" in printed and "Traceback" not in printed
        assert_same_gradebook(out, local_out)
        assert "Remove worker" in (tmp_path / "scheduler.log").read_text()  # the kill was seen, and survived
        assert remote_folders_of_dead_processes(workers_tmp) == []  # the killed worker's: removed by the other one
    finally:
        for process in reversed(processes):
            stop(process)
        end_orphaned_dask_workers(folders_before)
    assert no_workers_left(started), "a sandboxed worker outlived its Dask worker"


def remote_folders() -> set[Path]:
    import tempfile

    from grader.classroom.remote import REMOTE_TMP_PREFIX

    return set(Path(tempfile.gettempdir()).glob(f"{REMOTE_TMP_PREFIX}*"))


def end_orphaned_dask_workers(before: set[Path]) -> None:
    """The worker process a `dask worker` nanny spawned can outlive the kill of the nanny's process
    group (it is re-parented to init) and end seconds later without tidying its folder, so that a
    later check (local_cluster's, at the end of this module) found a folder of a dead process or not,
    by timing. The Dask worker processes this test started are ended here, by their id, and their
    folders removed as the next run on the host would."""
    from grader.classroom.remote import REMOTE_TMP_PREFIX, remove_stale_tmp

    pids = set()
    for folder in remote_folders() - before:
        pid = int(folder.name[len(REMOTE_TMP_PREFIX):].split("-")[0])
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in command or b"distributed" in command:  # never a pid reused by another program
            pids.add(pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    remove_stale_tmp()


# ---- the parcel: what travels to a Dask worker ---------------------------------------------------

def test_a_parcel_lays_out_what_staging_would_see_and_never_follows_a_link(tmp_path):
    from grader.classroom.parcel import pack, unpack
    from grader.classroom.roster import read_roster
    from grader.classroom.staging import stage

    subs = tmp_path / "subs"
    folder = subs / "tanaka"
    (folder / "common").mkdir(parents=True)
    (folder / "chapter4.py").write_bytes((CLASS / "kim_minsu.py").read_bytes())
    (folder / "common" / "functions.py").write_text("# 自分の関数\n", encoding="utf-8")
    (folder / "secrets.py").symlink_to("/etc/passwd")
    os.mkfifo(folder / "pipe")
    student = read_roster(subs).find("tanaka")
    parcel = pack(student, subs)
    assert b"root:" not in b"".join(item.data for item in parcel.items)  # the link's target is not read
    remote = tmp_path / "remote"
    remote.mkdir()
    there = unpack(parcel, remote)
    assert [e.path.relative_to(remote) for e in there.entries] == [e.path.relative_to(subs) for e in student.entries]
    staged = {}
    for name, who in (("here", student), ("there", there)):
        (tmp_path / name).mkdir()
        result = stage(who, tmp_path / name)
        staged[name] = (result.path.relative_to(tmp_path / name), sorted(result.notes),
                        sorted(p.relative_to(tmp_path / name).as_posix() for p in (tmp_path / name).rglob("*")))
    assert staged["here"] == staged["there"]
    assert any("secrets.py" in note for note in staged["there"][1])  # said, not followed


def test_a_parcel_path_that_leaves_its_folder_is_refused(tmp_path):
    from grader.classroom.parcel import FILE, Item, Parcel, unpack
    from grader.classroom.roster import Entry, Student

    for bad in ("../outside.py", "/etc/evil.py", "a/../../b.py"):
        parcel = Parcel(Student("x", "x", (Entry(Path("x.py"), "x.py"),), "plain"), (Item(bad, FILE, b"1"),))
        with pytest.raises(ValueError, match="leaves its folder"):
            unpack(parcel, tmp_path / "inbox")
    assert not (tmp_path / "outside.py").exists()


@pytest.mark.usefixtures("class_isolation")
def test_a_hand_in_larger_than_staging_could_take_is_not_sent(tmp_path):
    from grader.classroom.parcel import ParcelTooLarge, pack
    from grader.classroom.roster import read_roster
    from grader.classroom.staging import StagingLimits

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "big.py").write_bytes(b"x = 1\n" * 400)
    with pytest.raises(ParcelTooLarge, match="big.py"):
        pack(read_roster(subs).find("big"), subs, StagingLimits(max_bytes=1000))
