"""Pieces of an array: NumPy's ``ravel``, and ``split``, ``array_split`` and ``unstack``,
which give several arrays.

A function giving several arrays is one node per array: the op's node with the
``piece`` it is (``Op.picked``), written ``split(x, 2)[1]`` in .gc text and in NumPy,
and ``a, b = split(x, 2)`` by whoever wants them all. A piece's adjoint is its place in
the operand among zeros (``_unpiece``); reverse mode adds the pieces' adjoints up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .arrays import _repeated
from .expr import R, jvp, vjp
from .indexing import _sliced
from .shaping import _declared
from .table import ATOM, Op, Trait, _register
from .tensor import _axes


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _split(x, indices_or_sections, axis=0, piece=0):
    return np.split(x, indices_or_sections, axis)[piece]


def _array_split(x, indices_or_sections, axis=0, piece=0):
    return np.array_split(x, indices_or_sections, axis)[piece]


def _unstack(x, axis=0, piece=0):
    return np.take(x, piece, axis)


def _unpiece(g, like, kind, indices_or_sections, axis, piece):
    """The adjoint of a piece of like (``kind``: split, array_split or unstack; axis
    counted from the end): g among zeros where the piece came from. Axes of g in front
    of like's (forward mode's directions) are kept."""
    if kind == "unstack":
        g, start, stop = np.expand_dims(g, axis), piece, piece + 1
    else:  # NumPy's own bounds: the piece of the positions along the axis
        at = np.array_split(np.arange(np.shape(like)[axis]), indices_or_sections)[piece]
        start, stop = (at[0], at[-1] + 1) if at.size else (0, 0)
    lead = np.shape(g)[:np.ndim(g) - np.ndim(like)]
    out = np.zeros(lead + np.shape(like), np.result_type(g, like))
    index = [slice(None)] * out.ndim
    index[axis] = slice(start, stop)
    out[tuple(index)] = g
    return out


# ---- shapes ---------------------------------------------------------------------------
def _sections(kind: str, x: shapes.Shape, params: dict) -> list[shapes.Shape]:
    """Every piece's shape (a ShapeError where NumPy's call would fail)."""
    (a,) = _axes(params["axis"], len(x))
    d = x[a]
    if kind == "unstack":
        if not isinstance(d, int):
            raise ShapeError(f"unstack along axis {a} of size {d}: the number of arrays "
                             "must be known: declare the axis with a number")
        return [x[:a] + x[a + 1:]] * d
    cut = params["indices_or_sections"]
    if isinstance(cut, tuple) and all(type(i) is int for i in cut):
        bounds = [None, *cut, None]
        return [x[:a] + (_sliced(d, start, stop, None),) + x[a + 1:]
                for start, stop in zip(bounds, bounds[1:])]
    if type(cut) is not int or cut <= 0:
        raise ShapeError(f"indices_or_sections is a number of sections (> 0) or a tuple of "
                         f"indices, got {cut!r}")
    if isinstance(d, int):
        if kind == "split" and d % cut:
            raise ShapeError(f"split of an axis of {d} into {cut} sections: they are not "
                             "equal (array_split allows that)")
        sizes = [len(p) for p in np.array_split(np.arange(d), cut)]
        return [x[:a] + (n,) + x[a + 1:] for n in sizes]
    if kind == "array_split" and cut > 1:
        raise ShapeError(f"array_split of an axis of size {d}: the sizes must be known: "
                         "declare the axis with a number")
    size = d if cut == 1 else d.removeprefix(f"{cut}*") if d.startswith(f"{cut}*") else \
        f"{d}/{cut}"  # 2*N in 2: N
    return [x[:a] + (size,) + x[a + 1:]] * cut


FIXED: dict[str, int] = {}
"""Ops of other modules that always give so many arrays (slogdet: sign, logabsdet)."""


def count(g: Any, op: Op, x: str, params: dict) -> int:
    """How many arrays ``op`` (split, array_split, unstack, or one of ``FIXED``) of node x
    with these params gives."""
    if op.name in FIXED:
        return FIXED[op.name]
    return len(_sections(op.name, _declared(g, x, op.name), {**op.params, **params}))


def _piece_shape(kind: str) -> Any:
    def shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        pieces = _sections(kind, _declared(g, args[0], kind), params)
        piece = params["piece"]
        if type(piece) is not int or not -len(pieces) <= piece < len(pieces):
            raise ShapeError(f"{kind} gives {len(pieces)} arrays: there is no [{piece}]")
        params["piece"] = piece % len(pieces)  # [-1]: the last
        return pieces[piece]
    return shape


# ---- spelling: np.split(x, 2)[1]; unstack is x[:, 1] --------------------------------
def _split_code(name: str) -> Any:
    def spell(p: dict) -> str:
        axis = f", axis={p['axis']}" if p["axis"] != 0 else ""
        return f"np.{name}({{0}}, {p['indices_or_sections']!r}{axis})[{p['piece']}]"
    return spell


def _unstack_code(p: dict) -> str:
    axis, k = p["axis"], p["piece"]
    if axis >= 0:
        return "{0}[" + ":, " * axis + f"{k}]"
    return "{0}[..., " + str(k) + ", :" * (-axis - 1) + "]"


# ---- rules ------------------------------------------------------------------------------
def _from_end(out: R) -> dict:
    """The params with the axis counted from the end of the operand (forward mode)."""
    params = dict(out.params)
    params["axis"] = _axes(params["axis"], out.args[0].ndim)[0] - out.args[0].ndim
    return params


def _register_pieces(name: str, fn: Any, params: dict, positional: tuple[str, ...],
                     spell: Any) -> None:
    _register(Op(name, 1, f"np.{name}({{0}})", fn, ATOM, (ATOM,), params=params,
                 positional=positional, picked="piece", spell=spell, shape=_piece_shape(name),
                 vjp=vjp(lambda out, grad: (grad.call("unpiece", out.args[0], kind=name,
                                                      **_from_end(out)),)),
                 jvp=jvp(lambda out, dots: dots[0].call(name, **_from_end(out))),
                 rules=("{out}_bar in its place in {0}",), dtype="first"))


_SPLIT = {"indices_or_sections": None, "axis": 0, "piece": 0}
_register_pieces("split", _split, _SPLIT, ("indices_or_sections", "axis"), _split_code("split"))
_register_pieces("array_split", _array_split, _SPLIT, ("indices_or_sections", "axis"),
                 _split_code("array_split"))
_register_pieces("unstack", _unstack, {"axis": 0, "piece": 0}, (), _unstack_code)


@vjp
def _unpiece_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    params = dict(out.params)
    kind = params.pop("kind")
    if kind == "unstack":
        del params["indices_or_sections"]
    return grad.call(kind, **params), None


_register(Op("unpiece", 2, "_unpiece({0}, {1}, {kind!r}, {indices_or_sections!r}, {axis}, "
             "{piece})", _unpiece, slot_prec=(0, 0), grad_slots=(0,), helpers=(_unpiece,),
             params={"kind": "split", **_SPLIT, "indices_or_sections": ()}, dtype="follows",
             vjp=_unpiece_vjp,
             shape=lambda g, args, params: g.shape(args[0])[:len(g.shape(args[0])) - len(
                 g.shape(args[1])) + (params["kind"] == "unstack")] + g.shape(args[1]),
             jvp=jvp(lambda out, dots: dots[0] and dots[0].call("unpiece", out.args[1],
                                                                **out.params)),
             rules=("{out}_bar[piece]",), traits=Trait.INTERNAL | Trait.FRESH))


# ---- ravel: reshape to (-1,), an undeclared operand's too -------------------------------
def _ravel_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    return _repeated(g.shape(args[0]), 1, None)  # an undeclared x: its size at call time


_register(Op("ravel", 1, "np.ravel({0})", np.ravel, slot_prec=(0,), shape=_ravel_shape,
             vjp=vjp(lambda out, grad: (grad.call("reshape_like", out, out.args[0]),)),
             jvp=jvp(lambda out, dots: dots[0].call("reshape_like", out.args[0], out)),
             rules=("reshape({out}_bar, shape of {0})",), dtype="first"))
