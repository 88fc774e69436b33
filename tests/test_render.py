"""gc.render: what a teacher's slide shows, read back out of the DOT text and the SVG.

The DOT text is parsed here with a few regular expressions (node statements, edge
statements, attribute lists), so each assertion is about one node's label or one
edge's label, never about a substring that could come from anywhere in the picture.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent
COLAH = ROOT / "examples" / "colah.gc"
AT = {"a": 2, "b": 1}
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's `dot` is not installed")
SVG_NS = "{http://www.w3.org/2000/svg}"

_NODE = re.compile(r"^\t(\w+) \[label=<(.*)>(.*)\]$", re.M)
_PLAIN = re.compile(r'^\t(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\]$', re.M)
_EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*?)\])?$", re.M | re.S)
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|<(?:[^<>]|<[^<>]*>)*>|\S+)')


def attrs(text: str) -> dict[str, str]:
    """``key=value key="v a l" key=<html>`` -> dict (quotes and DOT escapes removed; an
    HTML label's lines joined by newlines, tags dropped)."""
    return {k: html_lines(v) if v.startswith("<") else
            v[1:-1].replace('\\"', '"') if v.startswith('"') else v
            for k, v in _ATTR.findall(text)}


def looks(attributes: dict[str, str]) -> dict[str, str]:
    """A node's attributes less where the shared layout puts it (see test_slides.py)."""
    return {k: v for k, v in attributes.items()
            if k not in ("pos", "width", "height", "fixedsize")}


def html_lines(label: str) -> str:
    return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", line))
                     for line in label[1:-1].split("<br/>"))


class Picture:
    """The nodes and edges of a DOT source, keyed by the names a reader sees."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.ids: dict[str, str] = {}  # DOT id -> the name shown in bold (or the label)
        self.parts: dict[str, list[str]] = {}  # shown name -> label lines
        self.style: dict[str, dict[str, str]] = {}
        for nid, label, rest in _NODE.findall(source):
            lines = [html.unescape(s) for s in re.split(r"<[^>]+>", label) if s]
            self.ids[nid] = lines[0]
            self.parts[lines[0]] = lines
            self.style[lines[0]] = looks(attrs(rest))
        for nid, label, rest in _PLAIN.findall(source):  # placeholders
            self.ids[nid] = label
            self.parts[label] = [label]
            self.style[label] = attrs(rest)
        # (src name, dst name) -> attribute dicts, in order (paths add extra edges)
        self.edges: dict[tuple[str, str], list[dict[str, str]]] = {}
        for src, dst, rest in _EDGE.findall(source):
            key = (self.ids.get(src, src), self.ids.get(dst, dst))
            self.edges.setdefault(key, []).append(attrs(rest or ""))

    def label(self, src: str, dst: str) -> list[str]:
        """The local derivative's lines of the (first) edge src -> dst."""
        return [t for t in self.lines(src, dst) if not t.startswith(("←", "→"))]

    def lines(self, src: str, dst: str) -> list[str]:
        """Every label line of the (first) edge src -> dst, the gradient it carries too."""
        return self.edges[(src, dst)][0].get("label", "").split("\n")

    def graph_label(self) -> list[str]:
        m = re.search(r"^\tlabel=<(.*)>$", self.source, re.M)
        assert m, "the picture has no title/legend"
        return [html.unescape(s) for s in re.split(r"<[^>]+>", m.group(1)) if s]


@pytest.fixture(scope="module")
def colah() -> gc.Graph:
    return gc.load(COLAH)


@pytest.fixture(scope="module")
def colah_values(colah: gc.Graph) -> Picture:
    return Picture(gc.render(colah, at=AT).source)


# ---- DOT text: names, values, adjoints, local derivatives ---------------------------

def test_render_returns_a_digraph_laid_out_left_to_right(colah):
    import graphviz

    dot = gc.render(colah)
    assert isinstance(dot, graphviz.Digraph)
    assert re.search(r"\brankdir=LR\b", dot.source)


def test_every_node_name_and_op_is_shown(colah, colah_values):
    shown = {n: p[:2] for n, p in colah_values.parts.items() if n not in ("1",)}
    assert shown == {"a": ["a", "input"], "b": ["b", "input"], "c": ["c", "a + b"],
                     "d": ["d", "b + 1"], "e": ["e", "c * d"]}
    # the constant 1 is a node of its own, labelled with its value
    assert "1" in colah_values.parts
    assert set(colah_values.ids.values()) == {"a", "b", "c", "d", "e", "1"}
    assert len(colah_values.ids) == len(colah.nx)


