"""Red team, round two: attacks on the hardened grader beyond both earlier threat models.

Each test is one real submission (or a careless instructor's setup) graded by
``python -m autograder grade`` in a subprocess, run as the CI runs it. Most ps1 attacks share
one grading run (``graded``); the SymPy ones share a ps5 run (``graded_ps5``). An attack that
tries to reach something it must not uses the probe pattern of ``test_isolation.py``: the
student's ``self_information`` answers wrongly when the attack found anything, so full marks
mean the attack failed.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from grading_helpers import (
    ASSIGNMENT,
    FAST_LIMITS,
    REPO,
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
PS5 = "ps5_gradients"


def _probe(flag: str) -> str:
    """self_information that answers wrongly when the expression ``flag`` is true."""
    return A["self_information"].replace(
        "def self_information(p, *, base=None):",
        f"def self_information(p, *, base=None):\n    if {flag}:\n"
        "        return np.zeros(np.shape(p))",
    )


# Names only the grader's side of the boundary holds: a listing that shows one of them means
# student code reached a folder outside its private root.
GRADER_NAMES = (
    "job.json",
    "inputs_0.json",
    "inputs_0.npz",
    "supervisor.json",
    "gradebook.db",
    "submitted",
    "source",
    "autograder",
    "etc",
    "usr",
    "home",
    "root",
)

# Every open file descriptor the sandbox inherited: a folder (openat past the chroot), a
# readable file, or the worker's job pipe (stdin) would each be a way out.
INHERITED_FDS = textwrap.dedent(
    f"""
    import os, stat
    GRADER_NAMES = {GRADER_NAMES!r}

    def _scan_fds():
        hits = []
        for fd in range(256):
            try:
                st = os.fstat(fd)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                for rel in (".", "..", "../..", "../../.."):
                    try:
                        sub = os.open(rel, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                        hits += [n for n in os.listdir(sub) if n in GRADER_NAMES]
                        os.close(sub)
                    except OSError:
                        pass
            elif stat.S_ISREG(st.st_mode):
                try:
                    if os.pread(fd, 64, 0):
                        hits.append(("file", fd))
                except OSError:
                    pass
            elif stat.S_ISFIFO(st.st_mode) and fd == 0:
                # any pipe on stdin is shared with a process outside: its job pipe, whose
                # O_NONBLOCK flag this process could set for both of them
                hits.append("pipe on stdin")
                try:
                    os.write(0, b"/\\n")  # a forged job line for the worker
                    hits.append("job pipe writable")
                except OSError:
                    pass
        return hits

    FOUND_AT_TOP = _scan_fds()
    """
)


# The classic ways out of a chroot: /proc links, chroot("x") + "..", a nested user namespace
# (which would give CAP_SYS_CHROOT and CAP_SYS_ADMIN back), mounting /proc.
def _outside_the_bound_folders(paths: tuple[str, ...]) -> tuple[str, ...]:
    """``paths`` less the folders on the way to the interpreter and the allowed packages:
    those are bound into the sandbox by design (a checkout under /tmp puts its venv's
    numpy at /tmp/…/site-packages), so their existence there is no escape."""
    bound = [sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"]]
    bound += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return tuple(
        p for p in paths if not any(b == p or b.startswith(p.rstrip("/") + "/") for b in bound)
    )


PROBED = _outside_the_bound_folders(
    ("/proc/1/root", "/proc/self/root", "/proc/self/fd", "/sys/fs/cgroup", "/run",
     "/tmp", "/home", "/var", "/usr/bin", "/etc/passwd")
)  # fmt: skip

CHROOT_ESCAPE = textwrap.dedent(
    """
    import ctypes, os
    ESCAPED = []
    for p in PROBED:
        if os.path.exists(p):
            ESCAPED.append(p)
    _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.unshare(0x10000000 | 0x00020000) == 0:  # CLONE_NEWUSER | CLONE_NEWNS
        ESCAPED.append("user namespace")
    try:
        os.mkdir("jail")
        os.chroot("jail")
        for _ in range(40):
            os.chdir("..")
        os.chroot(".")
        ESCAPED += [n for n in os.listdir("/") if n in ("etc", "usr", "home", "root", "tmp")]
    except OSError:
        pass
    try:
        os.mkdir("p")
    except OSError:
        pass
    if _libc.mount(b"proc", b"p", b"proc", 0, None) == 0:
        ESCAPED.append("proc mounted")
    try:
        os.setuid(0)
        ESCAPED.append("setuid 0")
    except OSError:
        pass
    """
).replace("PROBED", repr(PROBED))

# A daemon started by the top-level code and one started by a test's runner, both detached
# (double fork + setsid) and named so the test can look for them after the batch.
DAEMONS = textwrap.dedent(
    """
    import ctypes, os, time

    def _daemon(name):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                ctypes.CDLL(None).prctl(15, name, 0, 0, 0)  # PR_SET_NAME
                for _ in range(3000):
                    time.sleep(0.2)
            os._exit(0)

    _daemon(b"rt2daemontop")
    """
)
DAEMON_IN_RUNNER = A["entropy"].replace(
    "def entropy(p, *, axis=-1, base=None):",
    "_STARTED = []\n\n\ndef entropy(p, *, axis=-1, base=None):\n"
    "    if not _STARTED:\n"
    "        _STARTED.append(1)\n"
    '        _daemon(b"rt2daemonrun")',
)

# The runner stops itself (SIGSTOP); the top-level code stops itself and leaves 25 zombies.
STOPPED_RUNNER = A["binary_entropy"].replace(
    "def binary_entropy(p, *, base=None):",
    "import os, signal\n\ndef binary_entropy(p, *, base=None):\n"
    "    os.kill(os.getpid(), signal.SIGSTOP)",
)
ZOMBIES = textwrap.dedent(
    """
    import os, signal
    os.kill(os.getpid(), signal.SIGSTOP)  # the process that runs the cells stops itself
    for _ in range(25):
        try:
            if os.fork() == 0:
                os._exit(0)
        except OSError:
            break
    """
)


def _npy(descr: str, shape: tuple, data: bytes, fortran: bool = False) -> bytes:
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


# Result records the encoder never writes: NaN and infinity as JSON literals, duplicate keys,
# a FunctionRef, huge and malformed numbers, and arrays whose headers lie (a zero-size
# array with 2**62 × 2**62 columns, big-endian, Fortran order, a 0-d bool).
CRAFTED_MEMBERS = {
    "a0.npy": _npy("<f8", (0, 2**62, 2**62), b""),
    "a1.npy": _npy(">f8", (3,), struct.pack(">3d", 1.0, 2.0, 3.0)),
    "a2.npy": _npy("<f8", (2, 2), struct.pack("<4d", 1, 2, 3, 4), fortran=True),
    "a3.npy": _npy("|b1", (), b"\x01"),
}
CRAFTED_VALUES = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    '{"__fref__": "self_information"}',
    '{"__nd__": 0}',
    '{"__nd__": 1}',
    '{"__nd__": 2}',
    '{"__np__": 3}',
    '{"__int__": "' + "9" * 5000 + '"}',
    '{"__float__": "nan", "__float__": "1e308"}',
    '{"__dict__": {"__nd__": 0}}',
    '{"__tuple__": [NaN, {"__np__": 3}]}',
    '{"__unsupported__": "numpy.ndarray of dtype float64\\u202e"}',
]
FORGED_RESULTS = textwrap.dedent(
    f"""
    import sys, zipfile
    _g = sys._getframe(1).f_globals
    _orig_write = _g["_write_json"]
    _MEMBERS = {CRAFTED_MEMBERS!r}
    _VALUES = {CRAFTED_VALUES!r}

    def _forged(path, obj):
        if not path.endswith(".json") or "test_" not in path:
            return _orig_write(path, obj)
        n = len(obj["outcomes"])
        head = '{{"kind": "raised", "kind": "returned", "value": '
        items = [head + _VALUES[i % len(_VALUES)] + '}}' for i in range(n)]
        with open(path, "w") as f:
            f.write('{{"outcomes": [' + ", ".join(items) + ']}}')
        with zipfile.ZipFile(path[:-5] + ".npz", "w", zipfile.ZIP_STORED) as z:
            for name, data in _MEMBERS.items():
                z.writestr(name, data)

    _g["_write_json"] = _forged
    """
)


# The top-level code tells the supervisor "the cells are done" itself (it reaches its own
# process's pipes through the caller's frame), gets the acknowledgement, and forks a
# process that asks for the last test's inputs while the cells are still running.
FORGED_PHASE = textwrap.dedent(
    """
    import os, struct, sys
    _ch = sys._getframe(1).f_locals["channels"]
    STOLEN = False
    try:
        os.write(_ch["phase"], b"1")
        os.read(_ch["ack"], 1)
        _r, _w = os.pipe()
        if os.fork() == 0:
            _s = _ch["inputs"]
            _s.sendall(struct.pack("<q", 3))
            _size = _left = struct.unpack("<q", _s.recv(8))[0]
        while _left > 0:  # read it all: the runners use the same stream
            _left -= len(_s.recv(min(_left, 1 << 16)))
            os.write(_w, b"Y" if _size > 0 else b"N")
            os._exit(0)
        os.wait()
        STOLEN = os.read(_r, 1) == b"Y"
        _a, _b = os.pipe()
        os.write(_b, b"1")
        _ch["ack"] = _a  # so that the cells' process goes on to the tests
        _ch["phase"] = os.open("/dev/null", os.O_WRONLY)
    except OSError:
        pass
    """
)


def _spoofed_metadata() -> dict:
    """Correct answers, with nbgrader metadata edited to claim points and rename cells."""
    nb = notebook(drop_tests=True)
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta:
            meta["points"] = 1000
            meta["checksum"] = "0" * 32
    fake = {"grade": True, "solution": False, "locked": True, "points": 500}
    nb["cells"].append(
        code_cell("assert True", {"nbgrader": dict(fake, grade_id="test_bonus_marks")})
    )
    nb["cells"].append(
        code_cell("assert True", {"nbgrader": dict(fake, grade_id="test_self_information")})
    )
    return nb


SCRIPT = "<script>alert(1)</script>"
EVIL_SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(2)"><script>x()</script></svg>'


def _html_cells() -> dict:
    """Correct answers plus cells that would run script in the formgrader's browser."""
    import base64

    nb = notebook(drop_tests=True)
    nb["cells"].append(
        {"cell_type": "raw", "metadata": {"format": "text/html", "raw_mimetype": "text/html"},
         "source": SCRIPT + '<img src=x onerror="alert(3)">'}
    )  # fmt: skip
    nb["cells"].append(
        {"cell_type": "markdown", "metadata": {},
         "attachments": {"a.svg": {"image/svg+xml": base64.b64encode(EVIL_SVG.encode()).decode()}},
         "source": "![a](attachment:a.svg) <iframe src=javascript:alert(4)></iframe>"}
    )  # fmt: skip
    cell = code_cell("x = 1")
    cell["outputs"] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": SCRIPT, "application/javascript": "alert(5)"}}
    ]  # fmt: skip
    nb["cells"].append(cell)
    return nb


