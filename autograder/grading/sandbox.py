"""The grader's side of the sandbox: job files in, plain-data outcomes out.

A :class:`Worker` is one long-lived ``python -I -S bootstrap.py`` process with numpy
already imported (a "zygote"): per submission it forks a supervisor that confines the
student code (see :mod:`autograder.grading.bootstrap`), so a submission costs a fork and a
few mounts instead of a fresh interpreter. ``--jobs N`` runs N workers, each with its own
unprivileged uid so that concurrent sandboxes share no process budget.

Everything the sandbox needs is written into a fresh job directory (mode 0700, root-only)
and read by the trusted supervisor *before* the student code starts; the student code
then sees only a tmpfs root with the standard library, the allowed packages and an empty
``/submission``.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.batteries import harness
from autograder.grading import bootstrap

BOOTSTRAP = Path(bootstrap.__file__)
HARNESS_SOURCE = Path(harness.__file__).read_text(encoding="utf-8")

#: Packages a sandbox may import, with what they need at import time.
PACKAGE_DEPENDENCIES = {
    "numpy": [],
    "sympy": ["mpmath"],
    "scipy": ["numpy"],
    "sklearn": ["scipy", "joblib", "threadpoolctl", "numpy"],
    "matplotlib": [],
}

#: First uid of the per-worker unprivileged users (uid = BASE_UID + worker slot).
BASE_UID = 64000


@dataclass
class Limits:
    """Resource limits of one sandboxed submission (see docs/instructor.md)."""

    wall_s: float = 60.0  # the notebook's top-level code (all cells, run once)
    test_s: float = 10.0  # one test cell's cases (each test has its own budget)
    memory_mb: int = 1024  # address space
    file_mb: int = 16  # largest file the student code may write (and its captured output)
    disk_mb: int = 64  # the private /submission tmpfs
    processes: int = 32  # per uid, only enforced when the grader runs as root

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RunResult:
    """What came back from one sandboxed run."""

    status: str  # "exited" (normal), "timeout", "crashed", "error" (sandbox failure)
    detail: str
    outcomes: dict[str, list] = field(default_factory=dict)  # grade_id -> one per case
    test_status: dict[str, dict] = field(default_factory=dict)  # grade_id -> runner status
    cell_errors: list[dict] = field(default_factory=list)
    features: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    output: str = ""


def site_packages() -> Path:
    """The directory holding numpy for the grader's interpreter."""
    return Path(np.__file__).resolve().parent.parent


def package_paths(names) -> list[str]:
    """Directories/files of ``names`` and their dependencies inside :func:`site_packages`."""
    site = site_packages()
    todo, seen, paths = list(names), set(), []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(PACKAGE_DEPENDENCIES.get(name, []))
        for candidate in (name, f"{name}.libs", f"{name}.py"):
            if (site / candidate).exists():
                paths.append(str(site / candidate))
        if name == "sklearn" and (site / "scikit_learn.libs").exists():
            paths.append(str(site / "scikit_learn.libs"))
    return sorted(paths)


def stdlib_dirs() -> tuple[list[str], list[str], list[str]]:
    """(dirs to bind read-only, dirs to hide, sys.path) for the standard library."""
    stdlib = sysconfig.get_paths()["stdlib"]
    dynload = os.path.join(stdlib, "lib-dynload")
    zipped = os.path.join(
        os.path.dirname(stdlib), f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
    )
    # The interpreter's own site-packages and the system Pythons' package folders (visible
    # through the /usr view) would let student code import what the battery forbids.
    hidden = [os.path.join(stdlib, "site-packages")]
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages"):
        hidden.extend(sorted(glob.glob(pattern)))
    return [stdlib], hidden, [zipped, stdlib, dynload]


def work_path(bound: list[str]) -> str:
    """The student's writable directory inside the sandbox: ``/submission`` unless a read-only
    view lives under it (say, a venv installed below that path), then the first free alternative."""
    for candidate in ("/submission", "/home/student", "/sandbox-work"):
        if not any(p == candidate or p.startswith(candidate + "/") for p in bound):
            return candidate
    raise RuntimeError("no free path for the sandbox's work directory")


def disabled_features() -> set[str]:
    """Sandbox features the operator switched off with ``AUTOGRADER_SANDBOX_DISABLE``.

    A comma-separated subset of ``mount,network,pid,user``: for machines where a feature
    misbehaves, and for the tests of the degraded modes. Every disabled feature is
    reported in the grading summary.
    """
    raw = os.environ.get("AUTOGRADER_SANDBOX_DISABLE", "")
    return {item.strip() for item in raw.split(",") if item.strip()}


def slot_uid(slot: int) -> tuple[int, int]:
    """An unused uid for worker ``slot`` and the ``nogroup`` gid."""
    uid = BASE_UID + slot
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return uid, 65534
    raise RuntimeError(f"uid {uid} belongs to an existing user; change BASE_UID")


