"""``python -m autograder release``: write the student notebooks of the course.

For each assignment (all seven by default; one whose source notebook is not there yet is
skipped with a message):

1. create the nbgrader course root ``DIR`` (default ``course``) if needed, with
   ``DIR/nbgrader_config.py`` (``CourseDirectory.root`` = that folder, ``db_url`` =
   ``sqlite:///DIR/gradebook.db``, a course-local exchange ``DIR/exchange``, and nbgrader's
   ``autograde`` and ``generate_feedback`` refused, see
   :mod:`autograder.grading.nbgrader_guard`; an existing config is kept, so an
   instructor's PostgreSQL ``db_url`` survives);
2. like ``otter assign``, execute the source notebook ``solutions/<a>/<a>.ipynb`` (one
   kernel, nbclient) so that a test failing against its own solution never ships
   (``--no-check`` skips this; a source that passed before and has not changed since,
   nor has the package's code, is not executed again: ``DIR/.release_checks.json``);
3. copy ``solutions/<a>/`` to ``DIR/source/<a>/`` and run nbgrader's
   ``generate_assignment`` (through its Python API, one process for all assignments),
   which writes ``DIR/release/<a>/<a>.ipynb`` with solutions replaced by stubs and the
   hidden tests removed, and records the assignment in the gradebook;
4. verify the student version holds no solution or hidden-test marker.

Re-running is safe: the source copy and the student version are replaced.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

#: The repository's source assignments (``solutions/`` beside the package).
SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"

CONFIG_TEMPLATE = '''\
"""nbgrader configuration of this course root (written by `python -m autograder release`).

Edit db_url to share one gradebook (e.g. PostgreSQL) between grading machines.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file
_root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = _root
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_root, "gradebook.db")
c.CourseDirectory.course_id = "cross_entropy"
# A course-local exchange, so that formgrader finds one (no error banner); point it at a
# shared folder (and make it writable by everyone) to use nbgrader's release/collect.
c.Exchange.root = os.path.join(_root, "exchange")

