"""Sequence-model ops of torch.nn.functional: embedding (a gather of table rows with a
scatter-add adjoint) and dropout (a product with a mask the caller draws), one op-table
entry each.

embedding's adjoint adds each row's adjoints up with one ``np.bincount`` (about four times
``np.add.at``'s speed on a batch of ids); it and the gather (``take`` along the rows) are
each other's transpose, with leading axes (forward mode's directions) kept. dropout is an
elementwise formula, x * mask / (1 - p): no randomness inside a graph, so a graph is a
function and verify, the pictures and every backend take it as any other product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .shaping import _declared
from .table import MUL, UNARY, Op, _arithmetic_shape, _function, _register
from .tensor import _INNER, _MADE


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _embedding(ids, table):
    """table's rows at ids (ids.shape + (D,)); an id outside [0, V) is an IndexError,
    never NumPy's wrap-around of a negative one."""
    ids = np.asarray(ids)
    rows = np.shape(table)[-2]
    if np.size(ids) and (ids.min() < 0 or ids.max() >= rows):
        bad = ids[(ids < 0) | (ids >= rows)].flat[0]
        raise IndexError(f"embedding: id {bad} is out of range for a table of {rows} rows")
    return np.take(table, ids, axis=-2)


def _embedding_bar(g, ids, table):
    """The adjoint of _embedding(ids, table): each id's adjoint added into its row (one
    bincount); g's leading axes kept."""
    g = np.asarray(g)
    rows, width = np.shape(table)[-2:]
    lead = np.shape(g)[:np.ndim(g) - np.ndim(ids) - 1]
    copies = int(np.prod(lead, dtype=np.int64))
    at = (np.arange(copies).reshape(-1, 1, 1) * rows
          + np.reshape(ids, (1, -1, 1))) * width + np.arange(width)
    out = np.bincount(at.ravel(), weights=np.ravel(g), minlength=copies * rows * width)
    return np.reshape(out, lead + (rows, width)).astype(np.result_type(g, table), copy=False)


# ---- embedding(ids, table) -------------------------------------------------------------
def _embedding_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    ids, table = args
    if not g.integer(ids):
        raise ShapeError(f"embedding's ids {g.shown(ids)} must be integers (declare them "
                         "as ids: int[B, T])")
    if g.integer(table):
        raise ShapeError(f"embedding's table {g.shown(table)} must hold floats")
    rows = _declared(g, table, "embedding")
    if len(rows) != 2:
        raise ShapeError("embedding's table is a matrix [V, D], got "
                         f"{shapes.format_shape(rows)}")
    return _declared(g, ids, "embedding") + rows[1:]


@vjp
def _embedding_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    ids, table = out.args
    return None, grad.call("embedding_bar", ids, table)


@jvp
def _embedding_jvp(out: R, dots: Tangents) -> R | None:
    return dots[1] and dots[1].call("take", out.args[0], axis=-2)


_register(Op("embedding", 2, "_embedding({0}, {1})", _embedding, slot_prec=(0, 0),
             helpers=(_embedding,), shape=_embedding_shape, grad_slots=(1,),
             vjp=_embedding_vjp, jvp=_embedding_jvp, dtype="follows", traits=_MADE,
             rules=("", "{out}_bar added into the rows {0} took")))
_register(Op("embedding_bar", 3, "_embedding_bar({0}, {1}, {2})", _embedding_bar,
             slot_prec=(0, 0, 0), helpers=(_embedding_bar,), grad_slots=(0,),
             shape=lambda g, args, params: g.shape(args[0])[
                 :len(g.shape(args[0])) - len(g.shape(args[1])) - 1] + g.shape(args[2]),
             vjp=vjp(lambda out, grad: (grad.call("take", out.args[1], axis=-2), None, None)),
             jvp=jvp(lambda out, dots: dots[0].call("embedding_bar", *out.args[1:])),
             rules=("{out}_bar's rows taken at {1}",), dtype="follows",
             traits=_MADE | _INNER))


# ---- dropout(x, mask, p): x * mask / (1 - p) ----------------------------------------------
def _dropout_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """x's shape: the mask may broadcast (one per channel) but not widen x; p a number in
    [0, 1) when it is a constant."""
    found = _arithmetic_shape(g, args, params)
    if found != g.shape(args[0]) and not g.elastic(args[0]):
        raise ShapeError(f"dropout's mask {shapes.format_shape(g.shape(args[1]))} does not "
                         f"fit x {shapes.format_shape(g.shape(args[0]))}")
    p = g.attrs(args[2])
    if p["op"] == "const" and not 0 <= p["params"]["value"] < 1:
        raise ShapeError(f"dropout's p is {p['params']['value']}: a probability in [0, 1)")
    return found


_function("dropout", "{0} * {1} / (1 - {2})", lambda x, mask, p: x * mask / (1 - p),
          lambda x, mask, p: x * mask / (1 - p), arity=3, defaults=(0.5,),
          prec=MUL, slot_prec=(MUL, UNARY, MUL), shape=_dropout_shape)
