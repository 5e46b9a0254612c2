"""Helpers for the grading tests: build submissions from the ps1 source notebook, run the CLI.

Every attack is a real submission notebook graded by ``python -m autograder grade`` in a
subprocess, as an instructor would run it. Submissions are derived from
``solutions/ps1_information/ps1_information.ipynb``: its answer cells are correct, and a
test replaces some of them (or adds cells) to stage an attack.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "ps1_information"
SOURCE = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

#: The PostgreSQL server of the tests, as libpq connection keywords (no database name).
PG_SERVER = os.environ.get("AUTOGRADER_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")

#: Small limits keep the timeout rows of the attack suite short.
FAST_LIMITS = ["--timeout", "8", "--test-timeout", "3"]


def source_notebook() -> dict:
    return json.loads(SOURCE.read_text(encoding="utf-8"))


def _meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def notebook(
    replace: dict[str, str] | None = None,
    prepend: list[str] | None = None,
    append: list[str] | None = None,
    drop_tests: bool = False,
) -> dict:
    """The source notebook with answer cells replaced (by grade_id) and cells added.

    ``prepend`` cells go right after the first code cell (the imports), ``append`` at the end.
    """
    nb = copy.deepcopy(source_notebook())
    replace = replace or {}
    cells = []
    for cell in nb["cells"]:
        gid = _meta(cell).get("grade_id")
        if drop_tests and _meta(cell).get("grade") and not _meta(cell).get("solution"):
            continue
        if gid in replace:
            cell["source"] = replace[gid]
        cells.append(cell)
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    for offset, source in enumerate(prepend or []):
        cells.insert(first_code + 1 + offset, code_cell(source))
    cells.extend(code_cell(s) for s in append or [])
    nb["cells"] = cells
    return nb


def code_cell(source: str, metadata: dict | None = None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata or {},
        "outputs": [],
        "source": source,
    }


def answer_sources() -> dict[str, str]:
    """grade_id -> source of each correct answer cell of the source notebook."""
    out = {}
    for cell in source_notebook()["cells"]:
        meta = _meta(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            out[meta["grade_id"]] = "".join(cell["source"])
    return out


def submit(
    course: Path,
    student: str,
    nb: dict | bytes | str | None,
    name: str = f"{ASSIGNMENT}.ipynb",
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """Write a submission folder; ``nb`` may be a notebook dict or raw file content."""
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if nb is not None:
        data = json.dumps(nb).encode() if isinstance(nb, dict) else nb
        (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)
    for fname, content in (extra or {}).items():
        payload = content.encode() if isinstance(content, str) else content
        (folder / fname).write_bytes(payload)
    return folder


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` in a subprocess, with the venv's bin on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def export_json(course: Path) -> dict[str, dict]:
    """The JSON export of ``course`` keyed by student, ``tests`` holding only the grader's
    test cells (``kind`` "auto"; the written answers are checked in test_export_formats.py)."""
    proc = run_cli("export", "--course", str(course), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {
        row["student"]: dict(row, tests=[t for t in row["tests"] if t["kind"] == "auto"])
        for row in json.loads(proc.stdout)
        if row["assignment"] == ASSIGNMENT
    }


def battery():
    from autograder.batteries import load

    return load(ASSIGNMENT)


def scores_of(row: dict) -> dict[str, float]:
    return {t["grade_id"]: t["score"] for t in row["tests"]}


# --- issue 9 (batch isolation, paths, IPython syntax, safe outputs) -----------------------


def correct_notebook() -> dict:
    """The ps1 source notebook with every test cell removed: full marks when graded."""
    return notebook(drop_tests=True)


def submit_files(course: Path, student: str | bytes, files: dict[str | bytes, bytes]) -> Path:
    """Write ``submitted/<student>/<assignment>/`` with raw file names (``bytes`` names may
    be any encoding, control characters included) and return the folder."""
    root = os.fsencode(course / "submitted")
    folder = os.path.join(root, os.fsencode(student), os.fsencode(ASSIGNMENT))
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(folder, os.fsencode(name)), "wb") as f:
            f.write(content)
    return Path(os.fsdecode(folder))


def nb_bytes(nb: dict) -> bytes:
    return json.dumps(nb).encode()
