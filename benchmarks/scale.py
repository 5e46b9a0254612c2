"""Scaling: local ``--jobs 2`` against a local Dask cluster of two workers, same run.

Writes N correct ps1_information submissions into two fresh course folders, grades one
with ``python -m autograder grade --jobs 2`` and the other with ``--scheduler`` on a Dask
scheduler and two single-threaded workers started here on 127.0.0.1, both into fresh
PostgreSQL databases, and prints:

- throughput of each path (submissions per second) and their ratio;
- the per-task overhead of the cluster path, ``(t_cluster - t_local) / N * workers``
  (seconds a worker spends per submission beyond local grading);
- PostgreSQL's sustained recording rate: N results recorded by ``gradebook.record`` alone
  (no sandbox), one transaction each, in records per second;
- the machine's load average before and after (other work slows every figure).

Prints numbers, asserts nothing. Needs PostgreSQL at 127.0.0.1:5432 with trust
authentication (``--pg`` to change) and Dask distributed.

    python benchmarks/scale.py [-n 500] [--pg "host=127.0.0.1 port=5432 user=postgres"]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_information"
SOURCE = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def _populate(course: Path, n: int) -> None:
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    data = json.dumps(nb).encode()
    for k in range(n):
        folder = course / "submitted" / f"student{k:04d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(data)


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


class Databases:
    """Fresh PostgreSQL databases, dropped at the end."""

    def __init__(self, server: str):
        import psycopg

        self.server = server
        self.admin = psycopg.connect(f"{server} dbname=postgres", autocommit=True)
        self.names: list[str] = []

    def new(self) -> str:
        name = f"autograder_bench_{uuid.uuid4().hex[:10]}"
        self.admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        p = dict(item.split("=", 1) for item in self.server.split())
        user, host = p.get("user", "postgres"), p.get("host", "127.0.0.1")
        port = p.get("port", 5432)
        return f"postgresql+psycopg://{user}@{host}:{port}/{name}"

    def drop(self) -> None:
        for name in self.names:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.close()


def _grade(course: Path, db: str, *extra: str) -> float:
    start = time.perf_counter()
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(course)]
    proc = subprocess.run(
        [*command, "--db", db, *extra],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"grade failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def _cluster(workers: int):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=_env(), start_new_session=True, **quiet,
        )
    ]  # fmt: skip
    for k in range(workers):
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--name", f"w{k}", "--nthreads", "1", "--no-nanny"],
                cwd=REPO, env=_env(), start_new_session=True, **quiet,
            )
        )  # fmt: skip
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def _record_rate(db: str, n: int) -> float:
    """Records per second of ``gradebook.record`` alone, one transaction per submission."""
    sys.path.insert(0, str(REPO))
    from autograder.batteries import load
    from autograder.grading import gradebook
    from autograder.grading.gradebook import CellResult, Result

    battery = load(ASSIGNMENT)
    with tempfile.TemporaryDirectory() as tmp:
        gb = gradebook.open_gradebook(Path(tmp), db)
        try:
            gradebook.ensure_assignment(gb, ASSIGNMENT, battery, None)
            start = time.perf_counter()
            for k in range(n):
                tests = [CellResult(t.grade_id, 1.0, float(t.points), "ok") for t in battery.tests]
                result = Result(f"r{k:05d}", ASSIGNMENT, "graded", tests=tests, digest=str(k))
                gradebook.record(gb, result)
            return n / (time.perf_counter() - start)
        finally:
            gb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=500, help="submissions (500)")
    parser.add_argument("--pg", default="host=127.0.0.1 port=5432 user=postgres")
    args = parser.parse_args()
    n, workers = args.n, 2
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    dbs = Databases(args.pg)
    root = Path(tempfile.mkdtemp(prefix="autograder-scale-"))
    procs = []
    try:
        local_course, cluster_course = root / "local", root / "cluster"
        _populate(local_course, n)
        _populate(cluster_course, n)
        t_local = _grade(local_course, dbs.new(), "--jobs", str(workers))
        address, procs = _cluster(workers)
        t_cluster = _grade(cluster_course, dbs.new(), "--scheduler", address)
        rate = _record_rate(dbs.new(), n)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:  # a worker may not stop on SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        dbs.drop()
        shutil.rmtree(root, ignore_errors=True)
    local_tp, cluster_tp = n / t_local, n / t_cluster
    print(f"{n} ps1 submissions, {workers} sandboxes each way")
    print(f"local --jobs {workers}:        {t_local:8.1f} s  {local_tp:6.2f} submissions/s")
    print(f"Dask, {workers} workers:       {t_cluster:8.1f} s  {cluster_tp:6.2f} submissions/s")
    print(f"cluster / local throughput: {cluster_tp / local_tp:6.1%}")
    overhead = (t_cluster - t_local) / n * workers
    print(f"per-task overhead:          {overhead * 1000:6.1f} ms per submission per worker")
    print(f"PostgreSQL records:         {rate:6.1f} submissions recorded/s (one transaction each)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
