"""The command line: ``python -m autograder {release,grade,feedback,export,report} ...``.

Each verb lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int``; this file only wires them together. Verb modules keep their heavy
imports (nbgrader, SQLAlchemy, nbformat) inside ``run`` so that ``--help`` and the other
verbs stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

#: verb -> (module that implements it, one-line help)
VERBS = {
    "release": ("autograder.release", "write student notebooks into COURSE/release/"),
    "grade": ("autograder.grading.grade", "grade submissions in a sandbox into the gradebook"),
    "feedback": ("autograder.grading.feedback", "rewrite feedback pages after manual grading"),
    "export": ("autograder.grading.export", "export grades as CSV, JSON or a Canvas import"),
    "report": ("autograder.grading.report", "what the class got wrong: scores, misconceptions"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, grade and export the course's nbgrader assignments.",
    )
    sub = parser.add_subparsers(dest="verb", required=True, metavar="{" + ",".join(VERBS) + "}")
    for verb, (module_name, help_text) in VERBS.items():
        verb_parser = sub.add_parser(verb, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except BrokenPipeError:
        # `python -m autograder export | head`: the reader left; that is not an error. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
