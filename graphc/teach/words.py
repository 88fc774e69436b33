"""How the teaching views write numbers and nodes: 4 significant digits, arrays by
shape and range, a node by its op with constants by value."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.graph import Graph


def op_text(g: Graph, node: str) -> str:
    """A node's op as the pictures write it, constants by their value."""
    d = g.attrs(node)
    if d["op"] == "input":
        return "input"
    if d["op"] == "const":
        return format_number(d["params"]["value"])
    operands = [format_number(g.attrs(a)["params"]["value"]) if g.is_const(a) else g.shown(a)
                for a in d["args"]]
    return g.op(node).text(operands, d["params"])


def format_number(x: Any, digits: int = 4) -> str:
    """4 significant digits (slides: 3); small arrays in full, larger ones as shape and
    range."""
    if np.ndim(x) == 0:
        return _digits(x, digits)
    arr = np.asarray(x)
    if arr.size <= 4:  # nested like NumPy, so a (3, 1) column is not read as (3,)
        return _nested(arr, digits)
    return (f"shape {list(arr.shape)}, values in [{_digits(arr.min(), digits)}, "
            f"{_digits(arr.max(), digits)}]")


def factor_number(x: Any) -> str:
    """A number as the first factor of a product: a range of values in parentheses."""
    text = format_number(x)
    return f"({text})" if text.startswith("shape") else text


def _digits(x: Any, digits: int = 4) -> str:
    return f"{float(x) + 0.0:.{digits}g}"  # + 0.0: -0.0 is 0


def _nested(arr: np.ndarray, digits: int) -> str:
    return "[" + ", ".join(_nested(v, digits) if np.ndim(v) else _digits(v, digits)
                           for v in arr) + "]"


def plural(n: int, word: str) -> str:
    """``1 path``, ``2 paths``."""
    return f"{n} {word}{'' if n == 1 else 's'}"
