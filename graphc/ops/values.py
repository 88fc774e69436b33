"""Values: the input rule that ``fn()``, ``Graph.evaluate`` and the emitted module share
(its functions ship verbatim in every module), and constants folded as NumPy's float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _input(name, value):
    """One input by graphc's rule: Python numbers become np.float64, arrays must be of
    a float dtype (a 0-d integer array becomes float64); anything else is refused."""
    if value.__class__ is np.ndarray and value.dtype.kind == "f":
        return value  # the common case first: a float array passes as it is
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"input {name!r}: expected a number or a float array, "
                        f"got {type(value).__name__}")
    if isinstance(value, (int, float)):
        try:  # NumPy's scalar, so 1/0 is inf with a warning, as for arrays
            return np.float64(value)
        except OverflowError:
            raise ValueError(f"input {name!r}: {value} is too large for a float") from None
    try:
        value = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is bad input
        raise TypeError(f"input {name!r}: not an array ({exc})") from None
    if value.dtype.kind in "iu" and value.ndim == 0:
        value = value.astype(float)
    if value.dtype.kind != "f":
        raise TypeError(f"input {name!r}: dtype {value.dtype} is not a float dtype "
                        "(gradients need float inputs; use .astype(float))")
    return value


def _indices(name, value):
    """An integer input (indices, class labels): a Python int or an integer array."""
    try:
        value = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is bad input
        raise TypeError(f"input {name!r}: not an array ({exc})") from None
    if value.dtype.kind not in "iu":
        raise TypeError(f"input {name!r} is declared int (indices, labels): got dtype "
                        f"{value.dtype}, not an integer dtype")
    return value


def _inputs(names, declared, values, ints=()):
    """The inputs, checked and converted by graphc's rule (``fn()`` applies the same):
    each by ``_input`` (``ints``, integer inputs: by ``_indices``); a declared shape
    must match (a named dimension is one size throughout); Python numbers beside
    arrays or NumPy scalars are weak, as in NumPy: they take those values' common
    dtype, so float32 arrays stay float32."""
    out = [_indices(n, v) if n in ints else _input(n, v) for n, v in zip(names, values)]
    dims: dict[str, int] = {}
    for name, shape, value in zip(names, declared, out):
        if shape is not None:
            _check_shape(name, np.shape(value), shape, dims)
    weak = [n not in ints and (v.__class__ in (int, float) or isinstance(v, (int, float))
                               and not isinstance(v, np.generic))
            for n, v in zip(names, values)]
    strong = [v for n, v, w in zip(names, out, weak) if not w and n not in ints] \
        if True in weak else None
    if strong:
        like = np.result_type(*strong)
        out = [like.type(v) if w else v for v, w in zip(out, weak)]
    return out


def _check_shape(name, actual, declared, dims):
    """A value's shape against a declared one (a named dimension is bound by its first
    use in ``dims``); a ValueError that says what differs."""
    if actual == declared:
        return  # no named dimension: nothing to bind
    why = None
    if len(actual) != len(declared):
        why = f" (rank {len(actual)}, expected {len(declared)})"
    else:
        for got, want in zip(actual, declared):
            if isinstance(want, str):
                if dims.setdefault(want, got) != got:
                    why = f" ({want} is {dims[want]} elsewhere, {got} here)"
                    break
            elif got != want:
                why = ""
                break
    if why is not None:
        written = "scalar" if declared == () else "[" + ", ".join(map(str, declared)) + "]"
        raise ValueError(f"input {name!r}: shape {tuple(actual)} does not match declared "
                         f"{written}{why}")


def _real(z):
    """``z``, unless Python's float arithmetic made it complex (``(-8.0) ** 0.5``, where
    NumPy gives nan): then a ValueError, and the caller takes NumPy's path."""
    if z.__class__ is complex:
        raise ValueError("a complex number from real operands")
    return z


# ---- the arguments of gc.jvp, gc.hvp (a dict of arrays) and gc.vjp (a cotangent)
def _given(argument, given, names, values):
    """One array per input of ``names``, each of that input's shape (``values``), taken
    from the dict ``given``; a ValueError that says what is wrong."""
    if not isinstance(given, dict):
        raise ValueError(f"{argument}: expected a dict {{input: array}} for "
                         f"{', '.join(names)}, got {type(given).__name__}")
    missing = [n for n in names if n not in given]
    extra = [n for n in given if n not in names]
    if missing or extra:
        raise ValueError(f"{argument}: " + "; ".join(
            ([f"missing {', '.join(map(str, missing))}"] if missing else [])
            + ([f"not an input differentiated: {', '.join(map(str, extra))}"] if extra else [])))
    for n, value in zip(names, values):
        if np.shape(given[n]) != np.shape(value):
            raise ValueError(f"{argument}[{n!r}] has shape {np.shape(given[n])}, "
                             f"but {n} has shape {np.shape(value)}")
    return [given[n] for n in names]


def _same_shape(argument, given, value):
    """``given``'s shape is the output's, known only once computed."""
    if np.shape(given) != np.shape(value):
        raise ValueError(f"{argument} has shape {np.shape(given)}, but the output has "
                         f"shape {np.shape(value)}")


def _scalar_value(value, name):
    """The value of an output whose gradient is of a scalar, its shape known only now
    (undeclared inputs): a ValueError where it is not one, never a silent sum."""
    if np.ndim(value):
        raise ValueError(f"{name} is not a scalar (shape {np.shape(value)}): its gradient "
                         f"would sum its elements; differentiate sum({name}), or use "
                         "graphc's jacobian or vjp")
    return value


HELPERS = (_input, _inputs, _check_shape, _real, _indices)
"""Shipped in every module (``_real`` only where a float path raises a power,
``_indices`` where an input is an integer one)."""
FALLBACK = (ArithmeticError, ValueError)
"""What a module's Python-float path may raise where NumPy gives inf or nan: it then
runs NumPy's path instead (OverflowError, ZeroDivisionError, ``_real``'s ValueError)."""


def fold(fn: Callable[..., Any], values: list[float] | tuple[float, ...],
         params: dict | None = None) -> float | None:
    """``fn`` at constant operands as NumPy's float64 computes it (inf, nan, -0.0, never
    Python's exceptions); None when the result is no real scalar or ``fn`` refuses them.

    >>> fold(lambda x, y: x ** y, [-8.0, 1 / 3]), fold(lambda x, y: x / y, [1.0, 0.0])
    (nan, inf)
    """
    try:
        with np.errstate(all="ignore"):
            value = fn(*(np.float64(v) for v in values), **(params or {}))
    except Exception:  # noqa: BLE001 - an op that takes no scalars is left unfolded
        return None
    if np.ndim(value) != 0 or np.iscomplexobj(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
"""NumPy's named constants, which .gc text reads where it gives the name no meaning
of its own (assigns or declares it)."""
