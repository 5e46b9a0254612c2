"""Parse JSON from untrusted bytes without letting them decide the grader's memory.

:func:`json.loads` builds every object it reads: 20 MB of ``[{},{},...]`` becomes seven
million dicts, over a gigabyte. The grader parses two kinds of untrusted JSON, submitted
notebooks and the result files written where student code ran, so both are counted first:
every ``{`` or ``[`` may become a container (~60-200 bytes each once parsed) and every
``,`` one more element (a pointer, perhaps a float). The counts are taken on the raw
bytes (characters inside strings count too, so the caps are upper bounds, set generously
above what honest files hold); above them nothing is parsed. Deep nesting raises
``RecursionError`` inside the parser, which is reported the same way.
"""

from __future__ import annotations

import json


class TooLarge(ValueError):
    """The JSON would cost the grader more than its caps; ``str(exc)`` says which."""


def check_size(raw: bytes, max_containers: int, max_items: int | None = None) -> None:
    """Raise :class:`TooLarge` when ``raw`` could hold more containers or elements."""
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > max_containers:
        raise TooLarge(f"{containers} JSON objects and arrays (limit {max_containers})")
    if max_items is not None:
        items = containers + raw.count(b",")
        if items > max_items:
            raise TooLarge(f"{items} JSON values (limit {max_items})")


def loads(raw: bytes, max_containers: int, max_items: int | None = None):
    """:func:`json.loads` of UTF-8 ``raw`` after :func:`check_size`.

    Raises :class:`TooLarge` (too many values, or nested too deeply to parse),
    ``UnicodeDecodeError`` or :class:`json.JSONDecodeError`; all are ``ValueError``.
    """
    check_size(raw, max_containers, max_items)
    text = raw.decode("utf-8")
    try:
        return json.loads(text)
    except (RecursionError, MemoryError):
        raise TooLarge("JSON nested too deeply") from None
