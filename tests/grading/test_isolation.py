"""File isolation that does not depend on where things are installed (issue 9, class 3), and
no channel to hidden inputs (class 6).

Real submissions graded by ``python -m autograder grade``, plus one mount test of the
sandbox's root builder run in a private mount namespace. Each test says what the student's
code tries; an answer that the probe would spoil scores 0, so full marks mean the probe
found nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import (
    ASSIGNMENT,
    REPO,
    answer_sources,
    battery,
    export_json,
    notebook,
    run_cli,
    scores_of,
    submit,
)

from autograder.batteries import load
from autograder.grading import bootstrap

pytestmark = pytest.mark.slow

A = answer_sources()
PS5 = "ps5_gradients"


def _probe(flag: str) -> str:
    """self_information that answers wrongly when the module-level ``flag`` is true."""
    return A["self_information"].replace(
        "def self_information(p, *, base=None):",
        f"def self_information(p, *, base=None):\n    if {flag}:\n"
        "        return np.zeros(np.shape(p))",
    )


# ---------------------------------------------------------------------------------- class 3

# What a root holding all of /usr would show: tools, other Pythons' packages, headers.
SEES_SYSTEM = textwrap.dedent(
    """
    import os, glob, sqlite3  # sqlite3: an extension module whose library must be there
    SEEN = [p for p in ("/usr/bin", "/bin/sh", "/usr/share", "/usr/include", "/etc/passwd")
            if os.path.exists(p)]
    SEEN += glob.glob("/usr/lib/python3*/*-packages") + glob.glob("/usr/local/lib/python3*")
    """
)


def _ps5_notebook(replace: dict[str, str] | None = None, prepend: str | None = None) -> dict:
    """The ps5 source notebook with answer cells replaced (by grade_id) and a cell added
    after the imports."""
    source = REPO / "solutions" / PS5 / f"{PS5}.ipynb"
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in (replace or {}):
            cell["source"] = replace[gid]
    if prepend:
        first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
        nb["cells"].insert(
            first + 1,
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": prepend},
        )  # fmt: skip
    return nb


def _submit_ps5(course: Path, student: str, nb: dict) -> None:
    folder = course / "submitted" / student / PS5
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PS5}.ipynb").write_text(json.dumps(nb), encoding="utf-8")


def _ps5_rows(course: Path) -> dict[str, dict]:
    proc = run_cli("export", "--course", str(course), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {r["student"]: r for r in json.loads(proc.stdout) if r["assignment"] == PS5}


def _hidden_fingerprints() -> list[str]:
    """Hex bytes of hidden input arrays of ps1's later tests (the last cases of each, which
    are hidden: a test's visible cases come first)."""
    prints = []
    for test in battery().tests[1:]:
        for case in test.cases[-3:]:
            for arg in case.args:
                if isinstance(arg, np.ndarray) and arg.size >= 3:
                    prints.append(arg.tobytes().hex())
    return sorted(set(prints))


# The top-level code searches every frame up its stack and every container the garbage
# collector knows for an array equal to a hidden input of a later test.
SEARCH_INPUTS = """
import gc, sys
_PRINTS = set({prints!r})
_seen_ids = set()

def _walk(obj, depth):
    if depth > 6 or id(obj) in _seen_ids:
        return False
    _seen_ids.add(id(obj))
    if type(obj) is np.ndarray:
        return obj.size >= 3 and obj.tobytes().hex() in _PRINTS
    if isinstance(obj, dict):
        return any(_walk(v, depth + 1) for v in list(obj.values()))
    if isinstance(obj, (list, tuple, set)):
        return any(_walk(v, depth + 1) for v in list(obj))
    return False

_frame = sys._getframe(0)
FOUND = False
while _frame is not None and not FOUND:
    FOUND = _walk(dict(_frame.f_locals), 0)
    _frame = _frame.f_back
FOUND = FOUND or any(_walk(o, 5) for o in gc.get_objects() if isinstance(o, (dict, list, tuple)))
"""

