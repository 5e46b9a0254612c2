"""Fixtures for the tests of the built website (``_build/html``).

The site is built by ``make book`` (``make test`` builds it first). The tests never build
it themselves: a clean build takes a minute or more. ``BOOK_HTML_DIR`` may point them at
another built copy of the site (for example a scratch build of a few pages).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from ._site import site_dir, toc_files


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; fails (not skips) when it is missing, because `make test` builds it."""
    root = site_dir()
    if not (root / "index.html").is_file():
        pytest.fail(f"no built site at {root}: run make book first", pytrace=False)
    return root


@pytest.fixture(scope="session")
def pages() -> list[str]:
    """The docnames of every page in `_toc.yml`, for example ``book/entropy``."""
    return toc_files()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        """Keep the request log out of the test output."""


@pytest.fixture(scope="session")
def server(site):
    """Serve the built site on 127.0.0.1 from a background thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
