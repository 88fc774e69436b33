"""Reductions of NumPy and jax.numpy beyond sum and mean (tensor.py): max, min, argmax,
argmin, prod, var, std, cumsum, cumprod and norm, each one entry of the op table.

A reduction's derivative is the adjoint spread over the reduced axes times the weights
d out / d x, an array of x's shape (``_weighted``): its jvp sums the tangent times the
same weights. The weights follow JAX where it chooses: a tie of max/min shares the
adjoint equally, prod's are the products of the others (right with zeros, no division),
norm's at 0 are JAX's (nan for 2 and 'fro', 1 for ord 1, 1/(2 * size) for inf).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import GraphcError, ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import Op, Trait, _register
from .tensor import (
    _AXIS,
    _LSE,
    _MADE,
    _axes,
    _count,
    _expand,
    _negative,
    _params_shape,
    _reduced,
    _reduces_all,
    _spell,
    _summed_to,
)

_INNER = Trait.INTERNAL


# ---- NumPy helpers, shipped inside emitted modules ---------------------------------
def _group_last(x, axis):
    """x with the axes of ``axis`` (counted from the end of x; None: all) moved to the
    end and flattened into one: (x's other axes..., n), and how to undo it."""
    ndim = np.ndim(x)
    axes = tuple(range(-ndim, 0)) if axis is None else \
        tuple(sorted(a % ndim - ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    return moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,)), moved.shape, axes


def _ungroup(y, moved_shape, axes):
    return np.moveaxis(y.reshape(moved_shape), tuple(range(-len(axes), 0)), axes)


def _prod_except(x, axis=None):
    """Each element's product of the other elements along axis, from prefix and suffix
    products: no division, so right where x has zeros (JAX's prod gradient)."""
    x = np.asarray(x)
    flat, moved, axes = _group_last(x, axis)
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], -1), -1)[..., ::-1]
    return _ungroup(left * right, moved, axes)


def _prod_except_dot(x, d, axis=None):
    """The tangent of _prod_except(x) along d: sum over j != i of d_j times the product
    of the elements but i and j, by dual-number prefix and suffix products (no division).
    d may carry leading axes (forward mode's directions); axis counts from the end."""
    axis = tuple(range(-np.ndim(x), 0)) if axis is None else axis  # x's, not d's
    shape = np.broadcast_shapes(np.shape(x), np.shape(d))
    xf, moved, axes = _group_last(np.broadcast_to(x, shape), axis)
    df = _group_last(np.broadcast_to(d, shape), axis)[0]
    n = xf.shape[-1]
    dtype = np.result_type(xf, df)
    lo, lo_dot = np.ones(xf.shape, dtype), np.zeros(xf.shape, dtype)
    hi, hi_dot = np.ones(xf.shape, dtype), np.zeros(xf.shape, dtype)
    for i in range(1, n):
        lo[..., i] = lo[..., i - 1] * xf[..., i - 1]
        lo_dot[..., i] = lo_dot[..., i - 1] * xf[..., i - 1] + lo[..., i - 1] * df[..., i - 1]
        j = n - 1 - i
        hi[..., j] = hi[..., j + 1] * xf[..., j + 1]
        hi_dot[..., j] = hi_dot[..., j + 1] * xf[..., j + 1] + hi[..., j + 1] * df[..., j + 1]
    return _ungroup(lo_dot * hi + lo * hi_dot, moved, axes)


def _cumprod_dot(x, d, axis):
    """The tangent of np.cumprod(x, axis) along d (leading axes allowed; axis from the
    end): y'_i = y'_(i-1) x_i + y_(i-1) d_i, so no division, right with zeros."""
    x = np.broadcast_to(x, np.broadcast_shapes(np.shape(x), np.shape(d)))
    xs, ds = np.moveaxis(x, axis, -1), np.moveaxis(np.broadcast_to(d, x.shape), axis, -1)
    dtype = np.result_type(xs, ds)
    y, dot = np.empty(xs.shape, dtype), np.zeros(xs.shape, dtype)
    if not xs.shape[-1]:  # an empty axis
        return np.moveaxis(dot, -1, axis)
    y[..., 0], dot[..., 0] = xs[..., 0], ds[..., 0]
    for i in range(1, xs.shape[-1]):
        y[..., i] = y[..., i - 1] * xs[..., i]
        dot[..., i] = dot[..., i - 1] * xs[..., i] + y[..., i - 1] * ds[..., i]
    return np.moveaxis(dot, -1, axis)


