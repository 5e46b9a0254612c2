"""Test batteries: the visible and hidden cases behind every graded test cell.

One module per assignment (``autograder/batteries/<assignment>.py``) defines ``BATTERY``,
a :class:`~autograder.batteries.core.Battery` with one
:class:`~autograder.batteries.core.Test` per nbgrader test cell (same ``grade_id``, same
points). Two ways to run a test:

- in the student's kernel, the hidden block of a test cell calls
  ``check("<assignment>", "<grade_id>", <function>)``: every case runs in-process through
  :func:`~autograder.batteries.harness.run_case`, :meth:`Battery.judge` scores it, and a
  failure raises ``AssertionError`` with the actionable message (this is what
  ``nbgrader validate`` and a student's self-check see);
- the trusted grader (``autograder.grading``) runs ``harness.run_case`` in a sandboxed
  child and calls :meth:`Battery.judge` in its own process.

Adding a test cell to an assignment:

1. in the source notebook, a code cell with nbgrader metadata ``grade: true, solution:
   false, locked: true, points: N, grade_id: test_<function>[_suffix]``: a one-line
   docstring (a question), self-contained visible asserts with actionable messages (never
   an import of ``autograder``), then ``### BEGIN HIDDEN TESTS`` / ``from
   autograder.batteries import check`` / ``check("<assignment>", "<grade_id>",
   <function>)`` / ``### END HIDDEN TESTS``;
2. in ``autograder/batteries/<assignment>.py``, a ``Test`` with the same ``grade_id`` and
   points whose cases repeat the visible asserts' inputs first, then the hidden ones, each
   with the ``category`` of the misconception it probes (add a message for a new category
   to the battery's ``messages``);
3. run ``tests/assignments/test_notebooks.py`` (the source passes, the stub fails, the
   cells and the battery agree) and add the misconception to a wrong-answer catalogue;
   a new category also needs a slip in ``tests/batteries/test_misconceptions.py`` whose
   first failing category it is (order the cases so that the real cause fails first: the
   class report counts a failed test under its first category, ``Verdict.categories``).

>>> from autograder.batteries import ASSIGNMENTS, load
>>> ASSIGNMENTS[0]
'ps1_information'
"""

from __future__ import annotations

import functools
import importlib

from autograder.batteries.core import (
    DEFAULT_FORBIDDEN,
    Battery,
    Case,
    Test,
    Verdict,
    find_forbidden_imports,
    forbidden_in_function,
)

#: Every assignment of the course, in teaching order (= folder = notebook stem = module).
ASSIGNMENTS = (
    "ps1_information",
    "ps2_divergence",
    "ps3_softmax_sigmoid",
    "ps4_classification_losses",
    "ps5_gradients",
    "ps6_regression_losses",
    "ps7_training",
    "ps8_beyond",
)

__all__ = [
    "ASSIGNMENTS",
    "DEFAULT_FORBIDDEN",
    "Battery",
    "Case",
    "Test",
    "Verdict",
    "check",
    "find_forbidden_imports",
    "forbidden_in_function",
    "load",
]


@functools.cache
def load(assignment: str) -> Battery:
    """Return the battery of ``assignment`` (``ValueError`` for an unknown name)."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {ASSIGNMENTS}")
    module = importlib.import_module(f"autograder.batteries.{assignment}")
    return module.BATTERY


def check(assignment: str, grade_id: str, func) -> None:
    """Run one test cell's battery on ``func`` in this process; raise on failure.

    Raises ``AssertionError`` whose message says what to fix (never the hidden inputs);
    returns ``None`` and prints nothing when every case passes.
    """
    battery = load(assignment)
    test = battery.test(grade_id)
    if not callable(func):
        raise AssertionError(f"{test.function} must be a function, got {type(func).__name__}")
    verdict = battery.run(test, func)
    if not verdict.passed:
        raise AssertionError(f"{test.grade_id}: {verdict.message}")
