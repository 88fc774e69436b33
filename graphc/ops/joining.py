"""Joining arrays: concatenate and stack, NumPy's, which take a list of operands (one
node whose operands are the list: ``Op.varargs="list"``). Each is linear: an operand's
adjoint is its part of the result's, its tangent joined as the operands are (forward
mode's tangents carry a leading axis of directions; an operand without a tangent
contributes zeros, ``_zeros_lead``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .shaping import _declared
from .table import Op, Trait, _register
from .tensor import _axes, _params_shape


def _concat_part(g, *xs, index, axis):
    """Operand ``index``'s part of g, an adjoint of np.concatenate(xs, axis); the axis
    is counted from the end, so leading axes of g (forward mode's) are kept."""
    sizes = [np.shape(x)[axis] for x in xs]
    start = sum(sizes[:index])
    part = [slice(None)] * np.ndim(g)
    part[axis] = slice(start, start + sizes[index])
    return g[tuple(part)]


def _zeros_lead(t, like, ndim):
    """Zeros of like's shape, behind t's axes in front of its last ndim: the zero
    tangent of one operand of a list beside another's tangent t."""
    lead = np.shape(t)[:np.ndim(t) - ndim]
    return np.zeros(lead + np.shape(like), dtype=np.result_type(t, like))


def _listed(g: Any, args: tuple[str, ...], what: str) -> list[shapes.Shape]:
    xs = [_declared(g, a, what) for a in args]
    if len({len(x) for x in xs}) > 1:
        raise ShapeError(f"{what} needs operands of one rank, got "
                         + ", ".join(map(shapes.format_shape, xs)))
    return xs


def _concatenated(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    xs = _listed(g, args, "concatenate")
    if params["axis"] is None:
        raise ShapeError("axis=None (flattened) is not supported: reshape(x, -1) each first")
    if not xs[0]:
        raise ShapeError("scalars cannot be concatenated: stack them")
    (a,) = _axes(params["axis"], len(xs[0]))
    return _joined(xs, a)


def _joined(xs: list[shapes.Shape], a: int) -> shapes.Shape:
    """The shape of xs (of one rank) joined along axis a: the others agree, a's sizes add."""
    for x in xs[1:]:
        if x[:a] + x[a + 1:] != xs[0][:a] + xs[0][a + 1:]:
            raise ShapeError(f"shapes {shapes.format_shape(xs[0])} and "
                             f"{shapes.format_shape(x)} differ off axis {a}")
    sizes = [x[a] for x in xs]
    known = sum(d for d in sizes if isinstance(d, int))
    named = Counter(d for d in sizes if isinstance(d, str))
    total: shapes.Dim = known
    if len(named) == 1 and known == 0:  # N and N: 2*N, as a declaration writes it
        ((name, count),) = named.items()
        total = name if count == 1 else f"{count}*{name}"
    elif named:  # N and 3: N+3
        total = "+".join([*named.elements(), *[str(known)] * bool(known)])
    return xs[0][:a] + (total,) + xs[0][a + 1:]


def _listed_tangents(out: R, dots: Tangents) -> list[R]:
    """Each operand's tangent, zeros where it has none."""
    some = next(d for d in dots if d is not None)
    rank = out.args[[d is not None for d in dots].index(True)].ndim
    return [d if d is not None else some.call("zeros_lead", x, ndim=rank)
            for x, d in zip(out.args, dots)]


def _joined_axis(out: R) -> int:
    """The axis a list was joined along, counted from the end (forward mode's directions)."""
    return _axes(out.params["axis"], out.ndim)[0] - out.ndim


@vjp
def _concatenate_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    axis = _joined_axis(out)
    return tuple(grad.call("concat_part", *out.args, index=k, axis=axis)
                 for k in range(len(out.args)))


@jvp
def _concatenate_jvp(out: R, dots: Tangents) -> R | None:
    axis = _joined_axis(out)
    first, *rest = _listed_tangents(out, dots)
    return first.call("concatenate", *rest, axis=axis)


@vjp
def _concat_part_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """Taking a part is linear; its transpose puts the part back among zeros."""
    k, xs = out.params["index"], out.args[1:]
    first, *rest = [grad if j == k else x.call("zeros_like") for j, x in enumerate(xs)]
    return (first.call("concatenate", *rest, axis=out.params["axis"]),) + (None,) * len(xs)


_register(Op("concatenate", 1, "np.concatenate([{*}])",
             lambda *xs, axis: np.concatenate(xs, axis=axis), varargs="list",
             params={"axis": 0}, positional=("axis",), spell=lambda p: "np.concatenate([{*}]"
             + (")" if p["axis"] == 0 else ", axis={axis})"), shape=_concatenated,
             dtype="follows", vjp=_concatenate_vjp, jvp=_concatenate_jvp,
             rules=("{out}_bar's part {k}",), traits=Trait.FRESH))
_register(Op("concat_part", 2, "_concat_part({*}, index={index}, axis={axis})", _concat_part,
             varargs="list", params={"index": None, "axis": None}, grad_slots=(0,),
             helpers=(_concat_part,), dtype="follows", traits=Trait.INTERNAL,
             shape=lambda g, args, params: (lambda t, x: t[:len(t) - len(x)] + x)(
                 g.shape(args[0]), g.shape(args[1 + params["index"]])),
             vjp=_concat_part_vjp,
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call(
                 "concat_part", *out.args[1:], **out.params)),
             rules=("{out}_bar as part index of a concatenation, zeros elsewhere",)))
_register(Op("zeros_lead", 2, "_zeros_lead({0}, {1}, {ndim})", _zeros_lead, slot_prec=(0, 0),
             params={"ndim": None}, helpers=(_zeros_lead,), dtype="follows",
             shape=_params_shape(lambda t, like, ndim: t[:len(t) - ndim] + like),
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE | Trait.FRESH))


def _stacked(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    xs = _listed(g, args, "stack")
    if any(x != xs[0] for x in xs):
        raise ShapeError("stack needs operands of one shape, got "
                         + ", ".join(map(shapes.format_shape, xs)))
    (a,) = _axes(params["axis"], len(xs[0]) + 1)
    return xs[0][:a] + (len(xs),) + xs[0][a:]


@vjp
def _stack_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    axis = _joined_axis(out)
    return tuple(grad.call("slice", start=k, stop=k + 1, axis=axis).call("squeeze", axis=axis)
                 for k in range(len(out.args)))


@jvp
def _stack_jvp(out: R, dots: Tangents) -> R | None:
    axis = _joined_axis(out)
    first, *rest = _listed_tangents(out, dots)
    return first.call("stack", *rest, axis=axis)


_register(Op("stack", 1, "np.stack([{*}])", lambda *xs, axis: np.stack(xs, axis=axis),
             varargs="list", params={"axis": 0}, positional=("axis",),
             spell=lambda p: "np.stack([{*}]" + (")" if p["axis"] == 0 else ", axis={axis})"),
             shape=_stacked, dtype="follows", vjp=_stack_vjp, jvp=_stack_jvp,
             rules=("{out}_bar[{k}] along axis",), traits=Trait.FRESH))
