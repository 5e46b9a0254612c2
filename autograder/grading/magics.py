"""Turn a code cell written for IPython into the plain Python the sandbox runs.

A cell that is valid Python runs exactly as written (a continuation line that starts with
``!=`` is Python, not a shell command). Any other cell is translated by IPython's own
transformer (:class:`IPython.core.inputtransformer2.TransformerManager`, the code Jupyter
runs before every cell), never by a regular expression. The transformer turns IPython
syntax into calls on ``get_ipython()``, which does not exist in the sandbox; this module
then replaces each such call, at the line the transformer put it:

- ``%time STATEMENT`` (line magic) runs the statement, as IPython does;
- a cell that starts with ``%%time`` or ``%%capture`` (cell magics that run their body as
  Python in the notebook's namespace) loses only its magic line: the body runs, line
  numbers unchanged;
- every other magic (``%matplotlib``, ``%pip``, ``%timeit``, ``%%bash``, ``%%writefile``...),
  shell command (``!ls``, ``x = !ls`` gives ``[]``) and help request (``f?``) is not run:
  there is no shell, network or IPython while grading. What was skipped is reported.

Only sources within the notebook reader's size caps reach this module, and every parse
is guarded: a cell that is nested too deeply for the parser runs as written (the sandbox
then reports its error), it never stops the grader.
"""

from __future__ import annotations

import ast

#: Cell magics whose body IPython runs as Python in the notebook's namespace.
BODY_MAGICS = {"time", "capture"}
#: Line magics whose argument IPython runs as a statement in the notebook's namespace.
LINE_MAGICS = {"time"}
#: ``%time %time %time x`` ... is translated this many levels deep at most.
MAX_DEPTH = 4
#: Most translation work for one notebook, in the units of :func:`translation_work`.
#: IPython's transformer rewrites one command per pass and tokenizes the whole cell again
#: each time (up to 500 passes): a 200 000-character cell of ``%time x = !ls`` lines kept
#: the grader's process busy for many minutes. This cap is under a second of work.
MAX_TRANSLATION_WORK = 300_000


def translation_work(source: str) -> int:
    """An upper bound of the transformer's work for ``source``: lines that may hold IPython
    syntax (a ``%``, ``!`` or ``?``) times the cell's length plus a fixed cost per line (a
    one-line ``x = !ls`` cell takes milliseconds)."""
    lines = sum(1 for line in source.splitlines() if "%" in line or "!" in line or "?" in line)
    return lines * (len(source) + 1000)


class TranslationBudget:
    """What is left of :data:`MAX_TRANSLATION_WORK` for the cells of one notebook."""

    def __init__(self, work: int = MAX_TRANSLATION_WORK):
        self.left = work

    def spend(self, source: str) -> bool:
        """Take the work ``source`` needs; False (and nothing taken) when it is not left."""
        cost = translation_work(source)
        if cost > self.left:
            return False
        self.left -= cost
        return True


def parse(source: str) -> ast.Module | None:
    """``ast.parse(source)``, or ``None`` when it is not Python or too deep to parse.

    The parser raises ``RecursionError`` or ``MemoryError`` for deeply nested input
    (``-(-(-...))``); both are a verdict on the source here, not a failure of the grader.
    """
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def to_python(source: str, budget: TranslationBudget | None = None) -> tuple[str, list[str]]:
    r"""The code to run for ``source`` and the IPython commands that will not run.

    Source that is not Python is translated only while ``budget`` lasts; past it, the cell
    runs as written (its syntax error is then reported like any other).

    >>> to_python("%matplotlib inline\nx = 1")
    ('pass\nx = 1\n', ['%matplotlib'])
    >>> to_python("y = (1\n!= 2)")  # valid Python: unchanged
    ('y = (1\n!= 2)', [])
    """
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        if budget is not None and not budget.spend(source):
            return source, ["IPython syntax (too much of it to translate)"]
        return _translate(source, 0)
    except (RecursionError, MemoryError, OverflowError):  # too deep for any parser
        return source, []
    return source, []


def _transform(source: str) -> str | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython is a pinned requirement
        return None
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython cannot read it either: run as written, the error is reported
        return None


