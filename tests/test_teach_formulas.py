"""Printed maths means what its number says: every product in the step captions, the
paths legend, verify's report and every rule on a picture's edges is read back as
Python and evaluated at the graph's values, and must give the number printed beside it
(issue 22: ``3 · 1 - h²`` printed for 3(1 - h²)). Choices print as Iverson brackets."""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import graphc as gc
from graphc.ir.numbering import teaching
from graphc.ir.pretty import pretty, product
from graphc.teach.steps import frames

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GRAPHS = {  # name: (graph text or example file, values)
    "colah": ("colah.gc", {"a": 2, "b": 1}),
    "neuron": ("neuron.gc", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    "ladder": ("ladder.gc", {"x0": 0.3}),
    "tanh_unit": ("h = tanh(w * x + b)\nf = 3 * h", {"w": 0.7, "x": -1.2, "b": 0.4}),
    "mlp_unit": ("h1 = tanh(w1 * x + b1)\nh2 = sigmoid(w2 * x - b2)\nf = v1 * h1 - v2 * h2",
                 {"w1": 0.5, "x": -1.5, "b1": 0.2, "w2": -0.8, "b2": 0.3, "v1": -1.1,
                  "v2": 0.9}),
    "negatives": ("y = -3 * x - (2 - x) * -0.5\nf = (y - x) ** 2 / -4 - exp(-y) * (1 - x)",
                  {"x": 0.6}),
    "choices": ("m = maximum(x, -y)\nr = relu(x - y) * (1 - m)\nf = r - abs(x - y) * m",
                {"x": 0.4, "y": -0.9}),
}
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def python(text: str) -> str:
    """A printed formula as Python: ``·`` is ``*``, ``h²`` is ``h**2``, ``[c]`` is 1 where
    c holds, ``=`` in a bracket is ``==``."""
    text = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: f"**({m.group().translate(_SUPER)})", text)
    for printed, read in {"·": "*", "^": "**", "≥": ">=", "≤": "<=", "≠": "!=",
                          "[": "iverson(", "]": ")", "δ(": "0 * (("}.items():
        text = text.replace(printed, read)
    return re.sub(r"(?<=[^<>=!])=(?=[^=])", "==", text)


def evaluate(text: str, values: dict) -> float:
    names = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "tanh": np.tanh,
             "sqrt": np.sqrt, "abs": abs, "max": max, "min": min,
             "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "iverson": lambda c: float(bool(c))}
    return float(eval(python(text), names, dict(values)))  # noqa: S307 (our own text)


def check(printed: str, value: str, values: dict) -> None:
    got = evaluate(printed, values)
    assert got == pytest.approx(float(value), rel=2e-3, abs=1e-3), (printed, value, got)


def _graph(name: str) -> tuple[gc.Graph, dict, dict]:
    text, at = GRAPHS[name]
    g = gc.load(EXAMPLES / text) if text.endswith(".gc") else gc.parse(text)
    shown, _ = teaching(g)  # the names the pictures give the temporaries: t1, t2, ...
    values = shown.run(dict(shown.bind((), at)))
    return g, at, {shown.shown(n): v for n, v in values.items()}


@pytest.mark.parametrize("name", GRAPHS)
def test_step_captions_read_back_to_their_numbers(name):
    g, at, values = _graph(name)
    pushes = [p for caption, _ in frames(g, at) if caption.startswith("backward: ∂")
              for p in caption.split("; ")[1:]]
    assert pushes
    for push in pushes:
        m = re.fullmatch(r"\S+ \+= (.+) = (\S+)", push)
        assert m, push
        check(m.group(1), m.group(2), values)


