"""graphc: a symbolic computational-graph compiler.

Write a network as a DAG of symbolic ops; graphc derives each node's local
derivatives with sympy and emits readable, standalone NumPy code for its gradient.
"""

from .compiler import CompiledFunction, compile
from .errors import (
    CycleError,
    GraphcError,
    InputError,
    ParseError,
    ShapeError,
    UndefinedNameError,
    UnknownOpError,
)
from .frontend.functions import (
    abs,
    absolute,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    binary_cross_entropy,
    ceil,
    clip,
    cos,
    cosh,
    cross_entropy,
    cumprod,
    cumsum,
    deg2rad,
    degrees,
    digamma,
    elu,
    erf,
    erfc,
    exp,
    exp2,
    expm1,
    flip,
    floor,
    fmax,
    fmin,
    gammaln,
    gelu,
    huber,
    hypot,
    leaky_relu,
    lgamma,
    log,
    log1p,
    log2,
    log10,
    log_sigmoid,
    log_softmax,
    logaddexp,
    logical_not,
    logsumexp,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse,
    norm,
    prod,
    rad2deg,
    radians,
    reciprocal,
    relu,
    round,
    sigmoid,
    sign,
    silu,
    sin,
    sinc,
    sinh,
    slice,
    soft_sign,
    softmax,
    softplus,
    softsign,
    sqrt,
    square,
    std,
    stop_gradient,
    sum,
    take_along_axis,
    tan,
    tanh,
    var,
    where,
)
from .frontend.handles import Expr, graph, input, inputs
from .frontend.sympy_front import from_sympy
from .frontend.text_format import load, parse
from .ir.graph import Graph
from .teach.render import render
from .teach.verify import verify

__version__ = "0.1.0"
__all__ = [
    "CompiledFunction", "CycleError", "Expr", "Graph", "GraphcError", "InputError",
    "ParseError", "ShapeError", "UndefinedNameError", "UnknownOpError", "compile",
    "from_sympy", "graph", "input", "inputs", "load", "parse", "render", "verify",
    # the op table's public functions (graphc.frontend.functions)
    "abs", "cos", "cross_entropy", "elu", "exp", "flip", "leaky_relu", "log",
    "log_softmax", "logsumexp", "maximum", "mean", "minimum", "mse", "relu", "sigmoid",
    "sin", "slice", "softmax", "softplus", "sqrt", "sum", "tan", "tanh",
    # reductions (graphc/ops/reductions.py)
    "argmax", "argmin", "cumprod", "cumsum", "max", "min", "norm", "prod", "std", "var",
    "take_along_axis",
    "clip", "logical_not", "stop_gradient", "where",  # choices
    # NumPy's, jax.nn's and jax.scipy.special's elementwise functions (ops/elementwise.py)
    "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "ceil", "cosh", "deg2rad", "degrees", "digamma", "erf", "erfc", "exp2", "expm1", "floor",
    "fmax", "fmin", "gammaln", "gelu", "hypot", "lgamma", "log10", "log1p", "log2",
    "log_sigmoid", "logaddexp", "rad2deg", "radians", "reciprocal", "round", "sign", "silu",
    "sinc", "sinh", "soft_sign", "softsign", "square",
    "binary_cross_entropy", "huber",  # losses (graphc.ops.losses)
]
