"""The source assignments and the student notebooks released from them.

Every source notebook in ``solutions/`` must pass all its tests (one kernel per notebook,
executed with nbclient, as ``release`` does before it ships); the released student
version must fail every graded test cell untouched, hold no solution code, hidden test or
import of the reference package; and the test cells must agree with the batteries
(``grade_id`` and points, both ways). Assignments whose source notebook is not written
yet are skipped.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat
import pytest

from autograder import release
from autograder.batteries import ASSIGNMENTS, load

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def source_path(assignment: str) -> Path:
    path = SOLUTIONS / assignment / f"{assignment}.ipynb"
    assert path.exists(), f"DESIGN.md lists {assignment}, but {path.name} is missing"
    return path


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course root with every present assignment released (sources are checked below)."""
    root = tmp_path_factory.mktemp("course")
    args = argparse.Namespace(
        assignments=[], course=str(root), solutions=str(SOLUTIONS), no_check=True, timeout=120
    )
    assert release.run(args) == 0
    return root


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_passes_all_its_tests(assignment):
    """Does every test cell of the source notebook pass against its own solutions (run as
    release stages it: with its data files, e.g. ps7's digits)?"""
    problem = release.check_staged(assignment, source_path(assignment).parent, timeout=120)
    assert problem is None, problem


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_fails_every_graded_test(assignment, course):
    """Does the untouched student notebook fail every graded test cell (no free points)?"""
    import nbclient

    source_path(assignment)
    path = course / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    passing = [
        nbgrader_meta(cell)["grade_id"]
        for cell in nb.cells
        if is_test_cell(cell) and not any(o.output_type == "error" for o in cell.outputs)
    ]
    assert not passing, f"test cells that pass on the stub: {passing}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_holds_no_solution_or_hidden_test(assignment, course):
    """Are solutions, hidden tests and every import of the reference gone from the release?"""
    source = nbformat.read(source_path(assignment), as_version=4)
    path = course / "release" / assignment / f"{assignment}.ipynb"
    released = nbformat.read(path, as_version=4)
    text = "\n".join(cell.source for cell in released.cells)
    assert release.leftover_markers(path) == []
    assert "check(" not in text
    stubs = {
        nbgrader_meta(c)["grade_id"]: c.source
        for c in released.cells
        if c.cell_type == "code" and nbgrader_meta(c).get("solution")
    }
    assert stubs and all("raise NotImplementedError" in s for s in stubs.values())
    for cell in source.cells:
        stub = stubs.get(nbgrader_meta(cell).get("grade_id"), "")
        for body in SOLUTION.findall(cell.source):
            for line in body.splitlines():
                if len(line.strip()) > 12:  # a distinctive line of the solution
                    assert line.strip() not in stub, f"solution line leaked: {line.strip()}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_and_battery_agree(assignment):
    """Does every test cell have a battery Test with the same grade_id and points, and back?"""
    nb = nbformat.read(source_path(assignment), as_version=4)
    battery = load(assignment)
    cells = {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if is_test_cell(c)}
    assert set(cells) == set(battery.grade_ids)
    for test in battery.tests:
        cell = cells[test.grade_id]
        assert nbgrader_meta(cell)["points"] == test.points, test.grade_id
        hidden = HIDDEN.findall(cell.source)
        assert len(hidden) == 1, f"{test.grade_id}: expected one hidden block"
        call = f'check("{assignment}", "{test.grade_id}", {test.function})'
        assert call in hidden[0], f"{test.grade_id}: hidden block must call {call}"
        visible = HIDDEN.sub("", cell.source)
        assert "autograder" not in visible, f"{test.grade_id}: visible tests import the reference"
        assert visible.lstrip().startswith('"""'), f"{test.grade_id}: start with a docstring"
    answers = {nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")}
    assert {t.function for t in battery.tests} <= answers


def test_release_is_idempotent(course):
    """Can an assignment be released again over an existing course folder?"""
    present = [a for a in ASSIGNMENTS if source_path(a).exists()]
    args = argparse.Namespace(
        assignments=present[:1],
        course=str(course),
        solutions=str(SOLUTIONS),
        no_check=True,
        timeout=120,
    )
    assert release.run(args) == 0
    assert (course / "release" / present[0] / f"{present[0]}.ipynb").exists()
    assert (course / "nbgrader_config.py").exists() and (course / "gradebook.db").exists()


def test_release_skips_missing_and_rejects_unknown(tmp_path, capsys):
    """Does release skip an assignment without a source and refuse an unknown name?"""
    empty = tmp_path / "solutions"
    empty.mkdir()
    args = argparse.Namespace(
        assignments=[], course=str(tmp_path / "c"), solutions=str(empty), no_check=True, timeout=5
    )
    assert release.run(args) == 0
    assert "skip" in capsys.readouterr().out
    args.assignments = ["ps9_nothing"]
    assert release.run(args) == 2


def test_check_fingerprint_follows_the_source(tmp_path):
    """Does an edited source notebook get a new fingerprint (so release checks it again)?"""
    (tmp_path / "ps1.ipynb").write_text("{}", encoding="utf-8")
    before = release.source_fingerprint(tmp_path)
    assert release.source_fingerprint(tmp_path) == before
    (tmp_path / "ps1.ipynb").write_text('{"cells": []}', encoding="utf-8")
    assert release.source_fingerprint(tmp_path) != before
