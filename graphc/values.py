"""Call-time checks of input values: what a graph may be given, and declared shapes."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import shapes
from .errors import InputError


def check_value(name: str, value: Any, params: dict, dims: dict[str, int]) -> Any:
    """A checked input value: floats and float arrays pass, ints become floats."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise InputError(f"input {name!r}: expected a number or a float array, "
                         f"got {type(value).__name__}")
    if isinstance(value, (int, float)):
        try:  # NumPy's scalar, so 1/0 is inf with a warning, as for arrays
            value = np.float64(value)
        except OverflowError:
            raise InputError(f"input {name!r}: {value} is too large for a float") from None
        arr_dtype, shape = value.dtype, ()
    else:
        try:
            value = np.asarray(value)
        except Exception as exc:  # noqa: BLE001 - any conversion failure is bad input
            raise InputError(f"input {name!r}: not an array ({exc})") from None
        arr_dtype, shape = value.dtype, value.shape
        if arr_dtype.kind in "iu" and value.ndim == 0:
            value, arr_dtype = value.astype(float), np.dtype(float)
        if arr_dtype.kind != "f":
            raise InputError(f"input {name!r}: dtype {arr_dtype} is not a float dtype "
                             "(gradients need float inputs; use .astype(float))")
    if params.get("declared"):
        check_shape(name, shape, params["shape"], dims)
    return value


def check_shape(name: str, actual: tuple[int, ...], declared: shapes.Shape,
                dims: dict[str, int]) -> None:
    """Compare an actual shape with a declared one, binding symbolic dims."""
    where = f"input {name!r}: shape {tuple(actual)} does not match declared " \
            f"{shapes.format_shape(declared)}"
    if len(actual) != len(declared):
        raise InputError(where + f" (rank {len(actual)}, expected {len(declared)})")
    for got, want in zip(actual, declared):
        if isinstance(want, str):
            if dims.setdefault(want, got) != got:
                raise InputError(where + f" ({want} is {dims[want]} elsewhere, {got} here)")
        elif got != want:
            raise InputError(where)
