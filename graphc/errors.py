"""The errors graphc raises: one base class, each subclass says what went wrong and where;
and the category of graphc's warnings."""

from __future__ import annotations


class GraphcError(Exception):
    """Base of every error graphc raises on bad input.

    ``line``/``col`` (1-based) locate the problem in ``.gc`` text when known.
    """

    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        self.message, self.line, self.col = message, line, col
        where = f"line {line}, column {col}: " if line is not None else ""
        super().__init__(where + message)


class ParseError(GraphcError):
    """Text that is not valid graphc syntax, or syntax outside the whitelist."""


class CycleError(GraphcError):
    """A graph that is not a DAG; the message names the cycle."""


class UndefinedNameError(GraphcError):
    """A name that is asked for (``of=``, ``wrt=``, a node) but does not exist."""


class UnknownOpError(GraphcError):
    """A call to a function or op graphc does not know."""


class ShapeError(GraphcError):
    """Operand shapes that do not fit the op."""


class InputError(GraphcError):
    """Missing, extra or ill-typed input values at call time."""


class GraphcWarning(UserWarning):
    """The category of every warning graphc gives, so that a user can filter them:
    ``warnings.filterwarnings("ignore", category=gc.GraphcWarning)``."""
