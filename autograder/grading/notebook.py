"""Read a submission folder and extract the code the sandbox may run.

The rules (also printed in docs/instructor.md and reported in every student's feedback):

1. Only ``*.ipynb`` files directly in ``submitted/<student>/<assignment>/`` are read; any
   other file (a ``numpy.py`` next to the notebook, data, checkpoints) is ignored and listed,
   except nbgrader's ``timestamp.txt``, which the grader reads as the submission time.
   Only *regular* files are read, never through a link: a symbolic link, a hard link (a
   file with more than one name, which may be a file outside the submission), a FIFO, a
   device or a socket named ``*.ipynb`` is refused and named. The folders on the way
   (``<student>``, ``<assignment>``) must be real folders, not links.
2. ``<assignment>.ipynb`` is graded when present. Otherwise a single notebook is graded
   whatever its name (``ps1 (1).ipynb``) and the rename is reported. Several notebooks and
   none with the right name, or none at all, make the submission *ungradable* with that reason.
3. The file must be UTF-8 JSON of a notebook (nbformat 4, or 3, which is upgraded here
   keeping every cell's metadata); anything else is ungradable with the parse error. A
   UTF-8 byte-order mark is ignored; lone surrogates (``"\\ud800"`` escapes, which no
   UTF-8 file can hold) become U+FFFD and are reported. Caps keep the grader's own memory
   and time bounded whatever the file holds, each with its reason: the file's size, its
   number of JSON objects and arrays, its number of cells, one code cell's size, all code.
4. Code cells run in order, except test cells, which always come from the grader's battery:
   a cell is a test cell when its nbgrader metadata says so (``grade`` without ``solution``),
   when its ``grade_id`` is one of the battery's test ids or starts with ``test_``, or when
   it contains the hidden-test markers. Outputs stored in the notebook are never read.
5. Valid Python runs as written. Other cells are translated with IPython's own
   transformer (:mod:`~autograder.grading.magics`): ``%%time`` loses its magic line,
   ``%time x = f()`` runs ``x = f()``, other magics and shell commands are skipped and
   reported.

Parsing uses :mod:`json`, not :mod:`nbformat` (2 s to import, and it rejects or rewrites
the very files this module must report on).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import magics, safejson
from autograder.grading.sanitize import file_name, printable, shorten

#: Submissions larger than this are refused unread (outputs can be huge; code never is).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
#: Most ``{`` plus ``[`` in a notebook's bytes: each parsed object costs the grader ~100
#: bytes or more, so 20 MB of ``[{},{},...]`` would cost gigabytes; real notebooks hold a
#: few thousand (strings count too, so the cap is generous).
MAX_JSON_CONTAINERS = 250_000
#: Most cells of any type in a notebook.
MAX_CELLS = 2_000
#: Most characters of one code cell, and of all code cells together (nobody types that
#: much; a pasted data dump or a generated file does).
MAX_CELL_CHARS = 200_000
MAX_CODE_CHARS = 1_000_000
#: Most entries of a submission folder looked at.
MAX_FOLDER_ENTRIES = 10_000

_HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "from autograder.batteries import check")


class Ungradable(Exception):
    """The submission cannot be graded; ``str(exc)`` is the reason shown to everyone."""


class Missing(Ungradable):
    """There is no submission folder at all (status ``missing``, not ``ungradable``)."""


#: Longest student id (the gradebook's column holds 128 characters).
MAX_ID_CHARS = 128


def is_plain_id(student: str) -> bool:
    r"""Can ``student`` name a folder the grader creates (``feedback/<student>/``...)?

    A plain id is 1-128 printable characters (no control, format or undecodable
    character), not starting with a dot or a space, with no ``/`` or ``\``.

    >>> [is_plain_id(s) for s in ("alice", "j.doe@uni.edu", "..", "a/b", "x\x1b[2J", "")]
    [True, True, False, False, False, False]
    """
    return (
        isinstance(student, str)
        and 0 < len(student) <= MAX_ID_CHARS
        and student.isprintable()
        and student == student.strip()
        and not student.startswith(".")
        and "/" not in student
        and "\\" not in student
    )


def _kind(st: os.stat_result) -> str | None:
    """What makes a file unreadable for the grader, or ``None`` for a plain regular file."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISREG(mode):
        return None if st.st_nlink == 1 else f"a hard link (one of {st.st_nlink} names of a file)"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _open_folder(folder: Path) -> int:
    """A file descriptor of ``folder``, which must be a real folder (not a link to one)."""
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Missing(f"no submission folder {file_name(folder.name)}") from None
    except OSError:
        try:
            kind = _kind(os.lstat(folder)) or "not a folder"
        except OSError:
            kind = "unreadable"
        raise Ungradable(
            f"the submission folder {file_name(folder.name)} is {kind}: only real folders are read"
        ) from None


