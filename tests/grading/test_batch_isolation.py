"""Issue 9, class 1: nothing in a submission stops the batch.

One ``python -m autograder grade`` run grades a class in which every student but the last
submitted something a careless or hostile student can write: file names that are not
UTF-8 or hold terminal escapes, lone surrogates and a byte-order mark in the JSON, a
multi-megabyte code cell, too many cells, an expression nested too deeply for Python's
parser, an integer JSON cannot hold, a timestamp in year 1. Each must end as that
student's status with a plain reason, never as "internal grader error", and the last
student (alphabetically after all of them) must still get full marks. The grader's own
memory is checked on a JSON "bomb" and the per-step isolation of the write steps with a
feedback writer that fails for one student.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    battery,
    code_cell,
    correct_notebook,
    export_json,
    nb_bytes,
    run_cli,
    submit_files,
)

from autograder.grading import engine, feedback, notebook

pytestmark = pytest.mark.slow

NB = f"{ASSIGNMENT}.ipynb"


def _with_cells(*sources: str) -> dict:
    nb = correct_notebook()
    nb["cells"].extend(code_cell(s) for s in sources)
    return nb


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _build(course) -> None:
    good = nb_bytes(correct_notebook())
    # a notebook whose only name is not UTF-8 (graded under the single-notebook rule) and
    # a Latin-1 file name beside it: listing it in the feedback stopped the whole batch
    files = {b"\xff\xfe ps1 \x1b[2J.ipynb": good, b"notes-\xe9.txt": b"x"}
    submit_files(course, "a_badname", files)
    # the right notebook plus a file whose name clears the instructor's terminal
    submit_files(course, "b_ctrlname", {NB: good, b"\x1b[2J\x1b]0;pwned\x07numpy.py": b"x"})
    # lone surrogates in a Markdown cell and in a code comment (valid JSON escapes)
    nb = correct_notebook()
    nb["cells"].append(_markdown("lone \ud800 here"))
    nb["cells"].append(code_cell("# \udfff\nz = 1"))
    raw = json.dumps(nb, ensure_ascii=True).encode()
    assert b"\\ud800" in raw
    submit_files(course, "c_surrogate", {NB: raw})
    submit_files(course, "d_bom", {NB: b"\xef\xbb\xbf" + good})
    # a 3 MB code cell (a pasted data dump)
    submit_files(course, "e_bigcell", {NB: nb_bytes(_with_cells("x = 1\n" * 500_000))})
    nb = correct_notebook()
    nb["cells"] += [_markdown("m")] * 2_500
    submit_files(course, "f_manycells", {NB: nb_bytes(nb)})
    # an expression the grader's parser cannot hold (MemoryError/RecursionError in ast)
    deep = _with_cells("x = " + "-" * 100_000 + "1")
    submit_files(course, "g_deepexpr", {NB: nb_bytes(deep)})
    # an integer of 5000 digits: json.loads raises ValueError, not JSONDecodeError
    bigint = good[:-1] + b', "x": ' + b"7" * 5000 + b"}"
    submit_files(course, "h_bigint", {NB: bigint})
    # a timestamp in year 1 with an offset: converting it to UTC overflows
    submit_files(course, "i_year1", {NB: good, "timestamp.txt": b"0001-01-01 00:00:00+05:00"})
    submit_files(course, "zz_last", {NB: good})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole class in one CLI run; return (course, export by student, output)."""
    course = tmp_path_factory.mktemp("isolation-course")
    _build(course)
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *FAST_LIMITS)
    return course, proc, export_json(course)


def test_batch_finishes_and_last_student_gets_full_marks(graded):
    """Does the run exit 0 and grade the student after all the bad ones with full marks?"""
    _, proc, rows = graded
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = rows["zz_last"]
    assert row["status"] == "graded" and row["score"] == battery().max_score


