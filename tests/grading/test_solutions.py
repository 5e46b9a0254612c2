"""Does every assignment's own solution notebook get full marks through the sandbox?

This ties the three parts together: the source notebook (solutions/), its battery
(autograder/batteries/) and the trusted grader. Graded in-process through
:func:`autograder.grading.engine.grade_assignment`, one course folder per assignment.
"""

from __future__ import annotations

import json
import shutil

import pytest
from grading_helpers import REPO

from autograder.batteries import ASSIGNMENTS, load
from autograder.grading import engine

pytestmark = pytest.mark.slow

PRESENT = [a for a in ASSIGNMENTS if (REPO / "solutions" / a / f"{a}.ipynb").is_file()]


@pytest.mark.parametrize("assignment", PRESENT)
def test_solution_gets_full_marks(tmp_path, assignment):
    """Does the reference solution of this assignment score full marks in the sandbox?"""
    folder = tmp_path / "submitted" / "solution" / assignment
    folder.mkdir(parents=True)
    shutil.copy(REPO / "solutions" / assignment / f"{assignment}.ipynb", folder)
    (outcome,) = engine.grade_assignment(tmp_path, assignment, ["solution"])
    result = outcome.result
    assert result.status == "graded", result.reason
    failed = {t.grade_id: t.message for t in result.tests if t.score < t.max_score}
    assert not failed, failed
    assert result.score == load(assignment).max_score
    assert (tmp_path / "feedback" / "solution" / assignment / f"{assignment}.html").is_file()


def test_sandbox_raises_on_overflow_where_the_battery_asks(tmp_path):
    """Does the sandbox honour a test's ``raise_on``, so the naive sigmoid
    ``1 / (1 + exp(-z))``, right in value but overflowing, loses test_sigmoid there too?"""
    assignment = "ps3_softmax_sigmoid"
    nb = json.loads((REPO / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sigmoid":
            cell["source"] = (
                "import numpy as np\n\n\ndef sigmoid(z):\n"
                "    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))\n"
            )
    folder = tmp_path / "submitted" / "naive" / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb))
    (outcome,) = engine.grade_assignment(tmp_path, assignment, ["naive"])
    scores = {t.grade_id: t for t in outcome.result.tests}
    assert scores["test_sigmoid"].score == 0
    assert "floating-point over" in scores["test_sigmoid"].message
    assert scores["test_softmax"].score == scores["test_softmax"].max_score
