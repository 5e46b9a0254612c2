"""Red team of the instructor's side (issue 10's features, by a reviewer who did not write
them): feedback pages, the class report, the exports, nbgrader's refused commands, stale
manual grades and ps8's diagnose functions.

Most attacks go straight at the module that owns the behaviour, on a real nbgrader
gradebook (SQLite, nbgrader's own API) filled the way ``grade`` fills it
(:func:`gradebook.record` with the written answers of :func:`engine.autograded_copy`), so
they run without a sandbox. Each test's docstring is the attack's question; SECURITY.md
("Red team: instructor side") lists them with their results.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import ASSIGNMENT, notebook, source_notebook
from workflow_helpers import WRITTEN_ID, released, with_written_answer

from autograder.batteries import harness, load
from autograder.batteries import ps8_beyond as ps8
from autograder.grading import engine, export, feedback, gradebook, report
from autograder.grading.gradebook import CellResult, Result

__all__ = ["released"]

BATTERY = load(ASSIGNMENT)
ANSWER = "p log p tends to 0 as p tends to 0."


# --- a gradebook filled as `grade` fills it ---------------------------------------------


@pytest.fixture
def course(tmp_path):
    """An empty course folder with ps1's gradebook entries (tests and the written answer)."""
    course = tmp_path / "course"
    course.mkdir()
    gb = gradebook.open_gradebook(course)
    gradebook.ensure_assignment(gb, ASSIGNMENT, BATTERY, source_notebook())
    gb.close()
    return course


def _result(student, status="graded", *, full=True, notes=(), reason="", categories=()):
    tests = [
        CellResult(
            t.grade_id,
            float(t.points) if full else 0.0,
            float(t.points),
            "all checks passed" if full else "1 of 3 checks failed:\n- wrong value",
            [] if full else list(categories),
        )
        for t in BATTERY.tests
    ]
    return Result(student, ASSIGNMENT, status, reason, tests, list(notes))


def _submit(course, student, nb, **kwargs):
    """Record ``nb`` as graded and write its autograded copy, as ``engine._finish`` does."""
    result = _result(student, **kwargs)
    copy = engine.autograded_copy(nb, source_notebook(), result)
    gb = gradebook.open_gradebook(course)
    try:
        action = gradebook.record(gb, result, gradebook.written_answers(copy))
        engine._write_autograded(course, result, copy)
        feedback.write_from_gradebook(gb, course, ASSIGNMENT, student)
    finally:
        gb.close()
    return action, result


def _by_hand(course, student, score=None, extra=None, comment=None, grade_id=WRITTEN_ID):
    """A manual score / extra credit / comment, stored through nbgrader's own API."""
    gb = gradebook.open_gradebook(course)
    try:
        if score is not None or extra is not None:
            grade = gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
            if score is not None:
                grade.manual_score, grade.needs_manual_grade = score, False
            if extra is not None:
                grade.extra_credit = extra
        if comment is not None:
            gb.find_comment(grade_id, ASSIGNMENT, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()
    finally:
        gb.close()


def _grade(course, student, grade_id=WRITTEN_ID):
    gb = gradebook.open_gradebook(course)
    try:
        g = gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
        return g.manual_score, g.extra_credit, g.needs_manual_grade
    finally:
        gb.close()


def _page(course, student):
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def _tags(page: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", page)}


FEEDBACK_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "code", "strong",
    "br", "em", "table", "thead", "tbody", "tr", "th", "td", "pre", "blockquote", "ul", "li",
}  # fmt: skip
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)><style>*{display:none}'


# --- feedback pages -----------------------------------------------------------------------


def test_feedback_page_escapes_every_student_and_instructor_string(course):
    """Can HTML or CSS in a student id, a written answer, a grader note, a failed attempt's
    reason or an instructor's comment become markup on the feedback page?"""
    student = "<img src=x onerror=alert(0)>"  # a plain id: printable, no slash
    _submit(course, student, with_written_answer(HOSTILE), notes=[f"ignored files: {HOSTILE}"])
    _by_hand(course, student, score=1.0, comment=HOSTILE)
    _by_hand(course, student, comment=HOSTILE, grade_id="entropy")  # a comment on code
    gb = gradebook.open_gradebook(course)
    try:  # a crashing resubmission: its reason is shown in a notice above the kept result
        gradebook.record(gb, _result(student, "crashed", reason=HOSTILE))
        feedback.write_from_gradebook(gb, course, ASSIGNMENT, student)
    finally:
        gb.close()
    page = _page(course, student)
    assert _tags(page) <= FEEDBACK_TAGS, _tags(page) - FEEDBACK_TAGS
    assert page.count("<style>") == 1 and "display:none" not in page.split("</style>")[0]
    assert "href" not in page and "src=" not in page.replace("src=x", "")
    assert "&lt;script&gt;" in page  # the comment is shown, as text
    assert "Your latest submission could not be graded" in page


