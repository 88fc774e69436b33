"""Forward mode's direction-stacked tangents: a tangent carries a leading axis of
directions (``basis``: every unit direction of an input at once), which these internal
ops make, pad, sum and lay out as Jacobians; they are linear, with no derivative rule
of their own.
"""

from __future__ import annotations

import numpy as np

from . import shapes
from .table import Op, Trait, _register
from .tensor import _params_shape

TANGENT_LIMIT = 50_000_000
"""Most tangent elements direction-stacked forward mode may hold in one node."""


def _basis(x):
    """Every unit direction of x at once: shape (x.size, *x.shape). A size known only
    now is checked here: n directions of n numbers may not fit in memory."""
    n = np.size(x)
    if n * n > 50_000_000:  # TANGENT_LIMIT (this helper ships alone, so spelled out)
        raise ValueError(f"forward mode: an input of {n} elements carries {n} directions "
                         f"({n * n:,} numbers at least); use mode='reverse'")
    # by dtype alone: NumPy 1.x promotes a float64 scalar with float32 by its value
    dtype = np.result_type(np.asarray(x).dtype, np.float32)
    return np.eye(n, dtype=dtype).reshape((n,) + np.shape(x))


def _from_directions(t, x):
    """Sum each direction's output tangent: the gradient, shaped like x."""
    t = np.asarray(t)
    n = t.shape[0]  # reshape(0, -1) is ambiguous: an empty x has no directions
    return np.sum(t.reshape(n, t.size // n if n else 0), axis=1).reshape(np.shape(x))


def _lift(t, ndim):
    """A direction-stacked tangent padded with 1-axes so it broadcasts like ndim dims."""
    return t.reshape(t.shape[:1] + (1,) * (ndim - t.ndim + 1) + t.shape[1:])


def _lift_like(t, like):
    """_lift to the dims of `like`, a value whose shape is known only now (an undeclared
    input broadcast it)."""
    extra = np.ndim(like) - np.ndim(t) + 1
    return t.reshape(t.shape[:1] + (1,) * extra + t.shape[1:]) if extra > 0 else t


def _spread(t, like):
    """A direction-stacked tangent broadcast to the full shape of `like`."""
    return np.broadcast_to(t, np.shape(t)[:1] + np.shape(like))


def _lifted(shape: shapes.Shape, ndim: int) -> shapes.Shape:
    return shape[:1] + (1,) * (ndim - len(shape) + 1) + shape[1:]


_INNER = Trait.INTERNAL
_STACKED = _INNER | Trait.STACKING
_register(Op("basis", 1, "_basis({0})", _basis, slot_prec=(0,), helpers=(_basis,),
             shape=_params_shape(lambda x: ("(directions)",) + x),  # a symbolic size
             traits=_INNER | Trait.NO_DERIVATIVE))
_register(Op("from_directions", 2, "_from_directions({0}, {1})", _from_directions,
             slot_prec=(0, 0), helpers=(_from_directions,), traits=_STACKED,
             shape=_params_shape(lambda t, x: x)))
_register(Op("spread", 2, "_spread({0}, {1})", _spread, slot_prec=(0, 0), helpers=(_spread,),
             shape=_params_shape(lambda t, like: t[:1] + like), traits=_STACKED))
_register(Op("lift", 1, "_lift({0}, {ndim})", _lift, slot_prec=(0,), params={"ndim": None},
             helpers=(_lift,), traits=_STACKED, shape=_params_shape(_lifted)))
_register(Op("lift_like", 2, "_lift_like({0}, {1})", _lift_like, slot_prec=(0, 0),
             helpers=(_lift_like,), traits=_STACKED, shape=_params_shape(
                 lambda t, like: _lifted(t, max(len(like), len(t) - 1)))))


def _directions_last(t, x):
    """A stacked tangent, one direction per element of x, as a Jacobian: the output's
    axes first, then x's (JAX's layout)."""
    t = np.asarray(t)
    return np.moveaxis(t, 0, -1).reshape(t.shape[1:] + np.shape(x))


def _directions_first(t, out):
    """A stacked tangent, one direction per element of out (rows of a Jacobian pulled
    back), as a Jacobian: out's axes first."""
    t = np.asarray(t)
    return t.reshape(np.shape(out) + t.shape[1:])


def _zeros_jacobian(out, x):
    """The Jacobian of an output that does not depend on x."""
    return np.zeros(np.shape(out) + np.shape(x), np.result_type(np.asarray(out).dtype,
                                                                np.asarray(x).dtype, np.float32))


_register(Op("directions_last", 2, "_directions_last({0}, {1})", _directions_last,
             slot_prec=(0, 0), helpers=(_directions_last,), traits=_STACKED, dtype="first",
             shape=_params_shape(lambda t, x: t[1:] + x)))
_register(Op("directions_first", 2, "_directions_first({0}, {1})", _directions_first,
             slot_prec=(0, 0), helpers=(_directions_first,), traits=_STACKED, dtype="first",
             shape=_params_shape(lambda t, out: out + t[1:])))
_register(Op("zeros_jacobian", 2, "_zeros_jacobian({0}, {1})", _zeros_jacobian,
             slot_prec=(0, 0), helpers=(_zeros_jacobian,), traits=_INNER | Trait.NO_DERIVATIVE,
             dtype="follows",
             shape=_params_shape(lambda out, x: out + x)))


def _symmetrized(h_ab, h_ba, a):
    """A Hessian block H[a][b] averaged with the transpose of H[b][a] (a's axes first):
    (x + y) / 2 is (y + x) / 2, so H[b][a] made alike is its exact transpose."""
    k = np.ndim(a)
    n = np.ndim(h_ba) - k  # b's axes, first in h_ba
    return (h_ab + np.moveaxis(h_ba, tuple(range(n)), tuple(range(k, k + n)))) / 2


_register(Op("symmetrized", 3, "_symmetrized({0}, {1}, {2})", _symmetrized,
             slot_prec=(0, 0, 0), helpers=(_symmetrized,), traits=_STACKED, dtype="first",
             shape=_params_shape(lambda h_ab, h_ba, a: h_ab)))
