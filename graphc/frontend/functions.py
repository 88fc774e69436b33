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


class Gelu(Protocol):
    def __call__(self, x: Operand, /, *, approximate: bool = True) -> Expr: ...


class Huber(Protocol):
    def __call__(self, pred: Operand, target: Operand, /, *, delta: float = 1.0) -> Expr: ...


class Attention(Protocol):  # torch's scaled_dot_product_attention (graphc/ops/attention.py)
    def __call__(self, q: Operand, k: Operand, v: Operand, /, mask: Operand | None = None, *,
                 is_causal: bool = False, scale: float | None = None) -> Expr: ...


class LayerNorm(Protocol):  # torch.nn.functional's (graphc/ops/normalization.py)
    def __call__(self, x: Operand, shape: Shape, /, weight: Operand | None = None,
                 bias: Operand | None = None, eps: float = 1e-5) -> Expr: ...


class RmsNorm(Protocol):
    def __call__(self, x: Operand, shape: Shape, /, weight: Operand | None = None,
                 eps: float | None = None) -> Expr: ...


class BatchNorm(Protocol):
    def __call__(self, x: Operand, /, weight: Operand | None = None,
                 bias: Operand | None = None, eps: float = 1e-5) -> Expr: ...


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


class Identity(Protocol):
    def __call__(self, n: int | str, /) -> Expr: ...


class Linspace(Protocol):
    def __call__(self, start: float, stop: float, num: int | str = 50,
                 endpoint: bool = True, /) -> Expr: ...


class NanToNum(Protocol):
    def __call__(self, x: Operand, /, *, nan: float = 0.0, posinf: float | None = None,
                 neginf: float | None = None) -> Expr: ...


class Select(Protocol):
    def __call__(self, condlist: list[Operand] | tuple[Operand, ...],
                 choicelist: list[Operand] | tuple[Operand, ...], default: Operand = ...,
                 /) -> Expr: ...


class Diagonal(Protocol):
    def __call__(self, x: Operand, k: int = 0, /) -> Expr: ...


class Roll(Protocol):
    def __call__(self, x: Operand, shift: Axis, axis: Axis | None = None, /) -> Expr: ...


class Tile(Protocol):
    def __call__(self, x: Operand, reps: Axis, /) -> Expr: ...


class Repeat(Protocol):
    def __call__(self, x: Operand, repeats: int, axis: int | None = None, /) -> Expr: ...


class Resize(Protocol):
    def __call__(self, a: Operand, new_shape: int | tuple[int, ...], /) -> Expr: ...


class Delete(Protocol):
    def __call__(self, arr: Operand, obj: int | tuple[int, ...], axis: int | None = None,
                 /) -> Expr: ...


class Insert(Protocol):
    def __call__(self, arr: Operand, obj: int | tuple[int, ...], /, *, values: Operand,
                 axis: int | None = None) -> Expr: ...


class Pad(Protocol):
    def __call__(self, x: Operand, pad_width: int | tuple[int, int] | tuple[tuple[int, int], ...],
                 /, *, constant_values: float = 0.0) -> Expr: ...


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


class SolveTriangular(Protocol):
    def __call__(self, a: Operand, b: Operand, /, *, lower: bool = False, trans: int = 0,
                 unit_diagonal: bool = False) -> Expr: ...


class SignLogDet(Protocol):
    def __call__(self, a: Operand, /) -> tuple[Expr, Expr]: ...


class Split(Protocol):
    def __call__(self, x: Operand, indices_or_sections: int | tuple[int, ...], axis: int = 0,
                 /) -> tuple[Expr, ...]: ...


class Unstack(Protocol):
    def __call__(self, x: Operand, /, *, axis: int = 0) -> tuple[Expr, ...]: ...


class Round(Protocol):
    def __call__(self, x: Operand, /, decimals: int = 0) -> Expr: ...


class Polygamma(Protocol):
    def __call__(self, n: Operand, x: Operand, /) -> Expr: ...


class TakeAlongAxis(Protocol):
    def __call__(self, x: Operand, indices: Operand, /, *, axis: int = -1) -> Expr: ...


class Joined(Protocol):  # hstack, vstack, dstack, column_stack
    def __call__(self, tup: list[Operand] | tuple[Operand, ...], /) -> Expr: ...


class Append(Protocol):
    def __call__(self, arr: Operand, values: Operand, axis: int | None = None, /) -> Expr: ...


class RollAxis(Protocol):
    def __call__(self, a: Operand, axis: int, start: int = 0, /) -> Expr: ...


class Rot90(Protocol):
    def __call__(self, m: Operand, k: int = 1, axes: tuple[int, int] = (0, 1), /) -> Expr: ...


class DiagonalOf(Protocol):
    def __call__(self, a: Operand, offset: int = 0, axis1: int = 0, axis2: int = 1, /
                 ) -> Expr: ...


class Take(Protocol):
    def __call__(self, a: Operand, indices: Operand, axis: int | None = None, /) -> Expr: ...


