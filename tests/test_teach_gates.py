"""Gate patterns noted on request (CS231n's "add distributes", "mul swaps", "max
routes", "fork adds") and the wrong-order demo (a naive backward beside the right one)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.errors import GraphcError
from graphc.ops.table import OPS
from graphc.teach.gates import notes, op_pattern
from graphc.teach.steps import frames
from graphc.teach.style import Style
from graphc.teach.wrong import picture, wrong_order

ROOT = Path(__file__).resolve().parent.parent
COLAH = str(ROOT / "examples" / "colah.gc")
AT = {"a": 2.0, "b": 1.0}
# CS231n's "patterns in backward flow" circuit: f = 2 (x y + max(z, w))
CS231N = "p = x * y\nm = maximum(z, w)\ns = p + m\nf = 2 * s"
CS231N_AT = {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="no Graphviz")
PATTERNS = ("distributes", "swaps", "routes", "fork adds")


def label(source: str, node: str) -> str:
    """The DOT label of ``node`` (its id is its name in hex), markup stripped."""
    m = re.search(rf"^\s*n_{node.encode().hex()} \[label=<(.*)>", source, re.M)
    assert m, node
    return re.sub(r"<[^>]+>", " ", m.group(1))


# ---- gate patterns -----------------------------------------------------------------

@pytest.mark.parametrize("op, pattern", [
    ("add", "add distributes"), ("sub", "sub distributes (−)"), ("mul", "mul swaps"),
    ("maximum", "max routes"), ("relu", "max routes"), ("minimum", "min routes"),
    ("div", None), ("exp", None), ("abs", None), ("leaky_relu", None), ("neg", None),
    ("sign", None)])
def test_a_pattern_is_read_off_the_op_s_derivatives(op, pattern):
    assert op_pattern(OPS[op]) == pattern


def test_every_op_in_the_table_has_a_pattern_or_none():
    got = {name: op_pattern(op) for name, op in OPS.items()}  # none raises (mod's fmod)
    assert got["mod"] is None and got["add"] == "add distributes"


@pytest.mark.parametrize("text, at, expected", [
    (Path(COLAH).read_text(encoding="utf-8"), AT,
     {"a": [], "b": ["fork adds"], "c": ["add distributes"], "d": ["add distributes"],
      "e": ["mul swaps"]}),
    (CS231N, CS231N_AT, {"x": [], "y": [], "z": [], "w": [], "p": ["mul swaps"],
                         "m": ["max routes"], "s": ["add distributes"], "f": ["mul swaps"]}),
    ("y = x * x\nz = relu(y) - x", {"x": 1.5},
     {"x": ["fork adds"], "y": ["mul swaps"], "z": ["sub distributes (−)"]}),
])
def test_the_right_nodes_get_the_right_notes(text, at, expected):
    g = gc.parse(text)
    assert {n: notes(g, n) for n in expected} == expected
    for at_ in (None, at):  # the symbolic picture and the one with values
        source = gc.render(g, at_, style=Style(gates=True)).source
        for node, said in expected.items():
            shown = label(source, node)
            assert all(s in shown for s in said), (node, shown)
            assert sum(p in shown for p in PATTERNS) == len(said), (node, shown)


def test_no_notes_unless_asked_and_the_legend_says_what_they_mean():
    g = gc.load(COLAH)
    off = gc.render(g, AT).source
    assert not any(p in off for p in PATTERNS)
    on = gc.render(g, AT, style=Style(gates=True)).source
    assert "mul swaps: each operand gets the adjoint times the other operand" in on
    assert "max routes" not in on  # the legend lists the patterns the graph has


def test_every_step_frame_notes_the_patterns():
    got = frames(gc.load(COLAH), AT, style=Style(gates=True))
    assert all("fork adds" in label(dot.source, "b") and
               "mul swaps" in label(dot.source, "e") for _, dot in got)


def test_cli_gates_flag(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--gates", "-o", "g.dot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "fork adds" in label((tmp_path / "g.dot").read_text(encoding="utf-8"), "b")


# ---- the wrong-order demo ----------------------------------------------------------

def test_overwriting_keeps_one_consumer_s_contribution_on_colah():
    g = gc.load(COLAH)
    got = wrong_order(g, AT)
    _, grads = gc.compile(g)(**AT)
    assert got.right["b"] == pytest.approx(grads["b"]) == pytest.approx(5.0)
    assert got.right["a"] == pytest.approx(grads["a"])
    # b feeds c (∂e/∂c · 1 = d = 2) and d (∂e/∂d · 1 = c = 3): = keeps one of them
    assert got.overwrite["b"] == pytest.approx(2.0)
    assert got.wrong("overwrite") == {"b"}
    assert got.wrong("depth_first") == set()  # b is an input: it passes nothing on


def test_depth_first_passes_on_a_fork_s_adjoint_before_it_is_complete():
    g = gc.parse("b = 2 * x\nc = a + b\nd = b + 1\ne = c * d")
    at = {"a": 2.0, "x": 0.5}
    got = wrong_order(g, at)
    _, grads = gc.compile(g)(**at)
    assert got.right["x"] == pytest.approx(grads["x"]) == pytest.approx(10.0)
    assert got.depth_first["b"] == pytest.approx(5.0)  # b's own adjoint ends up right
    assert got.depth_first["x"] == pytest.approx(4.0)  # but it pushed 2, not 5
    assert got.overwrite["x"] == pytest.approx(4.0)
    assert got.wrong("depth_first") == {"x"} and got.wrong("overwrite") == {"b", "x"}


@pytest.mark.parametrize("text, at", [
    ("y = sin(x) * 3\nz = exp(y) / w", {"x": 0.3, "w": 2.0}),
    ("p = x * y\nf = 2 * p", {"x": 3.0, "y": -4.0}),
])  # x + x is two edges, and = goes wrong there: tests/test_parallel_edges.py
def test_without_fan_out_every_sweep_gives_the_same_numbers(text, at):
    g = gc.parse(text)
    got = wrong_order(g, at)
    _, grads = gc.compile(g)(**at)
    for x in at:
        assert got.right[x] == pytest.approx(grads[x])
    for n in got.right:
        assert got.overwrite[n] == pytest.approx(got.right[n])
        assert got.depth_first[n] == pytest.approx(got.right[n])


def test_arrays_are_summed_back_to_their_shape():
    g = gc.parse("x: [3]\nb = x * w\nc = b * b\nd = c + b")
    at = {"x": np.array([1.0, -2.0, 0.5]), "w": 3.0}
    got = wrong_order(g, at)
    assert np.shape(got.right["w"]) == () and np.shape(got.right["x"]) == (3,)
    b = at["x"] * at["w"]
    np.testing.assert_allclose(got.right["x"], (2 * b + 1) * at["w"])
    np.testing.assert_allclose(got.right["w"], np.sum((2 * b + 1) * at["x"]))
    # d's push overwritten by c's two (b * b: an edge per use), the last one's c_bar · b
    np.testing.assert_allclose(got.overwrite["b"], b)


def test_tensor_ops_are_refused():
    g = gc.parse("W: [2, 2]\nv: [2]\ny = W @ v\nf = sum(y * y)")
    with pytest.raises(GraphcError, match="number on every edge"):
        wrong_order(g, {"W": np.eye(2), "v": np.ones(2)})


def test_the_picture_marks_the_wrong_numbers():
    dot = picture(gc.load(COLAH), AT)
    b = label(dot.source, "b")
    assert "∂e/∂b = 5" in b and "with =: 2 ✗" in b and "depth first: 5 ✓" in b
    assert "✗" not in label(dot.source, "a")
    assert "wrong at b" in dot.source and "← 3 · 1 = 3" in dot.source  # 2 + 3 = 5
    plain = picture(gc.parse("p = x * y\nf = 2 * p"), {"x": 3.0, "y": -4.0})
    assert "✗" not in plain.source and "right on this graph" in plain.source


@needs_dot
def test_cli_wrong_order(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--wrong-order", "-o", "w.svg",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "with =: 2 ✗" in (tmp_path / "w.svg").read_text(encoding="utf-8")
    proc = cli("render", COLAH, "--wrong-order", "-o", "w.svg", cwd=tmp_path)
    assert proc.returncode == 2 and "--wrong-order" in proc.stderr
