"""gc.verify: path sums, reverse mode, forward mode, finite differences and sympy.diff.

Expected numbers come from hand calculation (colah's figure, the CS231n neuron, the
lecture's two-layer example) or from a closed form written here with NumPy, never
from graphc itself.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import graphc as gc
from graphc.teach.verify import Report, Row, count_paths, enumerate_paths, format_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AT = {"a": 2, "b": 1}
# the module, not the function gc.verify that shadows it as an attribute of graphc
gv = importlib.import_module("graphc.teach.verify")
HEADERS = ["input", "paths", "path sum", "reverse", "forward", "finite diff", "sympy.diff",
           "agree"]


def ladder(k: int) -> gc.Graph:
    """k diamonds: x_i = sin(x_{i-1}) + cos(x_{i-1}); 2**k paths from x0 to x_k."""
    return gc.parse("".join(f"x{i} = sin(x{i - 1}) + cos(x{i - 1})\n"
                            for i in range(1, k + 1)))


def ladder_derivative(k: int, x0: float) -> float:
    """d x_k / d x0 by the chain rule, written out independently of graphc."""
    x, d = x0, 1.0
    for _ in range(k):
        d *= math.cos(x) - math.sin(x)
        x = math.sin(x) + math.cos(x)
    return d


def table(rep: Report) -> dict[str, dict[str, str]]:
    """The printed table as {input: {header: cell}} (columns split on 2+ spaces)."""
    lines = str(rep).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("input"))
    head = re.split(r"\s{2,}", lines[start].strip())
    assert head == HEADERS
    rows = {}
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = dict(zip(head, cells))
    return rows


def rows(rep: Report) -> dict[str, Row]:
    return {r.input: r for r in rep.rows}


# ---- colah -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def colah_report() -> Report:
    return gc.verify(gc.load(EXAMPLES / "colah.gc"), at=AT)


def test_colah_all_methods_agree(colah_report):
    rep = colah_report
    assert rep.ok is True
    assert rep.of == "e"
    r = rows(rep)
    assert list(r) == ["a", "b"]
    assert (r["a"].n_paths, r["b"].n_paths) == (1, 2)
    for name, want in (("a", 2.0), ("b", 5.0)):
        row = r[name]
        assert row.ok and row.disagree == []
        assert row.path_sum_method == "enumeration"
        for method in ("path_sum", "reverse", "forward", "sympy"):
            assert getattr(row, method) == pytest.approx(want, rel=1e-12), (name, method)
        assert row.finite_difference == pytest.approx(want, rel=1e-6)


def test_colah_paths_and_their_products(colah_report):
    r = rows(colah_report)
    assert [p.nodes for p in r["a"].paths] == [("a", "c", "e")]
    b_paths = {p.nodes: p for p in r["b"].paths}
    assert set(b_paths) == {("b", "c", "e"), ("b", "d", "e")}
    assert b_paths[("b", "c", "e")].value == pytest.approx(2.0)  # 1 * d
    assert b_paths[("b", "d", "e")].value == pytest.approx(3.0)  # 1 * c
    d, c = sp.Symbol("d", real=True), sp.Symbol("c", real=True)
    assert list(b_paths[("b", "c", "e")].factors) == [1, d]
    assert list(b_paths[("b", "d", "e")].factors) == [1, c]


def test_colah_printed_table(colah_report):
    text = str(colah_report)
    assert text == format_report(colah_report)
    cells = table(colah_report)
    assert cells["a"]["paths"] == "1" and cells["b"]["paths"] == "2"
    for col in ("path sum", "reverse", "forward", "finite diff", "sympy.diff"):
        assert float(cells["a"][col]) == pytest.approx(2.0), col
        assert float(cells["b"][col]) == pytest.approx(5.0), col
    assert cells["a"]["agree"] == "yes" and cells["b"]["agree"] == "yes"
    assert re.search(r"b -> c -> e:.*= 2$", text, re.M)
    assert re.search(r"b -> d -> e:.*= 3$", text, re.M)
    assert re.search(r"a -> c -> e:.*= 2$", text, re.M)
    assert "all methods agree" in text and "rtol" in text  # tolerances are stated


# ---- arrays ------------------------------------------------------------------------

def test_arrays_verify_with_gradients_in_the_input_shape():
    g = gc.load(EXAMPLES / "colah.gc")
    a = np.array([1.0, 2.0, 3.0])
    rep = gc.verify(g, at={"a": a, "b": 1.0})
    assert rep.ok
    r = rows(rep)
    # e_i = (a_i + b)(b + 1): de_i/da_i = b + 1; d sum(e)/db = sum(a + 2b + 1)
    want = {"a": np.full(3, 2.0), "b": float(np.sum(a + 2 + 1))}
    for name in ("a", "b"):
        for method in ("path_sum", "reverse", "forward", "finite_difference", "sympy"):
            got = getattr(r[name], method)
            assert np.shape(got) == np.shape(want[name]), (name, method)
            np.testing.assert_allclose(got, want[name], rtol=1e-6, err_msg=f"{name} {method}")


def test_broadcast_arrays_sum_to_each_input_shape():
    g = gc.load(EXAMPLES / "colah.gc")
    a = np.array([[1.0, 2.0, 3.0]])  # (1, 3)
    b = np.array([[1.0], [2.0]])  # (2, 1)
    rep = gc.verify(g, at={"a": a, "b": b})
    assert rep.ok
    r = rows(rep)
    want_a = np.broadcast_to(b + 1, (2, 3)).sum(axis=0, keepdims=True)
    want_b = np.broadcast_to(a + 2 * b + 1, (2, 3)).sum(axis=1, keepdims=True)
    for method in ("path_sum", "reverse", "forward", "finite_difference"):
        np.testing.assert_allclose(getattr(r["a"], method), want_a, rtol=1e-6)
        np.testing.assert_allclose(getattr(r["b"], method), want_b, rtol=1e-6)
        assert np.shape(getattr(r["a"], method)) == (1, 3)
        assert np.shape(getattr(r["b"], method)) == (2, 1)


# ---- ladders: exponentially many paths ---------------------------------------------

def test_ladder_of_three_enumerates_eight_paths():
    g = ladder(3)
    at = {"x0": 0.3}
    rep = gc.verify(g, at=at)
    assert rep.ok
    (row,) = rep.rows
    assert row.n_paths == 8 and row.path_sum_method == "enumeration"
    assert len(row.paths) == 8 and len({p.nodes for p in row.paths}) == 8
    assert all(p.nodes[0] == "x0" and p.nodes[-1] == "x3" for p in row.paths)
    assert sum(p.value for p in row.paths) == pytest.approx(row.reverse, rel=1e-12)
    assert row.reverse == pytest.approx(ladder_derivative(3, 0.3), rel=1e-12)
    # each product really is the product of its factors at the forward values
    values = g.evaluate(**at)
    subs = {sp.Symbol(n, real=True): v for n, v in values.items()}
    for p in row.paths:
        assert len(p.factors) == len(p.nodes) - 1
        product = math.prod(float(f.subs(subs)) if isinstance(f, sp.Basic) else float(f)
                            for f in p.factors)
        assert product == pytest.approx(p.value, rel=1e-12)


def test_ladder_of_forty_counts_paths_without_enumerating():
    rep = gc.verify(ladder(40), at={"x0": 0.3})
    (row,) = rep.rows
    assert row.n_paths == 2**40
    assert row.path_sum_method == "dynamic programming"
    assert row.paths is None
    assert rep.ok is True
    assert row.path_sum == pytest.approx(ladder_derivative(40, 0.3), rel=1e-9)
    assert row.sympy is None  # too many paths for a small formula
    text = str(rep)
    assert "too many to list" in text and "dynamic programming" in text
    assert table(rep)["x0"]["paths"] == str(2**40)
    assert table(rep)["x0"]["sympy.diff"] == "-"


def test_max_paths_switches_to_dynamic_programming():
    rep = gc.verify(ladder(3), at={"x0": 0.3}, max_paths=4)
    (row,) = rep.rows
    assert row.n_paths == 8 and row.paths is None
    assert row.path_sum_method == "dynamic programming"
    assert row.path_sum == pytest.approx(ladder_derivative(3, 0.3), rel=1e-12)


def test_report_lists_eight_paths_and_says_how_many_more():
    text = str(gc.verify(ladder(4), at={"x0": 0.3}))
    assert "x0: 16 paths to x4, each the product of its local derivatives" in text
    assert len(re.findall(r"^  x0 -> .* = ", text, re.M)) == 8
    assert "\n  ... and 8 more\n" in text


def test_report_says_paths_through_tensor_ops_have_no_scalar_sum():
    rep = gc.verify(gc.parse("x: [3]\ny = sum(x * x)"), at={"x": np.array([1.0, 2.0, 3.0])})
    (row,) = rep.rows
    assert rep.ok and row.path_sum is None and row.path_sum_method == "not defined for tensor ops"
    # x * x: two edges x -> t (one per use), two paths
    assert "x: 2 paths through tensor ops, whose local derivatives are Jacobians" in str(rep)


@pytest.mark.parametrize("k", [1, 2, 5, 12])
def test_count_paths_doubles_with_every_rung(k):
    g = ladder(k)
    assert count_paths(g, "x0", f"x{k}", set(g.local_derivatives())) == 2**k


def test_count_paths_counts_a_repeated_operand_once():
    g = gc.parse("e = x * x")
    edges = set(g.local_derivatives())
    assert count_paths(g, "x", "e", edges) == 1
    (path,) = enumerate_paths(g, "x", "e", edges, g.local_derivatives(),
                              {("x", "e"): 6.0})
    assert path.nodes == ("x", "e") and path.value == 6.0
    rep = gc.verify(g, at={"x": 3.0})
    assert rep.ok and rows(rep)["x"].path_sum == pytest.approx(6.0)


def test_count_paths_on_colah():
    g = gc.load(EXAMPLES / "colah.gc")
    edges = set(g.local_derivatives())
    assert count_paths(g, "a", "e", edges) == 1
    assert count_paths(g, "b", "e", edges) == 2
    assert count_paths(g, "a", "d", edges) == 0


# ---- disagreements are reported ---------------------------------------------------

def test_wrong_finite_differences_make_the_report_say_no(monkeypatch):
    monkeypatch.setattr(gv, "_finite_difference", lambda g, env, x, out: 123.0)
    rep = gc.verify(gc.load(EXAMPLES / "colah.gc"), at=AT)
    assert rep.ok is False
    for row in rep.rows:
        assert row.ok is False and row.disagree == ["finite difference"]
    cells = table(rep)
    assert cells["a"]["agree"] == "NO: finite difference"
    assert cells["b"]["agree"] == "NO: finite difference"
    assert "METHODS DISAGREE" in str(rep) and "all methods agree" not in str(rep)


def test_wrong_local_derivatives_make_the_path_sum_disagree(monkeypatch):
    real = gv.slot_values

    def doubled(g, env):
        return {e: 2 * v for e, v in real(g, env).items()}

    monkeypatch.setattr(gv, "slot_values", doubled)
    rep = gc.verify(gc.load(EXAMPLES / "colah.gc"), at=AT)
    assert not rep.ok
    assert rows(rep)["b"].disagree == ["path sum"]
    assert table(rep)["b"]["agree"] == "NO: path sum"


def test_kink_disagreement_is_reported():
    # relu at 0: the derivative convention is 0; central differences see 0.5
    rep = gc.verify(gc.parse("e = relu(a)"), at={"a": 0.0})
    (row,) = rep.rows
    assert row.reverse == 0.0 and row.finite_difference == pytest.approx(0.5)
    assert not rep.ok and row.disagree == ["finite difference"]


# ---- the sympy column --------------------------------------------------------------

def test_sympy_column_present_for_small_graphs(colah_report):
    assert all(r.sympy is not None for r in colah_report.rows)
    assert table(colah_report)["b"]["sympy.diff"] == "5"


def test_sympy_column_absent_when_the_graph_is_not_small():
    rep = gc.verify(gc.load(EXAMPLES / "colah.gc"), at=AT, sympy_limit=2)
    assert rep.ok
    assert all(r.sympy is None for r in rep.rows)
    assert {c["sympy.diff"] for c in table(rep).values()} == {"-"}


# ---- the worked examples against the published numbers -----------------------------

def test_neuron_matches_cs231n():
    g = gc.load(EXAMPLES / "neuron.gc")
    at = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    assert round(float(g.evaluate(**at)["f"]), 2) == 0.73
    rep = gc.verify(g, at=at)
    assert rep.ok
    assert rep.of == "f"
    got = {r.input: round(float(r.reverse), 2) for r in rep.rows}
    assert got == {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    # and the exact values: df/dz = f (1 - f) at z = 1
    s = 1 / (1 + math.exp(-1.0))
    exact = {"w0": -1 * s * (1 - s), "x0": 2 * s * (1 - s), "w2": s * (1 - s)}
    for name, want in exact.items():
        assert rows(rep)[name].path_sum == pytest.approx(want, rel=1e-12)


def test_two_layer_matches_the_lecture():
    g = gc.load(EXAMPLES / "two_layer.gc")
    at = {"x1": 2, "x2": 3, "w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08,
          "w5": 0.14, "w6": 0.15, "y": 1}
    values = g.evaluate(**at)
    assert values["out"] == pytest.approx(0.191, abs=1e-12)
    assert values["error"] == pytest.approx(0.5 * 0.809**2, rel=1e-12)
    assert round(float(values["error"]), 3) == 0.327
    rep = gc.verify(g, at=at)
    assert rep.ok and rep.of == "error"
    r = rows(rep)
    assert r["w5"].reverse == pytest.approx(-0.809 * 0.85, rel=1e-12)
    assert r["w6"].reverse == pytest.approx(-0.809 * 0.48, rel=1e-12)
    assert r["w1"].reverse == pytest.approx(-0.809 * 0.14 * 2, rel=1e-12)
    assert r["w5"].n_paths == 1 and r["x1"].n_paths == 2


def test_enumerate_paths_stops_at_limit():
    g = ladder(10)
    symbolic = g.local_derivatives()
    numeric = {e: 1.0 for e in symbolic}
    few = enumerate_paths(g, "x0", "x10", set(symbolic), symbolic, numeric, limit=5)
    assert len(few) == 5 and len({p.nodes for p in few}) == 5
    everything = enumerate_paths(g, "x0", "x10", set(symbolic), symbolic, numeric)
    assert len(everything) == 2**10
    assert [p.nodes for p in few] == [p.nodes for p in everything[:5]]


@pytest.mark.parametrize("value, text", [
    (2, "2"), (0.123456, "0.1235"), (123456.0, "1.235e+05"), (np.float64(-0.5), "-0.5"),
    (np.array([1.0, 2.0, 3.0]), "[1, 2, 3]"),
    (np.ones((3, 1)), "[[1], [1], [1]]"),  # a column stays a column
    (np.arange(4.0).reshape(2, 2), "[[0, 1], [2, 3]]"),
    (np.arange(100.0).reshape(10, 10), "shape [10, 10], values in [0, 99]"),  # not values
    (-0.0, "0"), (np.array([-0.0, 1.0]), "[0, 1]"),  # no "-0"
])
def test_format_number(value, text):
    assert gv.format_number(value) == text


def test_an_input_that_does_not_reach_the_output_has_zero_gradient_in_its_shape():
    """verify of an intermediate node: q does not reach h, and its shape has nothing to
    do with h's; every method gives zeros shaped like q."""
    g = gc.parse("x: [N, 3]\nq: [5]\nh = tanh(x)\ns = sum(h) + sum(q)")
    report = gc.verify(g, {"x": np.array([[1.0, 2.0, 3.0]]), "q": np.arange(5.0)}, of="h")
    assert report.ok
    q = next(r for r in report.rows if r.input == "q")
    for got in (q.reverse, q.forward, q.finite_difference, q.sympy):
        np.testing.assert_array_equal(got, np.zeros(5))


