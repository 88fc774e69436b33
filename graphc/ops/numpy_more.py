"""The rest of NumPy's elementwise functions and constant arrays (issue 19): cbrt,
float_power, fmod, copysign, heaviside, logaddexp2, rint, trunc, nan_to_num, full_like
and select; identity, tri and linspace (zeros_like and ones_like are the table's own).

Each elementwise op is one ``table._function`` line whose scalar sympy formula gives
its derivative; where sympy's derivative is not JAX's (cbrt's at x < 0, heaviside's,
fmod's), the formula is a small sympy function below whose ``fdiff`` states JAX's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
from sympy.codegen import cfunctions as cf

from ..errors import ShapeError
from . import shapes
from .choices import _lifted, boolean
from .constants import _make
from .elementwise import SYMPY_SYNONYMS, _Step
from .expr import R, Tangents, jvp, vjp
from .shaping import _target
from .table import (
    Op,
    Trait,
    _arithmetic_shape,
    _elementwise_shape,
    _function,
    _register,
    floats_only,
    sigmoid,
)


class cbrt(cf.Cbrt):  # noqa: N801 - prints as NumPy's name
    """The real cube root; its derivative 1/(3 out²) is real for x < 0 too (sympy's
    x**(-2/3) is not), inf at 0, as JAX's."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return 1 / (3 * self**2)


class fmod(sp.Function):  # noqa: N801
    """C's remainder, the sign of the dividend: d/dx = 1, d/dy = -trunc(x / y) (JAX's)."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        x, y = self.args
        return sp.S.One if argindex == 1 else -trunc(x / y)


class copysign(sp.Function):  # noqa: N801
    """|x| with y's sign bit: d/dx = ±1 (abs'(±0) = 1 and copysign(1, -0.0) = -1, as
    JAX's), d/dy = 0."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        x, y = self.args
        return copysign(1, y) * sp.Piecewise((1, x >= 0), (-1, True)) if argindex == 1 \
            else sp.S.Zero


class heaviside(sp.Function):  # noqa: N801
    """NumPy's heaviside(x1, x2): 0, x2 at 0, 1. d/dx1 = 0 (a step), d/dx2 = 1 where
    x1 == 0, as JAX's; sympy's Heaviside (which derivatives of Max hold, read back as
    this op) has no derivative in x2."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero if argindex == 1 else \
            sp.Piecewise((1, sp.Eq(self.args[0], 0)), (0, True))


class logaddexp2(sp.Function):  # noqa: N801
    """log2(2**a + 2**b); d/da = sigmoid((a - b) log 2), as logaddexp's."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args if argindex == 1 else self.args[::-1]
        return sigmoid((a - b) * sp.log(2))


class nan_to_num(sp.Function):  # noqa: N801
    """NaN and ±inf replaced by numbers: d/dx = 1 where x is kept (out == x: x is
    finite), 0 where it was replaced, as JAX's."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Piecewise((1, sp.Eq(self, self.args[0])), (0, True))


class rint(_Step):  # noqa: N801 - NumPy's round half to even; derivative 0
    pass


class trunc(_Step):  # noqa: N801 - toward zero; derivative 0
    pass


SYMPY_SYNONYMS[cf.Cbrt] = cbrt

# ---- elementwise --------------------------------------------------------------------
_function("cbrt", "np.cbrt({0})", np.cbrt, cbrt, head=cbrt)
# x ** y under NumPy's other name: float32 stays float32 (JAX's; np.float_power is float64)
_function("float_power", "np.power({0}, {1})", np.power, lambda x, y: x**y, arity=2)
_function("fmod", "np.fmod({0}, {1})", np.fmod, fmod, arity=2, head=fmod)
_function("copysign", "np.copysign({0}, {1})", np.copysign, copysign, arity=2, head=copysign)
_function("heaviside", "np.heaviside({0}, {1})", np.heaviside, heaviside, arity=2,
          head=heaviside)
_function("logaddexp2", "np.logaddexp2({0}, {1})", np.logaddexp2, logaddexp2, arity=2,
          head=logaddexp2, traits=Trait.COMMUTATIVE)
_function("rint", "np.rint({0})", np.rint, rint, head=rint)
_function("trunc", "np.trunc({0})", np.trunc, trunc, head=trunc)



# nan_to_num(x, nan=0.0, posinf=None, neginf=None): None is the dtype's largest number
_REPLACED = {"nan": 0.0, "posinf": None, "neginf": None}


def _replacements_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    for k in _REPLACED:
        v = params[k]
        if not (v is None and k != "nan" or isinstance(v, (int, float))
                and not isinstance(v, bool)):
            raise ShapeError(f"nan_to_num's {k} is a number{' or None' * (k != 'nan')}, "
                             f"got {v!r}")
    return _arithmetic_shape(g, args, params)


# the formula of a finite x (what to_sympy, for verify, reads; the replacements aside)
_function("nan_to_num", "np.nan_to_num({0})", np.nan_to_num, lambda x, **_: nan_to_num(x),
          head=nan_to_num,
          params=dict(_REPLACED), shape=_replacements_shape,
          spell=lambda p: "np.nan_to_num({0}" + "".join(
              f", {k}={p[k]!r}" for k, d in _REPLACED.items() if p[k] != d) + ")")

# ---- full_like(a, fill_value): fill_value everywhere in a's shape --------------------
def _full_like_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    a, v = g.shape(args[0]), g.shape(args[1])
    if _elementwise_shape(g, args, params) != a:
        raise ShapeError(f"full_like's fill_value of shape {shapes.format_shape(v)} does "
                         f"not broadcast to a's {shapes.format_shape(a)}")
    return a


# an elementwise formula of its fill value (its derivative 1, as JAX's); a passes none
_function("full_like", "np.full_like({0}, {1})", np.full_like, lambda a, v: v + 0 * a,
          arity=2, shape=_full_like_shape)


# ---- constant arrays (constants.py's kind: the inputs' float dtype, no derivative) ----
def _matrix(name: str, n: str = "N") -> Callable[[dict], shapes.Shape]:
    """eye's shape rule for ``name``, whose first size is called ``n``: its own words."""
    def dims(params: dict) -> shapes.Shape:
        if params[n] is None:
            raise ShapeError(f"{n} is required, as in NumPy's {name}(3)")
        found = _target((params[n], params[n] if params.get("M") is None else params["M"]))
        if any(type(d) is int and d < 0 for d in found):
            raise ShapeError(f"{name}'s dimensions are >= 0, got {found}")
        return found
    return dims


