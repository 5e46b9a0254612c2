"""Limits hold per sandbox, not per process (issue 9, class 2).

Each attack is a real submission graded by ``python -m autograder grade``: memory spread
over several processes, CPU spread over many spinning processes, a flood of small files,
the OOM killer's choice, two grading runs at once, and a run that cannot get a sandbox uid.
The uid lock files of these runs live in a temporary ``AUTOGRADER_RUNTIME_DIR``, so holding
every uid here disturbs no other grader of the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from grading_helpers import (
    ASSIGNMENT,
    REPO,
    answer_sources,
    battery,
    export_json,
    notebook,
    run_cli,
    submit,
)

from autograder.grading import sandbox

pytestmark = pytest.mark.slow

A = answer_sources()


def _probe(flag: str) -> str:
    """self_information that answers wrongly when the module-level ``flag`` is true."""
    return A["self_information"].replace(
        "def self_information(p, *, base=None):",
        f"def self_information(p, *, base=None):\n    if {flag}:\n"
        "        return np.zeros(np.shape(p))",
    )


# Four processes, each touching 400 MB at the same time: 1.6 GB in all. Each process is
# within the 1024 MB address-space limit; the sandbox as a whole is not.
MEMORY_CELL = textwrap.dedent(
    """
    import os, time
    _kids = []
    for _ in range(4):
        try:
            _pid = os.fork()
        except OSError:
            break
        if _pid == 0:
            try:
                _block = np.ones(400 * 2**20 // 8)  # written: resident, not just reserved
                time.sleep(3)
                os._exit(0)
            except BaseException:
                os._exit(1)
        _kids.append(_pid)
    _held = 0
    for _pid in _kids:
        _, _status = os.waitpid(_pid, 0)
        _held += os.WIFEXITED(_status) and os.WEXITSTATUS(_status) == 0
    ALL_HELD = _held == 4
    """
)

# The graded function leaves 16 processes spinning, each within the per-test CPU limit it
# inherited (3 s), 48 s of CPU time in all, while a later test sleeps until its wall-clock
# backstop: far more CPU time than the tests of one sandbox may use together.
SPINNING = {
    "entropy": A["entropy"].replace(
        "def entropy(p, *, axis=-1, base=None):",
        "import os as _os\n_SPUN = []\n\ndef entropy(p, *, axis=-1, base=None):\n"
        "    if not _SPUN:\n"
        "        _SPUN.append(1)\n"
        "        for _ in range(16):\n"
        "            if _os.fork() == 0:\n"
        "                _os.setsid()\n"
        "                while True:\n"
        "                    pass",
    ),
    "binary_entropy": (
        "import time\n\ndef binary_entropy(p, *, base=None):\n    time.sleep(10**6)\n"
    ),
}

# 3000 empty files in the work directory: more than its inode cap (2048).
INODE_CELL = textwrap.dedent(
    """
    _made = 0
    for _i in range(3000):
        try:
            open(f"f{_i}", "w").close()
            _made += 1
        except OSError:
            break
    ALL_FILES = _made == 3000
    """
)

# The top-level code names its process, then waits: the test reads its OOM score from outside.
MARKED_CELL = textwrap.dedent(
    """
    import ctypes, time
    ctypes.CDLL(None).prctl(15, b"agmarker9", 0, 0, 0)  # PR_SET_NAME
    time.sleep(4)
    """
)


def _grade(course: Path, *extra: str) -> subprocess.CompletedProcess:
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A private folder for the uid lock files of the runs a test starts."""
    folder = tmp_path / "runtime"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("AUTOGRADER_RUNTIME_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the memory, CPU and inode attacks (and an honest student) in one run."""
    course = tmp_path_factory.mktemp("limits-course")
    submit(course, "honest", notebook())
    held = {"self_information": _probe("ALL_HELD")}
    submit(course, "memory", notebook(prepend=[MEMORY_CELL], replace=held))
    submit(course, "spinners", notebook(replace=SPINNING))
    files = {"self_information": _probe("ALL_FILES")}
    submit(course, "inodes", notebook(prepend=[INODE_CELL], replace=files))
    start = time.monotonic()
    # a generous top-level limit: the kernel takes seconds to settle a cgroup OOM
    proc = _grade(course, "--timeout", "30", "--test-timeout", "3")
    return course, export_json(course), proc.stdout, time.monotonic() - start


def test_honest_student_full_marks(graded):
    """Does an honest submission graded beside these attacks keep every point?"""
    row = graded[1]["honest"]
    assert row["status"] == "graded" and row["score"] == battery().max_score, row


def test_memory_is_limited_for_the_whole_sandbox(graded):
    """Can four processes of one sandbox not hold 1.6 GB together when --memory-mb is 1024
    (each of them within its own address-space limit)?"""
    row = graded[1]["memory"]
    assert row["status"] == "graded", row
    assert row["score"] == battery().max_score, row["tests"]


def test_cpu_time_is_counted_over_all_processes(graded):
    """Is a sandbox whose processes together use far more CPU than its tests' limits
    stopped with a reason, instead of getting 16 times the CPU limit?"""
    row = graded[1]["spinners"]
    assert row["status"] == "ungradable", row
    assert row["reason"].startswith("timeout") and "CPU" in row["reason"], row["reason"]


def test_work_directory_has_an_inode_cap(graded):
    """Does the writable work directory refuse a flood of small files (inode cap)?"""
    row = graded[1]["inodes"]
    assert row["status"] == "graded", row
    assert row["score"] == battery().max_score, row["tests"]


def test_report_names_the_limit_mode(graded):
    """Does the grading summary say how the per-sandbox limits were enforced?"""
    out = graded[2]
    assert "limits per sandbox:" in out
    assert any(mode in out for mode in ("cgroup v2", "cgroup v1", "rlimit"))


def test_sandbox_processes_are_first_for_the_oom_killer(tmp_path, runtime):
    """Is the student's process given oom_score_adj 1000, so that the kernel kills it, not
    the grader or another program, when memory runs out?"""
    submit(tmp_path, "marked", notebook(prepend=[MARKED_CELL]))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scores = []
    try:
        deadline = time.monotonic() + 60
        while not scores and time.monotonic() < deadline and proc.poll() is None:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "agmarker9":
                        scores.append(int(Path(f"/proc/{pid}/oom_score_adj").read_text()))
                except OSError:
                    continue
            time.sleep(0.1)
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert scores and all(s == 1000 for s in scores), scores


LEASE_SCRIPT = """
import sys, time
from autograder.grading import sandbox
print(sandbox.slot_uid(0)[0], flush=True)
time.sleep(float(sys.argv[1]))
"""


def test_two_runs_at_once_never_share_a_uid(runtime):
    """Do two grader processes that start at the same time get different sandbox uids, and
    is a uid free again once its holder has exited?"""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", LEASE_SCRIPT, "2"], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    uids = [int(p.stdout.readline()) for p in procs]
    for p in procs:
        p.wait(timeout=60)
    assert uids[0] != uids[1], uids
    assert all(sandbox.BASE_UID <= u < sandbox.BASE_UID + sandbox.MAX_UIDS for u in uids)
    later = subprocess.run(
        [sys.executable, "-c", LEASE_SCRIPT, "0"], cwd=REPO, capture_output=True, text=True
    )
    assert int(later.stdout) == min(uids)


HOLD_ALL = """
import time
from autograder.grading import sandbox
leases = [sandbox.UidLease() for _ in range(sandbox.MAX_UIDS)]
print("holding", flush=True)
time.sleep(600)
"""


def test_no_free_uid_is_a_sandbox_error_not_a_zero(tmp_path, runtime):
    """When no sandbox uid is free, is the submission an 'error' with the reason, and does
    an earlier graded result stay?"""
    submit(tmp_path, "kept", notebook())
    _grade(tmp_path)
    assert export_json(tmp_path)["kept"]["score"] == battery().max_score
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_ALL], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        proc = _grade(tmp_path, "--student", "kept", "--force")  # unchanged: regrade
    finally:
        holder.kill()
        holder.wait()
    assert "error" in proc.stdout and "no free sandbox uid" in proc.stdout, proc.stdout
    row = export_json(tmp_path)["kept"]
    assert row["status"] == "graded" and row["score"] == battery().max_score
    assert "error: the sandbox could not start" in row["reason"]
    assert "internal grader error" not in proc.stdout + proc.stderr


def test_fallback_keeps_processes_times_address_space_within_the_budget():
    """Without a cgroup, do process count × address space fit in --memory-mb (with at
    least init and one runner), and with one is each process allowed the whole budget?"""
    from autograder.grading import bootstrap

    limits = {"memory_mb": 1024, "processes": 32}
    plan = bootstrap.memory_plan(limits, None, user_switch=True)
    assert plan["processes"] * plan["address_space_mb"] <= 1024
    assert plan["processes"] >= 2 and plan["mode"] == "rlimit"
    small = bootstrap.memory_plan({"memory_mb": 300, "processes": 32}, None, user_switch=True)
    assert small["processes"] == 2 and small["address_space_mb"] == 150
    group = bootstrap.Cgroup("v1", [], None)
    plan = bootstrap.memory_plan(limits, group, user_switch=True)
    assert plan == {"mode": "cgroup v1", "processes": 32, "address_space_mb": 1024}
