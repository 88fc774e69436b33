"""Slide mode is readable (issue 22): a picture scaled to fit a 1920 x 1080 slide has
no text under 14 px. The criterion is read from the SVG: the smallest font size times
the scale that fits the picture's canvas into the slide."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import graphc as gc
from graphc.teach.render import full_scene, pipe
from graphc.teach.words import format_number

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GRAPHS = {
    "black_scholes.gc": {"S": 100, "K": 100, "T": 1, "r": 0.05, "sigma": 0.2},
    "two_layer.gc": {"x1": 2, "x2": 3, "w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08,
                     "w5": 0.14, "w6": 0.15, "y": 1},
    "neuron.gc": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3},
    "colah.gc": {"a": 2, "b": 1},
}
READABLE = 14.0
"""Pixels: the smallest text on a 1920 x 1080 slide."""
pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz's `dot` is not installed")


def smallest_text(svg: str) -> float:
    """The height in pixels of the smallest text of ``svg`` scaled to fit 1920 x 1080."""
    size = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    scale = re.search(r'transform="scale\(([\d.]+) ([\d.]+)\)', svg)
    assert size and scale
    width, height = map(float, size.groups())
    fonts = [float(f) for f in re.findall(r'font-size="([\d.]+)"', svg)]
    assert fonts
    return min(fonts) * float(scale.group(1)) * min(1920 / width, 1080 / height)


def readable(name: str, style: gc.Style, show: str = "reverse") -> float:
    g = gc.load(EXAMPLES / name)
    return smallest_text(pipe(gc.render(g, GRAPHS[name], show=show, style=style), "svg")
                         .decode())


@pytest.mark.parametrize("name", list(GRAPHS))
def test_slide_pictures_are_readable_on_a_1920_slide(name):
    assert readable(name, gc.Style.slide()) >= READABLE


def test_the_old_slide_settings_were_not():
    """Before: larger fonts alone; the 25-node Black-Scholes picture at 4.8 px."""
    old = gc.Style.slide(direction="LR", compact=False)
    assert readable("black_scholes.gc", old) < 6
    assert readable("two_layer.gc", old) < READABLE


def test_auto_direction_takes_the_one_a_slide_shows_larger():
    g = gc.load(EXAMPLES / "black_scholes.gc")
    dot = gc.render(g, GRAPHS["black_scholes.gc"], style=gc.Style.slide())
    assert "rankdir=TB" in dot.source  # a long chain: top down, the legend beside it
    lr = readable("black_scholes.gc", gc.Style.slide(direction="LR"))
    assert smallest_text(pipe(dot, "svg").decode()) > lr
    # colah's short graph stays left to right
    assert "rankdir=LR" in gc.render(gc.load(EXAMPLES / "colah.gc"), GRAPHS["colah.gc"],
                                     style=gc.Style.slide()).source


def test_the_paths_picture_shares_the_slide_canvas():
    auto = gc.Style.slide()
    assert readable("neuron.gc", auto, show="paths") >= READABLE


def test_compact_labels_say_the_same_numbers():
    """Each wire's compact label is its rule = its value, then ``← the gradient it
    carries`` to 3 digits; each node ``name = op = value``."""
    g = gc.load(EXAMPLES / "neuron.gc")
    at = GRAPHS["neuron.gc"]
    source = gc.render(g, at, style=gc.Style.slide(direction="LR")).source
    scene = full_scene(g, at, g.outputs[0])
    carried = re.findall(r'<font color="#b91c1c">← (-?[\d.e+-]+)</font>', source)
    assert sorted(carried) == sorted(format_number(f, 3) for _, _, f in scene.flows.values())
    assert "<b>p0</b> <font point-size=\"15\">= w0 * x0</font> " in source
    assert f"= {format_number(scene.values['p0'], 3)}</font>" in source
    plain = gc.render(g, at, style=replace(gc.Style.slide(direction="LR"), compact=False))
    assert "∂p0/∂w0 = x0" in plain.source and "∂p0/∂w0" not in source
