"""Session-wide pytest hooks and the one headless browser every browser test shares."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # make `tests/ulp.py` importable as `ulp`


def pytest_terminal_summary(terminalreporter):
    """Print the worst ULP error per function measured by the accuracy tests."""
    from ulp import WORST

    if not WORST:
        return
    terminalreporter.section("worst error against mpmath (ULP, float64)")
    for name in sorted(WORST):
        terminalreporter.write_line(f"{name:<40s} {WORST[name]:8.2f}")


#: Debian's chromium, headless, with everything that would reach the network switched off.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """A headless chromium, or a skip (a failure under CI=true) when it is not installed.

    One per test session: Playwright's sync API cannot run two instances in one process,
    so the site tests and the formgrader tests share this one.
    """
    executable = shutil.which("chromium")
    problem = None
    if executable is None:
        problem = "Debian's chromium is not installed (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            problem = "Playwright for Python is not installed in this environment"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; browser tests are required under CI=true", pytrace=False)
        pytest.skip(problem)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
