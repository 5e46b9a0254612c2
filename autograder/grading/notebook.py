"""Read a submission folder and extract the code the sandbox may run.

The rules (also printed in docs/instructor.md and reported in every student's feedback):

1. Only ``*.ipynb`` files directly in ``submitted/<student>/<assignment>/`` are read; any
   other file (a ``numpy.py`` next to the notebook, data, checkpoints) is ignored and listed,
   except nbgrader's ``timestamp.txt``, which the grader reads as the submission time.
2. ``<assignment>.ipynb`` is graded when present. Otherwise a single notebook is graded
   whatever its name (``ps1 (1).ipynb``) and the rename is reported. Several notebooks and
   none with the right name, or none at all, make the submission *ungradable* with that reason.
3. The file must be UTF-8 JSON of a notebook (nbformat 4, or 3, which is upgraded here
   keeping every cell's metadata); anything else is ungradable with the parse error.
4. Code cells run in order, except test cells, which always come from the grader's battery:
   a cell is a test cell when its nbgrader metadata says so (``grade`` without ``solution``),
   when its ``grade_id`` is one of the battery's test ids or starts with ``test_``, or when
   it contains the hidden-test markers. Outputs stored in the notebook are never read.
5. IPython syntax (``%magic``, ``!shell``) is commented out: only plain Python runs.

Parsing uses :mod:`json`, not :mod:`nbformat` (2 s to import, and it rejects or rewrites
the very files this module must report on).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Submissions larger than this are refused unread (outputs can be huge; code never is).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024

_HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "from autograder.batteries import check")


class Ungradable(Exception):
    """The submission cannot be graded; ``str(exc)`` is the reason shown to everyone."""


@dataclass(frozen=True)
class Cell:
    """A code cell to run: its nbgrader ``grade_id`` (``None`` if it has none), its source,
    and its number among the notebook's code cells (1-based, test cells counted), by which
    the feedback names it."""

    grade_id: str | None
    source: str
    number: int = 0


@dataclass
class Submission:
    """What the grader takes from one submission folder."""

    path: Path
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)
    notebook: dict = field(default_factory=dict)  # the parsed notebook, nbformat-4 shaped


#: nbgrader's submission-time file beside the notebook (read by the engine).
TIMESTAMP_FILE = "timestamp.txt"


def find_notebook(folder: Path, assignment: str) -> tuple[Path, list[str]]:
    """Apply rules 1–2: return the notebook to grade and notes about the folder."""
    if not folder.is_dir():
        raise Ungradable(f"no submission folder {folder.name!r}")
    notes = []
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    notebooks = [p for p in entries if p.suffix == ".ipynb" and p.is_file()]
    # timestamp.txt is not ignored: the engine stores it as the submission time
    extras = [p.name for p in entries if p not in notebooks and p.name != TIMESTAMP_FILE]
    if extras:
        notes.append("ignored files (only the notebook is graded): " + ", ".join(extras[:20]))
    expected = folder / f"{assignment}.ipynb"
    if expected in notebooks:
        others = [p.name for p in notebooks if p != expected]
        if others:
            notes.append(f"graded {expected.name}; ignored other notebooks: " + ", ".join(others))
        return expected, notes
    if len(notebooks) == 1:
        notes.append(f"graded {notebooks[0].name!r} (expected name {expected.name!r})")
        return notebooks[0], notes
    if not notebooks:
        raise Ungradable(f"no notebook in the submission folder (expected {expected.name})")
    names = ", ".join(p.name for p in notebooks)
    raise Ungradable(f"several notebooks and none named {expected.name}: {names}")


def load_notebook(path: Path) -> dict:
    """Apply rule 3: return the notebook as nbformat-4-shaped JSON or raise Ungradable."""
    size = path.stat().st_size
    if size == 0:
        raise Ungradable("the notebook file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise Ungradable(f"the notebook is {size / 2**20:.0f} MB (limit 20 MB): clear outputs")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Ungradable(f"the notebook is not UTF-8 text (byte {exc.start})") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Ungradable(
            f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            "was it edited by hand or truncated?"
        ) from None
    except RecursionError:
        raise Ungradable("the notebook's JSON is nested too deeply") from None
    if not isinstance(nb, dict):
        raise Ungradable("the file is JSON but not a notebook (no top-level object)")
    major = nb.get("nbformat")
    if major == 3:
        return upgrade_v3(nb)
    if major != 4 or not isinstance(nb.get("cells"), list):
        raise Ungradable(f"not a Jupyter notebook in format 4 or 3 (nbformat = {major!r})")
    return nb


def upgrade_v3(nb: dict) -> dict:
    """Convert nbformat 3 to the 4 shape, keeping cell metadata (nbgrader's lives there)."""
    worksheets = nb.get("worksheets")
    if not isinstance(worksheets, list):
        raise Ungradable("nbformat 3 notebook without worksheets")
    cells = []
    for sheet in worksheets:
        for cell in sheet.get("cells", []) if isinstance(sheet, dict) else []:
            if not isinstance(cell, dict):
                continue
            kind = cell.get("cell_type")
            source = cell.get("input", "") if kind == "code" else cell.get("source", "")
            cells.append(
                {
                    "cell_type": "code" if kind == "code" else "markdown",
                    "metadata": cell.get("metadata", {}),
                    "source": source,
                }
            )
    return {"nbformat": 4, "upgraded_from": 3, "metadata": nb.get("metadata", {}), "cells": cells}


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def is_test_cell(cell: dict, test_ids: set[str]) -> bool:
    """Rule 4: is this code cell one of the grader's test cells (in any disguise)?"""
    nbg = _nbgrader(cell)
    grade_id = nbg.get("grade_id")
    if isinstance(grade_id, str) and (grade_id in test_ids or grade_id.startswith("test_")):
        return True
    if nbg.get("grade") is True and not nbg.get("solution"):
        return True
    source = _source(cell)
    return any(marker in source for marker in _HIDDEN_MARKERS)


_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.MULTILINE)


def strip_ipython(source: str) -> str:
    r"""Rule 5: comment out lines of IPython-only syntax (``%timeit``, ``!pip``).

    >>> print(strip_ipython("%matplotlib inline\nx = 1"))
    pass  # %matplotlib inline
    x = 1
    """
    if source.lstrip().startswith("%%"):
        return "# " + source.replace("\n", "\n# ")
    return _MAGIC.sub(r"\1pass  # \2", source)


def extract_code(nb: dict, test_ids: set[str]) -> list[Cell]:
    """Return every non-test code cell, in notebook order."""
    code = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    cells = []
    for number, cell in enumerate(code, start=1):
        if is_test_cell(cell, test_ids):
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        cells.append(
            Cell(
                grade_id=grade_id if isinstance(grade_id, str) else None,
                source=strip_ipython(_source(cell)),
                number=number,
            )
        )
    return cells


def read_submission(folder: Path, assignment: str, test_ids: set[str]) -> Submission:
    """Apply all rules to ``folder``; raise :class:`Ungradable` with the reason."""
    path, notes = find_notebook(folder, assignment)
    nb = load_notebook(path)
    if nb.get("upgraded_from") == 3:
        notes.append("the notebook was in nbformat 3 and was upgraded for grading")
    cells = extract_code(nb, test_ids)
    if not any(c.source.strip() for c in cells):
        raise Ungradable("the notebook has no code cells to grade")
    return Submission(path=path, cells=cells, notes=notes, notebook=nb)
