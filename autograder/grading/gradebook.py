"""Write grading results into nbgrader's gradebook, one transaction per submission.

Scores go where nbgrader keeps them (``grade.auto_score`` of each test cell's
``grade_id``), so ``nbgrader export``, the formgrader and :class:`nbgrader.api.Gradebook`
read them unchanged. What nbgrader's schema has no place for (the grading status, its
reason, the feedback messages) lives in one extra table, ``autograder_result``, in the same
database and the same transaction; nbgrader ignores tables it does not know.

Regrade rule: a run whose status is not ``graded`` (timeout, crashed, ungradable) never
replaces an earlier graded result; it is recorded as the *last attempt* beside it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.util
import json
import os
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

#: Statuses of a grading attempt. Export maps timeout/crashed to "ungradable" (DESIGN.md).
STATUSES = ("graded", "ungradable", "timeout", "crashed", "missing")

_metadata = sa.MetaData()
RESULTS = sa.Table(
    "autograder_result",
    _metadata,
    sa.Column("student_id", sa.String(128), primary_key=True),
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("score", sa.Float, nullable=False, default=0.0),
    sa.Column("max_score", sa.Float, nullable=False, default=0.0),
    sa.Column("tests", sa.Text, nullable=False, default="[]"),  # JSON list
    sa.Column("graded_at", sa.DateTime),
    sa.Column("last_attempt_status", sa.String(16)),
    sa.Column("last_attempt_reason", sa.Text),
    sa.Column("last_attempt_at", sa.DateTime),
)


@dataclass
class CellResult:
    """One test cell's verdict as stored and exported."""

    grade_id: str
    score: float
    max_score: float
    message: str