def write_job(
    job_dir: Path,
    cells: list[tuple[int, str]],
    tests: list,
    packages: list[str],
    limits: Limits,
    slot: int,
) -> None:
    """Write ``job.json`` and ``inputs.npz`` for one submission into ``job_dir``.

    ``cells``: (number of the code cell in the notebook, source) in running order.
    """
    arrays: list = []
    encoded = []
    for test in tests:
        cases = [
            bootstrap.encode(
                {
                    "args": tuple(case.args),
                    "kwargs": dict(case.kwargs),
                    "evaluate_at": case.evaluate_at,
                },
                arrays,
            )
            for case in test.cases
        ]
        encoded.append(
            {
                "grade_id": test.grade_id,
                "function": test.function,
                "test": {"protocol": test.protocol, "raise_on": list(test.raise_on)},
                "cases": cases,
            }
        )
    uid, gid = slot_uid(slot)
    bind, hidden, path = stdlib_dirs()
    site = str(site_packages())
    packages = package_paths(packages)
    work = work_path([*bind, *packages])
    cfg = {
        "work_path": work,
        "disable": sorted(disabled_features()),
        "cells": cells,
        "tests": encoded,
        "harness": HARNESS_SOURCE,
        "limits": limits.as_dict(),
        "uid": uid,
        "gid": gid,
        "stdlib_dirs": bind,
        "hidden_dirs": hidden,
        "package_dirs": packages,
        "sys_path": [*path, site],
        "env": {
            "PATH": "/usr/bin:/bin",
            "HOME": work,
            "TMPDIR": work,
            "LANG": "C.UTF-8",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": work,
        },
    }
    (job_dir / "root").mkdir()
    (job_dir / "job.json").write_text(json.dumps(cfg), encoding="utf-8")
    np.savez(job_dir / "inputs.npz", **{f"a{i}": a for i, a in enumerate(arrays)})


def _load_json(path: Path):
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _outcome(item, arrays):
    """Turn one decoded runner record into a harness outcome (anything odd: Failed)."""
    if not isinstance(item, dict):
        return harness.Failed("the result channel held something unexpected")
    kind = item.get("kind")
    if kind == "returned":
        try:
            return harness.Returned(bootstrap.decode(item.get("value"), arrays))
        except (KeyError, ValueError, TypeError, RecursionError):
            return harness.Failed("the returned value could not be read back")
    if kind == "raised":
        return harness.Raised(str(item.get("type", "Exception"))[:100], "")
    if kind == "missing":
        return harness.Failed("the function is not defined in the notebook")
    if kind == "toolarge":
        return harness.Failed("it returned more data than the grader accepts (16 MB)")
    return harness.Failed("the result channel held something unexpected")


def read_results(job_dir: Path, tests: list) -> RunResult:
    """Parse ``job_dir/out`` strictly: only the expected files, plain data only."""
    out = job_dir / "out"
    sup = _load_json(out / "supervisor.json")
    if not isinstance(sup, dict):
        err = job_dir / "supervisor-error.txt"
        detail = err.read_text()[-2000:] if err.exists() else "no report from the sandbox"
        return RunResult(status="error", detail=detail)
    result = RunResult(
        status=str(sup.get("status")),
        detail=str(sup.get("detail")),
        features=dict(sup.get("features") or {}),
        notes=[str(n) for n in sup.get("notes") or []],
    )
    log = out / "output.txt"
    if log.is_file() and not log.is_symlink():
        result.output = log.read_bytes()[: 70 * 1024].decode("utf-8", "replace")
    cells = _load_json(out / "cells.json")
    if isinstance(cells, dict) and isinstance(cells.get("errors"), list):
        result.cell_errors = [e for e in cells["errors"] if isinstance(e, dict)][:50]
    init = _load_json(out / "init.json")
    statuses = init.get("tests") if isinstance(init, dict) else None
    if not isinstance(statuses, list):  # the top-level code never let the tests start
        return result
    for k, test in enumerate(tests):
        status = statuses[k] if isinstance(statuses, list) and k < len(statuses) else None
        status = status if isinstance(status, dict) else {"status": "missing", "detail": ""}
        result.test_status[test.grade_id] = status
        record = _load_json(out / f"test_{k}.json")
        items = record.get("outcomes") if isinstance(record, dict) else None
        failed = _failure_reason(status)
        if failed or not isinstance(items, list) or len(items) != len(test.cases):
            reason = failed or "the test did not report a result"
            result.outcomes[test.grade_id] = [harness.Failed(reason)] * len(test.cases)
            continue
        try:
            with np.load(out / f"test_{k}.npz", allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError):
            arrays = {}
        result.outcomes[test.grade_id] = [_outcome(item, arrays) for item in items]
    return result


def _failure_reason(status: dict) -> str | None:
    kind = status.get("status")
    if kind == "exited" and status.get("detail") == "exit code 0":
        return None
    if kind == "timeout":
        return "it did not return within the time limit (an endless loop?)"
    if kind == "crashed":
        return f"the process died ({status.get('detail')}): os._exit, a segfault or a limit"
    if kind == "exited":
        return f"the process ended early ({status.get('detail')})"
    return None if kind == "missing" else f"it did not finish ({kind})"


class Worker:
    """One pre-started sandbox worker (the zygote) serving jobs one at a time."""

    def __init__(self, slot: int, scratch: Path):
        self.slot = slot
        self.scratch = scratch
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(BOOTSTRAP), str(site_packages())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.scratch,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"},
            start_new_session=True,
            text=True,
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def run(self, job_dir: Path, tests: list, limits: Limits) -> RunResult:
        """Run the job in ``job_dir``; the wall limit plus a grace period is the backstop."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(str(job_dir) + "\n")
        self.proc.stdin.flush()
        budget = limits.wall_s + len(tests) * (limits.test_s + 1.5) + 20
        ready, _, _ = select.select([self.proc.stdout], [], [], budget)
        if not ready:  # the supervisor itself hung: restart the worker, report a timeout
            self.stop()
            return RunResult(status="timeout", detail="the sandbox did not answer in time")
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            return RunResult(status="error", detail="the sandbox worker died")
        return read_results(job_dir, tests)


def new_job_dir(scratch: Path, name: str) -> Path:
    """A fresh, root-only directory for one job (removed by the caller)."""
    path = scratch / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(mode=0o700)
    return path
