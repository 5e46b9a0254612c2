"""Feedback pages; ``python -m autograder feedback ASSIGNMENT [--course DIR] [--student ID ...]``.

One page per submission, ``DIR/feedback/<student>/<a>/<a>.html``, rebuilt from the gradebook
each time (``grade`` writes it after recording a result; the ``feedback`` command rewrites
it after manual grading in the formgrader), so it always tells the whole story:

- the status, and when the latest attempt failed but an earlier graded result was kept,
  a notice saying so above that kept result;
- the score: the grader's test scores (an instructor's override in the formgrader wins)
  plus the manual scores, with the points still awaiting manual grading;
- per test, the score and what to fix (the battery's message, naming the misconception);
- per written answer, the student's own answer, its manual score (or "not graded yet")
  and the instructor's comment; comments on code answers;
- the cells that raised an error and the grader's notes on the submission folder.

The page is self-contained (inline CSS, no script, no external resource). Everything is
HTML-escaped; no test code and no hidden input appears in it (the messages name
misconceptions, a cell's error shows only the name of a built-in exception).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.grading import notebook
from autograder.grading.sanitize import file_name

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep SQLAlchemy out
    from autograder.grading.gradebook import Entry

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.5; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
td.score { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.pass td.score { color: #0a6b2d; }
tr.fail td.score { color: #a40e26; }
pre { white-space: pre-wrap; margin: 0; font: inherit; }
blockquote { margin: .4rem 0; padding: .4rem .8rem; border-left: 3px solid #bbb;
             background: #fafafa; }
.status { padding: .6rem .8rem; border-radius: .3rem; background: #f3f3f3; }
.notice { padding: .6rem .8rem; border-radius: .3rem; background: #fff4d6; }
.pending { color: #6b4e00; }
"""

_STATUS_TEXT = {
    "graded": "Graded.",
    "ungradable": "Your submission could not be graded.",
    "timeout": "Your notebook's code did not finish within the time limit.",
    "crashed": "Your notebook's code ended the grading process before the tests could run.",
    "missing": "No submission was found.",
}

#: Longest written answer echoed on the page (characters); the rest is cut with a mark.
MAX_ANSWER_CHARS = 6000


@dataclass
class Page:
    """Everything one feedback page shows (built by :func:`collect` from the gradebook)."""

    assignment: str
    student: str
    status: str
    reason: str = ""
    entries: list[Entry] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # written answers' text
    code_comments: dict[str, str] = field(default_factory=dict)  # grade_id -> comment
    cell_errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed_attempt: str = ""  # why the latest attempt failed, when an earlier result was kept


def render(page: Page) -> str:
    """Return the feedback page as an HTML string."""
    esc = html.escape
    title = f"{page.assignment} — feedback for {page.student}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(page.assignment)}</h1>",
        f"<p>Student: <code>{esc(page.student)}</code></p>",
    ]
    if page.failed_attempt:
        parts.append(
            '<p class="notice"><strong>Your latest submission could not be graded.</strong>'
            f"<br>{esc(page.failed_attempt)}<br>The result below is the one recorded for your "
            "earlier submission, which was graded and is kept.</p>"
        )
    parts.append(f'<p class="status"><strong>{esc(_STATUS_TEXT.get(page.status, page.status))}')
    parts.append("</strong>")
    if page.reason:
        parts.append(f"<br>{esc(page.reason)}")
    parts.append("</p>")
    tests = [e for e in page.entries if e.kind == "auto"]
    manual = [e for e in page.entries if e.kind == "manual"]
    if page.entries:
        score = sum(e.score for e in page.entries)
        total = sum(e.max_score for e in page.entries)
        parts.append(f"<h2>Score: {score:g} / {total:g}</h2>")
        waiting = sum(e.max_score for e in manual if e.pending)
        if waiting:
            parts.append(
                f'<p class="pending">Written answers worth {waiting:g} point(s) are not '
                "graded yet; this page is updated when they are.</p>"
            )
    if tests:
        parts.append(
            "<h2>Tests</h2><table><thead><tr><th>test</th><th>score</th><th>what to fix</th>"
            "</tr></thead><tbody>"
        )
        for e in tests:
            cls = "pass" if e.score >= e.max_score else "fail"
            # when nothing ran, the reason is stated once above, not repeated in every row
            hint = e.message if page.status == "graded" else "not run: see the reason above"
            parts.append(
                f'<tr class="{cls}"><td><code>{esc(e.grade_id)}</code></td>'
                f'<td class="score">{e.score:g} / {e.max_score:g}</td>'
                f"<td><pre>{esc(hint)}</pre></td></tr>"
            )
        parts.append("</tbody></table>")
    if manual:
        parts.append("<h2>Written answers</h2>")
        for e in manual:
            score = "not graded yet" if e.pending else f"{e.score:g} / {e.max_score:g}"
            parts.append(f"<h3><code>{esc(e.grade_id)}</code>: {esc(score)}</h3>")
            text = page.answers.get(e.grade_id)
            if text is not None:
                if len(text) > MAX_ANSWER_CHARS:
                    text = text[:MAX_ANSWER_CHARS] + " […]"
                shown = esc(text) if text.strip() else "<em>(no answer)</em>"
                parts.append(f"<p>Your answer:</p><blockquote><pre>{shown}</pre></blockquote>")
            if e.comment:
                comment = esc(e.comment)
                parts.append(f"<p>Comment:</p><blockquote><pre>{comment}</pre></blockquote>")
    if page.code_comments:
        parts.append("<h2>Comments on your code</h2><ul>")
        for gid, comment in page.code_comments.items():
            parts.append(f"<li><code>{esc(gid)}</code>: <pre>{esc(comment)}</pre></li>")
        parts.append("</ul>")
    errors = [e for e in page.cell_errors if type(e.get("cell")) is int]
    if errors:
        parts.append(
            "<h2>Cells that raised an error</h2><p>These cells of your notebook failed when "
            "it was run from top to bottom; what they define was not available to the "
            "tests.</p><ul>"
        )
        for err in errors[:20]:
            parts.append(
                f"<li>code cell {err['cell']}: <code>{esc(str(err.get('error')))}</code></li>"
            )
        parts.append("</ul>")
    if page.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts.extend(f"<li>{esc(n)}</li>" for n in page.notes)
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def collect(gb, course: Path, assignment: str, student: str) -> Page | None:
    """Build the page of one submission from the gradebook (``None``: nothing recorded).

    Written answers are read from the autograded copy the grader wrote
    (``autograded/<student>/<a>/<a>.ipynb``), the notebook the formgrader shows.
    """
    from autograder.grading import gradebook

    api = gradebook.import_nbgrader_api()
    rows = gradebook.stored_results(gb, assignment, student)
    row = rows[0] if rows else None
    try:
        sub = gb.find_submission(assignment, student)
    except api.MissingEntry:
        sub = None
    if row is None and sub is None:
        return None
    status = row["status"] if row else "graded"
    page = Page(assignment, student, status)
    if row:
        page.reason = row["reason"] if status != "graded" else ""
        page.notes = list(row["notes"])
        page.cell_errors = list(row["cell_errors"])
        last = row.get("last_attempt_status")
        if status == "graded" and last not in (None, "graded"):
            why = row["last_attempt_reason"]
            page.failed_attempt = f"{_STATUS_TEXT.get(last, last)} Reason: {why}"
    if status != "missing":
        page.entries = gradebook.entries(row, sub, gb.find_assignment(assignment))
    copy = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    try:
        page.answers = gradebook.written_answers(json.loads(copy.read_text("utf-8"))) or {}
    except (OSError, ValueError):
        page.answers = {}
    manual = {e.grade_id for e in page.entries if e.kind == "manual"}
    page.code_comments = {
        gid: text for gid, text in gradebook.comments_on_answers(sub).items() if gid not in manual
    }
    return page


