"""Find the hand-typed numbers in a MyST page: the scanner behind ``test_glue.py``.

Issue 8 asks that every number a page's code computes reaches its prose through
myst-nb's glue. A glued number is not in the page source at all (the source holds
``{glue:text}`key:.3f``` or, in alt text, ``{glue:key:.3f}``), so the check is simple:
any decimal literal with three or more significant digits that is *written* in a place a
reader reads as prose is suspect, unless the page's allowlist names it.

What is scanned (the reader's text):

* prose paragraphs, headings, lists, tables, block quotes, including the bodies of
  ``{exercise}``, admonitions, ``{prf:...}`` and everything between ``{solution-start}``
  and ``{solution-end}`` (exercise solutions' prose);
* figure captions and image alt text: the ``caption:`` and ``alt:`` values of a code
  cell's YAML options (``mystnb: figure: caption:`` / ``mystnb: image: alt:``), the
  ``:alt:`` option of an image directive and the body of a ``{figure}`` /
  ``{glue:figure}`` directive;
* inline math ``$...$`` and ``{math}`` roles, see below.

What is not scanned:

* code: code cells' source, fenced code of any language, ``{eval-rst}`` and ``{raw}``,
  inline code spans;
* display math: ``$$...$$``, ``{math}`` directives and amsmath environments
  (``\\begin{align}``...): display math states definitions and derivations, and numbers
  a cell computes are not put there;
* role contents other than ``{math}`` (``{ref}``, ``{cite:p}``, ``{glue:text}``, ...),
  glue placeholders, URLs and link targets, ``(label)=`` targets, HTML comments,
  directive options (``:label:``, ``:class:``...) other than ``:alt:``;
* things that look like decimals but are not quantities: version numbers (``1.4.0``),
  numbers glued to letters (``ps1``, ``log1p``, ``float64``), and numbers right after
  "Figure", "Fig.", "Section", "§", "Chapter", "Table", "Eq." or "version" (figure and
  section numbers). Integers are never flagged: in this book they are counts, sizes,
  seeds, years and steps, definitions rather than measurements; a computed integer
  should still be glued, but the check cannot tell it from a definition.

Inline math is scanned, deliberately. In this book ``$...$`` holds worked results as
often as definitions (``$-\\ln 0.6 \\approx 0.511$``), and a definition rarely needs
three significant digits, so a 3-digit literal in inline math is far more likely a
computed result typed by hand than a definition. Glue cannot reach inside math, so such
a number is either moved out of the math and glued (``$-\\ln 0.6 \\approx$``
``{glue:text}`ce-loss-06:.3f```) or, when it is a true constant worked out by hand (one nat
is $1/\\ln 2 \\approx 1.443$ bits), allowlisted with its reason. Display math is not
scanned: worked examples in display math are not checked by this scanner.

Significant digits are counted in the mantissa as written: leading zeros do not count,
trailing zeros after the decimal point do (``0.511`` has 3, ``3.700`` has 4, ``0.05`` has
1, ``1.5e-8`` has 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Fewest significant digits that make a hand-typed literal suspect (issue 8).
MIN_DIGITS = 3

#: Fenced directives whose body is code, output or display math: never scanned.
SKIPPED_DIRECTIVES = {
    "code-cell",
    "code",
    "code-block",
    "sourcecode",
    "literalinclude",
    "eval-rst",
    "raw",
    "math",
    "glue:math",
    "bibliography",
    "tableofcontents",
    "toctree",
    "mermaid",
}

#: Directives whose argument (on the opening line) is a path, a key or a label.
ARGUMENT_IS_A_NAME = {
    "figure",
    "image",
    "glue",
    "glue:",
    "glue:any",
    "glue:figure",
    "glue:md",
    "solution-start",
    "solution-end",
    "include",
}

#: YAML keys (code-cell options) and directive options whose value the reader sees.
READER_KEYS = {"caption": "caption", "alt": "alt text"}

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[^}\s]+)\}\s*(?P<argument>.*)$")
OPTION = re.compile(r"^\s*:(?P<name>[\w-]+):\s?(?P<value>.*)$")
YAML_KEY = re.compile(r"^(?P<indent>\s*)(?P<key>[\w-]+):(?:\s+(?P<value>.*))?$")
TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
MATH_ENV = re.compile(r"^\s*\\begin\{(?P<env>[\w*]+)\}")

# Inline spans, applied to a paragraph's text in this order.
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
GLUE_PLACEHOLDER = re.compile(r"\{glue:[^\s{}]*\}")
ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}(?P<ticks>`+)(?P<body>.+?)(?P=ticks)", re.S)
CODE_SPAN = re.compile(r"(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)", re.S)
DISPLAY_MATH_INLINE = re.compile(r"\$\$.+?\$\$", re.S)
# MyST is configured with dmath_allow_digits, so "$x$2" is math too: no digit test.
INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)(?P<body>[^$]*?\S)(?<!\\)\$", re.S)
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"<?\b(?:https?|ftp)://[^\s>)]+>?")
SUBSTITUTION = re.compile(r"\{\{.*?\}\}", re.S)

#: A decimal literal: digits with a decimal point, or a mantissa with an exponent (the
#: exponent's sign may be the Unicode minus of typeset text, ``4.25e−18``). Not part of a
#: name or a dotted version (``ps1``, ``x86.5``, ``1.4.0``); a unit may follow it
#: (``2.5x``, ``0.511nats``).
NUMBER = re.compile(
    r"(?<![\w.])(?P<literal>(?:\d+\.\d+|\.\d+)(?:[eE][-+\u2212]?\d+)?|\d+[eE][-+\u2212]?\d+)"
    r"(?![\d_]|\.\d)"
)
#: Words after which a number is a figure, section or version number, not a quantity.
NOT_A_QUANTITY = re.compile(
    r"(?:\bFig(?:ure)?s?\.?|\bSections?|§|\bChapters?|\bTables?|\bEq(?:uation)?s?\.?|"
    r"\bversions?|\bPython)\s*\(?$",
    re.I,
)


@dataclass(frozen=True)
class Chunk:
    """A piece of reader-visible text: a paragraph, a caption or an alt text.

    ``line`` is the 1-based line of the source where ``text`` starts; ``text`` may span
    several lines (joined with newlines) so inline math broken across lines is whole.
    """

    line: int
    text: str
    where: str  # "prose", "caption" or "alt text"


@dataclass(frozen=True)
class Literal:
    """A decimal literal found in a page's reader-visible text."""

    line: int
    literal: str
    where: str  # "prose", "caption", "alt text" or "inline math in <where>"
    digits: int