def _translate(source: str, depth: int) -> tuple[str, list[str]]:
    if depth > MAX_DEPTH:
        return source, []
    code = _transform(source)
    tree = parse(code) if code is not None else None
    if tree is None:  # a Python syntax error beside any IPython syntax: run as written
        return source, []
    if len(tree.body) == 1:
        call = _ipython_call(tree.body[0])
        if call is not None and call[0] == "run_cell_magic":
            return _cell_magic(call[1], depth)
    edits: list[tuple[ast.AST, str]] = []
    skipped: list[str] = []
    for node in ast.walk(tree):
        call = _ipython_call(node)
        if call is None:
            continue
        method, args = call
        if isinstance(node, ast.Expr):  # the whole statement is replaced
            edits.append((node, _statement_for(method, args, depth, skipped)))
        else:  # an assignment keeps its targets; its value is replaced
            edits.append((node.value, _expression_for(method, args, depth, skipped)))
    return _splice(code, edits), skipped


def _ipython_call(node) -> tuple[str, list[str]] | None:
    """``(method, string args)`` if ``node`` is a statement ``[target =] get_ipython().m(...)``."""
    if not isinstance(node, (ast.Expr, ast.Assign)):
        return None
    call = node.value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Call)
        and isinstance(call.func.value.func, ast.Name)
        and call.func.value.func.id == "get_ipython"
        and not call.func.value.args
        and not call.keywords
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
    ):
        return None
    return call.func.attr, [a.value for a in call.args]


def _cell_magic(args: list[str], depth: int) -> tuple[str, list[str]]:
    name, _line, body = [*args, "", "", ""][:3]
    if name not in BODY_MAGICS:
        return "", [f"%%{name}"]
    inner, skipped = (body, []) if parse(body) is not None else _translate(body, depth + 1)
    return "\n" + inner, skipped  # the magic line becomes an empty line


def _describe(method: str, args: list[str]) -> str:
    first = args[0] if args else ""
    if method == "run_line_magic":
        return f"%{first}" if first not in ("pinfo", "pinfo2", "psearch") else "help (?)"
    if method in ("system", "getoutput"):
        return "!" + (first.split() or [""])[0]
    if method == "run_cell_magic":
        return f"%%{first}"
    return f"IPython {method}"


def _timed(method: str, args: list[str], depth: int) -> tuple[str, list[str]] | None:
    """The code ``%time ARG`` runs, translated, when it is one line; else ``None``."""
    if method != "run_line_magic" or len(args) < 2 or args[0] not in LINE_MAGICS:
        return None
    inner, skipped = _translate_or_keep(args[1], depth)
    inner = inner.strip()
    if not inner or "\n" in inner:
        return None
    return inner, skipped


def _translate_or_keep(source: str, depth: int) -> tuple[str, list[str]]:
    return (source, []) if parse(source) is not None else _translate(source, depth + 1)


def _statement_for(method: str, args: list[str], depth: int, skipped: list[str]) -> str:
    timed = _timed(method, args, depth)
    if timed is not None and parse(timed[0]) is not None:
        skipped.extend(timed[1])
        return timed[0]
    skipped.append(_describe(method, args))
    return "pass"


def _expression_for(method: str, args: list[str], depth: int, skipped: list[str]) -> str:
    timed = _timed(method, args, depth)
    if timed is not None:
        try:
            ast.parse(timed[0], mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
        else:
            skipped.extend(timed[1])
            return f"({timed[0]})"
    skipped.append(_describe(method, args))
    return "[]" if method == "getoutput" else "None"  # IPython gives a list of output lines


def _splice(code: str, edits: list[tuple[ast.AST, str]]) -> str:
    """Replace each node's text in ``code`` (single-line nodes; offsets are UTF-8 bytes)."""
    lines = code.splitlines(keepends=True)
    for node, text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        if node.lineno != node.end_lineno:  # the transformer writes one line per command
            continue
        raw = lines[node.lineno - 1].encode("utf-8")
        new = raw[: node.col_offset] + text.encode("utf-8") + raw[node.end_col_offset :]
        lines[node.lineno - 1] = new.decode("utf-8")
    return "".join(lines)
