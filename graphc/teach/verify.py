"""Every way to compute a gradient, side by side: path sums, reverse mode, forward mode,
central finite differences and ``sympy.diff`` of the composed expression.

The path-sum formula: d out/d x is the sum over all paths x -> out of the product of
the local derivatives on the path. Paths are always *counted* by dynamic programming
(there can be exponentially many); up to ``max_paths`` they are listed, past it summed.
"""

from __future__ import annotations

import html
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..compiler import compile as compile_graph
from ..errors import GraphcError
from ..frontend.sympy_front import from_sympy
from ..ir.derive import slot_derivatives, slot_values, to_sympy
from ..ir.graph import Graph
from ..ir.numbering import teaching
from ..ir.pretty import product
from ..ops.table import _broadcast_like, _sum_to
from .kinks import Kink, find_kinks
from .words import format_number, plural

RTOL, ATOL = 1e-7, 1e-9
"""Tolerance between the exact methods (path sums, reverse, forward, sympy)."""
FD_RTOL, FD_ATOL = 1e-4, 1e-6
"""Tolerance for central finite differences (step 6e-6 times max(1, |x|))."""
LIST_LIMIT = 10_000
"""Paths are listed one by one up to this many whatever ``max_paths`` says (a ladder of
40 diamonds has 2**40): past it they are counted and summed by dynamic programming."""


@dataclass
class PathTerm:
    """One path input -> output: its nodes, symbolic local derivatives, and product;
    ``steps``, its edges, and ``parallel``, which of them is one of several uses of its
    tail by its head (``a + a``: two edges a -> b, two paths)."""

    nodes: tuple[str, ...]
    factors: tuple[sp.Expr, ...]
    value: Any
    steps: tuple[tuple, ...] = ()
    parallel: tuple[bool, ...] = ()

    def route(self, arrow: str = " -> ", name: Any = str) -> str:
        """The nodes joined by ``arrow``, a step along one of several parallel edges
        marked by its argument position: ``b (operand 2)``."""
        return name(self.nodes[0]) + "".join(
            arrow + name(v) + (f" (operand {e[2] + 1})" if par else "")
            for v, e, par in zip(self.nodes[1:], self.steps, self.parallel))


@dataclass
class Row:
    """The derivative of the output with respect to one input, by every method."""

    input: str
    n_paths: int
    paths: list[PathTerm] | None
    path_sum: Any
    path_sum_method: str
    reverse: Any
    forward: Any
    finite_difference: Any
    sympy: Any | None
    fd_error: Any = 0.0  # the finite differences' own error, estimated (``_fd_error``)
    disagree: list[str] = field(init=False)  # the methods that differ from reverse mode

    def __post_init__(self) -> None:
        checks = [("path sum", self.path_sum, RTOL, ATOL), ("forward", self.forward, RTOL, ATOL),
                  ("finite difference", self.finite_difference, FD_RTOL,
                   FD_ATOL + np.asarray(self.fd_error)),
                  ("sympy.diff", self.sympy, RTOL, ATOL)]
        self.disagree = [name for name, v, r, a in checks
                         if v is not None and not _close(v, self.reverse, r, a)]

    @property
    def ok(self) -> bool:
        return not self.disagree


@dataclass
class Report:
    """What ``verify`` found; ``print(report)`` shows a table."""

    of: str
    at: dict[str, Any]
    rows: list[Row]
    no_forward: str | None = None  # why forward mode could not run
    kinks: list[Kink] = field(default_factory=list)  # the point sits on these

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __str__(self) -> str:
        return format_report(self)

    def __repr__(self) -> str:  # a line, not the dataclass's every field (Jupyter shows it)
        at = ", ".join(f"{k}={format_number(v)}" for k, v in self.at.items())
        bad = [f"{r.input} ({', '.join(r.disagree)})" for r in self.rows if not r.ok]
        verdict = "all methods agree" if self.ok else "METHODS DISAGREE on " + ", ".join(bad)
        return f"<graphc.verify d{self.of}/d({', '.join(r.input for r in self.rows)}) " \
            f"at {at}: {verdict}; print() it for the table>"

    def _repr_html_(self) -> str:
        """Jupyter's view: the printed report, in a box, its verdict in colour."""
        colour = "#15803d" if self.ok else "#b91c1c"
        return (f'<pre style="border-left: 4px solid {colour}; padding: .4em .8em">'
                f"{html.escape(str(self))}</pre>")


