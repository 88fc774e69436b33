"""The registry, what rules see of a graph (declared: rules are typed against what they
get) and what they share: ``rule`` registers a rewrite under its op and its pass, in
the order an op's rules are tried; the helpers read nodes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ...ops import Op, Trait, choices
from ...ops.shapes import Shape


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
    """Node -> its sign, for those asked already (``sign_of``)."""


Rewrite = str | tuple[str, tuple[str, ...], dict] | None
Rule = Callable[[RuleView, tuple[str, ...], dict], Rewrite]
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


def pulled(outer: str, op: str, slots: tuple[int, ...] = (0, 1)) -> Rule:
    """A rule ``outer(a) op b -> outer(a op b)`` for an ``outer(a)`` operand in one of
    ``slots``, where ``outer`` is a minus sign or a broadcast view."""
    def pull(g: RuleView, args: tuple, params: dict) -> Rewrite:
        for k in slots:
            if op_of(g, args[k]) == outer:
                inner, *rest = g.args(args[k])
                return (outer, (g.add(op, swap(args, k, inner)), *rest), {})
        return None
    return pull


def scalar_const(g: Reader, name: str, value: float) -> bool:
    return g.is_const(name) and const_value(g, name) == value and g.shape(name) == ()


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
    """c1 * c2 when multiplying by it rounds like multiplying by c2, then by c1: a
    number float32 holds at full precision, or an exact zero. 1e30 * 1e30 would be inf
    where 1e30 * (1e30 * 1e-40) is 1e20; 1e-30 * 1e-30 would lose every digit in
    float32 (where the arrays may be)."""
    both = float(c1) * float(c2)
    if both == 0.0 and (c1 == 0.0 or c2 == 0.0):
        return both
    if math.isfinite(both) and _TINY <= abs(both) <= _MAX:
        return both
    return None


def combinable(g: Reader, op: str, s: str, r: str) -> bool:
    """Whether scalars ``s op r`` may be made one factor: not two constants whose product
    or quotient float32 cannot hold (see ``constant_product``)."""
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
    if op != "pow" or not g.is_const(args[1]) or g.shape(args[1]) != ():
        return False
    return float(const_value(g, args[1])) % 2 == 0


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
    (NaN aside); ``signs`` remembers the nodes seen (``RuleView.signs``). A sum of terms
    of one sign cannot cancel: ``sum(a + b)`` and ``sum(a) + sum(b)`` then round by the
    same order (docs/performance.md)."""
    stack = [name]
    while stack:  # a loop, not recursion: a chain of 100,000 adds is fine
        n = stack[-1]
        if n in signs:
            stack.pop()
            continue
        pending = [a for a in _sign_operands(g, n) if a not in signs]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        signs[n] = _sign_rule(g, n, signs)
    return signs[name]
