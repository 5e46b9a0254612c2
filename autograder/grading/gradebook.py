"""Write grading results into nbgrader's gradebook, one transaction per submission.

Scores go where nbgrader keeps them (``grade.auto_score`` of each test cell's
``grade_id``), so ``nbgrader export``, the formgrader and :class:`nbgrader.api.Gradebook`
read them unchanged. What nbgrader's schema has no place for (the grading status, its
reason, the feedback messages) lives in one extra table, ``autograder_result``, in the same
database and the same transaction; nbgrader ignores tables it does not know.

That table is also the grader's own record of what it wrote: the score of every test cell
(``tests``) and a SHA-256 of every manually graded answer (``answers``). Export and feedback
compare the gradebook with it (:func:`entries`), so a score that something else wrote
(nbgrader's own ``autograde``, an edit of the database) is flagged and never exported as
the grader's, and a written answer whose text changed on a regrade loses its stale manual
grade and is flagged for manual grading again.

Regrade rule: a run whose status is not ``graded`` (timeout, crashed, ungradable) never
replaces an earlier graded result; it is recorded as the *last attempt* beside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import importlib.util
import json
import math
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
    # added later (see _add_missing_columns): what the feedback page needs to be rebuilt
    sa.Column("notes", sa.Text),  # JSON list of the grader's notes on the submission
    sa.Column("cell_errors", sa.Text),  # JSON list of {"cell": int, "error": exception name}
    sa.Column("answers", sa.Text),  # JSON {grade_id: sha256 of the manually graded answer}
    # the content digest (packing.digest) of the submission the last attempt graded: the
    # record's key with (assignment, student); NULL when that attempt must be repeated
    sa.Column("last_attempt_digest", sa.Text),
)

#: Columns added to ``autograder_result`` after its first release, with their SQL type.
_LATER_COLUMNS = ("notes", "cell_errors", "answers", "last_attempt_digest")

#: Statuses whose attempt is final for its content: anything else (``error``: the sandbox
#: could not start, nothing the student did) is tried again by the next run.
FINAL_STATUSES = STATUSES


@dataclass
class CellResult:
    """One test cell's verdict as stored and exported."""

    grade_id: str
    score: float
    max_score: float
    message: str
    #: the failed misconceptions in case order (``Verdict.categories``), read by `report`
    categories: list[str] = field(default_factory=list)


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
    #: content digest of the graded submission (:func:`packing.digest`), ``None`` if unknown
    digest: str | None = None

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


def is_file_gradebook(course: Path, db_url: str | None = None) -> bool:
    """Is the gradebook ``grade`` would use (``db_url``, else the course config's) a file
    database (SQLite), which one process at a time may set up and write?"""
    import sqlalchemy as sa

    url = driver_url(db_url or course_settings(course)[0])
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def open_gradebook(course: Path, db_url: str | None = None):
    """Open (creating if needed) the course's nbgrader gradebook and our results table.

    ``db_url`` (the CLI's ``--db``) overrides the course config's ``db_url``.
    """
    api = import_nbgrader_api()
    if not getattr(api.get_alembic_version, "__wrapped__", None):
        original = api.get_alembic_version
        head = alembic_head(api)

        def get_alembic_version() -> str:
            return head

        get_alembic_version.__wrapped__ = original
        api.get_alembic_version = get_alembic_version
    config_url, course_id = course_settings(course)
    db_url = driver_url(db_url or config_url)
    with setup_lock(db_url):  # two graders starting at once would both create the tables
        gb = api.Gradebook(db_url, course_id=course_id)
        _metadata.create_all(gb.engine)
        _add_missing_columns(gb.engine)
    return gb


def driver_url(db_url: str) -> str:
    """``db_url`` with psycopg 3 as the driver of a bare ``postgresql://`` URL.

    SQLAlchemy reads a bare ``postgresql://`` as psycopg2, which is not installed; writing
    ``postgresql+psycopg://`` in ``nbgrader_config.py`` lets nbgrader's own tools (``nbgrader
    export``, formgrader) open the same gradebook.
    """
    for bare in ("postgresql://", "postgres://"):
        if db_url.startswith(bare):
            return "postgresql+psycopg://" + db_url[len(bare) :]
    return db_url


#: Key of the PostgreSQL advisory lock that serialises creating tables and assignments.
_SETUP_LOCK = 0x6175746F  # "auto"