# A Cyrillic "і" (U+0456): looks like the notebook's name, is not.
HOMOGLYPH = "ps1_informat\u0456on.ipynb"

# Student ids are folder names the student may choose: spreadsheet formulas (no "/" needed:
# CHAR(47) spells it) and HTML, plus a second notebook named with HTML.
FORMULA_IDS = ("=1+2", "+1", "-1", "@SUM(1)", '=HYPERLINK(CONCAT("http:",CHAR(47)),"x")')
HTML_ID = "<img src=x onerror=alert(1)>"
HTML_NAME = "<svg onload=alert(2)>.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every ps1 attack of this file in one run of the CLI, two sandboxes at a time."""
    course = tmp_path_factory.mktemp("redteam2-course")
    submit(course, "honest", notebook())
    fds_probe = _probe("FOUND_AT_TOP or _scan_fds()")
    submit(
        course, "fds", notebook(prepend=[INHERITED_FDS], replace={"self_information": fds_probe})
    )
    escape = {"self_information": _probe("ESCAPED")}
    submit(course, "escape", notebook(prepend=[CHROOT_ESCAPE], replace=escape))
    submit(course, "daemons", notebook(prepend=[DAEMONS], replace={"entropy": DAEMON_IN_RUNNER}))
    stopped = notebook(prepend=[ZOMBIES], replace={"binary_entropy": STOPPED_RUNNER})
    submit(course, "stopped", stopped)
    submit(course, "forged", notebook(prepend=[FORGED_RESULTS]))
    submit(course, "metadata", _spoofed_metadata())
    submit(course, "html", _html_cells())
    wrong = notebook(replace={"self_information": _probe("True")})
    submit(course, "homoglyph", notebook(), extra={HOMOGLYPH: json.dumps(wrong)})
    phase = {"self_information": _probe("STOLEN")}
    submit(course, "phase", notebook(prepend=[FORGED_PHASE], replace=phase))
    for student in FORMULA_IDS:
        submit(course, student, notebook())
    submit(course, HTML_ID, notebook(), extra={HTML_NAME: json.dumps(notebook())})
    submit(course, "zlast", notebook())
    proc = run_cli("grade", ASSIGNMENT, "--course", str(course), "--jobs", "2", *FAST_LIMITS)
    return course, export_json(course), proc


