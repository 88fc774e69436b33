"""Scaled dot-product attention of the op table: ``attention(q, k, v, mask=None,
is_causal=False, scale=None)``, torch's scaled_dot_product_attention (and
jax.nn.dot_product_attention's) over the last two axes, the leading batch and head axes
broadcasting: softmax(q @ k.mT * scale, masked) @ v, scale 1/sqrt(d) by default.

A composite: reverse mode differentiates its expansion (matmul, where, softmax, matmul),
so the backward reads the forward's softmax. Forward mode runs the table's jvp of each of
those steps (the scores and the softmax are computed again there). The mask is boolean,
True = keep, as torch's boolean attn_mask; a row masked entirely is nan, as torch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .choices import boolean
from .expr import R, Tangents, jvp
from .shaping import _declared
from .table import Op, Trait, _register, floats_only
from .tensor import _MADE, _REDUCE, _softmax

_PARAMS = {"is_causal": False, "scale": None}


# ---- NumPy implementations, shipped inside emitted modules ------------------------
def _attention(q, k, v, mask=None, is_causal=False, scale=None):
    """softmax(q @ k.mT * scale, where mask) @ v; scale 1/sqrt(q's last axis)."""
    scores = q @ np.swapaxes(k, -1, -2) * (q.shape[-1] ** -0.5 if scale is None else scale)
    if is_causal:
        mask = np.tri(q.shape[-2], k.shape[-2], dtype=bool)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return _softmax(scores) @ v


# ---- shapes -------------------------------------------------------------------------
def _scores_shape(q: shapes.Shape, k: shapes.Shape, v: shapes.Shape) -> shapes.Shape:
    if min(len(q), len(k), len(v)) < 2:
        raise ShapeError("attention needs q, k and v of at least 2 axes, [..., T, d]; got "
                         f"{', '.join(map(shapes.format_shape, (q, k, v)))}")
    if q[-1] != k[-1] or k[-2] != v[-2]:
        raise ShapeError(f"attention needs q [..., T, d], k [..., S, d] and v [..., S, dv]; "
                         f"got {', '.join(map(shapes.format_shape, (q, k, v)))}")
    return shapes.broadcast(q[:-2], k[:-2], v[:-2]) + (q[-2], k[-2])


def _shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args[:3])
    q, k, v = (_declared(g, a, "attention") for a in args[:3])
    scores = _scores_shape(q, k, v)
    scale, causal = params["scale"], params["is_causal"]
    if scale is not None and (type(scale) not in (int, float) or not np.isfinite(scale)):
        raise ShapeError(f"attention's scale must be a number, got {scale!r}")
    if not isinstance(causal, bool):
        raise ShapeError(f"attention's is_causal must be True or False, got {causal!r}")
    if len(args) == 4:
        if causal:
            raise ShapeError("attention takes a mask or is_causal=True, not both (as torch)")
        if not boolean(g, args[3]):
            raise ShapeError("attention's mask must be booleans, True = keep (a comparison "
                             "such as m > 0), as torch's boolean attn_mask")
        mask = _declared(g, args[3], "attention's mask")
        try:
            fits = shapes.broadcast(mask, scores) == scores
        except ShapeError:
            fits = False
        if not fits:
            raise ShapeError(f"attention's mask {shapes.format_shape(mask)} must broadcast "
                             f"to the scores' shape {shapes.format_shape(scores)} ([..., T, S])")
    if causal and not all(isinstance(d, int) for d in scores[-2:]):
        raise ShapeError("attention with is_causal=True needs T and S as numbers")
    return scores[:-1] + v[-1:]


# ---- derivatives ----------------------------------------------------------------------
def _scale(g: Any, q: str, scale: float | None) -> float | R:
    """The given scale, or 1/sqrt(d): a number, or read off q at call time where q
    declares d by name (``q: [T, D]``)."""
    if scale is not None:
        return scale
    d = g.shape(q)[-1]
    if isinstance(d, int):
        return float(d) ** -0.5
    return R(g, g.add("dimension", params={"name": d})).call("sqrt").call("reciprocal")


def _steps(g: Any, args: tuple, params: dict) -> tuple[R, R, R, R | None]:
    """The expansion as handles: scores = q @ k.mT * scale, masked, their softmax (the
    weights), and the mask (None: none)."""
    q, k = R(g, args[0]), R(g, args[1])
    scores = q @ k.mT * _scale(g, args[0], params["scale"])
    mask = R(g, args[3]) if len(args) == 4 else None
    if params["is_causal"]:
        t, s = scores.shape[-2:]
        mask = R(g, g.add("tri", (), {"N": t, "M": s})).call("gt", 0.0)
    masked = scores if mask is None else mask.call("where", scores, -np.inf)
    return scores, masked, masked.call("softmax", axis=-1), mask


def _expand(g: Any, args: tuple, params: dict, name: str, temp: bool) -> str:
    """softmax(masked scores) @ v as nodes, the backward reading the ``weights``."""
    scores, _, weights, _ = _steps(g, args, params)
    g.show_as(scores.node, g.fresh("scores"))
    g.show_as(weights.node, g.fresh("weights"))
    return g.add("matmul", (weights.node, args[2]), name=name, temp=temp)


def _through(r: R, *dots: R | None) -> R | None:
    """The tangent of node r from its operands' (None: zero), by r's op's own jvp."""
    if all(d is None for d in dots):
        return None
    found = r.g.op(r.node).jvp(r.g, r.node, tuple(None if d is None else d.node for d in dots))
    return None if found is None else R(r.g, found)


@jvp
def _attention_jvp(out: R, dots: Tangents) -> R | None:
    scores, masked, weights, mask = _steps(out.g, out.g.args(out.node), out.params)
    d_q, d_k, d_v = dots[:3]
    product = scores.args[0]  # q @ k.mT, before the scale
    d_scores = _through(product, d_q, None if d_k is None else d_k.mT)
    if d_scores is not None:
        d_scores = d_scores * scores.args[1]
        if mask is not None:
            d_scores = _through(masked, None, d_scores, None)
        d_scores = _through(weights, d_scores)
    return _through(weights @ out.args[2], d_scores, d_v)


# the adjoints drawn on the edges: P the weights (the softmax), dP = out_bar @ v.mT
_RULES = ("(P * (dP - sum(dP * P))) @ {1} * scale", "(P * (dP - sum(dP * P))).mT @ {0} * scale",
          "P.mT @ {out}_bar")


def _spell(params: dict) -> str:
    extra = "".join(f", {k}={params[k]!r}" for k, v in _PARAMS.items() if params[k] != v)
    return "_attention({0}, {1}, {2}" + ", mask={3}" * ("mask" in params) + extra + ")"


_register(Op("attention", 3, "_attention({0}, {1}, {2})",
             _attention, slot_prec=(0, 0, 0),
             params=_PARAMS, spell=_spell, shape=_shape, expand=_expand, jvp=_attention_jvp,
             signature=("mask",),  # torch's attn_mask; its dropout_p comes next
             helpers=(*_REDUCE, _softmax, _attention), dtype="follows", traits=_MADE,
             rules=_RULES))
_register(Op("attention_mask", 4, "_attention({0}, {1}, {2}, mask={3})",
             _attention, slot_prec=(0,) * 4,
             params=_PARAMS, spell=lambda params: _spell({**params, "mask": True}),
             spelled="attention", keyword_operands=("mask",), shape=_shape, expand=_expand,
             jvp=_attention_jvp, helpers=(*_REDUCE, _softmax, _attention), dtype="follows",
             traits=_MADE | Trait.INTERNAL,
             rules=_RULES))
