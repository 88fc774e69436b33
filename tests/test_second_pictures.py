"""gc.render of a gradient graph, the graph differentiated again (issue 20, item 8):
every edge into an op that reverse mode makes carries its vjp rule, written in the
picture's own names for adjoints (``∂x_bar/∂t``), and the numbers agree with the rules."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc as gc
from graphc.ops import OPS, Trait
from graphc.teach.render import full_scene

# Programs whose gradient graphs hold the internal ops reverse mode makes
# (unslice, concat_part, unpad, untile, unrepeat, diag_place, sorted_like, ...).
PROGRAMS = {
    "slice": "x: [5]\ny = sum(slice(x, start=1) * slice(x, stop=-1))",
    "concatenate": "x: [3]\nz: [2]\ny = sum(concatenate([x, z]) ** 2)",
    "pad": "x: [3]\ny = sum(pad(x, 1) ** 2)",
    "tile": "x: [3]\ny = sum(tile(x, 2) ** 2)",
    "repeat": "x: [3]\ny = sum(repeat(x, 2) ** 2)",
    "diagonal": "x: [3, 3]\ny = sum(diagonal(x) ** 2)",
    "sort": "x: [4]\ny = sum(sort(x) * x)",
    "reshape": "x: [6]\ny = sum(reshape(x, (2, 3)) ** 2)",
    "diff": "x: [4]\ny = sum(diff(x) ** 2)",
    "prod": "x: [4]\ny = prod(x)",
    "kron": "a: [2]\nb: [2]\ny = sum(kron(a, b) ** 2)",
    "hstack": "a: [2]\nb: [2]\ny = sum(hstack([a, b]) ** 2)",
    "correlate": "a: [4]\nb: [2]\ny = sum(correlate(a, b) ** 2)",
    "matmul": "x: [3]\nW: [3, 2]\nb: [2]\ny = sum(tanh(x @ W + b))",
}
EDGE = re.compile(r'^\s*(n_[0-9a-f]+) -> (n_[0-9a-f]+)(?: \[(.*)\])?$', re.M)


def edge_labels(source: str) -> list[str | None]:
    """The label of each edge statement of a DOT text (None: a dashed, unlabelled one)."""
    out = []
    for _, _, attrs in EDGE.findall(source):
        m = re.search(r'label="((?:[^"\\]|\\.)*)"', attrs or "")
        out.append(None if m is None else m.group(1))
    return out


def test_every_op_with_a_vjp_has_a_rule_to_draw():
    """No edge falls back to "op's adjoint of": each op a gradient graph can hold, and
    that can be differentiated again, writes its vjp on its edges."""
    missing = [op.name for op in OPS.values()
               if op.differentiable and op.vjp is not None and not op.elementwise
               and not op.rules and Trait.IDENTITY not in op.traits and op.name != "where"]
    assert missing == []


@pytest.mark.parametrize("optimize", [False, True])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_gradient_graph_draws_a_rule_on_every_edge(name, optimize):
    g = gc.parse(PROGRAMS[name])
    gg = gc.compile(g, optimize=optimize).grad_graph
    for x in g.inputs:
        source = gc.render(gg, of=f"{x}_bar").source
        assert "adjoint of" not in source, name
        labels = edge_labels(source)
        assert labels
        dashed = len(re.findall(r"style=dashed", source))
        assert sum(lab is not None for lab in labels) == len(labels) - dashed
        # adjoints in the rules are named as the nodes' adjoints are: d x_bar / d t
        rules = [lab for lab in labels if lab and "+=" in lab]
        assert all(lab.startswith(f"∂{x}_bar/∂") for lab in rules), rules
        assert f"{x}_bar at" in source or f">{x}_bar<" in source  # the title: shown name


def test_the_rules_mean_what_their_numbers_say():
    """In the picture of slice's gradient graph, t2_bar's adjoint is t5's adjoint
    sliced as the rule on their edge says, and the node adjoints are d x_bar / d node
    (the seed of ones) computed independently by reverse mode."""
    g = gc.parse(PROGRAMS["slice"])
    gg = gc.compile(g, optimize=False).grad_graph
    at = {"x": np.arange(5.0)}
    source = gc.render(gg, of="x_bar", at=at).source
    by_name = {gg.shown(n): n for n in gg.nx}
    unslice = next(n for n in gg.nx if gg.op(n).name == "unslice"
                   and gg.attrs(n)["params"]["stop"] == -1)
    src = gg.args(unslice)[0]
    rule = f"∂x_bar/∂{gg.shown(src)} += ∂x_bar/∂{gg.shown(unslice)}[start:stop] along axis"
    assert rule in source
    scene = full_scene(gg, at, gg.output("x_bar"))
    np.testing.assert_array_equal(scene.second[src], scene.second[unslice][:-1])
    # x_bar = (x[:-1] shifted right) + (x[1:] shifted left): d sum(x_bar) / dx
    np.testing.assert_array_equal(scene.second[by_name["x"]], [1, 2, 2, 2, 1])


def test_plain_graphs_keep_x_bar_rules():
    """A graph without gradients in it keeps the lectures' W_bar += notation."""
    g = gc.parse(PROGRAMS["matmul"])
    labels = edge_labels(gc.render(g).source)
    assert "x_bar += t1_bar @ W.T" in labels or any(
        lab and lab.startswith("x_bar += ") for lab in labels)
    assert not any(lab and "∂" in lab and "+=" in lab for lab in labels)


@pytest.mark.parametrize("make", [gc.hvp, gc.hessian])
def test_second_order_graphs_draw(make):
    """The graphs gc.hvp and gc.hessian compile (forward over reverse) draw, with a rule
    on each edge into a structural op."""
    g = gc.parse(PROGRAMS["matmul"])
    gg = make(g).grad_graph
    source = gc.render(gg).source
    assert "adjoint of" not in source
    labels = edge_labels(source)
    assert any(lab and lab.startswith("∂y/∂") and "+=" in lab for lab in labels)
    # operands in rules by the names their nodes are shown with (t2_bar_dot, not t27)
    shown = {gg.shown(n) for n in gg.nx}
    named = [m for lab in labels if lab for m in re.findall(r"shape of (\w+)", lab)]
    assert (bool(named) or make is gc.hessian) and set(named) <= shown, (named, shown)
