"""The grader's side of the sandbox: job files in, plain-data outcomes out.

A :class:`Worker` is one long-lived ``python -I -S bootstrap.py`` process with numpy
already imported (a "zygote"): per submission it forks a supervisor that confines the
student code (see :mod:`autograder.grading.bootstrap`), so a submission costs a fork and a
few mounts instead of a fresh interpreter. ``--jobs N`` runs N workers, each with its own
unprivileged uid so that concurrent sandboxes share no process budget.

Everything the sandbox needs is written into a fresh job directory (mode 0700, root-only)
and read by the trusted supervisor; a test's inputs are read only when that test's runner
asks for them. The student code sees only a tmpfs root with the standard library, the
allowed packages, the shared libraries they load and an empty ``/submission``.

Uids: each worker leases an unused uid from ``BASE_UID`` upwards with a lock file per uid
(``flock`` in a runtime directory), so two ``grade`` runs at once never share one.
"""

from __future__ import annotations

import fcntl
import functools
import glob
import hashlib
import io
import json
import math
import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.batteries import harness
from autograder.batteries.core import exception_name
from autograder.grading import bootstrap, safejson

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

#: First uid of the per-worker unprivileged users; a worker leases the first free one.
BASE_UID = 64000
#: How many uids above BASE_UID may be leased (concurrent workers on this machine).
MAX_UIDS = 512


class SandboxError(RuntimeError):
    """The sandbox could not be set up for a submission (no free uid, no job directory):
    the submission's status is ``error`` with this reason, never a graded zero."""


@dataclass
class Limits:
    """Resource limits of one sandboxed submission (see docs/instructor.md)."""

    wall_s: float = 60.0  # the notebook's top-level code (all cells, run once)
    test_s: float = 10.0  # CPU seconds for one test cell's cases (wall: per_test_wall_s)
    memory_mb: int = 1024  # address space
    file_mb: int = 16  # largest file the student code may write (and its captured output)
    disk_mb: int = 64  # the private /submission tmpfs
    disk_inodes: int = 2048  # files and directories in /submission
    processes: int = 32  # per sandbox (cgroup pids.max, or RLIMIT_NPROC of its own uid)
    unsafe: bool = False  # grade even where student code cannot get a private file system

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RunResult:
    """What came back from one sandboxed run."""

    status: str  # "exited" (normal), "timeout", "crashed", "error" (the sandbox did not start)
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
    """(dirs to bind read-only, dirs to hide inside them, sys.path) for the standard library.

    Package folders inside the standard library's folder (the interpreter's own
    ``site-packages``, Debian's ``dist-packages``) would let student code import what the
    battery forbids: they are hidden, and an allowed package in one is bound on top.
    """
    stdlib = sysconfig.get_paths()["stdlib"]
    dynload = os.path.join(stdlib, "lib-dynload")
    zipped = os.path.join(
        os.path.dirname(stdlib), f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
    )
    hidden = sorted(glob.glob(os.path.join(stdlib, "*-packages")))
    return [stdlib], hidden, [zipped, stdlib, dynload]


_LDD_LINE = re.compile(r"^\s*(?:\S+\s+=>\s+)?(/\S+)\s+\(0x[0-9a-f]+\)\s*$")