def _cumprod_bar(x, g, axis):
    """The adjoint of np.cumprod(x, axis) from g: x_bar_j = prefix_j * s_j with the
    exclusive prefix product and s_j = g_j + x_(j+1) s_(j+1): right with zeros."""
    xs, gs = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    dtype = np.result_type(xs, gs)
    prefix = np.cumprod(np.concatenate([np.ones_like(xs[..., :1]), xs[..., :-1]], -1), -1)
    s = np.zeros(np.broadcast_shapes(xs.shape, gs.shape), dtype)
    if not xs.shape[-1]:  # an empty axis
        return np.moveaxis(s, -1, axis)
    s[..., -1] = gs[..., -1]
    for j in range(xs.shape[-1] - 2, -1, -1):
        s[..., j] = gs[..., j] + xs[..., j + 1] * s[..., j + 1]
    return np.moveaxis(prefix * s, -1, axis)


def _logsumexp_b(x, b, axis=-1, keepdims=False):
    """log(sum(b * exp(x))) along axis, shifted by the max of x where b is not 0, as
    jax.scipy.special.logsumexp(x, axis, b=b): nan where the sum is negative."""
    x, b = np.broadcast_arrays(x, b)
    m = np.max(np.where(b != 0, x, -np.inf), axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    out = m + np.log(np.sum(b * np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


# ---- the weights d out / d x of each reduction, on handles ------------------------
def _weighted(weights):
    """vjp and jvp of a reduction whose derivative is out_bar spread over the reduced
    axes times ``weights(out)``, an array of x's shape."""
    @vjp
    def back(out: R, grad: R) -> tuple[R | None, ...]:
        return (_expand(grad, out) * weights(out),)

    @jvp
    def ahead(out: R, dots: Tangents) -> R | None:
        x, params = out.args[0], out.params
        return (dots[0] * weights(out)).sum(_negative(params["axis"], x.ndim),
                                            keepdims=bool(params["keepdims"]))
    return back, ahead


def _from_end(out: R) -> Any:
    """The reduced axes counted from the end (forward mode's tangents have a leading
    axis); as the op read them when x's rank is known only at call time."""
    x = out.args[0]
    return out.params["axis"] if x.elastic else _negative(out.params["axis"], x.ndim)


def _ties(x: R, out: R) -> R:
    """1 / (how many elements tie) where x is the result, 0 elsewhere: JAX shares the
    adjoint of a max or min equally among the elements that attain it."""
    hit = x.call("eq", _expand(out, out)).call("choose", 1.0, 0.0, x)
    return hit / hit.sum(out.params["axis"], keepdims=True)


def _centered(out: R) -> R:
    """(x - mean(x)) / (n - ddof): half of d var / d x."""
    x, params = out.args[0], out.params
    n = _count(x, tuple(x.shape[i] for i in _axes(params["axis"], x.ndim)), out)
    return (x - x.call("mean", axis=params["axis"], keepdims=True)) / (n - float(params["ddof"]))


# ---- max, min, argmax, argmin ---------------------------------------------------------
def _arg_shape(x: shapes.Shape, axis: Any, keepdims: bool) -> shapes.Shape:
    if axis is not None and type(axis) is not int:
        raise ShapeError(f"axis {axis!r}: argmax and argmin take one axis (an integer) or None")
    return _reduced(x, axis, keepdims)


_TIES = _weighted(lambda out: _ties(out.args[0], out))
for _name in ("max", "min"):
    _register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), slot_prec=(0,),
                 params=_AXIS, signature=("axis",), scalar_result=_reduces_all,
                 spell=_spell(f"np.{_name}", _AXIS),
                 shape=_params_shape(_reduced), vjp=_TIES[0], jvp=_TIES[1], dtype="follows",
                 traits=_MADE, rules=("{out}_bar * ({0} == {out}) / ties",)))
