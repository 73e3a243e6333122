"""mitool's own exceptions.

Library code raises these and never prints or exits; the CLI maps each class to one line on
stderr and an exit code (``exit_code``).

An error about one parameter names it (``parameter="k"``) and writes ``{param}`` where the
parameter belongs in the message, so each caller reads it in its own spelling: a Python
caller sees ``estimate(k=...)``, the command line ``--k`` (``for_flag``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class MitoolError(Exception):
    """Base class: a failure mitool understands and can explain in one line."""

    exit_code = 1

    def __init__(self, message: str, *, parameter: str | None = None,
                 function: str | None = None) -> None:
        self.template = message
        self.parameter = parameter
        self.function = function
        super().__init__(message)

    def _spelled(self, name: str) -> str:
        return self.template.replace("{param}", name) if self.parameter else self.template

    def __str__(self) -> str:
        if not self.parameter:
            return self.template
        call = f"{self.function}({self.parameter}=...)" if self.function else self.parameter
        return self._spelled(call)

    def for_flag(self, flag: str) -> str:
        """The message with the parameter spelled as the command-line flag ``flag``."""
        return self._spelled(flag)


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


def names_parameters(function: str) -> Callable[[F], F]:
    """Decorate a public entry point: its errors about a parameter name the call
    (``estimate(k=...)``) unless a deeper call already did."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except MitoolError as exc:
                if exc.parameter and exc.function is None:
                    exc.function = function
                raise

        return inner  # type: ignore[return-value]

    return wrap
