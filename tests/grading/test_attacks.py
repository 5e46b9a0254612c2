"""The attack catalogue of notes/security.md, one real submission per attack.

All submissions are graded by ONE run of ``python -m autograder grade ps1_information``
(``--jobs 2``) into one gradebook; each test then checks its student's status and scores
in the JSON export, and the suite checks that the honest students and the gradebook came
through intact. Row numbers refer to the catalogue.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    answer_sources,
    battery,
    code_cell,
    export_json,
    notebook,
    run_cli,
    scores_of,
    submit,
)

pytestmark = pytest.mark.slow

A = answer_sources()
WRONG_SI = textwrap.dedent(
    """
    def self_information(p, *, base=None):
        return np.zeros_like(np.asarray(p, dtype=np.float64))
    """
)


def _v3(nb: dict) -> dict:
    """The notebook in nbformat 3 (worksheets, ``input``), keeping cell metadata."""
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cells.append(
                {
                    "cell_type": "code",
                    "input": cell["source"],
                    "language": "python",
                    "metadata": cell["metadata"],
                    "outputs": [],
                }
            )
        else:
            cells.append(
                {"cell_type": "markdown", "metadata": cell["metadata"], "source": cell["source"]}
            )
    return {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [{"cells": cells}],
    }


def _build(course: Path, port: int) -> None:
    """Write every attacker's (and two honest students') submission into ``course``."""
    gradebook = course / "gradebook.db"
    solution = Path(__file__).resolve().parents[2] / "solutions" / ASSIGNMENT
    other = course / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    marker = course / "unpickled-marker"
    n_cases = max(len(t.cases) for t in battery().tests)
    site = str(Path(np.__file__).resolve().parents[1])
    base_site = str(Path(sysconfig.get_paths()["stdlib"]) / "site-packages")

    submit(course, "honest", notebook())
    submit(course, "honest2", notebook())
    # 1: monkeypatching the comparison helpers does nothing to a verdict made elsewhere
    submit(
        course,
        "monkeypatch",
        notebook(
            replace={"self_information": WRONG_SI},
            append=[
                "import math\nnp.allclose = lambda *a, **k: True\n"
                "np.isclose = lambda *a, **k: True\n"
                "math.isclose = lambda *a, **k: True\n"
                "np.testing.assert_allclose = lambda *a, **k: None\n"
                "np.array_equal = lambda *a, **k: True"
            ],
        ),
    )
    # 2: the child's environment is clean: no grader variables, no HOME of the grader
    env_probe = A["self_information"].replace(
        "def self_information(p, *, base=None):",
        "import os\n\ndef self_information(p, *, base=None):\n"
        "    if set(os.environ) - {'PATH', 'HOME', 'TMPDIR', 'LANG', 'OPENBLAS_NUM_THREADS',\n"
        "            'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'MPLBACKEND', 'MPLCONFIGDIR'}:\n"
        "        return np.zeros(np.shape(p))\n"
        "    if os.environ.get('HOME') != os.getcwd():\n"
        "        return np.zeros(np.shape(p))",
    )
    submit(course, "envcheat", notebook(replace={"self_information": env_probe}))
    # 3: IPython machinery is not there to hijack
    submit(
        course,
        "ipython",
        notebook(
            replace={"self_information": WRONG_SI},
            prepend=[
                "ip = get_ipython()\n"
                "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
                "ip.showtraceback = lambda *a, **k: None"
            ],
        ),
    )
    # 4: fake modules in sys.modules stay in the child
    submit(
        course,
        "fakemodules",
        notebook(
            replace={"self_information": WRONG_SI},
            prepend=[
                "import sys, types\nfake = types.ModuleType('autograder')\n"
                "fake.self_information = lambda p, base=None: 0\n"
                "sys.modules['autograder'] = fake\nsys.modules['autograder.batteries'] = fake\n"
                "sys.modules['numpy.testing'] = fake"
            ],
        ),
    )
    # 5: files beside the notebook are never used
    submit(
        course,
        "numpyfile",
        notebook(),
        extra={
            "numpy.py": "raise SystemExit('hijacked numpy')\n",
            "autograder.py": "self_information = lambda *a, **k: 0\n",
            "sitecustomize.py": "import os; os._exit(0)\n",
        },
    )
    # 6: the exact type/dtype/shape policy
    liar = (
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n\n"
        "def self_information(p, *, base=None):\n"
        "    return np.zeros(np.shape(p)).view(Liar)\n"
    )
    submit(course, "subclass", notebook(replace={"self_information": liar}))
    as_list = A["self_information"].replace(
        "return nats\n", "return np.atleast_1d(nats).tolist()\n"
    )
    submit(course, "aslist", notebook(replace={"self_information": as_list}))
    as_f32 = A["self_information"].replace("return nats\n", "return nats.astype(np.float32)\n")
    submit(course, "float32", notebook(replace={"self_information": as_f32}))
    scalar = A["entropy"].replace("return nats\n", "return float(np.sum(nats))\n")
    submit(course, "scalar", notebook(replace={"entropy": scalar}))
    huge = "def self_information(p, *, base=None):\n    return np.zeros(10**7)\n"
    submit(course, "hugeresult", notebook(replace={"self_information": huge}))
    deep = (
        "def self_information(p, *, base=None):\n    x = []\n    for _ in range(100_000):\n"
        "        x = [x]\n    return x\n"
    )
    submit(course, "deepresult", notebook(replace={"self_information": deep}))
    # 7: NaN and inf are judged, not waved through
    nan = "def binary_entropy(p, *, base=None):\n    return np.full(np.shape(p), np.nan)\n"
    submit(course, "nan", notebook(replace={"binary_entropy": nan}))
    # 8: wrong signature, missing function, raising function: that test only
    sig = "def self_information(p, b):\n    return -np.log(p) / np.log(b)\n"
    submit(course, "signature", notebook(replace={"self_information": sig}))
    submit(course, "missing", notebook(replace={"entropy": "# I gave up on this one\n"}))
    raises = "def binary_entropy(p, *, base=None):\n    raise ValueError('nope')\n"
    submit(course, "raises", notebook(replace={"binary_entropy": raises}))
    # 9: endless loops
    submit(course, "toploop", notebook(append=["while True:\n    pass"]))
    loop = "def self_information(p, *, base=None):\n    while True:\n        pass\n"
    submit(course, "funcloop", notebook(replace={"self_information": loop}))
    loops = {
        gid: f"def {gid}(p, *, axis=-1, base=None):\n    while True:\n        pass\n"
        for gid in ("self_information", "entropy", "binary_entropy")
    }
    submit(course, "allloop", notebook(replace=loops))
    # 10: fork and thread bombs meet the process limit of the sandbox user
    bomb = (
        "import os\nfor _ in range(64):\n    try:\n        os.fork()\n"
        "    except OSError:\n        break"
    )
    submit(course, "forkbomb", notebook(prepend=[bomb]))
    threads = (
        "import threading, time\nfor _ in range(100_000):\n    try:\n"
        "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "    except RuntimeError:\n        break"
    )
    submit(course, "threadbomb", notebook(prepend=[threads]))
    # 11: a 100 GB allocation fails in the child only
    submit(course, "memory", notebook(prepend=["big = np.ones(100 * 2**30 // 8)"]))
    # 12: os._exit at the top level, a segfault inside a function
    submit(course, "exit", notebook(append=["import os\nos._exit(0)"]))
    segv = (
        "import ctypes\n\ndef self_information(p, *, base=None):\n    return ctypes.string_at(0)\n"
    )
    submit(course, "segfault", notebook(replace={"self_information": segv}))
    kill = (
        "import os, signal\n\ndef binary_entropy(p, *, base=None):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    submit(course, "sigkill", notebook(replace={"binary_entropy": kill}))
    # 13: output floods are capped
    flood = "print('x' * 100_000_000)"
    noisy = A["self_information"].replace(
        "def self_information(p, *, base=None):",
        "def self_information(p, *, base=None):\n    print('y' * 1_000_000)",
    )
    submit(course, "flood", notebook(replace={"self_information": noisy}, prepend=[flood]))
    # 14: the gradebook, the solutions and other submissions are out of reach
    vandal = f"""
