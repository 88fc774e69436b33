"""colah's example, e = (a + b) * (b + 1) at a = 2, b = 1: e = 6, de/da = 2, de/db = 5,
through every front end, in both modes, optimized and not; and the emitted module
compared verbatim with a golden file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, assert_close

import graphc as gc

COLAH = EXAMPLES / "colah.gc"
GOLDEN = Path(__file__).parent / "golden" / "colah_grad.py"
TEXT = "c = a + b\nd = b + 1\ne = c * d\n"


def _python_front_end() -> gc.Graph:
    a, b = gc.inputs("a b")
    return gc.graph(e=(a + b) * (b + 1))


def _from_sympy() -> gc.Graph:
    a, b = sp.symbols("a b")
    return gc.from_sympy((a + b) * (b + 1), name="e")


FRONT_ENDS = {
    "parse": lambda: gc.parse(TEXT),
    "load": lambda: gc.load(COLAH),
    "load-str-path": lambda: gc.load(str(COLAH)),
    "python": _python_front_end,
    "from_sympy": _from_sympy,
}


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_colah_values(front_end: str, mode: str, optimize: bool):
    g = FRONT_ENDS[front_end]()
    assert g.inputs == ["a", "b"]
    assert g.outputs == ["e"]
    assert g.evaluate(a=2.0, b=1.0)["e"] == 6.0
    fn = gc.compile(g, mode=mode, optimize=optimize)
    value, grads = fn(a=2.0, b=1.0)
    assert float(value) == 6.0
    assert {k: float(v) for k, v in grads.items()} == {"a": 2.0, "b": 5.0}
    assert fn(2.0, 1.0)[1] == grads, "positional arguments follow g.inputs"
    assert fn(2.0, b=1.0)[1] == grads
    assert float(fn.forward(a=2.0, b=1.0)) == 6.0


def test_colah_graph_structure():
    g = gc.load(COLAH)
    assert set(g.nx.nodes) >= {"a", "b", "c", "d", "e"}
    assert all("op" in d for _, d in g.nx.nodes(data=True))
    assert g.nx.nodes["e"]["op"] == "mul" and g.nx.nodes["a"]["op"] == "input"
    order = g.order()
    assert sorted(order) == sorted(g.nx.nodes)
    position = {n: i for i, n in enumerate(order)}
    assert all(position[u] < position[v] for u, v in g.nx.edges), "not topological"
    assert order == gc.load(COLAH).order(), "the order must be the same on every run"
    env = g.evaluate(a=2.0, b=1.0)
    assert {n: env[n] for n in "abcde"} == {"a": 2.0, "b": 1.0, "c": 3.0, "d": 2.0, "e": 6.0}
    assert g.evaluate(2.0, 1.0)["e"] == 6.0  # positional, in g.inputs order


def test_colah_local_derivatives():
    ld = gc.load(COLAH).local_derivatives()
    assert set(ld) == {("a", "c"), ("b", "c"), ("b", "d"), ("c", "e"), ("d", "e")}
    assert all(isinstance(d, sp.Expr) for d in ld.values())
    at = {"a": 2, "b": 1, "c": 3, "d": 2, "e": 6}
    numbers = {k: d.subs({s: at[s.name] for s in d.free_symbols}) for k, d in ld.items()}
    assert numbers == {("a", "c"): 1, ("b", "c"): 1, ("b", "d"): 1, ("c", "e"): 2,
                       ("d", "e"): 3}
    # Symbolic, not numbers: d e / d c is the node d itself.
    assert {s.name for s in ld[("c", "e")].free_symbols} == {"d"}
    assert {s.name for s in ld[("d", "e")].free_symbols} == {"c"}


def test_inputs_are_ordered_by_first_use():
    g = gc.parse("e = (b + a) * (b + 1)")
    assert g.inputs == ["b", "a"]
    value, grads = gc.compile(g)(1.0, 2.0)  # b = 1, a = 2
    assert float(value) == 6.0 and list(grads) == ["b", "a"]
    assert {k: float(v) for k, v in grads.items()} == {"a": 2.0, "b": 5.0}
    declared = gc.parse("a: scalar\nb: scalar\ne = (b + a) * (b + 1)")
    assert declared.inputs == ["a", "b"]
    many = gc.parse("y = z3 * z1\nw = y + z0 + z1 + z2")
    assert many.inputs == ["z3", "z1", "z0", "z2"]


def test_wrt_and_of(mode: str):
    g = gc.load(COLAH)
    _, grads = gc.compile(g, wrt="b", mode=mode)(a=2.0, b=1.0)
    assert {k: float(v) for k, v in grads.items()} == {"b": 5.0}
    _, grads = gc.compile(g, wrt=["a"], mode=mode)(a=2.0, b=1.0)
    assert {k: float(v) for k, v in grads.items()} == {"a": 2.0}
    value, grads = gc.compile(g, of="c", mode=mode)(a=2.0, b=1.0)
    assert float(value) == 3.0
    assert {k: float(v) for k, v in grads.items()} == {"a": 1.0, "b": 1.0}
    value, grads = gc.compile(g, of="d", mode=mode)(a=2.0, b=1.0)
    assert {k: float(v) for k, v in grads.items()} == {"a": 0.0, "b": 1.0}


def test_colah_on_arrays(mode: str, optimize: bool):
    fn = gc.compile(gc.load(COLAH), mode=mode, optimize=optimize)
    a = np.array([2.0, 0.0, -1.0])
    value, grads = fn(a=a, b=1.0)
    assert_close(value, (a + 1.0) * 2.0)
    assert_close(grads["a"], [2.0, 2.0, 2.0])
    assert_close(grads["b"], np.sum((a + 1.0) + 2.0))  # b is a scalar: summed over a
    value, grads = fn(a=a, b=np.ones(3))
    assert_close(grads["b"], (a + 1.0) + 2.0)


def test_adjoints_shown_on_arrays_have_each_nodes_shape():
    """Undeclared inputs: reverse mode seeds with the number 1 (no ones_like); the
    adjoints it shows are still d sum(e) / d node, each of its node's shape."""
    g = gc.load(COLAH)
    h = gc.autodiff.reverse(g)
    assert "ones_like" not in {h.attrs(n)["op"] for n in h.nx}
    a, b = np.array([2.0, 0.0, -1.0]), 1.0
    shown = gc.autodiff.adjoint_values(h, h.run({"a": a, "b": b}))
    c, d = a + b, b + 1.0
    assert_close(shown["e"], np.ones(3))
    assert_close(shown["c"], np.full(3, d))
    assert np.shape(shown["d"]) == () and shown["d"] == pytest.approx(np.sum(c))
    assert_close(shown["a"], np.full(3, d))
    assert shown["b"] == pytest.approx(np.sum(c + d))
    # a declared input keeps the ones seed, whose adjoints have the output's shape
    declared = gc.autodiff.reverse(gc.parse("a: [3]\n" + TEXT))
    assert "ones_like" in {declared.attrs(n)["op"] for n in declared.nx}
    shown = gc.autodiff.adjoint_values(declared, declared.run({"a": a, "b": b}))
    assert_close(shown["c"], np.full(3, d))


def test_golden_module_reads_like_colah():
    lines = [line.strip() for line in GOLDEN.read_text().splitlines()]
    for line in ["import numpy as np", "def forward(a, b):", "def value_and_grad(a, b):",
                 "c = a + b", "d = b + 1.0", "e = c * d",
                 "return e, {'a': a_bar, 'b': b_bar}"]:
        assert line in lines, line
    # the lecture's adjoints: de/da = de/dc = d, de/db = d + c (the sum over b's two
    # paths); in the general path, stretched over e and summed back to each input
    general = GOLDEN.read_text().split("def value_and_grad")[1].split("return e,")[1]
    body = [line.strip() for line in general.splitlines()]
    assert "a_bar = _sum_to(_broadcast_like(d, e), a)" in body
    assert "b_bar = _sum_to(_broadcast_like(d + c, e), b)" in body
    assert not any("graphc" in line for line in lines if line.startswith(("import", "from")))
