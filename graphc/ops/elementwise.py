"""NumPy's, jax.nn's and jax.scipy.special's everyday elementwise functions (issue 19).

Each is one line of the op table (``table._function``): NumPy's template, the function
the interpreter runs, and the scalar sympy formula whose ``sympy.diff`` is the
derivative. Where sympy's own derivative is not JAX's (a step's, a tie's) or is not
made of ops, the formula is a small sympy function below whose ``fdiff`` says what
JAX does. erf, erfc, gammaln, digamma and polygamma ship as NumPy helpers
(``special.py``): the emitted module imports only NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import sympy as sp
from sympy.codegen import cfunctions as cf

from ..errors import ShapeError
from . import special
from .expr import R, jvp, vjp
from .special import _erf
from .table import (
    MUL,
    OPS,
    UNARY,
    Op,
    Trait,
    _arithmetic_shape,
    _elementwise_shape,
    _function,
    _register,
    sigmoid,
    softplus,
)
from .tensor import _spell


class _Step(sp.Function):
    """A piecewise-constant function: its derivative is 0 everywhere, as JAX's."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero


class floor(_Step):  # noqa: N801 - each prints as NumPy's name (pictures, lambdify)
    pass


class ceil(_Step):  # noqa: N801
    pass


class round(_Step):  # noqa: N801, A001
    pass


class logaddexp(sp.Function):  # noqa: N801
    """log(exp(a) + exp(b)); d/da = sigmoid(a - b): 1 and 0 when one operand is inf."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args if argindex == 1 else self.args[::-1]
        return sigmoid(a - b)


def _nonzero(v: sp.Expr) -> sp.Expr:
    """v, or 1 where v is 0: a denominator for the branch of a Piecewise not taken there,
    so that it computes no 0/0 (with NumPy's warning) and reverse mode's zero adjoint of
    that branch is not multiplied by inf. A sum, since sympy would move ``1 / v`` into a
    Piecewise of its own."""
    return v + sp.Piecewise((0, sp.Ne(v, 0)), (1, True))


class hypot(cf.hypot):  # noqa: N801
    """sqrt(x**2 + y**2); its derivative x / out is 1/2 at (0, 0), as JAX's."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Piecewise((self.args[argindex - 1] / _nonzero(self), sp.Ne(self, 0)),
                            (sp.S.Half, True))


class _Choice(sp.Function):
    """fmax/fmin: the second operand is taken when the result equals it (a tie, or the
    first is NaN), the first otherwise (the second is NaN): JAX's derivative."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        second = sp.Eq(self, self.args[1])
        return sp.Piecewise((0, second), (1, True)) if argindex == 1 else \
            sp.Piecewise((1, second), (0, True))


class fmax(_Choice):  # noqa: N801
    pass


class fmin(_Choice):  # noqa: N801
    pass


class sinc(sp.Function):  # noqa: N801
    """sin(pi x) / (pi x), 1 at 0. At 0 its derivative is the Taylor series' (0, then
    -pi**2/3 ... up to the fourth order, as JAX's), never 0/0."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        x = self.args[0]
        return sp.Piecewise(((sp.cos(sp.pi * x) - self) / _nonzero(x), sp.Ne(x, 0)),
                            (-sp.pi**2 * x / 3 + sp.pi**4 * x**3 / 30, True))

    def _numpycode(self, printer: Any) -> str:  # sympy's own sinc is sin(x) / x
        return f"numpy.sinc({printer._print(self.args[0])})"

    _pythoncode = _numpycode


class polygamma(sp.Function):  # noqa: N801
    """The n-th derivative of digamma (n a constant >= 1): second-order derivatives of
    gammaln and digamma."""

    @classmethod
    def eval(cls, n: sp.Expr, x: sp.Expr) -> sp.Expr | None:
        return digamma(x) if n == 0 else None

    def fdiff(self, argindex: int = 2) -> sp.Expr:
        n, x = self.args
        return polygamma(n + 1, x) if argindex == 2 else sp.S.Zero


class digamma(sp.Function):  # noqa: N801
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return polygamma(1, self.args[0])