# numerical_gradient that recognises f and answers with the exact gradient, never calling
# f: by its name (a named module-level function), or by the function its closure holds.
RECOGNISER = '''
def _exact(name, x):
    if name == "sum_of_squares":
        return 2.0 * x
    if name == "logsumexp":
        e = np.exp(x - np.max(x))
        return e / np.sum(e)
    if name == "sin_product":
        flat = x.ravel()
        return (np.cos(flat) * np.roll(flat, -1) + np.sin(np.roll(flat, 1))).reshape(x.shape)
    flat = x.ravel()
    grad = np.zeros_like(flat)
    inner = flat[1:] - flat[:-1] ** 2
    grad[:-1] += -400.0 * flat[:-1] * inner - 2.0 * (1.0 - flat[:-1])
    grad[1:] += 200.0 * inner
    return grad.reshape(x.shape)


def numerical_gradient(f, x, eps=1e-6):
    """Recognise f instead of differentiating it."""
    x = np.array(x, dtype=np.float64)
    names = [getattr(f, "__name__", "")]
    names += [getattr(c.cell_contents, "__name__", "") for c in (f.__closure__ or ())]
    for name in names:
        name = name.lstrip("_")
        if name in ("sum_of_squares", "logsumexp", "sin_product", "rosenbrock"):
            return _exact(name, x)
    return np.zeros_like(x)
'''

