"""The formgrader's copy of a graded notebook (review finding 4).

nbgrader's formgrader renders ``autograded/<student>/<a>/<a>.ipynb`` as HTML in the
instructor's browser. The copy must therefore carry nothing the student stored besides the
answers: no outputs (a ``<script>`` in a ``display_data``, a forged "passed"), no execution
counts, no attachments, and test cells as the instructor wrote them. One hostile submission
is graded through :func:`autograder.grading.engine.grade_assignment`; the copy it leaves is
then checked cell by cell against the source notebook.
"""

from __future__ import annotations

import copy
import json

import pytest
from grading_helpers import ASSIGNMENT, notebook, source_notebook, submit

from autograder.batteries import load
from autograder.grading import engine

SCRIPT_HTML = "<script>alert('stored output')</script>"
WRITTEN = "Because p log p tends to 0 as p tends to 0 (mallory's own words)."
OWN_ENTROPY_LINE = "# mallory's entropy, written her own way"


def _nbg(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _is_test(cell: dict) -> bool:
    return bool(_nbg(cell).get("grade")) and not _nbg(cell).get("solution")


def hostile_notebook() -> dict:
    """A correct ps1 submission that also stores everything the copy must not carry."""
    answers = {
        cell["metadata"]["nbgrader"]["grade_id"]: _text(cell)
        for cell in source_notebook()["cells"]
        if _nbg(cell).get("solution") and cell["cell_type"] == "code"
    }
    answers["entropy"] = OWN_ENTROPY_LINE + "\n" + answers["entropy"]
    answers["q_zero_log_zero"] = WRITTEN + "\n\n<script>alert('markdown')</script>"
    nb = notebook(replace=answers)
    script_output = {
        "output_type": "display_data",
        "data": {"text/html": [SCRIPT_HTML], "text/plain": ["<IPython.core.display.HTML>"]},
        "metadata": {},
    }
    forged = {"output_type": "stream", "name": "stdout", "text": ["passed: 100/100\n"]}
    cells = []
    for cell in nb["cells"]:
        cell = copy.deepcopy(cell)
        if _nbg(cell).get("grade_id") == "test_binary_entropy":
            continue  # deleted by the student: the copy must put it back
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [script_output, forged]
        else:
            cell["attachments"] = {"x.png": {"image/png": "iVBORw0KGgo="}}
        if _is_test(cell):
            cell["source"] = "assert True  # the student's edited test\n"
            cell["metadata"]["nbgrader"]["points"] = 100
        cells.append(cell)
    # a disguised test cell the grader never runs, and raw HTML in a raw cell
    cells.append(
        {
            "cell_type": "code",
            "execution_count": 9,
            "metadata": {},
            "outputs": [forged],
            "source": "### BEGIN HIDDEN TESTS\nprint('passed')\n### END HIDDEN TESTS\n",
        }
    )
    cells.append({"cell_type": "raw", "metadata": {}, "source": SCRIPT_HTML})
    nb["cells"] = cells
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": SCRIPT_HTML}
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the hostile submission once; return its outcome and the formgrader's copy."""
    course = tmp_path_factory.mktemp("autograded-course")
    submit(course, "mallory", hostile_notebook())
    (outcome,) = engine.grade_assignment(course, ASSIGNMENT, ["mallory"])
    path = course / "autograded" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return outcome, path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_hostile_submission_is_graded_on_its_answers(graded):
    """Are the answers graded (full marks) whatever the stored outputs and test cells say?"""
    outcome, _ = graded
    assert outcome.result.status == "graded", outcome.result.reason
    assert outcome.result.score == load(ASSIGNMENT).max_score


@pytest.mark.slow
def test_copy_has_no_outputs_counts_or_attachments(graded):
    """Does the copy drop every stored output, execution count and attachment?"""
    _, text = graded
    nb = json.loads(text)
    for cell in nb["cells"]:
        assert "attachments" not in cell
        if cell["cell_type"] == "code":  # only the grader's verdict on a test cell
            verdicts = [o for o in cell["outputs"] if o["text"].startswith("sandboxed grader:")]
            assert cell["outputs"] == verdicts and cell["execution_count"] is None
            assert len(verdicts) == _is_test(cell)
    assert "widgets" not in nb["metadata"]
    assert "passed: 100/100" not in text


@pytest.mark.slow
def test_copy_carries_no_script(graded):
    """Is there no ``<script`` tag anywhere in the copy, from outputs, Markdown or raw cells?"""
    _, text = graded
    assert "<script" not in text.lower()
    assert "alert(" not in "".join(
        c["source"] for c in json.loads(text)["cells"] if c["cell_type"] == "code"
    )


@pytest.mark.slow
def test_test_cells_are_the_sources(graded):
    """Is every test cell the source's (text and nbgrader metadata), the deleted one back in
    place, and the disguised one gone?"""
    _, text = graded
    cells = json.loads(text)["cells"]
    copied = {_nbg(c)["grade_id"]: c for c in cells if _is_test(c)}
    expected = {_nbg(c)["grade_id"]: c for c in source_notebook()["cells"] if _is_test(c)}
    assert copied.keys() == expected.keys()
    for gid, cell in expected.items():
        assert copied[gid]["source"] == _text(cell), gid
        assert _nbg(copied[gid]) == _nbg(cell), gid
    assert "the student's edited test" not in text
    assert sum("### BEGIN HIDDEN TESTS" in c["source"] for c in cells) == len(expected)
    ids = [_nbg(c).get("grade_id") for c in cells]
    assert ids.index("test_binary_entropy") == ids.index("binary_entropy") + 1


@pytest.mark.slow
def test_answers_are_the_students(graded):
    """Are the code answers and the written answer the student's, under the source's
    nbgrader metadata, so the formgrader finds them by grade_id?"""
    _, text = graded
    cells = json.loads(text)["cells"]
    by_id = {_nbg(c)["grade_id"]: c for c in cells if _nbg(c)}
    source_ids = [_nbg(c)["grade_id"] for c in source_notebook()["cells"] if _nbg(c)]
    assert [_nbg(c)["grade_id"] for c in cells if _nbg(c)] == source_ids
    assert by_id["entropy"]["source"].startswith(OWN_ENTROPY_LINE)
    written = by_id["q_zero_log_zero"]
    assert written["cell_type"] == "markdown" and written["source"].startswith(WRITTEN)
    source_meta = {_nbg(c)["grade_id"]: _nbg(c) for c in source_notebook()["cells"] if _nbg(c)}
    assert _nbg(written) == source_meta["q_zero_log_zero"]


@pytest.mark.slow
def test_copy_renders_with_nbconvert(graded):
    """Does nbconvert's HTMLExporter (what the formgrader uses) render the copy, with the
    written answer on the page and no student script in it?"""
    import nbformat
    from nbconvert import HTMLExporter

    _, text = graded
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert "(mallory" in html and "own words)" in html
    assert "<script>alert" not in html


def test_missing_answers_and_missing_source():
    """Does a deleted manually graded answer come back empty (so it can be given 0), and
    does a copy without any source notebook still drop outputs and test cells?"""
    source = source_notebook()
    submitted = copy.deepcopy(source)
    submitted["cells"] = [
        c for c in submitted["cells"] if _nbg(c).get("grade_id") != "q_zero_log_zero"
    ]
    cells = engine.autograded_copy(submitted, source)["cells"]
    (written,) = [c for c in cells if _nbg(c).get("grade_id") == "q_zero_log_zero"]
    assert written["source"] == "" and cells[-1] is written
    bare = engine.autograded_copy(hostile_notebook(), None)
    assert not any(_nbg(c) for c in bare["cells"])
    assert not any("HIDDEN TESTS" in c["source"] for c in bare["cells"])
    assert all(c.get("outputs", []) == [] for c in bare["cells"])


def test_markdown_keeps_its_text_without_html():
    """Is the student's Markdown kept word for word except that no ``<`` opens a tag?"""
    cell = {"cell_type": "markdown", "metadata": {}, "source": "$0<p<1$ and <img src=x>"}
    (out,) = engine.autograded_copy({"cells": [cell]}, None)["cells"]
    assert out["source"] == "$0< p<1$ and < img src=x>"
