"""A submission folder as data: its content digest, and the copy a cluster worker grades.

The digest keys the gradebook's record of a submission (with the assignment and the
student): rerunning ``grade`` skips a submission whose digest is the one already recorded,
and a retried task cannot record the same content twice.

Only what the grader reads counts: the visible entries of
``submitted/<student>/<assignment>/`` (names starting with "." are never read, see
:mod:`~autograder.grading.notebook`). A regular file counts by its name and bytes; any
other entry (a link, a folder, a FIFO) by its name, its kind, size and modification time,
since the grader refuses such entries without reading them.

A Dask worker has no view of the course folder: :func:`pack` reads a folder of plain
regular files into a dict the coordinator sends with the task, and :func:`unpack` writes
it back into a private course folder on the worker. A folder holding anything else (a
link, a subfolder, a file over the size limit) is not packed; the coordinator grades it
itself, in its own sandbox.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from autograder.grading import notebook

#: Digest of a student with no submission folder, and the prefix of one whose folder
#: cannot be opened (a link): what the grader sees then is the reason alone.
MISSING = "missing"


def _visible_entries(folder: Path) -> list[tuple[str, os.stat_result]]:
    """``(name, lstat)`` of the folder's entries the grader may read, sorted by name."""
    out = []
    with os.scandir(folder) as it:
        for entry in it:
            if not entry.name.startswith("."):
                out.append((entry.name, entry.stat(follow_symlinks=False)))
    return sorted(out, key=lambda item: item[0])


def pack(folder: Path) -> dict[str, bytes] | None:
    """``name -> bytes`` of every visible entry of ``folder``, or ``None`` when one of them
    is not a plain regular file of at most :data:`notebook.MAX_NOTEBOOK_BYTES` (such a
    folder is graded where it lies)."""
    files = {}
    for name, st in _visible_entries(folder):
        if notebook._kind(st) is not None or st.st_size > notebook.MAX_NOTEBOOK_BYTES:
            return None
        if len(files) >= notebook.MAX_FOLDER_ENTRIES:
            return None
        files[name] = notebook.read_regular_file(folder, name, notebook.MAX_NOTEBOOK_BYTES)
    return files


def digest(course: Path, student: str, assignment: str) -> str:
    """SHA-256 (hex) of what the grader reads of one submission, or ``"missing"``.

    The hash runs over ``name, kind, content`` of each visible entry in name order; a
    folder that cannot be opened gives ``"unreadable: <reason>"`` so that a fixed folder
    counts as a change.
    """
    try:
        folder = notebook.submission_folder(course, student, assignment)
    except notebook.Missing:
        return MISSING
    except notebook.Ungradable as exc:
        return f"unreadable: {hashlib.sha256(str(exc).encode()).hexdigest()}"
    h = hashlib.sha256()
    for name, st in _visible_entries(folder):
        kind = notebook._kind(st)
        h.update(os.fsencode(name) + b"\0")
        if kind is None:
            h.update(b"file\0")
            with open(folder / name, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        else:  # never read through: its kind, size and time stand for it
            h.update(f"{kind}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        h.update(b"\0\0")
    return h.hexdigest()


def unpack(files: dict[str, bytes], course: Path, student: str, assignment: str) -> None:
    """Write a :func:`pack`-ed submission as ``course/submitted/<student>/<assignment>/``."""
    if not notebook.is_plain_id(student):
        raise ValueError(f"not a plain student id: {student!r}")
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True)
    for name, data in files.items():
        if "/" in name or name in ("", ".", "..") or name.startswith("."):
            raise ValueError(f"not a plain file name: {name!r}")
        (folder / name).write_bytes(data)