def test_forward_values_and_adjoints_on_the_nodes(colah_values):
    expected = {  # colah's figure: values, and d e / d node
        "a": ("= 2", "∂e/∂a = 2"), "b": ("= 1", "∂e/∂b = 5"), "c": ("= 3", "∂e/∂c = 2"),
        "d": ("= 2", "∂e/∂d = 3"), "e": ("= 6", "∂e/∂e = 1")}
    for node, (value, adjoint) in expected.items():
        assert colah_values.parts[node][2:] == [value, adjoint], node


def test_edges_carry_symbolic_and_numeric_local_derivatives(colah_values):
    # a constant derivative is said once, not "∂c/∂a = 1" then "= 1" (issue 22)
    expected = {("a", "c"): ["∂c/∂a = 1"], ("b", "c"): ["∂c/∂b = 1"],
                ("b", "d"): ["∂d/∂b = 1"], ("c", "e"): ["∂e/∂c = d", "= 2"],
                ("d", "e"): ["∂e/∂d = c", "= 3"]}
    for (src, dst), lines in expected.items():
        assert colah_values.label(src, dst) == lines, (src, dst)
    # the constant's edge is drawn, but carries no derivative (nothing to differentiate)
    const_edge = colah_values.edges[("1", "d")][0]
    assert "label" not in const_edge and "dashed" in const_edge.get("style", "")


def test_without_at_only_names_ops_and_symbolic_derivatives(colah):
    pic = Picture(gc.render(colah).source)
    for node in "abcde":
        assert len(pic.parts[node]) == 2, pic.parts[node]  # name and op, no value
    assert pic.label("c", "e") == ["∂e/∂c = d"]
    assert pic.label("b", "d") == ["∂d/∂b = 1"]
    assert "∂e/∂a" not in pic.source and "= 6" not in pic.source


def test_inputs_constants_outputs_and_intermediates_look_different(colah_values):
    style = colah_values.style
    looks = {kind: tuple(sorted(style[n].items()))
             for kind, n in [("input", "a"), ("const", "1"), ("output", "e"),
                             ("intermediate", "c")]}
    assert len(set(looks.values())) == 4, looks
    assert style["a"] == style["b"]  # the same kind looks the same
    assert style["c"] == style["d"]


def test_render_is_deterministic_within_a_process(colah):
    assert gc.render(colah, at=AT).source == gc.render(colah, at=AT).source
    g2 = gc.load(COLAH)
    assert gc.render(g2, at=AT).source == gc.render(colah, at=AT).source


@pytest.mark.slow  # new Python processes
def test_render_is_deterministic_across_processes(tmp_path):
    script = ("import graphc as gc, sys\n"
              f"g = gc.load({str(COLAH)!r})\n"
              "sys.stdout.write(gc.render(g, at={'a': 2, 'b': 1}, show='paths', wrt='b')"
              ".source)\n")
    outs = []
    for seed in ("1", "2"):  # different hash seeds: set/dict order must not leak in
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert "digraph" in outs[0]


# ---- forward-mode and paths pictures ----------------------------------------------

def test_forward_picture_shows_tangents_for_b(colah):
    pic = Picture(gc.render(colah, at=AT, show="forward", wrt="b").source)
    tangents = {n: pic.parts[n][3] for n in "bcde"}
    assert tangents == {"b": "∂b/∂b = 1", "c": "∂c/∂b = 1", "d": "∂d/∂b = 1",
                        "e": "∂e/∂b = 5"}
    assert pic.parts["a"][2] == "= 2"
    assert pic.parts["a"][3:] in ([], ["∂a/∂b = 0"])  # a does not depend on b
    assert pic.label("c", "e") == ["∂e/∂c = d", "= 2"]


def test_forward_picture_for_a(colah):
    pic = Picture(gc.render(colah, at=AT, show="forward", wrt="a").source)
    assert pic.parts["e"][3] == "∂e/∂a = 2"
    assert pic.parts["c"][3] == "∂c/∂a = 1"