@functools.cache
def library_files(package_dirs: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path in the sandbox, file on the host) of every shared library that the
    interpreter, the standard library's extension modules and ``package_dirs`` load.

    Found once per grading run with ``ldd``; each library is bound as a single file under
    the path the dynamic loader looks for (and under its real path), never its folder.
    Libraries inside ``package_dirs`` (``numpy.libs``) are there already.
    """
    stdlib = sysconfig.get_paths()["stdlib"]
    objects = [os.path.realpath(sys.executable)]
    objects += sorted(glob.glob(os.path.join(stdlib, "lib-dynload", "*.so")))
    for folder in package_dirs:
        if os.path.isdir(folder):
            objects += sorted(str(p) for p in Path(folder).rglob("*.so"))
    objects = [o for o in objects if "_tkinter" not in os.path.basename(o)]
    # ldd costs a second or two: its answer is kept per set of (file, size, mtime)
    key = hashlib.sha256()
    for o in objects:
        st = os.stat(o)
        key.update(f"{o}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    cache = runtime_dir() / f"libraries-{key.hexdigest()[:32]}.json"
    try:
        return [tuple(pair) for pair in json.loads(cache.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass
    pairs = _ldd_pairs(objects, package_dirs)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(pairs), encoding="utf-8")
    os.replace(tmp, cache)
    return pairs


def _ldd_pairs(objects: list[str], package_dirs) -> list[tuple[str, str]]:
    """Ask ``ldd`` which libraries ``objects`` load; see :func:`library_files`."""
    ldd = shutil.which("ldd", path="/usr/bin:/bin")
    if ldd is None:
        return []
    found: set[str] = set()
    for start in range(0, len(objects), 200):
        proc = subprocess.run(
            [ldd, *objects[start : start + 200]],
            capture_output=True,
            text=True,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
            check=False,
        )
        for line in proc.stdout.splitlines():
            match = _LDD_LINE.match(line)
            if match:
                found.add(os.path.normpath(match.group(1)))
    pairs = set()
    for path in found:
        real = os.path.realpath(path)
        if not os.path.isfile(real) or any(_inside(real, d) for d in package_dirs):
            continue
        pairs.add((path, real))
        pairs.add((real, real))
    return sorted(pairs)


def _inside(path: str, folder: str) -> bool:
    """Is ``path`` ``folder`` itself or below it (both absolute, normalised)?"""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def visible_paths(packages) -> list[str]:
    """Every host folder the sandbox shows to student code (read-only) for ``packages``."""
    bind, _, _ = stdlib_dirs()
    return [os.path.realpath(p) for p in [*bind, *package_paths(packages)]]


def layout_problems(course: Path, packages=tuple(PACKAGE_DEPENDENCIES)) -> list[str]:
    """Why grading here would be unsafe: the course, this repository or the virtual
    environment inside a folder the sandbox shows to student code (solutions, gradebook
    and reference would be readable). Empty when the layout is safe.
    """
    places = {
        "course folder": Path(course),
        "repository": Path(__file__).resolve().parents[2],
        "virtual environment": Path(sys.prefix),
    }
    problems = []
    for label, place in places.items():
        real = os.path.realpath(place)
        for visible in visible_paths(packages):
            if _inside(real, visible):
                problems.append(
                    f"the {label} {real} lies inside {visible}, which the sandbox shows to "
                    "student code: move it elsewhere"
                )
    return problems


def work_path(bound: list[str]) -> str:
    """The student's writable directory inside the sandbox: ``/submission`` unless a read-only
    view lives under it (say, a venv installed below that path), then the first free alternative."""
    for candidate in ("/submission", "/home/student", "/sandbox-work"):
        if not any(p == candidate or p.startswith(candidate + "/") for p in bound):
            return candidate
    raise RuntimeError("no free path for the sandbox's work directory")


def disabled_features() -> set[str]:
    """Sandbox features the operator switched off with ``AUTOGRADER_SANDBOX_DISABLE``.

    A comma-separated subset of ``mount,network,pid,user,cgroup``: for machines where a
    feature misbehaves, and for the tests of the degraded modes. Every disabled feature is
    reported in the grading summary.
    """
    raw = os.environ.get("AUTOGRADER_SANDBOX_DISABLE", "")
    return {item.strip() for item in raw.split(",") if item.strip()}


def runtime_dir() -> Path:
    """Where the uid lock files live: ``/run/autograder`` as root, else a per-user folder
    (``AUTOGRADER_RUNTIME_DIR`` overrides it: every grader of a machine must use the same)."""
    if os.environ.get("AUTOGRADER_RUNTIME_DIR"):
        path = Path(os.environ["AUTOGRADER_RUNTIME_DIR"])
    elif os.geteuid() == 0 and os.path.isdir("/run"):
        path = Path("/run/autograder")
    else:
        base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
        path = Path(base) / f"autograder-{os.geteuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    st = path.lstat()
    # another user's folder (say, made in /tmp first) could hand us their lock files and
    # library list: refuse it
    if path.is_symlink() or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise SandboxError(f"{path} is not a private folder of this user (mode 0700)")
    return path


class UidLease:
    """An unprivileged uid held for one worker: an exclusive ``flock`` on ``uid-<n>.lock``.

    The lock lives as long as this process holds the file open (a crashed ``grade`` run
    frees its uids), so two runs at once, or two workers of one run, never get the same uid.
    """

    def __init__(self):
        self.uid = None
        self._fd = None
        folder = runtime_dir()
        for n in range(MAX_UIDS):
            uid = BASE_UID + n
            try:
                pwd.getpwuid(uid)
                continue  # belongs to a real user of this machine
            except KeyError:
                pass
            fd = os.open(folder / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxError(f"no free sandbox uid in {BASE_UID}..{BASE_UID + MAX_UIDS - 1}")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


#: Leases of this process, by worker slot (the grader's threads share the process).
_LEASES: dict[int, UidLease] = {}
_LEASES_LOCK = threading.Lock()


def slot_uid(slot: int) -> tuple[int, int]:
    """The uid leased for worker ``slot`` of this process (leased on first use) and the
    ``nogroup`` gid."""
    with _LEASES_LOCK:
        if slot not in _LEASES:
            _LEASES[slot] = UidLease()
        return _LEASES[slot].uid, 65534


def release_slot(slot: int) -> None:
    """Give worker ``slot``'s uid back (its worker has stopped)."""
    with _LEASES_LOCK:
        lease = _LEASES.pop(slot, None)
    if lease is not None:
        lease.release()


