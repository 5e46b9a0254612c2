"""What the course folder's ``nbgrader_config.py`` plugs into nbgrader to refuse two of its
commands in a course graded by this package.

- ``nbgrader autograde`` (formgrader's **Autograde** button runs it with ``--force``) runs
  the tests inside the student's own kernel and overwrites the gradebook with whatever that
  kernel reports, so one line of student code replaces the sandboxed grade.
- ``nbgrader generate_feedback`` (formgrader's **Generate Feedback**) renders the autograded
  notebook, hidden tests included, and would replace the page ``python -m autograder
  feedback`` writes (grader's explanations, manual scores and comments) with one that lacks
  the explanations and shows the ``### BEGIN HIDDEN TESTS`` code to the student.

nbgrader has no switch for either, and its ``pre_convert_hook`` cannot stop a conversion
(it logs the hook's exception and carries on). Its converters do build their exporter from
the configurable ``exporter_class`` before they touch any file or the gradebook, so the
course config names the classes below, which log why and raise nbgrader's own
:class:`~nbgrader.converters.base.NbGraderException`: the command stops with that message
and a non-zero status, and the formgrader shows the message in its error dialog.
"""

from __future__ import annotations

from nbconvert.exporters import NotebookExporter
from nbgrader.converters.base import NbGraderException

AUTOGRADE_REFUSED = (
    "This course is graded by the sandboxed grader, not by nbgrader's autograde (which "
    "runs the tests inside the student's kernel and would replace the sandboxed grades). "
    "Grade with: python -m autograder grade ASSIGNMENT --course COURSE_DIR"
)

FEEDBACK_REFUSED = (
    "This course's feedback is written by the sandboxed grader: nbgrader's "
    "generate_feedback would show the hidden tests to students and drop the grader's "
    "explanations. After manual grading, run: python -m autograder feedback ASSIGNMENT "
    "--course COURSE_DIR (then release the pages as usual)"
)


class _Refused(NotebookExporter):
    """An exporter that refuses to be built, naming the command to use instead."""

    message = ""

    def __init__(self, *args, parent=None, **kwargs):
        log = getattr(parent, "log", None)
        if log is not None:  # nbgrader's CLI exits without printing the exception: log it
            log.error(self.message)
        raise NbGraderException(self.message)


class AutogradeRefused(_Refused):
    """``c.Autograde.exporter_class``: refuses ``nbgrader autograde``."""

    message = AUTOGRADE_REFUSED


class GenerateFeedbackRefused(_Refused):
    """``c.GenerateFeedback.exporter_class``: refuses ``nbgrader generate_feedback``."""

    message = FEEDBACK_REFUSED
