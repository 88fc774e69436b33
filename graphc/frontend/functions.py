"""``gc.exp``, ``gc.tanh``, ...: the handle of every public function of the op table,
spelled out so that editors and type checkers see them (``tests/test_layers.py`` checks
this list is the table's), each with the signature the text format accepts."""

from __future__ import annotations

from typing import Protocol

from .handles import Expr, Operand, function

Axis = int | tuple[int, ...]


class Elementwise(Protocol):
    def __call__(self, x: Operand, /) -> Expr: ...


class Binary(Protocol):
    def __call__(self, a: Operand, b: Operand, /) -> Expr: ...


class WithSlope(Protocol):
    def __call__(self, x: Operand, alpha: Operand = ..., /) -> Expr: ...


class AlongAxis(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis = -1) -> Expr: ...


class LogSumExp(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis = -1, keepdims: bool = False,
                 b: Operand | None = None) -> Expr: ...


class Reduction(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis | None = None,
                 keepdims: bool = False) -> Expr: ...


class ArgReduction(Protocol):
    def __call__(self, x: Operand, /, *, axis: int | None = None,
                 keepdims: bool = False) -> Expr: ...


class Moments(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis | None = None, ddof: int = 0,
                 keepdims: bool = False) -> Expr: ...


class Cumulative(Protocol):
    def __call__(self, x: Operand, /, *, axis: int | None = None) -> Expr: ...


class Norm(Protocol):
    def __call__(self, x: Operand, /, *, ord: float | str | None = None,  # noqa: A002
                 axis: Axis | None = None, keepdims: bool = False) -> Expr: ...
class Ternary(Protocol):
    def __call__(self, a: Operand, b: Operand, c: Operand, /) -> Expr: ...


class Clip(Protocol):
    def __call__(self, x: Operand, a_min: Operand = ..., a_max: Operand = ..., /) -> Expr: ...


class Flip(Protocol):
    def __call__(self, x: Operand, /, *, axis: Axis | None = None) -> Expr: ...


class Einsum(Protocol):
    def __call__(self, subscripts: str, /, *operands: Operand) -> Expr: ...


class Sort(Protocol):
    def __call__(self, x: Operand, /, *, axis: int = -1) -> Expr: ...


class TensorDot(Protocol):
    def __call__(self, a: Operand, b: Operand, /, *,
                 axes: int | tuple[Axis, Axis] | list[Axis] = 2) -> Expr: ...


class Slice(Protocol):
    def __call__(self, x: Operand, /, *, start: int | None = None, stop: int | None = None,
                 axis: int = 0) -> Expr: ...


class TakeAlongAxis(Protocol):
    def __call__(self, x: Operand, indices: Operand, /, *, axis: int = -1) -> Expr: ...


abs: Elementwise = function("abs")
argmax: ArgReduction = function("argmax")
argmin: ArgReduction = function("argmin")
clip: Clip = function("clip")
cos: Elementwise = function("cos")
cross_entropy: Binary = function("cross_entropy")
cumprod: Cumulative = function("cumprod")
cumsum: Cumulative = function("cumsum")
dot: Binary = function("dot")
einsum: Einsum = function("einsum")
elu: WithSlope = function("elu")
exp: Elementwise = function("exp")
flip: Flip = function("flip")
inner: Binary = function("inner")
kron: Binary = function("kron")
leaky_relu: WithSlope = function("leaky_relu")
log: Elementwise = function("log")
log_softmax: AlongAxis = function("log_softmax")
logical_not: Elementwise = function("logical_not")
logsumexp: LogSumExp = function("logsumexp")
max: Reduction = function("max")
maximum: Binary = function("maximum")
mean: Reduction = function("mean")
min: Reduction = function("min")
minimum: Binary = function("minimum")
mse: Binary = function("mse")
norm: Norm = function("norm")
outer: Binary = function("outer")
prod: Reduction = function("prod")
relu: Elementwise = function("relu")
sigmoid: Elementwise = function("sigmoid")
sin: Elementwise = function("sin")
slice: Slice = function("slice")
softmax: AlongAxis = function("softmax")
softplus: Elementwise = function("softplus")
sort: Sort = function("sort")
sqrt: Elementwise = function("sqrt")
std: Moments = function("std")
stop_gradient: Elementwise = function("stop_gradient")
sum: Reduction = function("sum")
take_along_axis: TakeAlongAxis = function("take_along_axis")
tan: Elementwise = function("tan")
tanh: Elementwise = function("tanh")
tensordot: TensorDot = function("tensordot")
var: Moments = function("var")
where: Ternary = function("where")