def test_huge_answer_with_bidi_and_zero_width_characters_stays_in_its_box(course):
    """Does a 2 MB written answer full of bidi overrides and zero-width characters make
    the page huge, or leak its overrides out of the answer's own block?"""
    trick = "\u202e\u2066evil\u200b\u200d" * 200_000  # ≈ 2 MB of controls and text
    _submit(course, "bidi", with_written_answer(trick))
    _by_hand(course, "bidi", comment="See me.")
    gb = gradebook.open_gradebook(course)
    try:
        feedback.write_from_gradebook(gb, course, ASSIGNMENT, "bidi")
    finally:
        gb.close()
    page = _page(course, "bidi")
    assert len(page) < feedback.MAX_ANSWER_CHARS + 20_000
    start = page.index("<blockquote><pre>")
    end = page.index("</pre></blockquote>", start)
    assert "[…]" in page[start:end]
    # every override is inside the answer's <pre> (a block: the bidi algorithm ends there)
    outside = page[:start] + page[end:]
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b-\u200f]", outside)
    assert "See me." in outside


def test_student_id_from_the_gradebook_is_never_a_feedback_path(course, tmp_path):
    """Can a student id in the gradebook (``../../outside``, entered by a roster import or
    nbgrader's API; `grade` itself refuses it) make `feedback` write a page outside
    ``course/feedback``?"""
    bad = "../../outside"
    gb = gradebook.open_gradebook(course)
    try:
        gradebook.record(gb, _result(bad), {WRITTEN_ID: ANSWER})
        with pytest.raises(ValueError, match="not a plain student id"):
            feedback.write_from_gradebook(gb, course, ASSIGNMENT, bad)
    finally:
        gb.close()
    _submit(course, "alice", with_written_answer(ANSWER))
    args = argparse.Namespace(assignment=ASSIGNMENT, course=str(course), db=None, student=None)
    assert feedback.run(args) == 0
    pages = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.html"))
    assert pages == [Path("course/feedback/alice") / ASSIGNMENT / f"{ASSIGNMENT}.html"]


def test_a_page_write_that_fails_half_way_keeps_the_previous_page(course, monkeypatch):
    """When rewriting a page fails half-way (disk full; here a page that cannot be encoded),
    is the student left with an empty or cut page instead of the previous one?"""
    _submit(course, "carol", with_written_answer(ANSWER))
    before = _page(course, "carol")
    monkeypatch.setattr(feedback, "render", lambda page: "<!DOCTYPE html>" + "x" * 9000 + "\ud800")
    gb = gradebook.open_gradebook(course)
    try:
        with pytest.raises(UnicodeEncodeError):
            feedback.write_from_gradebook(gb, course, ASSIGNMENT, "carol")
    finally:
        gb.close()
    assert _page(course, "carol") == before
    folder = course / "feedback" / "carol" / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.html"]  # no leftovers


# --- the class report ---------------------------------------------------------------------


