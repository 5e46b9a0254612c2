"""Grade every submission of one assignment: read, sandbox, judge, record, feed back.

Per submission (:func:`grade_one`): read the notebook (:mod:`~autograder.grading.notebook`),
refuse forbidden imports statically, run the code and the battery's cases in the sandbox
(:mod:`~autograder.grading.sandbox`), and judge every test with ``Battery.judge`` here, in
the grader. ``--jobs N`` runs N sandbox workers in threads; the gradebook and the feedback
files are written by the calling thread only, one transaction per submission, so a
failure in one submission touches nothing else.

Nothing a student can put in ``submitted/`` stops the batch: each student's steps (read,
run, record, feedback, autograded copy) are isolated, so a bad file, a bad folder name or
a result that cannot be read becomes that student's status or error line with a plain
reason, and every other student is graded. Student ids that could not name a folder
safely (``..``, control characters, a leading dot) are reported and never used as paths.
"""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import json
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batteries import find_forbidden_imports, load
from autograder.batteries.core import Verdict
from autograder.grading import feedback, gradebook, magics, notebook, packing, sandbox, sanitize
from autograder.grading.gradebook import CellResult, Result
from autograder.grading.sanitize import file_name, printable, shorten


@dataclass
class Outcome:
    """A graded submission plus what only the report and the feedback need."""

    result: Result
    cell_errors: list[dict] = field(default_factory=list)
    features: dict = field(default_factory=dict)
    sandbox_notes: list[str] = field(default_factory=list)
    action: str = ""  # what the gradebook write did: "recorded", "kept earlier", or an error
    notebook: dict | None = None  # the submission as read (see autograded_copy)
    errors: list[str] = field(default_factory=list)  # files that could not be written
    #: not the submission's doing (a grader bug, a sandbox that could not start): the next
    #: run grades it again even if it is unchanged
    retry: bool = False


def packages_for(battery) -> list[str]:
    """The packages the sandbox exposes for ``battery``: its ``allowed`` list (and SymPy for
    SymPy answers), minus anything it forbids."""
    names = set(getattr(battery, "allowed", ("numpy",))) | {"numpy"}
    if any(t.protocol == "sympy" for t in battery.tests):
        names.add("sympy")
    forbidden = set(getattr(battery, "forbidden_imports", ()))
    return sorted(n for n in names if n not in forbidden or n == "numpy")


