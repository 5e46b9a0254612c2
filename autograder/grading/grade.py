"""``python -m autograder grade ASSIGNMENT [--course DIR] [--db URL] [--jobs N] [--student ID ...]
[--scheduler tcp://HOST:PORT] [--force]``.

Grades ``DIR/submitted/<student>/<ASSIGNMENT>/`` into the course's gradebook (``--db``, else
the ``db_url`` of ``DIR/nbgrader_config.py``, else ``DIR/gradebook.db``) and
``DIR/feedback/``, shows progress on a terminal and prints a summary table. A submission
unchanged since its last recorded grading is skipped (and counted) unless ``--force``.
``--scheduler`` grades on a Dask cluster instead of local sandboxes. Exit status:
0 when every submission got a recorded status (whatever the students did), 2 for operator
errors (unknown assignment, no course folder), 1 when a result, a feedback page or an
autograded copy could not be written, or a folder name in ``submitted/`` is not a plain
student id (each on an ``error:`` line; every other student is still graded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from autograder.grading.sanitize import printable, shorten

#: Width of the summary table's reason column: long reasons end with "…" at a word.
REASON_WIDTH = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment id, e.g. ps1_information")
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL of the gradebook (default: the course's)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="grade on this Dask cluster, one task per submission (default: here, --jobs)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="regrade submissions that are unchanged since they were graded",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="sandboxes run in parallel"
    )
    parser.add_argument(
        "--student", nargs="+", metavar="ID", help="grade only these students (default: all)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="wall-clock seconds for a notebook's top-level code (60)",
    )
    parser.add_argument(
        "--test-timeout",
        type=float,
        default=10.0,
        help="CPU seconds per test cell's cases (10); the wall-clock limit is 3·t + 10 s",
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=1024,
        help="memory of one sandbox, all its processes together (1024)",
    )
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="grade even where student code cannot get a private file system (see SECURITY.md)",
    )


def run(args: argparse.Namespace) -> int:
    from autograder.batteries import ASSIGNMENTS
    from autograder.grading import engine, gradebook, notebook

    course = Path(args.course)
    if args.assignment not in ASSIGNMENTS:
        print(
            f"error: unknown assignment {args.assignment!r}; one of {', '.join(ASSIGNMENTS)}",
            file=sys.stderr,
        )
        return 2
    if not course.is_dir():
        print(f"error: no course folder {course}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    bad = [s for s in args.student or [] if not notebook.is_plain_id(s)]
    if bad:
        shown = ", ".join(repr(printable(s)) for s in bad)
        print(f"error: not a student id: {shown}", file=sys.stderr)
        return 2
    students = args.student or engine.discover_students(course, args.assignment)
    if not students:
        print(f"no submissions in {course / 'submitted'} for {args.assignment}")
        return 0
    refusal = sandbox_refusal(course, args.unsafe)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    # A file gradebook (SQLite) allows one run at a time: two would race to create its
    # tables and lock each other out. A server gradebook (PostgreSQL) serialises setup and
    # each submission's record with advisory locks, so graders may share it.
    lock = None
    if gradebook.is_file_gradebook(course, args.db):
        lock = gradebook.lock_course(course)
        if lock is None:
            print(
                f"error: another grade run is using {course} (it holds "
                f"{gradebook.LOCK_NAME}); run one at a time, or share a PostgreSQL "
                "gradebook (--db)",
                file=sys.stderr,
            )
            return 2
    try:
        return _grade(args, course, students)
    finally:
        if lock is not None:
            os.close(lock)


def _grade(args: argparse.Namespace, course: Path, students: list[str]) -> int:
    """Grade ``students`` (the course is locked for this run), print the summary."""
    from autograder.grading import engine, sandbox

    limits = sandbox.Limits(
        wall_s=args.timeout,
        test_s=args.test_timeout,
        memory_mb=args.memory_mb,
        unsafe=args.unsafe,
    )
    tty = sys.stderr.isatty()
    count = [0]
    start = time.perf_counter()

    def progress(outcome, action):
        count[0] += 1
        if tty:
            r = outcome.result
            who = shorten(printable(r.student), 40)
            sys.stderr.write(f"\r\x1b[K[{count[0]}/{len(students)}] {who}: {r.status}")
            sys.stderr.flush()

    skipped: list[str] = []
    outcomes = engine.grade_assignment(
        course,
        args.assignment,
        students,
        jobs=args.jobs,
        limits=limits,
        on_result=progress,
        db_url=args.db,
        force=args.force,
        scheduler=args.scheduler,
        on_skip=skipped.extend,
    )
    if tty:
        sys.stderr.write("\r\x1b[K")
    elapsed = time.perf_counter() - start
    if skipped:
        print(
            f"{len(skipped)} submission(s) unchanged since they were graded: not regraded "
            "(--force regrades them)"
        )
    if not outcomes:
        print(f"nothing to grade for {args.assignment}")
        return 0
    print(summary_table(outcomes))
    print(sandbox_report(outcomes))
    n = len(outcomes)
    where = f"on {args.scheduler}" if args.scheduler else f"{args.jobs} job(s)"
    print(
        f"{n} submission(s) of {args.assignment} in {elapsed:.1f} s "
        f"({elapsed / max(n, 1):.2f} s each, {where})"
    )
    not_recorded = [o for o in outcomes if o.action.startswith("NOT RECORDED")]
    for o in not_recorded:
        print(f"error: {printable(o.result.student)}: {printable(o.action)}", file=sys.stderr)
    unwritten = [o for o in outcomes if o.errors]
    for o in unwritten:
        print(f"error: {printable(o.result.student)}: {'; '.join(o.errors)}", file=sys.stderr)
    return 1 if not_recorded or unwritten else 0


def summary_table(outcomes) -> str:
    """One line per submission: student, status, score, reason or notes.

    Everything that came from a submission (the student id is a folder name; reasons and
    notes quote file names) is passed through :func:`printable`, so no control character
    reaches the terminal; a long reason is cut at a word, marked with "…".
    """
    rows = [("student", "status", "score", "reason")]
    for o in sorted(outcomes, key=lambda o: o.result.student):
        r = o.result
        score = f"{r.score:g}/{r.max_score:g}" if r.status == "graded" else "-"
        action = o.action.split(":", 1)[0]  # the details are on the error lines
        status = r.status if action == "recorded" else f"{r.status} ({action})"
        reason = r.reason or "; ".join(r.notes)
        student = shorten(printable(r.student), 40)
        rows.append((student, printable(status), score, shorten(printable(reason), REASON_WIDTH)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for k, row in enumerate(rows):
        lines.append(
            "  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(lines)


def sandbox_refusal(course: Path, unsafe: bool) -> str | None:
    """Why grading must not start here (an operator error), or ``None``.

    Refused: a course, repository or virtual environment inside a folder the sandbox shows
    to student code; a machine where student code cannot get a private file system (not
    root, no unprivileged user namespaces), unless the operator passes ``--unsafe``.
    """
    from autograder.grading import sandbox

    if unsafe:
        return None
    problems = sandbox.layout_problems(course)
    if problems:
        return "; ".join(problems)
    problem = sandbox.isolation_problem()
    if problem:
        return (
            f"student code cannot be isolated on this machine ({problem}): run grade as root "
            "or enable unprivileged user namespaces, or pass --unsafe to grade anyway "
            "(student code could then read the course folder)"
        )
    return None


def sandbox_report(outcomes) -> str:
    """Which isolation features the sandbox had on this machine (reported, never silent)."""
    features = next((o.features for o in outcomes if o.features), None)
    if not features:
        return "sandbox: no submission reached the sandbox"
    names = [
        ("mount_namespace", "private file system"),
        ("network_namespace", "no network"),
        ("pid_namespace", "private PIDs"),
    ]
    names.append(("user_switch", "unprivileged user"))
    shown = dict(features)
    shown["user_switch"] = features.get("user_switch") or features.get("user_namespace")
    parts = [f"{text}: {'yes' if shown.get(key) else 'NO'}" for key, text in names]
    limits = f"\nlimits per sandbox: {printable(str(features.get('limits') or 'unknown'))}"
    notes = sorted({printable(n) for o in outcomes for n in o.sandbox_notes})
    return "sandbox: " + ", ".join(parts) + limits + "".join(f"\n  warning: {n}" for n in notes)