def test_class_report_shows_hostile_ids_and_reasons_as_text_only(course):
    """Can student ids, an ungradable reason or a hostile gradebook row (odd test entries,
    NaN scores) put markup, a script or an external resource into the class report, or
    crash it?"""
    gb = gradebook.open_gradebook(course)
    try:
        gradebook.record(gb, _result(HOSTILE, full=False, categories=["base"]))
        gradebook.record(gb, _result("<svg onload=alert(1)>", "ungradable", reason=HOSTILE))
        gradebook.record(gb, _result("fine"))
        bad = [
            "junk",
            {"grade_id": "test_entropy", "score": "3", "max_score": 3.0, "message": ""},
            {"grade_id": "test_entropy", "score": float("nan"), "max_score": 3.0, "message": ""},
            {"grade_id": 7, "score": 1.0, "max_score": 1.0, "message": ""},
        ]
        gb.db.execute(
            gradebook.RESULTS.update()
            .where(gradebook.RESULTS.c.student_id == "fine")
            .values(tests=json.dumps(bad))
        )
        gb.db.commit()
        data = report.build(gb, ASSIGNMENT, "https://book.example/course")
    finally:
        gb.close()
    json.loads(json.dumps(data, allow_nan=False))  # strict JSON: no NaN slipped through
    page = report.render_html(data)
    allowed = FEEDBACK_TAGS | {"div", "svg", "rect", "text", "line", "a"}
    assert _tags(page) <= allowed, _tags(page) - allowed
    assert "onload=" not in page.replace("onload=alert(1)&gt;", "")
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("https://book.example/course/book/") for h in hrefs)
    assert "src=" not in page.replace("src=x", "")
    assert data["misconceptions"][0]["students"] == [HOSTILE]


def test_class_report_of_a_large_class_is_quick_and_linear(course):
    """Does a class of 600 students make `report` slow or its page grow faster than the
    class (a quadratic list of names, one figure per student)?"""
    gb = gradebook.open_gradebook(course)
    try:
        for k in range(600):
            gradebook.record(gb, _result(f"s{k:04d}", full=k % 3 == 0, categories=["base"]))
        start = time.perf_counter()
        data = report.build(gb, ASSIGNMENT, "https://book.example")
        page = report.render_html(data)
        elapsed = time.perf_counter() - start
    finally:
        gb.close()
    assert data["graded"] == 600 and data["misconceptions"][0]["count"] == 400
    assert len(data["help_first"]) == report.HELP_FIRST
    assert elapsed < 30, elapsed
    assert len(page) < 200 * 600  # the names once per misconception, not per pair


# --- exports ------------------------------------------------------------------------------


def test_formula_variants_are_escaped_and_plain_text_is_not():
    """Do formula cells hidden behind leading spaces, a line break, an ideographic space or
    the full-width forms of = + - @ reach a spreadsheet unescaped (while ordinary names,
    numbers and a Unicode minus stay as they are)?"""
    hostile = [
        ' =HYPERLINK("http://x")',
        "\n=1+1",
        "\u3000=1+1",
        "\uff1dcmd|' /C calc'!A0",
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        "\t=1",
        "\r=1",
        "\tx",
        "\rx",
        "=1",
        "@SUM(1)",
    ]
    for text in hostile:
        assert export.safe_cell(text) == "'" + text, repr(text)
    for text in ("Smith-Jones", "O'Neil", "\u22121", "alice", "1e5"):
        assert export.safe_cell(text) == text
    assert export.safe_cell(-1.5) == "-1.5"


def test_csv_export_escapes_names_from_the_roster_database(course):
    """Can a student's name in nbgrader's database (an LMS roster import; a student may set
    their display name) carry a formula into `export --format csv` or `canvas`?"""
    _submit(course, "alice", with_written_answer(ANSWER))
    gb = gradebook.open_gradebook(course)
    try:
        gb.update_or_create_student("alice", first_name=" =HYPERLINK(1)", last_name="\uff1d2+2")
        rows = export.to_json(gb)
        as_csv = export.to_csv(gb, None, rows)
        as_canvas = export.to_canvas(gb, rows)
    finally:
        gb.close()
    line = next(r for r in csv.DictReader(io.StringIO(as_csv)) if r["student_id"] == "alice")
    assert line["first_name"] == "' =HYPERLINK(1)" and line["last_name"] == "'\uff1d2+2"
    row = next(r for r in csv.reader(io.StringIO(as_canvas)) if "alice" in r)
    assert row[0].startswith("'")


def _roster(tmp_path, people):
    path = tmp_path / "roster.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*export.CANVAS_COLUMNS, "ps1_information (77)"])
        writer.writerow(["    Points Possible", "", "", "", "", "10"])
        writer.writerows(people)
    return export.read_roster(path)


def _canvas_rows(course, roster, capsys):
    gb = gradebook.open_gradebook(course)
    try:
        text = export.to_canvas(gb, export.to_json(gb), roster)
    finally:
        gb.close()
    rows = list(csv.DictReader(io.StringIO(text)))[1:]
    return {r["ID"]: r for r in rows}, capsys.readouterr().err


