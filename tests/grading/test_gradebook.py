"""The gradebook layer: settings read from nbgrader_config.py, the alembic revision, and the
one-transaction-per-submission record with its regrade rule (in-process, SQLite)."""

from __future__ import annotations

import os
import sys

from autograder.batteries import load
from autograder.grading import gradebook
from autograder.grading.gradebook import CellResult, Result

ASSIGNMENT = "ps1_information"


def test_course_settings_read_db_url_and_course_id(tmp_path):
    """Are a shared db_url and a course_id read from nbgrader_config.py?"""
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.db_url = 'postgresql://grader@db/course'\n"
        'c.CourseDirectory.course_id = "xent101"\n',
        encoding="utf-8",
    )
    assert gradebook.course_settings(tmp_path) == ("postgresql://grader@db/course", "xent101")


def test_course_settings_follow_the_config_that_release_writes(tmp_path):
    """Does the grader use the gradebook that `release` configured (a computed db_url, the
    one `nbgrader export` reads), not an in-memory database?"""
    from autograder.release import write_config

    write_config(tmp_path)
    url, _ = gradebook.course_settings(tmp_path)
    assert url == "sqlite:///" + str(tmp_path.resolve() / "gradebook.db")


def test_course_settings_default_to_sqlite_in_the_course(tmp_path):
    """Without a config file, is the gradebook DIR/gradebook.db of course 'default_course'?"""
    url, course_id = gradebook.course_settings(tmp_path)
    assert url.endswith("/gradebook.db") and url.startswith("sqlite:///")
    assert course_id == "default_course"


def test_alembic_head_matches_nbgraders_own_answer():
    """Does reading the migration files give the revision nbgrader gets from `alembic heads`?"""
    api = gradebook.import_nbgrader_api()
    original = getattr(api.get_alembic_version, "__wrapped__", api.get_alembic_version)
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    assert gradebook.alembic_head(api) == original()


def _result(student, status, score):
    battery = load(ASSIGNMENT)
    tests = [CellResult(t.grade_id, score * t.points, float(t.points), "m") for t in battery.tests]
    return Result(student, ASSIGNMENT, status, "why" if status != "graded" else "", tests)


def test_record_keeps_graded_result_over_failed_attempt(tmp_path):
    """Does a crashed attempt after a graded one keep the score and log the attempt?"""
    gb = gradebook.open_gradebook(tmp_path)
    try:
        gradebook.ensure_assignment(gb, ASSIGNMENT, load(ASSIGNMENT), None)
        assert gradebook.record(gb, _result("s1", "graded", 1.0)) == "recorded"
        assert gradebook.record(gb, _result("s1", "crashed", 0.0)) == "kept earlier"
        assert gb.find_submission(ASSIGNMENT, "s1").score == load(ASSIGNMENT).max_score
        (row,) = gradebook.stored_results(gb)
        assert row["status"] == "graded" and row["last_attempt_status"] == "crashed"
        assert gradebook.record(gb, _result("s1", "graded", 0.0)) == "recorded"
        assert gb.find_submission(ASSIGNMENT, "s1").score == 0.0
    finally:
        gb.close()
