"""quantile, percentile and median, and nanquantile, nanpercentile, nanmedian (of the
elements that are not NaN), NumPy's signatures with JAX's values and derivatives, one
entry each.

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


def _quantile_at(a, q, axis, method, nan=False):
    """The stably sorted slices (..., n) (NaNs last), their order, and for each q (the
    last axis, q's elements) the two positions and weights of JAX's quantile; nan: of the
    elements that are not NaN (JAX's nanquantile). Also where the value is nan."""
    flat, undo = _grouped(np.asarray(a), axis)
    order = np.argsort(flat, axis=-1, kind="stable")
    missing = np.isnan(flat)
    n = (~missing).sum(-1, keepdims=True) if nan else flat.shape[-1]
    pos = np.ravel(np.asarray(q, np.float64)) * (np.maximum(n, 1) - 1)
    pos = pos * np.ones(flat.shape[:-1] + (1,))
    lo, hi = np.floor(pos), np.ceil(pos)
    high = pos - lo
    high = {"linear": high, "lower": 0 * high, "higher": (hi > lo) * 1.0,
            "midpoint": (hi > lo) * 0.5, "nearest": (high > 0.5) * 1.0}[method]
    void = missing.all(-1) if nan else missing.any(-1)
    return flat, order, lo.astype(int), hi.astype(int), 1 - high, high, void, undo


def _quantile(a, q, axis=None, method="linear", keepdims=False, nan=False):
    """jnp.quantile(a, q, axis, method, keepdims) (nan: jnp.nanquantile): q's axes first,
    then a's kept ones."""
    a = np.asarray(a)
    flat, order, lo, hi, w_lo, w_hi, void, _ = _quantile_at(a, q, axis, method, nan)
    s = np.take_along_axis(flat, order, -1)
    out = np.take_along_axis(s, lo, -1) * w_lo.astype(a.dtype) + \
        np.take_along_axis(s, hi, -1) * w_hi.astype(a.dtype)
    out = np.where(void[..., None], np.nan, out)
    out = np.moveaxis(out, -1, 0).reshape(np.shape(q) + out.shape[:-1])
    if keepdims:
        axes = tuple(range(a.ndim)) if axis is None else np.atleast_1d(axis) % a.ndim
        out = np.expand_dims(out, tuple(np.ndim(q) + i for i in sorted(axes)))
    return out.astype(a.dtype)[()]


def _percentile(a, q, axis=None, method="linear", keepdims=False, nan=False):
    return _quantile(a, np.true_divide(q, 100), axis, method, keepdims, nan)


def _median(a, axis=None, keepdims=False, nan=False):
    return _quantile(a, 0.5, axis, "midpoint", keepdims, nan)


def _nanquantile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, True)


def _nanpercentile(a, q, axis=None, method="linear", keepdims=False):
    return _percentile(a, q, axis, method, keepdims, True)


def _nanmedian(a, axis=None, keepdims=False):
    return _median(a, axis, keepdims, True)


def _quantile_weights(a, q, axis=None, method="linear", nan=False):
    """d quantile / d a: for each q, its two weights put where the sorted elements came
    from (shape q's + a's); 0 over a slice whose value is nan."""
    a = np.asarray(a)
    flat, order, lo, hi, w_lo, w_hi, void, (moved, perm) = _quantile_at(a, q, axis, method, nan)
    rank = np.arange(flat.shape[-1])
    ranks = (rank == lo[..., None]) * w_lo[..., None] + (rank == hi[..., None]) * w_hi[..., None]
    ranks = (ranks * ~void[..., None, None]).astype(np.result_type(a, 1.0))  # (..., k, n)
    w = np.zeros(ranks.shape, ranks.dtype)
    np.put_along_axis(w, np.broadcast_to(order[..., None, :], w.shape), ranks, -1)
    w = np.moveaxis(w, -2, 0).reshape((-1,) + moved)
    w = np.transpose(w, (0,) + tuple(1 + p for p in np.argsort(perm)))
    return w.reshape(np.shape(q) + a.shape)


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
    qs = _qs(q, 100.0 if name.endswith("percentile") else 1.0)
    many = isinstance(q, tuple)
    axis = params["axis"] if x.elastic else _negative(params["axis"], x.ndim)
    w = x.call("quantile_weights", q=qs if many else qs[0], axis=axis,
               method=params.get("method", "midpoint"), nan=name.startswith("nan"))
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
    dot = dots[0]
    if out.g.op(out.node).name.startswith("nan"):  # 0 at a NaN, whatever it is, as JAX's
        dot = x.call("eq", x).call("where", dot, 0.0)
    dot = dot.call("expand_dims", axis=-(x.ndim + 1)) if many else dot
    return (dot * w).sum(_negative(params["axis"], x.ndim), keepdims=bool(params["keepdims"]))


_Q = {"q": None, "axis": None, "method": "linear", "keepdims": False}


def _q_spell(name: str) -> Callable[[dict], str]:
    """_quantile(x, q) with the keywords that differ from the defaults."""
    rest = _spell(f"_{name}", {k: v for k, v in _Q.items() if k != "q"})
    return lambda params: rest(params).replace("({0}", "({0}, {q}", 1)


_SORTED = (_grouped, _quantile_at, _quantile)
for _name, _fns, _scale in (("quantile", (_quantile,), 1.0),
                            ("percentile", (_percentile,), 100.0),
                            ("nanquantile", (_nanquantile,), 1.0),
                            ("nanpercentile", (_percentile, _nanpercentile), 100.0)):
    _register(Op(_name, 1, f"_{_name}({{0}}, {{q}})", _fns[-1], slot_prec=(0,), params=_Q,
                 positional=("q",), helpers=_SORTED + _fns, spell=_q_spell(_name),
                 scalar_result=lambda p: p.get("axis") is None and not p.get("keepdims")
                 and not isinstance(p.get("q"), tuple),
                 shape=_params_shape(_quantile_shape(_scale)), vjp=_quantile_vjp,
                 jvp=_quantile_jvp, dtype="follows", traits=_MADE,
                 rules=("{out}_bar * (1 - frac, frac at the two sorted neighbours)",)))
_MEDIAN = {"axis": None, "keepdims": False}
for _name, _middle in (("median", (_median,)), ("nanmedian", (_median, _nanmedian))):
    _register(Op(_name, 1, f"_{_name}({{0}})", _middle[-1], slot_prec=(0,), params=_MEDIAN,
                 helpers=_SORTED + _middle, spell=_spell(f"_{_name}", _MEDIAN),
                 scalar_result=lambda p: p.get("axis") is None and not p.get("keepdims"),
                 shape=_params_shape(lambda x, axis, keepdims: _reduced(x, axis, keepdims)),
                 vjp=_quantile_vjp, jvp=_quantile_jvp, dtype="follows", traits=_MADE,
                 rules=("{out}_bar * (1 or 1/2 each at the middle of the sorted {0})",)))
_register(Op("quantile_weights", 1, "_quantile_weights({0}, {q}, {axis})",
             _quantile_weights, slot_prec=(0,),
             spell=lambda p: "_quantile_weights({0}, {q}, {axis}, %r, %r)" % (
                 p["method"], p["nan"]),
             params={"q": None, "axis": None, "method": "linear", "nan": False},
             helpers=(_grouped, _quantile_at, _quantile_weights),
             shape=_params_shape(lambda x, q, axis, method, nan: (
                 (len(q),) if isinstance(q, tuple) else ()) + x),
             dtype="follows", traits=Trait.INTERNAL | _MADE | Trait.NO_DERIVATIVE))
