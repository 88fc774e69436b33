"""Static shapes: tuples of ints or symbolic dimension names; ``()`` is a scalar."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import InputError, ShapeError

Dim = int | str
Shape = tuple[Dim, ...]


_NAMED = re.compile(r"(\d+\*)?[^\W\d]\w*([+-]\d+)?")


def is_named(d: Any) -> bool:
    """Whether ``d`` is a symbolic dimension as declarations write it: ``N``, ``L-2``,
    ``L+2``, ``2*N`` (the sizes slices, pads and concatenations of ``[L]``, ``[N]`` have).

    >>> is_named("L-2"), is_named("2*N"), is_named("N*M")
    (True, True, False)
    """
    return isinstance(d, str) and _NAMED.fullmatch(d) is not None


def broadcast(*shapes: Shape) -> Shape:
    """The NumPy broadcast of ``shapes``; symbolic dims match by name, 1 stretches.

    >>> broadcast((3, 1), (4,))
    (3, 4)
    """
    if not shapes:
        return ()
    if shapes.count(shapes[0]) == len(shapes):  # the common case, without a generator
        return shapes[0]
    ndim = max(len(s) for s in shapes)
    out: list[Dim] = []
    for axis in range(ndim):
        dims = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ShapeError("shapes " + " and ".join(format_shape(s) for s in shapes)
                             + " do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def numeric(shape: Shape) -> tuple[int, ...] | None:
    """``shape`` when every dim is a number (none named, as ``N``), else None."""
    dims = tuple(d for d in shape if isinstance(d, int))
    return dims if len(dims) == len(shape) else None


def format_shape(shape: Shape) -> str:
    """``(3, 'N')`` -> ``[3, N]``, the way shapes are written in .gc text."""
    return "scalar" if shape == () else "[" + ", ".join(str(d) for d in shape) + "]"


def not_broadcasting(values: dict[str, Any], declared: dict[str, Shape | None],
                     exc: ValueError) -> Exception:
    """An ``InputError`` naming each input's shape (and declared shape) when NumPy could
    not broadcast them (``exc``); ``exc`` itself when it is about something else."""
    if isinstance(exc, np.linalg.LinAlgError):  # linalg.py's: a singular matrix, named
        return InputError(f"{exc} at these inputs")
    if "zero-size array to reduction" in str(exc):  # max, min, argmax of an empty axis
        return InputError(f"{exc}: an empty array has no maximum or minimum (NumPy and "
                          "JAX refuse it too)")
    if "cannot reshape" in str(exc) or "equal division" in str(exc):  # N odd: reshape(x,
        # (-1, 2)) of x: [N, 3]; split(x, 2) of x: [N]
        return InputError(f"a size bound at call time does not fit: {exc}")
    if "broadcast" not in str(exc):
        return exc

    def declared_as(name: str) -> str:
        shape = declared.get(name)
        return f" (declared {format_shape(shape)})" if shape is not None else ""

    shown = ", ".join(f"{n} {tuple(getattr(v, 'shape', ()))}{declared_as(n)}"
                      for n, v in values.items())
    return InputError(f"the inputs' shapes do not broadcast together: {shown}")