def test_paths_picture_lists_both_paths_of_b_and_their_sum(colah):
    pic = Picture(gc.render(colah, at=AT, show="paths", wrt="b").source)
    legend = pic.graph_label()
    path_lines = [t for t in legend if t.startswith("path ")]
    assert len(path_lines) == 2, legend
    by_route = {}
    for line in path_lines:
        m = re.match(r"path \d+: (.*?):\s+(.*) = (\S+)$", line)
        assert m, line
        by_route[m.group(1)] = (m.group(2), float(m.group(3)))
    assert by_route == {"b → c → e": ("1 · d", 2.0), "b → d → e": ("1 · c", 3.0)}
    total = [t for t in legend if t.startswith("sum over")]
    assert total == ["sum over 2 paths = ∂e/∂b = 5"]
    # each path is drawn in its own colour over its own edges
    colours = {}
    for edge in [("b", "c"), ("c", "e"), ("b", "d"), ("d", "e")]:
        extra = [a for a in pic.edges[edge] if a.get("tooltip", "").startswith("path")]
        assert len(extra) == 1, edge
        colours[edge] = (extra[0]["tooltip"], extra[0]["color"])
    assert colours[("b", "c")] == colours[("c", "e")]
    assert colours[("b", "d")] == colours[("d", "e")]
    assert colours[("b", "c")] != colours[("b", "d")]
    assert not [a for a in pic.edges[("a", "c")] if "tooltip" in a]


def test_paths_picture_for_a_has_one_path(colah):
    legend = Picture(gc.render(colah, at=AT, show="paths", wrt="a").source).graph_label()
    assert [t for t in legend if t.startswith("path ")] == ["path 1: a → c → e:  1 · d = 2"]
    assert "sum over 1 path = ∂e/∂a = 2" in legend  # one path, not "1 paths"


def test_paths_picture_of_a_long_ladder_lists_a_few_and_sums_all():
    # regression: every one of the 2**40 paths used to be enumerated before 12 were shown
    k, x0 = 40, 0.3
    g = gc.parse("".join(f"x{i} = sin(x{i - 1}) + cos(x{i - 1})\n" for i in range(1, k + 1)))
    legend = Picture(gc.render(g, at={"x0": x0}, show="paths", wrt="x0").source).graph_label()
    assert len([t for t in legend if t.startswith("path ")]) == 12
    assert f"... and {2**40 - 12} more" in legend
    (total,) = [t for t in legend if t.startswith("sum over")]
    x, want = x0, 1.0
    for _ in range(k):
        want *= np.cos(x) - np.sin(x)
        x = np.sin(x) + np.cos(x)
    assert total.startswith(f"sum over {2**40} paths = ∂x{k}/∂x0 = ")
    assert float(total.rsplit("= ", 1)[1]) == pytest.approx(want, rel=1e-3)


@pytest.mark.parametrize("kwargs", [
    {"show": "forward", "wrt": "b"},  # needs values
    {"at": AT, "show": "paths", "wrt": "z"},  # not an input
    {"at": AT, "show": "sideways"},
])
def test_bad_picture_requests_are_graphc_errors(colah, kwargs):
    with pytest.raises(gc.GraphcError):
        gc.render(colah, **kwargs)


# ---- the gradient graph, arrays, awkward names ------------------------------------

def test_gradient_graph_renders(colah):
    grad = gc.compile(colah).grad_graph
    pic = Picture(gc.render(grad).source)
    assert len(pic.ids) == len(grad.nx)  # every node drawn, whatever the optimizer kept
    assert {"a", "b", "e", "a_bar", "b_bar"} <= set(pic.parts)
    assert pic.parts["a_bar"][1].startswith("sum_to(")
    assert pic.label("c", "e") == ["∂e/∂c = d"]
    assert pic.style["a_bar"] == pic.style["e"]  # the gradients are outputs too
    with_values = Picture(gc.render(grad, at=AT).source)
    assert with_values.parts["a_bar"][2] == "= 2"
    assert with_values.parts["b_bar"][2] == "= 5"


def test_gradient_graph_shape_operand_has_no_derivative(colah):
    # a_bar = sum_to(c_bar, a) uses a only for its shape: d a_bar / d a is 0, not 1
    pic = Picture(gc.render(gc.compile(colah).grad_graph).source)
    assert "label" not in pic.edges[("a", "a_bar")][0], pic.edges[("a", "a_bar")]


def test_every_structural_op_a_user_writes_draws_its_adjoint_rule():
    """An op with no elementwise formula shows its vjp on the edge; a '1' there (the
    identity's) on x.mT or a lift would be a wrong formula."""
    from graphc.ir.derive import local_derivatives
    from graphc.ops import OPS, Trait
    written = [op for op in OPS.values() if op.differentiable and not op.elementwise
               and (Trait.INTERNAL not in op.traits or op.written_as is not None)
               and op.name != "where"]  # where draws (1 if c else 0), an elementwise choice
    assert [op.name for op in written if not op.rules] == []
    g = gc.parse("x: [3, 2]\ny = sum(x.mT @ x)")
    rules = {e: str(d) for e, d in local_derivatives(g).items()}
    assert rules[("x", "t1")] == "t1_bar.mT"  # x.mT is t1


