"""Issue 9, class 5: student code is run as written.

Valid Python is never altered (a continuation line may start with ``!=`` or ``%``, a
string may hold lines that look like magics); IPython syntax is translated the way
IPython itself does it (``%%time`` loses only its magic line, ``%time STATEMENT`` runs the
statement, ``>>>`` prompts are stripped), and what cannot run while grading (shell
commands, other magics) is skipped and reported. The unit tests run the translated code
with :func:`exec` and compare the namespace with what the cell means; the CLI run checks
that such cells score full marks in the sandbox.
"""

from __future__ import annotations

import time

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    answer_sources,
    battery,
    export_json,
    notebook,
    run_cli,
    submit,
)

from autograder.grading import notebook as reader

A = answer_sources()


def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": []}


def _translated(source: str) -> reader.Cell:
    nb = {"nbformat": 4, "metadata": {}, "cells": [_code(source)]}
    (cell,) = reader.extract_code(nb, set())
    return cell


def _run(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<cell>", "exec"), namespace)
    namespace.pop("__builtins__")
    return namespace


@pytest.mark.parametrize(
    "source",
    [
        "ok = (1\n!= 2)",
        "ok = (1\n    != 2)\nrest = 10 % 3",
        "rest = (10\n% 3)",
        'text = """\n!rm -rf /\n%matplotlib inline\n%%bash\n"""',
        "x = 5\nnot_shell = [x\n!= 4]",
    ],
)
def test_valid_python_runs_exactly_as_written(source):
    """Is a cell that is valid Python passed on byte for byte, whatever its lines start with?"""
    assert _translated(source).source == source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("%%time\nx = 1\ny = x + 1\n", {"x": 1, "y": 2}),
        ("%%capture\nz = 3\n", {"z": 3}),
        ("%time x = 40 + 2", {"x": 42}),
        ("y = %time 6 * 7", {"y": 42}),
        ("def f():\n    %time v = 2\n    return v\nr = f()", {"r": 2}),
        (">>> a = 1\n>>> b = a + 1", {"a": 1, "b": 2}),
        ("%matplotlib inline\nw = 1", {"w": 1}),
        ("files = !ls\nn = len(files)", {"files": [], "n": 0}),
        ("%%time\n%time t = 5\n!echo hi\nu = t + 1", {"t": 5, "u": 6}),
    ],
)
def test_ipython_syntax_means_what_ipython_means(source, expected):
    """Does the translated cell, run as plain Python, leave the values IPython would?"""
    namespace = _run(_translated(source).source)
    namespace.pop("f", None)
    assert namespace == expected


def test_cell_magic_loses_only_its_magic_line():
    """Does a ``%%time`` cell keep its body's lines, at the same line numbers?"""
    body = "import numpy as np\n\ndef f(p):\n    return -np.log(p)\n"
    code = _translated("%%time\n" + body).source
    assert code.splitlines()[1:] == body.splitlines()
    assert code.splitlines()[0] == ""


@pytest.mark.parametrize(
    ("source", "skipped"),
    [
        ("%%bash\nrm -rf /\n", "%%bash"),
        ("%%timeit\nx = 1\n", "%%timeit"),
        ("%%writefile numpy.py\nraise SystemExit\n", "%%writefile"),
        ("!pip install torch\nq = 1", "!pip"),
        ("len?", "help (?)"),
    ],
)
def test_what_cannot_run_is_skipped_and_reported(source, skipped):
    """Is a shell command or a non-Python cell magic not run, and named in the cell's
    report (the submission's notes)?"""
    cell = _translated(source)
    assert skipped in cell.skipped
    namespace = _run(cell.source)
    assert "x" not in namespace  # %%timeit's body is not run in the notebook's namespace


def test_deep_nesting_is_handed_on_not_parsed_forever():
    """Is a 150 000-character expression nested too deeply for Python's parser passed on
    as written (its error is the sandbox's to report), quickly and without raising?"""
    source = "x = " + "-" * 150_000 + "1"
    start = time.perf_counter()
    assert _translated(source).source == source
    assert time.perf_counter() - start < 5


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade students whose correct answers use IPython syntax, in one CLI run."""
    course = tmp_path_factory.mktemp("ipython-course")
    submit(course, "time_cell", notebook(replace={"entropy": "%%time\n" + A["entropy"]}))
    continued = "_CHECK = (1\n    != 2)\n" + A["self_information"]
    submit(course, "continuation", notebook(replace={"self_information": continued}))
    timed = "%time _ready = True\nassert _ready\n" + A["binary_entropy"]
    submit(course, "time_line", notebook(replace={"binary_entropy": timed}))
    submit(course, "shell", notebook(prepend=["%%bash\nrm -rf /\n", "!pip install torch"]))
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), *FAST_LIMITS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return export_json(course)


@pytest.mark.slow
@pytest.mark.parametrize("student", ["time_cell", "continuation", "time_line", "shell"])
def test_ipython_syntax_costs_no_marks(graded, student):
    """Do correct answers written with IPython syntax (or Python that looks like it) get
    full marks in the sandbox?"""
    row = graded[student]
    assert row["status"] == "graded" and row["score"] == battery().max_score, row


@pytest.mark.slow
def test_skipped_commands_are_reported(graded):
    """Does the feedback say which IPython commands did not run while grading?"""
    assert "%%bash" in graded["shell"]["reason"] and "!pip" in graded["shell"]["reason"]
