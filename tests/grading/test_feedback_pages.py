"""The student's feedback page tells the whole story (issue 10, findings 2, 3, 4 and 10).

Courses are written by ``release`` and graded by the CLI; manual grades and comments are
entered through nbgrader's own Gradebook API, as the formgrader stores them.
"""

from __future__ import annotations

import pytest
from grading_helpers import ASSIGNMENT, notebook, run_cli, submit
from workflow_helpers import (
    CRASH,
    WRITTEN_ID,
    export_rows,
    feedback_page,
    fresh_course,
    grade,
    grade_by_hand,
    nbgrader_cli,
    nbgrader_gradebook,
    released,
    with_written_answer,
)

from autograder.batteries import load
from autograder.grading.feedback import Page, render
from autograder.grading.gradebook import Entry

__all__ = ["released"]

AUTO = load(ASSIGNMENT).max_score  # 9 points of tests; the written answer is worth 1 more


def _feedback(course, *students):
    extra = ["--student", *students] if students else []
    proc = run_cli("feedback", ASSIGNMENT, "--course", str(course), *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def course(released, tmp_path_factory):
    """Three students graded once: keeper (resubmits a crash), marked (graded by hand),
    reviser (graded by hand, then resubmits a changed or unchanged written answer)."""
    course = fresh_course(released, tmp_path_factory.mktemp("feedback"))
    for student in ("keeper", "marked", "reviser", "steady"):
        submit(course, student, with_written_answer("p log p tends to 0 as p tends to 0."))
    grade(course)
    return course


@pytest.mark.slow
def test_failed_regrade_keeps_the_page_of_the_kept_result(course):
    """After a crashing resubmission, does the page show the kept score with a notice that
    the latest attempt failed, not "could not be graded … Score: 0"?"""
    submit(course, "keeper", notebook(append=CRASH))
    out = grade(course, "keeper")
    assert "kept earlier" in out
    page = feedback_page(course, "keeper")
    assert f"Score: {AUTO:g} / {AUTO + 1:g}" in page
    assert "Your latest submission could not be graded" in page
    assert "Reason: the notebook's code ended the process before the tests ran" in page.replace(
        "&#x27;", "'"
    )
    assert "Score: 0" not in page
    assert export_rows(course)["keeper"]["score"] == AUTO


@pytest.mark.slow
def test_manual_grade_and_comments_reach_the_page(course):
    """Does `python -m autograder feedback` put the manual score, the comment on the written
    answer and a comment on a code answer on the page, with the tests' hints kept?"""
    before = feedback_page(course, "marked")
    assert "not graded yet" in before and "Comment" not in before
    grade_by_hand(course, "marked", WRITTEN_ID, 0.5, comment="Say why the limit is 0.")
    grade_by_hand(course, "marked", "entropy", None, comment="Nice use of np.where.")
    assert feedback_page(course, "marked") == before  # nothing changes until the command
    out = _feedback(course, "marked")
    assert "1 feedback page(s)" in out
    page = feedback_page(course, "marked")
    assert f"Score: {AUTO + 0.5:g} / {AUTO + 1:g}" in page
    assert "0.5 / 1" in page and "Say why the limit is 0." in page
    assert "Nice use of np.where." in page
    assert "p log p tends to 0 as p tends to 0." in page  # the student's own answer
    assert "all 14 checks passed" in page  # the grader's verdicts stay
    assert "not graded yet" not in page
    assert "BEGIN HIDDEN" not in page and "check(" not in page


@pytest.mark.slow
def test_changed_written_answer_loses_its_stale_manual_grade(course):
    """Does a regrade whose written answer changed clear the manual grade and flag it for
    manual grading again, while an unchanged answer keeps its grade?"""
    for student in ("reviser", "steady"):
        grade_by_hand(course, student, WRITTEN_ID, 1.0)
    submit(course, "reviser", with_written_answer("A different answer, written later."))
    submit(course, "steady", with_written_answer("p log p tends to 0 as p tends to 0."))
    out = grade(course, "reviser", "steady")
    with nbgrader_gradebook(course) as gb:
        changed = gb.find_grade(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, "reviser")
        same = gb.find_grade(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, "steady")
        assert changed.manual_score is None and changed.needs_manual_grade
        assert same.manual_score == 1.0 and not same.needs_manual_grade
    rows = export_rows(course)
    (written,) = [t for t in rows["reviser"]["tests"] if t["kind"] == "manual"]
    assert written["pending"] is True and rows["reviser"]["score"] == AUTO
    assert rows["steady"]["score"] == AUTO + 1
    assert "changed since it was graded by hand" in out
    assert "not graded yet" in feedback_page(course, "reviser")


@pytest.mark.slow
def test_crash_page_states_the_reason_once(released, tmp_path):
    """Does a crashed submission's page state the reason once, not once per test?"""
    course = fresh_course(released, tmp_path)
    submit(course, "crash", notebook(append=CRASH))
    grade(course)
    page = feedback_page(course, "crash")
    assert page.count("ended the process before the tests ran") == 1
    assert "not run" in page


def test_page_escapes_what_the_student_wrote():
    """Is the student's written answer and every comment HTML-escaped on the page?"""
    page = Page(
        "ps1_information",
        "s<1>",
        "graded",
        entries=[
            Entry("test_entropy", "auto", 3.0, 3.0, False, "all checks passed"),
            Entry(WRITTEN_ID, "manual", 1.0, 1.0, False, "graded by hand", "<b>good</b>"),
        ],
        answers={WRITTEN_ID: "<script>alert(1)</script>"},
    )
    html = render(page)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>good</b>" not in html and "&lt;b&gt;good" in html
    assert "Score: 4 / 4" in html


def test_feedback_command_errors(tmp_path):
    """Do a missing course folder and an assignment the gradebook does not know exit 2
    with a message naming them?"""
    proc = run_cli("feedback", ASSIGNMENT, "--course", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "no course folder" in proc.stderr
    proc = run_cli("feedback", ASSIGNMENT, "--course", str(tmp_path))
    assert proc.returncode == 2 and f"no assignment {ASSIGNMENT!r}" in proc.stderr


@pytest.mark.slow
def test_nbgrader_release_feedback_releases_our_page(released, tmp_path):
    """Does `nbgrader release_feedback` release our page for a submission collected through
    nbgrader's exchange (its timestamp and secret copied beside the page), and is a secret
    that is a link to another file never followed?"""
    from nbgrader.utils import notebook_hash

    course = fresh_course(released, tmp_path)
    stamp = "2026-11-21 20:00:00.000000 UTC"
    files = {"timestamp.txt": stamp, "submission_secret.txt": "s3cr3t-of-eve"}
    submit(course, "eve", notebook(), extra=files)
    outside = tmp_path / "grader-only.txt"
    outside.write_text("LEAKED-GRADER-FILE")
    folder = submit(course, "mal", notebook())
    (folder / "submission_secret.txt").symlink_to(outside)
    grade(course)
    assert not (course / "feedback" / "mal" / ASSIGNMENT / "submission_secret.txt").exists()
    proc = nbgrader_cli(course, "release_feedback", ASSIGNMENT, "--student", "eve")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checksum = notebook_hash(secret="s3cr3t-of-eve", notebook_id=ASSIGNMENT)
    released_page = course / "exchange" / "cross_entropy" / "feedback" / f"{checksum}.html"
    assert released_page.read_text() == feedback_page(course, "eve")
