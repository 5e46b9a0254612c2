"""Two fixes to the generated pages that Jupyter Book 1 has no setting for.

1. sphinx-thebe and sphinx-togglebutton each register their inline script twice (once
   with ``filename=None`` and once with ``""``), so every page declared ``THEBE_JS_URL``
   twice and the browser logged a SyntaxError. We drop exact duplicates.
2. sphinx-book-theme offers the ".ipynb" download only when a launch button (Binder,
   JupyterHub, Colab) is configured; ours are off so the site works offline. We copy the
   executed notebook next to the page source the way the theme would, so readers can
   download every chapter as a notebook anyway.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        filename = getattr(script, "filename", script) or ""  # None and "" are the same script
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _offer_ipynb_download(app, pagename, templatename, context, doctree):
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if context.get("ipynb_source") or not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    # Before the theme builds its header buttons (priority 501).
    app.connect("html-page-context", _offer_ipynb_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