def _defined_functions(tree: ast.Module) -> set[str]:
    """Names of the functions a parsed cell defines at top level."""
    return {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def forbidden_by_function(battery, cells: list[notebook.Cell]) -> dict[str, list[str]]:
    """Map each graded function to the forbidden modules its own cell imports.

    Each cell is parsed once, and only by :func:`~autograder.grading.magics.parse` (a cell
    too deep to parse defines nothing the grader can see; it fails in the sandbox).
    """
    trees = [magics.parse(cell.source) for cell in cells]
    found: dict[str, list[str]] = {}
    for test in battery.tests:
        for cell, tree in zip(cells, trees, strict=True):
            if tree is None:
                continue
            if cell.grade_id == test.function or test.function in _defined_functions(tree):
                modules = find_forbidden_imports(cell.source, battery.forbidden_imports)
                found.setdefault(test.function, [])
                found[test.function] += [m for m in modules if m not in found[test.function]]
    return {k: v for k, v in found.items() if v}


#: Years a ``timestamp.txt`` may give; anything else is reported and ignored.
TIMESTAMP_YEARS = (2000, 2100)
#: Largest ``timestamp.txt`` read (nbgrader's is 33 bytes).
MAX_TIMESTAMP_BYTES = 256


def _timestamp(folder: Path) -> tuple[dt.datetime | None, str | None]:
    """nbgrader's ``timestamp.txt`` of a submission (ISO 8601, UTC when naive) and, when it
    is present but not used, the reason why.

    nbgrader writes ``2026-11-21 20:00:00.000000 UTC``; an explicit offset is converted.
    The file is whatever the collection step left (``nbgrader collect``, an LMS export): it
    is read like any other submitted file (never through a link, at most 256 bytes) and
    parsed defensively, since it can be garbage, not UTF-8, or a year such as 1 or 9999.
    """
    try:
        raw = notebook.read_regular_file(folder, notebook.TIMESTAMP_FILE, MAX_TIMESTAMP_BYTES)
    except notebook.Missing:  # pragma: no cover - the folder was just opened
        return None, None
    except notebook.Ungradable as exc:
        return None, f"timestamp.txt ignored: {exc}"
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"timestamp.txt ignored: it could not be read ({exc.strerror})"
    try:
        text = raw.decode("utf-8").strip().removesuffix(" UTC")
    except UnicodeDecodeError:
        return None, "timestamp.txt ignored: it is not UTF-8 text"
    try:
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        shown = shorten(printable(text), 40)
        return None, f"timestamp.txt ignored: not an ISO 8601 time ('{shown}')"
    low, high = TIMESTAMP_YEARS
    if not low <= stamp.year <= high:
        return None, f"timestamp.txt ignored: the year {stamp.year} is not plausible"
    return stamp, None


def _zero(battery, message: str) -> list[CellResult]:
    return [CellResult(t.grade_id, 0.0, float(t.points), message) for t in battery.tests]


def grade_one(
    course: Path,
    assignment: str,
    student: str,
    worker: sandbox.Worker,
    limits: sandbox.Limits,
) -> Outcome:
    """Grade one student's submission; never raises for anything the student did."""
    battery = load(assignment)
    result = Result(student=student, assignment=assignment, status="graded")
    try:
        folder = notebook.submission_folder(course, student, assignment)
    except notebook.Missing:
        result.status, result.reason = "missing", "no submission folder"
        result.tests = _zero(battery, "no submission")
        return Outcome(result)
    except notebook.Ungradable as exc:
        result.status, result.reason = "ungradable", str(exc)
        result.tests = _zero(battery, f"not graded: {exc}")
        return Outcome(result)
    result.timestamp, stamp_note = _timestamp(folder)
    result.notes = [stamp_note] if stamp_note else []
    try:
        sub = notebook.read_submission(folder, assignment, set(battery.grade_ids))
    except notebook.Ungradable as exc:
        result.status, result.reason = "ungradable", str(exc)
        result.tests = _zero(battery, f"not graded: {exc}")
        return Outcome(result)
    except OSError as exc:
        reason = f"the notebook could not be read ({exc.strerror or exc.__class__.__name__})"
        result.status, result.reason = "ungradable", reason
        result.tests = _zero(battery, "not graded: the notebook could not be read")
        return Outcome(result)
    result.notes = [*sub.notes, *result.notes]
    job_dir = sandbox.new_job_dir(worker.scratch, f"job-{worker.slot}-{next(_JOB_NUMBERS)}")
    try:
        sandbox.write_job(
            job_dir,
            [(c.number, c.source) for c in sub.cells],
            list(battery.tests),
            packages_for(battery),
            limits,
            worker.slot,
        )
        run = worker.run(job_dir, list(battery.tests), limits)
    except sandbox.SandboxError as exc:  # no uid, no slot: not the student's doing
        result.status, result.reason = "error", f"the sandbox could not start: {exc}"
        result.tests = _zero(battery, f"not graded: {result.reason}")
        return Outcome(result, notebook=None, retry=True)
    except Exception as exc:  # a result the grader could not read back (MemoryError...)
        worker.stop()  # a fresh worker for the next student
        result.status = "crashed"
        result.reason = f"the sandbox's results could not be read back ({exc.__class__.__name__})"
        result.tests = _zero(battery, f"not graded: {result.reason}")
        return Outcome(result, notebook=None)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    outcome = Outcome(
        result,
        run.cell_errors,
        run.features,
        [*run.notes, *_missing_features(run.features)],
        notebook=sub.notebook,
    )
    for err in run.cell_errors:
        if "ModuleNotFoundError" in str(err.get("error")):
            allowed = ", ".join(packages_for(battery))
            result.notes.append(
                f"code cell {err.get('cell')}: only these packages exist while grading: {allowed}"
            )
            break
    if run.status != "exited" or not run.test_status:
        result.status = {"timeout": "timeout", "error": "error"}.get(run.status, "crashed")
        result.reason = _run_reason(run, limits)
        result.tests = _zero(battery, f"not graded: {result.reason}")
        return outcome
    forbidden = forbidden_by_function(battery, sub.cells)
    for test in battery.tests:
        if test.function in forbidden:
            verdict = Verdict(
                0.0,
                float(test.points),
                battery.forbidden_message(forbidden[test.function]),
                ("forbidden",),
            )
        else:
            verdict = battery.judge(test, run.outcomes[test.grade_id])
        result.tests.append(
            CellResult(
                test.grade_id,
                float(verdict.score),
                float(verdict.max_score),
                verdict.message,
                list(verdict.categories),  # for `report`: what the class got wrong
            )
        )
    return outcome


def _run_reason(run: sandbox.RunResult, limits: sandbox.Limits) -> str:
    if run.status == "timeout" and "CPU" in run.detail:
        return "the sandbox's processes together used more CPU time than the limits allow"
    if run.status == "timeout":
        return (
            f"the notebook's code did not finish within {limits.wall_s:g} s "
            "(an endless loop or a long sleep at the top level of a cell?)"
        )
    if run.status == "crashed":
        return f"the notebook's code crashed the grading process ({run.detail})"
    if run.status == "exited":
        return (
            f"the notebook's code ended the process before the tests ran ({run.detail}): "
            "remove calls such as os._exit() or os.kill()"
        )
    if run.status == "error" and run.detail and "Traceback" not in run.detail:
        return f"the sandbox could not start: {run.detail.strip()[:300]}"
    return f"the sandbox failed: {run.detail.strip().splitlines()[-1] if run.detail else '?'}"


def _missing_features(features: dict) -> list[str]:
    names = {
        "mount_namespace": "private file system (mount namespace)",
        "network_namespace": "no network (network namespace)",
        "pid_namespace": "private process table (PID namespace)",
        "user_switch": "unprivileged user for student code",
    }
    if features.get("user_namespace"):  # its own user namespace stands for a uid of its own
        names.pop("user_switch")
    return [f"unavailable: {text}" for key, text in names.items() if features.get(key) is False]


#: Job directory names: never derived from a student id.
_JOB_NUMBERS = itertools.count()


def discover_students(course: Path, assignment: str) -> list[str]:
    """Names in ``submitted/`` that hold an ``<assignment>`` entry, sorted.

    Links and names that are not plain ids are included on purpose: grading reports them
    (as refused or not a plain id) instead of skipping a student silently.
    """
    root = course / "submitted"
    if not root.is_dir():
        return []
    with os.scandir(root) as entries:
        return sorted(e.name for e in entries if os.path.lexists(os.path.join(e.path, assignment)))


def grade_assignment(
    course: Path,
    assignment: str,
    students: list[str] | None = None,
    jobs: int = 1,
    limits: sandbox.Limits | None = None,
    on_result: Callable[[Outcome, str], None] | None = None,
    *,
    db_url: str | None = None,
    force: bool = False,
    scheduler: str | None = None,
    on_skip: Callable[[list[str]], None] | None = None,
) -> list[Outcome]:
    """Grade ``students`` (default: every submitter) and record each result as it arrives.

    A submission whose content digest (:func:`packing.digest`) is the one its last final
    attempt recorded is skipped (``on_skip`` gets their ids) unless ``force``. ``db_url``
    overrides the course's gradebook; ``scheduler`` (``tcp://HOST:PORT``) grades on a Dask
    cluster (:mod:`~autograder.grading.cluster`) instead of ``jobs`` local sandboxes. The
    results are recorded here, by the coordinator, one transaction per submission.
    """
    limits = limits or sandbox.Limits()
    battery = load(assignment)
    students = list(dict.fromkeys(students or discover_students(course, assignment)))
    outcomes: list[Outcome] = []
    for s in (s for s in students if not notebook.is_plain_id(s)):
        outcome = Outcome(
            Result(s, assignment, "ungradable", f"not a plain student id: {file_name(s)}")
        )
        outcome.action = "NOT RECORDED: the folder name is not a plain student id (rename it)"
        outcomes.append(outcome)
        if on_result:
            on_result(outcome, outcome.action)
    students = [s for s in students if notebook.is_plain_id(s)]
    gb = gradebook.open_gradebook(course, db_url)
    try:
        source = _source_notebook(course, assignment)
        gradebook.ensure_assignment(gb, assignment, battery, source)
        digests = {s: packing.digest(course, s, assignment) for s in students}
        if not force:
            recorded = gradebook.recorded_digests(gb, assignment)
            skipped = [s for s in students if recorded.get(s) == digests[s]]
            students = [s for s in students if recorded.get(s) != digests[s]]
            if skipped and on_skip:
                on_skip(skipped)
        if scheduler:
            from autograder.grading import cluster

            results = cluster.grade(scheduler, course, assignment, students, limits)
        else:
            results = _grade_locally(course, assignment, students, jobs, limits)
        for outcome in results:
            if not outcome.retry:
                outcome.result.digest = digests.get(outcome.result.student)
            _finish(course, gb, outcome, source, force)
            outcomes.append(outcome)
            if on_result:
                on_result(outcome, outcome.action)
    finally:
        gb.close()
    return outcomes


def _grade_locally(course, assignment, students, jobs, limits):
    """Outcomes of ``students`` graded by ``jobs`` sandbox workers in threads, as they
    finish."""
    if not students:
        return
    scratch = Path(tempfile.mkdtemp(prefix="autograder-"))
    todo: queue.Queue = queue.Queue()
    for s in students:
        todo.put(s)
    done: queue.Queue = queue.Queue()
    try:
        jobs = max(1, min(jobs, len(students)))
        threads = [
            threading.Thread(
                target=_serve,
                args=(course, assignment, slot, scratch, limits, todo, done),
                daemon=True,
            )
            for slot in range(jobs)
        ]
        for t in threads:
            t.start()
        for _ in students:
            yield done.get()
        for t in threads:
            t.join()
    finally:
        with todo.mutex:  # on an interrupt, let the worker threads stop after their job
            todo.queue.clear()
        shutil.rmtree(scratch, ignore_errors=True)


def _finish(course: Path, gb, outcome: Outcome, source: dict | None, force: bool = False) -> None:
    """Record one outcome, then write its autograded copy and its feedback page: each step
    on its own, so that a failure is that student's error line and the batch goes on.

    The copy for nbgrader's formgrader is built first, since the written answers it holds
    are recorded with the result (a changed answer loses a stale manual grade); it is
    written for crashed and timed-out submissions too. The feedback page is rebuilt from the
    gradebook, so after a failed regrade it shows the result that was kept.
    """
    r = outcome.result
    copy = None
    if outcome.notebook:
        try:
            copy = autograded_copy(outcome.notebook, source, r)
        except Exception as exc:
            outcome.errors.append(f"autograded copy not built ({exc.__class__.__name__})")
    try:
        answers = gradebook.written_answers(copy)
        action = gradebook.record(gb, r, answers, outcome.cell_errors, force=force)
    except Exception as exc:
        action = f"NOT RECORDED: {exc.__class__.__name__}: {shorten(printable(str(exc)), 200)}"
    outcome.action = action
    if action == "kept earlier":
        r.notes.append("an earlier graded result was kept (this attempt failed)")
    if action == "recorded" and copy is not None:
        try:
            _write_autograded(course, r, copy)
        except Exception as exc:
            outcome.errors.append(f"autograded copy not written ({exc.__class__.__name__})")
    if action in ("recorded", "kept earlier") and r.status != "missing":
        try:
            feedback.write_from_gradebook(gb, course, r.assignment, r.student)
        except Exception as exc:
            outcome.errors.append(f"feedback not written ({exc.__class__.__name__})")


def _write_autograded(course: Path, result: Result, copy: dict) -> None:
    """Keep the graded notebook where nbgrader's formgrader looks for it
    (``autograded/<student>/<a>/<a>.ipynb``), for the manual grading of written answers.

    What is written is :func:`autograded_copy`, never the submission as read. It is written
    for crashed and timed-out submissions too (their tests show why they scored 0), so that
    their written answers can still be graded by hand.
    """
    folder = course / "autograded" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(copy, indent=1, ensure_ascii=False)
    (folder / f"{result.assignment}.ipynb").write_text(text, encoding="utf-8")


def autograded_copy(submitted: dict, source: dict | None, result: Result | None = None) -> dict:
    """The notebook the instructor sees in nbgrader's formgrader, built like nbgrader's own
    ``autograde`` (OverwriteCells, ClearOutput) but stricter, since the page renders as HTML
    in the instructor's browser and nothing in a submission is trusted:

    - every cell is rebuilt from its type and source alone: no outputs (a stored
      ``display_data`` with ``<script>``, a forged "passed"), no execution counts, no
      attachments, no metadata except nbgrader's;
    - a cell whose ``grade_id`` is a test or locked cell of ``source`` is the source's cell
      (hidden tests included: the copy is for the instructor), and such a cell the student
      deleted is put back after the source cell it follows (a deleted manually graded
      answer comes back empty);
    - an answer cell (``solution``) keeps the student's source under the source's nbgrader
      metadata and cell type, so the formgrader finds it by ``grade_id`` with the
      instructor's points;
    - any other test-like cell (a duplicate or invented ``grade_id``, hidden-test markers)
      is dropped: the grader never ran it; other cells are kept without nbgrader metadata;
    - in the student's Markdown (and raw cells, written as Markdown) a space is put after each
      ``<`` that could open an HTML tag, so no raw HTML reaches the page (the formgrader's
      template does not sanitise Markdown); the text reads the same and TeX ignores spaces;
    - with ``result``, each test cell the grader judged gets one output, the grader's verdict
      (``sandboxed grader: 0 / 2`` and the message, on stderr when points were lost), so the
      formgrader shows why a cell scored what it did. The messages are the batteries' own
      text (no student text, no hidden input).
    """
    source = source if isinstance(source, dict) else {}
    linked: dict[str, dict] = {}  # grade_id -> the source's cell (first occurrence)
    for cell in _cells(source):
        gid = _grade_id(cell)
        if gid is not None:
            linked.setdefault(gid, cell)
    fixed = {gid for gid, cell in linked.items() if _is_fixed(cell)}
    out: list[tuple[str | None, dict]] = []  # (grade_id of the source cell it stands for, cell)
    for cell in _cells(submitted):
        gid = _grade_id(cell)
        if gid in linked and gid not in {g for g, _ in out}:
            if gid in fixed:
                out.append((gid, _rebuilt(linked[gid], trusted=True)))
            else:
                answer = dict(cell, cell_type=linked[gid].get("cell_type"))
                answer["metadata"] = {"nbgrader": linked[gid]["metadata"]["nbgrader"]}
                out.append((gid, _rebuilt(answer, trusted=False)))
        elif not notebook.is_test_cell(cell, fixed):
            out.append((None, _rebuilt(dict(cell, metadata={}), trusted=False)))
    present = {g for g, _ in out}
    anchor = -1  # index in out of the last source cell with a grade_id placed so far
    between: set[str] = set()  # texts of the source's other cells since then
    for cell in _cells(source):
        gid = _grade_id(cell)
        if gid is None or linked[gid] is not cell:
            between.add(_rebuilt(cell, trusted=False)["source"])
            continue
        if gid in present:
            anchor = next(i for i, (g, _) in enumerate(out) if g == gid)
        elif gid in fixed or _nbgrader_meta(cell).get("grade"):
            # a missing manually graded answer comes back empty, so it can be given 0
            missing = cell if gid in fixed else dict(cell, source="")
            anchor += 1  # after the previous graded cell and the unchanged cells following it
            while (
                anchor < len(out) and out[anchor][0] is None and out[anchor][1]["source"] in between
            ):
                anchor += 1
            out.insert(anchor, (gid, _rebuilt(missing, trusted=True)))
        between = set()
    if result is not None:
        verdicts = {t.grade_id: t for t in result.tests}
        for gid, cell in out:
            if gid in verdicts and cell["cell_type"] == "code":
                cell["outputs"] = [_verdict_output(verdicts[gid])]
    meta = source.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return {
        "cells": [cell for _, cell in out],
        "metadata": {k: meta[k] for k in ("kernelspec", "language_info") if k in meta},
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def _verdict_output(verdict: CellResult) -> dict:
    """The stream output that shows the grader's verdict on a test cell in the formgrader."""
    lost = verdict.score < verdict.max_score
    text = f"sandboxed grader: {verdict.score:g} / {verdict.max_score:g}"
    text += f"\n{verdict.message}\n" if verdict.message else "\n"
    return {"output_type": "stream", "name": "stderr" if lost else "stdout", "text": text}


def _cells(nb: dict) -> list[dict]:
    cells = nb.get("cells")
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _grade_id(cell: dict) -> str | None:
    gid = _nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def _is_fixed(cell: dict) -> bool:
    """Is this source cell one the student may not change (a test cell, a locked cell)?"""
    meta = _nbgrader_meta(cell)
    return not meta.get("solution") and bool(meta.get("grade") or meta.get("locked"))


def _rebuilt(cell: dict, *, trusted: bool) -> dict:
    """A fresh nbformat-4 cell from ``cell``'s type, source and nbgrader metadata only.

    Untrusted Markdown goes through :func:`~autograder.grading.sanitize.markdown`: besides
    raw HTML, no ``javascript:`` (or other non-web) link, no image but an inline
    ``data:image``, no ``\\href`` in math reaches the formgrader's page.
    """
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    source = source if isinstance(source, str) else ""
    nbg = _nbgrader_meta(cell)
    metadata = {"nbgrader": dict(nbg)} if nbg else {}
    if cell.get("cell_type") == "code":
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": metadata,
            "outputs": [],
            "source": source,
        }
    if not trusted:
        source = sanitize.markdown(source)
    return {"cell_type": "markdown", "metadata": metadata, "source": source}


def _serve(course, assignment, slot, scratch, limits, todo: queue.Queue, done: queue.Queue):
    """One worker thread: grade students from ``todo`` until it is empty."""
    worker = sandbox.Worker(slot, scratch)
    try:
        while True:
            try:
                student = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put(grade_one(course, assignment, student, worker, limits))
            except Exception as exc:  # a grader bug: reported, and the batch goes on
                battery = load(assignment)
                reason = f"internal grader error ({exc.__class__.__name__}): please report it"
                result = Result(student, assignment, "crashed", reason)
                result.tests = _zero(battery, "not graded: internal grader error")
                done.put(Outcome(result, retry=True))
    finally:
        worker.stop()


def _source_notebook(course: Path, assignment: str) -> dict | None:
    """The instructor's source notebook (for manually graded cells), if present."""
    for path in (
        course / "source" / assignment / f"{assignment}.ipynb",
        Path(__file__).resolve().parents[2] / "solutions" / assignment / f"{assignment}.ipynb",
    ):
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                return None
    return None