for _name in ("argmax", "argmin"):
    _register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), slot_prec=(0,),
                 params=_AXIS, signature=("axis",), scalar_result=_reduces_all,
                 spell=_spell(f"np.{_name}", _AXIS),
                 shape=_params_shape(_arg_shape), integral=lambda params: True,
                 traits=_MADE | Trait.NO_DERIVATIVE))

# ---- prod: the products of the others, right with zeros -------------------------------
_PROD = _weighted(lambda out: out.args[0].call("prod_except", axis=_from_end(out)))
_register(Op("prod", 1, "np.prod({0})", np.prod, slot_prec=(0,), params=_AXIS,
             signature=("axis",), scalar_result=_reduces_all, spell=_spell("np.prod", _AXIS),
             shape=_params_shape(_reduced), vjp=_PROD[0], jvp=_PROD[1], dtype="follows",
             traits=_MADE, rules=("{out}_bar * (product of the others of {0})",)))
# Its Jacobian is symmetric (d e_i / d x_j = the product of all but i and j): vjp = jvp.
_register(Op("prod_except", 1, "_prod_except({0}, {axis})", _prod_except, slot_prec=(0,),
             params={"axis": None}, helpers=(_group_last, _ungroup, _prod_except),
             shape=_params_shape(lambda x, axis: x), dtype="follows", traits=_INNER | _MADE,
             vjp=vjp(lambda out, grad: (out.args[0].call("prod_except_dot", grad,
                                                         **out.params),)),
             jvp=jvp(lambda out, dots: out.args[0].call("prod_except_dot", dots[0],
                                                        **out.params)),
             rules=("sum over j != i of {out}_bar[j] * the product of {0} but i and j",)))
def _linear_in_second(of: str):
    """The jvp of a derivative rule's op (``prod_except_dot(x, d)``): linear in its
    second operand, whose tangent it takes (forward mode over reverse mode, Jacobians
    pulled back); a tangent of x would be a third-order term: refused, named."""
    @jvp
    def rule(out: R, dots: Tangents) -> R | None:
        if dots[0] is not None:
            raise GraphcError(f"{of}'s second derivative (node {out.node!r}, "
                              f"{out.g.attrs(out.node)['op']}) is not supported: that rule "
                              "has no derivative in the operand itself")
        return out.args[0].call(out.g.attrs(out.node)["op"], dots[1], **out.params)
    return rule


_register(Op("prod_except_dot", 2, "_prod_except_dot({0}, {1}, {axis})", _prod_except_dot,
             jvp=_linear_in_second("prod"), slot_prec=(0, 0), params={"axis": None},
             dtype="follows",
             helpers=(_group_last, _ungroup, _prod_except_dot),
             shape=_params_shape(lambda x, d, axis: shapes.broadcast(x, d)),
             traits=_INNER | _MADE))

# ---- var and std (ddof as NumPy's) ----------------------------------------------------
_VAR = {"axis": None, "ddof": 0, "keepdims": False}
for _name, _weights, _rule in (
        ("var", lambda out: _centered(out) * 2.0, "2 * ({0} - mean) / (n - ddof)"),
        ("std", lambda out: _centered(out) / _expand(out, out),
         "({0} - mean) / ((n - ddof) * {out})")):
    _rules = _weighted(_weights)
    _register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), slot_prec=(0,),
                 params=_VAR, signature=("axis",), scalar_result=_reduces_all,
                 spell=_spell(f"np.{_name}", _VAR),
                 shape=_params_shape(lambda x, axis, ddof, keepdims: _reduced(x, axis, keepdims)),
                 vjp=_rules[0], jvp=_rules[1], dtype="follows", traits=_MADE,
                 rules=("{out}_bar * " + _rule,)))


# ---- cumsum and cumprod ---------------------------------------------------------------
def _cum_shape(x: shapes.Shape, axis: Any) -> shapes.Shape:
    if axis is None and len(x) != 1:
        raise ShapeError("without an axis NumPy flattens x first: give axis= (or a vector)")
    if axis is not None and type(axis) is not int:
        raise ShapeError(f"axis {axis!r}: a cumulative op takes one axis (an integer)")
    _axes(axis, len(x))
    return x


