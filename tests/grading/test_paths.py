"""Issue 9, class 4: paths in ``submitted/`` are never followed or read through.

A symbolic link (to the solutions, or to another student's folder), a hard link to a file
outside the submission, a FIFO (whose reading would block the grader) and a device must be
refused with a reason that names what they are; ``timestamp.txt`` obeys the same rule;
folder names that are not plain student ids (``..``-like, control characters, a leading
dot, undecodable bytes, 200 characters) are reported and never used as paths under
``feedback/`` or ``autograded/``. One CLI run grades all of it beside an honest student.
"""

from __future__ import annotations

import os
import stat

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    SOURCE,
    battery,
    correct_notebook,
    export_json,
    nb_bytes,
    run_cli,
    submit_files,
)

from autograder.grading import notebook

pytestmark = pytest.mark.slow

NB = f"{ASSIGNMENT}.ipynb"
BAD_IDS = [b"\x1b[31mred", b".hidden", b"\xff\xfe", b"x" * 200, b"trailing "]


def _build(course, outside) -> None:
    good = nb_bytes(correct_notebook())
    honest = submit_files(course, "zz_honest", {NB: good})
    # the solutions notebook, linked: graded through the link it would score full marks
    folder = submit_files(course, "p_symlink", {})
    os.symlink(SOURCE, folder / NB)
    # a hard link to a file outside the course
    (outside / "elsewhere.ipynb").write_bytes(good)
    folder = submit_files(course, "p_hardlink", {})
    os.link(outside / "elsewhere.ipynb", folder / NB)
    # a FIFO: opening it for reading would block the grader forever
    folder = submit_files(course, "p_fifo", {})
    os.mkfifo(folder / NB)
    # the assignment folder is a link to another student's folder
    (course / "submitted" / "p_dirlink").mkdir()
    os.symlink(honest, course / "submitted" / "p_dirlink" / ASSIGNMENT)
    # the student folder is a link to another student's folder
    os.symlink(honest.parent, course / "submitted" / "p_studentlink")
    # timestamp.txt links to a file outside (with a valid time in it)
    (outside / "stamp.txt").write_text("2026-01-01 00:00:00")
    folder = submit_files(course, "p_stamplink", {NB: good})
    os.symlink(outside / "stamp.txt", folder / "timestamp.txt")
    # timestamp.txt is a FIFO
    folder = submit_files(course, "p_stampfifo", {NB: good})
    os.mkfifo(folder / "timestamp.txt")
    for name in BAD_IDS:
        submit_files(course, name, {NB: good})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every path attack in one CLI run; return (course, CLI result, export rows)."""
    course = tmp_path_factory.mktemp("paths-course")
    outside = tmp_path_factory.mktemp("outside")
    _build(course, outside)
    proc = run_cli(
        "grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *FAST_LIMITS, timeout=300
    )
    return course, proc, export_json(course)


@pytest.mark.parametrize(
    ("student", "words"),
    [
        ("p_symlink", "is a symbolic link"),
        ("p_hardlink", "is a hard link"),
        ("p_fifo", "is a named pipe (FIFO)"),
        ("p_dirlink", f"the submission folder '{ASSIGNMENT}' is a symbolic link"),
        ("p_studentlink", "the submission folder 'p_studentlink' is a symbolic link"),
    ],
)
def test_links_and_special_files_are_refused(graded, student, words):
    """Is a notebook (or folder) that is a link or a special file refused, with a reason
    saying what it is, and scored 0 (the linked solutions are never graded)?"""
    _, _, rows = graded
    row = rows[student]
    assert row["status"] == "ungradable", (student, row)
    assert words in row["reason"], (student, row["reason"])
    assert row["score"] == 0


@pytest.mark.parametrize(
    ("student", "words"),
    [("p_stamplink", "is a symbolic link"), ("p_stampfifo", "is a named pipe (FIFO)")],
)
def test_timestamp_is_read_like_any_submitted_file(graded, student, words):
    """Is a ``timestamp.txt`` that is a link or a FIFO ignored with a note saying so,
    while the notebook beside it is graded?"""
    _, _, rows = graded
    row = rows[student]
    assert row["status"] == "graded" and row["score"] == battery().max_score
    assert f"timestamp.txt ignored: 'timestamp.txt' {words}" in row["reason"]


def test_honest_student_is_graded_beside_them(graded):
    """Is the honest student graded with full marks in the same run?"""
    _, _, rows = graded
    assert rows["zz_honest"]["status"] == "graded"
    assert rows["zz_honest"]["score"] == battery().max_score


def test_bad_student_ids_are_reported_never_used_as_paths(graded):
    """Is every folder name that is not a plain id reported (escaped) as not recorded, with
    no folder of that name created under feedback/ or autograded/ and no gradebook row?"""
    course, proc, rows = graded
    assert proc.returncode == 1, proc.stdout + proc.stderr  # some results were not recorded
    assert "\x1b" not in proc.stdout + proc.stderr
    assert proc.stdout.count("not a plain student id") == len(BAD_IDS)
    assert "\\x1b[31mred" in proc.stdout and "\\xff\\xfe" in proc.stdout
    for folder in ("feedback", "autograded"):
        made = set(os.listdir(os.fsencode(course / folder)))
        assert not made & set(BAD_IDS), (folder, made)
    assert not {os.fsdecode(n) for n in BAD_IDS} & set(rows)


@pytest.mark.parametrize("student", ["../../etc", "\x1b[2J", ".hidden", "a" * 129, "x/y", ""])
def test_command_line_student_ids_must_be_plain(tmp_path, student):
    """Does ``--student`` refuse ids that are not plain names (exit 2, shown escaped)?"""
    (tmp_path / "submitted").mkdir()
    proc = run_cli("grade", ASSIGNMENT, "--course", str(tmp_path), "--student", student)
    assert proc.returncode == 2 and "not a student id" in proc.stderr
    assert "\x1b" not in proc.stderr


def test_device_named_like_the_notebook_is_refused(tmp_path):
    """Is a character device named ``<assignment>.ipynb`` refused without being opened?"""
    folder = submit_files(tmp_path, "dev", {})
    try:
        os.mknod(folder / NB, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    except PermissionError:
        pytest.skip("this machine does not allow creating device nodes")
    with pytest.raises(notebook.Ungradable, match="is a device"):
        notebook.read_submission(folder, ASSIGNMENT, set())


def test_read_regular_file_never_follows_a_link(tmp_path):
    """Does the low-level reader refuse a link even to a readable regular file?"""
    (tmp_path / "real.txt").write_text("2026-01-01")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    assert notebook.read_regular_file(tmp_path, "real.txt", 100) == b"2026-01-01"
    with pytest.raises(notebook.Ungradable, match="symbolic link"):
        notebook.read_regular_file(tmp_path, "link.txt", 100)
