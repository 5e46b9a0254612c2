"""``python -m autograder export [--course DIR] [--db URL] [--format F] [--assignment A]``.

Formats ``F``:

``csv``: nbgrader's own columns (assignment, duedate, timestamp, student_id, last_name,
first_name, email, raw_score, late_submission_penalty, score, max_score), one row per
(assignment, student) in the gradebook, a missing submission scoring 0, as
``nbgrader export`` writes them.

``json``: a list with one object per (student, assignment)::

    {"student", "assignment", "status": "graded"|"ungradable"|"missing", "reason",
     "score", "max_score",
     "tests": [{"grade_id", "kind": "auto"|"manual", "pending", "score", "max_score",
                "message"}]}

``tests`` lists the grader's test cells (``kind`` ``"auto"``) and the manually graded
cells (``"manual"``, written answers; ``pending`` while nobody has graded them, scoring 0),
so the scores add up to ``score``. A timeout or a crash is exported as ``"ungradable"`` with
the reason saying which.

``canvas``: a CSV for Canvas's gradebook import (Grades → Import): the columns Canvas's own
gradebook export starts with (``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
``Section``), a ``Points Possible`` row, and one column per assignment. Canvas matches a row
to a student by its ID / SIS User ID / SIS Login ID, and an assignment column by its header
(``name (canvas id)`` for an existing assignment; a header Canvas does not know creates a new
assignment). With ``--roster`` (a gradebook CSV exported from Canvas), rows take Canvas's
names, IDs and sections, matched on SIS Login ID (else SIS User ID, else ID) = nbgrader
student id, and an assignment whose name matches a roster column takes that column's header.
Without a roster, ``SIS Login ID`` is the nbgrader student id.

Scores are the grader's own (see :func:`autograder.grading.gradebook.entries`): a test
score in the gradebook that the sandboxed grader did not write (nbgrader's ``autograde``,
a hand edit of the database) is not exported; the JSON row's ``reason`` says so, and every
format prints these flags on standard error. Manual grades and overrides entered in the
formgrader count. Cells that a spreadsheet would read as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return, also after leading spaces or line breaks,
or with the full-width forms of the four signs) are written with a leading ``'``.
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

#: The identity columns of Canvas's gradebook CSV, in Canvas's order.
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: The Student cell of the row that carries each assignment's points (as Canvas exports it).
CANVAS_POINTS_ROW = "    Points Possible"

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list), and
#: their full-width forms (an East Asian input method or spreadsheet may fold them to ASCII).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL of the gradebook (default: the course's)"
    )
    parser.add_argument("--format", choices=("csv", "json", "canvas"), default="csv")
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="A",
        help="only this assignment (repeat for several; default: all)",
    )
    parser.add_argument(
        "--roster", help="canvas: a gradebook CSV exported from Canvas, for its IDs and sections"
    )
    parser.add_argument("--output", "-o", help="write here instead of standard output")


def run(args: argparse.Namespace) -> int:
    from autograder.grading import gradebook

    course = Path(args.course)
    if not course.is_dir():
        print(f"error: no course folder {course}", file=sys.stderr)
        return 2
    roster = None
    if args.roster:
        if args.format != "canvas":
            print("error: --roster is for --format canvas", file=sys.stderr)
            return 2
        try:
            roster = read_roster(Path(args.roster))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read the roster {args.roster}: {exc}", file=sys.stderr)
            return 2
    gb = gradebook.open_gradebook(course, args.db)
    try:
        known = {a.name for a in gb.assignments}
        unknown = [a for a in args.assignment or [] if a not in known]
        if unknown:
            print(
                f"error: no assignment {', '.join(map(repr, unknown))} in the gradebook "
                f"(known: {', '.join(sorted(known)) or 'none'})",
                file=sys.stderr,
            )
            return 2
        flagged = flagged_rows(gb, args.assignment)
        rows = [row for row, _ in flagged]
        if args.format == "json":
            text = json.dumps(rows, indent=2) + "\n"
        elif args.format == "csv":
            text = to_csv(gb, args.assignment, rows)
        else:
            text = to_canvas(gb, rows, roster, args.assignment)
    finally:
        gb.close()
    for row, flags in flagged:
        for flag in flags:
            print(f"warning: {row['student']} / {row['assignment']}: {flag}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
    else:
        sys.stdout.write(text)
    return 0


def safe_cell(value) -> str:
    """A CSV cell's text, with a leading ``'`` when a spreadsheet would run it as a formula.

    >>> safe_cell("=HYPERLINK(1)"), safe_cell("-1"), safe_cell(-1.5), safe_cell(None)
    ("'=HYPERLINK(1)", "'-1", '-1.5', '')
    """
    if value is None:
        return ""
    if isinstance(value, int | float):  # numbers are numbers, never formulas
        return str(value)
    text = str(value)
    # leading spaces or line breaks hide the formula from a check of the first character
    # only; spreadsheets that trim cells on import (an option in LibreOffice and Sheets)
    # would then see it
    risky = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if risky else text


def _selected(gb, assignments: list[str] | None) -> list:
    chosen = [a for a in gb.assignments if not assignments or a.name in assignments]
    return sorted(chosen, key=lambda a: a.name)


def to_csv(gb, assignments: list[str] | None = None, rows: list[dict] | None = None) -> str:
    """The gradebook as nbgrader's ``grades.csv`` (scores as in :func:`to_json`)."""
    rows = rows if rows is not None else to_json(gb, assignments)
    scores = {(r["assignment"], r["student"]): r["score"] for r in rows}
    from autograder.grading.gradebook import import_nbgrader_api

    MissingEntry = import_nbgrader_api().MissingEntry
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for assignment in _selected(gb, assignments):
        for student in gb.students:
            row = {
                "assignment": assignment.name,
                "duedate": assignment.duedate,
                "student_id": student.id,
                "last_name": student.last_name,
                "first_name": student.first_name,
                "email": student.email,
                "max_score": float(assignment.max_score),
            }
            try:
                sub = gb.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = sub.late_submission_penalty
                raw = scores.get((assignment.name, student.id), 0.0)
                row.update(
                    timestamp=sub.timestamp,
                    raw_score=raw,
                    late_submission_penalty=penalty,
                    score=max(0.0, raw - (penalty or 0.0)),
                )
            writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def to_json(gb, assignments: list[str] | None = None) -> list[dict]:
    """One object per (student, assignment), in DESIGN.md's format."""
    return [row for row, _ in flagged_rows(gb, assignments)]


