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
    argmax,
    argmin,
    clip,
    cos,
    cross_entropy,
    cumprod,
    cumsum,
    dot,
    einsum,
    elu,
    exp,
    flip,
    inner,
    kron,
    leaky_relu,
    log,
    log_softmax,
    logical_not,
    logsumexp,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse,
    norm,
    outer,
    prod,
    relu,
    sigmoid,
    sin,
    slice,
    softmax,
    softplus,
    sort,
    sqrt,
    std,
    stop_gradient,
    sum,
    take_along_axis,
    tan,
    tanh,
    tensordot,
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
    # products (graphc/ops/products.py, sorting.py)
    "dot", "einsum", "inner", "kron", "outer", "sort", "tensordot",
]