def test_small_arrays_are_shown_in_full():
    g = gc.load(COLAH)
    pic = Picture(gc.render(g, at={"a": np.array([1.0, 2.0, 3.0]), "b": 1.0}).source)
    assert pic.parts["a"][2] == "= [1, 2, 3]"
    assert pic.parts["e"][2] == "= [4, 6, 8]"
    assert pic.parts["a"][3] == "∂e/∂a = [2, 2, 2]"
    assert pic.parts["b"][3] == "∂e/∂b = 15"  # summed to b's shape: 3 + 4 + 4 + 4
    assert pic.label("d", "e") == ["∂e/∂d = c", "= [2, 3, 4]"]


def test_small_arrays_keep_their_shape():
    # regression: a (2, 1) column used to print flat, as if it had shape (2,)
    g = gc.load(COLAH)
    pic = Picture(gc.render(g, at={"a": np.array([[1.0], [2.0]]),
                                   "b": np.array([[1.0, 2.0]])}).source)
    assert pic.parts["a"][2] == "= [[1], [2]]"
    assert pic.parts["b"][2] == "= [[1, 2]]"
    assert pic.parts["e"][2] == "= [[4, 9], [6, 12]]"  # (a + b)(b + 1), broadcast
    assert pic.parts["a"][3] == "∂e/∂a = [[5], [5]]"  # (b + 1) summed over b's axis
    assert pic.parts["b"][3] == "∂e/∂b = [[9, 13]]"  # (a + 2b + 1) summed over a's axis


def test_large_arrays_are_shown_as_shape_and_range():
    g = gc.load(COLAH)
    a = np.arange(100.0).reshape(10, 10)
    pic = Picture(gc.render(g, at={"a": a, "b": 1.0}).source)
    shape, values = pic.parts["a"][2:4]  # on two lines, to keep the node narrow
    assert shape == "= shape [10, 10]" and values == "values in [0, 99]"  # not read as values
    shown = f"{shape} {values}"
    assert len(shown) < 40, shown  # not 100 numbers
    assert re.search(r"\b10\b.*\b10\b", shown), shown  # the shape
    assert re.search(r"\b0\b", shown) and re.search(r"\b99\b", shown), shown  # the range


@pytest.fixture(scope="module")
def awkward() -> tuple[gc.Graph, dict]:
    a, x = gc.input('a<b>&"q'), gc.input("x:y")
    return gc.graph(e=a * x + 1), {'a<b>&"q': 2.0, "x:y": 3.0}


def test_names_that_need_escaping_keep_the_dot_text_intact(awkward):
    g, at = awkward
    pic = Picture(gc.render(g, at=at).source)
    assert pic.parts['a<b>&"q'][:3] == ['a<b>&"q', "input", "= 2"]
    assert pic.parts["x:y"][:3] == ["x:y", "input", "= 3"]
    assert pic.parts["e"][2] == "= 7"


