"""``gc.verify``: the gradient's methods (``verify.py``), or with ``order=2`` the
Hessian every way graphc can compute it, side by side: forward over reverse
(``gc.hessian``), reverse over reverse (the reverse-mode Jacobian of each gradient),
central finite differences of the gradient, and ``sympy.diff`` twice of the composed
expression (scalar inputs, small graphs)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal, overload

import numpy as np
import sympy as sp

from ..compiler import compile as compile_graph
from ..derivatives import hessian, jacobian
from ..errors import GraphcError
from ..ir.derive import to_sympy
from ..ir.graph import Graph
from . import verify as first
from .verify import ATOL, FD_ATOL, FD_RTOL, RTOL, Report, _close, _sympy_value, format_number

Blocks = dict[str, dict[str, Any]]
"""H[a][b], of shape a.shape + b.shape."""


@dataclass
class HessianReport:
    """What ``verify(..., order=2)`` found; ``print(report)`` shows each block."""

    of: str
    at: dict[str, Any]
    forward_over_reverse: Blocks
    reverse_over_reverse: Blocks | None
    finite_difference: Blocks
    sympy: Blocks | None
    no_reverse: str | None = None  # why reverse over reverse could not run
    disagree: list[str] = field(init=False)  # "method H[a][b]" that differ

    def __post_init__(self) -> None:
        ref = self.forward_over_reverse
        checks = [("reverse over reverse", self.reverse_over_reverse, RTOL, ATOL),
                  ("finite difference", self.finite_difference, FD_RTOL, FD_ATOL),
                  ("sympy.diff", self.sympy, RTOL, ATOL)]
        self.disagree = [f"{name} H[{a}][{b}]" for name, blocks, r, t in checks
                         if blocks is not None for a in ref for b in ref[a]
                         if not _close(blocks[a][b], ref[a][b], r, t)]

    @property
    def ok(self) -> bool:
        return not self.disagree

    def __str__(self) -> str:
        at = ", ".join(f"{k}={format_number(v)}" for k, v in self.at.items())
        lines = [f"d2{self.of}/d(a)d(b) at {at}", ""]
        for a, row in self.forward_over_reverse.items():
            for b, value in row.items():
                others = [(name, blocks[a][b]) for name, blocks in (
                    ("reverse/reverse", self.reverse_over_reverse),
                    ("finite diff", self.finite_difference), ("sympy", self.sympy))
                    if blocks is not None]
                lines.append(f"H[{a}][{b}]: forward/reverse {format_number(value)}; " + "; ".join(
                    f"{name} {format_number(v)}" for name, v in others))
        if self.no_reverse:
            lines += ["", f"reverse over reverse: {self.no_reverse}"]
        lines += ["", "all methods agree" if self.ok else
                  "METHODS DISAGREE: " + ", ".join(self.disagree)]
        return "\n".join(lines)


@overload
def verify(g: Graph, at: dict[str, Any], of: str | None = None,
           wrt: list[str] | None = None, max_paths: int = 1000, sympy_limit: int = 200,
           order: Literal[1] = 1) -> Report: ...
@overload
def verify(g: Graph, at: dict[str, Any], of: str | None = None,
           wrt: list[str] | None = None, max_paths: int = 1000, sympy_limit: int = 200,
           *, order: Literal[2]) -> HessianReport: ...
def verify(g: Graph, at: dict[str, Any], of: str | None = None,
           wrt: list[str] | None = None, max_paths: int = 1000, sympy_limit: int = 200,
           order: int = 1) -> Report | HessianReport:
    """Compare path sums, reverse, forward, finite differences and sympy.diff at ``at``
    (``verify.verify``); ``order=2``: the Hessian's four ways (``verify_hessian``)."""
    if order == 2:
        return verify_hessian(g, at, of, wrt, sympy_limit)
    if order != 1:
        raise GraphcError(f"order={order!r}: verify compares gradients (1) or Hessians (2)")
    return first.verify(g, at, of, wrt, max_paths, sympy_limit)


def verify_hessian(g: Graph, at: dict[str, Any], of: str | None = None,
                   wrt: list[str] | None = None, sympy_limit: int = 200) -> HessianReport:
    """The Hessian of ``of`` at ``at`` by four methods (see the module's docstring)."""
    out = g.output(of)
    env = g.bind((), at)
    fn = hessian(g, wrt=wrt, of=out)
    names = fn.wrt
    _, _, H = fn(**env)
    rev = compile_graph(g, wrt=names, of=out)
    reverse, no_reverse = None, None
    try:
        grad = rev.grad_graph
        reverse = {a: jacobian(grad, wrt=names, of=o, mode="reverse")(**env)[1]
                   for a, o in zip(names, grad.outputs[1:])}
    except GraphcError as exc:  # undeclared shapes through sum_to, too many cotangents
        no_reverse = str(exc)
    sym = None
    if len(g.nx) <= sympy_limit and all(np.ndim(env[n]) == 0 for n in names):
        with suppress(GraphcError):  # not elementwise: no scalar formula to differentiate
            expr = to_sympy(g, out)
            symbols = {n: sp.Symbol(n, real=True) for n in names}
            sym = {a: {b: float(_sympy_value(sp.diff(expr, symbols[a], symbols[b]), env))
                       for b in names} for a in names}
    return HessianReport(out, dict(at), H, reverse, _differences(rev, env, names), sym,
                         no_reverse)


def _differences(rev: Any, env: dict[str, Any], names: list[str]) -> Blocks:
    """Central differences of the reverse-mode gradient, one element of b at a time:
    2 n gradient calls for an input of n elements (a graph's gradient takes no stack of
    perturbed inputs in one call: a sum or a matmul would mix them), so verify's order=2
    is for small inputs; gc.hessian itself sweeps all n directions at once."""
    found: Blocks = {a: {} for a in names}
    for b in names:
        x0 = np.asarray(env[b], dtype=float)
        columns: dict[str, list] = {a: [] for a in names}
        for idx in np.ndindex(x0.shape):
            h = 6e-6 * max(1.0, abs(float(x0[idx])))
            plus, minus = x0.copy(), x0.copy()
            plus[idx] += h
            minus[idx] -= h
            up, down = rev(**{**env, b: plus})[1], rev(**{**env, b: minus})[1]
            for a in names:
                columns[a].append((np.asarray(up[a]) - np.asarray(down[a])) / (2 * h))
        for a in names:  # a's axes first, then b's
            stacked = np.stack(columns[a], axis=-1) if columns[a] else \
                np.zeros(np.shape(env[a]) + (0,))
            found[a][b] = stacked.reshape(np.shape(env[a]) + x0.shape)
    return found
