"""Glued numbers in image alt text: replace ``{glue:KEY}`` / ``{glue:KEY:FORMAT}``.

myst-nb's ``{glue:text}`` role inserts a value computed by a code cell into prose and
into figure captions (a ``mystnb: figure: caption:`` is parsed as MyST, so roles work
there). Alt text is a plain attribute of the image, where no role is parsed, so a number
computed on the page would have to be typed by hand and could drift from the output.
This extension closes that gap. In alt text write

    {glue:KEY}           the glued value, as ``str`` of its text/plain representation
    {glue:KEY:FORMAT}    the glued value formatted with a Python format spec, e.g. ``.2f``

where KEY was glued on the same page with ``glue(KEY, value, display=False)``. The
value is formatted exactly as ``{glue:text}`KEY:FORMAT``` formats it (the text/plain
representation, evaluated as a Python literal, converted by the spec's type letter), so
alt text and caption agree digit for digit. Glue plain Python numbers (``float(x)``):
the text/plain form of a numpy scalar (``np.float64(0.5)``) is not a literal.

A KEY that is not glued on the page, or a FORMAT that does not apply to the value, is a
Sphinx warning naming the page and the key; ``-W`` makes it fatal, so a typo cannot ship.

How it finds the values: while a page is parsed, myst-nb writes the page's glue outputs
to ``<output_folder>/<docname>.glue.json`` and records their keys in the environment
(``env.nb_metadata[docname]["glue"]``) "so that they may be used in post-transform
steps". The ``doctree-read`` handler below runs right after that parse, reads the keys
from the environment (so a stale JSON file of a page that no longer glues anything is
never used) and the values from the JSON file, and rewrites the alt attributes in the
doctree. The rewritten doctree is what Sphinx pickles, so incremental builds keep it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from myst_nb.core.variables import format_plain_text
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: ``{glue:KEY}`` or ``{glue:KEY:FORMAT}``; KEY has no spaces, colons or braces.
PLACEHOLDER = re.compile(r"\{glue:(?P<key>[^\s{}:]+)(?::(?P<fmt>[^{}]*))?\}")


def glued_values(env, docname: str) -> dict[str, str]:
    """The text/plain representation of every value glued on ``docname``, by key.

    Parameters
    ----------
    env : sphinx.environment.BuildEnvironment
        The build environment, after myst-nb has parsed ``docname``.
    docname : str
        The page, e.g. ``"book/entropy"``.

    Returns
    -------
    dict[str, str]
        Key -> text/plain string; empty when the page glues nothing (or is not a
        notebook). A key glued without a text/plain representation maps to ``""``.
    """
    keys = getattr(env, "nb_metadata", {}).get(docname, {}).get("glue", [])
    if not keys:
        return {}
    *folders, name = docname.split("/")
    path = Path(env.mystnb_config.output_folder).joinpath(*folders, f"{name}.glue.json")
    outputs = json.loads(path.read_text(encoding="utf-8"))
    values = {}
    for key in keys:
        text = outputs.get(key, {}).get("data", {}).get("text/plain", "")
        # nbformat may store a multi-line string as a list of lines.
        values[key] = "".join(text) if isinstance(text, list) else text
    return values


def substitute(alt: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """Replace every placeholder in ``alt`` by its formatted glued value.

    Parameters
    ----------
    alt : str
        The alt text, e.g. ``"loss falls below 0.1 at step {glue:ce-step}"``.
    values : dict[str, str]
        Key -> text/plain representation, as returned by :func:`glued_values`.

    Returns
    -------
    text : str
        ``alt`` with every resolvable placeholder replaced (unresolvable ones are kept).
    problems : list[str]
        One message per placeholder that could not be resolved.

    Examples
    --------
    >>> substitute("p = {glue:p:.2f}, n = {glue:n}", {"p": "0.4012", "n": "50"})
    ('p = 0.40, n = 50', [])
    >>> substitute("{glue:nope}", {})[1][0][:39]
    "glue key 'nope' is not glued on this pa"
    """
    problems: list[str] = []

    def replace(match: re.Match) -> str:
        key, fmt = match["key"], match["fmt"]
        if key not in values:
            problems.append(
                f"glue key {key!r} is not glued on this page: glue it in a code cell of "
                f"the page with glue({key!r}, value, display=False), or fix the key"
            )
            return match[0]
        try:
            return format_plain_text(values[key], fmt or "")
        except (TypeError, ValueError) as exc:
            problems.append(
                f"glue key {key!r}: format {fmt!r} does not apply to {values[key]!r} ({exc})"
            )
            return match[0]

    return PLACEHOLDER.sub(replace, alt), problems


def _replace_in_alt_text(app, doctree: nodes.document) -> None:
    """Rewrite the alt attribute of every image on the page that was just read."""
    env = app.env
    docname = env.docname
    images = [
        node
        for node in doctree.findall(nodes.image)
        if "{glue:" in node.get("alt", "")  # most pages: nothing to do, no file read
    ]
    if not images:
        return
    values = glued_values(env, docname)
    for image in images:
        alt = image["alt"]
        image["alt"], problems = substitute(alt, values)
        for problem in problems:
            logger.warning(
                f"{problem} (page {docname!r}, image alt text {alt!r})",
                location=image,
                type="glue_alt",
                subtype="key",
            )


def setup(app):
    # After myst-nb has parsed the page (it writes the glue file during the parse).
    app.connect("doctree-read", _replace_in_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
