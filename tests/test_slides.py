"""Pictures a teacher can put on slides (issue 22): one layout per graph shared by every
frame and picture, CS231n's gradient on each wire, gc.Style's options, PNG dpi.
Everything is read back from the DOT text, the SVG or the PNG."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from test_render import Picture

import graphc as gc
from graphc.cli import main
from graphc.errors import GraphcError
from graphc.teach.render import pipe
from graphc.teach.steps import frames

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
COLAH_AT = {"a": 2, "b": 1}
TWO_LAYER_AT = {"x1": 2, "x2": 3, "w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08,
                "w5": 0.14, "w6": 0.15, "y": 1}
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz's `dot` is not installed")
_POS = re.compile(r"^\t(\w+) \[.*?\bpos=\"([^\"]+)\"", re.M)
_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def positions(source: str) -> dict[str, str]:
    """DOT id -> the pinned place of each node."""
    return dict(_POS.findall(source))


def canvas(dot) -> tuple[str, str]:
    m = _SIZE.search(pipe(dot, "svg").decode())
    assert m
    return m.group(1), m.group(2)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


# ---- one layout: frames keep their size, pictures keep their nodes' places -----------

@pytest.mark.parametrize("example, at, style", [
    ("colah.gc", COLAH_AT, gc.Style()), ("two_layer.gc", TWO_LAYER_AT, gc.Style()),
    # top down, a wire's label that grows at the right edge would widen the late frames
    ("neuron.gc", NEURON_AT, gc.Style.slide(direction="TB", constants=False))])
def test_every_frame_has_the_same_canvas_and_node_places(example, at, style):
    g = gc.load(EXAMPLES / example)
    shown = frames(g, at, style=style)
    places = [positions(dot.source) for _, dot in shown]
    drawn = len(g.nx) - (0 if style.constants else sum(map(g.is_const, g.nx)))
    assert len(places[0]) == drawn and all(p == places[0] for p in places)
    sizes = {canvas(dot) for _, dot in shown}
    assert len(sizes) == 1, sizes


def test_values_forward_and_paths_pictures_put_each_node_in_the_same_place():
    g = gc.load(EXAMPLES / "two_layer.gc")
    values = positions(gc.render(g, TWO_LAYER_AT).source)
    assert len(values) == len(g.nx)
    for kwargs in ({"show": "forward", "wrt": "w1"}, {"show": "paths", "wrt": "x1"}):
        assert positions(gc.render(g, TWO_LAYER_AT, **kwargs).source) == values, kwargs
    steps = positions(frames(g, TWO_LAYER_AT)[3][1].source)
    assert steps == values


def test_a_pinned_picture_keeps_its_layout_in_jupyter_and_in_pipe():
    dot = gc.render(gc.load(EXAMPLES / "colah.gc"), COLAH_AT)
    m = _SIZE.search(dot._repr_image_svg_xml())  # neato without -n2 reads pos as inches
    assert m and m.groups() == canvas(dot)
    assert _SIZE.search(dot.pipe(format="svg").decode()).groups() == canvas(dot)


def _points(pos: str) -> list[tuple[float, float]]:
    return [(float(p.split(",")[-2]), float(p.split(",")[-1])) for p in pos.split()
            if not p.startswith("e,")]


def test_path_curves_run_beside_their_edges_away_from_the_labels():
    g = gc.load(EXAMPLES / "colah.gc")
    pic = Picture(gc.render(g, COLAH_AT, show="paths", wrt="b").source)
    overlays = 0
    for statements in pic.edges.values():
        base, *paths = statements
        if "lp" not in base:
            continue
        lx, ly = map(float, base["lp"].split(","))
        edge = _points(base["pos"])
        mid = edge[len(edge) // 2]
        for path in paths:
            overlays += 1
            curve = _points(path["pos"])
            assert curve != edge
            side = curve[len(curve) // 2]
            # farther from the label than the edge is: the curve never crosses it out
            assert np.hypot(side[0] - lx, side[1] - ly) > np.hypot(mid[0] - lx, mid[1] - ly)
    assert overlays == 4  # b -> c -> e and b -> d -> e


# ---- CS231n: the gradient each wire carries ---------------------------------------

_FLOW = re.compile(r"^← (\(?-?[\d.e+-]+\)?) · (\(?-?[\d.e+-]+\)?) = (-?[\d.e+-]+)$")


def _num(text: str) -> float:
    return float(text.strip("()"))


@pytest.mark.parametrize("example, at", [("colah.gc", COLAH_AT), ("neuron.gc", NEURON_AT),
                                         ("two_layer.gc", TWO_LAYER_AT)])
def test_each_wire_carries_upstream_gradient_times_local_derivative(example, at):
    g = gc.load(EXAMPLES / example)
    out = g.outputs[0]
    pic = Picture(gc.render(g, at).source)
    adjoint = {}
    for name, lines in pic.parts.items():
        for line in lines:
            m = re.fullmatch(rf"∂{out}/∂{re.escape(name)} = (-?[\d.e+-]+)", line)
            if m:
                adjoint[name] = float(m.group(1))
    _, grads = gc.compile(g)(**at)
    into: dict[str, float] = {}
    checked = 0
    for src, dst in pic.edges:
        lines = pic.lines(src, dst)
        flows = [m for m in map(_FLOW.match, lines) if m]
        if not re.fullmatch(r"-?[\d.]+", src) and lines[0] != "":
            assert len(flows) == 1, (src, dst, lines)  # every wire with a number has one
        for m in flows:
            upstream, local, flow = (_num(t) for t in m.groups())
            assert upstream == adjoint[dst], (src, dst)  # the head's adjoint, as on its node
            shown_local = lines[1][2:] if lines[1].startswith("= ") else lines[0].split(" = ")[1]
            assert local == pytest.approx(_num(shown_local)), (src, dst)
            assert flow == pytest.approx(upstream * local, rel=2e-3, abs=1e-4), (src, dst)
            into[src] = into.get(src, 0.0) + flow
            checked += 1
    assert checked >= len(g.nx) - len(g.inputs) - 1
    for x in g.inputs:  # the chain rule: what flows into an input is its gradient
        assert into[x] == pytest.approx(float(grads[x]), rel=2e-3, abs=1e-4), x


def test_forward_picture_pushes_tangents_forward_on_each_wire():
    pic = Picture(gc.render(gc.load(EXAMPLES / "colah.gc"), COLAH_AT, show="forward",
                            wrt="b").source)
    assert pic.lines("c", "e") == ["∂e/∂c = d", "= 2", "→ 1 · 2 = 2"]
    assert pic.lines("b", "d") == ["∂d/∂b = 1", "→ 1 · 1 = 1"]


def test_frames_show_a_wire_s_gradient_once_its_head_has_pushed():
    g = gc.load(EXAMPLES / "colah.gc")
    shown = frames(g, COLAH_AT)
    carried = [len(re.findall(r"^\t\w+ -> \w+ .*← ", dot.source, re.M)) for _, dot in shown]
    assert carried[:5] == [0] * 5  # the forward sweep and the seed carry nothing yet
    assert carried[5:] == [2, 3, 5, 5]  # e pushes to c and d, then d to b, c to a and b


def test_flows_can_be_turned_off_and_arrays_say_shape_and_range():
    g = gc.load(EXAMPLES / "colah.gc")
    assert "← " not in gc.render(g, COLAH_AT, style=gc.Style(flows=False)).source
    x = gc.parse("x: [6]\nw: [6]\nf = sum(x * w)")
    at = {"x": np.arange(6.0), "w": np.ones(6)}
    lines = Picture(gc.render(x, at).source).lines("x", "t1")
    assert lines[-1] == "← shape [6], values in [1, 1]", lines


# ---- gc.Style ------------------------------------------------------------------------

def test_png_dpi_is_honoured(tmp_path):
    g = gc.load(EXAMPLES / "colah.gc")
    gc.render(g, COLAH_AT, tmp_path / "96.png")
    gc.render(g, COLAH_AT, tmp_path / "192.png", style=gc.Style(dpi=192))
    (w1, h1), (w2, h2) = (png_size((tmp_path / f).read_bytes()) for f in ("96.png", "192.png"))
    assert w2 == pytest.approx(2 * w1, rel=0.02) and h2 == pytest.approx(2 * h1, rel=0.02)
    svg = pipe(gc.render(g, COLAH_AT, style=gc.Style(dpi=192)), "svg").decode()
    assert _SIZE.search(svg).groups() == canvas(gc.render(g, COLAH_AT))  # SVG keeps points


def test_slide_style_scales_fonts_and_switches_direction_and_theme():
    g = gc.load(EXAMPLES / "colah.gc")
    src = gc.render(g, COLAH_AT, style=gc.Style.slide(direction="TB", theme="dark")).source
    assert "rankdir=TB" in src and 'bgcolor="#111827"' in src
    assert re.search(r"node \[.*fontsize=18\b", src)  # 12 x 1.5
    plain = gc.render(g, COLAH_AT).source
    assert "rankdir=LR" in plain and 'bgcolor="#ffffff"' in plain
    dark = gc.render(g, COLAH_AT, show="paths", wrt="b", style=gc.Style(theme="dark"))
    assert "#000000" not in dark.source  # no black text on the dark background


def test_hiding_constants_keeps_their_values_in_the_ops_text():
    g = gc.load(EXAMPLES / "two_layer.gc")
    pic = Picture(gc.render(g, TWO_LAYER_AT, style=gc.Style(constants=False)).source)
    assert "0.5" not in pic.parts and "2" not in pic.parts
    assert "0.5 * t7" in pic.parts["error"]  # t1 ... t7: no gaps
    used = {n for e in re.findall(r"^\t(\w+) -> (\w+)", pic.source, re.M) for n in e}
    assert used <= set(pic.ids)  # no phantom node where a constant was


def test_the_legend_says_what_colours_and_edge_labels_mean():
    g = gc.load(EXAMPLES / "colah.gc")
    legend = Picture(gc.render(g, COLAH_AT).source).graph_label()
    assert "∂e/∂node (backward pass)" in legend and "value (forward pass)" in legend
    assert any("gradient flowing back" in t for t in legend)
    bare = Picture(gc.render(g, COLAH_AT, style=gc.Style(legend=False)).source)
    assert not any("forward pass" in t for t in bare.graph_label())


@pytest.mark.parametrize("kwargs", [{"theme": "sepia"}, {"direction": "RL"},
                                    {"font_scale": 0}, {"dpi": "high"}, {"dpi": True}])
def test_bad_styles_are_graphc_errors(kwargs):
    with pytest.raises(GraphcError):
        gc.Style(**kwargs)
    with pytest.raises(GraphcError, match="style="):
        gc.render(gc.load(EXAMPLES / "colah.gc"), style="slide")  # type: ignore[arg-type]


# ---- the paths picture ---------------------------------------------------------------

def _ladder(k: int) -> gc.Graph:
    return gc.parse("".join(f"x{i} = sin(x{i - 1}) + cos(x{i - 1})\n" for i in range(1, k + 1)))


def test_thirty_paths_all_look_different_and_the_cap_is_an_option():
    pic = gc.render(_ladder(5), {"x0": 0.3}, show="paths", wrt="x0", max_paths=30).source
    per_path = {int(e["tooltip"].split()[1]): (e["color"], e["style"])
                for statements in Picture(pic).edges.values() for e in statements
                if "tooltip" in e}
    assert len(per_path) == 30 and len(set(per_path.values())) == 30
    assert "... and 2 more" in pic
    few = gc.render(_ladder(5), {"x0": 0.3}, show="paths", wrt="x0", max_paths=3).source
    assert "... and 29 more" in few


def test_legend_lines_are_wrapped():
    g = gc.load(EXAMPLES / "neuron.gc")
    legend = Picture(gc.render(g, NEURON_AT, show="paths", wrt="w0").source).graph_label()
    assert max(map(len, legend)) <= 100, legend
    assert any(t.startswith("path 1: ") for t in legend)


def test_paths_without_values_are_drawn_symbolically():
    g = gc.load(EXAMPLES / "colah.gc")
    paths = gc.render(g, show="paths", wrt="b").source
    legend = Picture(paths).graph_label()
    assert "path 1: b → c → e:  1 · d" in legend and "sum over 2 paths = ∂e/∂b" in legend
    assert len(positions(paths)) == len(g.nx)  # at the places of the symbolic picture
    # the plain picture is drawn at the same places, on the same canvas
    assert positions(paths) == positions(gc.render(g).source)
    assert canvas(gc.render(g, show="paths", wrt="b")) == canvas(gc.render(g))


def test_cli_draws_a_slide(tmp_path, capsys):
    out = tmp_path / "slide.png"
    assert main(["render", str(EXAMPLES / "colah.gc"), "--at", "a=2,b=1", "--slide",
                 "--theme", "dark", "--dpi", "72", "--hide-constants", "-o", str(out)]) == 0
    w, _ = png_size(out.read_bytes())
    plain = tmp_path / "plain.png"
    gc.render(gc.load(EXAMPLES / "colah.gc"), COLAH_AT, plain, style=gc.Style.slide(
        theme="dark", dpi=72, constants=False))
    assert (w, _) == png_size(plain.read_bytes())
    assert main(["render", str(EXAMPLES / "colah.gc"), "--show", "paths", "--wrt", "b",
                 "-o", str(tmp_path / "paths.dot")]) == 0
    assert "sum over 2 paths" in (tmp_path / "paths.dot").read_text(encoding="utf-8")


# ---- the steps as one file -----------------------------------------------------------

def test_steps_export_as_an_animated_gif_and_a_pdf_page_per_step(tmp_path):
    image = pytest.importorskip("PIL.Image")
    from graphc.teach.export import export_steps

    g = gc.load(EXAMPLES / "colah.gc")
    count = len(frames(g, COLAH_AT))
    gif = export_steps(g, COLAH_AT, tmp_path / "colah.gif", style=gc.Style(dpi=48))
    with image.open(gif) as im:
        assert im.n_frames == count
        first = im.convert("RGB")
        im.seek(count - 1)
        assert im.size == first.size and im.convert("RGB").tobytes() != first.tobytes()
    assert main(["render", str(EXAMPLES / "colah.gc"), "--at", "a=2,b=1", "--dpi", "48",
                 "--steps", str(tmp_path / "colah.pdf")]) == 0
    assert (tmp_path / "colah.pdf").read_bytes().count(b"/Type /Page\n") == count
    with pytest.raises(GraphcError, match=r"\.gif, a \.pdf"):
        export_steps(g, COLAH_AT, tmp_path / "colah.mp4")
    assert not (tmp_path / "colah.mp4").exists()
