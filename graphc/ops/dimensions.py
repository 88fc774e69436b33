"""Numbers made floats of the inputs' float dtype. A declared dimension's name used as a
value (``x: [T, D]``, then ``sum(x) / sqrt(D)``): x's size along that axis, a float scalar,
no derivative; its operands, which its text does not write, are the input it reads the
size off and, where that one holds integers, the first float input, whose dtype it takes
(``Op.reads``). And ``as_float``: integers met by float arithmetic (``ir/promote.py``).
"""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from . import shapes
from .constants import _float_like, _float_of, _inputs_read
from .table import Op, Trait, _register


def _reads(g: Any, params: dict) -> tuple[str, ...]:
    """The first input declaring the dimension; then the first float input where that
    one is an integer input (labels: int[N]), so that float32 graphs stay float32."""
    holder = _inputs_read(g, params)
    if not g.integer(holder[0]):
        return holder
    return holder + tuple(i for i in g.inputs if not g.integer(i))[:1]


def _shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    """A scalar; ``axis``: where the size is, counted from the end of the first operand
    (forward mode's leading axes never move it)."""
    shape = g.shape(args[0]) if args else ()
    if params["name"] not in shape:
        raise ShapeError(f"dimension {params['name']} is not one of its operand's")
    params["axis"] = shape.index(params["name"]) - len(shape)
    params["dtype_of"] = len(args) - 1
    return ()


def _size(*xs: Any, name: str, axis: int, dtype_of: int) -> Any:
    return _float_of(xs[dtype_of]).type(xs[0].shape[axis])


_register(Op("dimension", 0, "", _size, params={"name": None}, shape=_shape, reads=_reads,
             spell=lambda params: "_float_of({%d}).type({0}.shape[%d])"
             % (params["dtype_of"], params["axis"]),
             written_as=lambda operands, params: params["name"], helpers=(_float_of,),
             scalar_result=lambda params: True,
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE | Trait.FRESH))


# An integer value (argmax, arange(N)) in float arithmetic, in its float operand's dtype:
# its text is the value's own (the parser casts it again).
_register(Op("as_float", 2, "_float_like({1}, {0})", lambda a, like: _float_like(like, a),
             slot_prec=(0, 0), helpers=(_float_of, _float_like),
             shape=lambda g, args, params: g.shape(args[0]),
             written_as=lambda operands, params: operands[0],
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE | Trait.FRESH))
