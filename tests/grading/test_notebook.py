"""Reading submissions: the folder rules, bad files, test-cell detection, IPython syntax;
and the plain-data codec that crosses the sandbox boundary."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder.grading import bootstrap, notebook


def _nb(*cells: dict, major: int = 4) -> dict:
    return {"nbformat": major, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


def _code(source: str, **nbgrader) -> dict:
    meta = {"nbgrader": nbgrader} if nbgrader else {}
    return {"cell_type": "code", "metadata": meta, "source": source, "outputs": []}


def _write(folder, name, content):
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(content).encode() if isinstance(content, dict) else content
    (folder / name).write_bytes(data)


def test_expected_name_wins_and_others_are_reported(tmp_path):
    """With ps1.ipynb and a stray notebook, is ps1.ipynb graded and the other listed?"""
    _write(tmp_path, "ps1.ipynb", _nb(_code("x = 1")))
    _write(tmp_path, "scratch.ipynb", _nb(_code("x = 2")))
    _write(tmp_path, "numpy.py", b"raise SystemExit")
    path, notes = notebook.find_notebook(tmp_path, "ps1")
    assert path.name == "ps1.ipynb"
    assert any("scratch.ipynb" in n for n in notes) and any("numpy.py" in n for n in notes)


def test_timestamp_is_not_listed_as_ignored(tmp_path):
    """Is nbgrader's timestamp.txt, which the grader reads, kept off the ignored-files note?"""
    _write(tmp_path, "ps1.ipynb", _nb(_code("x = 1")))
    _write(tmp_path, "timestamp.txt", b"2026-11-21 20:00:00.000000 UTC")
    _write(tmp_path, "data.csv", b"1,2")
    _, notes = notebook.find_notebook(tmp_path, "ps1")
    assert notes == ["ignored files (only the notebook is graded): 'data.csv'"]


def test_single_renamed_notebook_is_graded(tmp_path):
    """Is a lone notebook with another name graded, the rename reported?"""
    _write(tmp_path, "ps1 (1).ipynb", _nb(_code("x = 1")))
    path, notes = notebook.find_notebook(tmp_path, "ps1")
    assert path.name == "ps1 (1).ipynb" and "expected name" in notes[0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2]", "not a notebook"),
        (b'{"nbformat": 2, "cells": []}', "format 4 or 3"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_files_are_ungradable_with_a_reason(tmp_path, content, reason):
    """Does each kind of broken file give 'ungradable' with a reason naming the problem?"""
    _write(tmp_path, "ps1.ipynb", content)
    with pytest.raises(notebook.Ungradable, match=reason):
        notebook.read_submission(tmp_path, "ps1", set())


def test_v3_notebook_is_upgraded_keeping_metadata():
    """Does an nbformat 3 notebook keep its cells' nbgrader metadata when upgraded?"""
    v3 = {
        "nbformat": 3,
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "x = 1",
                        "metadata": {"nbgrader": {"grade_id": "f"}},
                    }
                ]
            }
        ],
    }
    nb = notebook.upgrade_v3(v3)
    assert nb["cells"][0]["source"] == "x = 1"
    assert notebook.extract_code(nb, set())[0].grade_id == "f"


def test_test_cells_are_dropped_in_every_disguise():
    """Are test cells recognised by metadata, by battery id, by prefix and by the hidden marker?"""
    nb = _nb(
        _code("def f(): return 1", grade_id="f", solution=True, grade=False),
        _code("assert f() == 1", grade_id="test_f", grade=True, solution=False),
        _code("assert True", grade_id="renamed", grade=True, solution=False),
        _code("pass", grade_id="test_other"),
        _code("### BEGIN HIDDEN TESTS\ncheck('a', 'b', f)\n### END HIDDEN TESTS"),
        _code("y = 2"),
    )
    cells = notebook.extract_code(nb, {"test_f"})
    assert [c.source for c in cells] == ["def f(): return 1", "y = 2"]
    assert [c.number for c in cells] == [1, 6]  # as the student counts their code cells


def test_ipython_syntax_is_translated_not_run():
    """Do %magics and !shell lines become no-ops, reported, and the rest of the cell run?
    (More in test_ipython_syntax.py.)"""
    assert notebook.magics.to_python("%matplotlib inline\nx = 1") == (
        "pass\nx = 1\n",
        ["%matplotlib"],
    )
    assert notebook.magics.to_python("!pip install torch") == ("pass\n", ["!pip"])
    assert notebook.magics.to_python("%%timeit\nx = 1") == ("", ["%%timeit"])


@pytest.mark.parametrize(
    "value",
    [
        np.arange(6.0).reshape(2, 3),
        np.array([True, False]),
        np.float64(np.inf),
        (np.ones(2), 3, None, [1.5, float("nan")]),
        {"z": 1.0},
        2**70,
    ],
)
def test_plain_data_round_trip(value):
    """Does plain data survive encode → npz/JSON → decode unchanged, types included?"""
    arrays: list = []
    tree = json.loads(json.dumps(bootstrap.encode(value, arrays)))
    back = bootstrap.decode(tree, {f"a{i}": a for i, a in enumerate(arrays)})
    assert type(back) is type(value)
    np.testing.assert_equal(back, value)


def test_non_plain_data_is_marked_unsupported():
    """Are an ndarray subclass, an object array and an arbitrary object refused by type?"""

    class Sub(np.ndarray):
        pass

    for value in (np.zeros(2).view(Sub), np.array([object()]), object()):
        arrays: list = []
        back = bootstrap.decode(bootstrap.encode(value, arrays), {})
        assert isinstance(back, bootstrap.Unsupported)
