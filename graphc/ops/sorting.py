"""sort(x, axis=-1), NumPy's, and the permutation its rules move tangents and adjoints
by: the gradient follows the permutation, as JAX's (stable: a tie's derivative is its own
entry's; NaN sorts last and its derivative goes with it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, jvp, vjp
from .table import Op, Trait, _register
from .tensor import _MADE, _axes, _negative, _params_shape, _spell


def _sorted_like(t: np.ndarray, x: np.ndarray, axis: int = -1,
                 inverse: bool = False) -> np.ndarray:
    """t's entries moved along axis as sorting x moves x's (``inverse``: moved back);
    axes of t in front of x's (forward mode's directions) are kept. Stable, as JAX's
    sort: equal entries keep their order, so a tie's derivative is its own entry's."""
    order = np.argsort(x, axis=axis, kind="stable")
    if inverse:
        order = np.argsort(order, axis=axis)
    order = np.reshape(order, (1,) * (np.ndim(t) - np.ndim(x)) + np.shape(order))
    return np.take_along_axis(t, order, axis=axis)


def _sort_shape(x: shapes.Shape, axis: Any) -> shapes.Shape:
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise ShapeError(f"sort's axis is one integer, got {axis!r} (axis=None, which "
                         "flattens, is not supported: reshape to a vector first)")
    _axes(axis, len(x))
    return x


def _moved(t: R, out: R, back: bool) -> R:
    """t moved as sorting x, out's last operand, moves x's entries (``back``: moved back,
    the adjoint). The axis counted from the end, for forward mode's stacked tangents; as
    given where x's dims are known only at call time (where reverse mode alone runs)."""
    x, params = out.args[-1], out.params
    axis = params["axis"] if x.elastic else _negative(params["axis"], x.ndim)[0]
    return t.call("sorted_like", x, axis=axis, inverse=params.get("inverse", False) != back)


_register(Op("sort", 1, "np.sort({0})", np.sort, slot_prec=(0,), params={"axis": -1},
             signature=("axis",),
             spell=_spell("np.sort", {"axis": -1}), shape=_params_shape(_sort_shape),
             vjp=vjp(lambda out, grad: (_moved(grad, out, True),)),
             jvp=jvp(lambda out, dots: _moved(dots[0], out, False)),
             rules=("{out}_bar moved back where sorting took {0}",), dtype="follows",
             traits=_MADE))
def _sorted_like_rule(g: Any, node: str) -> str:
    """sorted_like's adjoint moves its entries the other way."""
    way = "as sorting {1} moves x's" if g.attrs(node)["params"]["inverse"] else \
        "back where sorting {1} took them"
    return "{out}_bar moved " + way


_register(Op("sorted_like", 2, "_sorted_like({0}, {1}, {axis}, {inverse})", _sorted_like,
             slot_prec=(0, 0), grad_slots=(0,), params={"axis": -1, "inverse": False},
             helpers=(_sorted_like,), dtype="follows",
             shape=lambda g, args, params: g.shape(args[0]),
             vjp=vjp(lambda out, grad: (_moved(grad, out, True), None)),
             jvp=jvp(lambda out, dots: dots[0] and _moved(dots[0], out, False)),
             traits=Trait.INTERNAL | _MADE,
             rules=(_sorted_like_rule,)))
