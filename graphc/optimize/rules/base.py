"""The registry (``rule`` registers a rewrite under its op and its pass, in the order an
op's rules are tried), what rules see of a graph, and the helpers they share."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ...ops import Op, Trait, choices
from ...ops.shapes import Shape


class Reader(Protocol):
    """The reads (and adds) rule helpers make: of a ``Graph`` or a ``RuleView``."""

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
    """What a rewrite rule gets: the graph being built, whose ``add`` simplifies first."""

    uses: dict[str, int]
    """Readers (an output counts one) of each node of the graph read, before the sweep."""
    signs: dict[str, int]
    """Node -> its sign, for those asked already (``sign_of``)."""


Rewrite = str | tuple[str, tuple[str, ...], dict] | None
Rule = Callable[[RuleView, str, tuple[str, ...], dict], Rewrite]
RULES: dict[str, list[tuple[str, str, Rule]]] = {}
"""op -> [(pass, rewrite name, rule)], in the order they are tried."""


def rule(op: str, kind: str, name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES.setdefault(op, []).append((kind, name, fn))
        return fn
    return register


def const_value(g: Reader, name: str) -> Any:
    """The value of const node ``name``."""
    return g.attrs(name)["params"]["value"]


def op_of(g: Reader, name: str) -> str:
    return g.attrs(name)["op"]


def swap(args: tuple[str, ...], k: int, new: str) -> tuple[str, ...]:
    """``args`` with its k-th operand replaced."""
    return args[:k] + (new,) + args[k + 1:]


def pulled(outer: str, slots: tuple[int, ...] = (0, 1)) -> Rule:
    """A rule ``outer(a) op b -> outer(a op b)`` for an ``outer(a)`` operand in one of
    ``slots``, where ``outer`` is a minus sign or a broadcast view."""
    def pull(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
        for k in slots:
            if op_of(g, args[k]) == outer:
                inner, *rest = g.args(args[k])
                return (outer, (g.add(op, swap(args, k, inner)), *rest), {})
        return None
    return pull


def scalar_const(g: Reader, name: str, value: float | None = None) -> bool:
    """A constant scalar node (of that value, when given)."""
    return g.is_const(name) and g.shape(name) == () and (
        value is None or const_value(g, name) == value)


def constant_factor(g: Reader, name: str) -> tuple[str, str] | None:
    """``(c, x)`` when node ``name`` is ``c * x`` or ``x * c`` for a constant scalar c."""
    if op_of(g, name) == "mul":
        for c, x in (g.args(name), g.args(name)[::-1]):
            if scalar_const(g, c):
                return c, x
    return None


def boolean(g: Reader, name: str) -> bool:
    """An array of bools (a comparison, a choice between them): ``b * 1.0`` is a
    number, ``b`` is not."""
    return choices.boolean(g, name)


def true_scalar(g: Reader, name: str) -> bool:
    return g.shape(name) == () and not g.elastic(name)


def known_array(g: Reader, name: str) -> bool:
    """An array now, whatever the call: a static shape with axes, none decided later."""
    return g.shape(name) != () and not g.elastic(name)


_FLOAT32 = np.finfo(np.float32)
_TINY, _MAX = float(_FLOAT32.tiny), float(_FLOAT32.max)


def constant_product(c1: float, c2: float) -> float | None:
    """c1 * c2 when multiplying by it rounds like multiplying by c2, then by c1: a float32
    normal number or an exact zero (1e30 * 1e30 is inf, 1e-30 * 1e-30 loses every digit)."""
    both = float(c1) * float(c2)
    exact_zero = both == 0.0 and (c1 == 0.0 or c2 == 0.0)
    return both if exact_zero or math.isfinite(both) and _TINY <= abs(both) <= _MAX else None


def combinable(g: Reader, op: str, s: str, r: str) -> bool:
    """Whether scalars ``s op r`` may be one factor (``constant_product`` for constants)."""
    if not (g.is_const(s) and g.is_const(r)):
        return True
    a, b = float(const_value(g, s)), float(const_value(g, r))
    if op == "div":
        if b == 0.0 or not math.isfinite(b):
            return False
        b = 1.0 / b if abs(1.0 / b) <= _MAX else math.inf
    return constant_product(a, b) is not None


def _sign_operands(g: Reader, name: str) -> tuple[str, ...]:
    """The operands whose signs decide node ``name``'s."""
    op = op_of(g, name)
    if op in ("mul", "div", "add", "sub", "neg", "maximum") and not _even_power(g, name):
        return g.args(name)
    if (op in ("pow", "sum", "mean") or Trait.IDENTITY in g.op_named(op).traits) \
            and g.args(name):
        return g.args(name)[:1]
    return ()


def _even_power(g: Reader, name: str) -> bool:
    """x ** k for an even integer constant k, or x * x."""
    op, args = op_of(g, name), g.args(name)
    if op == "mul":
        return args[0] == args[1]
    return op == "pow" and scalar_const(g, args[1]) and float(const_value(g, args[1])) % 2 == 0


def _sign_rule(g: Reader, name: str, signs: dict[str, int]) -> int:
    op = op_of(g, name)
    if op == "const":
        value = np.asarray(const_value(g, name))
        return 1 if np.all(value >= 0) else -1 if np.all(value <= 0) else 0
    if Trait.NONNEGATIVE in g.op_named(op).traits or _even_power(g, name):
        return 1
    s = [signs[a] for a in _sign_operands(g, name)]
    if op in ("mul", "div"):
        return s[0] * s[1]
    if op == "neg":
        return -s[0]
    if op in ("add", "sub"):
        b = s[1] if op == "add" else -s[1]
        return s[0] if s[0] == b else 0
    if op == "maximum":
        return 1 if 1 in s else 0
    if op == "pow":
        return 1 if s[0] == 1 else 0
    return s[0] if s else 0  # sum, mean and the identities keep the sign


def sign_of(g: Reader, name: str, signs: dict[str, int]) -> int:
    """1 when node ``name`` is never negative, -1 when never positive, 0 when not known
    (NaN aside), memoized in ``signs``: terms of one sign cannot cancel, so their sums
    round alike in any order (docs/performance.md)."""
    stack = [name]
    while stack:  # a loop, not recursion: a chain of 100,000 adds is fine
        n = stack.pop()
        pending = [a for a in _sign_operands(g, n) if a not in signs]
        if pending:
            stack += [n, *pending]
        elif n not in signs:
            signs[n] = _sign_rule(g, n, signs)
    return signs[name]