def _last(out: R) -> int:
    """A cumulative op's axis, counted from the end."""
    return _negative(out.params["axis"], out.ndim)[0]


_CUM = {"axis": None}
_register(Op("cumsum", 1, "np.cumsum({0})", np.cumsum, slot_prec=(0,), params=_CUM,
             signature=("axis",),
             spell=_spell("np.cumsum", _CUM), shape=_params_shape(_cum_shape),
             vjp=vjp(lambda out, grad: (grad.call("flip", axis=_last(out)).call(
                 "cumsum", axis=_last(out)).call("flip", axis=_last(out)),)),
             jvp=jvp(lambda out, dots: dots[0].call("cumsum", axis=_last(out))),
             dtype="follows", traits=_MADE, rules=("flip(cumsum(flip({out}_bar)))",)))
_register(Op("cumprod", 1, "np.cumprod({0})", np.cumprod, slot_prec=(0,), params=_CUM,
             signature=("axis",),
             spell=_spell("np.cumprod", _CUM), shape=_params_shape(_cum_shape),
             vjp=vjp(lambda out, grad: (out.args[0].call("cumprod_bar", grad,
                                                         axis=_last(out)),)),
             jvp=jvp(lambda out, dots: out.args[0].call("cumprod_dot", dots[0],
                                                        axis=_last(out))),
             dtype="follows", traits=_MADE,
             rules=("sum over i >= j of {out}_bar_i * prod(k <= i, k != j) of {0}_k",)))
for _name, _fn in (("cumprod_bar", _cumprod_bar), ("cumprod_dot", _cumprod_dot)):
    _register(Op(_name, 2, f"_{_name}({{0}}, {{1}}, {{axis}})", _fn, slot_prec=(0, 0),
                 jvp=_linear_in_second("cumprod"),
                 params={"axis": None}, helpers=(_fn,), dtype="follows",
                 shape=_params_shape(lambda x, d, axis: shapes.broadcast(x, d)),
                 traits=_INNER | _MADE))


# ---- norm: numpy.linalg.norm's vector ords 1, 2, inf, -inf and the matrix 'fro' --------
def _norm_kind(ndim: int, ord: Any, axis: Any) -> str:  # noqa: A002 - NumPy's name
    """Which norm: "2" (Euclid's, 'fro' too), "1", "inf" or "-inf"; ShapeError else."""
    axes = _axes(axis, ndim)
    if axis is None and ord is None:
        return "2"  # every element, whatever the rank, as NumPy's
    if len(axes) not in (1, 2):
        raise ShapeError(f"norm with ord={ord!r} takes a vector or a matrix, or axis= with "
                         f"one or two axes; x has {ndim} dimensions")
    if len(axes) == 2:
        if ord in (None, "fro"):
            return "2"
        raise ShapeError(f"matrix norm ord={ord!r} is not supported (only 'fro')")
    vector = {1: "1", 2: "2", np.inf: "inf", -np.inf: "-inf"}
    if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord in vector:
        return vector[ord]
    if ord is None:
        return "2"
    raise ShapeError(f"vector norm ord={ord!r} is not supported (1, 2, inf or -inf)")


def _norm_shape(x: shapes.Shape, ord: Any, axis: Any, keepdims: bool) -> shapes.Shape:  # noqa: A002
    _norm_kind(len(x), ord, axis)
    return _reduced(x, axis, keepdims)


def _norm_weights(out: R) -> R:
    x, params = out.args[0], out.params
    kind = _norm_kind(x.ndim, params["ord"], params["axis"])
    if kind == "2":  # x * (1 / out), nan where out is 0 as JAX's (its derivatives too),
        zero = _expand(out, out).call("eq", 0.0)  # without NumPy's 0/0 warning
        return x * zero.call("where", np.nan, zero.call("where", 1.0, _expand(out, out))
                                  .call("reciprocal"))
    sign = x.call("ge", 0.0).call("choose", 1.0, -1.0, x)  # abs'(0) = 1, as JAX's
    if kind == "1":
        return sign
    share = _ties(x.call("abs"), out) * sign
    if kind == "inf":  # JAX's max(max(abs(x)), 0): at x = 0 the 0 takes half
        return share * _expand(out, out).call("eq", 0.0).call("choose", 0.5, 1.0, x)
    return share