def flagged_rows(gb, assignments: list[str] | None = None) -> list[tuple[dict, list[str]]]:
    """:func:`to_json`'s rows, each with the flags of scores the grader did not write."""
    from autograder.grading.gradebook import import_nbgrader_api, stored_results

    MissingEntry = import_nbgrader_api().MissingEntry

    stored = {(r["student_id"], r["assignment"]): r for r in stored_results(gb)}
    students = sorted({s.id for s in gb.students} | {k[0] for k in stored})
    out = []
    for assignment in _selected(gb, assignments):
        for student in students:
            row = stored.get((student, assignment.name))
            try:
                sub = gb.find_submission(assignment.name, student)
            except MissingEntry:
                sub = None
            out.append(_json_row(assignment, student, row, sub))
    return out


def _json_row(assignment, student: str, row: dict | None, sub) -> tuple[dict, list[str]]:
    from autograder.grading.gradebook import entries

    status = row["status"] if row else ("graded" if sub is not None else "missing")
    reason = row["reason"] if row else ""
    if status in ("timeout", "crashed", "error"):
        status, reason = "ungradable", f"{status}: {reason}"
    if row and row.get("last_attempt_status") not in (None, row["status"]):
        reason = (
            f"{reason + '; ' if reason else ''}a later attempt ({row['last_attempt_at']}) was "
            f"{row['last_attempt_status']}: {row['last_attempt_reason']}; this result was kept"
        )
    cells = entries(row, sub, assignment) if sub is not None else []
    flags = [e.flag for e in cells if e.flag]
    if sub is not None and row is None:
        flags.insert(
            0,
            "the sandboxed grader never graded this submission: its test scores in the "
            "gradebook were written by something else (nbgrader's autograde?) and are not "
            "exported",
        )
    tests = [
        {
            "grade_id": e.grade_id,
            "kind": e.kind,
            "pending": e.pending,
            "score": e.score,
            "max_score": e.max_score,
            "message": e.message if e.kind == "auto" else (e.comment or e.message),
        }
        for e in cells
    ]
    if not tests and row:  # a missing submission: the grader's zeros, nothing pending
        tests = [
            {
                "grade_id": t["grade_id"],
                "kind": "auto",
                "pending": False,
                "score": 0.0,
                "max_score": float(t["max_score"]),
                "message": t["message"],
            }
            for t in row["tests"]
        ]
    if flags:  # DESIGN.md's keys are fixed: the flags go into the reason (and to stderr)
        reason = "; ".join([reason, *flags] if reason else flags)
    return {
        "student": student,
        "assignment": assignment.name,
        "status": status if status in ("graded", "ungradable", "missing") else "ungradable",
        "reason": reason,
        "score": float(sum(t["score"] for t in tests)),
        "max_score": float(assignment.max_score),
        "tests": tests,
    }, flags