#: Files of an nbgrader submission that ``nbgrader release_feedback`` needs beside the page:
#: it names the released page by a hash of the secret, which ``fetch_feedback`` recomputes.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
_MAX_EXCHANGE_FILE = 4096  # bytes; both files hold one short line


def write_from_gradebook(gb, course: Path, assignment: str, student: str) -> Path | None:
    """Write ``course/feedback/<student>/<a>/<a>.html`` from the gradebook; return its path
    (``None`` when nothing is recorded for that student).

    A submission collected with nbgrader's exchange carries ``timestamp.txt`` and
    ``submission_secret.txt``; they are copied beside the page (regular files of at most
    4 KB, never through a link) so that ``nbgrader release_feedback`` can release it.
    """
    if not notebook.is_plain_id(student):  # a gradebook row is not a safe path (``../x``)
        raise ValueError(f"not a plain student id: {file_name(student)}")
    page = collect(gb, course, assignment, student)
    if page is None:
        return None
    folder = course / "feedback" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.html"
    _replace_file(path, render(page).encode("utf-8"))
    for name in EXCHANGE_FILES:
        data = _small_regular_file(course / "submitted" / student / assignment / name)
        if data is not None:
            (folder / name).write_bytes(data)
    return path


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a write that fails half-way (disk full) or a
    second writer at the same time (``grade`` and ``feedback`` together) never leaves a
    truncated or interleaved page; the reader sees the old page or the new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _small_regular_file(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most 4 KB, read the way every
    submission file is (no link followed, no hard link, no FIFO); else ``None``."""
    try:
        return notebook.read_regular_file(path.parent, path.name, _MAX_EXCHANGE_FILE)
    except (OSError, notebook.Ungradable):
        return None


# --- the `feedback` verb ---------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment id, e.g. ps1_information")
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument(
        "--db", metavar="URL", help="SQLAlchemy URL of the gradebook (default: the course's)"
    )
    parser.add_argument(
        "--student", nargs="+", metavar="ID", help="only these students (default: all graded)"
    )


def run(args: argparse.Namespace) -> int:
    """Rewrite the feedback pages of ``args.assignment`` from the gradebook."""
    from autograder.grading import gradebook

    course = Path(args.course)
    if not course.is_dir():
        print(f"error: no course folder {course}", file=sys.stderr)
        return 2
    gb = gradebook.open_gradebook(course, args.db)
    try:
        api = gradebook.import_nbgrader_api()
        try:
            a = gb.find_assignment(args.assignment)
        except api.MissingEntry:
            print(f"error: no assignment {args.assignment!r} in the gradebook", file=sys.stderr)
            return 2
        recorded = {r["student_id"] for r in gradebook.stored_results(gb, args.assignment)}
        recorded |= {s.student.id for s in a.submissions}
        students = list(dict.fromkeys(args.student or sorted(recorded)))
        written = 0
        for student in students:
            if not notebook.is_plain_id(student):
                print(f"skip    {file_name(student)}: not a plain student id (never a path)")
                continue
            path = write_from_gradebook(gb, course, args.assignment, student)
            if path is None:
                print(f"skip    {student}: nothing recorded for {args.assignment}")
            else:
                written += 1
                print(f"wrote   {path}")
    finally:
        gb.close()
    print(f"{written} feedback page(s) of {args.assignment}")
    return 0 if written or not args.student else 1