def write_job(
    job_dir: Path,
    cells: list[tuple[int, str]],
    tests: list,
    packages: list[str],
    limits: Limits,
    slot: int,
) -> None:
    """Write ``job.json`` and, per test ``k``, ``inputs_<k>.json`` / ``inputs_<k>.npz``.

    ``cells``: (number of the code cell in the notebook, source) in running order.
    ``job.json`` names the tests and their protocols only; a test's inputs are read by the
    supervisor when that test's runner asks for them, so the process that ran the cells
    never holds them.
    """
    encoded = []
    for k, test in enumerate(tests):
        arrays: list = []
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
        (job_dir / f"inputs_{k}.json").write_text(json.dumps(cases), encoding="utf-8")
        np.savez(job_dir / f"inputs_{k}.npz", **{f"a{i}": a for i, a in enumerate(arrays)})
        encoded.append(
            {
                "grade_id": test.grade_id,
                "function": test.function,
                "test": {"protocol": test.protocol, "raise_on": list(test.raise_on)},
            }
        )
    uid, gid = slot_uid(slot)
    bind, hidden, path = stdlib_dirs()
    site = str(site_packages())
    packages = package_paths(packages)
    work = work_path([*bind, *packages])
    disabled = disabled_features()
    cfg = {
        "work_path": work,
        "disable": sorted(disabled),
        # refuse to run student code without a private root, unless the operator said so
        "require_isolation": not limits.unsafe and "mount" not in disabled,
        "cells": cells,
        "tests": encoded,
        "harness": HARNESS_SOURCE,
        "limits": limits.as_dict(),
        "uid": uid,
        "gid": gid,
        "stdlib_dirs": bind,
        "hidden_dirs": hidden,
        "package_dirs": packages,
        "library_files": library_files(tuple(packages)),
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


#: Caps on a result file's JSON (see :mod:`~autograder.grading.safejson`): ~100 MB of the
#: grader's memory at most, whatever student code wrote there.
MAX_RESULT_CONTAINERS = 200_000
MAX_RESULT_ITEMS = 2_000_000


def _load_json(path: Path, trusted: bool = False):
    if not path.is_file() or path.is_symlink():
        return None
    try:
        if trusted:
            return json.loads(path.read_text(encoding="utf-8"))
        return safejson.loads(path.read_bytes(), MAX_RESULT_CONTAINERS, MAX_RESULT_ITEMS)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _outcome(item, arrays, shown_type):
    """Turn one decoded runner record into a harness outcome (anything odd: Failed).

    The record was written by a process that ran student code: every field is untrusted,
    and no text of it reaches the feedback except through a fixed vocabulary.
    """
    if not isinstance(item, dict):
        return harness.Failed("the result channel held something unexpected")
    kind = item.get("kind")
    if kind == "returned":
        try:
            return harness.Returned(bootstrap.decode(item.get("value"), arrays, shown_type))
        except Exception:  # malformed data of any kind (MemoryError included)
            return harness.Failed("the returned value could not be read back")
    if kind == "raised":
        name = item.get("type")
        name = name if isinstance(name, str) and name.isidentifier() else "Exception"
        return harness.Raised(name[:100], "")
    if kind == "missing":
        return harness.Failed("the function is not defined in the notebook")
    if kind == "toolarge":
        return harness.Failed("it returned more data than the grader accepts (16 MB)")
    if kind == "toofewcalls":
        return harness.Failed(harness.TOO_FEW_CALLS)
    if kind == "evalfailed":
        return harness.Failed("its SymPy expression could not be evaluated within the limits")
    return harness.Failed("the result channel held something unexpected")


#: The text the grader shows for a returned value of an unsupported type, when the type's
#: name could carry something the student's code chose while running (a class created on
#: the fly can be named after a hidden input).
UNKNOWN_TYPE = "an object of a type created by your code"


def type_namer(cell_sources: list[str]):
    """Return a function that maps an unsupported type's name (sandbox text) to a safe one.

    Shown as is: classes defined with a ``class`` statement in the submission (their names
    were fixed before any hidden input existed), types of modules the grader has imported
    (``numpy.matrix``, ``fractions.Fraction``), and the codec's own fixed descriptions.
    """
    static = set(re.findall(r"\bclass\s+([A-Za-z_]\w*)", "\n".join(cell_sources)))

    def shown(type_name: str) -> str:
        if type_name == "nested list":
            return type_name
        match = re.fullmatch(r"numpy\.ndarray of dtype ([a-z]+[0-9]*)", type_name)
        if match:
            return type_name if _is_dtype_name(match.group(1)) else "numpy.ndarray"
        match = re.fullmatch(r"numpy scalar ([a-z]+[0-9]*)", type_name)
        if match:
            return type_name if _is_dtype_name(match.group(1)) else "numpy scalar"
        module, _, short = type_name.rpartition(".")
        if not short.isidentifier() or len(type_name) > 120:
            return UNKNOWN_TYPE
        if module == "__main__" and short in static:
            return type_name
        loaded = sys.modules.get(module) if module not in ("", "__main__") else None
        if loaded is not None and isinstance(getattr(loaded, short, None), type):
            return type_name
        return UNKNOWN_TYPE

    return shown


#: Names of the numeric dtypes a message may name (``float64``, ``int32``, ``complex128``...).
_DTYPE_NAMES = {np.dtype(code).name for code in "?bhilqBHILQefdgFDG"}


def _is_dtype_name(name: str) -> bool:
    return name in _DTYPE_NAMES


#: Largest .npz result file the grader loads, and most arrays in it.
MAX_NPZ_BYTES = bootstrap.MAX_RESULT_BYTES
MAX_NPZ_MEMBERS = 10_000


def _array_refs(tree, found: set[int], depth: int = 0) -> set[int]:
    """The array indices (``__nd__``/``__np__``) a result tree refers to."""
    if depth > 200:
        raise ValueError("result nested too deeply")
    if isinstance(tree, list):
        for v in tree:
            _array_refs(v, found, depth + 1)
    elif isinstance(tree, dict):
        for key in ("__nd__", "__np__"):
            if key in tree and type(tree[key]) is int:
                found.add(tree[key])
        for v in tree.values():
            _array_refs(v, found, depth + 1)
    return found


def load_arrays(path: Path, wanted: set[int]) -> dict[str, np.ndarray]:
    """Load the arrays ``a<i>`` (i in ``wanted``) of an untrusted .npz, or raise ValueError.

    Checked before anything is decompressed or allocated: the file is a zip whose members
    are stored uncompressed (``np.savez`` never compresses, so a deflate "bomb" is refused),
    their sizes add up to at most the file's size, each .npy header declares a plain
    bool/int/float dtype and a shape whose bytes fit in the member.
    """
    if not wanted:
        return {}
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_NPZ_BYTES:
        raise ValueError("no readable result file")
    disk = path.stat().st_size
    arrays = {}
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_NPZ_MEMBERS:
            raise ValueError("too many members")
        members = {}
        total = 0
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                raise ValueError("compressed member")
            total += info.file_size
            members[info.filename] = info
        if total > disk:
            raise ValueError("member sizes exceed the file")
        for index in sorted(wanted):
            info = members.get(f"a{index}.npy")
            if info is None:
                continue  # decoding then fails for the cases that refer to it
            raw = zf.read(info)  # stored: at most the file's size; CRC checked
            arrays[f"a{index}"] = _read_npy(raw)
    return arrays


def _read_npy(raw: bytes) -> np.ndarray:
    """Parse one .npy member after checking that its header fits its data."""
    fp = io.BytesIO(raw)
    version = np.lib.format.read_magic(fp)
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    if version not in readers:
        raise ValueError("unsupported .npy version")
    shape, _, dtype = readers[version](fp)
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None:
        raise ValueError("not a plain numeric dtype")
    if dtype.subdtype is not None or any(type(n) is not int or n < 0 for n in shape):
        raise ValueError("bad shape")
    if math.prod(shape) * dtype.itemsize != len(raw) - fp.tell():
        raise ValueError("the header's shape does not fit the data")
    return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)


