"""backend="array_api": the NumPy backend's lines for any array library that
``array_api_compat`` knows (NumPy, PyTorch, JAX, dask.array, CuPy, array_api_strict).

Each op's template is written once, in NumPy (ops/*.py); this backend prints its
``np.`` names as the standard's ``xp.`` ones (``xp = array_namespace(inputs)`` heads
every function), through ``COMPAT`` where the standard spells a function otherwise,
and calls the standard's version of each helper (xp_helpers.py). An op with no such
spelling is a GraphcError at compile time naming it, never a wrong number. No memory
plan (``out=`` is NumPy's), no input conversion: a dask array stays lazy."""

from __future__ import annotations

import re

from ..errors import GraphcError
from ..ops import Op
from . import xp_gather, xp_helpers, xp_layers, xp_more, xp_numeric, xp_pieces
from .base import RESERVED, Backend, sources

SAME = frozenset({
    "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil",
    "copysign", "cos", "cosh", "exp", "expm1", "floor", "hypot", "log", "log1p", "log2",
    "log10", "logaddexp", "maximum", "minimum", "sign", "sin", "sinh", "sqrt", "square",
    "tan", "tanh", "trunc", "where", "sum", "mean", "max", "min", "prod", "argmax",
    "argmin", "squeeze", "flip", "reshape", "moveaxis", "stack",
    "broadcast_to", "tensordot", "matmul", "tril", "triu", "zeros_like", "ones_like",
    "full_like", "roll", "sort", "take", "repeat", "tile", "unstack",
    "vecdot", "nan", "inf", "pi", "e", "newaxis", "zeros", "ones", "full", "arange", "linspace",
})
"""NumPy names that are the standard's, with the signatures graphc's templates use."""
COMPAT = {
    "arccos": "xp.acos", "arcsin": "xp.asin", "arctan": "xp.atan", "arctan2": "xp.atan2",
    "arccosh": "xp.acosh", "arcsinh": "xp.asinh", "arctanh": "xp.atanh", "power": "xp.pow",
    "concatenate": "xp.concat", "cumsum": "xp.cumulative_sum",
    "cumprod": "xp.cumulative_prod", "transpose": "xp.permute_dims",
    "linalg.norm": "xp.linalg.vector_norm", "heaviside": "_heaviside",
    "reciprocal": "_reciprocal", "std": "_std", "var": "_var", "swapaxes": "_swapaxes",
    "ravel": "_ravel", "rint": "xp.round", "hstack": "_hstack", "vstack": "_vstack",
    "dstack": "_dstack", "column_stack": "_column_stack", "append": "_append", "eye": "_eye",
    "tri": "_tri", "expand_dims": "_expand_dims",
    "nansum": "_nansum", "nanprod": "_nanprod", "einsum": "_einsum", "outer": "_outer",
    "cbrt": "_cbrt", "logaddexp2": "_logaddexp2",
    "resize": "_resize", "fmod": "_fmod", "diff": "_diff", "average": "_average",
    "convolve": "_convolve", "correlate": "_correlate", "atleast_1d": "_atleast_1d",
    "atleast_2d": "_atleast_2d", "rollaxis": "_rollaxis", "linalg.det": "_det",
    "linalg.slogdet": "_slogdet", "take_along_axis": "_take_along",
    "pad": "_pad", "rot90": "_rot90", "nan_to_num": "_nan_to_num", "dot": "_dot",
    "inner": "_inner", "vdot": "_vdot", "cross": "_cross", "ptp": "_ptp", "diagflat": "_diagflat",
    "split": "_split_all", "array_split": "_split_all", "diagonal": "_diagonal_of",
    "trapezoid": "_trapezoid", "clip": "_clip",
}
"""NumPy names the standard spells otherwise: its name, or a shipped helper."""
_NAME = re.compile(r"\bnp\.([A-Za-z_][\w.]*)")
_HELPER = re.compile(r"\b(_[a-z]\w*)\(")
_INDEX = re.compile(r"\[([^\[\]]*)\]$")
_BASIC = re.compile(r"-?\d+$|None$|[-\d]*:[-\d]*(:[-\d]*)?$")  # an int, None, a slice
_CAST = re.compile(r"\b_float_of\(([^()]+)\)\.type\(")  # NumPy's dtype.type(value)
_DTYPE = re.compile(r"\bdtype=_float_of\(([^()]+)\)")  # a constant: the input's device too
HELPERS = {**xp_helpers.HELPERS, **xp_more.HELPERS, **xp_gather.HELPERS,
           **xp_numeric.HELPERS, **xp_layers.HELPERS, **xp_pieces.HELPERS}