@pytest.mark.parametrize("name", GRAPHS)
def test_paths_legend_and_verify_report_read_back_to_their_numbers(name):
    g, at, values = _graph(name)
    seen = 0
    for x in g.inputs:
        source = html.unescape(gc.render(g, at=at, show="paths", wrt=x).source)
        # a long line is wrapped after its nodes or a factor: join it back
        source = re.sub(r':</font><br/><font color="[^"]*">      ', ":  ", source)
        source = re.sub(r'</font><br/><font color="[^"]*">      ', " ", source)
        for m in re.finditer(r">path \d+: [^<]*?:  ([^<]+) = (\S+)</font>", source):
            check(m.group(1), m.group(2), values)
            seen += 1
    for m in re.finditer(r"^  \S+(?: -> \S+)+:  (.+) = (\S+)$", str(gc.verify(g, at)), re.M):
        check(m.group(1), m.group(2), values)
        seen += 1
    assert seen >= 2 * len(g.inputs)


@pytest.mark.parametrize("name", GRAPHS)
def test_every_edge_rule_reads_back_to_its_value(name):
    g, at, values = _graph(name)
    # plain DOT labels: without the gradient each wire carries (in red, an HTML label;
    # tests/test_slides.py reads those back)
    source = gc.render(g, at=at, style=gc.Style(flows=False)).source
    rules = re.findall(r'label="∂[^ ]+ = ([^"\n]+)\n= ([^"]+)"', source)
    rules += [(r, r) for r in re.findall(r'label="∂[^ ]+ = (-?[\d.]+)"', source)]
    assert rules
    for rule, value in rules:
        check(rule, value, values)


x, y = sp.symbols("x y", real=True)
FORMULAS = [3 * (1 - x**2), -0.644 * -sp.sin(x), x**(1 / y), 2**(x**-2), (x + 1)**-3,
            -x**2, (-x)**3, sp.exp(-x) / (1 + sp.exp(-x))**2, x**2.5, x**(y - 1) * y,
            sp.Piecewise((1, x > 0), (0, True)), sp.Piecewise((1, x >= 0), (-1, True)),
            sp.Piecewise((1, x > 0), (sp.exp(x), True)) * (1 - y), sp.Heaviside(x - y),
            sp.Heaviside(2 - sp.Max(x, y)) * sp.Heaviside(y - x), sp.Max(x, -y) - sp.Abs(x)]


@pytest.mark.parametrize("expr", FORMULAS, ids=str)
@pytest.mark.parametrize("point", [(0.7, -1.3), (-0.4, 0.9), (0.5, 0.5), (2.0, 2.0)])
def test_a_printed_formula_is_the_formula(expr, point):
    values = {"x": point[0], "y": point[1]}
    with np.errstate(all="ignore"):
        want = complex(expr.subs({x: point[0], y: point[1]}))
        if want.imag or not np.isfinite(want.real):
            return
        assert evaluate(pretty(expr), values) == pytest.approx(want.real, rel=1e-12)
        assert evaluate(product([expr, -x, 1 - y]), values) == pytest.approx(
            want.real * -point[0] * (1 - point[1]), rel=1e-12)


def test_choices_print_as_iverson_brackets():
    assert pretty(sp.Piecewise((1, x > 0), (0, True))) == "[x > 0]"
    assert pretty(sp.Piecewise((1, x >= 0), (-1, True))) == "[x ≥ 0] - [x < 0]"
    assert pretty(sp.Heaviside(y - x)) == "[y > x] + [y = x]/2"  # JAX's 1/2 at a tie
    assert pretty(3 * sp.Heaviside(1 - x)) == "3·([x < 1] + [x = 1]/2)"
    assert pretty(x**2.5) == "x^2.5" and pretty(2 / x**2) == "2/x²"
    assert product([-1, 1 - x**2, -sp.sin(x), x]) == "(-1) · (1 - x²) · (-sin(x)) · x"
    assert product([sp.Symbol("t1_bar @ W.T"), x]) == "(t1_bar @ W.T) · x"  # a rule, as text
    for text in ("relu(x)", "maximum(x, y)", "where(x > y, x, y)", "abs(x - y)"):
        dot = gc.render(gc.parse(f"f = {text}")).source
        assert not re.search("Piecewise|Heaviside|True", dot), dot