class gammaln(sp.Function):  # noqa: N801
    """log|Gamma(x)|: its derivative is digamma on both sides of the poles."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return digamma(self.args[0])


SYMPY_SYNONYMS: dict[Any, Any] = {sp.loggamma: gammaln, sp.polygamma: polygamma,
                                  cf.hypot: hypot, sp.floor: floor, sp.ceiling: ceil}
"""sympy's heads that read as graphc's functions (``from_sympy``): polygamma(0, x) is
digamma."""


def _alias(name: str, of: str) -> None:
    """``name`` calls the op ``of`` (NumPy's second spelling): the same entry, printed
    under its own name."""
    OPS[name] = OPS[of]


def _helped(name: str) -> tuple:
    """A special function's helper, after the helpers it calls."""
    fn = getattr(special, name)
    return (*special.NEEDS[name], fn)


_PLUS = Trait.NONNEGATIVE
_CONST = sp.pi / 180

# ---- exponentials and logarithms ----------------------------------------------------
_function("log1p", "np.log1p({0})", np.log1p, cf.log1p, head=cf.log1p)
_function("expm1", "np.expm1({0})", np.expm1, cf.expm1, head=cf.expm1)
_function("log2", "np.log2({0})", np.log2, cf.log2, head=cf.log2)
_function("log10", "np.log10({0})", np.log10, cf.log10, head=cf.log10)
_function("exp2", "np.exp2({0})", np.exp2, cf.exp2, head=cf.exp2, traits=_PLUS)
_function("square", "np.square({0})", np.square, lambda x: x**2, traits=_PLUS)
_function("reciprocal", "np.reciprocal({0})", np.reciprocal, lambda x: 1 / x)
_function("logaddexp", "np.logaddexp({0}, {1})", np.logaddexp, logaddexp, arity=2,
          head=logaddexp, traits=Trait.COMMUTATIVE)

# ---- hyperbolic and inverse trigonometric ------------------------------------------
_function("sinh", "np.sinh({0})", np.sinh, sp.sinh, head=sp.sinh)
_function("cosh", "np.cosh({0})", np.cosh, sp.cosh, head=sp.cosh, traits=_PLUS)
_function("arcsin", "np.arcsin({0})", np.arcsin, sp.asin, head=sp.asin)
_function("arccos", "np.arccos({0})", np.arccos, sp.acos, head=sp.acos, traits=_PLUS)
_function("arctan", "np.arctan({0})", np.arctan, sp.atan, head=sp.atan)
_function("arctan2", "np.arctan2({0}, {1})", np.arctan2, sp.atan2, arity=2, head=sp.atan2)
_function("arcsinh", "np.arcsinh({0})", np.arcsinh, sp.asinh, head=sp.asinh)
_function("arccosh", "np.arccosh({0})", np.arccosh, sp.acosh, head=sp.acosh, traits=_PLUS)
_function("arctanh", "np.arctanh({0})", np.arctanh, sp.atanh, head=sp.atanh)
_function("hypot", "np.hypot({0}, {1})", np.hypot, hypot, arity=2, head=hypot,
          traits=_PLUS | Trait.COMMUTATIVE)

# ---- steps: derivative 0, as JAX's ---------------------------------------------------
def _round_shape(g: Any, args: tuple[str, ...], params: dict) -> tuple:
    """round(x, decimals): NumPy's decimals, an integer (negative: tens, hundreds...)."""
    if type(params["decimals"]) is not int:
        raise ShapeError(f"decimals must be an integer, got {params['decimals']!r}")
    return _arithmetic_shape(g, args, params)



_function("floor", "np.floor({0})", np.floor, floor, head=floor)
_function("ceil", "np.ceil({0})", np.ceil, ceil, head=ceil)
_function("round", "np.round({0})", np.round, lambda x, decimals=0: round(
              x * sp.Integer(10)**decimals) / sp.Integer(10)**decimals,  # as NumPy computes it
          head=round, params={"decimals": 0},
          positional=("decimals",), spell=lambda p: "np.round({0}" + (
              f", {p['decimals']})" if p["decimals"] else ")"), shape=_round_shape)

# ---- activations (jax.nn) -----------------------------------------------------------
_abs = cast(Callable[..., sp.Expr], OPS["abs"].formula)  # abs'(0) = 1, as JAX's
_function("silu", "{0} * _sigmoid({0})", lambda x: x * OPS["sigmoid"].fn(x),
          lambda x: x * sigmoid(x), helpers=OPS["sigmoid"].helpers, prec=MUL, slot_prec=(MUL,))
_function("log_sigmoid", "-np.logaddexp(0.0, -{0})", lambda x: -np.logaddexp(0.0, -x),
          lambda x: -softplus(-x), prec=UNARY, slot_prec=(UNARY,))
_function("soft_sign", "{0} / (np.abs({0}) + 1.0)", lambda x: x / (np.abs(x) + 1.0),
          lambda x: x / (_abs(x) + 1), prec=MUL, slot_prec=(MUL,))

# ---- special functions (jax.scipy.special), shipped as NumPy helpers -----------------
_function("erf", "_erf({0})", special._erf, sp.erf, head=sp.erf, helpers=_helped("_erf"))
_function("erfc", "_erfc({0})", special._erfc, sp.erfc, head=sp.erfc, traits=_PLUS,
          helpers=_helped("_erfc"))
_function("gammaln", "_gammaln({0})", special._gammaln, gammaln, head=gammaln,
          helpers=_helped("_gammaln"))
_function("digamma", "_digamma({0})", special._digamma, digamma, head=digamma,
          helpers=_helped("_digamma"))


def _polygamma_shape(g: Any, args: tuple[str, ...], params: dict) -> tuple:
    n = g.attrs(args[0])["params"].get("value") if g.is_const(args[0]) else None
    if n is None or n < 1 or n != int(n):
        raise ShapeError("polygamma(n, x) needs n a constant integer >= 1 "
                         "(polygamma(0, x) is digamma(x))")
    return _elementwise_shape(g, args, params)


_function("polygamma", "_polygamma({0}, {1})", special._polygamma, polygamma, arity=2,
          head=polygamma, helpers=_helped("_polygamma"), shape=_polygamma_shape,
          counts=(0,))

# ---- the rest of NumPy's -------------------------------------------------------------
_function("fmax", "np.fmax({0}, {1})", np.fmax, fmax, arity=2, head=fmax)
_function("fmin", "np.fmin({0}, {1})", np.fmin, fmin, arity=2, head=fmin)
_function("sinc", "np.sinc({0})", np.sinc, sinc, head=sinc)
_function("deg2rad", "np.deg2rad({0})", np.deg2rad, lambda x: x * _CONST)
_function("rad2deg", "np.rad2deg({0})", np.rad2deg, lambda x: x / _CONST)


# ---- gelu: jax.nn.gelu(x, approximate=True), its form chosen by a parameter ---------
_C, _K = 0.7978845608028654, 0.044715  # sqrt(2 / pi), the tanh form's cubic term


def _gelu(x: np.ndarray, approximate: bool = True) -> np.ndarray:
    """x Phi(x) exactly (through _erf), or JAX's tanh approximation of it."""
    if approximate:
        return x * (0.5 * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))))
    return x * (_erf(x / 1.4142135623730951) + 1.0) / 2.0


