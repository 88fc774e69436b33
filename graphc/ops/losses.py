"""Losses of the op table beyond cross_entropy and mse: binary_cross_entropy and huber.

Each reduces by the mean over every element of its broadcast operands, as mse does
(and torch's ``reduction="mean"``); per element each is optax's formula. The NumPy
functions run in the interpreter and ship verbatim in emitted modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, vjp
from .table import Op, _register
from .tensor import _MADE, _count, _loss_jvp, _params_shape


# ---- NumPy implementations, shipped inside emitted modules ------------------------
def _binary_cross_entropy(logits, targets):
    """Mean of -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), from the logits x:
    max(x, 0) - x z + log1p(exp(-|x|)) never overflows, and is exact for z in {0, 1}."""
    return np.mean(np.maximum(logits, 0) - logits * targets
                   + np.log1p(np.exp(-np.abs(logits))))


def _huber(pred, target, delta=1.0):
    """Mean of optax's huber_loss: q = min(|r|, delta); q**2 / 2 + delta * (|r| - q)."""
    size = np.abs(pred - target)
    quad = np.minimum(size, delta)
    return np.mean(quad * quad * 0.5 + (size - quad) * delta)


# ---- shapes -------------------------------------------------------------------------
def _pair(a: shapes.Shape, b: shapes.Shape, **params: Any) -> shapes.Shape:
    """A true scalar; the operands broadcast together, and delta is a positive number."""
    shapes.broadcast(a, b)
    if "delta" in params:
        delta = params["delta"]
        # a float's repr is its .gc and Python spelling (np.float32(0.5)'s is not)
        if type(delta) not in (int, float) or not 0 < delta < float("inf"):
            raise ShapeError(f"huber's delta must be a positive finite number, got {delta!r}")
    return ()


# ---- derivatives ----------------------------------------------------------------------
def _mean_vjp(partials: Callable[[R, R, R], tuple[R, R]]) -> Callable[..., Any]:
    """The vjp of the mean of f(a, b) over their broadcast elements, from f's partials
    ``(out, a, b) -> (df/da, df/db)``, each of the broadcast shape: scaled by the
    adjoint over the count, and summed back to each operand's shape."""
    @vjp
    def rule(out: R, grad: R) -> tuple[R | None, ...]:
        a, b = out.args
        da, db = partials(out, a, b)
        shape = shapes.broadcast(a.shape, b.shape)
        scale = grad / _count(da, shape, out)

        def to(d: R, t: R) -> R:  # an operand broadcast now or at call time: summed back
            d = d * scale
            return d if t.shape == shape and not da.elastic else d.call("sum_to", t)
        return to(da, a), to(db, b)
    return rule


def _sigmoid(x: R) -> R:
    """exp(-softplus(-x)): 1 / (1 + exp(-x)) overflows (a warning) at x < -709."""
    return (-(-x).call("softplus")).exp()


def _bce_partials(out: R, x: R, z: R) -> tuple[R, R]:
    """sigmoid(x) - z, as JAX's (1 - z) sigmoid(x) - z sigmoid(-x), exact for a sure
    answer (1 - sigmoid(30) is not); and -x, stretched to the broadcast shape."""
    one = R(z.g, z.g.const(1.0))
    dx = (one - z) * _sigmoid(x) - z * _sigmoid(-x)
    stretched = x if x.shape == dx.shape and not z.elastic else x.call("broadcast_like", dx)
    return dx, -stretched


def _huber_partials(out: R, pred: R, target: R) -> tuple[R, R]:
    """clip(r, -delta, delta) and its negative, r = pred - target."""
    delta = float(out.params["delta"])
    clipped = (pred - target).call("maximum", -delta).call("minimum", delta)
    return clipped, -clipped


def _huber_expand(g: Any, args: tuple, params: dict, name: str, temp: bool) -> str:
    """optax's formula in elementwise ops, which reverse mode differentiates: at
    |r| == delta minimum's tie gives JAX's second derivative, 1/4."""
    delta = float(params["delta"])
    size = (R(g, args[0]) - R(g, args[1])).call("abs")
    quad = size.call("minimum", delta)
    each = quad * quad * 0.5 + (size - quad) * delta
    return g.add("mean", (each.node,), name=name, temp=temp)


def _huber_spell(params: dict) -> str:
    delta = params["delta"]
    return "_huber({0}, {1}" + ("" if delta == 1.0 else f", delta={delta!r}") + ")"


# ---- the entries -----------------------------------------------------------------------
_register(Op("binary_cross_entropy", 2, "_binary_cross_entropy({0}, {1})",
             _binary_cross_entropy, dtype="follows", slot_prec=(0, 0), shape=_params_shape(_pair),
             scalar_result=lambda params: True, vjp=_mean_vjp(_bce_partials), jvp=_loss_jvp,
             helpers=(_binary_cross_entropy,), traits=_MADE,
             rules=("{out}_bar * (sigmoid({0}) - {1}) / size", "-{out}_bar * {0} / size")))
_register(Op("huber", 2, "_huber({0}, {1})", _huber, dtype="follows", slot_prec=(0, 0),
             params={"delta": 1.0}, spell=_huber_spell, shape=_params_shape(_pair),
             scalar_result=lambda params: True, vjp=_mean_vjp(_huber_partials),
             jvp=_loss_jvp, expand=_huber_expand, helpers=(_huber,), traits=_MADE,
             rules=("{out}_bar * clip({0} - {1}, -delta, delta) / size",
                    "-{out}_bar * clip({0} - {1}, -delta, delta) / size")))
