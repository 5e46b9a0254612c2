"""Helpers for the instructor-workflow tests: a course released by ``python -m autograder
release`` (once per session, then copied), submissions derived from the ps1 source notebook,
manual grading through nbgrader's own :class:`nbgrader.api.Gradebook`, and nbgrader's CLI.

Import the ``released`` fixture into a test module to use it.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from grading_helpers import ASSIGNMENT, FAST_LIMITS, REPO, notebook, run_cli, submit

WRITTEN_ID = "q_zero_log_zero"  # ps1's manually graded written answer (1 point)
WRONG_ENTROPY = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"
CRASH = ["import os\nos._exit(3)"]


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """A course folder in which ``release`` wrote ps1 (its config, source and gradebook)."""
    course = tmp_path_factory.mktemp("released") / "course"
    proc = run_cli("release", ASSIGNMENT, "--course", str(course), "--no-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course


def fresh_course(released: Path, where: Path) -> Path:
    """A private copy of the released course (its config finds its own folder)."""
    course = where / "course"
    shutil.copytree(released, course)
    return course


def with_written_answer(text: str, **kwargs) -> dict:
    """The ps1 source notebook (correct answers) with this written answer."""
    nb = notebook(**kwargs)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == WRITTEN_ID:
            cell["source"] = text
    return nb


def cheat_notebook() -> dict:
    """A submission that our grader scores 0 and nbgrader's autograde scores in full: each
    answer imports the reference, and the first one disarms the hidden tests' ``check``
    inside the student's kernel (where nbgrader runs them)."""
    nb = copy.deepcopy(notebook())
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            cell["source"] = (
                "import autograder.batteries as _b\n"
                "_b.check = lambda *args, **kwargs: None\n"
                f"from autograder import {meta['grade_id']}\n"
            )
    return nb


def grade(course: Path, *students: str) -> str:
    """``python -m autograder grade`` (of ``students``, default all); its output."""
    extra = ["--student", *students] if students else []
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), *FAST_LIMITS, *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def export(course: Path, fmt: str = "json", *extra: str) -> subprocess.CompletedProcess:
    proc = run_cli("export", "--course", str(course), "--format", fmt, *extra)
    assert proc.returncode == 0, proc.stderr
    return proc


def export_rows(course: Path) -> dict[str, dict]:
    """The full JSON export (written answers included), keyed by student."""
    return {r["student"]: r for r in json.loads(export(course).stdout)}


def nbgrader_gradebook(course: Path):
    """nbgrader's own Gradebook on the course's database (the formgrader's view)."""
    from nbgrader.api import Gradebook

    from autograder.grading.gradebook import course_settings

    db_url, course_id = course_settings(course)
    return Gradebook(db_url, course_id=course_id)


def grade_by_hand(
    course: Path, student: str, grade_id: str, score: float | None, comment: str | None = None
) -> None:
    """Enter a manual score (and a comment on that cell) as the formgrader does."""
    with nbgrader_gradebook(course) as gb:
        if score is not None:
            grade = gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, student)
            grade.manual_score = score
            grade.needs_manual_grade = False
        if comment is not None:
            gb.find_comment(grade_id, ASSIGNMENT, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


def nbgrader_cli(course: Path, *args: str) -> subprocess.CompletedProcess:
    """nbgrader's own command, run in the course folder (so its config applies)."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def feedback_page(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def autograded_notebook(course: Path, student: str) -> dict:
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def without_guard(course: Path) -> None:
    """Remove the lines that refuse nbgrader's autograde and generate_feedback (the
    configuration before finding 1 was fixed)."""
    config = course / "nbgrader_config.py"
    lines = config.read_text(encoding="utf-8").splitlines()
    config.write_text("\n".join(x for x in lines if "nbgrader_guard" not in x) + "\n")


__all__ = ["submit"]