def significant_digits(literal: str) -> int:
    """Significant digits of a decimal literal as written.

    >>> [significant_digits(s) for s in ("0.511", "3.700", "0.05", "1.5e-8", "709.78")]
    [3, 4, 1, 2, 5]
    """
    mantissa = re.split(r"[eE]", literal, maxsplit=1)[0]
    return len(mantissa.replace(".", "").lstrip("0"))


def _yaml_values(lines: list[tuple[int, str]]) -> Iterator[Chunk]:
    """The ``caption:`` and ``alt:`` values of a YAML options block, with line numbers.

    A key's value runs on over the following lines that are indented deeper than the
    key (YAML block scalars ``|`` / ``>`` and folded plain scalars).
    """
    key, indent, start, text = None, -1, 0, []
    scalar = False  # does the current key hold text (rather than a nested mapping)?

    def flush():
        if key in READER_KEYS and any(t.strip() for t in text):
            yield Chunk(start, "\n".join(text), READER_KEYS[key])

    for number, line in lines:
        match = YAML_KEY.match(line)
        if match and not (scalar and len(match["indent"]) > indent):
            yield from flush()
            key, indent, start = match["key"], len(match["indent"]), number
            value = (match["value"] or "").strip()
            scalar = bool(value)
            if value in {"|", ">", "|-", ">-", "|+", ">+"}:  # block scalar: text starts below
                text, start = [], number + 1
            else:
                text = [value]
        elif scalar:
            text.append(line)
    yield from flush()


