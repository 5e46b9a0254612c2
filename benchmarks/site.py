"""Weight and speed of every page of the built site in headless Chromium.

For each page of the table of contents, in a fresh browser context (empty cache), it
records the bytes transferred (bodies of every response, the site being served
uncompressed by Python's http.server, as a classroom's simple static server would;
headers included) and
the number of requests, and three times measured from the start of navigation:

* ``typeset``: MathJax's startup promise has resolved (all math on the page typeset);
* ``explorables``: every explorable on the page has built its controls and plot;
* ``interactive``: the later of the two and of DOMContentLoaded, i.e. the reader can read
  the math and move the figures.

Times are the median over ``--repeat`` loads. It prints one line per page, then the
largest page and the medians. Like the other benchmarks it never asserts: the issue's
targets (median page under 2 MB, interactive under 1.5 s) are printed next to the result.
It needs the built site (``make book``) and Debian's chromium.

Run::

    python benchmarks/site.py               # every page, 3 loads each
    python benchmarks/site.py --repeat 1 --pages book/training book/entropy
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import shutil
import statistics
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.book._site import site_dir, toc_files  # noqa: E402

# Runs before any script of the page: remembers when MathJax finished typesetting, in
# milliseconds since navigation started.
RECORD_TIMES = """(() => {
    window.__bench = {};
    const poll = setInterval(() => {
        const startup = window.MathJax && window.MathJax.startup;
        if (startup && startup.promise) {
            clearInterval(poll);
            startup.promise.then(() => { window.__bench.typeset = performance.now(); });
        }
    }, 2);
})();"""

# Resolves once the page is as ready as it will get: math typeset (if MathJax is on the
# page) and explorables built (if it has any).
WAIT_READY = """async () => {
    const b = window.__bench;
    const hasMath = Boolean(window.MathJax && window.MathJax.startup);
    const hasFigures = Boolean(document.querySelector("figure.explorable"));
    const navigation = () => performance.getEntriesByType("navigation")[0];
    // explorables.js stores the time it finished in data-explorables-ready.
    const figures = () => document.documentElement.dataset.explorablesReady;
    while ((hasMath && b.typeset === undefined) || (hasFigures && !figures())
           || !navigation().domContentLoadedEventEnd) {
        await new Promise((done) => setTimeout(done, 10));
    }
    const dom = navigation().domContentLoadedEventEnd;
    return hasFigures ? { ...b, dom, explorables: Number(figures()) } : { ...b, dom };
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        """No request log on the benchmark's output."""


def serve(root: Path):
    """Serve ``root`` on 127.0.0.1 from a thread; returns (server, base URL)."""
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@functools.cache
def gzipped_size(url: str, base: str) -> int:
    """Bytes of the file behind ``url`` once gzipped, as a compressing server sends it."""
    path = site_dir() / unquote(urlsplit(url).path.lstrip("/"))
    return len(gzip.compress(path.read_bytes(), 6)) if path.is_file() else 0


def load(browser, base: str, doc: str) -> dict:
    """Load one page in a fresh context; its bytes, requests and times (ms)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    finished = []
    outside = []

    context.add_init_script(RECORD_TIMES)
    page = context.new_page()
    page.on("requestfinished", lambda request: finished.append(request))
    # Recorded, not intercepted: routing every request through Python would slow the
    # load being measured. The browser tests make sure nothing leaves the site.
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else outside.append(request.url),
    )
    try:
        page.goto(f"{base}/{doc}.html", wait_until="load")
        times = page.evaluate(WAIT_READY)
        page.wait_for_load_state("networkidle")  # fonts MathJax fetched while typesetting
        interactive = max(times.get(k, 0.0) for k in ("dom", "typeset", "explorables"))
        sizes = [request.sizes() for request in finished]
        return {
            "bytes": sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes),
            "gzip": sum(gzipped_size(request.url, base) for request in finished),
            "requests": len(sizes),
            "outside": outside,
            "typeset": times.get("typeset"),
            "explorables": times.get("explorables"),
            "interactive": interactive,
        }
    finally:
        context.close()


def fmt_ms(value) -> str:
    return "-" if value is None else f"{value:7.0f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="loads per page (median)")
    parser.add_argument("--pages", nargs="*", help="docnames, e.g. book/entropy (default: all)")
    args = parser.parse_args(argv)
    root = site_dir()
    if not (root / "index.html").is_file():
        parser.error(f"no built site in {root.name}/: run make book first")
    chromium = shutil.which("chromium")
    if chromium is None:
        parser.error("Debian's chromium is not installed (apt-get install chromium)")
    pages = args.pages or toc_files()

    httpd, base = serve(root)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            load(browser, base, pages[0])  # warm up the browser process, not measured
            print(
                f"{'page':40s} {'KB':>7s} {'KB gz':>7s} {'req':>4s} "
                f"{'typeset':>8s} {'figures':>8s} {'ready ms':>8s}"
            )
            for doc in pages:
                runs = [load(browser, base, doc) for _ in range(args.repeat)]
                med = {
                    key: (
                        statistics.median(r[key] for r in runs)
                        if runs[0][key] is not None
                        else None
                    )
                    for key in ("typeset", "explorables", "interactive")
                }
                row = {
                    "doc": doc,
                    "bytes": runs[0]["bytes"],
                    "gzip": runs[0]["gzip"],
                    "requests": runs[0]["requests"],
                    "outside": runs[0]["outside"],
                    **med,
                }
                rows.append(row)
                print(
                    f"{doc:40s} {row['bytes'] / 1024:7.0f} {row['gzip'] / 1024:7.0f} "
                    f"{row['requests']:4d} "
                    f"{fmt_ms(row['typeset']):>8s} {fmt_ms(row['explorables']):>8s} "
                    f"{fmt_ms(row['interactive']):>8s}"
                    + (f"  OUTSIDE REQUESTS: {row['outside']}" if row["outside"] else "")
                )
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()

    largest = max(rows, key=lambda r: r["bytes"])
    slowest = max(rows, key=lambda r: r["interactive"])
    median_bytes = statistics.median(r["bytes"] for r in rows)
    median_ready = statistics.median(r["interactive"] for r in rows)
    print()
    median_gzip = statistics.median(r["gzip"] for r in rows)
    print(
        f"largest page: {largest['doc']} {largest['bytes'] / 1e6:.2f} MB "
        f"({largest['gzip'] / 1e6:.2f} MB gzipped)"
    )
    print(f"slowest page: {slowest['doc']} interactive after {slowest['interactive']:.0f} ms")
    print(
        f"median page:  {median_bytes / 1e6:.2f} MB, {median_gzip / 1e6:.2f} MB gzipped "
        "(target < 2 MB), "
        f"interactive after {median_ready:.0f} ms (target < 1500 ms)"
    )


if __name__ == "__main__":
    main()
