"""Regression tests for the security review of the trusted grader, one real submission each.

The review found (1) free text written inside the sandbox reaching the feedback, so hidden
inputs could leak; (2) malformed result data crashing the judge ("internal grader error");
(3) a deflate "bomb" result file loaded eagerly by the grader. Every attack below is a
submission graded by ONE run of ``python -m autograder grade ps1_information``; each test
checks its student's row in the JSON export and its feedback page. Leak attempts carry the
marker ``LEAK`` in everything they try to smuggle out.
"""

from __future__ import annotations

import inspect
import struct
import textwrap
import zlib
from pathlib import Path

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    answer_sources,
    battery,
    export_json,
    notebook,
    run_cli,
    scores_of,
    submit,
)

pytestmark = pytest.mark.slow

A = answer_sources()
MARKER = "LEAK"

# A top-level cell reaches the init process's frame: the list of cell errors it reports,
# the current cell's (valid) number, and the hidden cases if they are in memory.
LEAK_CELL = textwrap.dedent(
    """
    import sys
    _f = sys._getframe(1)
    _errs = _f.f_locals["cell_errors"]
    _cases = []
    for _t in _f.f_locals.get("tests") or []:
        _cases.extend(repr(_c["args"]) for _c in _t.get("cases", []))
    _errs.append({"cell": "LEAK-A " + " ".join(_cases), "error": "x"})
    _errs.append({"cell": _f.f_locals["number"], "error": "LEAK-B " + " ".join(_cases)})
    _errs.append({"cell": 10**6, "error": "ValueError"})
    """
)

# The answer function sees the hidden inputs and rewrites the cell report while it runs.
LEAK_FUNCTION = A["binary_entropy"].replace(
    "def binary_entropy(p, *, base=None):",
    "import json as _json\n_SEEN = []\n\ndef binary_entropy(p, *, base=None):\n"
    "    _SEEN.append({'cell': 'LEAK-C ' + repr(p), 'error': 'x'})\n"
    "    _SEEN.append({'cell': 1, 'error': 'LEAK-D ' + repr(p)})\n"
    "    with open('out/cells.json', 'w') as _f:\n"
    "        _json.dump({'errors': _SEEN}, _f)",
)

# A top-level cell replaces the init process's test runner: its status text is forged.
LEAK_STATUS = textwrap.dedent(
    """
    import sys
    _g = sys._getframe(1).f_globals
    _orig = _g["_run_test"]

    def _patched(k, test, *args):
        result = _orig(k, test, *args)
        cases = repr([c["args"] for c in test.get("cases", [])])
        if k == 1:
            return {"status": "exited", "detail": "LEAK-E " + cases}
        if k == 2:
            return {"status": "LEAK-F " + cases, "detail": ""}
        if k == 3:
            return {"status": "crashed", "detail": "LEAK-G " + cases}
        return result

    _g["_run_test"] = _patched
    """
)

# Types and dtypes named at run time after the inputs.
LEAK_TYPES = {
    "self_information": (
        "def self_information(p, *, base=None):\n"
        "    return type('LEAK_H_' + str(abs(hash(repr(p)))), (), {})()\n"
    ),
    "binary_entropy": (
        "def binary_entropy(p, *, base=None):\n"
        "    return np.zeros(3, dtype=[('LEAK_I_' + str(len(repr(p))), 'f8')])\n"
    ),
    "entropy": (
        "def entropy(p, *, axis=-1, base=None):\n"
        "    raise type('LEAK_J_' + str(len(repr(p))), (Exception,), {})()\n"
    ),
}


# Processes that spin through the test phase, each in its own session (own scheduling
# group), as another sandbox's children would: the runner gets a small share of the CPU.
SPINNERS = textwrap.dedent(
    """
    import os
    for _ in range(8):
        if os.fork() == 0:
            os.setsid()
            while True:
                pass
    """
)

# A correct answer that computes for about 1 s of CPU time over the test's 13 cases: more
# than the 3 s time limit of wall-clock time when starved, well under it in CPU time.
SLOW = A["self_information"].replace(
    "def self_information(p, *, base=None):",
    "import time as _time\n\ndef self_information(p, *, base=None):\n"
    "    _start = _time.process_time()\n"
    "    while _time.process_time() - _start < 0.08:\n"
    "        pass",
)


