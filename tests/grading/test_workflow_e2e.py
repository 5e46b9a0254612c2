"""The instructor's workflow end to end, in the README's order (issue 10 acceptance):
release → grade → manual grading through nbgrader's API → feedback → export → report.

Three students: ann (correct, written answer), bob (a wrong ``entropy``), cat (a notebook
that crashes the grading process, with a written answer). Every step is the CLI an
instructor runs; manual grades go through :class:`nbgrader.api.Gradebook`, where the
formgrader stores them.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from grading_helpers import ASSIGNMENT, run_cli, submit
from workflow_helpers import (
    CRASH,
    WRITTEN_ID,
    WRONG_ENTROPY,
    export,
    feedback_page,
    fresh_course,
    grade,
    grade_by_hand,
    released,
    with_written_answer,
)

from autograder.batteries import load

pytestmark = pytest.mark.slow
__all__ = ["released"]


def test_release_grade_manual_feedback_export_report(released, tmp_path):
    """Does each step of the README's workflow see the previous one's work, the manual
    grades reaching the feedback, every export format and the report?"""
    auto = load(ASSIGNMENT).max_score
    bob_score = auto - 3 - 2  # his entropy fails test_entropy (3) and test_entropy_axis (2)
    # 1. release (the session fixture ran `python -m autograder release`)
    course = fresh_course(released, tmp_path)
    assert (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    # 2. collect
    submit(course, "ann", with_written_answer("p log p → 0, so the sum is continuous."))
    submit(course, "bob", with_written_answer("no idea", replace={"entropy": WRONG_ENTROPY}))
    submit(course, "cat", with_written_answer("a limit", append=CRASH))
    # 3. grade
    out = grade(course)
    assert "ann" in out and "bob" in out and "cat" in out
    for student in ("ann", "bob", "cat"):
        assert "not graded yet" in feedback_page(course, student)
    # 4. grade the written answers by hand (what formgrader stores)
    grade_by_hand(course, "ann", WRITTEN_ID, 1.0, comment="Exactly.")
    grade_by_hand(course, "bob", WRITTEN_ID, 0.0, comment="Look at p log p near 0.")
    grade_by_hand(course, "cat", WRITTEN_ID, 0.5)
    # 5. feedback, regenerated
    proc = run_cli("feedback", ASSIGNMENT, "--course", str(course))
    assert proc.returncode == 0 and "3 feedback page(s)" in proc.stdout, proc.stderr
    ann, bob, cat = (feedback_page(course, s) for s in ("ann", "bob", "cat"))
    assert f"Score: {auto + 1:g} / {auto + 1:g}" in ann and "Exactly." in ann
    assert "Look at p log p near 0." in bob and "0 / 3" in bob
    assert "0.5 / 1" in cat and "before the tests ran" in cat
    assert not any("not graded yet" in page for page in (ann, bob, cat))
    # 6. export, three formats
    rows = {r["student"]: r for r in json.loads(export(course, "json").stdout)}
    assert rows["ann"]["score"] == auto + 1
    assert rows["bob"]["score"] == bob_score
    assert rows["cat"]["status"] == "ungradable" and rows["cat"]["score"] == 0.5
    assert not any(t["pending"] for r in rows.values() for t in r["tests"])
    grades = {r["student_id"]: r for r in csv.DictReader(io.StringIO(export(course, "csv").stdout))}
    assert {s: float(r["score"]) for s, r in grades.items()} == {
        "ann": auto + 1,
        "bob": bob_score,
        "cat": 0.5,
    }
    canvas = list(csv.reader(io.StringIO(export(course, "canvas").stdout)))
    assert {line[3]: float(line[5]) for line in canvas[2:]} == {
        "ann": auto + 1,
        "bob": bob_score,
        "cat": 0.5,
    }
    # 7. report: what the class got wrong
    proc = run_cli("report", ASSIGNMENT, "--course", str(course), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["submissions"], report["graded"], report["ungradable"]) == (3, 2, 1)
    entropy = [m for m in report["misconceptions"] if m["grade_id"] == "test_entropy"]
    assert entropy and entropy[0]["students"] == ["bob"]
    html = run_cli(
        "report", ASSIGNMENT, "--course", str(course), "--output", str(tmp_path / "r.html")
    )
    assert html.returncode == 0 and (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