import os, sqlite3
LEAKS = []
PATHS = [{str(gradebook)!r}, {str(solution)!r}, {str(other)!r}]
for path in PATHS + ['/etc/passwd', '/proc/1/environ']:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(10)
        LEAKS.append(path)
    except OSError:
        pass
try:
    db = sqlite3.connect({str(gradebook)!r})
    db.execute('UPDATE grade SET auto_score = 0')
    db.commit()
    LEAKS.append('sqlite')
except Exception:
    pass
for path in [{str(gradebook)!r}, {str(other)!r}]:
    try:
        os.remove(path)
        LEAKS.append('removed ' + path)
    except OSError:
        pass
import glob
# package folders that would hold scipy & co: hidden or absent
for folder in glob.glob('/usr/lib/python3*/*-packages') + [{site!r}, {base_site!r}]:
    try:
        if {{'scipy', 'yaml', 'sklearn', 'autograder'}} & set(os.listdir(folder)):
            LEAKS.append(folder)
    except OSError:
        pass
"""
    probe = A["self_information"].replace(
        "def self_information(p, *, base=None):",
        "def self_information(p, *, base=None):\n"
        "    if LEAKS:\n        return np.zeros(np.shape(p))",
    )
    submit(course, "vandal", notebook(replace={"self_information": probe}, prepend=[vandal]))
    # 15: no network
    net = f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()
    NET = True
except OSError:
    NET = False
"""
    probe = A["self_information"].replace(
        "def self_information(p, *, base=None):",
        "def self_information(p, *, base=None):\n    if NET:\n        return np.zeros(np.shape(p))",
    )
    submit(course, "network", notebook(replace={"self_information": probe}, prepend=[net]))
    # 16: a fake score line and a hang
    fake = (
        "print('score: 100')\nprint(json.dumps({'score': 9, 'max_score': 9}))\n"
        "import time\ntime.sleep(10**6)"
    )
    submit(course, "fakescore", notebook(append=["import json\n" + fake]))
    # 17: forbidden imports
    sci = "from scipy.special import entr\n\n" + A["self_information"]
    submit(course, "scipy", notebook(replace={"self_information": sci}))
    ref = (
        "import autograder\n\ndef entropy(p, *, axis=-1, base=None):\n"
        "    return autograder.entropy(p, axis=axis, base=base)\n"
    )
    submit(course, "reference", notebook(replace={"entropy": ref}))
    torch = A["binary_entropy"].replace(
        "def binary_entropy(p, *, base=None):",
        "def binary_entropy(p, *, base=None):\n    import torch  # noqa",
    )
    submit(course, "torch", notebook(replace={"binary_entropy": torch}))
    # 18: bad files
    submit(course, "badjson", b'{"cells": [')
    submit(course, "nonutf8", b'{"cells": "\xff\xfe"}')
    submit(course, "v3", _v3(notebook()))
    submit(course, "emptyfile", b"")
    submit(course, "notnotebook", b"[1, 2, 3]")
    # 19: names and folders
    submit(course, "renamed", notebook(), name=f"{ASSIGNMENT} (1).ipynb")
    folder = submit(course, "twonb", notebook(), name="a.ipynb")
    (folder / "b.ipynb").write_text(json.dumps(notebook()))
    submit(course, "emptydir", None)
    # 20: test cells deleted, edited, duplicated; nbgrader metadata edited
    submit(course, "notests", notebook(drop_tests=True))
    edited = notebook(replace={"self_information": WRONG_SI})
    for cell in edited["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cell["source"] = "pass"
            meta["points"] = 1000
    dup = code_cell(
        "assert True",
        {"nbgrader": {"grade": True, "grade_id": "test_bonus", "points": 50, "solution": False}},
    )
    edited["cells"].append(dup)
    submit(course, "editedtests", edited)
    # 22: crafted result files (including a pickle that would run code when loaded)
    crafted = f"""
import os, json

class Boom:
    def __reduce__(self):
        return (os.system, ('touch {marker}',))

def self_information(p, *, base=None):
    os.makedirs('out', exist_ok=True)
    for k in range(10):
        outcomes = [{{"kind": "returned", "value": {{"__nd__": 0}}}}] * {n_cases}
        with open(f'out/test_{{k}}.json', 'w') as f:
            json.dump({{"outcomes": outcomes}}, f)
        np.savez(f'out/test_{{k}}.npz', a0=np.array([Boom()], dtype=object))
    os._exit(0)
"""
    submit(course, "crafted", notebook(replace={"self_information": crafted}))
    evil = course / "evil"
    evil.mkdir()
    (evil / "cells.json").write_text('{"errors": [{"cell": 99, "error": "LEAKED-SECRET"}]}')
    link = f"import os, shutil\nshutil.rmtree('out')\nos.symlink({str(evil)!r}, 'out')"
    submit(course, "symlink", notebook(append=[link]))
    # 23: huge and deeply nested outputs stored in the notebook
    big = notebook()
    nested: list = []
    for _ in range(200):
        nested = [nested]
    for cell in big["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [
                {"output_type": "stream", "name": "stdout", "text": "z" * 5_000_000},
                {
                    "output_type": "execute_result",
                    "data": {"application/json": nested},
                    "metadata": {},
                    "execution_count": 1,
                },
            ]
            break
    submit(course, "bigoutputs", big)
    # 24: the state every test starts from is reset
    state = (
        "import os, sys\nos.chdir('/')\nos.environ['HOME'] = '/nowhere'\n"
        "sys.setrecursionlimit(60)\nnp.seterr(all='raise')\nsys.stdout = None"
    )
    probe = A["self_information"].replace(
        "def self_information(p, *, base=None):",
        "import os, sys\n\ndef self_information(p, *, base=None):\n"
        "    if os.getcwd() != os.environ['HOME'] or sys.getrecursionlimit() < 1000 \\\n"
        "            or sys.stdout is None:\n"
        "        return np.zeros(np.shape(p))",
    )
    submit(course, "state", notebook(replace={"self_information": probe}, prepend=[state]))
    # 25: correct answers written nothing like the reference
    different = {
        "self_information": (
            "import math\nimport numpy.testing\nfrom numpy.polynomial import polynomial as P\n\n"
            "def self_information(p, *, base=None):\n"
            "    # lazily imported numpy submodules must be importable in the sandbox\n"
            "    scale = P.polyval(1.0, [0.0, 1.0]) * (1.0 if base is None else math.log(base))\n"
            "    f = np.vectorize(lambda x: math.inf if x == 0 else -math.log(x) / scale,\n"
            "                     otypes=[np.float64])\n"
            "    return f(np.asarray(p, dtype=np.float64))\n"
        ),
        "entropy": (
            "def entropy(p, *, axis=-1, base=None):\n"
            "    p = np.moveaxis(np.asarray(p, dtype=np.float64), axis, -1)\n"
            "    terms = np.zeros_like(p)\n"
            "    np.multiply(p, np.log(p, where=p > 0, out=np.zeros_like(p)), out=terms)\n"
            "    h = -terms.sum(axis=-1)\n"
            "    return h if base is None else h / np.log(base)\n"
        ),
    }
    submit(course, "different", notebook(replace=different))


STUDENTS_TIMEOUT = {"toploop", "fakescore"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every attack in one CLI run; return (course, export by student, CLI output)."""
    course = tmp_path_factory.mktemp("attack-course")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        _build(course, listener.getsockname()[1])
        proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *FAST_LIMITS)
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course, export_json(course), proc.stdout


def _check(graded, student, status="graded", zero=()):
    """Assert ``student``'s status and that exactly the ``zero`` tests scored 0."""
    rows = graded[1]
    row = rows[student]
    assert row["status"] == status, (student, row["status"], row["reason"])
    if status == "graded":
        scores = scores_of(row)
        for t in battery().tests:
            expected = 0.0 if t.grade_id in zero else float(t.points)
            assert scores[t.grade_id] == expected, (student, t.grade_id, scores, row["tests"])
    return row


def _message(row, grade_id):
    return next(t["message"] for t in row["tests"] if t["grade_id"] == grade_id)


def test_honest_students_get_full_marks(graded):
    """Do the honest submissions graded in the same run as every attack keep full marks?"""
    for student in ("honest", "honest2"):
        row = _check(graded, student)
        assert row["score"] == battery().max_score


def test_gradebook_intact_and_readable_by_nbgrader(graded):
    """Is the gradebook readable by nbgrader's own API with one grade per test cell?"""
    from autograder.grading.gradebook import import_nbgrader_api

    course, rows, _ = graded
    api = import_nbgrader_api()
    with api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission(ASSIGNMENT, "honest")
        grades = {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}
        for t in battery().tests:
            assert grades[t.grade_id] == float(t.points)
        assert len({s.id for s in gb.students}) == len(rows)
    assert (course / "submitted" / "honest" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()


def test_row01_monkeypatched_comparisons(graded):
    """Does patching np.allclose, math.isclose and np.testing leave a wrong answer wrong?"""
    _check(graded, "monkeypatch", zero={"test_self_information"})


def test_row02_clean_environment(graded):
    """Does student code see only the sandbox's clean environment (no grader variables)?"""
    _check(graded, "envcheat")


def test_row03_ipython_hooks(graded):
    """Is an IPython input transformer powerless (no IPython in the sandbox)?"""
    _check(graded, "ipython", zero={"test_self_information"})


def test_row04_fake_modules(graded):
    """Do fake entries in sys.modules stay inside the child?"""
    _check(graded, "fakemodules", zero={"test_self_information"})


def test_row05_files_beside_the_notebook(graded):
    """Are numpy.py / sitecustomize.py beside the notebook ignored and reported?"""
    row = _check(graded, "numpyfile")
    assert "numpy.py" in graded[2] or row


def test_row06_type_dtype_shape_policy(graded):
    """Do an ndarray subclass, a list, float32 and a scalar-for-a-batch all score 0?"""
    row = _check(graded, "subclass", zero={"test_self_information"})
    assert "numpy array" in _message(row, "test_self_information")
    assert "Liar" in _message(row, "test_self_information")
    _check(graded, "aslist", zero={"test_self_information"})
    row = _check(graded, "float32", zero={"test_self_information"})
    assert "float64" in _message(row, "test_self_information")
    rows = graded[1]
    assert scores_of(rows["scalar"])["test_entropy_axis"] == 0.0
    _check(graded, "hugeresult", zero={"test_self_information"})
    _check(graded, "deepresult", zero={"test_self_information"})


def test_row07_nan(graded):
    """Is an all-NaN answer rejected with a message about NaN?"""
    row = _check(graded, "nan", zero={"test_binary_entropy"})
    assert "NaN" in _message(row, "test_binary_entropy")


def test_row08_signature_missing_raises(graded):
    """Do a wrong signature, a missing function and an exception cost only their own test?"""
    _check(graded, "signature", zero={"test_self_information"})
    row = _check(graded, "missing", zero={"test_entropy", "test_entropy_axis"})
    assert "not defined" in _message(row, "test_entropy")
    row = _check(graded, "raises", zero={"test_binary_entropy"})
    assert "ValueError" in _message(row, "test_binary_entropy")


def test_row09_endless_loops(graded):
    """Is a top-level loop a 'timeout' and a looping function a failed test with a reason?"""
    row = _check(graded, "toploop", status="ungradable")
    assert row["reason"].startswith("timeout")
    assert row["score"] == 0.0
    row = _check(graded, "funcloop", zero={"test_self_information"})
    assert "did not finish" in _message(row, "test_self_information")
    # every test loops: more than the top-level limit in total, yet each test is judged
    row = _check(graded, "allloop", zero={t.grade_id for t in battery().tests})
    assert all("did not finish" in t["message"] for t in row["tests"])


def test_row10_fork_and_thread_bombs(graded):
    """Are fork and thread bombs stopped by the process limit, with a recorded result?"""
    _check(graded, "forkbomb")
    row = graded[1]["threadbomb"]
    # The threads hit the process or address-space limit; if they still hold the process
    # budget when a test is due, that test cannot start and says so.
    assert row["status"] == "graded"
    for t in row["tests"]:
        assert t["score"] == t["max_score"] or "could not start" in t["message"]


def test_row11_memory(graded):
    """Does a 100 GB allocation fail in the child only (MemoryError), the rest graded?"""
    _check(graded, "memory")


def test_row12_exit_and_segfault(graded):
    """Is os._exit a 'crashed' submission and a segfault a failed test, the batch going on?"""
    row = _check(graded, "exit", status="ungradable")
    assert row["reason"].startswith("crashed")
    row = _check(graded, "segfault", zero={"test_self_information"})
    assert "died" in _message(row, "test_self_information")
    row = _check(graded, "sigkill", zero={"test_binary_entropy"})
    assert "SIGKILL" in _message(row, "test_binary_entropy")


def test_row13_output_flood(graded):
    """Is 100 MB of output capped, the answers graded, the feedback small?"""
    course, _, _ = graded
    _check(graded, "flood")
    html = course / "feedback" / "flood" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert html.stat().st_size < 100_000


def test_row14_vandalism(graded):
    """Can the student's code see the gradebook, the solutions, other submissions or /proc?"""
    course, _, _ = graded
    _check(graded, "vandal")
    assert (course / "gradebook.db").exists()


def test_row15_network(graded):
    """Does a connection to a live local port fail inside the sandbox?"""
    _, _, out = graded
    if "no network: yes" in out:
        _check(graded, "network")
    else:  # the machine forbids network namespaces: the grader must have said so
        assert "no network: NO" in out


def test_row16_fake_score_then_hang(graded):
    """Does a printed 'score: 100' followed by a hang give a timeout and no score?"""
    row = _check(graded, "fakescore", status="ungradable")
    assert row["reason"].startswith("timeout") and row["score"] == 0.0


def test_row17_forbidden_imports(graded):
    """Do scipy, the reference and torch in an answer cell score 0 with a message naming them?"""
    row = _check(graded, "scipy", zero={"test_self_information"})
    assert "scipy" in _message(row, "test_self_information")
    row = _check(graded, "reference", zero={"test_entropy", "test_entropy_axis"})
    assert "autograder" in _message(row, "test_entropy")
    _check(graded, "torch", zero={"test_binary_entropy"})


def test_row18_bad_files(graded):
    """Are invalid JSON, non-UTF-8, empty and non-notebook files ungradable with a reason,
    and an nbformat 3 notebook upgraded and graded?"""
    rows = graded[1]
    assert "JSON" in rows["badjson"]["reason"]
    assert "UTF-8" in rows["nonutf8"]["reason"]
    assert "empty" in rows["emptyfile"]["reason"]
    assert "not a notebook" in rows["notnotebook"]["reason"]
    for student in ("badjson", "nonutf8", "emptyfile", "notnotebook"):
        assert rows[student]["status"] == "ungradable"
    _check(graded, "v3")


def test_row19_names_and_folders(graded):
    """Is a renamed notebook graded (and reported), and are two notebooks or none refused?"""
    row = _check(graded, "renamed")
    assert "expected name" in row["reason"]
    rows = graded[1]
    assert rows["twonb"]["status"] == "ungradable" and "several" in rows["twonb"]["reason"]
    assert rows["emptydir"]["status"] == "ungradable"
    assert "no notebook" in rows["emptydir"]["reason"]


def test_row20_test_cells_tampered(graded):
    """Do deleted, emptied, re-pointed or duplicated test cells change nothing?"""
    _check(graded, "notests")
    row = _check(graded, "editedtests", zero={"test_self_information"})
    assert row["max_score"] == battery().max_score + 1  # + the manually graded answer
    assert "test_bonus" not in scores_of(row)


def test_row22_crafted_results(graded):
    """Are forged result files and pickles refused without ever being unpickled?"""
    course, _, _ = graded
    _check(graded, "crafted", zero={"test_self_information"})
    assert not (course / "unpickled-marker").exists()
    # `out` replaced by a link to a grader-side folder: nothing is read through it
    page = (course / "feedback" / "symlink" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "LEAKED-SECRET" not in page


def test_row23_huge_outputs(graded):
    """Are huge and nested outputs stored in the notebook ignored?"""
    _check(graded, "bigoutputs")


def test_row24_state_reset(graded):
    """Does every test start from a known cwd, environment, recursion limit and stdout?"""
    _check(graded, "state")


def test_row25_correct_but_different(graded):
    """Does a correct answer written nothing like the reference get full marks?"""
    _check(graded, "different")


def test_feedback_reveals_no_hidden_inputs_or_test_code(graded):
    """Does the feedback page hold no test code, no hidden inputs and no script?"""
    course, _, _ = graded
    page = (course / "feedback" / "subclass" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "<script" not in page.lower() and "http" not in page
    assert "check(" not in page and "BEGIN HIDDEN" not in page
    assert "1e-300" not in page


def test_summary_table_lists_every_student(graded):
    """Does the CLI print one summary line per submission and the sandbox report?"""
    _, rows, out = graded
    for student in rows:
        assert student in out
    assert "sandbox:" in out


def test_pickle_would_have_run(tmp_path):
    """Is the crafted pickle of row 22 really dangerous (so its refusal proves something)?"""
    marker = tmp_path / "m"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pickle.loads(pickle.dumps(Boom()))
    assert marker.exists()