_NORM = {"ord": None, "axis": None, "keepdims": False}


def _norm_spell(params: dict) -> str:
    """np.linalg.norm with the options that differ from the defaults; inf as np.inf."""
    def shown(v: Any) -> str:
        return {np.inf: "np.inf", -np.inf: "-np.inf"}.get(v, repr(v)) \
            if isinstance(v, float) else repr(v)
    extra = "".join(f", {k}={shown(params[k])}" for k, v in _NORM.items()
                    if params.get(k, v) != v)
    return f"np.linalg.norm({{0}}{extra})"


_NORM_RULES = _weighted(_norm_weights)
_register(Op("norm", 1, "np.linalg.norm({0})", np.linalg.norm, slot_prec=(0,), params=_NORM,
             scalar_result=_reduces_all, spell=_norm_spell, shape=_params_shape(_norm_shape),
             vjp=_NORM_RULES[0], jvp=_NORM_RULES[1], dtype="follows", traits=_MADE,
             rules=("{out}_bar * d norm / d {0} ({0} / {out} for ord 2)",)))


# ---- logsumexp(x, axis, b=weights): jax.scipy.special.logsumexp's b, an operand --------
def _lse_b_shape(x: shapes.Shape, b: shapes.Shape, axis: Any, keepdims: bool) -> shapes.Shape:
    return _reduced(shapes.broadcast(x, b), axis, keepdims)


def _unreduced(v: R, out: R) -> R:
    """``v`` (out's shape) with the reduced axes of x and b broadcast put back as 1s."""
    x, b = out.args
    if out.params["keepdims"] or not out.shape and not out.elastic:
        return v  # (a scalar lines up with any axes)
    axis = out.params["axis"]
    full = len(shapes.broadcast(x.shape, b.shape))
    return v.call("expand_dims", axis=axis if x.elastic or b.elastic else _axes(axis, full))


def _lse_b_weights(out: R) -> tuple[R, R]:
    """d out / d x and d out / d b: b * e and e, e = exp(x - out)."""
    x, b = out.args
    e = (x - _unreduced(out, out)).exp()
    return b * e, e


def _to(c: R, operand: R, out: R) -> R:
    """An operand's adjoint: ``c`` stretched over the operand (e of x alone, for b) and
    summed over the axes the operand was broadcast along."""
    x, b = out.args
    if x.elastic or b.elastic:
        return c.call("sum_to", operand)
    have = shapes.broadcast(c.shape, operand.shape)
    if have != c.shape:
        c = c.call("broadcast_like", operand)
    return c if have == operand.shape else _summed_to(c, have, operand.shape)


@vjp
def _lse_b_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    spread = _unreduced(grad, out)
    return tuple(_to(spread * w, a, out) for a, w in zip(out.args, _lse_b_weights(out)))


@jvp
def _lse_b_jvp(out: R, dots: Tangents) -> R | None:
    x, b = out.args
    full = len(shapes.broadcast(x.shape, b.shape))
    terms = [(dot if a.ndim == full else dot.call("lift", ndim=full)) * w
             for a, dot, w in zip(out.args, dots, _lse_b_weights(out)) if dot is not None]
    total = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return total.sum(_negative(out.params["axis"], full), keepdims=bool(out.params["keepdims"]))


_register(Op("logsumexp_b", 2, "_logsumexp_b({0}, {1})", _logsumexp_b, slot_prec=(0, 0),
             spelled="logsumexp", keyword_operands=("b",),
             params=_LSE, spell=lambda params: _spell("_logsumexp_b", _LSE)(params).replace(
                 "({0}", "({0}, {1}", 1),
             scalar_result=lambda params: False, shape=_params_shape(_lse_b_shape),
             vjp=_lse_b_vjp, jvp=_lse_b_jvp, helpers=(_logsumexp_b,), dtype="follows",
             traits=_INNER | _MADE,
             rules=("{out}_bar * {1} * exp({0} - {out})", "{out}_bar * exp({0} - {out})")))