@contextlib.contextmanager
def setup_lock(db_url):
    """Hold a PostgreSQL advisory lock while the schema and the assignment are created.

    Graders on several machines may start at once against one gradebook; creating a table
    or an assignment twice would fail in one of them. SQLite serialises writers by itself,
    so this does nothing there.
    """
    if sa.engine.make_url(db_url).get_backend_name() != "postgresql":
        yield
        return
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _SETUP_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _SETUP_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def _add_missing_columns(engine) -> None:
    """Add the columns of ``autograder_result`` that a gradebook written by an older version
    of the grader lacks (``create_all`` creates missing tables, never missing columns)."""
    have = {c["name"] for c in sa.inspect(engine).get_columns(RESULTS.name)}
    with engine.begin() as conn:
        for name in _LATER_COLUMNS:
            if name not in have:
                conn.execute(sa.text(f"ALTER TABLE {RESULTS.name} ADD COLUMN {name} TEXT"))


def ensure_assignment(gb, assignment: str, battery, source_nb: dict | None) -> None:
    """Create the assignment, its notebook and grade cells when missing.

    Test cells come from the battery (``grade_id``, points); manually graded cells and
    solution cells from the source notebook's nbgrader metadata when it is at hand.
    """
    with setup_lock(gb.engine.url):
        _ensure_assignment(gb, assignment, battery, source_nb)


def _ensure_assignment(gb, assignment: str, battery, source_nb: dict | None) -> None:
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


def _ensure_student(db, student: str) -> None:
    """Add nbgrader's ``student`` row unless it exists, in the current transaction.

    Two graders may add one student at once (the same student in two assignments): an
    ``INSERT ... ON CONFLICT DO NOTHING`` lets the second one find the first one's row
    instead of failing on the primary key.
    """
    api = import_nbgrader_api()
    if db.get(api.Student, student) is not None:
        return
    dialect = db.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
        db.execute(insert(api.Student.__table__).values(id=student).on_conflict_do_nothing())
    else:  # pragma: no cover - nbgrader's other databases: one grader at a time
        db.add(api.Student(id=student))
    db.flush()


def _submitted_notebook(gb, assignment: str, student: str, timestamp):
    """Find or build (without committing) the submission structure nbgrader expects."""
    api = import_nbgrader_api()
    db = gb.db
    Comment, Grade = api.Comment, api.Grade
    SubmittedAssignment, SubmittedNotebook = api.SubmittedAssignment, api.SubmittedNotebook
    MissingEntry = api.MissingEntry
    _ensure_student(db, student)
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


