"""`grade class --scheduler`: what a Dask worker sends back is checked before it counts.

A worker is another machine: broken, misconfigured or hostile, its answer is data. Each test
forges what such a worker would do, by replacing the worker-side grading function inside the
in-process cluster's worker processes for one student only (a hostile worker would run its own
code; the driver sees only the answer). The forged answer is refused, that student gets an error
row saying why (and is graded again on the next run), and their classmates are graded as usual.
A worker with another instructor's secret is refused before anything is graded.
"""
from __future__ import annotations

import json
import shutil

import pytest

from test_classroom import CLASS, read_gradebook
from test_classroom_dask import grade_in_process, needs_dask

pytestmark = [pytest.mark.usefixtures("class_isolation"), needs_dask]

ONLY = ("--only", "sum_squares_error", "--lang", "en")
VICTIM = "lim_nari"
CLASSMATES = {"kim_minsu": "10", "smithjohn": "0"}  # their sum_squares_error scores, graded honestly


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, scheduler_port=0,
                      dashboard_address=None) as local:
        with Client(local.scheduler_address, set_as_default=False) as client:
            yield local.scheduler_address, client


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("kim_minsu.py", "lim_nari.py"):
        shutil.copy(CLASS / name, folder)
    shutil.copy(CLASS / "smithjohn_48213_1190877_chapter4.py", folder / "smithjohn.py")
    return folder


def forge(client, victim: str, how: str) -> None:
    """On every worker: the grading function answers for ``victim`` the way ``how`` says."""

    def install(victim: str, how: str) -> None:
        from grader.classroom import remote

        genuine = getattr(remote, "_genuine_grade_in_lane", remote._grade_in_lane)
        remote._genuine_grade_in_lane = genuine

        def forged(parcel, job_hash, options, fingerprint, fingerprint_options, seconds, secret=None):
            if parcel.student.id != victim:
                return genuine(parcel, job_hash, options, fingerprint, fingerprint_options, seconds, secret)
            if how == "another secret":
                # The genuine check, on a worker whose own secret for this task is not the driver's.
                from grader.specs.instructor_secret import task_secret
                with task_secret("a secret of another course"):
                    return genuine(parcel, job_hash, options, fingerprint, fingerprint_options, seconds,
                                   "a secret of another course")
            answer = genuine(parcel, job_hash, options, fingerprint, fingerprint_options, seconds, secret)
            record = answer["record"]
            if how == "another student":  # a classmate's grade, sent back as if it were this student's
                record.update(student="kim_minsu", slug="kim_minsu")
            elif how == "another hash":  # graded from other files (or by another grader) than it was sent
                record["hash"] = "v2:" + "0" * 64
            elif how == "full marks, old format":
                record.update(format=0)
            elif how == "not an answer":
                return ["record", record]
            return answer

        remote._grade_in_lane = forged

    client.run(install, victim, how)


def honest(client) -> None:
    def uninstall() -> None:
        from grader.classroom import remote

        remote._grade_in_lane = getattr(remote, "_genuine_grade_in_lane", remote._grade_in_lane)

    client.run(uninstall)


@pytest.mark.parametrize("how, reason", [
    ("another student", "it answered for 'kim_minsu' when asked for 'lim_nari'"),
    ("another hash", "another content hash"),
    ("full marks, old format", "not a record of this grader's format"),
    ("not an answer", "not a record of this grader's format"),
])
def test_a_forged_worker_answer_is_refused_and_costs_only_its_student(cluster, subs, tmp_path, capsys, how, reason):
    address, client = cluster
    out = tmp_path / "graded"
    forge(client, VICTIM, how)
    try:
        code = grade_in_process(subs, out, *ONLY, "--scheduler", address)
    finally:
        honest(client)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.out + printed.err
    rows = read_gradebook(out)
    assert {name: (rows[name]["score"], rows[name]["error"]) for name in CLASSMATES} == \
        {name: (score, "") for name, score in CLASSMATES.items()}
    error = rows[VICTIM]["error"]
    assert error.startswith("the answer of the Dask worker that graded this submission was refused") and reason in error
    assert "\n" not in error and rows[VICTIM]["score"] == "0"
    # Nothing of the forged answer was written as this student's (or anyone's) report.
    assert json.loads((out / "reports" / f"{VICTIM}.json").read_text(encoding="utf-8"))["error"] == error
    kim = json.loads((out / "reports" / "kim_minsu.json").read_text(encoding="utf-8"))
    assert kim["submission"] == "kim_minsu.py" and kim["score"] == 10
    # The refused student is graded again on the next run, by an honest worker, and nobody else is.
    assert grade_in_process(subs, out, *ONLY, "--scheduler", address) == 0
    assert "1 to grade, 2 up to date" in capsys.readouterr().out
    assert read_gradebook(out)[VICTIM]["score"] == "10" and read_gradebook(out)[VICTIM]["error"] == ""


def test_a_worker_whose_secret_differs_for_a_task_refuses_it_and_the_class_goes_on(cluster, subs, tmp_path, capsys):
    # As a worker that joins after the driver's check at the start: its own check before the task refuses it.
    address, client = cluster
    out = tmp_path / "graded"
    forge(client, VICTIM, "another secret")
    try:
        code = grade_in_process(subs, out, *ONLY, "--scheduler", address)
    finally:
        honest(client)
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Traceback" not in printed.out + printed.err
    rows = read_gradebook(out)
    assert {name: rows[name]["score"] for name in CLASSMATES} == CLASSMATES
    assert rows[VICTIM]["error"].startswith("the Dask worker given this submission grades differently")
    assert "differ from the driver's" in rows[VICTIM]["error"]
    assert grade_in_process(subs, out, *ONLY, "--scheduler", address) == 0
    assert "1 to grade, 2 up to date" in capsys.readouterr().out


def test_workers_with_another_instructors_secret_are_refused_before_anything_is_graded(cluster, subs, tmp_path,
                                                                                      capsys):
    address, client = cluster

    def set_secret(value):
        import os

        previous = os.environ.get("DLFS_GRADER_SECRET")
        if value is None:
            os.environ.pop("DLFS_GRADER_SECRET", None)
        else:
            os.environ["DLFS_GRADER_SECRET"] = value
        return previous

    secret = tmp_path / "secret.txt"
    secret.write_text("the instructor's own secret\n", encoding="utf-8")
    previous = client.run(set_secret, "a secret of another course")
    try:
        code = grade_in_process(subs, tmp_path / "graded", *ONLY, "--secret-file", str(secret),
                                "--scheduler", address)
    finally:
        for worker, value in previous.items():
            client.run(set_secret, value, workers=[worker])
    err = capsys.readouterr().err
    assert code == 2
    assert "the Dask workers do not grade like this machine" in err
    assert "instructor's secret (DLFS_GRADER_SECRET) differs" in err and "Traceback" not in err
    assert not list((tmp_path / "graded").glob(".results/*.json"))
