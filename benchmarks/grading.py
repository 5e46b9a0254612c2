"""Grading throughput: our sandboxed grader against ``nbgrader autograde``, side by side.

Generates N mixed ps1_information submissions (correct, one wrong function, a raising
function, a renamed file, broken JSON) into two fresh course folders, grades them with
``python -m autograder grade`` and with ``nbgrader autograde``, and prints seconds per
submission and the ratios. Also prints the floor: one ``python -c "import numpy"`` per
submission. Prints numbers, asserts nothing (timings depend on the machine), and the
machine's load average before and after (other work on the machine slows every figure).

    python benchmarks/grading.py [-n 24] [--jobs 2] [--skip-nbgrader]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_information"
SOURCE = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

WRONG = "def entropy(p, *, axis=-1, base=None):\n    return np.sum(p)\n"
RAISES = "def binary_entropy(p, *, base=None):\n    raise ValueError('todo')\n"


def _variant(k: int) -> tuple[str, bytes]:
    """(file name, content) of the k-th submission: a realistic mix of cases."""
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    kind = k % 6
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if kind == 1 and gid == "entropy":
            cell["source"] = WRONG
        if kind == 2 and gid == "binary_entropy":
            cell["source"] = RAISES
    name = f"{ASSIGNMENT}.ipynb" if kind != 3 else f"{ASSIGNMENT} (1).ipynb"
    data = json.dumps(nb).encode()
    if kind == 4:
        data = data[: len(data) // 2]  # a truncated upload
    return name, data


def _populate(course: Path, n: int) -> None:
    for k in range(n):
        folder = course / "submitted" / f"student{k:03d}" / ASSIGNMENT
        folder.mkdir(parents=True)
        name, data = _variant(k)
        (folder / name).write_bytes(data)


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def _timed(cmd: list[str], cwd: Path, check: bool = True, keep: list | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if check and proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    if keep is not None:
        keep.append(proc.stdout)
    return elapsed


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def ours(root: Path, n: int, jobs: int, keep: list | None = None) -> float:
    course = root / "ours"
    _populate(course, n)
    cmd = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course", str(course)]
    return _timed([*cmd, "--jobs", str(jobs)], REPO, keep=keep)


def nbgrader(root: Path, n: int) -> float:
    """nbgrader's own pipeline: generate_assignment (not timed), then autograde (timed)."""
    course = root / "nbgrader"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(SOURCE, course / "source" / ASSIGNMENT / SOURCE.name)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n", encoding="utf-8"
    )
    nbg = [sys.executable, "-m", "nbgrader"]
    _timed([*nbg, "generate_assignment", ASSIGNMENT, "--force"], course)
    _populate(course, n)
    # nbgrader exits 1 when some submissions fail (the renamed and truncated ones): expected.
    return _timed([*nbg, "autograde", ASSIGNMENT, "--force"], course, check=False)


def floor(n: int) -> float:
    """n sequential `python -c "import numpy"`: the cost of one fresh interpreter each."""
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=24, help="number of submissions (24)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-nbgrader", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    try:
        n = args.n
        print(f"before: {_load()}")
        t_floor = floor(n)
        t_one = ours(root / "one", 1, 1)
        report: list[str] = []
        t_ours = ours(root, n, args.jobs, keep=report)
        marginal = (t_ours - t_one) / max(n - 1, 1)
        print(f"{n} submissions of {ASSIGNMENT} on {os.cpu_count()} CPU(s)")
        for line in report[0].splitlines():
            if line.startswith(("sandbox:", "limits per sandbox:")):
                print(line)
        print(f"python + import numpy (floor)   {t_floor / n:7.3f} s/submission")
        print(
            f"autograder grade --jobs {args.jobs:<2d}       {t_ours / n:7.3f} s/submission "
            f"(total {t_ours:.1f} s; after start-up {marginal:.3f} s each)"
        )
        print(f"  ratio to the floor            {t_ours / t_floor:7.2f}x")
        if not args.skip_nbgrader:
            t_nbg = nbgrader(root, n)
            print(
                f"nbgrader autograde              {t_nbg / n:7.3f} s/submission "
                f"(total {t_nbg:.1f} s)"
            )
            print(f"  speed-up of ours              {t_nbg / t_ours:7.2f}x")
        print(f"after: {_load()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
