"""Choices: comparisons and logic (booleans, no derivative), ``where``, ``clip``,
``stop_gradient``, and ``%`` and ``//`` (NumPy's values, JAX's derivatives).

The comparisons and ``where`` are also what derivative formulas are made of (abs' is a
choice on ``x >= 0``): reverse mode builds them as any other node. An operand that must
be a boolean is checked by the shape rule, so text gets a line and column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from ..errors import ShapeError
from .expr import R, Tangents, jvp, vjp
from .table import ADD, COMPARE, MUL, UNARY, Op, Trait, _elementwise_shape, _function, _register

_BOOL = Trait.POINTWISE | Trait.NO_DERIVATIVE | Trait.FRESH  # a new array of bools


def boolean(g: Any, node: str) -> bool:
    """Whether ``node``'s values are bools: a comparison or logic, or a choice (or a
    stopped gradient) between bools. ``g``: a Graph, or what a rewrite rule reads."""
    stack = [node]
    while stack:
        n = stack.pop()
        op = g.op_named(g.attrs(n)["op"])
        if op.dtype == "bool":
            continue
        if op.name == "where":
            stack += g.args(n)[1:]
        elif op.name == "stop_gradient" or Trait.IDENTITY in op.traits:
            stack.append(g.args(n)[0])
        else:
            return False
    return True


def _needs_bools(slots: tuple[int, ...], what: str) -> Callable[..., tuple]:
    """An elementwise shape rule that first checks the operands in ``slots`` are bools."""
    def shape(g: Any, args: tuple[str, ...], params: dict) -> tuple:
        for slot in slots:
            if not boolean(g, args[slot]):
                raise ShapeError(f"{what} must be a boolean (a comparison such as x > 0), "
                                 f"not numbers")
        return _elementwise_shape(g, args, params)
    return shape


# ---- comparisons: bools, no derivative (sympy's relationals read back as them) ------
def _infix_bool(name: str, symbol: str, fn: Callable, head: Any, **kw: Any) -> None:
    """``a symbol b``, a bool; printed at COMPARE (``&`` binds tighter than ``<``, looser
    than ``+``: its operands are parenthesized unless they bind tighter than both)."""
    _register(Op(name, 2, "{0} %s {1}" % symbol, fn, COMPARE, (ADD, ADD), symbol=symbol,
                 sympy_head=head, dtype="bool", traits=_BOOL, **kw))


_infix_bool("gt", ">", np.greater, sp.StrictGreaterThan)
_infix_bool("ge", ">=", np.greater_equal, sp.GreaterThan)
_infix_bool("lt", "<", np.less, sp.StrictLessThan)
_infix_bool("le", "<=", np.less_equal, sp.LessThan)
_infix_bool("eq", "==", np.equal, sp.Equality)
_infix_bool("ne", "!=", np.not_equal, sp.Unequality)

# ---- logic on bools, NumPy's & | ^ (bitwise on ints, so floats are refused)
for _sym, _name, _head in [("&", "and", sp.And), ("|", "or", sp.Or), ("^", "xor", sp.Xor)]:
    _infix_bool(f"logical_{_name}", _sym, getattr(np, f"logical_{_name}"), _head,
                shape=_needs_bools((0, 1), f"each operand of {_sym}"))
# ~x is printed as a call: a Python bool's ~True is -2 (the module may run on floats)
_register(Op("logical_not", 1, "np.logical_not({0})", np.logical_not, slot_prec=(0,),
             shape=_needs_bools((0,), "the operand of ~"), sympy_head=sp.Not, dtype="bool",
             traits=_BOOL))


# ---- where(c, a, b): the adjoint goes to the branch taken ---------------------------
@vjp
def _where_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    c, a, b = out.args
    if out.g.is_const(grad.node):  # a seed 1: numbers chosen, in each operand's dtype
        return None, c.call("choose", grad, 0.0, a), c.call("choose", 0.0, grad, b)
    return None, c.call("where", grad, 0.0), c.call("where", 0.0, grad)


def _lifted(dot: R | None, x: R, out: R) -> R | None:
    """A direction-stacked tangent (one axis more than its value ``x``) padded with
    1-axes to out's dims, so that the condition lines up with its value's axes, not with
    the direction axis (where(c, x, sum(x)) in forward mode)."""
    if dot is None or dot.ndim <= x.ndim:
        return dot
    if out.elastic:
        return dot.call("lift_like", out)
    return dot.call("lift", ndim=out.ndim) if dot.ndim - 1 < out.ndim else dot


@jvp
def _where_jvp(out: R, dots: Tangents) -> R | None:
    if dots[1] is None and dots[2] is None:
        return None
    c, a, b = out.args
    return c.call("where", _lifted(dots[1], a, out) or 0.0, _lifted(dots[2], b, out) or 0.0)


_register(Op("where", 3, "np.where({0}, {1}, {2})", np.where, slot_prec=(0, 0, 0),
             shape=_needs_bools((0,), "where's condition"), grad_slots=(1, 2),
             dtype="follows", vjp=_where_vjp, jvp=_where_jvp,
             traits=Trait.POINTWISE | Trait.FRESH))

# clip is minimum(maximum(x, a_min), a_max), as JAX's: at a bound, half to each. A bound
# left out is none (JAX's clip(x, 0), NumPy 2.1's).
_function("clip", "np.clip({0}, {1}, {2})", np.clip,
          lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi), arity=3, defaults=(-np.inf, np.inf))

# stop_gradient: x's value, no derivative (JAX's lax.stop_gradient); prints as x itself
_register(Op("stop_gradient", 1, "{0}", lambda x: x, prec=0, slot_prec=(0,),
             dtype="follows", traits=Trait.POINTWISE | Trait.NO_DERIVATIVE))


# ---- % and //: NumPy's values (the sign of y), JAX's derivatives --------------------
def _mod_slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """JAX's d(x % y)/dy: -trunc(x / y), plus 1 where the remainder took y's sign
    (fmod's was not zero, and of the other sign). Not -floor(x / y): at x = -1, y = 0.1
    x / y rounds to -10 while the remainder is y's 5.6e-17, and JAX says 11."""
    r = np.fmod(x, y)
    return ((r != 0) & ((r < 0) != (y < 0))) - np.trunc(x / y)


class mod(sp.Function):  # noqa: N801 - prints as the op's name
    """x % y, NumPy's (Python's): d/dx = 1, d/dy = ``mod_slope``."""

    nargs = 2
    _imp_ = staticmethod(np.mod)  # what sympy.lambdify calls

    @classmethod
    def eval(cls, x: sp.Expr, y: sp.Expr) -> sp.Expr | None:
        if x.is_Number and y.is_Number:
            return sp.Float(np.mod(float(x), float(y)))
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.One if argindex == 1 else mod_slope(*self.args)


class mod_slope(sp.Function):  # noqa: N801 - prints as the op's name
    """d(x % y)/dy, piecewise constant (``_mod_slope``)."""

    nargs = 2
    _imp_ = staticmethod(_mod_slope)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero


class floor_divide(sp.Function):  # noqa: N801 - prints as the op's name
    """x // y, NumPy's: piecewise constant, derivative 0 (JAX's)."""

    nargs = 2
    _imp_ = staticmethod(np.floor_divide)

    @classmethod
    def eval(cls, x: sp.Expr, y: sp.Expr) -> sp.Expr | None:
        if x.is_Number and y.is_Number:
            return sp.Float(np.floor_divide(float(x), float(y)))
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero


# sympy's Mod reads back as x % y too (its own has no derivative)
_register(Op("mod", 2, "{0} % {1}", np.mod, MUL, (MUL, UNARY), symbol="%", formula=mod,
             sympy_head=(mod, sp.Mod), dtype="follows", traits=Trait.FRESH))
_register(Op("floor_divide", 2, "{0} // {1}", np.floor_divide, MUL, (MUL, UNARY), symbol="//",
             formula=floor_divide, sympy_head=floor_divide, dtype="follows",
             traits=Trait.FRESH))
_register(Op("mod_slope", 2, "_mod_slope({0}, {1})", _mod_slope, slot_prec=(0, 0),
             formula=mod_slope, sympy_head=mod_slope, helpers=(_mod_slope,),
             dtype="follows", traits=Trait.INTERNAL | Trait.FRESH))
