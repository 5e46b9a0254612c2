"""nbgrader's formgrader, opened in Chromium on a course graded by the sandboxed grader
(issue 10 acceptance).

A real Jupyter server with nbgrader's formgrader extension runs on a free 127.0.0.1 port
with a token, in the course folder (so the course's ``nbgrader_config.py`` applies), and is
stopped afterwards. Debian's chromium is driven by Playwright. The instructor sees the
graded submissions, the failing test's message and the pending written answer; the
Autograde link is refused with a message naming ``python -m autograder grade``; a manual
grade entered in the page reaches ``export`` and, after ``python -m autograder feedback``,
the student's page. Skips when chromium is missing, except under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from grading_helpers import ASSIGNMENT, REPO, run_cli, submit
from workflow_helpers import (
    WRITTEN_ID,
    export_rows,
    feedback_page,
    fresh_course,
    grade,
    nbgrader_gradebook,
    released,
    with_written_answer,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["released"]

TIMEOUT_MS = 30_000
WRONG_ENTROPY = "def entropy(p, *, axis=-1, base=None):\n    return np.float64(0.0)\n"
BOB_ANSWER = "Because p log p goes to 0 (bob's words)."


@pytest.fixture(scope="module")
def chromium(browser):
    """The session's headless chromium (tests/conftest.py): one Playwright per process."""
    return browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(released, tmp_path_factory):
    """A graded course served by a Jupyter server with the formgrader; yields
    (course, base URL, token) and stops the server."""
    course = fresh_course(released, tmp_path_factory.mktemp("formgrader"))
    submit(course, "ann", with_written_answer("p log p tends to 0."))
    submit(course, "bob", with_written_answer(BOB_ANSWER, replace={"entropy": WRONG_ENTROPY}))
    grade(course)
    port, token = _free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    env = dict(os.environ)
    env.update(
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(runtime / "config"),  # no user config of this machine
    )
    log = (runtime / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={course}",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # a container's root
        ],
        cwd=course,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "jupyter server did not start:\n" + (runtime / "server.log").read_text()
                    )
                time.sleep(0.5)
        yield course, base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def page(chromium, formgrader):
    """A fresh browser page logged in with the token; requests may only go to the server."""
    _, base, token = formgrader
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    outside = []

    def only_local(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.goto(f"{base}/formgrader?token={token}")
    yield page
    context.close()


def test_formgrader_shows_graded_submissions_without_banner(formgrader, page):
    """Does the formgrader list the assignment with no exchange or course-id warning, and
    both submissions as graded (no "needs autograding"), bob's as needing manual grading?"""
    _, base, _ = formgrader
    page.goto(f"{base}/formgrader/manage_assignments")
    page.wait_for_selector(f"text={ASSIGNMENT}")
    assert page.locator("#warning-exchange").count() == 0
    assert page.locator("#warning-course-id").count() == 0
    page.goto(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}")
    page.wait_for_selector("text=bob")
    text = page.inner_text("body")
    assert "ann" in text and "bob" in text
    assert "needs autograding" not in text
    assert "needs manual grading" in text


def test_autograde_link_is_refused(formgrader, page):
    """Does the Autograde link of a submission fail with the message naming the sandboxed
    grader, leaving bob's score as our grader wrote it?"""
    course, base, _ = formgrader
    before = export_rows(course)["bob"]["score"]
    page.goto(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}")
    page.wait_for_selector("text=bob")
    row = page.locator("tr", has_text="bob")
    row.locator(".autograde a").click()
    page.wait_for_selector("text=python -m autograder grade")
    assert export_rows(course)["bob"]["score"] == before


def _submission_id(course, student: str) -> str:
    with nbgrader_gradebook(course) as gb:
        return gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).id


def test_manual_grade_in_formgrader_reaches_export_and_feedback(formgrader, page):
    """On bob's submission, are the failing test's message and his pending written answer
    shown, and does a score and a comment typed there reach `export` and, after
    `python -m autograder feedback`, his feedback page?"""
    course, base, _ = formgrader
    message = next(
        t["message"] for t in export_rows(course)["bob"]["tests"] if t["grade_id"] == "test_entropy"
    )
    page.goto(f"{base}/formgrader/submissions/{_submission_id(course, 'bob')}/")
    page.wait_for_selector(f"#{WRITTEN_ID}")
    text = page.inner_text("body")
    assert "sandboxed grader: 0 / 3" in text
    assert message.splitlines()[0] in text
    assert "(bob's words)" in text
    assert page.input_value(f"#{WRITTEN_ID}") == ""  # pending: no score yet
    assert export_rows(course)["bob"]["tests"][-1]["pending"] is True
    page.fill(f"#{WRITTEN_ID}", "0.5")
    page.press(f"#{WRITTEN_ID}", "Tab")
    page.fill(f"#{WRITTEN_ID}-comment", "Why is the limit 0? Use l'Hôpital.")
    page.press(f"#{WRITTEN_ID}-comment", "Tab")
    deadline = time.monotonic() + 30
    while True:
        row = export_rows(course)["bob"]
        (written,) = [t for t in row["tests"] if t["kind"] == "manual"]
        if written["score"] == 0.5 and written["message"].startswith("Why is the limit"):
            break
        assert time.monotonic() < deadline, row
        time.sleep(0.5)
    assert written["pending"] is False
    auto = sum(t["score"] for t in row["tests"] if t["kind"] == "auto")
    assert row["score"] == auto + 0.5
    proc = run_cli("feedback", ASSIGNMENT, "--course", str(course), "--student", "bob")
    assert proc.returncode == 0, proc.stderr
    html = feedback_page(course, "bob")
    assert "0.5 / 1" in html and "Why is the limit 0?" in html
    assert message.splitlines()[0].replace("'", "&#x27;") in html
