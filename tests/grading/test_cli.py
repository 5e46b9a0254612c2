"""The grade and export verbs end to end: regrades (attack row 21), export formats, operator
errors, ``--student``, and the report of sandbox features a machine lacks."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    battery,
    export_json,
    notebook,
    run_cli,
    scores_of,
    submit,
)

pytestmark = pytest.mark.slow

CRASH = ["import os\nos._exit(3)"]
WRONG_ENTROPY = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"


def _grade(course, *extra, env=None):
    if env:
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
    try:
        proc = run_cli("grade", ASSIGNMENT, "--course", str(course), *FAST_LIMITS, *extra)
    finally:
        if env:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def nbgrader_export(course: Path) -> dict[str, dict]:
    """Run nbgrader's own `export` in ``course``; its grades.csv rows keyed by student."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}


@pytest.fixture(scope="module")
def regraded(tmp_path_factory):
    """Grade three students, then regrade with a crashing, a wrong and a better resubmission."""
    course = tmp_path_factory.mktemp("regrade-course")
    submit(course, "keeper", notebook())  # graded, then a crashing resubmission
    submit(course, "improver", notebook(replace={"entropy": WRONG_ENTROPY}))  # then fixed
    submit(course, "bystander", notebook())
    first_out = _grade(course, "--jobs", "2")
    first = export_json(course)
    submit(course, "keeper", notebook(append=CRASH))
    submit(course, "improver", notebook())
    second_out = _grade(course, "--student", "keeper", "improver", "ghost", "--jobs", "2")
    second = export_json(course)
    return course, first, second, first_out, second_out


def test_failed_regrade_keeps_earlier_result(regraded):
    """Does a crashing resubmission keep the earlier graded result (and say so)?"""
    _, first, second, _, out = regraded
    assert first["keeper"]["status"] == "graded"
    assert second["keeper"]["status"] == "graded"
    assert second["keeper"]["score"] == first["keeper"]["score"] == battery().max_score
    assert "crashed" in second["keeper"]["reason"] and "kept" in second["keeper"]["reason"]
    assert "kept earlier" in out


def test_successful_regrade_replaces_result(regraded):
    """Does a better resubmission replace the earlier, lower score?"""
    _, first, second, _, _ = regraded
    assert scores_of(first["improver"])["test_entropy"] == 0.0
    assert second["improver"]["score"] == battery().max_score


def test_regrade_of_some_students_leaves_others(regraded):
    """Does `--student` regrade only the named students?"""
    _, first, second, _, _ = regraded
    assert second["bystander"] == first["bystander"]


def test_missing_student_is_recorded(regraded):
    """Is a named student without a submission folder recorded as missing, never silent?"""
    _, _, second, _, out = regraded
    assert second["ghost"]["status"] == "missing"
    assert second["ghost"]["score"] == 0.0
    assert "ghost" in out


def test_export_csv_has_nbgraders_columns(regraded):
    """Does the CSV export carry nbgrader's columns and one row per (assignment, student)?"""
    course = regraded[0]
    proc = run_cli("export", "--course", str(course), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert list(rows[0]) == [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
    ]
    by_student = {r["student_id"]: r for r in rows}
    assert float(by_student["keeper"]["score"]) == battery().max_score
    assert float(by_student["ghost"]["score"]) == 0.0


def test_export_json_format(regraded):
    """Does every JSON object have exactly DESIGN.md's keys and statuses?"""
    course = regraded[0]
    out = course / "grades.json"
    proc = run_cli("export", "--course", str(course), "--format", "json", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    keys = {"student", "assignment", "status", "reason", "score", "max_score", "tests"}
    for row in rows:
        assert set(row) == keys
        assert row["status"] in ("graded", "ungradable", "missing")
        for t in row["tests"]:
            assert set(t) == {"grade_id", "kind", "pending", "score", "max_score", "message"}


def test_degraded_sandbox_is_reported(tmp_path):
    """When namespaces are unavailable (simulated), does the grader say so and still grade?"""
    submit(tmp_path, "alone", notebook())
    out = _grade(tmp_path, env={"AUTOGRADER_SANDBOX_DISABLE": "mount,network"})
    assert "private file system: NO" in out and "no network: NO" in out
    assert "warning:" in out
    assert export_json(tmp_path)["alone"]["score"] == battery().max_score


def test_operator_errors_exit_nonzero(tmp_path):
    """Do an unknown assignment and a missing course folder exit with status 2?"""
    assert run_cli("grade", "ps0_nothing", "--course", str(tmp_path)).returncode == 2
    assert run_cli("grade", ASSIGNMENT, "--course", str(tmp_path / "nope")).returncode == 2
    assert run_cli("export", "--course", str(tmp_path / "nope")).returncode == 2


def test_no_submissions_is_not_an_error(tmp_path):
    """Does grading a course without submissions exit 0 and say so?"""
    proc = run_cli("grade", ASSIGNMENT, "--course", str(tmp_path))
    assert proc.returncode == 0 and "no submissions" in proc.stdout


def test_nbgrader_export_reads_our_gradebook(regraded):
    """Does nbgrader's own `export` read the scores this grader wrote?"""
    course = regraded[0]
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n", encoding="utf-8"
    )
    rows = nbgrader_export(course)
    assert float(rows["keeper"]["score"]) == battery().max_score
    assert float(rows["improver"]["score"]) == battery().max_score


def test_graded_notebooks_are_kept_for_the_formgrader(regraded):
    """Is each graded notebook copied where nbgrader's formgrader looks for it?"""
    course = regraded[0]
    copy = course / "autograded" / "keeper" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(copy.read_text())
    assert nb["nbformat"] == 4 and nb["cells"]
    # the crashing resubmission did not replace the graded copy
    assert "os._exit" not in copy.read_text()
    assert not (course / "autograded" / "ghost").exists()


def test_bad_student_id_is_an_operator_error(tmp_path):
    """Is a --student id that would escape the course folder refused with status 2?"""
    proc = run_cli("grade", ASSIGNMENT, "--course", str(tmp_path), "--student", "../x")
    assert proc.returncode == 2


def test_release_grade_then_nbgrader_export_share_one_gradebook(tmp_path):
    """Instructor's path: after `release` writes the course config, do `grade`, our `export`
    and nbgrader's own `export` all see the same gradebook and the same score?"""
    course = tmp_path / "course"
    released = run_cli("release", ASSIGNMENT, "--course", str(course), "--no-check")
    assert released.returncode == 0, released.stderr[-2000:]
    submit(course, "alice", notebook())
    assert run_cli("grade", ASSIGNMENT, "--course", str(course)).returncode == 0
    assert export_json(course)["alice"]["score"] == battery().max_score
    rows = nbgrader_export(course)
    assert float(rows["alice"]["score"]) == battery().max_score


def test_export_into_a_closed_pipe_is_quiet(regraded):
    """Does `export | head` end quietly (exit 0, no BrokenPipeError traceback) when the
    reader has already gone?"""
    course = regraded[0]
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autograder", "export", "--course", str(course)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
