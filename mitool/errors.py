"""mitool's own exceptions.

Library code raises these and never prints or exits; the CLI maps each class to one line on
stderr and an exit code (``exit_code``).
"""

from __future__ import annotations


class MitoolError(Exception):
    """Base class: a failure mitool understands and can explain in one line."""

    exit_code = 1


class UsageError(MitoolError):
    """Bad options or bad input data: the user can fix it (exit 2)."""

    exit_code = 2


class InputError(UsageError):
    """The data itself is unusable (missing file, unknown column, no rows left...)."""


class EstimationError(MitoolError):
    """A runtime failure while estimating or training (exit 1)."""

    exit_code = 1


class TrainingDivergedError(EstimationError):
    """Training produced non-finite values and could not recover."""