# Replaces the sandbox's SymPy evaluation by one that returns the right numbers for a
# wrong expression (the answer below returns 0).
FAKE_EVALUATION = """
import sys
_harness = sys.modules["_grader_harness"]

def _fake(expr, evaluate_at):
    points = evaluate_at if isinstance(evaluate_at, list) else [evaluate_at]
    values = []
    for point in points:
        s = 1.0 / (1.0 + np.exp(-point["z"]))
        values.append(s * (1.0 - s))
    return np.array(values) if isinstance(evaluate_at, list) else np.array(values[0])

_harness.evaluate_sympy = _fake
"""
ZERO_DERIVATIVE = 'def sigmoid_derivative_expr():\n    """dσ/dz."""\n    return sp.Integer(0)\n'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the ps1 probes of this file in one run."""
    course = tmp_path_factory.mktemp("isolation-course")
    submit(course, "honest", notebook())
    seen = {"self_information": _probe("SEEN")}
    submit(course, "system", notebook(prepend=[SEES_SYSTEM], replace=seen))
    search = SEARCH_INPUTS.format(prints=_hidden_fingerprints())
    found = {"self_information": _probe("FOUND")}
    submit(course, "inputs", notebook(prepend=[search], replace=found))
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course, export_json(course), proc.stdout


@pytest.fixture(scope="module")
def graded_ps5(tmp_path_factory):
    """Grade ps5: the model answers, a recogniser of f, and a faked SymPy evaluation."""
    course = tmp_path_factory.mktemp("isolation-ps5")
    _submit_ps5(course, "model", _ps5_notebook())
    _submit_ps5(course, "recogniser", _ps5_notebook(replace={"numerical_gradient": RECOGNISER}))
    faked = _ps5_notebook(
        replace={"sigmoid_derivative_expr": ZERO_DERIVATIVE}, prepend=FAKE_EVALUATION
    )
    _submit_ps5(course, "fakeeval", faked)
    proc = run_cli("grade", PS5, "--course", str(course), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course, _ps5_rows(course), proc.stdout


def test_honest_student_full_marks(graded):
    """Does the honest submission graded beside these probes keep every point?"""
    row = graded[1]["honest"]
    assert row["status"] == "graded" and row["score"] == battery().max_score, row


def test_sandbox_shows_no_system_folders(graded):
    """Does student code see only the interpreter, the allowed packages and their shared
    libraries: no /usr/bin, no shell, no other Python's packages, no /etc/passwd (while
    sqlite3, whose library the root binds file by file, still imports)?"""
    row = graded[1]["system"]
    assert row["status"] == "graded", row
    assert row["score"] == battery().max_score, row["tests"]


def test_allowed_package_inside_a_hidden_folder_is_bound_on_top(tmp_path):
    """Is a package folder hidden first and an allowed package inside it bound on top, so
    the sandbox sees the allowed package and nothing else of that folder?"""
    stdlib = tmp_path / "python3.x"
    site = stdlib / "site-packages"
    for name in ("allowedpkg", "forbiddenpkg"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text("")
    (stdlib / "os.py").write_text("")
    root = tmp_path / "root"
    root.mkdir()
    cfg = {
        "stdlib_dirs": [str(stdlib)],
        "hidden_dirs": [str(site)],
        "package_dirs": [str(site / "allowedpkg")],
        "library_files": [],
        "work_path": "/submission",
        "limits": {"disk_mb": 1, "disk_inodes": 64},
        "uid": os.getuid(),
        "gid": os.getgid(),
    }
    script = textwrap.dedent(
        f"""
        import json, os, sys
        sys.path.insert(0, {str(Path(bootstrap.__file__).parent)!r})
        import bootstrap as b
        if os.geteuid() == 0:
            b.unshare(b.CLONE_NEWNS)
        else:
            b._enter_user_namespace()
        b.mount("none", "/", None, b.MS_REC | b.MS_PRIVATE)
        cfg = json.loads({json.dumps(cfg)!r})
        b.build_root({str(root)!r}, cfg)
        print(json.dumps({{
            "site": sorted(os.listdir({str(root)!r} + {str(site)!r})),
            "stdlib": sorted(os.listdir({str(root)!r} + {str(stdlib)!r})),
            "top": sorted(os.listdir({str(root)!r})),
        }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["site"] == ["allowedpkg"]
    assert seen["stdlib"] == ["os.py", "site-packages"]
    assert "usr" not in seen["top"]  # no /usr view: only what is named is bound


def test_course_inside_a_visible_folder_is_refused():
    """Is grading refused (exit 2, a clear reason) when the course lies inside a folder the
    sandbox shows to student code (here: the standard library's folder)?"""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    course = Path(tempfile.mkdtemp(prefix="autograder-test-course-", dir=stdlib))
    try:
        submit(course, "alice", notebook())
        proc = run_cli("grade", ASSIGNMENT, "--course", str(course))
    finally:
        shutil.rmtree(course)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "course folder" in proc.stderr and "shows to student code" in proc.stderr


def _as_user_1000(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` as uid 1000 of a user namespace: not root, no
    capability, the files still readable (the namespace maps it to the caller's uid)."""
    full = dict(os.environ, **(env or {}))
    full["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full.get("PATH", "")
    return subprocess.run(
        ["unshare", "--user", "--map-user=1000", "--map-group=1000", sys.executable, "-m",
         "autograder", *args],
        capture_output=True, text=True, cwd=REPO, env=full, timeout=600,
    )  # fmt: skip


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_without_root_the_same_private_root_is_built(tmp_path):
    """Run by a user that is not root, does the grader build the same private root with an
    unprivileged user namespace, so a probe for the course's files finds nothing?"""
    gradebook = tmp_path / "gradebook.db"
    solutions = REPO / "solutions"
    probe = textwrap.dedent(
        f"""
        import os
        PLACES = ({str(tmp_path)!r}, {str(solutions)!r}, {str(REPO / "autograder")!r}, "/usr/bin")
        SEEN = [p for p in PLACES if os.path.exists(p)]
        try:
            os.chroot("/tmp")  # no capability is left to undo the chroot
            SEEN.append("chroot")
        except OSError:
            pass
        """
    )
    seen = {"self_information": _probe("SEEN")}
    submit(tmp_path, "alice", notebook(prepend=[probe], replace=seen))
    proc = _as_user_1000("grade", ASSIGNMENT, "--course", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "private file system: yes" in proc.stdout, proc.stdout
    assert gradebook.exists()
    assert export_json(tmp_path)["alice"]["score"] == battery().max_score


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_without_isolation_grading_needs_unsafe(tmp_path):
    """Without root and without user namespaces, is grading refused with a clear error
    unless the operator passes --unsafe (and then is the missing isolation reported)?"""
    submit(tmp_path, "alice", notebook())
    off = {"AUTOGRADER_SANDBOX_DISABLE": "user"}
    refused = _as_user_1000("grade", ASSIGNMENT, "--course", str(tmp_path), env=off)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "--unsafe" in refused.stderr and "isolated" in refused.stderr
    assert not (tmp_path / "gradebook.db").exists()
    unsafe = _as_user_1000("grade", ASSIGNMENT, "--course", str(tmp_path), "--unsafe", env=off)
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    assert "private file system: NO" in unsafe.stdout
    assert export_json(tmp_path)["alice"]["score"] == battery().max_score


# ---------------------------------------------------------------------------------- class 6


def test_process_running_the_cells_holds_no_test_inputs(graded):
    """Is no hidden input of any test reachable from the top-level code (its stack, the
    objects of its process), because each runner receives its inputs only after it forks?"""
    assert _hidden_fingerprints()  # the probe has something to look for
    row = graded[1]["inputs"]
    assert row["status"] == "graded", row
    assert row["score"] == battery().max_score, row["tests"]


def test_model_ps5_answers_full_marks(graded_ps5):
    """Do ps5's model answers, SymPy ones included, get every point through the
    outside evaluation of expressions and the counted gradient functions?"""
    row = graded_ps5[1]["model"]
    assert row["status"] == "graded", row
    assert row["score"] == load(PS5).max_score, row["tests"]


def test_gradient_test_function_cannot_be_recognised(graded_ps5):
    """Does a numerical_gradient that recognises f (by name, or by what its closure holds)
    and returns the exact gradient without evaluating f score 0 for that test only?"""
    row = graded_ps5[1]["recogniser"]
    scores = scores_of(row)
    assert scores["test_numerical_gradient"] == 0.0, row["tests"]
    assert scores["test_softmax_cross_entropy_grad"] == 3.0
    tests = {t["grade_id"]: t["message"] for t in row["tests"]}
    message = tests["test_numerical_gradient"]
    assert "evaluated f fewer times" in message


def test_sympy_answers_are_evaluated_outside_the_sandbox(graded_ps5):
    """Does replacing the sandbox's SymPy evaluation change nothing, because the returned
    expression is evaluated by a process that never ran student code?"""
    row = graded_ps5[1]["fakeeval"]
    scores = scores_of(row)
    assert scores["test_sigmoid_derivative_expr"] == 0.0, row["tests"]
    assert scores["test_bce_logit_grad_expr"] == 2.0


def test_expression_trees_rebuild_only_known_sympy_classes():
    """Is an expression tree rebuilt into the same expression, and are unknown functions,
    parsed text and oversized numbers refused?"""
    import sympy

    from autograder.batteries import harness

    z, y = sympy.symbols("z y")
    expr = (1 / (1 + sympy.exp(-z)) - y) * sympy.Rational(1, 2) + sympy.Float("0.25") * z**2
    assert sympy.simplify(harness.expression_from_tree(harness.expression_tree(expr)) - expr) == 0
    matrix = sympy.Matrix([[z, 1], [sympy.pi, sympy.log(y)]])
    assert harness.expression_from_tree(harness.expression_tree(matrix)) == matrix
    with pytest.raises(TypeError):
        harness.expression_tree(sympy.Function("g")(z))
    for bad in (
        {"fn": "__import__", "a": [{"i": "1"}]},
        {"fn": "sympify", "a": [{"s": "z"}]},
        {"s": "__import__('os')"},
        {"i": "9" * 5000},
        {"f": "nan'); import os; ('", "p": 53},
    ):
        with pytest.raises(ValueError):
            harness.expression_from_tree(bad)
    deep = {"s": "z"}
    for _ in range(500):
        deep = {"fn": "exp", "a": [deep]}
    with pytest.raises(ValueError):
        harness.expression_from_tree(deep)


def test_ps7_messages_carry_no_number_of_hidden_data():
    """Do ps7's messages for a poor model and for wrong shapes name no accuracy, size or
    shape (numbers computed from hidden data), only the fixed threshold?"""
    from autograder.batteries.ps7_training import BATTERY, _compare_accuracy

    train = BATTERY.test("test_train")
    case = train.cases[1]  # the digits: held-out data the student never receives
    X_eval = case.expected[0]
    classes = case.args[2]
    poor = (np.zeros((X_eval.shape[1], classes)), np.arange(classes, dtype=np.float64))
    message = _compare_accuracy(poor, case.expected, case)
    assert message is not None and "0.90" in message
    assert not any(c.isdigit() for c in message.replace("0.90", ""))
    wrong_shape = (np.zeros((3, classes)), np.zeros(classes))
    shape_message = _compare_accuracy(wrong_shape, case.expected, case)
    assert "shape" in shape_message and not any(c.isdigit() for c in shape_message)
    fb = BATTERY.test("test_forward_backward")
    big = fb.cases[-1]  # the digits case
    expected = BATTERY.expected(fb, big)
    transposed = (expected[0], expected[1].T.copy(), expected[2])
    reason = fb.compare(transposed, expected, big)
    assert "shape" in reason and not any(c.isdigit() for c in reason)
