"""How graphs print back as .gc text (``str(g)``) and in pictures: every subscript
NumPy's way (``x[1:]``, ``x.mT``), never an internal spelling (``slice(x, start=1)``,
``mT(x)``), and ``parse(str(g))`` is the same graph."""

from __future__ import annotations

import re

import numpy as np
import pytest

import graphc as gc

DECL = "x: [N, M]\ni: int[K]\nj: int[K]\nk: int[N, 2]\nt: [2, N, M]\n"
# written -> printed (None: as written)
SPELLINGS = {
    "x[1:]": None, "x[1:-1]": None, "x[-3:]": None, "x[:5]": None, "x[0:]": None,
    "x[:, 1:]": None, "x[..., :-1]": None, "t[..., 1:, :]": None, "t[:, :, 2:]": None,
    "x.mT": None, "(x + 1).mT": "(x + 1.0).mT", "t.mT[0]": None, "x[1:].mT": None,
    "(2 * x)[1:]": "(2.0 * x)[1:]", "x[1:][0]": None, "x.T[1:]": None,
    "x[1:2:1]": "x[1:2]", "x[1]": None, "x[-1, 2]": None, "x[None]": None,
    "x[..., 0]": None, "x[i, 1:]": None, "x[::2]": None, "x[::-1]": None,
    "x[1:3, ::-1]": None, "x[:, None, 1]": None, "x[i]": None, "x[:, j]": None,
    "x[i, j]": None, "x[..., 1:, None]": None,
    "slice(x, start=1)": "x[1:]", "slice(x, stop=-1, axis=1)": "x[:, :-1]",
    "slice(t, start=1, stop=3, axis=-2)": "t[..., 1:3, :]",
    "slice(x, start=2, axis=-1)": "x[..., 2:]",
}


def _structure(g: gc.Graph) -> list:
    return [(n, d["op"], d["params"], d["args"]) for n, d in g.node_data().items()]


@pytest.mark.parametrize("written", sorted(SPELLINGS))
def test_subscripts_print_as_numpy_writes_them_and_read_back(written):
    g = gc.parse(DECL + f"y = {written}")
    text = str(g)
    assert text.splitlines()[-1] == f"y = {SPELLINGS[written] or written}"
    assert "slice(" not in text and "mT(" not in text
    again = gc.parse(text)
    assert _structure(again) == _structure(g)
    assert str(again) == text


def test_a_slice_of_every_element_is_still_a_call():
    """slice(x) cuts nothing: x[:] would read back as another op, so it stays a call."""
    g = gc.parse("x: [N]\ny = slice(x)")
    assert str(g).splitlines()[-1] == "y = slice(x)"
    assert _structure(gc.parse(str(g))) == _structure(g)


def test_values_survive_the_round_trip():
    text = DECL + ("a = x[1:] * 2\nb = slice(t, start=1, axis=-1)\n"
                   "y = sum(a.mT) + sum(b.mT[0]) + sum(x[..., :-1])")
    g = gc.parse(text)
    rng = np.random.default_rng(0)
    values = {"x": rng.normal(size=(4, 3)), "t": rng.normal(size=(2, 4, 3)),
              "i": np.array([0, 2]), "j": np.array([1, 1]), "k": np.zeros((4, 2), int)}
    again = gc.parse(str(g))
    assert again.evaluate(**values)["y"] == g.evaluate(**values)["y"]
    want = gc.compile(g, wrt=["x", "t"])(**values)
    got = gc.compile(again, wrt=["x", "t"])(**values)
    for k in ("x", "t"):
        np.testing.assert_array_equal(got[1][k], want[1][k])


def test_pictures_label_subscripts_as_numpy_writes_them():
    g = gc.parse("x: [N, M]\na = x[1:]\nb = slice(x, start=1, axis=1)\ny = sum(a.mT) + sum(b)")
    source = gc.render(g, at={"x": np.ones((3, 4))}).source
    assert "x[1:]" in source and "x[:, 1:]" in source and "a.mT" in source
    assert "slice(" not in source and "mT(" not in source


def test_gradient_graphs_print_their_slices_as_subscripts():
    """The forward-mode tangent and the reverse-mode graph of a slice read back."""
    g = gc.parse("x: [N, 3]\ny = sum(sin(x[1:]).mT)")
    grad = gc.compile(g).grad_graph
    assert not re.search(r"\bslice\(|\bmT\(", str(grad))
    assert "[1:]" in str(grad) and ".mT" in str(grad)
    x = np.random.default_rng(1).normal(size=(4, 3))
    again = gc.parse(str(grad))
    np.testing.assert_allclose(again.evaluate(x=x)["x_bar"], gc.compile(g)(x=x)[1]["x"])