def test_canvas_ids_from_different_columns_never_cross(course, tmp_path, capsys):
    """When one student's nbgrader id (a student number, ``12345``) is another student's
    Canvas ``ID``, does the export put the first student's score into the second one's row?"""
    _submit(course, "12345", with_written_answer(ANSWER))  # full marks
    _submit(course, "bob", with_written_answer(ANSWER), full=False)  # 0 automatic points
    roster = _roster(
        tmp_path,
        [
            ["Bob B", "12345", "", "bob", "S1"],  # Canvas ID 12345, listed first
            ["Ann A", "555", "", "12345", "S1"],  # SIS Login ID 12345
        ],
    )
    rows, err = _canvas_rows(course, roster, capsys)
    assert float(rows["555"]["ps1_information (77)"]) == BATTERY.max_score
    assert float(rows["12345"]["ps1_information (77)"]) == 0.0
    assert len(rows) == 2 and "warning" not in err


def test_two_students_matching_one_canvas_row_are_left_out(course, tmp_path, capsys):
    """Can two nbgrader students (``alice`` by SIS Login ID, ``s1`` by SIS User ID) land in
    one Canvas row, so that Canvas keeps whichever comes last?"""
    _submit(course, "alice", with_written_answer(ANSWER))
    _submit(course, "s1", with_written_answer(ANSWER), full=False)
    roster = _roster(tmp_path, [["Alice A", "901", "s1", "alice", "S1"]])
    rows, err = _canvas_rows(course, roster, capsys)
    assert rows == {}
    assert "alice matches the same Canvas roster row as s1" in err
    assert "s1 matches the same Canvas roster row as alice" in err


# --- scores the grader did not write, and stale manual grades ------------------------------


def test_export_flags_a_score_written_on_a_written_answer_through_nbgraders_api(course):
    """If something writes ``auto_score`` on a written answer through nbgrader's Gradebook
    API (nbgrader counts it while no manual score exists), does `export` count it or stay
    silent about it?"""
    _submit(course, "dave", with_written_answer(ANSWER))
    gb = gradebook.open_gradebook(course)
    try:
        gb.find_grade(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, "dave").auto_score = 1.0
        gb.find_grade("test_entropy", ASSIGNMENT, ASSIGNMENT, "dave").auto_score = 0.0
        gb.db.commit()
        (row, flags), *_ = export.flagged_rows(gb)
    finally:
        gb.close()
    assert row["score"] == BATTERY.max_score  # the grader's tests, nothing for the answer
    written = next(t for t in row["tests"] if t["grade_id"] == WRITTEN_ID)
    assert written["pending"] and written["score"] == 0.0
    assert any(f.startswith(f"{WRITTEN_ID}: scored 1.0 by something else") for f in flags)
    assert any(f.startswith("test_entropy: the gradebook holds 0.0") for f in flags)