def count_paths(g: Graph, source: str, target: str, edges: set[tuple]) -> int:
    """Number of source -> target paths along ``edges``, by dynamic programming. An edge
    is (tail, head, ...): one per argument position (``slot_derivatives``), ``a + a``
    counts two paths; one per pair of nodes (``local_derivatives``), one."""
    return dp_sum(g, source, target, edges, dict.fromkeys(edges, 1), one=1)


def enumerate_paths(g: Graph, source: str, target: str, edges: set[tuple],
                    symbolic: dict, numeric: dict, limit: int | None = None) -> list[PathTerm]:
    """Every path source -> target with its product (the first ``limit`` of them:
    there can be exponentially many); iterative depth-first search. A path through
    an edge with no number in ``numeric`` (a tensor op's Jacobian) has value None."""
    between = _between(path_edges(g, source, target, edges))
    found: list[PathTerm] = []
    # node, path, factors, value, steps, parallel (a PathTerm's)
    stack: list[tuple[str, tuple[str, ...], tuple[sp.Expr, ...], Any, tuple, tuple]] = [
        (source, (source,), (), 1.0, (), ())]
    while stack and (limit is None or len(found) < limit):
        node, path, factors, value, steps, parallel = stack.pop()
        if node == target:
            found.append(PathTerm(path, factors, value, steps, parallel))
            continue
        for nxt in reversed(list(g.nx.successors(node))):
            uses = between.get((node, nxt), [])
            for e in reversed(uses):
                stack.append((nxt, path + (nxt,), factors + (symbolic[e],),
                              None if value is None or e not in numeric
                              else value * numeric[e], steps + (e,), parallel + (len(uses) > 1,)))
    return found


def _between(edges: set[tuple]) -> dict[tuple[str, str], list[tuple]]:
    """The edges from each node to each other, in argument order."""
    out: dict[tuple[str, str], list[tuple]] = {}
    for e in sorted(edges, key=lambda e: e[2:]):
        out.setdefault((e[0], e[1]), []).append(e)
    return out


def path_edges(g: Graph, source: str, target: str, edges: set[tuple]) -> set[tuple]:
    """The edges that lie on some source -> target path."""
    after, before = g.downstream([source]), g.upstream([target])
    return {e for e in edges if e[0] in after and e[1] in before}


def dp_sum(g: Graph, source: str, target: str, edges: set, numeric: dict,
           one: Any = 1.0) -> Any:
    """The sum over all source -> target paths of the products of ``numeric`` on their
    edges, in one sweep (with integer ones: the number of paths, exact)."""
    between = _between(path_edges(g, source, target, edges))
    acc: dict[str, Any] = {source: one}
    for v in g.order():
        terms = [acc[u] * numeric[e] for u in g.nx.predecessors(v) if u in acc
                 for e in between.get((u, v), [])]
        if terms:
            acc[v] = sum(terms[1:], terms[0])
    return acc.get(target, 0 * one)


def _to_input(value: Any, out: Any, x: Any) -> Any:
    """A derivative of the output, per output element, summed to the input's shape. A
    zero (no path: x does not reach the output) is zero in x's shape, whatever out's."""
    if np.ndim(value) == 0 and value == 0:
        return np.zeros(np.shape(x)) if np.ndim(x) else 0.0
    return _sum_to(_broadcast_like(value, out), x)


def _finite_difference(g: Graph, env: dict[str, Any], x: str, out: str) -> Any:
    """Central differences of the output's sum in each element of x, at step h."""
    total = _total(g, env, out)
    x0 = np.asarray(env[x], dtype=float)
    grad = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        grad[idx] = _central(total, env, x, idx, 1)
    return grad if x0.ndim else float(grad)