def read_roster(path: Path) -> tuple[list[str], list[dict]]:
    """Canvas's gradebook export: (its header, its student rows), the points row dropped."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        missing = [c for c in CANVAS_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"not a Canvas gradebook export (no column {', '.join(missing)})")
        students = [
            r
            for r in reader
            if r.get("Student", "").strip() not in ("Points Possible", "Student, Test")
        ]
    return header, students


def _roster_index(people: list[dict]) -> dict[str, dict]:
    """nbgrader student id -> roster row: SIS Login IDs first, then SIS User IDs, then IDs.

    The columns are different name spaces (a Canvas ID ``12345`` may be another student's
    SIS User ID), so a column is consulted only for ids no earlier column knows; an id that
    two rows share within one column matches neither (a warning says so).
    """
    index: dict[str, dict | None] = {}
    for key in ("SIS Login ID", "SIS User ID", "ID"):
        column: dict[str, list[dict]] = {}
        for person in people:
            value = (person.get(key) or "").strip()
            if value:
                column.setdefault(value, []).append(person)
        for value, rows in column.items():
            if value in index:
                continue
            if len(rows) > 1:
                print(
                    f"warning: {len(rows)} rows of the Canvas roster have {key} {value!r}: "
                    "none is used for it",
                    file=sys.stderr,
                )
                index[value] = None
                continue
            index[value] = rows[0]
    return {k: v for k, v in index.items() if v is not None}


def to_canvas(
    gb,
    rows: list[dict],
    roster: tuple[list[str], list[dict]] | None = None,
    assignments: list[str] | None = None,
) -> str:
    """Rows for Canvas's gradebook import (see the module docstring)."""
    chosen = _selected(gb, assignments)
    headers = {a.name: a.name for a in chosen}
    names = {s.id: s for s in gb.students}
    scores = {(r["student"], r["assignment"]): r["score"] for r in rows}
    if roster is not None:
        header, people = roster
        for a in chosen:  # "ps1_information (1234)" is Canvas's column of that assignment
            headers[a.name] = next(
                (h for h in header if h == a.name or h.startswith(a.name + " (")), a.name
            )
        index = _roster_index(people)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CANVAS_COLUMNS + [headers[a.name] for a in chosen])
    writer.writerow([CANVAS_POINTS_ROW, "", "", "", ""] + [float(a.max_score) for a in chosen])
    students = sorted({r["student"] for r in rows})
    if roster is not None:
        matched: dict[int, list[str]] = {}  # roster row -> the nbgrader students it matched
        for student in students:
            person = index.get(student)
            if person is not None:
                matched.setdefault(id(person), []).append(student)
        shared = {s for group in matched.values() if len(group) > 1 for s in group}
    for student in students:
        if roster is not None:
            person = index.get(student)
            if person is None:
                print(f"warning: {student} is not in the Canvas roster: left out", file=sys.stderr)
                continue
            if student in shared:  # two students' scores in one Canvas row: one would be lost
                others = ", ".join(s for s in matched[id(person)] if s != student)
                print(
                    f"warning: {student} matches the same Canvas roster row as {others}: "
                    "left out (fix the ids)",
                    file=sys.stderr,
                )
                continue
            ident = [person.get(c, "") for c in CANVAS_COLUMNS]
        else:
            s = names.get(student)
            full = ", ".join(p for p in (s and s.last_name, s and s.first_name) if p) or student
            ident = [full, "", "", student, ""]
        cells = [scores.get((student, a.name), 0.0) for a in chosen]
        writer.writerow([safe_cell(v) for v in ident] + cells)
    return buf.getvalue()
