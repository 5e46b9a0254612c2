"""``python -m autograder export [--course DIR] [--format csv|json] [--output FILE]``.

``csv``: nbgrader's own columns (assignment, duedate, timestamp, student_id, last_name,
first_name, email, raw_score, late_submission_penalty, score, max_score), one row per
(assignment, student) in the gradebook, a missing submission scoring 0, as
``nbgrader export`` writes them.

``json``: a list with one object per (student, assignment)::

    {"student", "assignment", "status": "graded"|"ungradable"|"missing", "reason",
     "score", "max_score", "tests": [{"grade_id", "score", "max_score", "message"}]}

A timeout or a crash is exported as ``"ungradable"`` with the reason saying which. Scores
are read from nbgrader's tables (so manual grades entered in the formgrader count);
messages come from the grader's own table.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

CSV_COLUMNS = [
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--output", "-o", help="write here instead of standard output")


def run(args: argparse.Namespace) -> int:
    from autograder.grading import gradebook

    course = Path(args.course)
    if not course.is_dir():
        print(f"error: no course folder {course}", file=sys.stderr)
        return 2
    gb = gradebook.open_gradebook(course)
    try:
        text = to_csv(gb) if args.format == "csv" else json.dumps(to_json(gb), indent=2) + "\n"
    finally:
        gb.close()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _text(value) -> str:
    """A CSV cell. Text that a spreadsheet would run as a formula (it begins with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return: a student id is a folder name the
    student chose) gets a leading ``'``, so it is shown as text; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return str(value)


def to_csv(gb) -> str:
    """The gradebook as nbgrader's ``grades.csv``."""
    from autograder.grading.gradebook import import_nbgrader_api

    MissingEntry = import_nbgrader_api().MissingEntry
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for assignment in gb.assignments:
        for student in gb.students:
            row = {
                "assignment": assignment.name,
                "duedate": assignment.duedate,
                "student_id": student.id,
                "last_name": student.last_name,
                "first_name": student.first_name,
                "email": student.email,
                "max_score": assignment.max_score,
            }
            try:
                sub = gb.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = sub.late_submission_penalty
                row.update(
                    timestamp=sub.timestamp,
                    raw_score=sub.score,
                    late_submission_penalty=penalty,
                    score=max(0.0, sub.score - (penalty or 0.0)),
                )
            writer.writerow([_text(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def to_json(gb) -> list[dict]:
    """One object per (student, assignment), in DESIGN.md's format."""
    from autograder.grading.gradebook import import_nbgrader_api, stored_results

    MissingEntry = import_nbgrader_api().MissingEntry

    stored = {(r["student_id"], r["assignment"]): r for r in stored_results(gb)}
    students = sorted({s.id for s in gb.students} | {k[0] for k in stored})
    out = []
    for assignment in sorted(gb.assignments, key=lambda a: a.name):
        for student in students:
            row = stored.get((student, assignment.name))
            try:
                sub = gb.find_submission(assignment.name, student)
            except MissingEntry:
                sub = None
            out.append(_json_row(assignment, student, row, sub))
    return out


def _json_row(assignment, student: str, row: dict | None, sub) -> dict:
    grades = {}
    if sub is not None:
        for nb in sub.notebooks:
            for grade in nb.grades:
                grades[grade.cell.name] = grade
    status = row["status"] if row else ("graded" if sub is not None else "missing")
    reason = row["reason"] if row else ""
    if status in ("timeout", "crashed", "error"):
        status, reason = "ungradable", f"{status}: {reason}"
    if row and row.get("last_attempt_status") not in (None, row["status"]):
        reason = (
            f"{reason + '; ' if reason else ''}a later attempt ({row['last_attempt_at']}) was "
            f"{row['last_attempt_status']}: {row['last_attempt_reason']}; this result was kept"
        )
    tests = []
    stored_tests = row["tests"] if row else []
    for t in stored_tests:
        grade = grades.get(t["grade_id"])
        score = float(grade.score) if grade is not None and status == "graded" else 0.0
        tests.append(
            {
                "grade_id": t["grade_id"],
                "score": score,
                "max_score": float(t["max_score"]),
                "message": t["message"],
            }
        )
    if status == "graded" and sub is not None:
        score = float(sub.score)
    else:
        score = 0.0
    return {
        "student": student,
        "assignment": assignment.name,
        "status": status if status in ("graded", "ungradable", "missing") else "ungradable",
        "reason": reason,
        "score": score,
        "max_score": float(assignment.max_score),
        "tests": tests,
    }