@pytest.mark.parametrize(
    ("student", "status", "words"),
    [
        ("a_badname", "graded", "'notes-\\xe9.txt'"),
        ("b_ctrlname", "graded", "\\x1b[2J\\x1b]0;pwned\\x07numpy.py"),
        ("c_surrogate", "graded", "lone surrogate"),
        ("d_bom", "graded", "byte-order mark"),
        ("e_bigcell", "ungradable", "code cell"),
        ("f_manycells", "ungradable", "cells (limit 2000)"),
        ("g_deepexpr", "graded", ""),
        ("h_bigint", "ungradable", "a value Python refuses"),
        ("i_year1", "graded", "timestamp.txt ignored"),
    ],
)
def test_each_bad_input_is_that_students_status_with_a_reason(graded, student, status, words):
    """Does each bad submission end as its own status, with a reason naming the problem
    (control characters and undecodable bytes shown as escapes), never an internal error?"""
    course, _, rows = graded
    row = rows[student]
    assert row["status"] == status, (student, row)
    assert words in row["reason"], (student, row["reason"])
    assert "internal grader error" not in row["reason"]
    if status == "graded":  # the bad part cost nothing: every answer is correct
        assert row["score"] == battery().max_score, (student, row)
    page = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text("utf-8")
    assert "\x1b" not in page


def test_graded_copies_are_written_for_surrogate_and_bad_name_students(graded):
    """Is the autograded copy written, as valid UTF-8 JSON, for the students whose notebook
    held lone surrogates (shown as U+FFFD) or had an undecodable name?"""
    course, _, _ = graded
    copies = {}
    for student in ("a_badname", "c_surrogate"):
        path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        copies[student] = json.loads(path.read_bytes().decode("utf-8"))
    texts = ["".join(c["source"]) for c in copies["c_surrogate"]["cells"]]
    assert "lone \ufffd here" in texts


def test_terminal_output_has_no_control_characters(graded):
    """Does the summary printed by ``grade`` carry no escape or bell character?"""
    _, proc, _ = graded
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "b_ctrlname" in proc.stdout


def test_json_bomb_is_refused_before_it_is_parsed():
    """Is a 3 MB notebook of a million empty JSON objects refused with a reason, with the
    grader's memory staying near the file's size (parsed, it would take over 60 MB)?"""
    raw = b'{"nbformat": 4, "cells": [' + b"{}," * 1_000_000 + b"{}]}"
    tracemalloc.start()
    try:
        with pytest.raises(notebook.Ungradable, match="JSON objects and arrays"):
            notebook.parse_notebook(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(raw)


def test_a_failing_write_step_costs_only_that_student(tmp_path, monkeypatch):
    """When writing one student's feedback fails, is the failure that student's error and
    are the others still recorded, with their feedback and autograded copies written?"""
    good = nb_bytes(correct_notebook())
    for student in ("alice", "bob", "carol"):
        submit_files(tmp_path, student, {NB: good})
    real_write = feedback.write_from_gradebook

    def failing_write(gb, course, assignment, student):
        if student == "alice":
            raise OSError(28, "No space left on device")
        return real_write(gb, course, assignment, student)

    monkeypatch.setattr(feedback, "write_from_gradebook", failing_write)
    outcomes = engine.grade_assignment(tmp_path, ASSIGNMENT, jobs=1)
    by_student = {o.result.student: o for o in outcomes}
    assert set(by_student) == {"alice", "bob", "carol"}
    assert by_student["alice"].errors == ["feedback not written (OSError)"]
    for student in ("bob", "carol"):
        assert by_student[student].action == "recorded" and not by_student[student].errors
        assert (tmp_path / "feedback" / student / ASSIGNMENT / NB.replace("ipynb", "html")).exists()
        assert (tmp_path / "autograded" / student / ASSIGNMENT / NB).exists()


def test_huge_result_file_is_refused_unparsed(tmp_path):
    """Is a 9 MB result file of three million empty objects (student code in the runner
    can rewrite its own result file) failed for its test without being parsed, the
    grader's memory staying near the file's size?"""
    from autograder.batteries import harness
    from autograder.grading import sandbox

    tests = list(battery().tests)
    (tmp_path / "job.json").write_text(json.dumps({"cells": [[1, "x = 1"]]}))
    out = tmp_path / "out"
    out.mkdir()
    ok = {"status": "exited", "detail": "exit code 0"}
    (out / "supervisor.json").write_text(json.dumps({**ok, "features": {}, "notes": []}))
    (out / "init.json").write_text(json.dumps({"tests": [ok] * len(tests)}))
    bomb = b'{"outcomes": [' + b"{}," * 3_000_000 + b"{}]}"
    (out / "test_0.json").write_bytes(bomb)
    tracemalloc.start()
    try:
        run = sandbox.read_results(tmp_path, tests)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(bomb)
    outcomes = run.outcomes[tests[0].grade_id]
    assert outcomes and all(isinstance(o, harness.Failed) for o in outcomes)
