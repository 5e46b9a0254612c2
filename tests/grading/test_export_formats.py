"""`export`: written answers in the JSON with kind and pending, the --assignment filter,
Canvas's import format, and cells a spreadsheet would run as formulas (issue 10 finding 6,
issue 9 class 7)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from grading_helpers import ASSIGNMENT, notebook, run_cli, submit
from workflow_helpers import (
    WRITTEN_ID,
    export,
    fresh_course,
    grade,
    grade_by_hand,
    nbgrader_gradebook,
    released,
)

from autograder.batteries import load
from autograder.grading import gradebook
from autograder.grading.export import CANVAS_COLUMNS, safe_cell

pytestmark = pytest.mark.slow
__all__ = ["released"]

FORMULA_ID = "=1+2"  # a student id (folder name) a spreadsheet would evaluate
FORMULA_NAME = "@SUM(A1:A9)"
OTHER = "ps2_divergence"


@pytest.fixture(scope="module")
def course(released, tmp_path_factory):
    """ps1 graded for two students (one graded by hand), and a second assignment known to
    the gradebook, with nobody's work in it."""
    course = fresh_course(released, tmp_path_factory.mktemp("export"))
    submit(course, "ann", notebook())
    submit(course, FORMULA_ID, notebook())
    grade(course)
    grade_by_hand(course, "ann", WRITTEN_ID, 1.0, comment="Clear.")
    gb = gradebook.open_gradebook(course)
    try:
        gradebook.ensure_assignment(gb, OTHER, load(OTHER), None)
    finally:
        gb.close()
    with nbgrader_gradebook(course) as gb:
        gb.update_or_create_student(FORMULA_ID, last_name=FORMULA_NAME, first_name="-x")
    return course


def _json(course, *extra):
    return json.loads(export(course, "json", *extra).stdout)


def test_json_lists_written_answers_so_scores_add_up(course):
    """Does every JSON row list the test cells (kind auto) and the written answer (kind
    manual, pending until graded by hand), its scores adding up to the row's score?"""
    rows = {(r["student"], r["assignment"]): r for r in _json(course)}
    ann, other = rows["ann", ASSIGNMENT], rows[FORMULA_ID, ASSIGNMENT]
    auto = load(ASSIGNMENT).max_score
    for row in (ann, other):
        kinds = {t["grade_id"]: t["kind"] for t in row["tests"]}
        assert kinds == {
            **{t.grade_id: "auto" for t in load(ASSIGNMENT).tests},
            WRITTEN_ID: "manual",
        }
        assert row["score"] == sum(t["score"] for t in row["tests"])
        assert row["max_score"] == sum(t["max_score"] for t in row["tests"]) == auto + 1
        assert not any(t["pending"] for t in row["tests"] if t["kind"] == "auto")
    (written,) = [t for t in ann["tests"] if t["kind"] == "manual"]
    assert written == {
        "grade_id": WRITTEN_ID,
        "kind": "manual",
        "pending": False,
        "score": 1.0,
        "max_score": 1.0,
        "message": "Clear.",
    }
    assert ann["score"] == auto + 1
    (pending,) = [t for t in other["tests"] if t["kind"] == "manual"]
    assert pending["pending"] is True and pending["score"] == 0.0 and other["score"] == auto


def test_assignment_filter_applies_to_every_format(course):
    """Does --assignment keep only that assignment's rows in the JSON, CSV and Canvas files,
    and does an unknown one exit 2 naming it?"""
    assert {r["assignment"] for r in _json(course)} == {ASSIGNMENT, OTHER}
    assert {r["assignment"] for r in _json(course, "--assignment", OTHER)} == {OTHER}
    rows = list(csv.DictReader(io.StringIO(export(course, "csv", "--assignment", OTHER).stdout)))
    assert rows and {r["assignment"] for r in rows} == {OTHER}
    both = list(csv.DictReader(io.StringIO(export(course, "csv").stdout)))
    assert {r["assignment"] for r in both} == {ASSIGNMENT, OTHER}
    header = next(csv.reader(io.StringIO(export(course, "canvas", "--assignment", OTHER).stdout)))
    assert header == [*CANVAS_COLUMNS, OTHER]
    proc = run_cli("export", "--course", str(course), "--assignment", "ps9_nothing")
    assert proc.returncode == 2 and "ps9_nothing" in proc.stderr


