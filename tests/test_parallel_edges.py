"""One edge per argument position in the teaching views (issue 22): ``b = a + a`` is two
edges a -> b, each with its own local derivative, gradient, path, push and question, so
micrograd's ``=`` bug (``b = a + a; b.backward()`` gives a.grad 1, not 2) can be drawn.
The compiler's merged derivative (one edge, 2) is untouched."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import sympy as sp

import graphc as gc
from graphc.ir.derive import edge_values, local_derivatives, slot_derivatives, slot_values
from graphc.teach.exercise import exercise
from graphc.teach.render import full_scene, pipe
from graphc.teach.steps import frames
from graphc.teach.verify import count_paths, enumerate_paths
from graphc.teach.wrong import picture, wrong_order

AB = "b = a + a\ne = b * a"
AT = {"a": 3.0}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


def edges_between(source: str, tail: str, head: str) -> list[str]:
    """The DOT edge statements tail -> head (their attributes), in order."""
    t, h = ("n_" + n.encode().hex() for n in (tail, head))
    return re.findall(rf"^\s*{t} -> {h} (\[.*?\])?$", source, flags=re.M | re.S)


def test_the_ir_keeps_one_merged_edge_and_the_teaching_view_has_one_per_use():
    g = gc.parse(AB)
    assert local_derivatives(g)[("a", "b")] == 2  # what autodiff and codegen use
    per_use = slot_derivatives(g)
    assert per_use[("a", "b", 0)] == 1 and per_use[("a", "b", 1)] == 1
    assert ("a", "b") not in per_use and len(per_use) == 4
    square = gc.parse("e = x * x")
    assert [str(d) for d in slot_derivatives(square).values()] == ["x", "x"]
    values = slot_values(square, square.bind((), {"x": 3.0}))
    assert values == {("x", "e", 0): 3.0, ("x", "e", 1): 3.0}


def test_sum_of_parallel_edges_is_the_merged_derivative():
    g = gc.parse("p = pow(a, a)\nq = a - a\nr = where(a > 0, a, a)\ns = a / a\nf = p + q + r + s")
    env = g.bind((), {"a": 1.7})
    merged, per_use = edge_values(g, env), slot_values(g, env)
    for (a, v), value in merged.items():
        parts = [d for (x, y, _), d in per_use.items() if (x, y) == (a, v)]
        assert np.isclose(sum(parts), value), (a, v)
    assert len([e for e in per_use if e[:2] == ("a", "p")]) == 2
    assert len([e for e in per_use if e[:2] == ("a", "r")]) == 2  # where's two branches


def test_the_picture_draws_two_labelled_edges_with_their_gradients():
    source = gc.render(gc.parse(AB), at=AT).source
    two = edges_between(source, "a", "b")
    assert len(two) == 2
    for k, attrs in enumerate(two, 1):
        assert f"∂b/∂a (operand {k}) = 1" in attrs
        assert "← 3 · 1 = 3" in attrs  # each carries ∂e/∂b · 1, and 3 + 3 + 6 = 12
    (one,) = edges_between(source, "a", "e")
    assert "∂e/∂a = b" in one and "(operand" not in one and "← 1 · 6 = 6" in one
    symbolic = gc.render(gc.parse("e = x * x")).source
    assert [("∂e/∂x (operand 1) = x" in s, "∂e/∂x (operand 2) = x" in s)
            for s in edges_between(symbolic, "x", "e")] == [(True, False), (False, True)]


def test_a_graph_without_repeated_operands_draws_as_before():
    g = gc.load("examples/colah.gc")
    source = gc.render(g, at={"a": 2, "b": 1}).source
    assert "operand" not in source and len(edges_between(source, "b", "c")) == 1


@needs_dot
def test_the_shared_layout_keeps_both_edges_apart():
    g = gc.parse(AB)
    dot = frames(g, AT)[-2][1]  # b's backward step: its two edges in focus
    assert dot.engine == "neato" and len(edges_between(dot.source, "a", "b")) == 2
    places = re.findall(r'pos="e,([-\d.]+),([-\d.]+) ', "\n".join(
        edges_between(dot.source, "a", "b")))
    assert len(places) == 2 and places[0] != places[1]
    labels = re.findall(r'lp="([-\d.]+),([-\d.]+)"', "\n".join(
        edges_between(dot.source, "a", "b")))
    (x0, y0), (x1, y1) = [(float(x), float(y)) for x, y in labels]
    assert abs(y0 - y1) > 20 or abs(x0 - x1) > 100  # labels of 2 lines do not overlap
    svg = pipe(dot, "svg").decode()
    assert svg.count("∂b/∂a (operand") == 2 and svg.count("← 3 · 1 = 3") == 2


@pytest.mark.parametrize("text, at, x, n", [
    (AB, AT, "a", 3),
    ("e = x * x", {"x": 3.0}, "x", 2),
    ("b = a + a\nc = b * b\ne = c + a", {"a": 0.7}, "a", 5),
    ("x: [3]\nb = x * x\ne = b * x + x", {"x": np.array([1.0, -2.0, 0.5])}, "x", 4),
])
def test_path_sums_count_each_use_and_equal_reverse_mode(text, at, x, n):
    g = gc.parse(text)
    rep = gc.verify(g, at=at)
    (row,) = [r for r in rep.rows if r.input == x]
    _, grads = gc.compile(g)(**at)
    assert rep.ok and row.n_paths == n and row.path_sum_method == "enumeration"
    assert len(row.paths) == n  # listed: each a product, summing to the gradient
    total = sum(p.value for p in row.paths)
    np.testing.assert_allclose(total if np.ndim(total) == 0 else np.ravel(total), grads[x])
    np.testing.assert_allclose(row.path_sum, grads[x])


def test_a_tensor_op_counts_each_use_and_has_no_scalar_path_sum():
    g = gc.parse("x: [3]\nb = x * x\ne = sum(b + x)")
    (row,) = gc.verify(g, at={"x": np.array([1.0, -2.0, 0.5])}).rows
    assert row.ok and row.n_paths == 3 and row.path_sum is None


def test_the_three_paths_of_a_plus_a_times_a():
    g = gc.parse(AB)
    symbolic, numeric = slot_derivatives(g), slot_values(g, g.bind((), AT))
    paths = enumerate_paths(g, "a", "e", set(symbolic), symbolic, numeric)
    assert [p.route() for p in paths] == ["a -> b (operand 1) -> e", "a -> b (operand 2) -> e",
                                          "a -> e"]
    assert [p.value for p in paths] == [3.0, 3.0, 6.0]
    assert count_paths(g, "a", "e", set(symbolic)) == 3
    assert count_paths(g, "a", "e", set(local_derivatives(g))) == 2  # merged: one a -> b
    text = str(gc.verify(g, at=AT))
    assert "a: 3 paths to e" in text and "a -> b (operand 2) -> e:  1 · a = 3" in text


def test_the_paths_picture_lists_and_draws_every_use():
    g = gc.parse(AB)
    source = gc.render(g, at=AT, show="paths", wrt="a").source
    assert "path 1: a → b (operand 1) → e:  1 · a = 3" in source
    assert "path 2: a → b (operand 2) → e:  1 · a = 3" in source
    assert "sum over 3 paths = ∂e/∂a = 12" in source
    overlays = re.findall(r'tooltip="path (\d)"', source)
    assert sorted(overlays) == ["1", "1", "2", "2", "3"]
    symbolic = gc.render(g, show="paths", wrt="a").source
    assert "sum over 3 paths = ∂e/∂a" in symbolic


@needs_dot
def test_path_overlays_follow_their_own_parallel_edge():
    g = gc.parse(AB)
    dot = gc.render(g, at=AT, show="paths", wrt="a")
    assert dot.engine == "neato"  # drawn at the shared layout
    t, h = ("n_" + n.encode().hex() for n in ("a", "b"))
    starts = {k: re.search(rf'{t} -> {h} \[[^\]]*?pos="([^"]+)"[^\]]*?tooltip="path {k}"',
                           dot.source, flags=re.S).group(1).split()[-1] for k in (1, 2)}
    assert starts[1] != starts[2]  # path 2 runs beside the second edge, not the first


def test_micrograds_bug_wrong_1_right_2():
    g = gc.parse("b = a + a")
    got = wrong_order(g, {"a": 3.0})
    assert got.right["a"] == 2.0 and got.overwrite["a"] == 1.0
    assert got.depth_first["a"] == 2.0 and got.wrong("overwrite") == {"a"}
    source = picture(g, {"a": 3.0}).source
    assert "with =: 1 ✗" in source and "∂b/∂a = 2" in source
    assert len(edges_between(source, "a", "b")) == 2


def test_the_wrong_order_demo_on_a_plus_a_times_a_and_on_colah():
    got = wrong_order(gc.parse(AB), AT)
    assert got.right["a"] == 12.0
    assert got.overwrite["a"] == 3.0  # b's second push overwrites e's 6 and b's first 3
    colah = wrong_order(gc.load("examples/colah.gc"), {"a": 2.0, "b": 1.0})
    assert colah.overwrite["b"] == 2.0 and colah.right["b"] == 5.0


def test_steps_push_once_per_edge():
    captions = [c for c, _ in frames(gc.parse(AB), AT)]
    assert "backward: ∂e/∂b = 3; ∂e/∂a += 3 · 1 = 3; ∂e/∂a += 3 · 1 = 3" in captions
    assert captions[-1] == "done: ∂e/∂a = 12"


def test_steps_say_so_far_until_every_edge_has_pushed():
    g = gc.parse(AB)
    full = frames(g, AT)
    e_step = next(d for c, d in full if c.startswith("backward: ∂e/∂e"))
    assert "∂e/∂a = 6 (so far)" in e_step.source  # b's two pushes still to come


@pytest.mark.parametrize("hide", ["adjoints", "derivatives"])
def test_the_exercise_asks_about_every_use(hide):
    page = exercise(gc.parse(AB), AT, hide=hide).page
    if hide == "derivatives":
        asks = re.findall(r'<th scope="row">(.*?) =</th>', page)
        assert asks == ["∂b/∂a (operand 1)", "∂b/∂a (operand 2)", "∂e/∂b", "∂e/∂a"]
        assert page.count("= ?") >= 4  # the picture asks on each of the four edges
    else:
        assert ("∂e/∂b · ∂b/∂a (operand 1) + ∂e/∂b · ∂b/∂a (operand 2) + ∂e/∂e · ∂e/∂a = "
                "3 · 1 + 3 · 1 + 1 · 6 = 12") in page


def test_full_scene_flows_add_up_to_the_adjoint():
    g = gc.parse(AB)
    scene = full_scene(g, AT, "e")
    into_a = [f for (src, _, _), (_, _, f) in scene.flows.items() if src == "a"]
    assert sorted(into_a) == [3.0, 3.0, 6.0] and sum(into_a) == scene.second["a"] == 12.0


def test_a_lambda_called_with_one_operand_twice_keeps_one_edge():
    g = gc.parse("f = lambda u, v: u * v\ny = f(a, a)\nz = y + a")
    assert slot_derivatives(g)[("a", "y", 0)] == 2 * sp.Symbol("a", real=True)
    source = gc.render(g, at=AT).source
    (one,) = edges_between(source, "a", "y")  # its derivative runs through its body
    assert "∂y/∂a = 2·a" in one and "operand" not in one and "dashed" not in one
    rep = gc.verify(g, at=AT)
    assert rep.ok and rep.rows[0].n_paths == 2