def _fd_error(g: Graph, env: dict[str, Any], x: str, out: str, fd: Any, reverse: Any) -> Any:
    """How far central differences at step h may be from the derivative, where they miss
    it by more than ``FD_ATOL``/``FD_RTOL``: their truncation error, which shrinks with
    the step, as |D(2h) - D(4h)| (a kink in a smooth function, relu(x)² at 0, makes it
    O(h)), plus rounding, 8·eps·|f| / h: a tolerance scaled to the function."""
    fd = np.asarray(fd, dtype=float)
    err = np.zeros(fd.shape)
    miss = ~np.isclose(fd, reverse, rtol=FD_RTOL, atol=FD_ATOL, equal_nan=True)
    if miss.any():
        total = _total(g, env, out)
        size = abs(total(env))
        for idx in np.ndindex(fd.shape):
            if miss[idx]:
                err[idx] = abs(_central(total, env, x, idx, 2) - _central(total, env, x, idx, 4)
                               ) + 8 * np.finfo(float).eps * size / _step(env[x], idx)
    return err if fd.ndim else float(err)


def _total(g: Graph, env: dict[str, Any], out: str) -> Any:
    """The output's sum as a function of the inputs' values."""
    # what passes no derivative back (stop_gradient, a comparison) is held at its value,
    # as the derivative holds it: y = stop_gradient(x) * x has dy/dx = x, not 2x
    at = g.run(dict(env))
    held = {n: at[n] for n in g.order() if g.args(n) and not g.op(n).differentiable}

    def total(values: dict[str, Any]) -> float:
        return float(np.sum(g.run({**values, **held})[out]))
    return total


def _step(x: Any, idx: tuple) -> float:
    return 6e-6 * max(1.0, abs(float(np.asarray(x, dtype=float)[idx])))


def _central(total: Any, env: dict[str, Any], x: str, idx: tuple, times: int) -> float:
    """The central difference in element ``idx`` of x at ``times`` the step."""
    h = times * _step(env[x], idx)
    plus, minus = np.array(env[x], dtype=float), np.array(env[x], dtype=float)
    plus[idx] += h
    minus[idx] -= h
    return (total({**env, x: plus}) - total({**env, x: minus})) / (2 * h)


def _sympy_derivative(g: Graph, env: dict[str, Any], x: str, out: str, out_value: Any) -> Any:
    """sympy.diff of the composed formula at ``env``; None where that formula's value is
    not the graph's: sympy simplifies as it builds (``sqrt(x)**2`` is ``x``, a number at
    x = -2 where the graph computes nan), so its derivative is another function's."""
    expr = to_sympy(g, out)
    if not _close(_sympy_value(expr, env), out_value, RTOL, ATOL):
        return None
    value = _sympy_value(sp.diff(expr, sp.Symbol(x, real=True)), env)
    return _to_input(value, out_value, env[x])


def _sympy_value(expr: sp.Expr, env: dict[str, Any]) -> Any:
    dg = from_sympy(expr, name="d")
    with np.errstate(all="ignore"):
        return dg.run({k: env[k] for k in dg.inputs})["d"]