def read_results(job_dir: Path, tests: list) -> RunResult:
    """Parse ``job_dir/out`` strictly: only the expected files, plain data only.

    Everything in ``out`` except ``supervisor.json`` was written (or could have been
    rewritten) by student code: it is reduced to numbers, known names and fixed strings.
    """
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
    job = _load_json(job_dir / "job.json", trusted=True)  # written by the grader
    cells = job.get("cells", []) if isinstance(job, dict) else []
    numbers = {c[0] for c in cells if isinstance(c, list) and c and type(c[0]) is int}
    shown_type = type_namer([str(c[1]) for c in cells if isinstance(c, list) and len(c) > 1])
    log = out / "output.txt"
    if log.is_file() and not log.is_symlink():
        result.output = log.read_bytes()[: 70 * 1024].decode("utf-8", "replace")
    result.cell_errors = _cell_errors(_load_json(out / "cells.json"), numbers)
    init = _load_json(out / "init.json")
    statuses = init.get("tests") if isinstance(init, dict) else None
    if not isinstance(statuses, list):  # the top-level code never let the tests start
        return result
    for k, test in enumerate(tests):
        status = _status(statuses[k] if k < len(statuses) else None)
        result.test_status[test.grade_id] = status
        try:
            outcomes = _test_outcomes(out, k, test, status, shown_type)
        except Exception:  # anything malformed (MemoryError included) fails this test only
            outcomes = [harness.Failed("its results could not be read back")] * len(test.cases)
        result.outcomes[test.grade_id] = outcomes
    return result


