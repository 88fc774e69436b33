"""What rewrite rules see of a graph, declared: rules are typed against what they get."""

from __future__ import annotations

from typing import Protocol

from ..ops import Op
from ..ops.shapes import Shape


class Reader(Protocol):
    """The reads (and the adds) rule helpers make: a ``Graph`` is one, and so is the
    ``RuleView`` a rule gets."""

    def attrs(self, name: str, /) -> dict: ...
    def args(self, name: str, /) -> tuple[str, ...]: ...
    def shape(self, name: str, /) -> Shape: ...
    def elastic(self, name: str, /) -> bool: ...
    def is_const(self, name: str, /) -> bool: ...
    def op_named(self, op: str, /) -> Op: ...
    def position(self, name: str, /) -> int: ...
    def const(self, value: float, /) -> str: ...
    def add(self, op: str, args: tuple[str, ...], params: dict | None = None, /) -> str: ...


class RuleView(Reader, Protocol):
    """What a rewrite rule gets (``passes``): the graph being built, whose ``add``
    simplifies the node first, and the counts rules consult."""

    uses: dict[str, int]
    """Readers (an output counts as one) of each node of the graph being rewritten,
    as they were before the sweep."""
    signs: dict[str, int]
    """Node -> its sign, for those asked already (``rules.sign_of``)."""
