"""Losses of the op table: cross_entropy, mse, binary_cross_entropy and huber.

cross_entropy is the mean over the batch (the logits' first axis); each other reduces by
the mean over every element of its broadcast operands, as torch's ``reduction="mean"``,
per element optax's formula. The NumPy functions run in the interpreter and ship
verbatim in emitted modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import Op, _register
from .tensor import _MADE, _REDUCE, _count, _log_softmax, _params_shape, _summed_to


def _cross_entropy(logits, labels):
    """Mean over the batch (first axis) of -sum(labels * log_softmax(logits)); integer
    labels are class indices (the one-hot rows' ones)."""
    batch = logits.shape[0] if np.ndim(logits) > 1 else 1
    if np.asarray(labels).dtype.kind in "iu":
        picked = np.take_along_axis(_log_softmax(logits), np.expand_dims(labels, -1), -1)
        return -np.sum(picked) / batch
    return -np.sum(labels * _log_softmax(logits)) / batch


def _mse(pred, target):
    """Half the mean squared error."""
    return np.mean((pred - target) ** 2) / 2


def _batch(logits: R) -> R | float:
    """The batch a loss averages over: the first axis of a matrix of logits."""
    shape = logits.shape
    if len(shape) < 2:
        return 1.0
    if isinstance(shape[0], int):
        return float(shape[0])
    return logits.call("batch_size")


# ---- cross_entropy and mse: the mean over the batch, over every element -------------
def _ce_shape(logits: shapes.Shape, labels: shapes.Shape) -> shapes.Shape:
    if not logits:
        raise ShapeError("cross_entropy needs logits with a class axis, e.g. [N, C]")
    try:  # as the elementwise ops its expand and gradient are made of see them
        stretched = shapes.broadcast(logits, labels)
    except ShapeError:
        stretched = None
    if len(labels) != len(logits) or stretched != logits:
        raise ShapeError(f"labels {shapes.format_shape(labels)} must be one-hot with the "
                         f"shape of the logits {shapes.format_shape(logits)}")
    return ()


def _ce_shapes(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """Labels one-hot, or integer class indices (labels: int[N]) of the logits' shape
    without the class axis."""
    logits, labels = g.shape(args[0]), g.shape(args[1])
    if not g.integer(args[1]):
        return _ce_shape(logits, labels)
    if not logits or labels != logits[:-1] or g.elastic(args[0]):
        raise ShapeError(f"integer labels {shapes.format_shape(labels)} must have the shape "
                         f"of the logits {shapes.format_shape(logits)} without the class axis")
    return ()


_PICK = ((), None)  # the index key [..., None]: integer labels as the class axis's indices


def _mse_shape(pred: shapes.Shape, target: shapes.Shape) -> shapes.Shape:
    shapes.broadcast(pred, target)
    return ()


@vjp
def _cross_entropy_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    logits, labels = out.args
    scale = grad / _batch(logits)
    probs = logits.call("softmax", axis=-1)
    if out.g.integer(labels.node):  # (softmax - one_hot(labels)) / N
        index = labels.call("index", key=_PICK)
        one_hot = logits.call("take_along_axis", index).call("ones_like").call(
            "untake", logits, index)
        return (probs - one_hot) * scale, None
    # (softmax - labels) / N for one-hot rows; the softmax weighted by each row's label
    # sum is exact for any labels; labels that broadcast ([N, 1]) are stretched first.
    same = labels.shape == logits.shape and labels.elastic == logits.elastic
    full = labels if same else labels.call("broadcast_like", logits)
    d_logits = (probs * full.sum(-1, keepdims=True) - labels) * scale
    d_labels = -(logits.call("log_softmax", axis=-1) * scale)
    if not same:  # each label's gradient sums over the logits it was stretched over
        d_labels = d_labels.call("sum_to", labels) if labels.elastic or logits.elastic \
            else _summed_to(d_labels, logits.shape, labels.shape)
    return d_logits, d_labels


def _cross_entropy_expand(g: Any, args: tuple, params: dict, name: str, temp: bool) -> str:
    """-sum(labels * log_softmax(logits)) / N: the gradient then takes the softmax as
    exp of the forward's log-probabilities instead of computing it again."""
    logits, labels = R(g, args[0]), R(g, args[1])
    log_probs = R(g, g.add("log_softmax", args[:1], {"axis": -1}, name=g.fresh("log_probs")))
    if g.integer(args[1]):  # -sum(log_probs[i, labels[i]]) / N
        total = -log_probs.call("take_along_axis", labels.call("index", key=_PICK)).sum()
    else:
        total = -(labels * log_probs).sum()
    return g.add("div", (total.node, total.of(_batch(logits))), name=name, temp=temp)


@vjp
def _mse_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    pred, target = out.args
    diff = pred - target
    shape = shapes.broadcast(pred.shape, target.shape)
    d = diff * (grad / _count(diff, shape, out))

    def to(x: R, t: R) -> R:  # an operand broadcast now or at call time: summed back
        return x if t.shape == shape and not diff.elastic else x.call("sum_to", t)
    return to(d, pred), to(-d, target)


@jvp
def _loss_jvp(out: R, dots: Tangents) -> R | None:
    """d loss = sum over every axis but the direction axis of (vjp with seed 1) * dot."""
    g = out.g
    slots = g.op(out.node).vjp(g, out.node, g.const(1.0))
    terms = [(dot * R(g, bar)).sum(axis=tuple(range(-a.ndim, 0)))
             for a, dot, bar in zip(out.args, dots, slots) if dot is not None and bar is not None]
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


_register(Op("cross_entropy", 2, "_cross_entropy({0}, {1})", _cross_entropy,
             dtype="follows", scalar_result=lambda params: True, slot_prec=(0, 0),
             shape=_ce_shapes, vjp=_cross_entropy_vjp, expand=_cross_entropy_expand,
             jvp=_loss_jvp, helpers=(*_REDUCE, _log_softmax, _cross_entropy), traits=_MADE,
             rules=(lambda g, node: "{out}_bar * (softmax({0}) - one_hot({1})) / N"
                    if g.integer(g.args(node)[1]) else
                    "{out}_bar * (softmax({0}) * sum({1}) - {1}) / N",
                    "-{out}_bar * log_softmax({0}) / N")))
_register(Op("mse", 2, "_mse({0}, {1})", _mse, dtype="follows", slot_prec=(0, 0),
             shape=_params_shape(_mse_shape), scalar_result=lambda params: True,
             vjp=_mse_vjp, jvp=_loss_jvp, helpers=(_mse,), traits=_MADE,
             rules=("{out}_bar * ({0} - {1}) / size", "-{out}_bar * ({0} - {1}) / size")))


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
