"""Backprop step by step: the frames, their captions, and the self-contained HTML page."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.teach.steps import _figure, frames, write_steps

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AT = {"a": 2, "b": 1}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed")


def expected_frame_count(g: gc.Graph) -> int:
    """1 inputs frame + one per computed node + seed + one per node that pushes an
    adjoint to a non-constant operand + 1 final frame (every node reaches the output)."""
    computed = [n for n in g.nx if g.nx.nodes[n]["op"] not in ("input", "const")]
    pushers = [n for n in computed if any(not g.is_const(a) for a in g.args(n))]
    return 1 + len(computed) + 1 + len(pushers) + 1


@pytest.fixture(scope="module")
def colah() -> gc.Graph:
    return gc.load(EXAMPLES / "colah.gc")


@pytest.fixture(scope="module")
def colah_frames(colah):
    return frames(colah, AT)


def test_colah_frame_count(colah, colah_frames):
    assert len(colah_frames) == expected_frame_count(colah) == 9


@pytest.mark.parametrize("name, at", [
    ("neuron", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("two_layer", {"x1": 2, "x2": 3, "w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08,
                   "w5": 0.14, "w6": 0.15, "y": 1}),
])
def test_frame_count_follows_the_graph(name, at):
    g = gc.load(EXAMPLES / f"{name}.gc")
    assert len(frames(g, at)) == expected_frame_count(g)


def test_captions_walk_forward_then_backward(colah_frames):
    captions = [c for c, _ in colah_frames]
    assert captions[0].startswith("the inputs") and "a = 2" in captions[0] \
        and "b = 1" in captions[0]
    forward = captions[1:4]
    assert [c.split(":")[0] for c in forward] == ["forward"] * 3
    for node, value in (("c", "3"), ("d", "2"), ("e", "6")):
        assert any(re.match(rf"forward: {node} = .* = {value}$", c) for c in forward), node
    assert captions[4] == "backward: seed ∂e/∂e = 1"
    assert all(c.startswith("backward:") for c in captions[5:8])
    # each push is the consumer's adjoint times the local derivative on the edge
    pushes = " ".join(captions[5:8])
    for text in ("∂e/∂c += 1 · d = 2", "∂e/∂d += 1 · c = 3", "∂e/∂b += 3 · 1 = 3",
                 "∂e/∂a += 2 · 1 = 2", "∂e/∂b += 2 · 1 = 2"):
        assert text in pushes, text
    assert captions[-1].startswith("done")
    assert "∂e/∂a = 2" in captions[-1] and "∂e/∂b = 5" in captions[-1]


def _label(source: str, name: str) -> str:
    m = re.search(rf"^\t\w+ \[label=<<b>{name}</b>(.*)>(.*)\]$", source, re.M)
    assert m, name
    return m.group(0)


def test_frames_highlight_the_node_and_accumulate_adjoints(colah_frames):
    sources = [dot.source for _, dot in colah_frames]
    # forward frame for c: c is highlighted, e has no value yet
    assert "penwidth=3" in _label(sources[1], "c")
    assert "penwidth=3" not in _label(sources[1], "d")
    assert "= 6" not in _label(sources[1], "e")
    # after d pushes into b, b's adjoint is 3 so far; after c pushes, it is 5
    push_d = next(i for i, c in enumerate(c for c, _ in colah_frames)
                  if c.startswith("backward: ∂e/∂d"))
    assert "∂e/∂b = 3 (so far)" in _label(sources[push_d], "b")
    assert "∂e/∂b = 5" in _label(sources[-1], "b")
    assert "so far" not in sources[-1]


def test_frames_on_arrays():
    g = gc.load(EXAMPLES / "colah.gc")
    shots = frames(g, {"a": np.array([1.0, 2.0, 3.0]), "b": 1.0})
    assert len(shots) == 9
    assert "∂e/∂b = 15" in shots[-1][0] and "∂e/∂a = [2, 2, 2]" in shots[-1][0]


@needs_dot
def test_write_steps_writes_frames_and_page(colah, colah_frames, tmp_path):
    out = tmp_path / "steps"
    written = write_steps(colah, AT, out)
    n = len(colah_frames)
    names = [f"frame_{i:03d}.svg" for i in range(n)] + ["index.html"]
    assert [p.name for p in written] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    html = (out / "index.html").read_text(encoding="utf-8")
    for i in range(n):
        svg = (out / f"frame_{i:03d}.svg").read_text(encoding="utf-8")
        assert ET.fromstring(svg.encode()).tag.endswith("svg")
        assert svg[svg.find("<svg"):] in html, f"frame {i} is not inline in the page"
    assert html.count("<svg") == n
    for caption, _ in colah_frames:
        assert caption.replace("&", "&amp;") in html


@needs_dot
def test_page_is_self_contained_and_steppable(colah, tmp_path):
    write_steps(colah, AT, tmp_path)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    # XML namespace names look like URLs but fetch nothing; anything else would
    without_ns = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", html)
    assert "http://" not in without_ns and "https://" not in without_ns
    assert not re.search(r"\b(src|href)\s*=", without_ns)
    assert "<link" not in html and "@import" not in html
    assert html.count("<button") >= 2
    assert "keydown" in html and "ArrowRight" in html and "ArrowLeft" in html
    assert "step ${at + 1} of 9" in html


def test_page_escapes_captions():
    text = _figure("a < b & c", "<svg></svg>")
    assert "a &lt; b &amp; c" in text and "a < b & c" not in text


def test_missing_dot_leaves_no_files(colah, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "steps"
    with pytest.raises(gc.GraphcError, match="dot"):
        write_steps(colah, AT, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_values_leave_no_files(colah, tmp_path):
    out = tmp_path / "steps"
    with pytest.raises(gc.InputError):
        write_steps(colah, {"a": 2}, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_forward_steps_are_blue_backward_red(colah_frames):
    forward, backward = colah_frames[1][1].source, colah_frames[5][1].source
    assert "#1d4ed8" in _label(forward, "c") and "#d62728" not in forward
    assert "#d62728" in backward


@pytest.mark.parametrize("name, at", [
    ("colah", AT),
    ("neuron", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("mlp_small", None),
    ("black_scholes", {"S": 100.0, "K": 95.0, "r": 0.05, "sigma": 0.2, "T": 0.5}),
])
def test_the_code_beside_the_steps_computes_the_gradient(name, at):
    """The teaching listing runs, one line per node, to graphc's own gradient; every
    forward node of the picture is a line under its own name."""
    from graphc.ir.numbering import teaching
    from graphc.teach.code import listing

    g = gc.load(EXAMPLES / f"{name}.gc")
    if at is None:
        rng = np.random.default_rng(0)
        at = {x: rng.normal(size=g.shape(x)) for x in g.inputs}
        at["labels"] = np.eye(2)[[0, 1, 1, 0, 1]]
    code = listing(g, g.output())
    fn = gc.compile(g, optimize=False)
    space = dict(fn.module.__dict__)  # its helpers: _sum_to, _log_softmax ...
    exec("\n".join(code.lines), space)
    value, grads = space["value_and_grad"](**at)
    want_value, want = fn(**at)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    for x in want:
        np.testing.assert_allclose(grads[x], want[x], rtol=1e-12, atol=1e-15)
    assigned = [line.split(" = ")[0].strip() for line in code.lines[1:-1]]
    assert len(assigned) == len(set(assigned))  # one line per node
    view, _ = teaching(g)  # the temporaries as the pictures number them: t1, t2, ...
    for n in view.nx:
        if view.attrs(n)["op"] not in ("input", "const"):
            i = assigned.index(view.shown(n)) + 1
            assert code.steps[i] == ("forward", n)


def test_verify_shows_short_in_a_notebook():
    rep = gc.verify(gc.load(EXAMPLES / "colah.gc"), AT)
    assert repr(rep) == ("<graphc.verify de/d(a, b) at a=2, b=1: all methods agree; "
                         "print() it for the table>")
    page = rep._repr_html_()
    assert page.startswith("<pre") and "all methods agree" in page and "&lt;" not in page
    bad = gc.verify(gc.parse("f = relu(x)"), {"x": 0})
    assert "METHODS DISAGREE on x (finite difference)" in repr(bad) or bad.ok
