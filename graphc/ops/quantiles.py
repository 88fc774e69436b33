"""quantile, percentile and median, NumPy's signatures with JAX's values and derivatives,
one entry each.

JAX sorts along the axes (stably) and takes the elements at positions floor(q (n - 1))
and ceil(q (n - 1)) of the sorted slice, weighted by the method ("linear": by the
fraction; "lower", "higher"; "midpoint": halves; "nearest": the closer, the lower at .5);
a slice with a NaN gives nan. The derivative in x is those weights put back where the
elements came from (ties follow the stable sort, as JAX's gradient follows its sort's
permutation): the ``_weighted`` pattern, the weights a constant (``quantile_weights``), so
the second derivative is 0, as JAX's. q is a number or a tuple of numbers in the text: JAX
differentiates through an array q, graphc takes no operand q (an error says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import Op, Trait, _register
from .tensor import _MADE, _axes, _expand, _negative, _params_shape, _reduced, _spell

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


# ---- NumPy helpers, shipped inside emitted modules ---------------------------------
def _grouped(a, axis):
    """a's slices along axis (None, an int or a tuple) as one last axis, flattened in
    JAX's order (its quantile's permutation of the axes orders the ties), and the
    permuted shape and permutation that undo it."""
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else tuple(
        ax % nd for ax in (axis if isinstance(axis, tuple) else (axis,)))
    keep = [d for d in range(nd) if d not in axes]
    perm = keep + list(axes)
    if isinstance(axis, tuple):  # JAX swaps each kept axis to the front
        perm = list(range(nd))
        for i, k in enumerate(keep):
            perm[i], perm[k] = perm[k], perm[i]
    moved = np.transpose(a, perm)
    return moved.reshape(moved.shape[:len(keep)] + (-1,)), (moved.shape, perm)


def _ungrouped(w, moved_shape, perm):
    return np.transpose(w.reshape(moved_shape), np.argsort(perm))


def _quantile_at(a, q, axis, method):
    """The stably sorted slices (..., n), their order, and for each q (shape Q) the two
    positions and weights of JAX's quantile."""
    flat, undo = _grouped(np.asarray(a), axis)
    n = flat.shape[-1]
    order = np.argsort(flat, axis=-1, kind="stable")
    pos = np.asarray(q, np.float64) * (n - 1)
    lo, hi = np.floor(pos), np.ceil(pos)
    high = pos - lo
    high = {"linear": high, "lower": 0 * high, "higher": (hi > lo) * 1.0,
            "midpoint": (hi > lo) * 0.5, "nearest": (high > 0.5) * 1.0}[method]
    return flat, order, lo.astype(int), hi.astype(int), 1 - high, high, undo


def _quantile(a, q, axis=None, method="linear", keepdims=False):
    """jnp.quantile(a, q, axis, method, keepdims): q's axes first, then a's kept ones."""
    a = np.asarray(a)
    flat, order, lo, hi, w_lo, w_hi, _ = _quantile_at(a, q, axis, method)
    s = np.take_along_axis(flat, order, -1)
    out = s[..., lo] * w_lo.astype(a.dtype) + s[..., hi] * w_hi.astype(a.dtype)
    out = np.where(np.isnan(flat).any(-1)[(...,) + (None,) * np.ndim(q)], np.nan, out)
    out = np.moveaxis(out, tuple(range(-np.ndim(q), 0)), tuple(range(np.ndim(q))))
    if keepdims:
        axes = tuple(range(a.ndim)) if axis is None else np.atleast_1d(axis) % a.ndim
        out = np.expand_dims(out, tuple(np.ndim(q) + i for i in sorted(axes)))
    return out.astype(a.dtype)[()]


def _percentile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, np.true_divide(q, 100), axis, method, keepdims)


def _median(a, axis=None, keepdims=False):
    return _quantile(a, 0.5, axis, "midpoint", keepdims)


def _quantile_weights(a, q, axis=None, method="linear"):
    """d quantile / d a: for each q, its two weights put where the sorted elements came
    from (shape q's + a's); 0 over a slice with a NaN (its value is nan)."""
    a = np.asarray(a)
    flat, order, lo, hi, w_lo, w_hi, undo = _quantile_at(a, q, axis, method)
    kept = ~np.isnan(flat).any(-1, keepdims=True)
    out = []
    for j in np.ndindex(np.shape(lo)):
        ranks = np.zeros(flat.shape[-1], np.result_type(a, 1.0))
        np.add.at(ranks, [lo[j], hi[j]], [w_lo[j], w_hi[j]])
        w = np.zeros(flat.shape, ranks.dtype)
        np.put_along_axis(w, order, np.broadcast_to(ranks, flat.shape), -1)
        out.append(_ungrouped(w * kept, *undo))
    return np.reshape(out, np.shape(q) + a.shape)