def _linspace_dims(params: dict) -> shapes.Shape:
    if not all(isinstance(params[k], (int, float)) and not isinstance(params[k], bool)
               for k in ("start", "stop")):
        raise ShapeError("linspace's start and stop are numbers here (a value's linspace: "
                         "start + (stop - start) * linspace(0.0, 1.0, num))")
    num = 50 if params["num"] is None else params["num"]
    if not (type(num) is int and num >= 0 or shapes.is_named(num)):
        raise ShapeError(f"linspace's num is an integer >= 0 or a dimension's name, "
                         f"got {num!r}")
    if not isinstance(params["endpoint"], bool):
        raise ShapeError(f"endpoint must be True or False, got {params['endpoint']!r}")
    return (num,)


_make("identity", lambda p: f"np.identity({p['n']})", lambda n: np.identity(n),
      _matrix("identity", "n"), {"n": None})
_make("tri", lambda p: "np.tri(" + p["N"] + (", " + p["M"]) * (p["M"] != "None")
      + (", k=" + p["k"]) * (p["k"] != "0") + ")",
      lambda N, M, k: np.tri(N, M, k), _matrix("tri"), {"N": None, "M": None, "k": 0})
# num=None is NumPy's 50 (a default of None lets num be a dimension's name, N)
_make("linspace", lambda p: f"np.linspace({p['start']}, {p['stop']}, "
      + ("50" if p["num"] == "None" else p["num"])
      + ", endpoint=False" * (p["endpoint"] == "False") + ")",
      lambda start, stop, num, endpoint: np.linspace(start, stop, 50 if num is None else num,
                                                     endpoint=endpoint),
      _linspace_dims, {"start": None, "stop": None, "num": None, "endpoint": True})


# ---- select(condlist, choicelist, default=0): the first choice whose condition holds --
def _select(condlist: list, choicelist: list, default: np.ndarray) -> np.ndarray:
    """np.select as nested np.where: NumPy's values, and a Python number (the default 0)
    keeps float32 choices float32 (np.select makes it a float64 array first)."""
    out = default
    for c, a in zip(condlist[::-1], choicelist[::-1]):
        out = np.where(c, a, out)
    return out


def _select_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    n = len(args) // 2
    for c in args[:n]:
        if not boolean(g, c):
            raise ShapeError("select's conditions must be booleans (comparisons such as "
                             "x > 0), not numbers")
    floats_only(g, args[n:])
    return _elementwise_shape(g, args, params)


def _picked(c: R, a: R | float, b: R | float, like: R) -> R:
    """where(c, a, b); a choice between numbers (the seed 1 and 0) in like's dtype."""
    if all(isinstance(v, float) or v.g.is_const(v.node) for v in (a, b)):
        return c.call("choose", a, b, like)
    return c.call("where", a, b)


@vjp
def _select_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """Each choice's adjoint is grad where it was taken; the default's where none was."""
    n = len(out.args) // 2
    adjoints, rest = [], grad
    for c, x in zip(out.args[:n], out.args[n:]):
        adjoints.append(_picked(c, rest, 0.0, x))
        rest = _picked(c, 0.0, rest, x)
    return (None,) * n + (*adjoints, rest)


@jvp
def _select_jvp(out: R, dots: Tangents) -> R | None:
    """The taken choice's tangent, as nested wheres (a stacked one lifted as where's)."""
    n = len(out.args) // 2
    tangents = [_lifted(d, x, out) for d, x in zip(dots[n:], out.args[n:])]
    if all(t is None for t in tangents):
        return None
    found: R | float = tangents[-1] or 0.0
    for c, t in zip(out.args[n - 1::-1], tangents[n - 1::-1]):
        if t is not None or not isinstance(found, float):
            found = c.call("where", t or 0.0, found)
    assert not isinstance(found, float)  # some tangent is not None
    return found


_register(Op("select", 3, "_select({*})", lambda *xs: _select(
                 list(xs[:len(xs) // 2]), list(xs[len(xs) // 2:-1]), xs[-1]),
             slot_prec=(0, 0, 0), varargs="lists", defaults=(0.0,), shape=_select_shape,
             helpers=(_select,), vjp=_select_vjp, jvp=_select_jvp,
             rules=("{out}_bar where select takes this operand, else 0",), dtype="follows",
             traits=Trait.POINTWISE | Trait.FRESH))