@needs_dot
def test_names_that_need_escaping_give_valid_svg(awkward, tmp_path):
    g, at = awkward
    gc.render(g, at=at, path=tmp_path / "odd.svg")
    root = ET.parse(tmp_path / "odd.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    assert 'a<b>&"q' in texts and "x:y" in texts
    assert "∂e/∂x:y = 2" in texts


@needs_dot
def test_backslashes_in_names_are_not_graphviz_escapes(tmp_path):
    # regression: Graphviz replaced \N in a label by the node's DOT id, and a label
    # ending in a backslash escaped its closing quote (a DOT syntax error)
    q, m = gc.input("q\\"), gc.input("m\\N")
    gc.render(gc.graph(e=q * m), at={"q\\": 2.0, "m\\N": 5.0}, path=tmp_path / "odd.svg")
    root = ET.parse(tmp_path / "odd.svg").getroot()
    texts = {"".join(t.itertext()) for t in root.iter(SVG_NS + "text")}
    for want in ("q\\", "m\\N", "q\\ * m\\N", "∂e/∂m\\N = q\\", "∂e/∂q\\ = m\\N",
                 "∂e/∂m\\N = 2", "∂e/∂q\\ = 5"):
        assert want in texts, (want, sorted(texts))


@needs_dot
def test_a_graphviz_failure_is_a_graphc_error():
    import graphviz

    from graphc.teach.render import pipe

    with pytest.raises(gc.GraphcError, match="syntax error"):
        pipe(graphviz.Digraph(body=["\ta -> \n"]), "svg")


def test_big_graph_warns_and_limit_draws_few_nodes():
    x = gc.input("x")
    y = x
    for _ in range(320):
        y = gc.sin(y)
    g = gc.graph(y=y)
    assert len(g.nx) == 321
    with pytest.warns(UserWarning, match="limit"):
        full = Picture(gc.render(g).source)
    assert len(full.ids) == 321
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asking for a limit is the answer to the warning
        dot = gc.render(g, limit=20)
    small = Picture(dot.source)
    drawn = [n for n in small.ids.values() if "more nodes" not in n]
    more = [n for n in small.ids.values() if "more nodes" in n]
    assert "y" in drawn and len(drawn) <= 21
    assert len(more) == 1 and str(321 - len(drawn)) in more[0]
    if HAVE_DOT:
        assert b"<svg" in dot.pipe(format="svg")


def test_small_graph_does_not_warn(colah):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.render(colah, at=AT)


# ---- writing files -----------------------------------------------------------------

MAGIC = {"svg": b"<svg", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


@needs_dot
@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_pictures_written_by_suffix(colah, tmp_path, fmt):
    path = tmp_path / f"colah.{fmt}"
    dot = gc.render(colah, at=AT, path=path)
    data = path.read_bytes()
    if fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag == SVG_NS + "svg"
        texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
        assert "∂e/∂b = 5" in texts and "∂e/∂c = d" in texts
    else:
        assert data.startswith(MAGIC[fmt])
    assert dot is not None
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


@needs_dot
def test_graphviz_runs_once_for_the_layout_and_legends(colah, tmp_path, monkeypatch):
    """Laying a picture out and measuring its legends is one run of ``dot`` (it was two,
    four for a slide, which lays both directions out); writing the picture one more."""
    import graphc.teach.render as render_mod

    runs: list[str] = []
    real_run, real_popen = render_mod.run_graphviz, subprocess.Popen

    def counted(source, fmt, flags, neato=False):
        runs.append(fmt)
        return real_run(source, fmt, flags, neato)

    class Started(real_popen):  # every process, so no run of Graphviz goes uncounted
        def __init__(self, *args, **kwargs):
            runs.append("process")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(render_mod, "run_graphviz", counted)
    monkeypatch.setattr(subprocess, "Popen", Started)
    for kwargs in ({}, {"at": AT}, {"at": AT, "style": gc.Style.slide()},
                   {"show": "paths", "wrt": "b"}):
        runs.clear()
        gc.render(colah, **kwargs)
        assert runs == ["json", "process"], kwargs
    runs.clear()
    gc.render(colah, path=tmp_path / "colah.svg")
    assert runs == ["json", "process", "svg", "process"]


def test_dot_file_written_without_graphviz(colah, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path = tmp_path / "colah.dot"
    dot = gc.render(colah, at=AT, path=path)
    assert path.read_text(encoding="utf-8") == dot.source
    assert "∂e/∂c = d" in path.read_text(encoding="utf-8")


def test_unknown_suffix_is_an_error_and_writes_nothing(colah, tmp_path):
    with pytest.raises(gc.GraphcError, match="txt"):
        gc.render(colah, at=AT, path=tmp_path / "colah.txt")
    assert list(tmp_path.iterdir()) == []


def test_missing_dot_binary_is_a_clear_graphc_error(colah, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for fmt in ("svg", "png", "pdf"):
        with pytest.raises(gc.GraphcError) as info:
            gc.render(colah, at=AT, path=tmp_path / f"colah.{fmt}")
        message = str(info.value)
        assert "Graphviz" in message and "dot" in message and ".dot" in message
        assert not (tmp_path / f"colah.{fmt}").exists()
    gc.render(colah, at=AT, path=tmp_path / "colah.dot")  # DOT text still works
    assert (tmp_path / "colah.dot").read_text(encoding="utf-8").startswith("digraph")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["colah.dot", "empty"]


# ---- Jupyter -----------------------------------------------------------------------

@needs_dot
def test_graph_shows_inline_in_jupyter_as_svg(colah):
    bundle = colah._repr_mimebundle_()
    assert "image/svg+xml" in bundle
    assert ET.fromstring(bundle["image/svg+xml"]).tag == SVG_NS + "svg"
    rendered = gc.render(colah, at=AT)._repr_mimebundle_()
    assert "∂e/∂b = 5" in rendered["image/svg+xml"]


def test_graph_in_jupyter_without_graphviz_falls_back_to_text(colah, tmp_path,
                                                             monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    bundle = colah._repr_mimebundle_()
    assert "graphc.Graph" in bundle.get("text/plain", "")