def _test_outcomes(out: Path, k: int, test, status: dict, shown_type) -> list:
    """The outcomes of test ``k`` from ``test_<k>.json`` and ``test_<k>.npz``."""
    record = _load_json(out / f"test_{k}.json")
    items = record.get("outcomes") if isinstance(record, dict) else None
    failed = _failure_reason(status)
    if failed or not isinstance(items, list) or len(items) != len(test.cases):
        reason = failed or "the test did not report a result"
        return [harness.Failed(reason)] * len(test.cases)
    try:
        arrays = load_arrays(out / f"test_{k}.npz", _array_refs(items, set()))
    except Exception:  # not a zip, a bomb, a forged header: no array is read
        arrays = {}
    return [_outcome(item, arrays, shown_type) for item in items]


def _cell_errors(cells, numbers: set[int]) -> list[dict]:
    """The cells that raised, as ``{"cell": int, "error": name}``: the cell number must be
    one of the submission's, the error is reduced to a built-in exception's name."""
    if not isinstance(cells, dict) or not isinstance(cells.get("errors"), list):
        return []
    found = []
    for err in cells["errors"][:50]:
        if not isinstance(err, dict):
            continue
        number, text = err.get("cell"), err.get("error")
        if type(number) is not int or number not in numbers or not isinstance(text, str):
            continue
        name = text.split(":", 1)[0].strip()
        found.append({"cell": number, "error": exception_name(name)})
    return found