def verify(g: Graph, at: dict[str, Any], of: str | None = None,
           wrt: list[str] | None = None, max_paths: int = 1000,
           sympy_limit: int = 200) -> Report:
    """Compare path sums, reverse, forward, finite differences and sympy.diff at ``at``.

    Paths are listed when there are at most ``max_paths`` of them (never more than
    ``LIST_LIMIT``); they are always counted, by dynamic programming.

    >>> import graphc as gc
    >>> rep = verify(gc.load("examples/colah.gc"), at={"a": 2, "b": 1})
    >>> rep.ok, [r.n_paths for r in rep.rows]
    (True, [1, 2])
    """
    g, out = teaching(g, of)  # its paths name the temporaries as the pictures do
    max_paths = min(max_paths, LIST_LIMIT)
    env = g.bind((), at)
    rev = compile_graph(g, wrt=wrt, of=out)
    value, rev_grads = rev(**env)
    try:
        _, fwd_grads = compile_graph(g, wrt=wrt, of=out, mode="forward")(**env)
        no_forward = None
    except GraphcError as exc:  # undeclared shapes through tensor ops, too many directions
        fwd_grads, no_forward = {}, str(exc)
    symbolic = slot_derivatives(g)  # one edge per use: a + a is two paths
    numeric = slot_values(g, env)
    edges = set(symbolic)
    rows, on_paths = [], set()
    for x in rev.wrt:
        n = count_paths(g, x, out, edges)
        if not path_edges(g, x, out, edges) <= set(numeric):  # Jacobians, not numbers
            paths, total, method = None, None, "not defined for tensor ops"
        elif n <= max_paths:
            paths = enumerate_paths(g, x, out, edges, symbolic, numeric)
            total = sum((p.value for p in paths[1:]), paths[0].value) if paths else 0.0
            method = "enumeration"
        else:
            paths, total, method = None, dp_sum(g, x, out, edges, numeric), "dynamic programming"
        sym = None
        if len(g.nx) <= sympy_limit and n <= max_paths:
            with suppress(GraphcError):  # not elementwise: no scalar formula to differentiate
                sym = _sympy_derivative(g, env, x, out, value)
        path_sum = None if total is None else _to_input(total, value, env[x])
        fd = _finite_difference(g, env, x, out)
        rows.append(Row(x, n, paths, path_sum, method, rev_grads[x], fwd_grads.get(x), fd, sym,
                        _fd_error(g, env, x, out, fd, rev_grads[x])))
        on_paths |= path_edges(g, x, out, edges)
    return Report(out, dict(at), rows, no_forward, find_kinks(g, symbolic, on_paths, env))


def _close(a: Any, b: Any, rtol: float, atol: Any) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def format_report(rep: Report) -> str:
    """The report as a table a person can read, then the paths of each input."""
    at = ", ".join(f"{k}={format_number(v)}" for k, v in rep.at.items())
    head = ["input", "paths", "path sum", "reverse", "forward", "finite diff", "sympy.diff",
            "agree"]
    body = [[r.input, str(r.n_paths), "-" if r.path_sum is None else format_number(r.path_sum),
             format_number(r.reverse),
             "-" if r.forward is None else format_number(r.forward),
             format_number(r.finite_difference),
             "-" if r.sympy is None else format_number(r.sympy),
             "yes" if r.ok else "NO: " + ", ".join(r.disagree)] for r in rep.rows]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = [f"d{rep.of}/d(input) at {at}", ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
              for row in [head, ["-" * w for w in widths], *body]]
    for r in rep.rows:
        if r.path_sum is None:
            lines += ["", f"{r.input}: {plural(r.n_paths, 'path')} through tensor ops, whose local "
                      "derivatives are Jacobians: no scalar path sum"]
            continue
        if r.paths is None:
            lines += ["", f"{r.input}: {r.n_paths} paths, too many to list; summed by "
                      "dynamic programming over the DAG"]
            continue
        lines += ["", f"{r.input}: {plural(r.n_paths, 'path')} to "
                  f"{rep.of}, each the product of its local derivatives"]
        for p in r.paths[:8]:
            lines.append(f"  {p.route()}:  {product(p.factors)} = "
                         f"{format_number(p.value)}")
        if len(r.paths) > 8:
            lines.append(f"  ... and {len(r.paths) - 8} more")
    if rep.no_forward:
        lines += ["", f"forward: {rep.no_forward}"]
    lines += [""] + [str(k) for k in rep.kinks]
    status = "all methods agree" if rep.ok else "METHODS DISAGREE"
    if rep.kinks and not rep.ok:
        status += " (at a kink: see above)"
    lines += [status, f"(tolerances: exact methods rtol {RTOL:g}; finite differences rtol "
              f"{FD_RTOL:g} plus their own error, estimated from steps 2h and 4h)"]
    return "\n".join(lines)
