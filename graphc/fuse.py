"""Fused elementwise evaluation with numexpr: one pass over memory per chain of ops.

NumPy evaluates ``(a + b) * (b + 1)`` as three passes with two temporaries; numexpr
evaluates the whole expression in one blocked, multi-threaded pass. With
``gc.compile(g, fuse="numexpr")`` the emitter writes chains of elementwise nodes as
``name = ne.evaluate("(a + b) * (b + 1.0)")``, still one readable line per named
node; a lone cheap op, scalars and everything else (matmuls, reductions, helpers)
stay NumPy. Memory planning writes chains into dead buffers (``out=``) too. numexpr
computes float32 inputs combined with Python-float constants in float64: a chain's
result is brought back to the dtype NumPy gives its inputs (float32 stays float32).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from . import printer
from .graph import Graph
from .ops import ADD, ATOM, COMPARE, MUL, POW, UNARY

_CALL = (ATOM, (0,))
NUMEXPR: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "add": ("{0} + {1}", ADD, (ADD, MUL)),
    "sub": ("{0} - {1}", ADD, (ADD, MUL)),
    "mul": ("{0} * {1}", MUL, (MUL, UNARY)),
    "div": ("{0} / {1}", MUL, (MUL, UNARY)),
    "pow": ("{0} ** {1}", POW, (ATOM, UNARY)),
    "neg": ("-{0}", UNARY, (UNARY,)),
    **{f: (f"{f}({{0}})", *_CALL) for f in ("exp", "log", "sqrt", "sin", "cos", "tan",
                                             "tanh")},
    "abs": ("abs({0})", *_CALL),
    "sigmoid": ("1 / (1 + exp(-{0}))", MUL, (POW,)),  # after a unary -: -(x - y)
    "relu": ("where({0} > 0, {0}, 0)", *_CALL),
    "leaky_relu": ("where({0} >= 0, {0}, {1} * {0})", ATOM, (0, MUL)),
    "elu": ("where({0} > 0, {0}, {1} * expm1({0}))", ATOM, (0, MUL)),
    "softplus": ("where({0} > 0, {0} + log1p(exp(-{0})), log1p(exp({0})))", ATOM, (0,)),
    "where": ("where({0}, {1}, {2})", ATOM, (0, 0, 0)),
    **{name: ("{0} %s {1}" % sym, COMPARE, (ADD, ADD))
       for name, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="),
                         ("eq", "=="), ("ne", "!="))},
}
"""op -> numexpr spelling, its precedence, its operands' precedences."""
CACHE = 256
"""numexpr keeps the last 256 expressions it compiled (per thread, ``necompiler``): a
function with more recompiles each at every call (a 10,000-line random DAG's gradient,
5,211 expressions: 2.7 s a call, against 0.04 s in NumPy)."""


def numexpr_names() -> set[str]:
    """Names numexpr reads as its functions, never as variables: a variable named
    ``sin`` or ``expm1`` would break (or change) an expression."""
    from numexpr.expressions import functions
    return set(functions) | {"True", "False", "None"}


_FLOAT_LITERAL = re.compile(r"(?<![\w.])\d+\.\d*|(?<![\w.])\d+[eE]|\b(inf|nan)\b")
"""A float constant in a numexpr expression (``0.5``, ``1e-3``): numexpr computes it in
float64, float32 arrays with it too (``x * 2`` and ``sin(x)`` stay float32)."""

_NAME = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


@cache
def _functions() -> frozenset[str]:
    return frozenset(numexpr_names() | {"inf", "nan"})


COSTLY = frozenset(("exp", "log", "sin", "cos", "tan", "tanh", "sigmoid", "elu", "softplus"))
"""Ops worth a numexpr call of their own: transcendental, so numexpr's threads pay."""


class Fusion:
    """Which nodes of a graph numexpr evaluates, and how the printer spells them."""

    def __init__(self, g: Graph, apart: set[str] | frozenset[str] = frozenset()):
        """``apart``: nodes printed on lines of their own, which join no chain."""
        self.g = g
        self.chained = _chains(g, apart)

    def fused(self, node: str) -> bool:
        return node in self.chained

    def style(self, numpy_form: Callable[[str], printer.Form],
              joinable: Callable[[str, str], bool] | None = None,
              buffers: dict[str, str] | None = None) -> dict:
        """Keyword arguments for ``printer.lines``: numexpr chains as
        ``ne.evaluate("...")`` (with ``out=`` the line's buffer, if it has one), the rest
        in ``numpy_form``, joined where ``joinable`` allows."""
        fused, ops = self.fused, self.g.nx._node

        def form(node: str) -> printer.Form:
            return NUMEXPR[ops[node]["op"]] if fused(node) else numpy_form(node)

        def finish(node: str, expr: str) -> str:
            if not fused(node):
                return expr
            if buffers and node in buffers:  # numexpr may compute float32 in float64
                return f'ne.evaluate("{expr}", out={buffers[node]}, casting="same_kind")'
            like = sorted(set(_NAME.findall(expr)) - _functions())
            if _FLOAT_LITERAL.search(expr) or any(ops[n]["shape"] == () for n in like
                                                  if n in ops):
                # numexpr computes float32 with a float literal or a Python float in
                # float64: the dtype NumPy gives the expression (float32 stays float32)
                dtype = f"np.result_type({', '.join(like + ['1.0'])})"
                return f'ne.evaluate("{expr}").astype({dtype}, copy=False)'
            return f'ne.evaluate("{expr}")'

        def join(node: str, consumer: str) -> bool:
            if fused(node) != fused(consumer):
                return False
            return fused(node) or joinable is None or joinable(node, consumer)

        return {"form": form, "finish": finish, "max_depth": 40, "max_width": 400,
                "fold_named": True, "joinable": join}


def _chains(g: Graph, apart: set[str] | frozenset[str]) -> set[str]:
    """The nodes numexpr evaluates: ops it spells, on values that may be arrays, that
    meet another such op in one line (an operand read by the other alone), and costly
    ones (exp, sin, ...), which numexpr spreads over all cores. A lone cheap op or a
    scalar gains nothing from numexpr, whose call costs more than NumPy's."""
    nodes = g.nx._node

    def spelled(n: str) -> bool:
        d = nodes[n]
        return d["op"] in NUMEXPR and (d["shape"] != () or d["elastic"])

    found = {n for n in g.order() if nodes[n]["op"] in COSTLY and spelled(n)}
    outputs = set(g.outputs)
    for n in g.order():
        if spelled(n) and n not in outputs and n not in apart and len(g.nx._succ[n]) == 1:
            ((reader, edge),) = g.nx._succ[n].items()
            if len(edge["slots"]) == 1 and spelled(reader):
                found.update((n, reader))
    return found


def lines_at_least(g: Graph) -> int:
    """How many ``ne.evaluate`` lines ``g``'s function has at the least: one for each
    chained node whose value leaves its chain (read elsewhere, or an output)."""
    chained, succ, outputs = _chains(g, frozenset()), g.nx._succ, set(g.outputs)
    return sum(1 for n in chained
               if n in outputs or len(succ[n]) != 1 or next(iter(succ[n])) not in chained)


def too_many(source: str) -> bool:
    """Whether a function of an emitted module calls numexpr with more expressions
    than numexpr keeps compiled (``CACHE``)."""
    return any(f.count("ne.evaluate(") > CACHE for f in source.split("\ndef "))
