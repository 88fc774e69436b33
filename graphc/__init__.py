"""graphc: a symbolic computational-graph compiler.

Write a network as a DAG of symbolic ops; graphc derives each node's local
derivatives with sympy and emits readable, standalone NumPy code for its gradient.

The public names below are imported on first use (``__getattr__``), so that
``graphc --version`` and ``graphc --help`` start without sympy, NumPy and networkx.
"""

from functools import cache as _cache  # (underscored: not names of graphc's)
from typing import TYPE_CHECKING
from typing import Any as _Any

from ._version import __version__ as __version__  # the one source: _version.py

if TYPE_CHECKING:  # what type checkers and editors read; __getattr__ runs them on first use
    from .compiler import CompiledFunction, compile
    from .derivatives import hessian, hvp, jacobian, jvp, vjp
    from .errors import (
        CycleError,
        GraphcError,
        GraphcWarning,
        InputError,
        ParseError,
        ShapeError,
        UndefinedNameError,
        UnknownOpError,
    )
    from .frontend.functions import (
        abs,
        absolute,
        append,
        arange,
        arccos,
        arccosh,
        arcsin,
        arcsinh,
        arctan,
        arctan2,
        arctanh,
        argmax,
        argmin,
        around,
        array_split,
        atleast_1d,
        atleast_2d,
        attention,
        average,
        avg_pool2d,
        batch_norm,
        binary_cross_entropy,
        broadcast_to,
        cbrt,
        ceil,
        cholesky,
        clip,
        column_stack,
        concatenate,
        conv1d,
        conv2d,
        conv_transpose2d,
        convolve,
        copysign,
        correlate,
        cos,
        cosh,
        cross,
        cross_entropy,
        cumprod,
        cumsum,
        deg2rad,
        degrees,
        delete,
        det,
        diag,
        diagflat,
        diagonal,
        diff,
        digamma,
        dot,
        dropout,
        dstack,
        einsum,
        elu,
        embedding,
        erf,
        erfc,
        exp,
        exp2,
        expand_dims,
        expm1,
        eye,
        flip,
        fliplr,
        flipud,
        float_power,
        floor,
        fmax,
        fmin,
        fmod,
        full,
        full_like,
        gammaln,
        gelu,
        global_avg_pool,
        heaviside,
        hstack,
        huber,
        hypot,
        identity,
        inner,
        insert,
        inv,
        kron,
        layer_norm,
        leaky_relu,
        lgamma,
        linspace,
        log,
        log1p,
        log2,
        log10,
        log_sigmoid,
        log_softmax,
        logaddexp,
        logaddexp2,
        logical_not,
        logsumexp,
        matvec,
        max,
        max_pool2d,
        maximum,
        mean,
        median,
        min,
        minimum,
        moveaxis,
        mse,
        nan_to_num,
        nanmax,
        nanmean,
        nanmedian,
        nanmin,
        nanpercentile,
        nanprod,
        nanquantile,
        nanstd,
        nansum,
        nanvar,
        norm,
        ones,
        ones_like,
        outer,
        pad,
        percentile,
        polygamma,
        prod,
        ptp,
        quantile,
        rad2deg,
        radians,
        ravel,
        reciprocal,
        relu,
        repeat,
        reshape,
        resize,
        rint,
        rms_norm,
        roll,
        rollaxis,
        rot90,
        round,
        select,
        sigmoid,
        sign,
        silu,
        sin,
        sinc,
        sinh,
        slice,
        slogdet,
        soft_sign,
        softmax,
        softplus,
        softsign,
        solve,
        solve_triangular,
        sort,
        split,
        sqrt,
        square,
        squeeze,
        stack,
        std,
        stop_gradient,
        sum,
        swapaxes,
        take,
        take_along_axis,
        tan,
        tanh,
        tensordot,
        tile,
        trace,
        transpose,
        trapezoid,
        tri,
        tril,
        triu,
        trunc,
        unstack,
        var,
        vdot,
        vecdot,
        vecmat,
        vstack,
        where,
        zeros,
        zeros_like,
    )
    from .frontend.handles import Expr, dimension, graph, input, inputs
    from .frontend.sympy_front import from_sympy
    from .frontend.text_format import load, parse
    from .ir.graph import Graph
    from .teach.render import render
    from .teach.second import verify
    from .teach.style import Style

