"""What a command reads and prints: ``--at`` values, numbers for people, JSON."""

from __future__ import annotations

import ast
import dataclasses
import unicodedata
from typing import Any

import numpy as np

from ..errors import GraphcError
from ..ir.graph import Graph


def parse_at(text: str, g: Graph | None = None) -> dict[str, Any]:
    """``a=2,b=1`` or ``x=[1,2,3],b=0.5`` -> values; a clear error for anything else.
    The integer inputs of ``g`` (``labels: int[N]``) get integers."""
    values: dict[str, Any] = {}
    for item in _split_top(text):
        name, eq, raw = item.partition("=")
        name, raw = as_python_reads(name.strip()), raw.strip()
        if not eq or not name:
            raise GraphcError(f"--at: expected name=value, got {item.strip()!r}")
        if not raw:
            raise GraphcError(f"--at: {name} has no value")
        if name in values:
            raise GraphcError(f"--at: {name} is given twice")
        values[name] = _number_or_array(name, raw)
    if not values:
        raise GraphcError("--at: no values given (e.g. --at a=2,b=1)")
    ints = [n for n in g.inputs if n in values and g.integer(n)] if g is not None else []
    for name in ints:
        whole = np.asarray(values[name])
        if not np.all(np.isfinite(whole) & (whole == np.round(whole))):
            raise GraphcError(f"--at: {name} is declared int, got {values[name]}")
        values[name] = whole.astype(np.int64)
    return values


def as_python_reads(name: str) -> str:
    """A name as Python (and so the .gc parser) reads it: NFKC-normalized, so that
    ``--at ℌ=1`` names the input the text spells ``ℌ`` and the parser calls ``H``."""
    return unicodedata.normalize("NFKC", name)


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _number_or_array(name: str, raw: str) -> Any:
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return np.asarray(_numbers(ast.parse(raw, mode="eval").body), dtype=float)
    except (SyntaxError, ValueError):  # not numbers and lists of them, or ragged lists
        raise GraphcError(f"--at: {name}={raw!r} is not a number or a [list] of numbers"
                         ) from None


def _numbers(node: ast.expr) -> Any:
    """A number, or nested lists of them, spelled as a scalar --at value may be (.5,
    1e3, -inf, nan): read from the syntax tree, never evaluated."""
    if isinstance(node, ast.List):
        return [_numbers(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _numbers(node.operand)
        if not isinstance(value, list):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id.lower() in ("nan", "inf", "infinity"):
        return float(node.id)
    raise ValueError("not a number")


def format_value(x: Any) -> str:
    """4-6 significant digits for scalars, NumPy's own printing for arrays; no -0."""
    if np.ndim(x) == 0:
        return f"{float(x) + 0.0:.6g}"
    return np.array2string(np.asarray(x) + 0.0, precision=6, separator=", ")


def plain(x: Any) -> Any:
    """``x`` as JSON holds it: arrays as (nested) lists of numbers, a report's records
    as objects, sympy expressions as their text."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if x is None or isinstance(x, (str, bool)):
        return x
    if isinstance(x, (int, float, np.ndarray, np.generic)):
        return np.asarray(x).tolist()
    return str(x)