def _rewrite_result(value_json: str, extra: str = "") -> str:
    """A top-level cell that makes the runner write ``value_json`` for every case of test 0."""
    return (
        textwrap.dedent(
            f"""
            import sys
            _g = sys._getframe(1).f_globals
            _orig = _g["_write_json"]

            def _w(path, obj):
                if path.endswith("test_0.json"):
                    items = [{{"kind": "returned", "value": {value_json}}}]
                    obj = {{"outcomes": items * len(obj["outcomes"])}}
                return _orig(path, obj)

            _g["_write_json"] = _w
            """
        )
        + extra
    )


#: What the deflated member of the bomb declares: enough to prove rejection, small to build.
BOMB_BYTES = 200 * 2**20


def deflate_bomb_npz(n_bytes: int) -> bytes:
    """An .npz whose single member ``a0.npy`` is deflated and inflates to ``n_bytes`` of
    float64 zeros (the header's shape agrees), built by hand from a repeated deflate block."""
    n = n_bytes // 8
    text = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({n},), }}"
    pad = 64 - (10 + len(text) + 1) % 64
    header = (
        b"\x93NUMPY\x01\x00"
        + struct.pack("<H", len(text) + pad + 1)
        + text.encode()
        + b" " * pad
        + b"\n"
    )
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    head = comp.compress(header) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    k = n_bytes // len(chunk)
    data = head + block * k + comp.flush()
    crc = zlib.crc32(header)
    for _ in range(k):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + k * len(chunk)
    name = b"a0.npy"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(data),
        size,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    end = struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        1,
        1,
        len(central) + len(name),
        len(local) + len(name) + len(data),
        0,
    )
    return local + name + data + central + name + end


def _build(course: Path) -> None:
    submit(course, "honest", notebook())
    # finding 3: hidden inputs must not ride out on any text the sandbox writes
    submit(course, "leakcell", notebook(prepend=[LEAK_CELL]))
    submit(course, "leakfn", notebook(replace={"binary_entropy": LEAK_FUNCTION}))
    submit(course, "leakstatus", notebook(prepend=[LEAK_STATUS]))
    submit(course, "leaktypes", notebook(replace=LEAK_TYPES))
    shape = "def self_information(p, *, base=None):\n    return np.zeros((0, 4321, len(repr(p))))\n"
    submit(course, "leakshape", notebook(replace={"self_information": shape}))
    # finding 1: a correct function starved of CPU by spinning processes is not failed
    submit(course, "starved", notebook(prepend=[SPINNERS], replace={"self_information": SLOW}))
    # finding 5: malformed result data fails the test with a plain message
    big = "def self_information(p, *, base=None):\n    return 10**400\n"
    submit(course, "bigint", notebook(replace={"self_information": big}))
    submit(course, "dictattr", notebook(prepend=[_rewrite_result('{"__dict__": [1, 2]}')]))
    submit(course, "infindex", notebook(prepend=[_rewrite_result('{"__nd__": float("inf")}')]))
    npy = (
        "_savez = np.savez\n"
        "def _npy(f, **kw):\n"
        "    if not str(f).endswith('test_0.npz'):\n"
        "        return _savez(f, **kw)\n"
        "    with open(f, 'wb') as out:\n"
        "        np.save(out, np.zeros(3))\n"
        "np.savez = _npy\n"
    )
    submit(course, "npynotnpz", notebook(prepend=[_rewrite_result('{"__nd__": 0}', npy)]))
    # finding 2: a deflated result member declaring 200 MB is refused before loading
    # built inside the sandbox: as a literal, the bomb would pass the grader's cell-size cap
    bomb_cell = (
        "import struct, zlib\n"
        + inspect.getsource(deflate_bomb_npz)
        + f"\n_BOMB = deflate_bomb_npz({BOMB_BYTES})\n"
        + "np.savez = lambda file, **kw: open(file, 'wb').write(_BOMB)\n"
    )
    submit(course, "bomb", notebook(append=[bomb_cell]))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every attack in one CLI run; return (course, export by student, CLI output)."""
    course = tmp_path_factory.mktemp("review-course")
    _build(course)
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *FAST_LIMITS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return course, export_json(course), proc.stdout + proc.stderr


def _page(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def _message(row: dict, grade_id: str) -> str:
    return next(t["message"] for t in row["tests"] if t["grade_id"] == grade_id)


def test_bomb_builder_makes_a_real_bomb():
    """Is the test's bomb a valid zip whose member really inflates to the declared size?"""
    import io
    import zipfile

    bomb = deflate_bomb_npz(4 * 2**20)
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        (info,) = zf.infolist()
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.file_size > 4 * 2**20 > 100 * info.compress_size
        assert len(zf.read(info)) == info.file_size