# ---- shapes -------------------------------------------------------------------------
def _qs(q: Any, scale: float) -> tuple[float, ...]:
    """q (a number or a tuple of numbers) as quantiles in [0, 1]; ShapeError else."""
    many = q if isinstance(q, tuple) else (q,)
    if not many or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            for v in many):
        raise ShapeError(f"q must be a constant, a number or a tuple of numbers, got {q!r} "
                         "(q as a value of the graph, which JAX differentiates, is not supported)")
    if not all(0 <= v <= scale for v in many):
        raise ShapeError(f"q {q!r} is outside [0, {scale:g}]")
    return tuple(v / scale for v in many)


def _quantile_shape(scale: float):
    def shape(x: shapes.Shape, q: Any, axis: Any, method: Any, keepdims: bool) -> shapes.Shape:
        if method not in _METHODS:
            raise ShapeError(f"method {method!r}: one of {', '.join(_METHODS)}")
        _qs(q, scale)
        return ((len(q),) if isinstance(q, tuple) else ()) + _reduced(x, axis, keepdims)
    return shape


# ---- rules -------------------------------------------------------------------------------
def _weights(out: R) -> tuple[R, int]:
    """The constant weights (q's axes first), and how many axes q has."""
    params, x = out.params, out.args[0]
    name = out.g.op(out.node).name
    q = params.get("q", 0.5)
    qs = _qs(q, 100.0 if name == "percentile" else 1.0)
    many = isinstance(q, tuple)
    axis = params["axis"] if x.elastic else _negative(params["axis"], x.ndim)
    w = x.call("quantile_weights", q=qs if many else qs[0], axis=axis,
               method=params.get("method", "midpoint"))
    return w, int(many)


@vjp
def _quantile_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    w, many = _weights(out)
    if not many:
        return (_expand(grad, out) * w,)
    x, params = out.args[0], out.params
    if not params["keepdims"]:
        grad = grad.call("expand_dims", axis=tuple(1 + i for i in _axes(params["axis"], x.ndim)))
    return ((grad * w).sum(0),)


@jvp
def _quantile_jvp(out: R, dots: Tangents) -> R | None:
    w, many = _weights(out)
    x, params = out.args[0], out.params
    dot = dots[0].call("expand_dims", axis=-(x.ndim + 1)) if many else dots[0]
    return (dot * w).sum(_negative(params["axis"], x.ndim), keepdims=bool(params["keepdims"]))


_Q = {"q": None, "axis": None, "method": "linear", "keepdims": False}


def _q_spell(name: str) -> Callable[[dict], str]:
    """_quantile(x, q) with the keywords that differ from the defaults."""
    rest = _spell(f"_{name}", {k: v for k, v in _Q.items() if k != "q"})
    return lambda params: rest(params).replace("({0}", "({0}, {q}", 1)


for _name, _fn, _scale in (("quantile", _quantile, 1.0), ("percentile", _percentile, 100.0)):
    _register(Op(_name, 1, f"_{_name}({{0}}, {{q}})", _fn, slot_prec=(0,), params=_Q,
                 positional=("q",), helpers=(_grouped, _quantile_at, _quantile, _fn),
                 spell=_q_spell(_name),
                 scalar_result=lambda p: p.get("axis") is None and not p.get("keepdims")
                 and not isinstance(p.get("q"), tuple),
                 shape=_params_shape(_quantile_shape(_scale)), vjp=_quantile_vjp,
                 jvp=_quantile_jvp, dtype="follows", traits=_MADE,
                 rules=("{out}_bar * (1 - frac, frac at the two sorted neighbours)",)))
_MEDIAN = {"axis": None, "keepdims": False}
_register(Op("median", 1, "_median({0})", _median, slot_prec=(0,), params=_MEDIAN,
             helpers=(_grouped, _quantile_at, _quantile, _median),
             spell=_spell("_median", _MEDIAN),
             scalar_result=lambda p: p.get("axis") is None and not p.get("keepdims"),
             shape=_params_shape(lambda x, axis, keepdims: _reduced(x, axis, keepdims)),
             vjp=_quantile_vjp, jvp=_quantile_jvp, dtype="follows", traits=_MADE,
             rules=("{out}_bar * (1 or 1/2 each at the middle of the sorted {0})",)))
_register(Op("quantile_weights", 1, "_quantile_weights({0}, {q}, {axis}, 'linear')",
             _quantile_weights, slot_prec=(0,),
             spell=lambda p: "_quantile_weights({0}, {q}, {axis}, %r)" % p["method"],
             params={"q": None, "axis": None, "method": "linear"},
             helpers=(_grouped, _ungrouped, _quantile_at, _quantile_weights),
             shape=_params_shape(lambda x, q, axis, method: (
                 (len(q),) if isinstance(q, tuple) else ()) + x),
             dtype="follows", traits=Trait.INTERNAL | _MADE | Trait.NO_DERIVATIVE))
