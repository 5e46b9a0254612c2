"""What a student needs: the README's one install line, the files beside each notebook, and
the links from each notebook to its chapter.

The released notebooks (``python -m autograder release``, into a temporary course) are
read as a student gets them: every module they import must be installed by the README's
``pip install`` line or be part of the standard library; ps7's digits must be in its
release folder and load with numpy alone; every chapter link must point at a chapter page
under the book's one base URL (``html.baseurl`` of ``_config.yml``).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder import release
from autograder.batteries import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[2]
#: import name -> the name pip installs it under, where the two differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow", "yaml": "pyyaml"}


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("student-course")
    args = argparse.Namespace(
        assignments=[],
        course=str(course),
        solutions=str(REPO / "solutions"),
        no_check=True,
        timeout=120,
    )
    assert release.run(args) == 0
    return course / "release"


def readme_packages() -> set[str]:
    """The packages of the ``pip install`` line in the README's "For students" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For students", 1)[1].split("\n## ", 1)[0]
    lines = re.findall(r"^\s*pip install (.+)$", section, re.M)
    assert len(lines) == 1, f"expected one pip install line for students, found {lines}"
    return {p.lower() for p in lines[0].split()}


def code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]


def imported_modules(source: str) -> set[str]:
    """Top-level modules that ``source`` imports, at any depth (inside an ``if`` too)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_imported_modules_are_found():
    """Does the import scan see nested, aliased and from-imports, and skip magics?"""
    source = textwrap.dedent(
        """
        %matplotlib inline
        import numpy as np
        from pathlib import Path
        if True:
            import matplotlib.pyplot as plt
        def f():
            from sklearn.datasets import load_digits
        """
    )
    assert imported_modules(source) == {"numpy", "pathlib", "matplotlib", "sklearn"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_readme_line_installs_every_import(assignment, released):
    """Is every module the released notebook imports in the README's line or the stdlib?"""
    packages = readme_packages()
    notebook = released / assignment / f"{assignment}.ipynb"
    modules = set().union(*(imported_modules(s) for s in code_cells(notebook)))
    missing = sorted(
        m
        for m in modules
        if m not in sys.stdlib_module_names and DISTRIBUTIONS.get(m, m).lower() not in packages
    )
    assert not missing, f"{assignment} imports {missing}, which `pip install` line lacks"


def test_readme_line_has_jupyterlab_and_nothing_the_notebooks_forbid():
    """Does the line install JupyterLab, and not scikit-learn (no notebook needs it now)?"""
    packages = readme_packages()
    assert "jupyterlab" in packages
    assert "scikit-learn" not in packages and "sklearn" not in packages


def test_ps7_ships_the_digits_beside_the_notebook(released):
    """Is digits.npz in ps7's release folder, equal to scikit-learn's 8×8 digits?"""
    from sklearn.datasets import load_digits

    path = released / "ps7_training" / release.DIGITS_FILE
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"data", "target"}
        pixels, labels = data["data"], data["target"]
    digits = load_digits()
    assert pixels.shape == (1797, 64) and labels.shape == (1797,)
    np.testing.assert_array_equal(pixels, digits.data)
    np.testing.assert_array_equal(labels, digits.target)
    assert path.stat().st_size < 100_000  # small enough to hand out with the notebook


def test_ps7_data_cell_runs_without_scikit_learn(released):
    """Does the released ps7 notebook load its data where scikit-learn cannot be imported?"""
    folder = released / "ps7_training"
    setup = next(s for s in code_cells(folder / "ps7_training.ipynb") if "digits" in s)
    script = (
        "import sys\n"
        "sys.modules['sklearn'] = None  # any import of scikit-learn now fails\n"
        f"exec(compile({setup!r}, 'cell', 'exec'))\n"
        "print(HAVE_DIGITS, X_train.shape, X_test.shape, sorted(set(y_train.tolist())))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == (
        "True (1347, 64) (450, 64) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebook_links_to_its_chapter_page(assignment, released):
    """Does the notebook link to chapter pages under the one base URL, with no mark left?"""
    text = (released / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    assert release.BOOK_URL_MARK not in text
    base = release.book_url()
    links = re.findall(re.escape(base) + r"/book/(\w+)\.html", text)
    assert links, f"{assignment} has no link to its chapter"
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    for page in links:
        assert (REPO / "book" / f"{page}.md").is_file() and f"book/{page}" in toc, page
    assert not re.search(r"\(`book/\w+\.md`\)", text), "a chapter named by its file path"


def test_base_url_is_read_from_config_yml(tmp_path):
    """Is html.baseurl of _config.yml the URL (trailing slash dropped), and its absence an error?"""
    (tmp_path / "_config.yml").write_text("html:\n  baseurl: https://x.example/book/\n")
    assert release.book_url(tmp_path) == "https://x.example/book"
    (tmp_path / "_config.yml").write_text("title: no url\n")
    with pytest.raises(ValueError, match=r"html\.baseurl"):
        release.book_url(tmp_path)
