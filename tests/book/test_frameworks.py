"""Does the frameworks appendix keep one honest row per function of the reference module?

``book/frameworks.md`` maps each public function of ``autograder`` to PyTorch, JAX/optax
and Keras. A row that names a function the module no longer exports, or an exported
function without a row, would make the table lie; these tests read the Markdown tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import autograder

PAGE = Path(__file__).resolve().parents[2] / "book" / "frameworks.md"
ROW = re.compile(r"^\|\s*`(?P<name>[A-Za-z_][A-Za-z0-9_]*)`\s*\|(?P<rest>.*)\|\s*$")


def table_rows() -> list[tuple[str, list[str]]]:
    """(function name, other cells) for every table row whose first cell is code."""
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if not match:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", match["rest"])]  # \| is a pipe
        if cells[0] != "PyTorch":  # not the header row
            rows.append((match["name"], cells))
    return rows


def test_every_row_names_an_exported_function():
    """Is the first cell of every row a name in ``autograder.__all__``?"""
    unknown = [name for name, _ in table_rows() if name not in autograder.__all__]
    assert not unknown, f"rows for functions autograder does not export: {unknown}"


def test_every_exported_function_has_exactly_one_row():
    """Does every public function appear in exactly one row?"""
    names = [name for name, _ in table_rows()]
    missing = sorted(set(autograder.__all__) - set(names))
    duplicated = sorted({n for n in names if names.count(n) > 1})
    assert not missing, f"exported functions without a row: {missing}"
    assert not duplicated, f"functions with more than one row: {duplicated}"


def test_every_row_fills_every_column():
    """Does each row have the four cells after the name (PyTorch, JAX, Keras, differences)?"""
    short = [name for name, cells in table_rows() if len(cells) != 4 or not all(cells)]
    assert not short, f"rows with a missing or empty cell: {short}"