def submission_folder(course: Path, student: str, assignment: str) -> Path:
    """``course/submitted/<student>/<assignment>``, after checking that neither folder is a
    link (a link could make another student's work, or any folder, count as this one's).

    Raises :class:`Missing` when there is no such folder, :class:`Ungradable` when a part
    of the path is not a real folder.
    """
    if not is_plain_id(student):
        raise Ungradable(f"not a plain student id: {file_name(student)}")
    student_dir = course / "submitted" / student
    os.close(_open_folder(student_dir))
    folder = student_dir / assignment
    os.close(_open_folder(folder))
    return folder


def read_regular_file(folder: Path, name: str, cap: int) -> bytes:
    """The bytes of the regular file ``folder/name``, at most ``cap`` of them.

    Opened without following a link, in the folder itself (``O_NOFOLLOW`` on both), with
    ``O_NONBLOCK`` so that a FIFO swapped in cannot block the grader, then checked with
    ``fstat``: a link, a hard link, a FIFO or a device raises :class:`Ungradable`; so does a
    file larger than ``cap``.
    """
    dir_fd = _open_folder(folder)
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            raise
        except OSError:
            try:
                kind = _kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False))
            except OSError:
                kind = "unreadable"
            raise Ungradable(f"{file_name(name)} is {kind or 'unreadable'}") from None
    finally:
        os.close(dir_fd)
    try:
        st = os.fstat(fd)
        kind = _kind(st)
        if kind is not None:
            raise Ungradable(f"{file_name(name)} is {kind}: only regular files are read")
        if st.st_size > cap:
            raise Ungradable(
                f"{file_name(name)} is too large ({_size(st.st_size)}, limit {_size(cap)})"
            )
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:  # it grew while being read
            raise Ungradable(f"{file_name(name)} is too large (limit {_size(cap)})")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


@dataclass(frozen=True)
class Cell:
    """A code cell to run: its nbgrader ``grade_id`` (``None`` if it has none), its source,
    and its number among the notebook's code cells (1-based, test cells counted), by which
    the feedback names it. ``source`` is what runs: the cell as written, or translated
    from IPython syntax (rule 5)."""

    grade_id: str | None
    source: str
    number: int = 0
    skipped: tuple[str, ...] = ()  # IPython commands of the cell that do not run


@dataclass
class Submission:
    """What the grader takes from one submission folder."""

    path: Path
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)
    notebook: dict = field(default_factory=dict)  # the parsed notebook, nbformat-4 shaped


def _entries(folder: Path) -> list[tuple[str, str | None]]:
    """``(name, kind)`` of the folder's visible entries, sorted; ``kind`` as :func:`_kind`."""
    dir_fd = _open_folder(folder)
    try:
        entries = []
        with os.scandir(dir_fd) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                if len(entries) >= MAX_FOLDER_ENTRIES:
                    raise Ungradable(f"the submission folder holds over {MAX_FOLDER_ENTRIES} files")
                try:
                    kind = _kind(os.stat(entry.name, dir_fd=dir_fd, follow_symlinks=False))
                except OSError:
                    kind = "unreadable"
                entries.append((entry.name, kind))
    finally:
        os.close(dir_fd)
    return sorted(entries)


