"""The numba loops' spellings of digamma, polygamma and gelu (backend/scalar_special.py):
a loop is made for them (no NumPy fallback), and its values and gradients are NumPy's
to rounding, at poles, infinities and NaN too; second order (polygamma) as well."""

from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc.backend import blocks, loops
from graphc.backend.scalar_special import _digamma1, _gelu1, _polygamma1
from graphc.ops.elementwise import _gelu
from graphc.ops.special import _digamma, _polygamma

numba = pytest.importorskip("numba")
pytestmark = pytest.mark.slow  # numba compiles each loop (~1 s)

BIG = 2 * blocks._SMALLEST + 5
POINTS = np.concatenate([np.linspace(-12.0, 12.0, 961), [
    -np.inf, -800.0, -3.0, -2.5, -0.5040830082644554, -0.0, 0.0, 1e-300, 1.4616321449683622,
    10.0, 1e17, 1e300, np.inf, np.nan]])


def _same(got, want, rtol=1e-12, atol=1e-14):
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=atol)


def test_the_scalar_helpers_are_the_numpy_helpers_to_rounding():
    jit = numba.njit(error_model="numpy")
    digamma, polygamma, gelu = jit(_digamma1), jit(_polygamma1), jit(_gelu1)
    with np.errstate(all="ignore"):
        _same([digamma(v) for v in POINTS], _digamma(POINTS), atol=2e-15)
        for n in (1, 2, 3, 6):
            _same([polygamma(float(n), v) for v in POINTS], _polygamma(n, POINTS), rtol=1e-10)
        for approximate in (True, False):
            _same([gelu(v, approximate) for v in POINTS], _gelu(POINTS, approximate))


@pytest.mark.parametrize("text", [
    "y = digamma(a) * b", "y = gelu(a) + b", "y = gelu(a, approximate=False) * b",
    "y = gammaln(a) + lgamma(b)", "y = digamma(a) + gelu(b, approximate=False)"])
def test_a_loop_is_made_and_gives_numpys_numbers(text):
    g = gc.parse(text)
    plain, fused = gc.compile(g), gc.compile(g, backend="numba")
    assert loops.loop_name("value_and_grad") in fused.source
    rng = np.random.default_rng(0)
    args = {k: np.resize(np.concatenate([POINTS, rng.uniform(-5.0, 5.0, 50)]), BIG)
            for k in g.inputs}
    args["b"] = np.roll(args["b"], 7)
    with np.errstate(all="ignore"):
        (value, grads), (want, wgrads) = fused(**args), plain(**args)
    _same(value, want, atol=1e-13)
    for k in wgrads:
        _same(grads[k], wgrads[k], rtol=1e-10, atol=1e-13)


def test_second_order_uses_polygamma_in_the_loop():
    """digamma's gradient read back and differentiated again: polygamma(2, a), spelled
    for one float; NumPy's numbers."""
    grad_graph = gc.compile(gc.parse("y = digamma(a) * b"), wrt=["a"]).grad_graph
    g2 = gc.parse(str(grad_graph) + "\nh = a_bar * c")
    plain, fused = gc.compile(g2, of="h"), gc.compile(g2, of="h", backend="numba")
    assert "_polygamma1(" in fused.source and loops.loop_name("value_and_grad") in fused.source
    rng = np.random.default_rng(1)
    args = {"a": rng.uniform(-6.0, 6.0, BIG), "b": rng.normal(size=BIG),
            "c": rng.normal(size=BIG)}
    (value, grads), (want, wgrads) = fused(**args), plain(**args)
    _same(value, want, rtol=1e-10)
    for k in wgrads:
        _same(grads[k], wgrads[k], rtol=1e-9, atol=1e-12)


def test_the_saved_module_runs_alone(tmp_path):
    """The helpers ship with the module (with ``math``): it runs in a fresh namespace."""
    fn = gc.compile(gc.parse("y = digamma(a) + gelu(a, approximate=False)"), backend="numba")
    module: dict = {}
    exec(compile(fn.source, "saved", "exec"), module)  # noqa: S102 - our own module
    a = np.linspace(0.5, 4.0, BIG)
    value, grads = module["value_and_grad"](a=a)
    want, wgrads = gc.compile(gc.parse("y = digamma(a) + gelu(a, approximate=False)"))(a=a)
    _same(value, want)
    _same(grads["a"], wgrads["a"], rtol=1e-10)
