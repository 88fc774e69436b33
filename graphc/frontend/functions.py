"""``gc.exp``, ``gc.tanh``, ...: the handle of every public function of the op table,
spelled out so that editors and type checkers see them (``tests/test_layers.py`` checks
this list is the table's), each with the signature the text format accepts."""

from __future__ import annotations

from typing import Protocol

from .handles import Expr, Operand, function

Axis = int | tuple[int, ...]
Shape = int | tuple[int | str, ...]


class Elementwise(Protocol):
    def __call__(self, x: Operand, /) -> Expr: ...


class Binary(Protocol):
    def __call__(self, a: Operand, b: Operand, /) -> Expr: ...


class WithSlope(Protocol):
    def __call__(self, x: Operand, alpha: Operand = ..., /) -> Expr: ...


class AlongAxis(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis = -1) -> Expr: ...


class LogSumExp(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis = -1, keepdims: bool = False) -> Expr: ...


class Reduction(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis | None = None,
                 keepdims: bool = False) -> Expr: ...


class Flip(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis | None = None) -> Expr: ...


class Reshape(Protocol):
    def __call__(self, x: Operand, shape: Shape, /) -> Expr: ...


class Axes(Protocol):
    def __call__(self, x: Operand, axis: Axis | None = None, /) -> Expr: ...


class ExpandDims(Protocol):
    def __call__(self, x: Operand, axis: Axis, /) -> Expr: ...


class Transpose(Protocol):
    def __call__(self, x: Operand, axes: tuple[int, ...] | None = None, /) -> Expr: ...


class SwapAxes(Protocol):
    def __call__(self, x: Operand, axis1: int, axis2: int, /) -> Expr: ...


class MoveAxis(Protocol):
    def __call__(self, x: Operand, source: Axis, destination: Axis, /) -> Expr: ...


class Listed(Protocol):
    def __call__(self, arrays: list[Operand] | tuple[Operand, ...], axis: int = 0, /) -> Expr: ...


class Filled(Protocol):
    def __call__(self, shape: Shape, /) -> Expr: ...


class Full(Protocol):
    def __call__(self, shape: Shape, fill_value: float, /) -> Expr: ...


class Eye(Protocol):
    def __call__(self, N: int | str, M: int | str | None = None, k: int = 0, /  # noqa: N803
                 ) -> Expr: ...


class Arange(Protocol):
    def __call__(self, start: float | str, stop: float | str | None = None,
                 step: float | None = None, /) -> Expr: ...


class Diagonal(Protocol):
    def __call__(self, x: Operand, k: int = 0, /) -> Expr: ...


class Roll(Protocol):
    def __call__(self, x: Operand, shift: Axis, axis: Axis | None = None, /) -> Expr: ...


class Tile(Protocol):
    def __call__(self, x: Operand, reps: Axis, /) -> Expr: ...


class Repeat(Protocol):
    def __call__(self, x: Operand, repeats: int, axis: int | None = None, /) -> Expr: ...


class Pad(Protocol):
    def __call__(self, x: Operand, pad_width: int | tuple[int, int] | tuple[tuple[int, int], ...],
                 /, *, constant_values: float = 0.0) -> Expr: ...


class Slice(Protocol):
    def __call__(self, x: Operand, /, *, start: int | None = None, stop: int | None = None,
                 axis: int = 0) -> Expr: ...


abs: Elementwise = function("abs")
arange: Arange = function("arange")
broadcast_to: Reshape = function("broadcast_to")
concatenate: Listed = function("concatenate")
cos: Elementwise = function("cos")
cross_entropy: Binary = function("cross_entropy")
diag: Diagonal = function("diag")
elu: WithSlope = function("elu")
exp: Elementwise = function("exp")
expand_dims: ExpandDims = function("expand_dims")
eye: Eye = function("eye")
flip: Flip = function("flip")
full: Full = function("full")
leaky_relu: WithSlope = function("leaky_relu")
log: Elementwise = function("log")
log_softmax: AlongAxis = function("log_softmax")
logsumexp: LogSumExp = function("logsumexp")
maximum: Binary = function("maximum")
mean: Reduction = function("mean")
minimum: Binary = function("minimum")
moveaxis: MoveAxis = function("moveaxis")
mse: Binary = function("mse")
ones: Filled = function("ones")
pad: Pad = function("pad")
relu: Elementwise = function("relu")
repeat: Repeat = function("repeat")
reshape: Reshape = function("reshape")
roll: Roll = function("roll")
sigmoid: Elementwise = function("sigmoid")
sin: Elementwise = function("sin")
slice: Slice = function("slice")
softmax: AlongAxis = function("softmax")
softplus: Elementwise = function("softplus")
sqrt: Elementwise = function("sqrt")
squeeze: Axes = function("squeeze")
stack: Listed = function("stack")
sum: Reduction = function("sum")
swapaxes: SwapAxes = function("swapaxes")
tan: Elementwise = function("tan")
tanh: Elementwise = function("tanh")
tile: Tile = function("tile")
trace: Diagonal = function("trace")
transpose: Transpose = function("transpose")
tril: Diagonal = function("tril")
triu: Diagonal = function("triu")
zeros: Filled = function("zeros")
