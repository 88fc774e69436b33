"""Names a student reads (issue 22): temporaries t1, t2, t3 ... without gaps in the
pictures, the stepper, the teaching code and ``str(g)``, a user's name never moved
nor taken; the teaching code's ``x_bar`` is ∂out/∂x as the picture shows it, a local
derivative ``dv_da``, a part of an adjoint ``a_bar_from_v``; every picture kind of one
graph on one canvas."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.ir.numbering import TEMP, teaching
from graphc.teach.code import listing
from graphc.teach.render import full_scene, pipe
from graphc.teach.steps import frames

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NEURON_AT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
GRAPHS = {  # name: (graph text or example file, values)
    "neuron": ("neuron.gc", NEURON_AT),  # CS231n's sigmoid neuron, gate by gate
    "sigmoid": ("f = sigmoid(w0 * x0 + w1 * x1 + w2)", NEURON_AT),  # and in one op
    "cs231n": ("p = x * y\nm = maximum(z, w)\ns = p + m\nf = 2 * s",
               {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}),
    "two_layer": ("two_layer.gc", {"x1": 2.0, "w1": 0.11, "x2": 3.0, "w2": 0.21, "w3": 0.12,
                                   "w4": 0.08, "w5": 0.14, "w6": 0.15, "y": 1.0}),
    "colah": ("colah.gc", {"a": 2.0, "b": 1.0}),
    "twice": ("b = a + a\nc = b * a", {"a": 1.5}),  # a fan-out and a doubled operand
}


def _graph(name: str) -> tuple[gc.Graph, dict]:
    text, at = GRAPHS[name]
    return (gc.load(EXAMPLES / text) if text.endswith(".gc") else gc.parse(text)), at


def _temps(names: list[str]) -> list[int]:
    return [int(n[1:]) for n in dict.fromkeys(names) if TEMP.fullmatch(n)]


# ---- temporaries without gaps -----------------------------------------------------

def test_the_neurons_temporaries_had_gaps_and_the_pictures_number_them_t1_t2_t3():
    g, at = _graph("neuron")
    assert _temps([n for n in g.order() if not g.is_const(n)]) == [3, 6, 7, 8]  # the gaps
    source = gc.render(g, at).source
    assert _temps(re.findall(r"<b>(\w+)</b>", source)) == [1, 2, 3, 4]
    captions = [c for c, _ in frames(g, at)]
    assert _temps(re.findall(r"forward: (\w+) =", " ".join(captions))) == [1, 2, 3, 4]
    assert "forward: t4 = 1 + t3 = 1.368" in captions
    code = listing(g, "f").lines
    assert "    t1 = p0 + p1" in code and "    z = t1 + w2" in code
    # the gradient's own temporaries go on from the picture's, without gaps
    used = _temps(re.findall(r"^    (\w+) =", "\n".join(code), re.M))
    assert used == list(range(1, len(used) + 1))


def test_a_users_name_like_a_temporary_stays_and_is_never_taken():
    text = "t2 = x * y\nt5 = exp(-t2)\nf = sin(t2 * 2) + t5 * cos(x * y * 2)"
    g = gc.parse(text)
    view, out = teaching(g)
    assert out == "f" and {"t2", "t5"} <= set(view.nx)
    assert view.attrs("t2")["op"] == "mul" and view.attrs("t5")["op"] == "exp"  # the user's
    temps = [n for n in view.order() if view.attrs(n)["temp"] and not view.is_const(n)]
    assert temps and "t2" not in temps and "t5" not in temps
    assert _temps(temps) == [k for k in range(1, len(temps) + 3) if k not in (2, 5)][:len(temps)]
    at = {"x": 0.3, "y": -1.2}
    assert view.evaluate(**at)["f"] == pytest.approx(g.evaluate(**at)["f"])
    source = gc.render(g, at).source
    assert source.count("<b>t2</b>") == 1 and source.count("<b>t5</b>") == 1
    assert gc.parse(str(g)).evaluate(**at)["f"] == pytest.approx(g.evaluate(**at)["f"])


def test_str_numbers_its_printed_temporaries_without_gaps_and_round_trips():
    g = gc.parse("u = x * y\nf = sin(x*y*2) + exp(-u) * cos(x*y*2) + exp(-u) * cos(x*y*3)")
    text = str(g)
    assert re.findall(r"(?m)^(t\d+) =", text) == ["t1", "t2", "t3"]
    assert str(gc.parse(text)) == text
    at = {"x": 0.4, "y": 0.7}
    assert gc.parse(text).evaluate(**at)["f"] == pytest.approx(g.evaluate(**at)["f"])
    # a user's t1 is kept; the printed temporaries skip it
    g = gc.parse("t1 = x * y\nf = sin(x*y*2) + exp(-t1) * cos(x*y*2) + exp(-t1) * cos(x*y*3)")
    text = str(g)
    assert re.findall(r"(?m)^(t\d+) =", text) == ["t1", "t2", "t3", "t4"]
    assert text.startswith("t1 = x * y\n") and str(gc.parse(text)) == text


def test_verify_names_the_paths_nodes_as_the_pictures_do():
    g, at = _graph("neuron")
    report = str(gc.verify(g, at))
    assert "w0 -> p0 -> t1 -> z -> t2 -> t3 -> t4 -> f" in report
    assert _temps(re.findall(r"\w+", report)) == [1, 2, 3, 4]


# ---- the teaching code names what the picture shows -------------------------------

def _run_listing(g: gc.Graph, at: dict) -> tuple[dict, tuple]:
    """Every variable the listing assigns, and what it returns."""
    code = listing(g, g.outputs[0]).lines
    namespace: dict = {}
    exec(gc.compile(g, optimize=False).source, namespace)  # noqa: S102 (its helpers)
    body = "\n".join(code[:-1] + ["    return locals()"])
    exec(body, namespace)  # noqa: S102 (graphc's own code)
    variables = namespace["value_and_grad"](**at)
    exec("\n".join(code), namespace)  # noqa: S102
    return variables, namespace["value_and_grad"](**at)


@pytest.mark.parametrize("name", GRAPHS)
def test_every_name_in_the_teaching_code_holds_what_the_picture_calls_it(name):
    g, at = _graph(name)
    variables, (value, grads) = _run_listing(g, at)
    view, out = teaching(g)
    scene = full_scene(view, at, out)
    shown = {view.shown(n): n for n in view.nx}
    bars = {m[:-4] for m in variables if m.endswith("_bar")}
    assert set(g.inputs) <= bars
    for x in bars:  # x_bar: the adjoint the picture shows for x at the end of the sweep
        assert variables[f"{x}_bar"] == pytest.approx(scene.second[shown[x]]), x
    parts = [m for m in variables if re.fullmatch(r"\w+_bar_from_\w+", m)]
    for m in parts:  # the red numbers on the edges a -> v (one per use of a in v)
        a, v = m.split("_bar_from_")
        edges = [flow for (tail, head, _), (_, _, flow) in scene.flows.items()
                 if (tail, head) == (shown[a], shown[v])]
        assert edges and variables[m] == pytest.approx(sum(edges)), m
    local = [m for m in variables if m not in shown and re.fullmatch(r"d\w+_d\w+", m)]
    for m in local:  # a local derivative: the number on its edge
        assert any(variables[m] == pytest.approx(d) for (a, v, *_), d in scene.edge_values.items()
                   if m == f"d{view.shown(v)}_d{view.shown(a)}"), m
    # the listing is the compiler's code: fn() without rewrites gives its numbers
    want_value, want = gc.compile(g, optimize=False)(**at)
    assert value == pytest.approx(want_value)
    for x in g.inputs:
        assert grads[x] == pytest.approx(want[x])


def test_the_sigmoid_derivative_and_the_fan_outs_parts_have_their_own_names():
    g, at = _graph("sigmoid")
    code = "\n".join(listing(g, "f").lines)
    assert re.search(r"(?m)^    df_dt4 = f \* t5$", code)  # σ' = f (1 - f): ∂f/∂t4
    assert re.search(r"(?m)^    t4_bar = 1\.0 \* df_dt4$", code)
    g, at = _graph("two_layer")
    code = "\n".join(listing(g, "error").lines)
    assert "x2_bar_from_t2" in code and "x2_bar_from_t4" in code  # x2 feeds two products
    variables, _ = _run_listing(g, at)
    assert variables["x2_bar"] == pytest.approx(
        variables["x2_bar_from_t2"] + variables["x2_bar_from_t4"])


def test_a_listing_of_numbers_leaves_out_the_helpers_that_only_arrays_need():
    """On numbers, ``_broadcast_like`` and ``_sum_to`` pass their operand on unchanged:
    the listing of a graph of numbers leaves them out (a temporary that only fed them
    takes the adjoint's name); arrays keep them, and the emitted module is unchanged."""
    g, at = _graph("colah")
    code = listing(g, "e", at).lines
    assert code[-3:] == ["    b_bar = c_bar + d_bar", "    a_bar = c_bar",
                         "    return e, {'a': a_bar, 'b': b_bar}"]
    g, at = _graph("neuron")
    code = listing(g, "f", at).lines
    assert "    w2_bar = z_bar" in code and "    w0_bar = w0_bar_from_p0" in code
    for name in GRAPHS:  # and each still computes graphc's gradient
        g, at = _graph(name)
        assert not re.search(r"_broadcast_like|_sum_to", "\n".join(listing(g, g.output(),
                                                                             at).lines))
        _, (value, grads) = _run_listing(g, at)
        want_value, want = gc.compile(g, optimize=False)(**at)
        assert value == pytest.approx(want_value) and grads == pytest.approx(want)
    source = gc.compile(_graph("colah")[0]).source  # the module: as tests/golden has it
    assert "a_bar = _sum_to(_broadcast_like(d, e), a)" in source
    # a vector beside a number: a's adjoint is e's shape, b's is summed to a number
    g, at = _graph("colah")[0], {"a": np.array([1.0, 2.0, 3.0]), "b": 2.0}
    code = listing(g, "e", at).lines
    assert "    a_bar = _sum_to(t2, a)" in code and "    b_bar = _sum_to(t3, b)" in code
    namespace: dict = {}
    exec(gc.compile(g, optimize=False).source, namespace)  # noqa: S102 (its helpers)
    exec("\n".join(code), namespace)  # noqa: S102 (graphc's own code)
    value, grads = namespace["value_and_grad"](**at)
    want_value, want = gc.compile(g, optimize=False)(**at)
    np.testing.assert_allclose(value, want_value)
    assert np.shape(grads["b"]) == () and grads["b"] == pytest.approx(want["b"])
    np.testing.assert_allclose(grads["a"], want["a"])
    # a graph of arrays keeps the helpers where they do their work
    g = gc.load(EXAMPLES / "mlp_small.gc")
    assert "_broadcast_like(" in "\n".join(listing(g, g.output()).lines)


# ---- one canvas ---------------------------------------------------------------------

def _size(dot) -> tuple[str, str]:
    svg = pipe(dot, "svg").decode()
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert found
    return found.group(1), found.group(2)


@pytest.mark.parametrize("style", [gc.Style(), gc.Style.slide(direction="TB"),
                                   gc.Style(legend=False, theme="dark", gates=True)],
                         ids=["plain", "slide", "no legend"])
def test_every_picture_kind_of_colah_has_one_canvas(style):
    g, at = _graph("colah")
    sizes = {show: _size(gc.render(g, at, show=show, style=style))
             for show in ("reverse", "forward")}
    sizes.update({f"paths {x}": _size(gc.render(g, at, show="paths", wrt=x, style=style))
                  for x in g.inputs})
    sizes.update({f"frame {k}": _size(dot) for k, (_, dot) in enumerate(
        frames(g, at, style=style)) if k in (0, 4, 8)})
    assert len(set(sizes.values())) == 1, sizes
    # the legend's room is the biggest legend's: the paths from b list two paths
    assert float(sizes["reverse"][1]) > float(_size(gc.render(g, at, style=replace(
        style, legend=False)))[1]) - 1
    symbolic = {_size(gc.render(g, style=style)),
                _size(gc.render(g, show="paths", wrt="b", style=style)),
                _size(gc.render(g, show="paths", wrt="a", style=style))}
    assert len(symbolic) == 1, symbolic


def test_the_neurons_pictures_share_a_canvas():
    g, at = _graph("neuron")
    sizes = {_size(gc.render(g, at)), _size(gc.render(g, at, show="forward", wrt="w1")),
             _size(gc.render(g, at, show="paths", wrt="x0")),
             _size(gc.render(g, at, show="paths", wrt="w2"))}
    assert len(sizes) == 1, sizes
    assert np.all([float(v) > 0 for v in next(iter(sizes))])
