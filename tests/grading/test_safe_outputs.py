"""Issue 9, class 7: what the grader shows is safe to open.

- the summary ``grade`` prints carries no control character from a submission (student
  ids are folder names; reasons quote file names), and a long reason ends at a word;
- the student's Markdown in the autograded copy, which nbgrader's formgrader renders as
  HTML, holds no ``javascript:``/``vbscript:``/``data:`` link, no image but an inline
  ``data:image`` and no ``\\href``: checked by rendering it with a CommonMark renderer that
  accepts *every* URL (markdown-it-py with link validation off, raw HTML on) and reading
  the tags and attributes of the result;
- ``timestamp.txt`` is parsed defensively: each bad kind of file is a reason, not a crash.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from grading_helpers import source_notebook
from markdown_it import MarkdownIt

from autograder.grading import engine
from autograder.grading.grade import summary_table
from autograder.grading.gradebook import Result

# --------------------------------------------------------------------------- the terminal


def _outcome(student: str, reason: str, status: str = "ungradable") -> engine.Outcome:
    outcome = engine.Outcome(Result(student, "ps1_information", status, reason))
    outcome.action = "recorded"
    return outcome


def test_summary_has_no_control_characters():
    """Are control, format and undecodable characters in ids and reasons shown escaped?"""
    hostile = [
        _outcome("\x1b[2J\x1b[Hmallory", "graded '\x1b]0;pwned\x07.ipynb'"),
        _outcome("eve\r", "a\u202edlrow\u2028next"),  # bidi override, line separator
        _outcome("b\udcff", "bytes \udcfe"),  # undecodable bytes of a folder/file name
    ]
    table = summary_table(hostile)
    for line in table.split("\n"):
        bad = [c for c in line if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}]
        assert not bad, (line, bad)
    assert "\\x1b[2J\\x1b[Hmallory" in table and "b\\xff" in table and "\\u202e" in table
    table.encode("utf-8")  # printable on any UTF-8 terminal


def test_long_reason_is_cut_at_a_word():
    """Does a long reason end with "…" after a whole word, not in the middle of one?"""
    reason = " ".join(f"word{i:02d}" for i in range(40))  # 279 characters
    line = summary_table([_outcome("alice", reason)]).split("\n")[2]
    shown = line.split("  ")[-1]
    assert shown.endswith("…") and len(shown) <= 101
    kept = shown[:-1]
    assert reason.startswith(kept) and reason[len(kept)] == " "


# --------------------------------------------------------------------------- Markdown

ATTACKS = [
    "[a](javascript:alert(1))",
    "[b](JaVaScRiPt:alert(1))",
    "[c](&#106;avascript:alert(1))",
    "[d](javas&#99;ript&#58;alert(1))",
    "[e](java\\script:alert(1))",
    "[f](vbscript:msgbox(1))",
    "[g](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[h](<javascript:alert(1)>)",
    "[i](  javascript:alert(1) 'title')",
    "![p1](https://tracker.example/p.png)",
    "![p2](//tracker.example/p.png)",
    "![p3](relative/p.png)",
    "![p4](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "![nested [x](y)](https://tracker.example/n.png)",
    "[![p5](https://tracker.example/q.png)](https://example.org/)",
    "![r1][img]\n\n[img]: https://tracker.example/r.png",
    "[r2][js]\n\n[js]: javascript:alert(2)",
    "> [r3][q]\n>\n> [q]: javascript:alert(6)",
    "- [r4][l]\n\n- [l]: https://tracker.example/l.png\n\n![r5][l]",
    "[r6][two lines]\n\n[two\nlines]: javascript:alert(7)",
    '<img src="https://tracker.example/h.png">',
    '<a href="javascript:alert(3)">x</a>',
    "<javascript:alert(4)>",
    "$\\href{javascript:alert(5)}{x}$ and $$\\require{html}\\class{x}{y}$$",
]
SAFE = [
    "![ok](data:image/png;base64,iVBORw0KGgo=)",
    "[docs](https://example.org/a_(b))",
    "[mail](mailto:ta@example.org)",
    "[section](#entropy)",
]
MARK = "Mallory writes: "
ALLOWED_TAGS = {
    "p",
    "a",
    "img",
    "em",
    "strong",
    "code",
    "pre",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "blockquote",
}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _scheme(url: str) -> str | None:
    """The scheme a browser sees: entities decoded, tabs/newlines and leading controls or
    spaces dropped (the URL standard strips them), lower case."""
    text = re.sub(r"[\t\n\r]", "", html.unescape(url)).lstrip("".join(map(chr, range(33))))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", text)
    return match.group(1).lower() if match else None


def _rendered_tags(markdown: str) -> list[tuple[str, dict]]:
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # a renderer that trusts every URL
    collector = _Collector()
    collector.feed(md.render(markdown))
    return collector.tags


def _copy_with(markdown: str) -> list[str]:
    """The student Markdown cells of the autograded copy of a submission that writes
    ``markdown`` as its answer to the written question and in an extra cell."""
    submitted = copy.deepcopy(source_notebook())
    for cell in submitted["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "q_zero_log_zero":
            cell["source"] = MARK + markdown
    submitted["cells"].append({"cell_type": "markdown", "metadata": {}, "source": MARK + markdown})
    submitted["cells"].append({"cell_type": "raw", "metadata": {}, "source": MARK + markdown})
    copied = engine.autograded_copy(submitted, source_notebook())
    return [c["source"] for c in copied["cells"] if MARK in c["source"]]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_in_the_autograded_copy_has_no_unsafe_url(attack):
    """Rendered by a renderer that trusts every URL, does the student's Markdown yield no
    raw HTML tag, no link but http(s)/mailto/relative and no image but inline data?"""
    cells = _copy_with(attack)
    assert len(cells) == 3  # the answer, the extra cell and the raw cell, all sanitised
    for source in cells:
        for tag, attrs in _rendered_tags(source):
            assert tag in ALLOWED_TAGS, (attack, source, tag)
            if tag == "a":
                assert _scheme(attrs.get("href", "")) in (None, "http", "https", "mailto"), (
                    attack,
                    source,
                )
            if tag == "img":
                assert attrs.get("src", "").startswith("data:image/png;"), (attack, source)
        assert not re.search(r"\\(href|require|class)(?![A-Za-z])", source), source


@pytest.mark.parametrize("safe", SAFE)
def test_safe_links_and_inline_images_are_kept(safe):
    """Do an inline PNG, an https link, a mailto link and an anchor keep working?"""
    submitted = copy.deepcopy(source_notebook())
    submitted["cells"].append({"cell_type": "markdown", "metadata": {}, "source": safe})
    copied = engine.autograded_copy(submitted, source_notebook())
    assert copied["cells"][-1]["source"] == safe
    tags = [t for t, _ in _rendered_tags(safe)]
    assert "a" in tags or "img" in tags


# --------------------------------------------------------------------------- timestamp.txt


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"0001-01-01 00:00:00+05:00", "not an ISO 8601 time"),  # UTC would be year 0
        (b"9999-12-31 23:00:00-05:00", "not an ISO 8601 time"),  # UTC would be year 10000
        (b"0001-01-01 00:00:00", "the year 1 is not plausible"),
        (b"9999-12-31 23:59:59 UTC", "the year 9999 is not plausible"),
        (b"yesterday, honest", "not an ISO 8601 time ('yesterday, honest')"),
        (b"\x1b[2J2026-01-01", "not an ISO 8601 time ('\\x1b[2J2026-01-01')"),
        (b"\xff\xfe2\x000\x002\x006\x00", "not UTF-8"),
        (b"2026-01-01 00:00:00" + b" " * 10_000_000, "too large"),
        (b"", "not an ISO 8601 time"),
    ],
)
def test_bad_timestamp_is_a_reason_not_a_crash(tmp_path, content, words):
    """Does each bad ``timestamp.txt`` give no time and a reason naming the problem?"""
    (tmp_path / "timestamp.txt").write_bytes(content)
    stamp, reason = engine._timestamp(tmp_path)
    assert stamp is None
    assert reason.startswith("timestamp.txt ignored") and words in reason, reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"2026-11-21 20:00:00.000000 UTC", dt.datetime(2026, 11, 21, 20, 0)),  # nbgrader's
        (b"2026-11-21T21:30:00+01:30\n", dt.datetime(2026, 11, 21, 20, 0)),
    ],
)
def test_good_timestamp_is_read_as_utc(tmp_path, content, expected):
    """Is nbgrader's own format, or ISO 8601 with an offset, read as naive UTC?"""
    (tmp_path / "timestamp.txt").write_bytes(content)
    assert engine._timestamp(tmp_path) == (expected, None)