def test_a_changed_answer_never_keeps_its_manual_grade(course):
    """Can a student keep a manual grade for text they changed: by whitespace only, by moving
    the new text out of the answer cell (its nbgrader metadata removed), by changing the
    cell's type? (Unchanged text must keep its grade.)"""
    _submit(course, "erin", with_written_answer(ANSWER))
    _by_hand(course, "erin", score=1.0)
    _submit(course, "erin", with_written_answer(ANSWER))  # unchanged: kept
    assert _grade(course, "erin")[0] == 1.0
    _submit(course, "erin", with_written_answer(ANSWER + " "))
    assert _grade(course, "erin") == (None, None, True)
    _by_hand(course, "erin", score=1.0)
    nb = with_written_answer("I changed my mind: it diverges.")
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == WRITTEN_ID:
            cell["metadata"] = {}  # the answer cell loses its identity
            cell["cell_type"] = "code"
    _submit(course, "erin", nb)
    assert _grade(course, "erin") == (None, None, True)
    copy = json.loads(
        (course / "autograded/erin" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    )
    assert gradebook.written_answers(copy)[WRITTEN_ID] == ""  # the answer came back empty
    assert "not graded yet" in _page(course, "erin")


def test_extra_credit_for_the_old_answer_is_cleared_with_its_grade(course):
    """When a changed answer loses its manual grade, does the extra credit given for the old
    text survive, to be added again to whatever the new text is given?"""
    _submit(course, "fay", with_written_answer(ANSWER))
    _by_hand(course, "fay", score=1.0, extra=2.0)
    _submit(course, "fay", with_written_answer("Something else entirely."))
    assert _grade(course, "fay") == (None, None, True)
    _by_hand(course, "fay", score=0.0)  # the new text is worth nothing
    gb = gradebook.open_gradebook(course)
    try:
        (row, _), *_ = export.flagged_rows(gb)
    finally:
        gb.close()
    assert row["score"] == BATTERY.max_score  # 0 for the answer, no stale extra credit


# --- nbgrader's refused commands ----------------------------------------------------------


@pytest.mark.slow
def test_nbgrader_autograde_from_another_folder_is_still_refused(released, tmp_path):
    """Run from another folder with ``--CourseDirectory.root`` (and a config file of its
    own there), does `nbgrader autograde --force` escape the course config's refusal?"""
    import os
    import shutil
    import subprocess
    import sys

    from grading_helpers import REPO, submit

    course = tmp_path / "course"
    shutil.copytree(released, course)
    submit(course, "mallory", notebook())
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    (elsewhere / "nbgrader_config.py").write_text(
        "c = get_config()\nc.Autograde.exporter_class = 'nbconvert.exporters.NotebookExporter'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force",
         f"--CourseDirectory.root={course}"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "python -m autograder grade" in proc.stdout + proc.stderr
    assert not (course / "autograded").exists()


# --- ps8's diagnose functions in the trusted process --------------------------------------

PS8 = load("ps8_beyond")


def _spied(test):
    """``test`` with its diagnose wrapped: every value it is handed is recorded."""
    import dataclasses

    seen = []

    def spy(value, expected, case):
        seen.append(value)
        return test.diagnose(value, expected, case)

    return dataclasses.replace(test, diagnose=spy), seen


class _Sub(np.ndarray):
    """A subclass whose hooks would run student code in the grader once armed."""

    armed = False

    def __array_finalize__(self, obj):
        if _Sub.armed:
            raise RuntimeError("student code ran in the grader")


@pytest.mark.parametrize("grade_id", [t.grade_id for t in PS8.tests])
def test_hostile_return_values_never_reach_diagnose_and_cost_little(grade_id):
    """Can a hostile return value (an ndarray subclass, an object array, a 5-million-entry
    array, NaN with payload bits, a huge int, a deep list) crash or slow the trusted judge,
    or reach a ps8 diagnose function as anything but plain float64 data of the expected
    shape?"""
    test, seen = _spied(PS8.test(grade_id))
    nan_payload = np.array([0x7FF8DEADBEEF0001], dtype=np.uint64).view(np.float64)[0]
    huge = np.zeros(5_000_000)  # 40 MB
    values = [
        np.zeros(3).view(_Sub),
        np.array([object(), 1.0], dtype=object),
        huge,
        2**63 + 5,
        [[[[[1.0]]]]],
    ]
    _Sub.armed = True
    try:
        for value in values:
            start = time.perf_counter()
            verdict = PS8.judge(test, [harness.Returned(value)] * len(test.cases))
            assert verdict.score == 0.0 and time.perf_counter() - start < 5.0
    finally:
        _Sub.armed = False
    expected = [PS8.expected(test, case) for case in test.cases]
    payloads = [
        np.full(np.shape(e), nan_payload) if np.ndim(e) else np.float64(nan_payload)
        for e in expected
    ]
    verdict = PS8.judge(test, [harness.Returned(v) for v in payloads])
    assert verdict.score == 0.0
    for value in seen:
        assert type(value) in (np.ndarray, float, int), type(value)
        if type(value) is np.ndarray:
            assert value.dtype == np.float64 and value.size <= 10_000


def test_nan_ece_is_blamed_on_empty_bins_only_where_a_bin_is_empty():
    """Does ps8's ECE diagnosis name the empty-bin slip for a NaN returned on a case whose
    bins are all filled (one bin), misleading the student and the class report?"""
    ece = PS8.test("test_expected_calibration_error")
    one_bin = next(c for c in ece.cases if c.kwargs.get("n_bins") == 1)
    empty = next(c for c in ece.cases if c.category == "empty")
    nan = np.float64("nan")
    assert ps8._diagnose_ece(nan, PS8.expected(ece, one_bin), one_bin) is None
    assert ps8._diagnose_ece(nan, PS8.expected(ece, empty), empty) == "empty"