class AlongVectors(Protocol):  # vecdot, cross
    def __call__(self, a: Operand, b: Operand, /, *, axis: int = -1) -> Expr: ...


class Convolve(Protocol):
    def __call__(self, a: Operand, v: Operand, mode: str = ..., /) -> Expr: ...


class Conv(Protocol):
    def __call__(self, input: Operand, weight: Operand, /, bias: Operand | None = None,
                 stride: int | tuple = 1, padding: int | str | tuple = 0,
                 dilation: int | tuple = 1, groups: int = 1) -> Expr: ...


class ConvTranspose(Protocol):
    def __call__(self, input: Operand, weight: Operand, /, bias: Operand | None = None,
                 stride: int | tuple = 1, padding: int | tuple = 0,
                 output_padding: int | tuple = 0, groups: int = 1,
                 dilation: int | tuple = 1) -> Expr: ...


class Diff(Protocol):
    def __call__(self, a: Operand, /, *, n: int = 1, axis: int = -1,
                 prepend: float | None = None, append: float | None = None) -> Expr: ...


class Average(Protocol):
    def __call__(self, a: Operand, /, *, axis: Axis | None = None,
                 weights: Operand | None = None, keepdims: bool = False) -> Expr: ...


class Quantile(Protocol):
    def __call__(self, a: Operand, q: float | tuple[float, ...], /, *, axis: Axis | None = None,
                 method: str = "linear", keepdims: bool = False) -> Expr: ...


class Trapezoid(Protocol):
    def __call__(self, y: Operand, /, *, x: Operand | None = None, dx: float = 1.0,
                 axis: int = -1) -> Expr: ...