def chunks(source: str) -> Iterator[Chunk]:
    """Split a MyST page into the pieces of text a reader reads (see module docstring).

    Parameters
    ----------
    source : str
        The page's Markdown source (jupytext MyST notebook or plain MyST).

    Yields
    ------
    Chunk
        Paragraphs of prose, and the caption and alt-text values of figures, in source
        order. Code, display math and directive options are left out.
    """
    lines = source.splitlines()
    numbered = list(enumerate(lines, start=1))
    i = 0
    # jupytext front matter
    if lines and lines[0].strip() == "---":
        i = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), 0) + 1

    stack: list[tuple[str, int, bool]] = []  # open fences: (char, length, scanned?)
    paragraph: list[tuple[int, str]] = []

    def flush():
        if paragraph:
            yield Chunk(paragraph[0][0], "\n".join(t for _, t in paragraph), "prose")
            paragraph.clear()

    in_comment = False
    while i < len(lines):
        number, line = numbered[i]
        stripped = line.strip()
        i += 1
        inside_prose = not stack or stack[-1][2]

        if in_comment:
            in_comment = "-->" not in line
            continue
        if stack:
            char, length, _ = stack[-1]
            if stripped and set(stripped) == {char} and len(stripped) >= length:
                yield from flush()
                stack.pop()
                continue
        if not inside_prose:
            continue

        fence = FENCE.match(line)
        if fence:
            yield from flush()
            info = fence["info"].strip()
            directive = DIRECTIVE.match(info)
            name = directive["name"] if directive else None
            scanned = name is not None and name not in SKIPPED_DIRECTIVES
            stack.append((fence["fence"][0], len(fence["fence"]), scanned))
            if directive and scanned and name not in ARGUMENT_IS_A_NAME and directive["argument"]:
                yield Chunk(number, directive["argument"], "prose")
            if directive:
                i = yield from _directive_options(numbered, i, scanned or name == "code-cell")
            continue

        if stripped.startswith("$$"):
            yield from flush()
            if stripped.count("$$") < 2:  # a multi-line block: skip to its closing $$
                while i < len(lines) and "$$" not in lines[i]:
                    i += 1
                i += 1
            continue
        env = MATH_ENV.match(line)
        if env and not paragraph:
            yield from flush()
            end = f"\\end{{{env['env']}}}"
            while i <= len(lines) and end not in numbered[i - 1][1]:
                i += 1
            continue
        if TARGET.match(line):
            yield from flush()
            continue
        if stripped.startswith("<!--") and "-->" not in stripped:
            yield from flush()
            in_comment = True
            continue
        if not stripped:
            yield from flush()
            continue
        paragraph.append((number, line))
    yield from flush()


def _directive_options(numbered, i: int, wanted: bool) -> Iterator[Chunk]:
    """Consume a directive's options (``:key: value`` lines or a ``---`` YAML block).

    Yields the reader-visible option values (``caption``, ``alt``) when ``wanted`` and
    returns the index of the first line after the options.
    """
    if i < len(numbered) and numbered[i][1].strip() == "---":
        end = next((k for k in range(i + 1, len(numbered)) if numbered[k][1].strip() == "---"), i)
        if wanted:
            yield from _yaml_values(numbered[i + 1 : end])
        return end + 1
    while i < len(numbered):
        option = OPTION.match(numbered[i][1])
        if not option:
            break
        if wanted and option["name"] in READER_KEYS and option["value"].strip():
            yield Chunk(numbered[i][0], option["value"], READER_KEYS[option["name"]])
        i += 1
    return i


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` replaced by spaces (newlines kept, so offsets hold)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def literals(chunk: Chunk) -> Iterator[Literal]:
    """Every decimal literal in a chunk's reader-visible text, with its line number.

    Roles (except ``{math}``), code spans, glue placeholders, URLs and link targets are
    blanked first; numbers inside inline math are reported as such.
    """
    text = chunk.text
    math_spans: list[tuple[int, int]] = []
    for pattern in (HTML_COMMENT, GLUE_PLACEHOLDER, SUBSTITUTION):
        for match in pattern.finditer(text):
            text = _blank(text, *match.span())
    for match in ROLE.finditer(text):
        if match["name"] == "math":
            math_spans.append(match.span("body"))
            text = _blank(text, match.start(), match.start("body"))
            text = _blank(text, match.end("body"), match.end())
        else:
            text = _blank(text, *match.span())
    for pattern in (CODE_SPAN, DISPLAY_MATH_INLINE):
        for match in pattern.finditer(text):
            text = _blank(text, *match.span())
    math_spans += [m.span("body") for m in INLINE_MATH.finditer(text)]
    for pattern in (LINK_TARGET, URL):
        for match in pattern.finditer(text):
            text = _blank(text, *match.span())

    for match in NUMBER.finditer(text):
        start = match.start()
        if NOT_A_QUANTITY.search(text[max(0, start - 20) : start]):
            continue
        in_math = any(a <= start < b for a, b in math_spans)
        yield Literal(
            line=chunk.line + text.count("\n", 0, start),
            literal=match["literal"],
            where=f"inline math in {chunk.where}" if in_math else chunk.where,
            digits=significant_digits(match["literal"]),
        )


def hand_typed(source: str, min_digits: int = MIN_DIGITS) -> list[Literal]:
    """The decimal literals with at least ``min_digits`` significant digits in a page."""
    return [
        found for chunk in chunks(source) for found in literals(chunk) if found.digits >= min_digits
    ]


def violations(source: str, allowed: dict[str, str]) -> list[Literal]:
    """The hand-typed literals of a page that its allowlist does not name."""
    return [found for found in hand_typed(source) if found.literal not in allowed]