@pytest.mark.parametrize("max_paths", [0, 12])  # dynamic programming, enumeration
def test_a_tensor_op_off_the_paths_leaves_the_path_sum(max_paths):
    """x also feeds a sum that h does not read: the paths from x to h cross no Jacobian,
    so their sum is given, and equals reverse mode's."""
    g = gc.parse("x: [N, 3]\nh = tanh(x)\ns = sum(x)")
    report = gc.verify(g, {"x": np.array([[1.0, 2.0, 3.0]])}, of="h", max_paths=max_paths)
    (row,) = report.rows
    assert report.ok and row.path_sum is not None
    np.testing.assert_allclose(row.path_sum, row.reverse, rtol=1e-12)


def test_sympy_s_simplified_formula_is_not_compared_where_its_value_is_not_the_graph_s():
    """sympy builds sqrt(x)**2 as x: at -2 its derivative (1) is of another function than
    the graph computes (nan), and verify said METHODS DISAGREE."""
    g = gc.parse("f = lambda x: sqrt(x)**2\ny = f(a)")
    with np.errstate(invalid="ignore"):
        bad, good = gc.verify(g, at={"a": -2.0}), gc.verify(g, at={"a": 3.0})
    assert bad.ok and bad.rows[0].sympy is None and np.isnan(bad.rows[0].reverse)
    assert good.ok and good.rows[0].sympy == pytest.approx(1.0)