def _names(names: list[str]) -> str:
    shown = ", ".join(file_name(n, 60) for n in names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


#: nbgrader's submission-time file beside the notebook (read by the engine).
TIMESTAMP_FILE = "timestamp.txt"


def find_notebook(folder: Path, assignment: str) -> tuple[Path, list[str]]:
    """Apply rules 1–2: return the notebook to grade and notes about the folder."""
    notes = []
    entries = _entries(folder)
    notebooks = [n for n, kind in entries if n.endswith(".ipynb") and kind is None]
    refused = {n: kind for n, kind in entries if n.endswith(".ipynb") and kind is not None}
    # timestamp.txt is not ignored: the engine stores it as the submission time
    extras = [
        n for n, _ in entries if n not in notebooks and n not in refused and n != TIMESTAMP_FILE
    ]
    if extras:
        notes.append("ignored files (only the notebook is graded): " + _names(extras))
    if refused:
        notes.append(
            "refused (only regular files are read): "
            + ", ".join(f"{file_name(n, 60)} ({kind})" for n, kind in list(refused.items())[:20])
        )
    expected = f"{assignment}.ipynb"
    if expected in refused:
        raise Ungradable(
            f"{expected} is {refused[expected]}: only a regular file is graded "
            "(submit the notebook itself)"
        )
    if expected in notebooks:
        others = [n for n in notebooks if n != expected]
        if others:
            notes.append(f"graded {expected}; ignored other notebooks: " + _names(others))
        return folder / expected, notes
    if len(notebooks) == 1:
        notes.append(f"graded {file_name(notebooks[0])} (expected name {expected!r})")
        return folder / notebooks[0], notes
    if not notebooks:
        why = f"; refused: {_names(list(refused))}" if refused else ""
        raise Ungradable(f"no notebook in the submission folder (expected {expected}){why}")
    raise Ungradable(f"several notebooks and none named {expected}: {_names(notebooks)}")


def load_notebook(path: Path) -> tuple[dict, list[str]]:
    """Apply rule 3: return the notebook as nbformat-4-shaped JSON and notes about it, or
    raise Ungradable."""
    raw = read_regular_file(path.parent, path.name, MAX_NOTEBOOK_BYTES)
    return parse_notebook(raw)


def parse_notebook(raw: bytes) -> tuple[dict, list[str]]:
    """Rule 3 on the file's bytes: bounded checks first, then :func:`json.loads`."""
    notes = []
    if not raw.strip():
        raise Ungradable("the notebook file is empty")
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise Ungradable(f"the notebook is {_size(len(raw))} (limit 20 MB): clear outputs")
    try:
        safejson.check_size(raw, MAX_JSON_CONTAINERS)
    except safejson.TooLarge as exc:
        raise Ungradable(f"the notebook holds {exc}: clear outputs and resubmit") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Ungradable(f"the notebook is not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):  # a byte-order mark some editors write
        text = text[1:]
        notes.append("a UTF-8 byte-order mark at the start of the notebook was ignored")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Ungradable(
            f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            "was it edited by hand or truncated?"
        ) from None
    except (RecursionError, MemoryError):
        raise Ungradable("the notebook's JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise Ungradable(
            f"the notebook's JSON holds a value Python refuses ({shorten(str(exc), 80)})"
        ) from None
    if not isinstance(nb, dict):
        raise Ungradable("the file is JSON but not a notebook (no top-level object)")
    if _LONE_SURROGATE_ESCAPE.search(text) and _replace_surrogates(nb):
        notes.append(
            "the notebook holds invalid Unicode (lone surrogate escapes such as \\ud800), "
            "replaced by U+FFFD; a code cell holding one cannot run as written"
        )
    major = nb.get("nbformat")
    if major == 3:
        return upgrade_v3(nb), notes
    if major != 4 or not isinstance(nb.get("cells"), list):
        raise Ungradable(
            f"not a Jupyter notebook in format 4 or 3 (nbformat = {printable(repr(major))[:40]})"
        )
    return nb, notes


#: A ``\uD800``-``\uDFFF`` escape in JSON text: the only way a surrogate gets into it.
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(tree) -> int:
    """Replace every lone surrogate in the strings (keys too) of ``tree`` by U+FFFD, in
    place, without recursion; return how many strings changed. (A valid pair of escapes
    was already joined into one character by the JSON parser.)"""
    changed = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if isinstance(node, dict):
            node.clear()
        for key, value in items:
            if isinstance(key, str) and _SURROGATE.search(key):
                key, changed = _SURROGATE.sub("\ufffd", key), changed + 1
            if isinstance(value, str) and _SURROGATE.search(value):
                value, changed = _SURROGATE.sub("\ufffd", value), changed + 1
            elif isinstance(value, (dict, list)):
                stack.append(value)
            node[key] = value
    return changed


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


def extract_code(nb: dict, test_ids: set[str]) -> list[Cell]:
    """Return every non-test code cell, in notebook order, as the sandbox will run it.

    Caps (rule 3) are checked before any cell is parsed: the number of cells, each code
    cell's size and the size of all code together.
    """
    if len(nb["cells"]) > MAX_CELLS:
        raise Ungradable(f"the notebook has {len(nb['cells'])} cells (limit {MAX_CELLS})")
    code = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    cells, total = [], 0
    budget = magics.TranslationBudget()  # IPython syntax: a bounded amount per notebook
    for number, cell in enumerate(code, start=1):
        if is_test_cell(cell, test_ids):
            continue
        source = _source(cell)
        total += len(source)
        if len(source) > MAX_CELL_CHARS:
            raise Ungradable(
                f"code cell {number} holds {len(source)} characters (limit {MAX_CELL_CHARS}): "
                "is a data dump pasted into it?"
            )
        if total > MAX_CODE_CHARS:
            raise Ungradable(f"the code cells hold over {MAX_CODE_CHARS} characters together")
        grade_id = _nbgrader(cell).get("grade_id")
        python, skipped = magics.to_python(source, budget)
        cells.append(
            Cell(
                grade_id=grade_id if isinstance(grade_id, str) else None,
                source=python,
                number=number,
                skipped=tuple(skipped),
            )
        )
    return cells


def read_submission(folder: Path, assignment: str, test_ids: set[str]) -> Submission:
    """Apply all rules to ``folder``; raise :class:`Ungradable` with the reason."""
    path, notes = find_notebook(folder, assignment)
    nb, parse_notes = load_notebook(path)
    notes += parse_notes
    if nb.get("upgraded_from") == 3:
        notes.append("the notebook was in nbformat 3 and was upgraded for grading")
    cells = extract_code(nb, test_ids)
    if not any(c.source.strip() for c in cells):
        raise Ungradable("the notebook has no code cells to grade")
    skipped = [f"code cell {c.number}: {', '.join(c.skipped)}" for c in cells if c.skipped]
    if skipped:
        notes.append(
            "not run while grading (only Python runs; no shell, no IPython): "
            + shorten(printable("; ".join(skipped)), 300)
        )
    return Submission(path=path, cells=cells, notes=notes, notebook=nb)
