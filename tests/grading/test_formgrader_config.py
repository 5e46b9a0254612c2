"""The course folder that ``release`` writes, as nbgrader and its formgrader see it
(issue 10, findings 1, 3 and 5).

nbgrader's own commands run for real, in the course folder, through its CLI. The control
tests remove the refusing lines from the config first, to show what they prevent: nbgrader's
``autograde`` giving a cheat full marks that the sandboxed grader refused, and its
``generate_feedback`` showing hidden tests to students.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from grading_helpers import ASSIGNMENT, submit
from workflow_helpers import (
    CRASH,
    WRITTEN_ID,
    autograded_notebook,
    cheat_notebook,
    export,
    export_rows,
    feedback_page,
    fresh_course,
    grade,
    nbgrader_cli,
    nbgrader_gradebook,
    released,
    with_written_answer,
    without_guard,
)

from autograder.batteries import load

pytestmark = pytest.mark.slow
__all__ = ["released"]


@pytest.fixture(scope="module")
def cheated(released, tmp_path_factory):
    """A course where the sandboxed grader graded a cheat (0 points) and an honest student."""
    course = fresh_course(released, tmp_path_factory.mktemp("cheated"))
    submit(course, "cheat", cheat_notebook())
    submit(course, "honest", with_written_answer("p log p tends to 0."))
    grade(course)
    return course


def _auto_scores(course, student):
    with nbgrader_gradebook(course) as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.cell.name: g.auto_score for nb in sub.notebooks for g in nb.grades}


def test_sandboxed_grader_gives_the_cheat_nothing(cheated):
    """Does our grader give the cheat 0 and the honest student every automatic point?"""
    rows = export_rows(cheated)
    assert rows["cheat"]["score"] == 0.0 and "sandboxed grader wrote" not in rows["cheat"]["reason"]
    assert rows["honest"]["score"] == load(ASSIGNMENT).max_score


def test_nbgrader_autograde_is_refused(cheated):
    """Does `nbgrader autograde --force` (formgrader's Autograde button) stop with a message
    naming `python -m autograder grade`, leaving the gradebook and the copy untouched?"""
    before = _auto_scores(cheated, "cheat")
    copy_before = autograded_notebook(cheated, "cheat")
    proc = nbgrader_cli(cheated, "autograde", ASSIGNMENT, "--force")
    assert proc.returncode != 0
    assert "python -m autograder grade" in proc.stdout + proc.stderr
    assert _auto_scores(cheated, "cheat") == before
    assert autograded_notebook(cheated, "cheat") == copy_before
    assert export_rows(cheated)["cheat"]["score"] == 0.0


def test_nbgrader_generate_feedback_is_refused(cheated):
    """Does `nbgrader generate_feedback` (formgrader's Generate Feedback) stop with a message
    naming `python -m autograder feedback`, leaving our page as it was?"""
    page = feedback_page(cheated, "honest")
    proc = nbgrader_cli(cheated, "generate_feedback", ASSIGNMENT, "--force")
    assert proc.returncode != 0
    assert "python -m autograder feedback" in proc.stdout + proc.stderr
    assert feedback_page(cheated, "honest") == page
    assert "BEGIN HIDDEN TESTS" not in page and "check(" not in page


def test_without_the_guard_autograde_replaces_grades_and_export_flags_them(
    released, tmp_path_factory
):
    """Control: without the config's refusal, does nbgrader's autograde give the cheat the
    points (the threat), does `export` flag every such score and keep exporting 0, and does
    nbgrader's feedback show the hidden tests (the leak)?"""
    course = fresh_course(released, tmp_path_factory.mktemp("unguarded"))
    submit(course, "cheat", cheat_notebook())
    grade(course)
    submit(course, "late", cheat_notebook())  # never seen by the sandboxed grader
    without_guard(course)
    proc = nbgrader_cli(course, "autograde", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    scores = _auto_scores(course, "cheat")
    assert sum(v for k, v in scores.items() if k.startswith("test_")) == load(ASSIGNMENT).max_score
    late_scores = _auto_scores(course, "late")
    assert sum(v for k, v in late_scores.items() if k.startswith("test_")) == 9.0  # ps1: 2+3+2+2
    as_json = export(course, "json")
    row, late = sorted(json.loads(as_json.stdout), key=lambda r: r["student"] != "cheat")
    assert row["score"] == 0.0 and late["score"] == 0.0
    assert "never graded this submission" in late["reason"]
    assert {t["grade_id"] for t in late["tests"] if t["kind"] == "auto"} == {
        t.grade_id for t in load(ASSIGNMENT).tests
    }
    for t in load(ASSIGNMENT).tests:
        flag = f"{t.grade_id}: the gradebook holds {float(t.points)} but the sandboxed grader"
        assert flag in row["reason"] and flag in as_json.stderr
    as_csv = export(course, "csv")
    assert [float(line["raw_score"]) for line in csv.DictReader(io.StringIO(as_csv.stdout))] == [
        0.0,
        0.0,
    ]
    assert "not written" not in as_csv.stdout and "sandboxed grader wrote 0" in as_csv.stderr
    proc = nbgrader_cli(course, "generate_feedback", ASSIGNMENT, "--force")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "BEGIN HIDDEN TESTS" in feedback_page(course, "cheat")


@pytest.fixture(scope="module")
def mixed(released, tmp_path_factory):
    """A course with a failing test (wrong entropy) and a crashed submission."""
    course = fresh_course(released, tmp_path_factory.mktemp("mixed"))
    wrong = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"
    submit(course, "wrong", with_written_answer("because", replace={"entropy": wrong}))
    submit(course, "crash", with_written_answer("it is a limit", append=CRASH))
    grade(course)
    return course


def test_formgrader_api_finds_exchange_and_course(mixed):
    """Does nbgrader's API (the formgrader's back end) find the course-local exchange and a
    course id, so the formgrader shows no exchange error banner?"""
    from autograder.release import _api

    api = _api(mixed)
    assert api.exchange_missing is False
    assert api.course_id == "cross_entropy"
    assert api.exchange_is_functional


def test_failing_test_cell_shows_the_graders_message(mixed):
    """Does the failing test cell of the copy the formgrader shows carry the grader's
    verdict and message as its output, and a passing one its score?"""
    cells = {
        c["metadata"].get("nbgrader", {}).get("grade_id"): c
        for c in autograded_notebook(mixed, "wrong")["cells"]
    }
    message = next(
        t["message"]
        for t in export_rows(mixed)["wrong"]["tests"]
        if t["grade_id"] == "test_entropy"
    )
    (out,) = cells["test_entropy"]["outputs"]
    assert out["name"] == "stderr" and out["text"].startswith("sandboxed grader: 0 / 3")
    assert message in out["text"] and len(message) > 20
    (ok,) = cells["test_self_information"]["outputs"]
    assert ok["name"] == "stdout" and ok["text"].startswith("sandboxed grader: 2 / 2")


def test_crashed_submission_is_in_manual_grading(mixed):
    """Is a crashed submission autograded in the formgrader's eyes (no "needs autograding"),
    with its written answer in the copy and awaiting a manual grade?"""
    from autograder.release import _api

    api = _api(mixed)
    subs = {s["student"]: s for s in api.get_submissions(ASSIGNMENT)}
    assert subs["crash"]["autograded"] is True and subs["wrong"]["autograded"] is True
    assert subs["crash"]["needs_manual_grade"] is True
    cells = autograded_notebook(mixed, "crash")["cells"]
    (written,) = [
        c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == WRITTEN_ID
    ]
    assert written["source"] == "it is a limit"
    with nbgrader_gradebook(mixed) as gb:
        grade = gb.find_grade(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, "crash")
        assert grade.needs_manual_grade and grade.manual_score is None
    row = export_rows(mixed)["crash"]
    assert row["status"] == "ungradable" and row["reason"].startswith("crashed")
    (pending,) = [t for t in row["tests"] if t["kind"] == "manual"]
    assert pending["pending"] is True


def test_older_course_config_gets_a_warning(tmp_path, capsys):
    """Does `release` keep an instructor's config that lacks the refusals, and warn with
    the two lines to add?"""
    from autograder.release import write_config

    config = tmp_path / "nbgrader_config.py"
    config.write_text("c = get_config()\nc.CourseDirectory.db_url = 'postgresql://db/x'\n")
    write_config(tmp_path)
    err = capsys.readouterr().err
    assert "does not refuse nbgrader's autograde" in err
    assert (
        'c.Autograde.exporter_class = "autograder.grading.nbgrader_guard.AutogradeRefused"' in err
    )
    assert "GenerateFeedbackRefused" in err
    assert "postgresql://db/x" in config.read_text() and "nbgrader_guard" not in config.read_text()
