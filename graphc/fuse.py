"""Fused elementwise evaluation with numexpr: one pass over memory per chain of ops.

NumPy evaluates ``(a + b) * (b + 1)`` as three passes with two temporaries; numexpr
evaluates the whole expression in one blocked, multi-threaded pass. With
``gc.compile(g, fuse="numexpr")`` the emitter writes chains of elementwise nodes as
``name = ne.evaluate("(a + b) * (b + 1.0)")``, still one readable line per named
node; everything else (matmuls, reductions, helpers) stays NumPy. numexpr computes
float32 inputs combined with Python-float constants in float64.
"""

from __future__ import annotations

from collections.abc import Callable

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


def fusing(g: Graph, numpy_form: Callable[[str], printer.Form]) -> dict:
    """Keyword arguments for ``printer.lines`` that emit numexpr chains."""
    def fused(node: str) -> bool:
        return g.attrs(node)["op"] in NUMEXPR

    def form(node: str) -> printer.Form:
        return NUMEXPR[g.attrs(node)["op"]] if fused(node) else numpy_form(node)

    def finish(node: str, expr: str) -> str:
        return f'ne.evaluate("{expr}")' if fused(node) else expr

    return {"form": form, "finish": finish, "max_depth": 40, "max_width": 400,
            "fold_named": True,
            "joinable": lambda node, consumer: fused(node) == fused(consumer)}
