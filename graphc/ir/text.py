"""Graph -> .gc text, so that ``parse(str(g))`` computes what ``g`` computes."""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..ops import ATOM, UNARY, pieces
from ..ops.shapes import format_shape
from ..ops.values import CONSTANTS
from . import numbering, printer

if TYPE_CHECKING:
    from .graph import Graph


def text_literal(value: float, integral: bool = False) -> tuple[str, int]:
    """A constant as .gc text (1e999 is how the text spells infinity)."""
    if math.isnan(value):
        return "(1e999 - 1e999)", ATOM
    if math.isinf(value):
        return ("1e999", ATOM) if value > 0 else ("-1e999", UNARY)
    return printer.numpy_literal(value, integral)


def is_text_name(name: str) -> bool:
    """Whether ``name`` reads back as itself: an identifier, no keyword, NFKC (``ﬁ`` is ``fi``)."""
    return name.isidentifier() and not keyword.iskeyword(name) and name != "__debug__" \
        and unicodedata.normalize("NFKC", name) == name


def suffixed(base: str, taken: Callable[[str], bool], k: int = 0) -> tuple[str, int]:
    """The first of ``base``, ``base_{k+1}``, ``base_{k+2}``, ... not taken, and its suffix."""
    name = base
    while taken(name):
        k += 1
        name = f"{base}_{k}"
    return name, k


def text_names(g: Graph) -> dict[str, str]:
    """Each node's name in .gc text: the one it is shown as where that reads back as itself,
    else a unique one made of its letters and digits (a builder's ``"a-b"`` is ``a_b``)."""
    shown = {n: g.shown(n) for n in g.nx}
    taken = {s for s in shown.values() if is_text_name(s)} | set(g.ops)
    names = {}
    for n, s in shown.items():
        if not is_text_name(s):
            base = "".join(c if ("_" + c).isidentifier() else "_" for c in
                           unicodedata.normalize("NFKC", s.encode("utf-8", "replace").decode()))
            s = suffixed(base if is_text_name(base) else "v_" + base, taken.__contains__)[0]
            taken.add(s)
        names[n] = s
    return names


def _declaration(g: Graph, name: str, names: dict[str, str]) -> str:
    params = g.attrs(name)["params"]
    if params.get("integer"):
        return f"{names[name]}: int{format_shape(g.shape(name)) if g.shape(name) else ''}"
    return f"{names[name]}: {format_shape(g.shape(name)) if params['declared'] else 'any'}"


def to_text(g: Graph) -> str:
    """The graph as .gc text: lambda ops, declarations, one line per named node. A function
    named as a variable is called as ``gc.name(...)`` (``sum = a + b`` then ``gc.sum(x)``)."""
    names = text_names(g)
    variables = set(names.values())
    lambdas = [f"{name} = {op.source}" for name, op in g.ops.items() if op.source]
    nodes = [n for n in g.order() if g.attrs(n)["op"] not in ("input", "const")]
    if g.outputs and (first := g.outputs[0]) in nodes and not g.n_readers(first):
        nodes.remove(first)
        nodes.append(first)  # the output is the last assigned name

    def form(node: str) -> printer.Form:
        op = g.op(node)
        operands = ["{%d}" % i for i in range(len(g.args(node)))]
        template = op.text(operands, g.attrs(node)["params"])
        if op.symbol is None and not template.startswith("{0}"):
            # written as a call, name(...): its arguments need no parens (x[1:] does)
            called = template.partition("(")[0]  # logsumexp_b is written logsumexp(...)
            if called in variables and called not in g.ops:
                template = "gc." + template
            return template, ATOM, (0,) * len(operands)
        return template, op.prec, op.slot_prec

    # lambdas first: their bodies call functions that later lines' variables may shadow
    body = printer.lines(g, nodes, printer.Spelling(names, form, text_literal), set(g.outputs))
    if renamed := numbering.tidy(g, [n for n, _ in body], names):  # t1, t2, ...: no gaps
        names.update((n, renamed[s]) for n, s in names.items() if s in renamed)
        body = [(n, numbering.words(expr, renamed)) for n, expr in body]
    lines = [f"{', '.join(names[n] for n in group)} = {expr}" for group, expr in _unpacked(
        g, body)]

    def declaring(inputs: list[str]) -> str:
        return "\n".join(lambdas + [_declaration(g, n, names) for n in inputs] + lines) + "\n"

    # an input named pi, e, inf or nan is declared: undeclared, the name reads as NumPy's
    text = declaring([n for n in g.inputs if g.attrs(n)["params"]["declared"]
                      or names[n] in CONSTANTS])
    inputs = [names[n] for n in g.inputs]
    # inputs are ordered by first use: when the lines use them in another order,
    # declare every input first (`any`: undeclared, it may be given any shape)
    return text if _first_used(text, set(inputs)) == inputs else declaring(g.inputs)


def _unpacked(g: Graph, lines: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """Each line's nodes and expression; the arrays of one call that gives several, on
    lines of their own one after another, as one line: ``a, b = split(x, 2)``."""
    out: list[tuple[list[str], str]] = []
    i = 0
    while i < len(lines):
        node, expr = lines[i]
        op, d = g.op(node), g.attrs(node)
        n = pieces.count(g, op, d["args"][0], d["params"]) \
            if op.picked and d["params"][op.picked] == 0 and expr.endswith("[0]") else 1
        run = [m for m, _ in lines[i:i + n]]
        if n > 1 and len(run) == n and all(
                g.attrs(m)["op"] == d["op"] and g.args(m) == d["args"]
                and g.attrs(m)["params"] == {**d["params"], op.picked: k}
                for k, m in enumerate(run)):
            out.append((run, expr[:-len("[0]")]))
            i += n
        else:
            out.append(([node], expr))
            i += 1
    return out


def _first_used(text: str, inputs: set[str]) -> list[str]:
    """The ``inputs`` in the order parsing orders them: declared first, then as the lines
    read them, left to right (a call's function and a lambda's body are not reads)."""
    seen: dict[str, None] = {}
    for stmt in ast.parse(text).body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            seen.setdefault(stmt.target.id, None)
        elif isinstance(stmt, ast.Assign) and not isinstance(stmt.value, ast.Lambda):
            called = {id(n.func) for n in ast.walk(stmt.value) if isinstance(n, ast.Call)}
            read = [n for n in ast.walk(stmt.value)
                    if isinstance(n, ast.Name) and id(n) not in called]
            for n in sorted(read, key=lambda n: (n.lineno, n.col_offset)):
                seen.setdefault(n.id, None)
    return [n for n in seen if n in inputs]