# Grades come from the sandboxed grader (`python -m autograder grade`) and feedback from
# `python -m autograder feedback`. nbgrader's own autograde (formgrader's Autograde button)
# would replace the sandboxed grades with what the student's kernel reports, and its
# generate_feedback would show the hidden tests: both are refused with that message.
c.Autograde.exporter_class = "autograder.grading.nbgrader_guard.AutogradeRefused"
c.GenerateFeedback.exporter_class = "autograder.grading.nbgrader_guard.GenerateFeedbackRefused"
'''

#: The config line whose absence means a course folder predates the refusals above.
GUARD_MARKER = "autograder.grading.nbgrader_guard"

#: Where release remembers which sources passed their check, so an unchanged one is not re-run.
CHECKS_FILE = ".release_checks.json"

#: What must never survive into a student notebook: solution and hidden-test markers, and
#: any import of the reference package (it would hand students the answers).
FORBIDDEN_IN_RELEASE = (
    r"### BEGIN SOLUTION",
    r"### END SOLUTION",
    r"### BEGIN HIDDEN TESTS",
    r"### END HIDDEN TESTS",
    r"(?m)^\s*(from|import)\s+autograder\b",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "assignments",
        nargs="*",
        metavar="ASSIGNMENT",
        help="assignment ids (default: every assignment of the course)",
    )
    parser.add_argument("--course", default="course", help="nbgrader course root (default: course)")
    parser.add_argument(
        "--solutions",
        default=str(SOLUTIONS),
        help="folder of the source assignments (default: the repository's solutions/)",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="do not execute the source notebooks before releasing (faster, less safe)",
    )
    parser.add_argument(
        "--timeout", type=int, default=120, help="seconds per cell when checking (default 120)"
    )


def write_config(course: Path) -> Path:
    """Create ``course/nbgrader_config.py`` (and its exchange folder) unless a config exists;
    return its path. An existing config that lacks the refusal of nbgrader's autograde gets
    a warning naming the lines to add: it is the instructor's file, never rewritten."""
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        (course / "exchange").mkdir(exist_ok=True)
    elif GUARD_MARKER not in config.read_text(encoding="utf-8"):
        lines = [line for line in CONFIG_TEMPLATE.splitlines() if GUARD_MARKER in line]
        print(
            f"warning: {config} does not refuse nbgrader's autograde and generate_feedback "
            "(formgrader's Autograde button would replace the sandboxed grades); add:\n    "
            + "\n    ".join(lines),
            file=sys.stderr,
        )
    return config


def check_source(notebook: Path, timeout: int) -> str | None:
    """Execute a source notebook in one kernel; return ``None`` or what went wrong.

    The notebook runs in its own folder, as a student's would. The failing cell is named
    by its nbgrader ``grade_id`` so the author knows which test broke.
    """
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        for cell in nb.cells:
            outputs = cell.get("outputs", [])
            if any(o.get("output_type") == "error" for o in outputs):
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
                return f"cell {grade_id!r} fails against the solution: {exc.ename}: {exc.evalue}"
        return f"{exc.ename}: {exc.evalue}"
    return None


def source_fingerprint(source_dir: Path) -> str:
    """SHA-256 of what a check depends on: the assignment's files and the package's code.

    The package is included because a change in a battery or in the reference can break
    a notebook whose own text did not change.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    files = sorted(source_dir.rglob("*")) + sorted(package.rglob("*.py"))
    for path in files:
        if (
            path.is_file()
            and "__pycache__" not in path.parts
            and ".ipynb_checkpoints" not in path.parts
        ):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _checked(course: Path) -> dict[str, str]:
    """Fingerprints of the sources that passed their check (``DIR/.release_checks.json``)."""
    try:
        return json.loads((course / CHECKS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record_check(course: Path, assignment: str, fingerprint: str) -> None:
    checked = _checked(course)
    checked[assignment] = fingerprint
    (course / CHECKS_FILE).write_text(json.dumps(checked, indent=1), encoding="utf-8")


def leftover_markers(notebook: Path) -> list[str]:
    """Solution/hidden-test markers or reference imports left in a student notebook."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    text = "\n".join(cell.source for cell in nb.cells)
    return [marker for marker in FORBIDDEN_IN_RELEASE if re.search(marker, text)]


def _api(course: Path):
    """An nbgrader API object rooted at ``course`` (its config file is honoured)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    config.CourseDirectory.root = str(course)  # wherever the folder has been moved to
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


# ---------------------------------------------------------------------------------------
# Data shipped with an assignment, and the link from a notebook to its chapter

#: The file ps7's notebook loads (the 8×8 digits), written beside it at release time.
DIGITS_FILE = "digits.npz"

#: Written in a source notebook's Markdown where the book's base URL goes; ``release``
#: replaces it with ``book_url()`` so that the one setting decides every chapter link.
BOOK_URL_MARK = "{book_url}"


def write_digits(path: Path) -> Path:
    """Write scikit-learn's 8×8 digits to ``path`` as an ``.npz`` a notebook reads with numpy.

    Members: ``data`` (1797, 64) uint8 pixel intensities 0 … 16 and ``target`` (1797,)
    uint8 labels 0 … 9, exactly ``sklearn.datasets.load_digits()`` (bundled with
    scikit-learn: nothing is downloaded). About 30 KB compressed, so students need
    neither scikit-learn nor a network to run ps7.
    """
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = digits.data.astype(np.uint8)
    if not np.array_equal(data, digits.data):  # the pixels are integers 0 … 16
        raise ValueError("load_digits returned non-integer pixels; cannot store them as uint8")
    np.savez_compressed(path, data=data, target=digits.target.astype(np.uint8))
    return path


def ship_data(assignment: str, folder: Path) -> list[Path]:
    """Write into ``folder`` the data files the notebook of ``assignment`` loads.

    nbgrader's ``generate_assignment`` copies every file of the source folder into the
    release folder, so a file written into ``DIR/source/<a>/`` reaches the students beside
    their notebook.
    """
    if assignment == "ps7_training":
        return [write_digits(folder / DIGITS_FILE)]
    return []


def book_url(root: Path | None = None) -> str:
    """The published book's base URL: ``html.baseurl`` of ``_config.yml`` (the one setting).

    Read by ``release`` (chapter links in the student notebooks) and by ``report`` (the
    chapter section of each misconception). Returned without a trailing slash.
    """
    import yaml

    config = (root or SOLUTIONS.parent) / "_config.yml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    url = str((settings.get("html") or {}).get("baseurl") or "").rstrip("/")
    if not url:
        raise ValueError(f"{config.name}: set html.baseurl to the URL the book is published at")
    return url


def link_chapters(notebook: Path, url: str) -> None:
    """Replace :data:`BOOK_URL_MARK` in ``notebook``'s Markdown cells by ``url``."""
    text = notebook.read_text(encoding="utf-8")
    nb = json.loads(text)
    changed = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        joined = "".join(source) if isinstance(source, list) else source
        if BOOK_URL_MARK in joined:
            cell["source"] = joined.replace(BOOK_URL_MARK, url).splitlines(keepends=True)
            changed = True
    if changed:
        notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def stage(assignment: str, source_dir: Path, target: Path) -> Path:
    """Copy ``source_dir`` to ``target`` with its data files and chapter links; return the
    notebook's path there."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        source_dir, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    ship_data(assignment, target)
    notebook = target / f"{assignment}.ipynb"
    link_chapters(notebook, book_url())
    return notebook


def check_staged(assignment: str, source_dir: Path, timeout: int) -> str | None:
    """:func:`check_source` on a staged copy, so the notebook runs with its data files."""
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        return check_source(stage(assignment, source_dir, Path(tmp) / assignment), timeout)


def release_one(api, assignment: str, solutions: Path, course: Path, args) -> str | None:
    """Check, copy and generate one assignment; return ``None`` or the reason it failed."""
    source_dir = solutions / assignment
    if not args.no_check:
        fingerprint = source_fingerprint(source_dir)
        if fingerprint == _checked(course).get(assignment):
            print(f"check   {assignment}: unchanged since its last successful check")
        else:
            print(f"check   {assignment}: executing the source notebook", flush=True)
            problem = check_staged(assignment, source_dir, args.timeout)
            if problem:
                return problem
            _record_check(course, assignment, fingerprint)
    stage(assignment, source_dir, course / "source" / assignment)  # with data, chapter links
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        return "nbgrader generate_assignment failed:\n" + (
            result.get("error") or result.get("log") or ""
        )
    released = course / "release" / assignment / f"{assignment}.ipynb"
    if not released.exists():
        return f"nbgrader wrote no {released}"
    markers = leftover_markers(released)
    if markers:
        released.unlink()
        return f"the student version still contains {markers}; fix the source notebook"
    return None


def run(args: argparse.Namespace) -> int:
    from autograder.batteries import ASSIGNMENTS

    # nbgrader runs `alembic` when it creates a gradebook: this interpreter's bin must be on PATH.
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")

    course = Path(args.course).resolve()
    solutions = Path(args.solutions).resolve()
    wanted = list(args.assignments) or list(ASSIGNMENTS)
    unknown = [a for a in wanted if a not in ASSIGNMENTS]
    if unknown:
        print(
            f"error: unknown assignment(s) {unknown}; known: {list(ASSIGNMENTS)}", file=sys.stderr
        )
        return 2

    present = []
    for assignment in wanted:
        if (solutions / assignment / f"{assignment}.ipynb").exists():
            present.append(assignment)
        else:
            print(f"skip    {assignment}: no source notebook {assignment}/{assignment}.ipynb yet")
    if not present:
        print("nothing to release")
        return 0 if not args.assignments else 1

    config = write_config(course)
    print(f"course  {course} (config {config.name})")
    api = _api(course)
    failures = 0
    for assignment in present:
        problem = release_one(api, assignment, solutions, course, args)
        if problem:
            failures += 1
            print(f"FAILED  {assignment}: {problem}", file=sys.stderr)
        else:
            released = course / "release" / assignment / f"{assignment}.ipynb"
            print(f"wrote   {released}")
    return 1 if failures else 0
