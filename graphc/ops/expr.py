"""Expression handles, so that a structural op's vjp and jvp read like their formulas:
``out * (grad - (grad * out).sum(axis, keepdims=True))``. ``R(g, name)`` is node
``name`` of the graph ``g`` a rule builds; its operators add nodes as Python evaluates
them (operands first, left to right); numbers become the graph's constants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

Operand = Union["R", float]


class R:
    """A node of the graph a rule builds, with NumPy's operators and methods."""

    __slots__ = ("g", "node")

    def __init__(self, g: Any, node: str):
        self.g, self.node = g, node

    def of(self, x: Operand) -> str:
        """The node of an operand: a handle's own, a number's constant."""
        return x.node if isinstance(x, R) else self.g.const(x)

    def call(self, op: str, *others: Operand, **params: Any) -> R:
        """``op(self, *others, **params)`` as a new node."""
        args = (self.node, *(self.of(x) for x in others))
        return R(self.g, self.g.add(op, args, params or None))

    # ---- what the node is
    @property
    def shape(self) -> tuple:
        return self.g.shape(self.node)

    @property
    def ndim(self) -> int:
        return len(self.g.shape(self.node))

    @property
    def elastic(self) -> bool:
        """Its shape is known only at call time (an undeclared input reaches it)."""
        return self.g.elastic(self.node)

    @property
    def args(self) -> tuple[R, ...]:
        return tuple(R(self.g, a) for a in self.g.args(self.node))

    @property
    def params(self) -> dict[str, Any]:
        return self.g.attrs(self.node)["params"]

    # ---- NumPy's operators and methods
    def __add__(self, other: Operand) -> R:
        return self.call("add", other)

    def __sub__(self, other: Operand) -> R:
        return self.call("sub", other)

    def __mul__(self, other: Operand) -> R:
        return self.call("mul", other)

    def __truediv__(self, other: Operand) -> R:
        return self.call("div", other)

    def __matmul__(self, other: R) -> R:
        return self.call("matmul", other)

    def __neg__(self) -> R:
        return self.call("neg")

    @property
    def T(self) -> R:  # noqa: N802 - NumPy's name
        """Every axis reversed, as NumPy's ``.T``."""
        return self.call("transpose")

    @property
    def mT(self) -> R:  # noqa: N802 - NumPy's name
        """The last two axes swapped, as NumPy's ``.mT``."""
        return self.call("mT")

    def sum(self, axis: Any = None, keepdims: bool = False) -> R:
        return self.call("sum", axis=axis, keepdims=keepdims)

    def exp(self) -> R:
        return self.call("exp")


def vjp(rule: Callable[[R, R], tuple[R | None, ...]]) -> Callable[..., tuple[str | None, ...]]:
    """A vjp written on handles, ``rule(out, grad) -> (adjoint of each operand or None)``,
    as the op table's ``vjp(g, node, grad)`` on node names."""
    def on_names(g: Any, node: str, grad: str) -> tuple[str | None, ...]:
        return tuple(None if r is None else r.node for r in rule(R(g, node), R(g, grad)))
    return on_names


Tangents = tuple[Any, ...]
"""Each operand's tangent, an R, or None where it is zero (never for an op of one
operand: forward mode asks only when some tangent is not zero)."""


def jvp(rule: Callable[[R, Tangents], R | None]) -> Callable[..., str | None]:
    """A jvp written on handles, ``rule(out, tangent of each operand) -> tangent or
    None``, as the op table's ``jvp(g, node, dots)`` on node names."""
    def on_names(g: Any, node: str, dots: tuple[str | None, ...]) -> str | None:
        found = rule(R(g, node), tuple(None if d is None else R(g, d) for d in dots))
        return None if found is None else found.node
    return on_names
