"""The backend seam: one registry chooses a backend by name (``compile(backend=...)``,
``graphc compile --backend``); every backend computes what the NumPy one computes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import EXAMPLES

import graphc as gc
from graphc.backend import BACKENDS, backend_named, blocks, loops
from graphc.backend.base import RESERVED, Backend
from graphc.cli import main

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
BIG = 2 * blocks._SMALLEST + 5  # big enough to take a kernel, in blocks or a loop
TEXTS = [
    "c = a + b\nd = b + 1\ne = c * d",  # colah: arrays out
    "x: [N]\ny: [N]\ns = sum(exp(x) * y + relu(x - y))",  # a full sum
    "sq = lambda t: t * t + sin(t)\ny = sq(a) * b",  # a user-defined op
    "x: [N]\nxs = slice(x, stop=-1)\nxn = slice(x, start=1)\n"
    "s = sum(100 * (xn - xs**2)**2 + (1 - xs)**2)",  # slices: numba's loop takes them
    "W: [3, 4]\nx: [4]\ny = sum(tanh(W @ x))",  # no kernel: the NumPy function alone
]


def test_the_registry_names_each_backend_once():
    assert list(BACKENDS) == ["numpy", "numba", "blocks", "auto", "array_api"]
    for name, b in BACKENDS.items():
        assert isinstance(b, Backend) and b.name == name and b.help
        assert b.reserved >= RESERVED  # no backend lets a name shadow the module's own
    assert backend_named("blocks") is BACKENDS["blocks"]


@pytest.mark.parametrize("name", ["cuda", "NumPy", "", None])
def test_an_unknown_backend_is_an_error_listing_the_known_ones(name):
    with pytest.raises(gc.GraphcError, match="expected one of 'numpy', 'numba', 'blocks'"):
        gc.compile(gc.parse("y = a * b"), backend=name)


@pytest.mark.parametrize(("kwargs", "replacement"), [
    ({"fuse": "numba"}, "fuse='numba' is backend='numba'"),
    ({"fuse": "numexpr"}, "fuse='numba' is backend='numba'"),
    ({"fuse": None}, "fuse='numba' is backend='numba'"),
    ({"blocks": True}, "blocks=True is backend='blocks'"),
    ({"blocks": False}, "blocks=True is backend='blocks'"),
])
def test_the_old_speed_options_name_their_replacement(kwargs, replacement):
    with pytest.raises(gc.GraphcError, match="replaced by backend=: " + replacement):
        gc.compile(gc.parse("y = a * b"), **kwargs)


def test_other_unknown_keywords_stay_type_errors():
    with pytest.raises(TypeError, match="unexpected keyword argument 'speed'"):
        gc.compile(gc.parse("y = a * b"), speed=True)


def test_a_backend_whose_package_is_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(gc.GraphcError, match=r"backend='numba' needs numba, which is not "
                                             r"installed \(pip install numba\)"):
        gc.compile(gc.parse("y = a * b"), backend="numba")


def test_the_cli_takes_a_backend(tmp_path, capsys):
    colah = str(EXAMPLES / "colah.gc")
    for name in ("numpy", "blocks"):
        out = tmp_path / f"{name}.py"
        assert main(["compile", colah, "--backend", name, "-o", str(out)]) == 0
        assert out.read_text() == gc.compile(gc.load(colah), backend=name).source
    assert "_in_blocks(" in out.read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["compile", colah, "--backend", "jax"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "invalid choice: 'jax'" in err
    assert "'numpy', 'numba', 'blocks'" in err


NUMBA = [pytest.mark.slow, pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")]
NAMED = ["blocks", pytest.param("numba", marks=NUMBA)]


@pytest.mark.parametrize("name, module", [("blocks", blocks),
                                          pytest.param("numba", loops, marks=NUMBA)])
def test_gradients_over_the_limit_get_no_kernel(name, module, monkeypatch):
    """numba's compile time grows faster than a loop's size, and planning block kernels
    costs about four times the NumPy code's compile: past the backend's LIMIT nodes the
    NumPy code runs, with a warning, and the values are the same."""
    g = gc.parse("c = a + b\nd = b + 1\ne = c * d")
    assert gc.compile(g, backend=name).source != gc.compile(g).source
    monkeypatch.setattr(module, "LIMIT", 10)
    with pytest.warns(UserWarning, match=f"'{name}': the gradient has 11 nodes, over 10"):
        fn = gc.compile(g, backend=name)
    assert fn.source == gc.compile(g).source
    a, b = np.linspace(-1.0, 1.0, BIG), np.linspace(0.5, 2.0, BIG)
    (value, grads), (want, wgrads) = fn(a, b), gc.compile(g)(a, b)
    np.testing.assert_array_equal(value, want)
    for w in wgrads:
        np.testing.assert_array_equal(grads[w], wgrads[w])


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("text", TEXTS)
def test_each_backend_computes_what_numpy_computes(name, text):
    g = gc.parse(text)
    plain, other = gc.compile(g), gc.compile(g, backend=name)
    rng = np.random.default_rng(1)
    shapes = {"W": (3, 4), "x": (4,)} if "W" in g.inputs else {}
    args = [rng.uniform(-1.0, 1.0, shapes.get(i, BIG)) for i in g.inputs]
    (value, grads), (want, wgrads) = other(*args), plain(*args)
    # atol: numba's sin is libmvec's (4 ulp), and t * t + sin(t) cancels near t = -0.88
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-14)
    for w in wgrads:
        np.testing.assert_allclose(grads[w], wgrads[w], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(other.forward(*args), plain.forward(*args), rtol=1e-12,
                               atol=1e-14)
    floats = [0.5] * len(args)
    if ":" not in text:  # undeclared inputs: Python floats too
        np.testing.assert_allclose(other(*floats)[0], plain(*floats)[0], rtol=1e-15)


def test_each_backend_reports_what_it_ran():
    """``fn.report()``: the memory plan for all, and how many functions ran the kernel."""
    g = gc.load(EXAMPLES / "colah.gc")
    assert "functions run in blocks" not in gc.compile(g).report()
    assert gc.compile(g, backend="blocks").report()["functions run in blocks"] == 2
    tensor = gc.parse(TEXTS[-1])
    assert gc.compile(tensor, backend="blocks").report()["functions run in blocks"] == 0
    if HAVE_NUMBA:
        assert gc.compile(g, backend="numba").report()["functions run as numba loops"] == 2


def test_a_backend_reserves_only_its_own_names():
    """An input named like a helper of another backend keeps its name."""
    g = gc.parse("y = _in_blocks * _fused")
    assert "def value_and_grad(_in_blocks, _fused):" in gc.compile(g).source
    assert "def value_and_grad(_in_blocks_1, _fused):" in \
        gc.compile(g, backend="blocks").source
