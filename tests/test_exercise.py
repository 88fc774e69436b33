"""Exercise mode without a browser: what the page asks, its answers, and bad requests
(the page in a browser: test_pages_browser.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.teach.exercise import exercise

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz's `dot` is not installed")


def asked(page: str) -> dict[str, float]:
    return {q: float(v) for v, q in re.findall(r'<tr data-want="([^"]+)"><th scope="row">'
                                               r"(.*?) =</th>", page)}


def test_adjoints_asked_are_graphcs_and_hidden():
    g = gc.load(ROOT / "examples" / "colah.gc")
    ex = exercise(g, {"a": 2, "b": 1})
    assert asked(ex.page) == {"∂e/∂d": 3.0, "∂e/∂c": 2.0, "∂e/∂b": 5.0, "∂e/∂a": 2.0}
    assert "∂e/∂c · ∂c/∂b + ∂e/∂d · ∂d/∂b = 2 · 1 + 3 · 1 = 5" in ex.page  # on reveal
    picture = ex.page[ex.page.find("<svg"):ex.page.find("</svg>")]
    assert "∂e/∂e = 1" in picture and "∂e/∂b" not in picture  # the seed only
    assert ex._repr_html_() in ex.page and not ex._repr_html_().startswith("<!DOCTYPE")
    # offline: nothing fetched (XML namespaces name, never fetch)
    without_ns = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", ex.page)
    assert "http" not in without_ns and not re.search(r"\b(src|href)\s*=", without_ns)


def test_derivatives_asked_are_the_edges():
    g = gc.parse("h = tanh(x)\nf = 3 * h")
    ex = exercise(g, {"x": 0.5}, hide="derivatives")
    got = asked(ex.page)
    assert got == {"∂h/∂x": pytest.approx(1 - np.tanh(0.5) ** 2), "∂f/∂h": 3.0}
    assert "∂h/∂x = ?" in ex.page and "1 - h²" in ex.page  # the formula only on reveal


def test_bad_requests():
    g = gc.load(ROOT / "examples" / "colah.gc")
    with pytest.raises(gc.GraphcError, match="hide='values'"):
        exercise(g, {"a": 2, "b": 1}, hide="values")
    with pytest.raises(gc.GraphcError, match="give every input a number"):
        exercise(g, {"a": np.ones(3), "b": 1})
    with pytest.raises(gc.InputError):
        exercise(g, {"a": 2})
