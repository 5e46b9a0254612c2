"""The trusted grader: sandboxed execution of submissions, judged in this process.

Modules: :mod:`~autograder.grading.notebook` (reading submissions),
:mod:`~autograder.grading.sandbox` (the grader's side of the sandbox: worker processes,
job files, result parsing), :mod:`~autograder.grading.bootstrap` (the trusted script that
confines and runs student code), :mod:`~autograder.grading.engine` (per-submission
grading, ``--jobs``), :mod:`~autograder.grading.gradebook` (nbgrader gradebook writes),
:mod:`~autograder.grading.feedback` (HTML), and the CLI verbs
:mod:`~autograder.grading.grade` and :mod:`~autograder.grading.export`.
"""