"""Every shipped helper by name (``_ns`` and ``_weak`` ship always)."""


def _key(part: str) -> str:
    """One part of a basic key as a value: ``::-1`` is ``slice(None, None, -1)``."""
    if ":" not in part:
        return part
    return f"slice({', '.join(p or 'None' for p in (part.split(':') + [''])[:3])})"


def _unknown(what: str, op: Op | None) -> GraphcError:
    name = f"op {op.name!r}" if op is not None else "a constant"
    return GraphcError(f"backend='array_api': {name} has no Array-API spelling ({what} is "
                       "NumPy's only); compile it with backend='numpy'")


class ArrayAPI(Backend):
    name = "array_api"
    help = "NumPy's lines in the Array API (xp.): any array library, lazy dask included"
    needs = "array_api_compat"
    reserved = RESERVED | {"xp", "array_api_compat", "_ns", "_weak", "_float64", *HELPERS}
    converts = False

    def spelled(self, op: Op | None, code: str) -> str:
        def name(m: re.Match) -> str:
            numpy = m[1]
            if numpy in SAME:
                return f"xp.{numpy}"
            if numpy in COMPAT:
                return COMPAT[numpy]
            raise _unknown(f"np.{numpy}", op)
        for helper in _HELPER.findall(code):
            if helper not in HELPERS:
                raise _unknown(helper, op)
        code = _NAME.sub(name, _CAST.sub(r"_float_like(\1, ", code))
        code = _DTYPE.sub(r"\g<0>, device=array_api_compat.device(\1)", code)
        for made in ("_eye(", "_tri("):  # no array to read the namespace from
            code = code.replace(made, made + "xp, ")
        if op is not None and op.name in ("index", "slice", "unstack") \
                and (key := _INDEX.search(code)) and "..." not in key[1] \
                and all(_BASIC.match(k.strip()) for k in key[1].split(",")):  # the standard
            # indexes every axis or says ...; integer arrays index every axis
            parts = [k.strip() for k in key[1].split(",")]
            if any(k.count(":") == 2 and k.rsplit(":", 1)[1].startswith("-") for k in parts):
                return f"_backwards({code[:key.start()]}, ({', '.join(map(_key, parts))},))"
            code = code[:key.start()] + f"[{key[1]}, ...]"
        return code

    def prologue(self, params: list[str], floats: list[str]) -> list[str]:
        if not params:
            return []
        target = ", ".join(floats) + ("," if len(floats) == 1 else "")
        return [f"    xp = _ns({', '.join(params)})"] \
            + ([f"    {target} = _weak(xp, {', '.join(floats)})"] if floats else [])

    def assembled(self, title: str, functions: list[str], ops: dict[str, Op],
                  scalar: bool) -> str:
        text = "\n".join(functions)
        if "np." in text:
            raise GraphcError(f"backend='array_api': a NumPy name is left in {text!r}")
        used = _used(text)
        doc = (f'"""{title}\n\nGenerated by graphc (backend="array_api"). Standalone: '
               "imports array_api_compat only,\nand runs on any array library it knows "
               "(NumPy, PyTorch, JAX, dask.array,\nCuPy, array_api_strict): each function "
               "takes the namespace xp of its arguments.\nInputs pass untouched (no "
               "conversion, no checks): a dask array stays lazy.\n" + '"""\n')
        parts = [doc, "import array_api_compat\n"] + [_SOURCES[f] for f in used] + functions
        return "\n\n".join(p.rstrip("\n") + "\n" for p in parts)


def _used(text: str) -> list[str]:
    """The helpers ``text`` calls, with those they call, in HELPERS' order."""
    found = {"_ns", "_number", "_weak"} | set(_HELPER.findall(text)) & set(HELPERS)
    while more := {h for f in found for h in _HELPER.findall(_SOURCES[f])
                   if h in _SOURCES} - found:
        found |= more
    return [f for f in _SOURCES if f in found]


_SOURCES = {f.__name__: text for f, text in sources(
    (xp_helpers._ns, xp_helpers._weak, xp_helpers._float64, *HELPERS.values())).items()}


ARRAY_API = ArrayAPI()
