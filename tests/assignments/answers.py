"""Grade an answer written as source text, in-process, against an assignment's battery.

The wrong-answer catalogues (``test_wrong_answers_*.py``) write each answer as the code a
student would type in the answer cell, exec it into a fresh namespace (with ``numpy as
np`` and ``sympy`` available, as in the notebooks) and grade every test cell of that
function through :meth:`Battery.run`, the same harness + judge path as ``check``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from autograder.batteries import Verdict, load


@dataclass(frozen=True)
class Wrong:
    """One entry of a wrong-answer catalogue."""

    name: str
    assignment: str
    function: str
    grade_id: str  # the test cell that must fail
    fragment: str  # a piece of the feedback that names the misconception
    source: str
    passes: tuple[str, ...] = ()  # test cells of the same function that must still pass


def define(source: str, name: str):
    """Exec ``source`` (dedented) in a fresh namespace and return the function ``name``."""
    import sympy

    namespace = {"np": np, "numpy": np, "sympy": sympy, "__name__": "__student__"}
    exec(textwrap.dedent(source), namespace)  # test-authored code standing in for a student
    return namespace[name]


def grade_source(assignment: str, function: str, source: str) -> dict[str, Verdict]:
    """Verdict of every test cell of ``assignment`` that checks ``function``."""
    battery = load(assignment)
    func = define(source, function)
    return {t.grade_id: battery.run(t, func) for t in battery.tests if t.function == function}
