"""A gradebook beyond one machine: PostgreSQL through nbgrader's db_url (`--db`), each
submission recorded once keyed by its content digest (reruns skip unchanged work unless
`--force`), and two graders writing into one PostgreSQL gradebook at the same time.

Expected scores are the battery's points: the ps1 source notebook's answers are correct
(full marks) and ``WRONG_ENTROPY`` returns 0 for every input (test_entropy scores 0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    PG_SERVER,
    REPO,
    battery,
    correct_notebook,
    notebook,
    run_cli,
    scores_of,
    submit,
)

pytestmark = pytest.mark.slow

WRONG_ENTROPY = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"


def _grade(course, db, *extra):
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--db", db, *FAST_LIMITS, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _export(course, db) -> dict[str, dict]:
    proc = run_cli("export", "--course", str(course), "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {r["student"]: r for r in json.loads(proc.stdout) if r["assignment"] == ASSIGNMENT}


def _graded_at(db) -> dict[str, str]:
    """student -> time of the last recorded grading, read with SQLAlchemy directly."""
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT student_id, graded_at FROM autograder_result"))
            return {student: str(at) for student, at in rows}
    finally:
        engine.dispose()


def test_grade_export_report_on_postgresql(tmp_path, pg_url):
    """Do grade, export and report all work against a fresh PostgreSQL gradebook, with the
    per-check results in it and the scores readable by nbgrader's own Gradebook?"""
    course = tmp_path / "course"
    submit(course, "alice", correct_notebook())
    submit(course, "bob", notebook(replace={"entropy": WRONG_ENTROPY}, drop_tests=True))
    _grade(course, pg_url, "--jobs", "2")
    assert not (course / "gradebook.db").exists()  # nothing went to the SQLite default
    rows = _export(course, pg_url)
    full = battery().max_score
    assert rows["alice"]["status"] == "graded" and rows["alice"]["score"] == full
    bob = scores_of(rows["bob"])
    assert bob["test_entropy"] == 0.0
    assert rows["bob"]["score"] == sum(bob.values()) < full
    assert any(t["message"] for t in rows["bob"]["tests"] if t["grade_id"] == "test_entropy")

    proc = run_cli("report", ASSIGNMENT, "--course", str(course), "--db", pg_url, "--format=json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["submissions"] == 2 and report["graded"] == 2

    from autograder.grading.gradebook import import_nbgrader_api

    gb = import_nbgrader_api().Gradebook(pg_url)
    try:
        assert gb.find_submission(ASSIGNMENT, "alice").score == full
        assert gb.find_submission(ASSIGNMENT, "bob").score == rows["bob"]["score"]
    finally:
        gb.close()


def test_nbgrader_export_reads_the_postgresql_gradebook(tmp_path, pg_url):
    """Does nbgrader's own `export --db` read the grades from PostgreSQL?"""
    course = tmp_path / "course"
    submit(course, "alice", correct_notebook())
    _grade(course, pg_url)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--db", pg_url],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = (course / "grades.csv").read_text()
    assert "alice" in text and f"{battery().max_score:g}" in text.replace(".0,", ",")


def test_rerun_skips_unchanged_and_regrades_changed(tmp_path, any_db):
    """Does a rerun on an unchanged course regrade nothing (and say so), regrade only a
    changed submission, and regrade everything with --force?"""
    course = tmp_path / "course"
    submit(course, "alice", correct_notebook())
    submit(course, "bob", notebook(replace={"entropy": WRONG_ENTROPY}, drop_tests=True))
    _grade(course, any_db, "--jobs", "2")
    first = _graded_at(any_db)

    out = _grade(course, any_db)
    assert "2 submission(s) unchanged" in out and "nothing to grade" in out
    assert _graded_at(any_db) == first

    submit(course, "bob", correct_notebook())  # bob resubmits a fixed notebook
    out = _grade(course, any_db)
    assert "1 submission(s) unchanged" in out
    second = _graded_at(any_db)
    assert second["alice"] == first["alice"] and second["bob"] != first["bob"]
    assert _export(course, any_db)["bob"]["score"] == battery().max_score

    out = _grade(course, any_db, "--force")
    assert "unchanged" not in out
    forced = _graded_at(any_db)
    assert forced["alice"] != second["alice"] and forced["bob"] != second["bob"]


def test_record_of_the_same_content_happens_once(tmp_path, any_db):
    """Is a second record of the same (assignment, student, digest) refused as already
    recorded (a retried task), while a new digest or force records?"""
    from autograder.batteries import load
    from autograder.grading import gradebook
    from autograder.grading.gradebook import CellResult, Result

    def result(digest, score):
        battery_tests = load(ASSIGNMENT).tests
        tests = [CellResult(t.grade_id, score, float(t.points), "m") for t in battery_tests]
        return Result("s1", ASSIGNMENT, "graded", tests=tests, digest=digest)

    gb = gradebook.open_gradebook(tmp_path, any_db)
    try:
        gradebook.ensure_assignment(gb, ASSIGNMENT, load(ASSIGNMENT), None)
        assert gradebook.record(gb, result("d1", 0.0)) == "recorded"
        assert gradebook.record(gb, result("d1", 1.0)) == "already recorded"
        assert gb.find_submission(ASSIGNMENT, "s1").score == 0.0
        assert gradebook.record(gb, result("d1", 1.0), force=True) == "recorded"
        assert gradebook.record(gb, result("d2", 0.0)) == "recorded"
        assert gradebook.recorded_digests(gb, ASSIGNMENT) == {"s1": "d2"}
    finally:
        gb.close()


def _start_grade(course, db, assignment, *extra) -> subprocess.Popen:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    command = [sys.executable, "-m", "autograder", "grade", assignment, "--course", str(course)]
    return subprocess.Popen(
        [*command, "--db", db, "--jobs", "1", *FAST_LIMITS, *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_graders_at_once_on_postgresql(tmp_path, pg_url):
    """Do two `grade` processes started together on one PostgreSQL gradebook (different
    students of one assignment, and a second assignment) all complete with every grade?"""
    course = tmp_path / "course"
    students = [f"s{i}" for i in range(4)]
    for s in students:
        submit(course, s, correct_notebook())
    ps2 = "ps2_divergence"
    ps2_source = json.loads((REPO / "solutions" / ps2 / f"{ps2}.ipynb").read_text())
    ps2_source["cells"] = [  # the answers only: the test cells come from the battery
        c
        for c in ps2_source["cells"]
        if not (c["metadata"].get("nbgrader", {}).get("grade"))
        or c["metadata"]["nbgrader"].get("solution")
    ]
    folder = course / "submitted" / "s0" / ps2
    folder.mkdir(parents=True)
    (folder / f"{ps2}.ipynb").write_text(json.dumps(ps2_source))
    procs = [
        _start_grade(course, pg_url, ASSIGNMENT, "--student", "s0", "s1"),
        _start_grade(course, pg_url, ASSIGNMENT, "--student", "s2", "s3"),
        _start_grade(course, pg_url, ps2),
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
    rows = _export(course, pg_url)
    assert sorted(rows) == students
    assert all(rows[s]["score"] == battery().max_score for s in students)
    proc = run_cli("export", "--course", str(course), "--db", pg_url, "--format", "json")
    ps2_rows = [r for r in json.loads(proc.stdout) if r["assignment"] == ps2]
    assert [(r["student"], r["status"]) for r in ps2_rows if r["status"] != "missing"] == [
        ("s0", "graded")
    ]


def _recorded(db) -> dict[str, str]:
    """student -> graded_at of the rows of autograder_result (empty before the table)."""
    import sqlalchemy as sa

    try:
        return _graded_at(db)
    except sa.exc.ProgrammingError:
        return {}


def _wait_for_records(db, count: int, proc: subprocess.Popen, limit_s: float = 300) -> None:
    import time

    deadline = time.monotonic() + limit_s
    while len(_recorded(db)) < count:
        assert proc.poll() is None, "the grader ended before the fault could be injected"
        assert time.monotonic() < deadline, "no submission was recorded in time"
        time.sleep(0.2)


SLOW = ["import time\ntime.sleep(2)"]


def test_coordinator_killed_mid_batch_then_rerun(tmp_path, pg_url):
    """After the grader is killed with SIGKILL mid-batch, does a rerun grade only what was
    not recorded, leaving every submission recorded once with full marks?"""
    import signal

    course = tmp_path / "course"
    students = [f"s{i}" for i in range(5)]
    for s in students:
        submit(course, s, notebook(drop_tests=True, append=SLOW))
    proc = _start_grade(course, pg_url, ASSIGNMENT)
    _wait_for_records(pg_url, 1, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    before = _recorded(pg_url)
    assert 1 <= len(before) < len(students)
    out = _grade(course, pg_url)
    assert f"{len(before)} submission(s) unchanged" in out
    after = _recorded(pg_url)
    assert sorted(after) == students
    assert {s: after[s] for s in before} == before  # nothing recorded a second time
    rows = _export(course, pg_url)
    assert all(rows[s]["score"] == battery().max_score for s in students)


def test_database_connection_terminated_mid_batch(tmp_path, pg_url):
    """When PostgreSQL terminates the grader's connection mid-batch (pg_terminate_backend),
    does a rerun leave every submission recorded, with full marks?"""
    import psycopg

    course = tmp_path / "course"
    students = [f"s{i}" for i in range(4)]
    for s in students:
        submit(course, s, notebook(drop_tests=True, append=SLOW))
    proc = _start_grade(course, pg_url, ASSIGNMENT)
    _wait_for_records(pg_url, 1, proc)
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_SERVER} dbname=postgres", autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    assert killed, "the grader had no connection to terminate"
    proc.communicate(timeout=600)  # it may report NOT RECORDED for one submission
    _grade(course, pg_url)
    assert sorted(_recorded(pg_url)) == students
    rows = _export(course, pg_url)
    assert all(rows[s]["score"] == battery().max_score for s in students)
