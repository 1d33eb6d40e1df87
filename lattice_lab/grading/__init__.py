"""Grading the course's labs: ``lattice-lab grade SUBMISSION.ipynb [--json]``, offline.

Why otter-grader, not nbgrader: a lab question here is a set of property tests with points each
(partial credit) and a feedback line each, which is exactly otter-grader's exception-based test
file (``@test_case(points=..., hidden=True)``, one file per question, ``TestFile.run(env)``
scoring it); nbgrader grades with a database, a course directory layout and a Jupyter server
extension, and gives partial credit only by hand. The test files run in the submission's own
namespace, as otter runs them.

Why not ``otter run``/``otter grade`` to execute the submission: ``otter grade`` needs Docker,
and ``otter run`` executes the notebook with nbconvert without a time limit per cell, so a
submission that loops would hang the grader. :mod:`.grader` executes the submission with
nbclient instead (a kernel, a time limit per cell and per question that interrupts it, every
error kept as an output) and hands each question's otter test file to that kernel.

The rooms: :mod:`.grader` (run a submission, score it), :mod:`.command` (the ``grade``
subcommand the CLI adds), :mod:`.properties` (the random models and data the hidden tests draw).
The hidden tests live outside the package, in the checkout's ``labs/hidden/<lab>/`` (a learner who
pip installs the course does not receive them); ``make assignments`` copies them into the
autograder copy.

Must not import: widgets, cli, compare.
"""
from __future__ import annotations

from .grader import QuestionResult, Report, grade

__all__ = ["QuestionResult", "Report", "grade"]