__all__ = [
    "CompiledFunction", "CycleError", "Expr", "Graph", "GraphcError", "GraphcWarning",
    "InputError",
    "ParseError", "ShapeError", "UndefinedNameError", "UnknownOpError", "compile",
    "dimension", "from_sympy", "graph", "input", "inputs", "load", "parse", "render", "verify",
    "hessian", "hvp", "jacobian", "jvp", "vjp",  # derivatives beyond the gradient
    "Style",  # how a picture looks: gc.render(..., style=gc.Style.slide())
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
    # shapes (graphc/ops/shaping.py)
    "broadcast_to", "concatenate", "expand_dims", "fliplr", "flipud", "moveaxis", "reshape",
    "squeeze", "stack", "swapaxes", "transpose", "arange", "eye", "full", "ones", "zeros",
    "trace", "tril", "triu", "diag", "pad", "repeat", "roll", "tile",
    # products (graphc/ops/products.py, sorting.py)
    "dot", "einsum", "inner", "kron", "outer", "sort", "tensordot",
    # NumPy's remaining structural functions (graphc/ops/assembling.py, vectors.py)
    "append", "atleast_1d", "atleast_2d", "column_stack", "convolve", "correlate", "cross",
    "diagflat", "diagonal", "dstack", "hstack", "matvec", "rollaxis", "rot90", "take",
    "vdot", "vecdot", "vecmat", "vstack",
    "conv1d", "conv2d", "conv_transpose2d",  # convolution (graphc/ops/convolution.py)
    # pieces (graphc/ops/pieces.py) and polygamma
    "around", "array_split", "polygamma", "ravel", "split", "unstack",
    "average", "diff", "ptp", "trapezoid",  # summaries (graphc/ops/summaries.py)
    # NaN-ignoring reductions (graphc/ops/nanreductions.py)
    "nanmax", "nanmean", "nanmin", "nanprod", "nanstd", "nansum", "nanvar",
    "median", "nanmedian", "nanpercentile", "nanquantile", "percentile", "quantile",  # quantiles
    # the rest of NumPy's elementwise functions and constants (graphc/ops/numpy_more.py)
    "cbrt", "copysign", "float_power", "fmod", "heaviside", "logaddexp2", "nan_to_num", "rint",
    "select", "trunc",
    "full_like", "identity", "linspace", "ones_like", "tri", "zeros_like",
    "delete", "insert", "resize",  # editing (graphc/ops/editing.py)
    "cholesky", "det", "inv", "slogdet", "solve", "solve_triangular",  # graphc/ops/linalg.py
    "avg_pool2d", "global_avg_pool", "max_pool2d",  # pooling (graphc/ops/pooling.py)
    "dropout", "embedding",  # sequence models (graphc/ops/sequence.py)
    # normalisation and attention (graphc/ops/normalization.py, attention.py)
    "attention", "batch_norm", "layer_norm", "rms_norm",
]


def __getattr__(name: str) -> _Any:
    """A public name, imported from its module (the block under TYPE_CHECKING) on first
    use and kept here (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_homes()[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


@_cache
def _homes() -> dict[str, str]:
    """Each public name's module, read from the imports under TYPE_CHECKING in this
    file's syntax tree: the one list of them."""
    import ast

    with open(__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    (block,) = [n for n in tree.body if isinstance(n, ast.If)
                and ast.unparse(n.test) == "TYPE_CHECKING"]
    return {alias.name: "." * node.level + (node.module or "")
            for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
