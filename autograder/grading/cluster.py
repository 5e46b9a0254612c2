"""``grade --scheduler tcp://HOST:PORT``: one Dask task per submission, graded in the sandbox.

The coordinator (the machine running ``grade``) reads each submission folder
(:func:`packing.pack`) and sends its files with the task; a worker writes them into a
private course folder of its own, grades them with :func:`engine.grade_one` in the same
sandbox as a local run, and sends the :class:`~autograder.grading.engine.Outcome` back. The
coordinator alone records results: the task carries the assignment, the student id, the
files and the limits, never the gradebook's URL or credentials, so no worker (let alone
student code) sees them.

A worker whose machine cannot isolate student code (no user namespaces and not root, or
an unsafe folder layout) raises :class:`SandboxRefused` with the reason instead of
grading; it never runs student code unsandboxed unless the operator passed ``--unsafe``.

Faults: when a worker dies mid-task, the scheduler runs the task again on another worker;
the coordinator records each submission once, from the first result it receives (and the
gradebook's digest check refuses a second record of the same content). A submission
folder that cannot be packed (a link, a subfolder, a file over the size limit) is graded
on the coordinator, in its own sandbox.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from autograder.grading import notebook, packing, sandbox

#: Attempts of one task after the first when its worker dies (Dask's own retry).
RETRIES = 2
#: Seconds to wait for the scheduler before giving up with an operator error.
CONNECT_TIMEOUT_S = 20


class SandboxRefused(RuntimeError):
    """A worker that cannot isolate student code declines the task (the message says why)."""


_local = threading.local()  # per Dask worker thread: its sandbox and scratch folder
_SLOTS = itertools.count(1000)  # sandbox slots of this worker process (uids are leased)


def _sandbox_worker() -> sandbox.Worker:
    """This thread's pre-started sandbox worker (kept across tasks: starting one costs)."""
    worker = getattr(_local, "worker", None)
    if worker is None:
        scratch = Path(tempfile.mkdtemp(prefix="autograder-worker-"))
        worker = _local.worker = sandbox.Worker(next(_SLOTS), scratch)
    return worker


_REFUSAL: dict[bool, str | None] = {}  # unsafe -> why this worker refuses, probed once
_REFUSAL_LOCK = threading.Lock()


def refusal(course: Path, unsafe: bool) -> str | None:
    """Why this worker must not grade (see :func:`grade.sandbox_refusal`), or ``None``.

    The probe forks a child that tries to build a private file system; it runs once per
    worker process (the machine does not change between tasks).
    """
    from autograder.grading.grade import sandbox_refusal

    with _REFUSAL_LOCK:
        if unsafe not in _REFUSAL:
            _REFUSAL[unsafe] = sandbox_refusal(course, unsafe)
        return _REFUSAL[unsafe]


def grade_task(assignment: str, student: str, files: dict[str, bytes], limits: sandbox.Limits):
    """Grade one packed submission on a Dask worker and return its ``Outcome``.

    Runs on the worker. Raises :class:`SandboxRefused` when student code could not be
    isolated here.
    """
    from autograder.grading import engine

    course = Path(tempfile.mkdtemp(prefix="autograder-course-"))
    try:
        problem = refusal(course, limits.unsafe)
        if problem:
            raise SandboxRefused(f"worker {socket.gethostname()} refused to grade: {problem}")
        packing.unpack(files, course, student, assignment)
        worker = _sandbox_worker()
        return engine.grade_one(course, assignment, student, worker, limits)
    finally:
        shutil.rmtree(course, ignore_errors=True)


def grade(scheduler: str, course: Path, assignment: str, students: list[str], limits):
    """Outcomes of ``students`` graded on the Dask cluster at ``scheduler``, as they finish.

    Yields one outcome per student. A task that failed for good (every worker refused it,
    or it killed its workers) becomes an ``error`` outcome with the reason, to be graded
    again by the next run.
    """
    from distributed import Client, as_completed

    from autograder.batteries import load
    from autograder.grading import engine
    from autograder.grading.gradebook import Result

    if not students:
        return
    here: list[str] = []  # folders that cannot be packed: graded by the coordinator
    with Client(scheduler, timeout=CONNECT_TIMEOUT_S) as client:
        futures = {}
        for student in students:
            try:
                folder = notebook.submission_folder(course, student, assignment)
                files = packing.pack(folder)
            except (notebook.Ungradable, OSError):
                files = None
            if files is None:
                here.append(student)
                continue
            future = client.submit(
                grade_task,
                assignment,
                student,
                files,
                limits,
                key=f"grade-{assignment}-{student}",
                pure=False,
                retries=RETRIES,
            )
            futures[future] = student
        for future in as_completed(futures):
            student = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # refused everywhere, or it kept killing workers
                reason = f"no worker graded it: {exc.__class__.__name__}: {exc}"
                result = Result(student, assignment, "error", reason)
                result.tests = engine._zero(load(assignment), f"not graded: {reason}")
                outcome = engine.Outcome(result, retry=True)
            future.release()
            yield outcome
    if here:
        yield from engine._grade_locally(course, assignment, here, 1, limits)