def _full_marks(row: dict) -> None:
    assert row["status"] == "graded", row
    assert row["score"] == battery().max_score, row["tests"]


def test_batch_finishes_with_every_student_graded(graded):
    """Does the run end normally, with the honest students before and after every attack
    given full marks?"""
    _, rows, proc = graded
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "internal" not in proc.stdout + proc.stderr
    _full_marks(rows["honest"])
    _full_marks(rows["zlast"])


def test_inherited_file_descriptors_lead_nowhere(graded):
    """Does any file descriptor the sandbox inherits (a folder to ``openat`` past the chroot,
    a readable file, the worker's job pipe on stdin) reach outside, at the top level or in a
    test's runner?"""
    _full_marks(graded[1]["fds"])


def test_chroot_cannot_be_undone(graded):
    """Can student code leave its root through ``/proc``, ``chroot("x")`` + ``..``, a nested
    user namespace, mounting ``/proc`` or ``setuid(0)``?"""
    _full_marks(graded[1]["escape"])


def test_no_process_outlives_its_sandbox(graded):
    """Do detached daemons (double fork + ``setsid``), started by the top-level code and by a
    test's runner, survive the sandbox or change the score?"""
    _full_marks(graded[1]["daemons"])
    names = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            names.append(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            pass
    assert not [n for n in names if n.startswith("rt2daemon")], names


def test_stopped_runner_and_zombies_cost_only_that_test(graded):
    """Does a runner that SIGSTOPs itself (a stopped process uses no CPU time) fail its own
    test only, and do 25 unreaped zombies leave the other tests able to fork their runners?"""
    row = graded[1]["stopped"]
    assert row["status"] == "graded", row
    scores = scores_of(row)
    assert scores["test_binary_entropy"] == 0, row["tests"]
    tests = {t.grade_id: t.points for t in battery().tests}
    for gid in ("test_self_information", "test_entropy", "test_entropy_axis"):
        assert scores[gid] == tests[gid], row["tests"]


def test_crafted_result_records_fail_their_tests_plainly(graded):
    """Do result files the encoder never writes (NaN and infinity literals, duplicate keys,
    a FunctionRef, a 5000-digit integer, an array header of 0 × 2**62 × 2**62, big-endian
    and Fortran-order arrays, a bidi character in a type name) fail their tests with fixed
    text, without crashing the grader or scoring a point?"""
    row = graded[1]["forged"]
    assert row["status"] == "graded", row
    assert row["score"] == 0, row["tests"]
    text = json.dumps(row)
    assert "\u202e" not in text and "2**62" not in text and "4611686018427387904" not in text


def test_nbgrader_metadata_cannot_claim_points(graded):
    """Do edited ``points`` and ``checksum``, an invented graded cell and a duplicated test
    ``grade_id`` change the maximum, the score or the points the formgrader shows?"""
    course, rows, _ = graded
    row = rows["metadata"]
    _full_marks(row)
    assert row["max_score"] == rows["honest"]["max_score"], row
    copy = json.loads(
        (course / "autograded" / "metadata" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    )
    points = {t.grade_id: t.points for t in battery().tests}
    seen = []
    for cell in copy["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "grade_id" in meta:
            seen.append(meta["grade_id"])
            assert meta.get("points", 0) != 1000, meta
            if meta["grade_id"] in points:
                assert meta["points"] == points[meta["grade_id"]], meta
    assert "test_bonus_marks" not in seen
    assert len(seen) == len(set(seen)), seen


def test_no_html_or_script_reaches_the_instructors_pages(graded):
    """Do a raw cell of format ``text/html``, an SVG attachment with ``onload``, an iframe and
    a stored ``text/html``/JavaScript output reach the autograded copy or the feedback page?"""
    course, rows, _ = graded
    _full_marks(rows["html"])
    copy = (course / "autograded" / "html" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    feedback = (course / "feedback" / "html" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for text in (copy, feedback):
        for bad in (
            "<script",
            "<img",
            "<iframe",
            "onload",
            '"attachments"',
            "alert(5)",
            "text/html",
        ):
            assert bad not in text, bad
    assert all(c["cell_type"] in ("code", "markdown") for c in json.loads(copy)["cells"])


def test_homoglyph_notebook_is_not_graded_instead(graded):
    """With the real notebook and a look-alike name (Cyrillic і) holding wrong answers in one
    folder, is the real one graded?"""
    _full_marks(graded[1]["homoglyph"])


def test_forged_phase_steals_only_a_test_it_then_loses(graded):
    """The top-level code forges "cells done" on its phase pipe and has a child ask for the
    last test's inputs while the cells still run. Whether or not that works, does the
    stolen test score nothing (each test is served once) and the rest stay graded?"""
    row = graded[1]["phase"]
    assert row["status"] == "graded", row
    scores = scores_of(row)
    stolen = scores["test_self_information"] == 0  # the probe: the inputs reached the cells
    if stolen:
        assert scores["test_binary_entropy"] == 0, row["tests"]
    assert scores["test_entropy"] == 3 and scores["test_entropy_axis"] == 2, row["tests"]


def test_student_ids_are_no_spreadsheet_formulas_in_the_csv(graded):
    """Are student ids (folder names the student chose) that begin with ``=``, ``+``, ``-``
    or ``@`` written to the CSV export so that a spreadsheet shows them as text?"""
    import csv
    import io

    course, rows, _ = graded
    for student in FORMULA_IDS:
        _full_marks(rows[student])
    proc = run_cli("export", "--course", str(course), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    cells = [c for row in csv.reader(io.StringIO(proc.stdout)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    ids = {row["student_id"] for row in csv.DictReader(io.StringIO(proc.stdout))}
    assert {"'" + s for s in FORMULA_IDS} <= ids, ids


def test_html_in_a_student_id_or_a_file_name_stays_text(graded):
    """Do a student id and an extra notebook's name made of HTML reach the feedback page as
    markup?"""
    course, rows, _ = graded
    _full_marks(rows[HTML_ID])
    page = (course / "feedback" / HTML_ID / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "<img" not in page and "<svg" not in page, page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_two_runs_on_one_course_never_crash(tmp_path):
    """A careless instructor starts three ``grade`` runs on one new course at once. Does each
    either grade or refuse with a plain message (no traceback from two runs creating the
    gradebook's tables), and is every student graded by one of them?"""
    import subprocess

    for n in range(4):
        submit(tmp_path, f"s{n}", notebook())
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    command = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--course",
               str(tmp_path), "--jobs", "1", *FAST_LIMITS]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    results = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    for code, out, err in results:
        assert "Traceback" not in out + err, err
        assert code == 0 or (code == 2 and "another grade run is using" in err), err
    assert any(code == 0 for code, _, _ in results)
    rows = export_json(tmp_path)
    for n in range(4):
        _full_marks(rows[f"s{n}"])


def test_ipython_syntax_cannot_keep_the_grader_busy(tmp_path):
    """A 196 000-character cell of ``%time x = !ls`` lines: IPython's transformer rewrites one
    command per pass over the whole cell. Does reading it cost the grader's own process
    seconds at most, the cell run as written (a syntax error) and the answers keep their
    points, with the next student graded too?"""
    import time

    flood = "%time x = !ls\n" * 14_000
    submit(tmp_path, "flood", notebook(prepend=[flood, "%matplotlib inline\ny = !ls"]))
    submit(tmp_path, "next", notebook())
    start = time.monotonic()
    proc = run_cli("grade", ASSIGNMENT, "--course", str(tmp_path), "--jobs", "1", *FAST_LIMITS,
                   timeout=240)  # fmt: skip
    assert time.monotonic() - start < 60, proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = export_json(tmp_path)
    _full_marks(rows["flood"])
    _full_marks(rows["next"])


NONBLOCKING_STDIN = "import os\ntry:\n    os.set_blocking(0, False)\nexcept OSError:\n    pass\n"


def test_one_sandbox_cannot_end_the_worker_of_the_next(tmp_path):
    """The top-level code makes its stdin non-blocking. If stdin were the worker's job pipe
    (one open file shared with the worker), the worker's next read would fail and it would
    die under the next student: is every student after such a submission graded?"""
    for pair in range(6):
        submit(tmp_path, f"s{pair}a-nonblock", notebook(prepend=[NONBLOCKING_STDIN]))
        submit(tmp_path, f"s{pair}b-honest", notebook())
    proc = run_cli("grade", ASSIGNMENT, "--course", str(tmp_path), "--jobs", "1", *FAST_LIMITS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = export_json(tmp_path)
    assert len(rows) == 12
    for row in rows.values():
        _full_marks(row)


# ------------------------------------------------------------------------- ps5: SymPy answers


def _ps5_notebook(replace: dict[str, str]) -> dict:
    nb = json.loads((REPO / "solutions" / PS5 / f"{PS5}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in replace:
            cell["source"] = replace[gid]
    return nb


# Expressions that explode when evaluated: a Pow tower, a 10**(10**6)-digit power, a sum
# nested to the tree's depth cap.
SYMPY_BOMB = textwrap.dedent(
    """
    def sigmoid_derivative_expr():
        z = sp.Symbol("z")
        return sp.Pow(10, sp.Pow(10, sp.Pow(10, 100, evaluate=False), evaluate=False),
                      evaluate=False) * z


    def bce_logit_grad_expr():
        z, y = sp.symbols("z y")
        return sp.Pow(sp.Integer(7), sp.Integer(10**7), evaluate=False) * z - y


    def mse_sigmoid_grad_expr():
        z, y = sp.symbols("z y")
        e = z
        for _ in range(400):
            e = sp.sin(e + y)
        return e
    """
)

# The SymPy answer's runner leaves a process that, once the runner has written its result,
# replaces it with 16 MB of ``[{},{},...]``: five million empty dicts if parsed as a whole.
RESULT_BOMB = textwrap.dedent(
    '''
    def sigmoid_derivative_expr():
        """dσ/dz."""
        import os, time
        z = sp.Symbol("z")
        if os.fork() == 0:
            blob = b'{"outcomes": [' + b"{}," * (5 * 1024 * 1024) + b"{}]}"
            done = set()
            for _ in range(2000):
                for name in os.listdir("out"):
                    if name in done or not (name.startswith("test_") and name.endswith(".json")):
                        continue
                    with open("out/" + name, "rb") as f:
                        if b"__sympy__" not in f.read():
                            continue
                    with open("out/" + name + ".tmp", "wb") as f:
                        f.write(blob)
                    os.replace("out/" + name + ".tmp", "out/" + name)
                    done.add(name)
                time.sleep(0.005)
            os._exit(0)
        return sp.exp(-z) / (1 + sp.exp(-z)) ** 2
    '''
)

# Runs the CLI and prints the largest resident set of any process of its tree (kB): the
# grader, its workers and the evaluation children, once reaped.
MAXRSS = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


@pytest.fixture(scope="module")
def graded_ps5(tmp_path_factory):
    """Grade the SymPy attacks with the model answers, recording the tree's peak memory."""
    import subprocess

    course = tmp_path_factory.mktemp("redteam2-ps5")
    for student, nb in (
        ("model", _ps5_notebook({})),
        ("bomb", _ps5_notebook({"sigmoid_derivative_expr": SYMPY_BOMB})),
        ("resultbomb", _ps5_notebook({"sigmoid_derivative_expr": RESULT_BOMB})),
    ):
        folder = course / "submitted" / student / PS5
        folder.mkdir(parents=True)
        (folder / f"{PS5}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", MAXRSS, sys.executable, "-m", "autograder", "grade", PS5,
         "--course", str(course), "--jobs", "1", "--timeout", "30", "--test-timeout", "3"],
        capture_output=True, text=True, timeout=900, cwd=REPO, env=env,
    )  # fmt: skip
    rows = {r["student"]: r for r in json.loads(
        run_cli("export", "--course", str(course), "--format", "json").stdout
    ) if r["assignment"] == PS5}  # fmt: skip
    return rows, proc


def test_exploding_sympy_answers_fail_only_their_tests(graded_ps5):
    """Do a Pow tower, 7**(10**7) and a 400-deep nest of sin, evaluated by the trusted side,
    fail their own tests within the limits, leaving the rest of the notebook graded?"""
    rows, proc = graded_ps5
    assert proc.returncode == 0, proc.stdout + proc.stderr
    from autograder.batteries import load

    ps5 = load(PS5)
    assert rows["model"]["score"] == ps5.max_score, rows["model"]["tests"]
    row = rows["bomb"]
    assert row["status"] == "graded", row
    scores = scores_of(row)
    for gid in ("test_sigmoid_derivative_expr", "test_bce_logit_grad_expr"):
        assert scores[gid] == 0, row["tests"]
    points = {t.grade_id: t.points for t in ps5.tests}
    assert scores["test_softmax_cross_entropy_grad"] == points["test_softmax_cross_entropy_grad"]


def test_rewritten_sympy_result_cannot_inflate_the_graders_memory(graded_ps5):
    """A process left by a SymPy answer rewrites the result file into 16 MB of empty JSON
    objects after its runner is done. Does any process outside the sandbox (the worker, the
    evaluation child, the grader) parse it whole (five million dicts, ~400 MB)?"""
    rows, proc = graded_ps5
    assert proc.returncode == 0, proc.stdout + proc.stderr
    peak_kb = int(proc.stdout.strip().splitlines()[-1])
    assert peak_kb < 250 * 1024, f"peak resident memory {peak_kb // 1024} MB"
    row = rows["resultbomb"]
    assert row["status"] == "graded", row
    assert scores_of(row)["test_sigmoid_derivative_expr"] == 0, row["tests"]
