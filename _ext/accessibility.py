"""Fixes for what the axe-core audit (``tests/book/test_accessibility.py``) found.

1. Bibliography: docutils writes the reference list as ``<div role="list">`` whose
   entries carry ``role="doc-biblioentry"``. WAI-ARIA (DPUB 1.1) deprecated that role in
   favour of ``listitem``, and axe reports the list as having no list items (a critical
   violation, "aria-required-children"). The entries become ``role="listitem"``.
2. Colour contrast: a link inside a tinted admonition (an exercise's blue box) had a
   contrast of 4.29:1 with its background, below the 4.5:1 WCAG AA asks for normal text.
   ``_ext/static/accessibility/accessibility.css`` darkens such links in the light theme.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"


def _listitem_citations(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def _serve_static(app, config):
    if str(STATIC) not in config.html_static_path:
        config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("config-inited", _serve_static)
    app.connect("html-page-context", _listitem_citations)
    app.add_css_file("accessibility/accessibility.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
