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
    arange,
    broadcast_to,
    concatenate,
    cos,
    cross_entropy,
    diag,
    elu,
    exp,
    expand_dims,
    eye,
    flip,
    full,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    maximum,
    mean,
    minimum,
    moveaxis,
    mse,
    ones,
    pad,
    relu,
    repeat,
    reshape,
    roll,
    sigmoid,
    sin,
    slice,
    softmax,
    softplus,
    sqrt,
    squeeze,
    stack,
    sum,
    swapaxes,
    tan,
    tanh,
    tile,
    trace,
    transpose,
    tril,
    triu,
    zeros,
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
    # shapes (graphc/ops/shaping.py)
    "broadcast_to", "concatenate", "expand_dims", "moveaxis", "reshape", "squeeze", "stack",
    "swapaxes", "transpose", "arange", "eye", "full", "ones", "zeros", "trace", "tril",
    "triu", "diag", "pad", "repeat", "roll", "tile",
]