def test_honest_student_full_marks(graded):
    """Does the honest student graded beside the attackers get every point?"""
    row = graded[1]["honest"]
    assert row["status"] == "graded"
    assert sum(scores_of(row).values()) == battery().max_score > 0


@pytest.mark.parametrize("student", ["leakcell", "leakfn", "leakstatus", "leaktypes"])
def test_no_sandbox_text_reaches_feedback_gradebook_or_cli(graded, student):
    """Does no text written inside the sandbox (cell report, runner status, type and dtype
    names) reach the feedback page, the gradebook's messages or the CLI's output?"""
    course, rows, output = graded
    row = rows[student]
    assert row["status"] == "graded", row
    assert MARKER not in _page(course, student)
    assert MARKER not in str(row)
    assert MARKER not in output


def test_forged_cell_reports_are_reduced(graded):
    """Is a forged cell report reduced to a real cell number and an exception name, and do
    the answers still count?"""
    course, rows, _ = graded
    page = _page(course, "leakcell")
    assert "code cell 1000000" not in page
    assert "an exception of a type defined in your code" in page
    assert sum(scores_of(rows["leakcell"]).values()) == battery().max_score
    assert scores_of(rows["leakfn"])["test_binary_entropy"] == 2.0


def test_forged_runner_status_fails_only_with_fixed_text(graded):
    """Does a forged runner status fail its test with a fixed message?"""
    row = graded[1]["leakstatus"]
    scores = scores_of(row)
    assert scores["test_self_information"] == 2.0
    assert scores["test_entropy"] == scores["test_entropy_axis"] == 0.0
    assert "the process ended early (exit code ?)" in _message(row, "test_entropy")


def test_types_named_at_run_time_are_not_shown(graded):
    """Are a class, a structured dtype and an exception named at run time refused by a
    fixed description?"""
    row = graded[1]["leaktypes"]
    assert sum(scores_of(row).values()) == 0.0
    assert "created by your code" in _message(row, "test_self_information")
    assert "an exception of a type defined in your code" in _message(row, "test_entropy")


def test_returned_shape_is_not_a_channel(graded):
    """Is a returned shape far from the expected one shown only by its number of dimensions?"""
    row = graded[1]["leakshape"]
    message = _message(row, "test_self_information")
    assert scores_of(row)["test_self_information"] == 0.0
    assert "4321" not in message and "3 dimension(s)" in message


def test_starved_correct_function_keeps_its_points(graded):
    """Is a correct function that got little CPU (spinning processes beside it) judged by
    the CPU time it used, not failed for the wall-clock time it waited?"""
    row = graded[1]["starved"]
    assert row["status"] == "graded", row
    assert sum(scores_of(row).values()) == battery().max_score, row["tests"]


def test_huge_integer_gets_a_plain_message(graded):
    """Does an honest ``return 10**400`` fail its test with a message, not crash the judge?"""
    row = graded[1]["bigint"]
    assert row["status"] == "graded", row
    assert scores_of(row)["test_self_information"] == 0.0
    assert "too large for a float64" in _message(row, "test_self_information")
    assert scores_of(row)["test_entropy"] == 3.0


@pytest.mark.parametrize("student", ["dictattr", "infindex", "npynotnpz"])
def test_malformed_result_data_fails_one_test(graded, student):
    """Do malformed result records fail their test with a clear reason, the rest graded?"""
    row = graded[1][student]
    assert row["status"] == "graded", row
    scores = scores_of(row)
    assert scores["test_self_information"] == 0.0
    assert scores["test_entropy"] == 3.0 and scores["test_binary_entropy"] == 2.0
    assert "could not be read back" in _message(row, "test_self_information")
    assert "internal grader error" not in graded[2]
    assert "no submission reached the sandbox" not in graded[2]


def test_deflate_bomb_is_refused_unread(graded):
    """Is a deflated result member declaring 200 MB refused before it is inflated?"""
    row = graded[1]["bomb"]
    assert row["status"] == "graded", row
    assert row["score"] == 0.0
    # nothing was read: loaded, a0 would have been judged as a (26214400,)-shaped array
    for test in row["tests"]:
        lines = test["message"].splitlines()[1:]
        assert lines == [
            "- your function did not finish: the returned value could not be read back"
        ]