def answer_digest(text: str) -> str:
    """SHA-256 (hex) of a written answer's text, by which a regrade sees that it changed."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def written_answers(nb: dict | None) -> dict[str, str] | None:
    """``grade_id -> text`` of the manually graded answers (nbgrader ``grade`` and
    ``solution``) of an autograded copy, or ``None`` when there is no notebook."""
    if not isinstance(nb, dict):
        return None
    out = {}
    for cell in nb.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        gid = meta.get("grade_id")
        if meta.get("grade") and meta.get("solution") and isinstance(gid, str):
            source = cell.get("source", "")
            out.setdefault(gid, "".join(source) if isinstance(source, list) else str(source))
    return out


def _safe_cell_errors(cell_errors: list[dict] | None) -> list[dict]:
    """Only what may be shown: a real cell number and the name of a built-in exception."""
    from autograder.batteries.core import exception_name

    out = []
    for err in (cell_errors or [])[:20]:
        number = err.get("cell") if isinstance(err, dict) else None
        if type(number) is int:  # the sandbox's text is untrusted: numbers and names only
            out.append({"cell": number, "error": exception_name(str(err.get("error")))})
    return out


def record(
    gb,
    result: Result,
    answers: dict[str, str] | None = None,
    cell_errors: list[dict] | None = None,
    force: bool = False,
) -> str:
    """Store ``result`` in one transaction; return what happened ("recorded", "kept
    earlier", or "already recorded").

    The record is keyed by (assignment, student, ``result.digest``): when the last attempt
    recorded for this submission graded the same content, nothing is written ("already
    recorded") unless ``force``; so a retried or rerun grading never records twice. On
    PostgreSQL an advisory lock on (assignment, student) makes the check and the write one
    step for concurrent graders.

    Graded results set each test cell's ``auto_score``. Any other status sets zeros only
    when there is no earlier graded result, so that a crashing resubmission cannot erase a
    grade; the attempt itself is always recorded.

    ``answers`` (``grade_id -> text`` of the manually graded answers, see
    :func:`written_answers`) are digested: an answer whose text differs from the one graded
    by hand before loses that manual score and needs manual grading again (a note says so);
    an ungraded one keeps ``needs_manual_grade``. ``cell_errors`` are kept (cell numbers and
    exception names only) for the feedback page.
    """
    db = gb.db
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    key = {"student_id": result.student, "assignment": result.assignment}
    digest = result.digest if result.status in FINAL_STATUSES else None
    try:
        if db.get_bind().dialect.name == "postgresql":
            # one writer per submission at a time, across processes and machines, until
            # this transaction ends: the digest check below and the write are one step
            db.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": f"{result.assignment}/{result.student}"},
            )
        row = db.execute(
            sa.select(RESULTS).where(
                RESULTS.c.student_id == result.student,
                RESULTS.c.assignment == result.assignment,
            )
        ).first()
        if not force and digest is not None and row is not None:
            if row.last_attempt_digest == digest:  # a retried task, a rerun batch
                db.rollback()
                return "already recorded"
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
                    last_attempt_digest=digest,
                )
            )
            db.commit()
            return "kept earlier"
        old_digests = _json(row.answers, {}) if row is not None else {}
        digests = dict(old_digests)
        if result.status == "missing":  # a known student; nbgrader counts the work as 0
            _ensure_student(db, result.student)
        else:
            sub = _submitted_notebook(gb, result.assignment, result.student, result.timestamp)
            graded = result.status == "graded"
            scores = {t.grade_id: t.score if graded else 0.0 for t in result.tests}
            for snb in sub.notebooks:
                for grade in snb.grades:
                    name = grade.cell.name
                    if name in scores:
                        grade.auto_score = scores[name]
                        grade.needs_manual_grade = False
                    elif answers is not None and name in answers:
                        digests[name] = answer_digest(answers[name])
                        changed = name in old_digests and old_digests[name] != digests[name]
                        if changed and (grade.manual_score is not None or grade.extra_credit):
                            # the extra credit was given for the old text too
                            grade.manual_score = grade.extra_credit = None
                            grade.needs_manual_grade = True
                            result.notes.append(
                                f"the written answer {name} changed since it was graded by "
                                "hand: its manual grade was cleared for grading again"
                            )
                        elif grade.manual_score is None:
                            grade.needs_manual_grade = True
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
            "notes": json.dumps(result.notes),
            "cell_errors": json.dumps(_safe_cell_errors(cell_errors)),
            "answers": json.dumps(digests),
            "last_attempt_digest": digest,
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


def _json(text, default):
    """``json.loads(text)``, or ``default`` when the column is empty or not JSON."""
    if not text:
        return default
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def _well_formed_test(t) -> bool:
    """Is ``t`` a test entry as :func:`record` writes it (``CellResult`` fields, finite
    scores)? A row edited by hand or by another program may hold anything; export, feedback
    and report leave its odd entries out instead of failing on them."""
    if not isinstance(t, dict) or not isinstance(t.get("grade_id"), str):
        return False
    scores = [t.get("score"), t.get("max_score")]
    if not all(type(v) in (int, float) and math.isfinite(v) for v in scores):
        return False
    categories = t.get("categories", [])
    return (
        isinstance(t.get("message"), str)
        and isinstance(categories, list)
        and all(isinstance(c, str) for c in categories)
    )


def recorded_digests(gb, assignment: str) -> dict[str, str]:
    """``student -> content digest`` of the last final attempt recorded for each submission
    of ``assignment`` (see :func:`record`); students without one are absent."""
    query = sa.select(RESULTS.c.student_id, RESULTS.c.last_attempt_digest).where(
        RESULTS.c.assignment == assignment, RESULTS.c.last_attempt_digest.is_not(None)
    )
    return {student: digest for student, digest in gb.db.execute(query).all()}


def stored_results(gb, assignment: str | None = None, student: str | None = None) -> list[dict]:
    """Rows of ``autograder_result`` as dicts (JSON columns decoded), optionally only those
    of one assignment and/or one student."""
    query = sa.select(RESULTS)
    if assignment is not None:
        query = query.where(RESULTS.c.assignment == assignment)
    if student is not None:
        query = query.where(RESULTS.c.student_id == student)
    out = []
    for row in gb.db.execute(query).mappings().all():
        item = dict(row)
        item["tests"] = [t for t in _json(item["tests"], []) if _well_formed_test(t)]
        item["notes"] = _json(item.get("notes"), [])
        item["cell_errors"] = _json(item.get("cell_errors"), [])
        item["answers"] = _json(item.get("answers"), {})
        out.append(item)
    return out


@dataclass
class Entry:
    """One graded cell of a submission as export and feedback show it.

    ``kind`` is ``"auto"`` (a test cell, scored by the sandboxed grader) or ``"manual"``
    (a written answer or other manually graded cell). ``score`` is what counts: for a test
    cell the score the grader wrote, unless the instructor overrode it by hand in the
    formgrader; for a manual cell the manual score (0 while ``pending``). ``flag`` says why
    the gradebook disagrees with what the grader wrote (empty when it agrees).
    """

    grade_id: str
    kind: str
    score: float
    max_score: float
    pending: bool
    message: str = ""
    comment: str = ""
    flag: str = ""


def _grades_by_cell(sub) -> tuple[dict, dict]:
    """``grade_id -> Grade`` and ``grade_id -> Comment`` of a submission (first notebook wins)."""
    grades, comments = {}, {}
    if sub is not None:
        for nb in sub.notebooks:
            for grade in nb.grades:
                grades.setdefault(grade.cell.name, grade)
            for comment in nb.comments:
                comments.setdefault(comment.cell.name, comment)
    return grades, comments


def entries(row: dict | None, sub, assignment) -> list[Entry]:
    """The graded cells of one submission: the grader's tests first (in the battery's
    order), then the manually graded cells (by name).

    ``row`` is the submission's :func:`stored_results` row (``None`` if the grader never
    recorded one), ``sub`` nbgrader's ``SubmittedAssignment`` (``None`` if missing) and
    ``assignment`` nbgrader's ``Assignment``. A test cell whose ``auto_score`` in the
    gradebook is not the score the grader wrote is flagged; the grader's score counts.
    """
    grades, comments = _grades_by_cell(sub)
    out: list[Entry] = []
    graded = row is not None and row["status"] == "graded"
    written = {}
    for t in (row or {}).get("tests", []):
        written[t["grade_id"]] = float(t["score"]) if graded else 0.0
        grade = grades.get(t["grade_id"])
        score, flag = written[t["grade_id"]], ""
        if grade is not None:
            auto = grade.auto_score
            if auto is None or abs(float(auto) - score) > 1e-9:
                flag = (
                    f"{t['grade_id']}: the gradebook holds {auto} but the sandboxed grader "
                    f"wrote {score:g} (was nbgrader's autograde run?); {score:g} is used"
                )
            if grade.manual_score is not None:  # the instructor's override in formgrader
                score = float(grade.manual_score) + float(grade.extra_credit or 0.0)
        max_score = float(t["max_score"])
        out.append(Entry(t["grade_id"], "auto", score, max_score, False, t["message"], flag=flag))
    for nb in sorted(assignment.notebooks, key=lambda n: n.name):
        # nbgrader keeps no cell position; sorting by name gives every database one order
        answers = {c.name for c in nb.solution_cells}  # a graded answer: grade + solution
        for cell in sorted(nb.grade_cells, key=lambda c: c.name):
            if cell.name in written:
                continue
            grade = grades.get(cell.name)
            if cell.name not in answers:  # a test cell the grader has not scored: 0
                auto = None if grade is None else grade.auto_score
                flag = "" if auto is None else f"{cell.name}: scored {auto} by something else"
                max_score = float(cell.max_score or 0.0)
                out.append(Entry(cell.name, "auto", 0.0, max_score, False, "not graded", flag=flag))
                continue
            comment = comments.get(cell.name)
            manual = None if grade is None else grade.manual_score
            auto = None if grade is None else grade.auto_score
            # nbgrader counts auto_score while there is no manual score; the grader never
            # writes one for a written answer, so one there came from something else
            flag = f"{cell.name}: scored {auto} by something else (not counted)" if auto else ""
            score = 0.0 if manual is None else float(manual) + float(grade.extra_credit or 0.0)
            out.append(
                Entry(
                    cell.name,
                    "manual",
                    score,
                    float(cell.max_score or 0.0),
                    manual is None,
                    "awaiting manual grading" if manual is None else "graded by hand",
                    (comment.manual_comment or "") if comment is not None else "",
                    flag=flag,
                )
            )
    return out


def comments_on_answers(sub) -> dict[str, str]:
    """``grade_id -> instructor's comment`` on the answer cells (code included) of a
    submission, for the feedback page."""
    _, comments = _grades_by_cell(sub)
    return {name: c.manual_comment for name, c in comments.items() if c.manual_comment}
