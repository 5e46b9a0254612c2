"""`grade --scheduler`: a real Dask scheduler and two real workers on 127.0.0.1 grade a small
class into PostgreSQL; the scores equal a local run's, and a worker killed with SIGKILL in
the middle of the batch loses nothing and records nothing twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    REPO,
    battery,
    correct_notebook,
    notebook,
    run_cli,
    submit,
)

pytestmark = pytest.mark.slow

WRONG_ENTROPY = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"
#: A correct notebook whose top-level code sleeps: the batch is still running when the
#: test kills a worker.
SLOW = ["import time\ntime.sleep(4)"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])


def _dask(*args) -> subprocess.Popen:
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    return subprocess.Popen(
        [dask, *args],
        cwd=REPO,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def cluster():
    """(scheduler address, {worker name: process}) of a fresh local cluster; workers run
    without a nanny, so SIGKILL ends one for good, as when its machine dies."""
    pytest.importorskip("distributed", reason="Dask distributed is not installed")
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1])]
    workers = {}
    try:
        for name in ("w1", "w2"):
            workers[name] = _dask(
                "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                "--no-dashboard",
            )  # fmt: skip
            procs.append(workers[name])
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _class(course):
    submit(course, "alice", correct_notebook())
    submit(course, "bob", notebook(replace={"entropy": WRONG_ENTROPY}, drop_tests=True))
    submit(course, "carol", notebook(drop_tests=True, append=SLOW))
    submit(course, "dave", notebook(drop_tests=True, append=["import os\nos._exit(3)"]))


def _export(course, db) -> dict[str, dict]:
    proc = run_cli("export", "--course", str(course), "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = [r for r in json.loads(proc.stdout) if r["assignment"] == ASSIGNMENT]
    return {r["student"]: (r["status"], r["score"], [t["score"] for t in r["tests"]]) for r in rows}


def _local_reference(tmp_path) -> dict[str, tuple]:
    course = tmp_path / "local"
    _class(course)
    db = f"sqlite:///{tmp_path / 'local.db'}"
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--db", db, "--jobs", "2",
                   *FAST_LIMITS)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _export(course, db)


def _summary_rows(out: str) -> dict[str, int]:
    """student -> how many rows of grade's summary table name it (one per recording)."""
    counts: dict[str, int] = {}
    for line in out.splitlines():
        word = line.split(" ", 1)[0]
        if word and word not in ("student", "sandbox:", "limits") and word[0] not in "-0123456789":
            counts[word] = counts.get(word, 0) + 1
    return counts


def test_cluster_grades_like_a_local_run(tmp_path, cluster, pg_url):
    """Does grading on a two-worker Dask cluster record the same statuses and scores as a
    local run, each submission once, and then skip them all on a rerun?"""
    address, _ = cluster
    course = tmp_path / "course"
    _class(course)
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--db", pg_url,
                   "--scheduler", address, *FAST_LIMITS)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"on {address}" in proc.stdout
    got = _export(course, pg_url)
    assert got == _local_reference(tmp_path)
    assert got["alice"][1] == battery().max_score and got["dave"][0] == "ungradable"
    assert _summary_rows(proc.stdout) == dict.fromkeys(("alice", "bob", "carol", "dave"), 1)
    assert (course / "feedback" / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    again = run_cli("grade", ASSIGNMENT, "--course", str(course), "--db", pg_url,
                    "--scheduler", address, *FAST_LIMITS)  # fmt: skip
    assert "4 submission(s) unchanged" in again.stdout, again.stdout + again.stderr


def test_killed_worker_loses_nothing(tmp_path, cluster, pg_url):
    """When a worker is killed with SIGKILL while it grades, is every submission still
    recorded exactly once, with the scores of a local run?"""
    from distributed import Client

    address, workers = cluster
    course = tmp_path / "course"
    _class(course)
    for k in range(4):  # more slow work, so the batch outlives the kill
        submit(course, f"slow{k}", notebook(drop_tests=True, append=SLOW))
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(course),
         "--db", pg_url, "--scheduler", address, *FAST_LIMITS],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with Client(address, timeout=60) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until w1 is grading a submission
            by_name = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
            if client.processing().get(by_name.get("w1")):
                break
            time.sleep(0.2)
        else:
            pytest.fail("worker w1 never received a task")
    workers["w1"].send_signal(signal.SIGKILL)
    out, err = grader.communicate(timeout=600)
    assert grader.returncode == 0, out + err
    got = _export(course, pg_url)
    reference = _local_reference(tmp_path)
    slow_reference = reference["carol"]
    assert {s: got[s] for s in reference} == reference
    assert all(got[f"slow{k}"] == slow_reference for k in range(4))
    students = ["alice", "bob", "carol", "dave", *(f"slow{k}" for k in range(4))]
    assert _summary_rows(out) == dict.fromkeys(students, 1)
    assert "already recorded" not in out


def test_worker_that_cannot_isolate_refuses_without_running_code(tmp_path, monkeypatch):
    """Does a worker whose machine cannot isolate student code raise SandboxRefused with
    the reason, without starting a sandbox (so no student code runs unsandboxed)?"""
    from autograder.grading import cluster, packing, sandbox

    monkeypatch.setattr(cluster, "_REFUSAL", {})
    monkeypatch.setattr(sandbox, "isolation_problem", lambda: "no user namespaces")

    def never(*args, **kwargs):
        raise AssertionError("a sandbox was started on a refusing worker")

    monkeypatch.setattr(sandbox.Worker, "run", never)
    monkeypatch.setattr(sandbox.Worker, "start", never)
    folder = submit(tmp_path / "course", "alice", correct_notebook())
    with pytest.raises(cluster.SandboxRefused, match="no user namespaces"):
        cluster.grade_task(ASSIGNMENT, "alice", packing.pack(folder), sandbox.Limits())


def test_task_carries_no_database_url(tmp_path, monkeypatch):
    """Does `grade --db URL --scheduler` send each task only the assignment, the student,
    the files and the limits: never the gradebook's URL (here holding a marker)?"""
    import pickle

    from autograder.grading import engine

    sent = []

    class FakeClient:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args, **kwargs):
            sent.append(pickle.dumps((fn, args, kwargs)))
            raise RuntimeError("stop here")

    monkeypatch.setattr("distributed.Client", FakeClient)
    course = tmp_path / "course"
    submit(course, "alice", correct_notebook())
    db = f"sqlite:///{tmp_path / 's3cret-marker.db'}"
    with pytest.raises(RuntimeError, match="stop here"):
        engine.grade_assignment(course, ASSIGNMENT, db_url=db, scheduler="tcp://x:1")
    (payload,) = sent
    assert b"s3cret-marker" not in payload and b"sqlite" not in payload
    assert b'"cells"' in payload  # the submission's files are what is sent