#: Runner statuses the sandbox reports, and the only details each may carry.
_SIGNALS = {s.name for s in signal.Signals}


def _status(status) -> dict:
    """A runner status reduced to known values (``detail`` only "exit code N" or a signal)."""
    if not isinstance(status, dict):
        return {"status": "missing", "detail": ""}
    kind, detail = status.get("status"), status.get("detail")
    detail = detail if isinstance(detail, str) else ""
    if kind == "exited":
        match = re.fullmatch(r"exit code (\d{1,3})", detail)
        return {"status": kind, "detail": match.group(0) if match else "exit code ?"}
    if kind == "crashed":
        match = re.fullmatch(r"killed by signal (SIG[A-Z0-9]+)", detail)
        ok = match is not None and match.group(1) in _SIGNALS
        return {"status": kind, "detail": detail if ok else "could not start or was killed"}
    if kind == "timeout":
        return {"status": kind, "detail": "time limit reached"}
    return {"status": "missing" if kind == "missing" else "unknown", "detail": ""}


def _failure_reason(status: dict) -> str | None:
    kind = status.get("status")
    if kind == "exited" and status.get("detail") == "exit code 0":
        return None
    if kind == "timeout":
        return "it did not return within the time limit (an endless loop?)"
    if kind == "crashed" and status.get("detail") == "killed by signal SIGXCPU":
        return "it used more than its CPU time limit (an endless loop?)"
    if kind == "crashed":
        return f"the process died ({status.get('detail')}): os._exit, a segfault or a limit"
    if kind == "exited":
        return f"the process ended early ({status.get('detail')})"
    return None if kind == "missing" else "it did not finish (the test runner failed)"


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
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        release_slot(self.slot)

    def run(self, job_dir: Path, tests: list, limits: Limits) -> RunResult:
        """Run the job in ``job_dir``; the wall limit plus a grace period is the backstop."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(str(job_dir) + "\n")
        self.proc.stdin.flush()
        per_test = bootstrap.per_test_wall_s(limits.test_s) + 1.5
        symbolic = sum(t.protocol == "sympy" for t in tests)  # evaluated after the sandbox
        budget = limits.wall_s + (len(tests) + symbolic) * per_test + 20
        ready, _, _ = select.select([self.proc.stdout], [], [], budget)
        if not ready:  # the supervisor itself hung: restart the worker, report a timeout
            self.stop()
            return RunResult(status="timeout", detail="the sandbox did not answer in time")
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            return RunResult(status="error", detail="the sandbox worker died")
        return read_results(job_dir, tests)


def isolation_problem() -> str | None:
    """Why student code could not get a private file system on this machine (``None``: it
    can), found by trying in a throwaway child process (call it before any thread starts)."""
    disabled = disabled_features()
    if "mount" in disabled:
        return None  # the operator switched it off on purpose; reported per submission
    if os.geteuid() != 0 and "user" in disabled:
        return "not root, and user namespaces are switched off (AUTOGRADER_SANDBOX_DISABLE)"
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child only calls unshare/mount, then exits
        code = 1
        try:
            os.close(read_end)
            try:
                if os.geteuid() == 0:
                    bootstrap.unshare(bootstrap.CLONE_NEWNS)
                else:
                    bootstrap._enter_user_namespace()
                bootstrap.mount("none", "/", None, bootstrap.MS_REC | bootstrap.MS_PRIVATE)
                code = 0
            except OSError as exc:
                os.write(write_end, str(exc).encode()[:500])
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        reason = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return reason or "the isolation probe failed"


def new_job_dir(scratch: Path, name: str) -> Path:
    """A fresh, root-only directory for one job (removed by the caller)."""
    path = scratch / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(mode=0o700)
    return path