def test_canvas_csv_has_canvas_columns_and_points(course):
    """Does the Canvas file have Canvas's identity columns, a Points Possible row and one
    score column per assignment, the nbgrader id as SIS Login ID?"""
    text = export(course, "canvas", "--assignment", ASSIGNMENT).stdout
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [*CANVAS_COLUMNS, ASSIGNMENT]
    assert lines[1][0].strip() == "Points Possible"
    assert float(lines[1][5]) == load(ASSIGNMENT).max_score + 1
    by_login = {line[3]: line for line in lines[2:]}
    assert float(by_login["ann"][5]) == load(ASSIGNMENT).max_score + 1
    out = course / "canvas.csv"
    export(course, "canvas", "--assignment", ASSIGNMENT, "--output", str(out))
    assert out.read_bytes().count(b"\r\n") == len(lines)  # CSV's own line ends, as Canvas's


def test_canvas_roster_supplies_ids_sections_and_column(course, tmp_path):
    """With a Canvas gradebook export as --roster, do rows take Canvas's name, ID, SIS ids
    and section, matched on SIS Login ID, and the score go into that assignment's column?"""
    roster = tmp_path / "canvas.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,ps1_information (4242),Current Score\n"
        "    Points Possible,,,,,10.00,(read only)\n"
        '"Doe, Ann",1001,S-77,ann,Lab A,,\n'
        '"Nobody, Not",1002,S-78,nobody,Lab B,,\n',
        encoding="utf-8",
    )
    proc = run_cli(
        "export",
        "--course",
        str(course),
        "--format",
        "canvas",
        "--roster",
        str(roster),
        "--assignment",
        ASSIGNMENT,
    )
    assert proc.returncode == 0, proc.stderr
    lines = list(csv.reader(io.StringIO(proc.stdout)))
    assert lines[0] == [*CANVAS_COLUMNS, "ps1_information (4242)"]
    rows = {line[3]: line for line in lines[2:]}
    assert rows["ann"][:5] == ["Doe, Ann", "1001", "S-77", "ann", "Lab A"]
    assert FORMULA_ID not in rows and "not in the Canvas roster" in proc.stderr
    assert "nobody" not in rows


def test_formula_cells_are_escaped(course):
    """Are ids and names that a spreadsheet would run as formulas written with a leading
    quote in the CSV and Canvas files, numbers left as numbers?"""
    for fmt in ("csv", "canvas"):
        text = export(course, fmt, "--assignment", ASSIGNMENT).stdout
        cells = [c for line in csv.reader(io.StringIO(text)) for c in line]
        assert "'" + FORMULA_ID in cells and FORMULA_ID not in cells
        assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
        assert not any(c.startswith("-") for c in cells)
    text = export(course, "csv", "--assignment", ASSIGNMENT).stdout
    assert f"'{FORMULA_NAME}" in text and ",'-x," in text
    assert safe_cell(-1.5) == "-1.5" and safe_cell("\tx") == "'\tx" and safe_cell("+1") == "'+1"


def test_db_option_selects_the_gradebook(course, tmp_path):
    """Does --db read the gradebook at that URL rather than the course's own?"""
    elsewhere = tmp_path / "elsewhere.db"
    (course / "gradebook.db").replace(elsewhere)
    try:
        proc = run_cli(
            "export", "--course", str(course), "--format", "json", "--db", f"sqlite:///{elsewhere}"
        )
        assert proc.returncode == 0, proc.stderr
        assert {r["student"] for r in json.loads(proc.stdout)} == {"ann", FORMULA_ID}
    finally:
        elsewhere.replace(course / "gradebook.db")


def test_older_results_table_gains_its_new_columns(tmp_path):
    """Does a gradebook whose results table predates the notes/cell_errors/answers columns
    get them on opening, its rows kept and readable?"""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE autograder_result (student_id VARCHAR(128), assignment "
                "VARCHAR(128), status VARCHAR(16) NOT NULL, reason TEXT NOT NULL, score FLOAT "
                "NOT NULL, max_score FLOAT NOT NULL, tests TEXT NOT NULL, graded_at DATETIME, "
                "last_attempt_status VARCHAR(16), last_attempt_reason TEXT, last_attempt_at "
                "DATETIME, PRIMARY KEY (student_id, assignment))"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO autograder_result VALUES ('old', 'ps1_information', 'graded', '', "
                "9, 9, '[]', NULL, 'graded', '', NULL)"
            )
        )
    engine.dispose()
    gb = gradebook.open_gradebook(tmp_path)
    try:
        (row,) = gradebook.stored_results(gb)
        assert row["student_id"] == "old" and row["status"] == "graded"
        assert row["notes"] == [] and row["cell_errors"] == [] and row["answers"] == {}
    finally:
        gb.close()
