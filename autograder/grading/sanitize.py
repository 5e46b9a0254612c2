"""Make text that came from a submission safe to show: on a terminal, and as Markdown.

Two audiences read what a submission contains without meaning to run it:

- the instructor's **terminal**, where ``grade`` prints student ids, file names and
  reasons: a control character there (``ESC [ 2 J``, a carriage return, a bidi override)
  would redraw or hide lines, so :func:`printable` writes every such character as a
  visible escape (``\\x1b``), and :func:`shorten` cuts long text at a word boundary;
- the instructor's **browser**, where nbgrader's formgrader renders the student's Markdown
  cells of the autograded copy as HTML: :func:`markdown` leaves no raw HTML tag, no link
  to a ``javascript:``/``vbscript:``/``data:`` (or any other non-web) URL, no image loaded
  from anywhere but an inline ``data:image/...`` URL, and no MathJax command that makes a
  link or loads code (``\\href``, ``\\require``...).

The Markdown rules do not try to parse Markdown like a renderer would (renderers differ);
they break the *syntax* of every construct that could carry an unsafe URL, so that what
any renderer shows is the text the student typed.
"""

from __future__ import annotations

import html
import re
import unicodedata

#: Unicode categories never written raw to a terminal: controls, format characters (bidi
#: overrides, zero-width joiners), surrogates (undecodable bytes of a file name), private
#: use, unassigned, and the line/paragraph separators.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on written as an escape.

    >>> printable("alice\x1b[2J\r")
    'alice\\x1b[2J\\x0d'
    >>> printable("b\udcffd")  # the undecodable byte 0xff of a file name
    'b\\xffd'
    """
    return "".join(
        _escape_char(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
        for ch in str(text)
    )


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters at a word boundary, marked with "…".

    >>> shorten("the notebook is not valid JSON", 20)
    'the notebook is not…'
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if (
        text[width - 1] != " " and space >= width // 2
    ):  # a word boundary not too far back; else cut inside the word
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def file_name(name: str, width: int = 80) -> str:
    r"""A file name (perhaps undecodable, perhaps with control characters) fit for a note.

    >>> print(file_name("ps1\udcff\n.ipynb"))
    'ps1\xff\x0a.ipynb'
    """
    return "'" + shorten(printable(name), width) + "'"


# --------------------------------------------------------------------------- Markdown

#: A ``<`` that could open an HTML tag, comment or declaration, or an autolink (CommonMark
#: raw HTML and autolinks, and browsers, all need an ASCII letter, ``/``, ``!`` or ``?``
#: right after it).
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")

#: A link reference definition (``[id]: url``), which can feed a link or an image, also
#: inside block quotes and list items (``> [id]: url``, ``- [id]: url``); the label may
#: run over several lines.
_DEFINITION = re.compile(
    r"^((?:[ \t]*(?:>|[-+*]|\d{1,9}[.)])(?=[ \t]|$))*[ \t]*)\[(?=[^\]]{0,999}\]:)", re.MULTILINE
)

#: MathJax commands that make links, set HTML attributes or load extensions or fonts.
_MATH_COMMANDS = re.compile(
    r"\\(href|url|class|style|cssId|data|unicode|require|html|mmlToken)(?![A-Za-z])"
)

#: Inline images the browser can show without any request.
_SAFE_IMAGE_URL = re.compile(r"data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=]*")
_SAFE_IMAGE = re.compile(_SAFE_IMAGE_URL.pattern + r"(?=[)\s])")
#: Longest link destination (or link text, looking back) examined; beyond it: unsafe.
_MAX_URL = 4096
_SAFE_LINK_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _normalised_url(raw: str) -> str:
    """What a browser would see of a Markdown link destination: entities and backslash
    escapes resolved, then every space and control character dropped (browsers strip tabs
    and newlines inside a URL), lower case."""
    text = html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", raw))
    return "".join(ch for ch in text if ch > " " and unicodedata.category(ch)[0] != "C").lower()


def _url_is_safe(raw: str | None, image: bool) -> bool:
    if raw is None:
        return False
    url = _normalised_url(raw.strip().strip("<>"))
    if image:
        return _SAFE_IMAGE_URL.fullmatch(raw.strip().strip("<>")) is not None
    match = _SCHEME.match(url)
    if match is None:  # relative (or scheme-relative, which is a web link): a plain link
        return True
    return match.group(1) in _SAFE_LINK_SCHEMES


def _destination(text: str, start: int) -> str | None:
    """The link destination starting at ``start`` (just after ``](``): up to the ``)``
    that balances, a title included (spaces are dropped before the URL is judged, as a
    lenient renderer or a browser might). ``None`` when it runs on for
    more than :data:`_MAX_URL` characters (then it counts as unsafe): the scan stays
    linear however many ``](`` a cell holds."""
    k = start
    while k < len(text) and text[k] in " \t\n":
        k += 1
    begin = k
    image = _SAFE_IMAGE.match(text, begin)
    if image is not None:  # may be long, but cannot contain "](" itself
        return image.group(0)
    depth = 0
    while k < len(text):
        if k - begin > _MAX_URL:
            return None
        ch = text[k]
        if ch == "\\":
            k += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        k += 1
    return text[begin:k]


def _opens_image(text: str, close: int) -> bool:
    """Is the ``]`` at ``close`` the end of an image (``![...]``)? Unknown counts as yes."""
    depth = 0
    k = close - 1
    while k >= max(0, close - _MAX_URL):
        ch = text[k]
        escaped = k > 0 and text[k - 1] == "\\"
        if ch == "]" and not escaped:
            depth += 1
        elif ch == "[" and not escaped:
            if depth == 0:
                return k > 0 and text[k - 1] == "!"
            depth -= 1
        k -= 1
    return True


def _links(text: str) -> str:
    """Break the ``](`` of every link or image whose destination is not safe."""
    out = []
    last = 0
    for match in re.finditer(r"\]\(", text):
        close = match.start()
        if _url_is_safe(_destination(text, match.end()), _opens_image(text, close)):
            continue
        out.append(text[last:close])
        out.append("]&#40;")  # renders as "](", but is no longer link syntax
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def markdown(source: str) -> str:
    r"""Student Markdown made safe for the formgrader's page; it reads the same.

    - a space after each ``<`` that could open an HTML tag or autolink (TeX ignores it);
    - a link or image whose URL is unsafe loses its link syntax (the text and URL stay
      visible): links may go to http(s), mailto or a relative address; images only to an
      inline ``data:image/png|gif|jpeg|webp`` URL (no request leaves the page);
    - link reference definitions (``[id]: url``) lose their bracket (``&#91;``, which
      renders as ``[``, not ``\[``, a display-math delimiter in Jupyter): they could
      feed a link or an image;
    - ``\href``, ``\url``, ``\class``, ``\style``, ``\cssId``, ``\data``, ``\unicode``,
      ``\require``, ``\html`` and ``\mmlToken`` lose their backslash, so MathJax typesets
      the name instead of running the command.

    >>> markdown("[x](javascript:alert(1)) ![](https://evil.example/p.png) $\\href{u}{v}$")
    '[x]&#40;javascript:alert(1)) ![]&#40;https://evil.example/p.png) $\\backslash{}href{u}{v}$'
    """
    text = _TAG_OPEN.sub("< ", source)
    text = _DEFINITION.sub(r"\1&#91;", text)  # renders as "[", no longer a definition
    text = _links(text)
    return _MATH_COMMANDS.sub(r"\\backslash{}\1", text)