class Pool2d(Protocol):  # max_pool2d, avg_pool2d (torch.nn.functional's)
    def __call__(self, input: Operand, /, kernel_size: int | tuple[int, int],  # noqa: A002
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> Expr: ...


class Dropout(Protocol):
    def __call__(self, x: Operand, mask: Operand, p: Operand = ..., /) -> Expr: ...


abs: Elementwise = function("abs")
absolute: Elementwise = function("absolute")
append: Append = function("append")
arange: Arange = function("arange")
arccos: Elementwise = function("arccos")
arccosh: Elementwise = function("arccosh")
arcsin: Elementwise = function("arcsin")
arcsinh: Elementwise = function("arcsinh")
arctan: Elementwise = function("arctan")
arctan2: Binary = function("arctan2")
arctanh: Elementwise = function("arctanh")
argmax: ArgReduction = function("argmax")
argmin: ArgReduction = function("argmin")
atleast_1d: Elementwise = function("atleast_1d")
atleast_2d: Elementwise = function("atleast_2d")
around: Round = function("around")
array_split: Split = function("array_split")
attention: Attention = function("attention")
average: Average = function("average")
avg_pool2d: Pool2d = function("avg_pool2d")
batch_norm: BatchNorm = function("batch_norm")
binary_cross_entropy: Binary = function("binary_cross_entropy")
broadcast_to: Reshape = function("broadcast_to")
cbrt: Elementwise = function("cbrt")
ceil: Elementwise = function("ceil")
cholesky: Elementwise = function("cholesky")
clip: Clip = function("clip")
column_stack: Joined = function("column_stack")
concatenate: Listed = function("concatenate")
conv1d: Conv = function("conv1d")
conv2d: Conv = function("conv2d")
conv_transpose2d: ConvTranspose = function("conv_transpose2d")
convolve: Convolve = function("convolve")
correlate: Convolve = function("correlate")
copysign: Binary = function("copysign")
cos: Elementwise = function("cos")
cosh: Elementwise = function("cosh")
cross: AlongVectors = function("cross")
cross_entropy: Binary = function("cross_entropy")
cumprod: Cumulative = function("cumprod")
cumsum: Cumulative = function("cumsum")
deg2rad: Elementwise = function("deg2rad")
degrees: Elementwise = function("degrees")
delete: Delete = function("delete")
det: Elementwise = function("det")
diag: Diagonal = function("diag")
diagflat: Diagonal = function("diagflat")
diagonal: DiagonalOf = function("diagonal")
diff: Diff = function("diff")
digamma: Elementwise = function("digamma")
dot: Binary = function("dot")
dropout: Dropout = function("dropout")
dstack: Joined = function("dstack")
einsum: Einsum = function("einsum")
elu: WithSlope = function("elu")
embedding: Binary = function("embedding")
erf: Elementwise = function("erf")
erfc: Elementwise = function("erfc")
exp: Elementwise = function("exp")
exp2: Elementwise = function("exp2")
expand_dims: ExpandDims = function("expand_dims")
expm1: Elementwise = function("expm1")
eye: Eye = function("eye")
flip: Flip = function("flip")
fliplr: Elementwise = function("fliplr")
flipud: Elementwise = function("flipud")
float_power: Binary = function("float_power")
floor: Elementwise = function("floor")
fmax: Binary = function("fmax")
fmin: Binary = function("fmin")
fmod: Binary = function("fmod")
full: Full = function("full")
full_like: Binary = function("full_like")
gammaln: Elementwise = function("gammaln")
gelu: Gelu = function("gelu")
global_avg_pool: Elementwise = function("global_avg_pool")
hstack: Joined = function("hstack")
heaviside: Binary = function("heaviside")
huber: Huber = function("huber")
hypot: Binary = function("hypot")
identity: Identity = function("identity")
inner: Binary = function("inner")
insert: Insert = function("insert")
inv: Elementwise = function("inv")
kron: Binary = function("kron")
layer_norm: LayerNorm = function("layer_norm")
leaky_relu: WithSlope = function("leaky_relu")
lgamma: Elementwise = function("lgamma")
linspace: Linspace = function("linspace")
log: Elementwise = function("log")
log10: Elementwise = function("log10")
log1p: Elementwise = function("log1p")
log2: Elementwise = function("log2")
log_sigmoid: Elementwise = function("log_sigmoid")
log_softmax: AlongAxis = function("log_softmax")
logaddexp: Binary = function("logaddexp")
logaddexp2: Binary = function("logaddexp2")
logical_not: Elementwise = function("logical_not")
logsumexp: LogSumExp = function("logsumexp")
matvec: Binary = function("matvec")
max: Reduction = function("max")
max_pool2d: Pool2d = function("max_pool2d")
maximum: Binary = function("maximum")
mean: Reduction = function("mean")
median: Reduction = function("median")
min: Reduction = function("min")
minimum: Binary = function("minimum")
moveaxis: MoveAxis = function("moveaxis")
mse: Binary = function("mse")
nanmax: Reduction = function("nanmax")
nanmean: Reduction = function("nanmean")
nanmedian: Reduction = function("nanmedian")
nanmin: Reduction = function("nanmin")
nanpercentile: Quantile = function("nanpercentile")
nanprod: Reduction = function("nanprod")
nanquantile: Quantile = function("nanquantile")
nanstd: Moments = function("nanstd")
nansum: Reduction = function("nansum")
nanvar: Moments = function("nanvar")
nan_to_num: NanToNum = function("nan_to_num")
norm: Norm = function("norm")
ones: Filled = function("ones")
ones_like: Elementwise = function("ones_like")
outer: Binary = function("outer")
pad: Pad = function("pad")
polygamma: Polygamma = function("polygamma")
percentile: Quantile = function("percentile")
prod: Reduction = function("prod")
ptp: Reduction = function("ptp")
quantile: Quantile = function("quantile")
rad2deg: Elementwise = function("rad2deg")
radians: Elementwise = function("radians")
ravel: Elementwise = function("ravel")
reciprocal: Elementwise = function("reciprocal")
relu: Elementwise = function("relu")
repeat: Repeat = function("repeat")
reshape: Reshape = function("reshape")
resize: Resize = function("resize")
rint: Elementwise = function("rint")
rms_norm: RmsNorm = function("rms_norm")
roll: Roll = function("roll")
rollaxis: RollAxis = function("rollaxis")
rot90: Rot90 = function("rot90")
round: Round = function("round")
select: Select = function("select")
sigmoid: Elementwise = function("sigmoid")
sign: Elementwise = function("sign")
silu: Elementwise = function("silu")
sin: Elementwise = function("sin")
sinc: Elementwise = function("sinc")
sinh: Elementwise = function("sinh")
slogdet: SignLogDet = function("slogdet")
slice: Slice = function("slice")
soft_sign: Elementwise = function("soft_sign")
softmax: AlongAxis = function("softmax")
softplus: Elementwise = function("softplus")
softsign: Elementwise = function("softsign")
solve: Binary = function("solve")
solve_triangular: SolveTriangular = function("solve_triangular")
sort: Sort = function("sort")
split: Split = function("split")
sqrt: Elementwise = function("sqrt")
square: Elementwise = function("square")
squeeze: Axes = function("squeeze")
stack: Listed = function("stack")
std: Moments = function("std")
stop_gradient: Elementwise = function("stop_gradient")
sum: Reduction = function("sum")
swapaxes: SwapAxes = function("swapaxes")
take: Take = function("take")
take_along_axis: TakeAlongAxis = function("take_along_axis")
tan: Elementwise = function("tan")
tanh: Elementwise = function("tanh")
tensordot: TensorDot = function("tensordot")
tile: Tile = function("tile")
trace: Diagonal = function("trace")
transpose: Transpose = function("transpose")
trapezoid: Trapezoid = function("trapezoid")
tril: Diagonal = function("tril")
triu: Diagonal = function("triu")
unstack: Unstack = function("unstack")
tri: Eye = function("tri")
trunc: Elementwise = function("trunc")
var: Moments = function("var")
vdot: Binary = function("vdot")
vecdot: AlongVectors = function("vecdot")
vecmat: Binary = function("vecmat")
vstack: Joined = function("vstack")
where: Ternary = function("where")
zeros: Filled = function("zeros")
zeros_like: Elementwise = function("zeros_like")