@dataclass
class Result:
    """The outcome of grading one submission."""

    student: str
    assignment: str
    status: str
    reason: str = ""
    tests: list[CellResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timestamp: dt.datetime | None = None

    @property
    def score(self) -> float:
        return float(sum(t.score for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_score for t in self.tests))


def course_settings(course: Path) -> tuple[str, str]:
    """(db_url, course_id) from ``course/nbgrader_config.py``, with nbgrader's defaults.

    The file is loaded the way nbgrader loads it (traitlets' ``PyFileConfigLoader``: it is
    the instructor's own trusted Python), so computed values such as the release command's
    ``"sqlite:///" + os.path.join(_root, "gradebook.db")`` or a URL read from the
    environment select the same gradebook that ``nbgrader export`` and formgrader use.
    ``c.CourseDirectory.db_url = "postgresql://…"`` selects a shared gradebook.
    """
    from traitlets.config.loader import PyFileConfigLoader

    db_url = f"sqlite:///{(course / 'gradebook.db').resolve()}"
    course_id = "default_course"
    if (course / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        settings = config.get("CourseDirectory", {})
        db_url = settings.get("db_url", db_url)
        course_id = settings.get("course_id", course_id)
    return db_url, course_id


_API: list = []  # the imported nbgrader.api, once


def import_nbgrader_api():
    """Import :mod:`nbgrader.api` without the ``__init__`` of nbgrader and nbformat.

    ``import nbgrader`` loads the Jupyter server extensions and ``import nbformat`` builds
    JSON-schema validators (together ≈ 3–10 s); the gradebook API needs neither. While
    importing, bare package objects stand in for both packages; they are removed after,
    so a later full import of either works as usual.
    """
    if _API:
        return _API[0]
    stubs = []
    for name in ("nbgrader", "nbformat"):  # nbformat's __init__ builds 39 lark grammars
        spec = importlib.util.find_spec(name) if name not in sys.modules else None
        if spec is not None and spec.submodule_search_locations:
            package = types.ModuleType(name)
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__ = spec
            sys.modules[name] = package
            stubs.append(name)
    try:
        api = importlib.import_module("nbgrader.api")
    finally:
        for name in stubs:  # a later `import nbgrader` runs the real __init__ and reuses .api
            del sys.modules[name]
    _API.append(api)
    return api


def alembic_head(api) -> str:
    """The newest alembic revision shipped with nbgrader, read from its migration files.

    nbgrader finds it by running the ``alembic`` command in a subprocess each time it
    creates a gradebook; reading the files gives the same answer without the subprocess.
    """
    versions = Path(api.__file__).parent / "alembic" / "versions"
    revisions, parents = set(), set()
    for path in versions.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        down = re.search(r"^down_revision\s*=\s*['\"](\w+)['\"]", text, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            parents.add(down.group(1))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        return api.get_alembic_version.__wrapped__()  # pragma: no cover - layout changed
    return heads[0]


#: The lock file one ``grade`` run holds in the course folder.
LOCK_NAME = ".autograder-grade.lock"


def lock_course(course: Path) -> int | None:
    """Take the course for one grading run: an exclusive ``flock`` on ``LOCK_NAME`` in it.

    Two runs at once would race to create the gradebook's tables and write the same
    feedback. Return the lock's file descriptor (closing it, or the process ending, frees
    the course), or ``None`` when another run holds it.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    fd = os.open(course / LOCK_NAME, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def open_gradebook(course: Path):
    """Open (creating if needed) the course's nbgrader gradebook and our results table."""
    api = import_nbgrader_api()
    if not getattr(api.get_alembic_version, "__wrapped__", None):
        original = api.get_alembic_version
        head = alembic_head(api)

        def get_alembic_version() -> str:
            return head

        get_alembic_version.__wrapped__ = original
        api.get_alembic_version = get_alembic_version
    db_url, course_id = course_settings(course)
    gb = api.Gradebook(db_url, course_id=course_id)
    _metadata.create_all(gb.engine)
    return gb


def ensure_assignment(gb, assignment: str, battery, source_nb: dict | None) -> None:
    """Create the assignment, its notebook and grade cells when missing.

    Test cells come from the battery (``grade_id``, points); manually graded cells and
    solution cells from the source notebook's nbgrader metadata when it is at hand.
    """
    api = import_nbgrader_api()
    Assignment, GradeCell, Notebook, SolutionCell = (
        api.Assignment,
        api.GradeCell,
        api.Notebook,
        api.SolutionCell,
    )
    MissingEntry = api.MissingEntry
    db = gb.db
    try:
        a = gb.find_assignment(assignment)
    except MissingEntry:
        a = Assignment(name=assignment, course_id=gb.course_id)
        db.add(a)
    nb = next((n for n in a.notebooks if n.name == assignment), None)
    if nb is None:
        nb = Notebook(name=assignment, assignment=a)
        db.add(nb)
    cells = {(c.name, c.type) for c in nb.grade_cells} | {
        (c.name, c.type) for c in nb.solution_cells
    }
    wanted = [(t.grade_id, float(t.points), "code", False) for t in battery.tests]
    for cell in (source_nb or {}).get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        grade_id = meta.get("grade_id")
        if not grade_id or grade_id in battery.grade_ids:
            continue
        kind = "code" if cell.get("cell_type") == "code" else "markdown"
        if meta.get("grade"):
            wanted.append((grade_id, float(meta.get("points", 0)), kind, False))
        if meta.get("solution"):
            wanted.append((grade_id, 0.0, kind, True))
    for name, points, kind, solution in wanted:
        if solution and (name, "SolutionCell") not in cells:
            db.add(SolutionCell(name=name, notebook=nb))
        elif not solution and (name, "GradeCell") not in cells:
            db.add(GradeCell(name=name, notebook=nb, max_score=points, cell_type=kind))
    db.commit()


def _submitted_notebook(gb, assignment: str, student: str, timestamp):
    """Find or build (without committing) the submission structure nbgrader expects."""
    api = import_nbgrader_api()
    db = gb.db
    Comment, Grade, Student = api.Comment, api.Grade, api.Student
    SubmittedAssignment, SubmittedNotebook = api.SubmittedAssignment, api.SubmittedNotebook
    MissingEntry = api.MissingEntry
    if db.get(Student, student) is None:
        db.add(Student(id=student))
        db.flush()
    try:
        sub = gb.find_submission(assignment, student)
    except MissingEntry:
        sub = SubmittedAssignment(assignment=gb.find_assignment(assignment), student_id=student)
        db.add(sub)
    if timestamp is not None:
        sub.timestamp = timestamp
    by_notebook = {n.notebook_id: n for n in sub.notebooks}
    for notebook in sub.assignment.notebooks:
        snb = by_notebook.get(notebook.id)
        if snb is None:
            snb = SubmittedNotebook(notebook=notebook, assignment=sub)
            db.add(snb)
        have_grades = {g.cell_id for g in snb.grades}
        have_comments = {c.cell_id for c in snb.comments}
        for cell in [*notebook.grade_cells, *notebook.task_cells]:
            if cell.id not in have_grades:
                db.add(Grade(cell=cell, notebook=snb))
        for cell in [*notebook.solution_cells, *notebook.task_cells]:
            if cell.id not in have_comments:
                db.add(Comment(cell=cell, notebook=snb))
    db.flush()
    return sub


def record(gb, result: Result) -> str:
    """Store ``result`` in one transaction; return what happened ("recorded" / "kept earlier").

    Graded results set each test cell's ``auto_score``. Any other status sets zeros only
    when there is no earlier graded result, so that a crashing resubmission cannot erase a
    grade; the attempt itself is always recorded.
    """
    db = gb.db
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    key = {"student_id": result.student, "assignment": result.assignment}
    try:
        row = db.execute(
            sa.select(RESULTS).where(
                RESULTS.c.student_id == result.student,
                RESULTS.c.assignment == result.assignment,
            )
        ).first()
        keep_earlier = result.status != "graded" and row is not None and row.status == "graded"
        if keep_earlier:
            db.execute(
                RESULTS.update()
                .where(
                    RESULTS.c.student_id == result.student,
                    RESULTS.c.assignment == result.assignment,
                )
                .values(
                    last_attempt_status=result.status,
                    last_attempt_reason=result.reason,
                    last_attempt_at=now,
                )
            )
            db.commit()
            return "kept earlier"
        if result.status == "missing":  # a known student; nbgrader counts the work as 0
            api = import_nbgrader_api()
            if db.get(api.Student, result.student) is None:
                db.add(api.Student(id=result.student))
        else:
            sub = _submitted_notebook(gb, result.assignment, result.student, result.timestamp)
            graded = result.status == "graded"
            scores = {t.grade_id: t.score if graded else 0.0 for t in result.tests}
            for snb in sub.notebooks:
                for grade in snb.grades:
                    if grade.cell.name in scores:
                        grade.auto_score = scores[grade.cell.name]
                        grade.needs_manual_grade = False
        values = {
            "status": result.status,
            "reason": result.reason or "; ".join(result.notes),
            "score": result.score if result.status == "graded" else 0.0,
            "max_score": result.max_score,
            "tests": json.dumps([t.__dict__ for t in result.tests]),
            "graded_at": now,
            "last_attempt_status": result.status,
            "last_attempt_reason": result.reason,
            "last_attempt_at": now,
        }
        if row is None:
            db.execute(RESULTS.insert().values(**key, **values))
        else:
            db.execute(
                RESULTS.update()
                .where(
                    RESULTS.c.student_id == result.student,
                    RESULTS.c.assignment == result.assignment,
                )
                .values(**values)
            )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return "recorded"


def stored_results(gb) -> list[dict]:
    """Every row of ``autograder_result`` as a dict (tests decoded)."""
    rows = gb.db.execute(sa.select(RESULTS)).mappings().all()
    out = []
    for row in rows:
        item = dict(row)
        try:
            item["tests"] = json.loads(item["tests"])
        except ValueError:
            item["tests"] = []
        out.append(item)
    return out
