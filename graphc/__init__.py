"""graphc: a symbolic computational-graph compiler.

Write a network as a DAG of symbolic ops; graphc derives each node's local
derivatives with sympy and emits readable, standalone NumPy code for its gradient.
"""

from .build import FUNCTION_HANDLES as _FUNCTION_HANDLES
from .build import Expr, graph, input, inputs
from .compile import CompiledFunction, compile
from .errors import (
    CycleError,
    GraphcError,
    InputError,
    ParseError,
    ShapeError,
    UndefinedNameError,
    UnknownOpError,
)
from .from_sympy import from_sympy
from .graph import Graph
from .parse import load, parse
from .render import render
from .verify import verify

globals().update(_FUNCTION_HANDLES)  # gc.exp, gc.tanh, gc.relu, ... one per table entry

__version__ = "0.1.0"
__all__ = [
    "CompiledFunction", "CycleError", "Expr", "Graph", "GraphcError", "InputError",
    "ParseError", "ShapeError", "UndefinedNameError", "UnknownOpError", "compile",
    "from_sympy", "graph", "input", "inputs", "load", "parse", "render", "verify",
    *_FUNCTION_HANDLES,
]