def _gelu_slope(out: R) -> R:
    """gelu'(x), from the operand of the gelu node ``out``."""
    x = out.args[0]
    if out.params["approximate"]:
        t = ((x + x * x * x * _K) * _C).call("tanh")
        return (t + 1.0) * 0.5 + x * (-(t * t) + 1.0) * ((x * x * (3 * _K) + 1.0) * (0.5 * _C))
    return ((x * 0.7071067811865476).call("erf") + 1.0) * 0.5 \
        + x * (x * x * -0.5).exp() * 0.3989422804014327  # 1 / sqrt(2 pi)


def _gelu_shape(g: Any, args: tuple[str, ...], params: dict) -> tuple:
    if not isinstance(params["approximate"], bool):  # gc.gelu(x, approximate="yes")
        raise ShapeError(f"approximate must be True or False, got {params['approximate']!r}")
    return _elementwise_shape(g, args, params)


_register(Op("gelu", 1, "_gelu({0})", _gelu, slot_prec=(0,), params={"approximate": True},
             shape=_gelu_shape,
             spell=_spell("_gelu", {"approximate": True}),
             helpers=(*_helped("_erf"), _gelu),
             vjp=vjp(lambda out, grad: (grad * _gelu_slope(out),)),
             jvp=jvp(lambda out, dots: dots[0] * _gelu_slope(out)),
             rules=("{out}_bar · gelu'({0})",), dtype="follows",
             traits=Trait.POINTWISE | Trait.FRESH))

# ---- NumPy's second spellings --------------------------------------------------------
_alias("absolute", "abs")
_alias("around", "round")
_alias("lgamma", "gammaln")
_alias("softsign", "soft_sign")
_alias("radians", "deg2rad")
_alias("degrees", "rad2deg")
