"""The numba loops' transcendentals vectorised with glibc's libmvec (vector_math.py):
within 4 ulp of NumPy's, the same NaN, infinities and signed zeros, on every LLVM numba
has; GRAPHC_LIBMVEC=0 keeps the C library's scalar functions."""

from __future__ import annotations

import platform
import re
import sys

import numpy as np
import pytest

import graphc as gc
from graphc.backend import blocks
from graphc.backend.vector_math import C_NAMES

pytest.importorskip("numba")
pytestmark = pytest.mark.slow

N = 2 * blocks._SMALLEST + 5
RANGES = {"sin": (-1e3, 1e3), "cos": (-1e3, 1e3), "tan": (-10, 10), "exp": (-700, 700),
          "log": (1e-3, 1e3), "tanh": (-20, 20), "sinh": (-700, 700), "cosh": (-700, 700),
          "expm1": (-50, 700), "log1p": (-0.999, 1e3), "log2": (1e-3, 1e3),
          "log10": (1e-3, 1e3), "exp2": (-1000, 1000), "arcsin": (-1, 1),
          "arccos": (-1, 1), "arctan": (-1e3, 1e3), "arcsinh": (-1e3, 1e3),
          "arccosh": (1, 1e3), "arctanh": (-1, 1), "arctan2": (-1e3, 1e3),
          "hypot": (-1e3, 1e3), "pow": (0.01, 10)}
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310, 1.0, -1.0, 1e308, -1e308,
           0.5, -0.5, 710.0, -745.5, 2.0, 1e-20, -1e-20]
TEXT = "x: [N]\ny = sin(x) + cos(x) + exp(x) + log(x) + tan(x) + x ** 2.5\n"
LIBMVEC = sys.platform == "linux" and platform.machine() == "x86_64"


def _vector_calls(loop) -> set[str]:
    """The libmvec functions a loop calls (2 to 16 lanes: _ZGV...)."""
    return set(re.findall(r"_ZGV\w+", "".join(loop.inspect_asm().values())))


def _text(op: str) -> str:
    if op == "pow":
        return "x: [N]\ny: [N]\nz = x ** y\n"
    if op in ("arctan2", "hypot"):
        return f"x: [N]\ny: [N]\nz = {op}(x, y)\n"
    return f"x: [N]\ny: [N]\nz = {op}(x) + y\n"


@pytest.mark.parametrize("op", C_NAMES)
def test_each_function_within_4_ulp(op):
    """Each function in a loop (value and gradient, float64 and float32) against NumPy's
    on random and special numbers: NaN where NumPy has NaN, the same infinities and signs
    of zero, values at most 4 ulp apart; the loop calls libmvec's function."""
    rng = np.random.default_rng(0)
    lo, hi = RANGES[op]
    fn = gc.compile(gc.parse(_text(op)), backend="numba")
    want = gc.compile(gc.parse(_text(op))).module.value_and_grad
    for dtype in (np.float64, np.float32):
        with np.errstate(all="ignore"):
            x = np.concatenate([rng.uniform(lo, hi, N), SPECIAL]).astype(dtype)
            y = np.concatenate([rng.uniform(-3, 3, N), SPECIAL[::-1]]).astype(dtype) \
                * (op in ("arctan2", "hypot", "pow"))
            got, grads = fn.module.value_and_grad(x, y)
            expected, wgrads = want(x, y)
            exact = want(x.astype(np.float64), y.astype(np.float64))[1]
        assert got.dtype == dtype and grads["x"].dtype == dtype
        for a, b in ((got, expected), *((grads[k], wgrads[k]) for k in grads)):
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_array_equal(a[np.isinf(b)], b[np.isinf(b)])
            zeros = (a == 0) & (b == 0)
            np.testing.assert_array_equal(np.signbit(a[zeros]), np.signbit(b[zeros]))
        finite = np.isfinite(expected)
        np.testing.assert_array_max_ulp(got[finite], expected[finite], maxulp=4)
        eps = np.finfo(dtype).eps  # sums of terms of about 1: 1 - tanh(x) ** 2 ...
        for k in grads:  # ... near NumPy's, or, where float32 cancels, the float64 one
            a, b, c = grads[k], wgrads[k], exact[k]
            with np.errstate(invalid="ignore"):  # inf - inf: checked above
                near = (np.abs(a - b) <= 8 * eps * (np.abs(b) + 1)) \
                    | (np.abs(a - c) <= 8 * eps * (np.abs(c) + 1))
            assert np.all(near[np.isfinite(b)]), (op, dtype, k)
        if LIBMVEC and fn.module._VECTOR_MATH[0] == "libmvec":
            suffix = C_NAMES[op] + "f" * (dtype is np.float32)
            assert any(call.endswith("_" + suffix) for call in _vector_calls(
                fn.module._value_and_grad_loop)), (op, dtype)


def test_libmvec_is_used_where_glibc_has_it():
    """On x86-64 glibc, whatever numba's LLVM (20: llvmlite 0.47; 22: 0.50), the loop
    calls libmvec's sin, cos, exp, log, tan and pow, and agrees with NumPy."""
    if not LIBMVEC:
        pytest.skip("libmvec is glibc's, on x86-64")
    x = np.random.default_rng(1).uniform(0.1, 3.0, N)
    fn = gc.compile(gc.parse(TEXT), backend="numba")
    value, grads = fn.module.value_and_grad(x)
    assert fn.module._VECTOR_MATH[0] == "libmvec"
    assert {"sin", "cos", "exp", "log", "tan", "pow"} <= {
        call.split("_")[-1] for call in _vector_calls(fn.module._value_and_grad_loop)}
    want, wgrads = gc.compile(gc.parse(TEXT)).module.value_and_grad(x)
    for got, expected in ((value, want), (grads["x"], wgrads["x"])):  # a few ulps of the terms
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14 * np.abs(expected).max())


def test_switched_off_the_scalar_functions_run(monkeypatch):
    """GRAPHC_LIBMVEC=0 when a module's first loop compiles: no vector calls, NumPy's sin
    and cos to the bit (glibc's scalar ones are correctly rounded here), as before; a
    module compiled later without it vectorises (the setting is each module's)."""
    x = np.linspace(0.1, 3.0, N)
    monkeypatch.setenv("GRAPHC_LIBMVEC", "0")
    off = gc.compile(gc.parse("x: [N]\ny = sin(x) * cos(x)\n"), backend="numba").module
    y, _ = off.value_and_grad(x)
    assert off._VECTOR_MATH == ["scalar"] and not _vector_calls(off._value_and_grad_loop)
    np.testing.assert_array_equal(y, np.sin(x) * np.cos(x))
    monkeypatch.delenv("GRAPHC_LIBMVEC")
    on = gc.compile(gc.parse("x: [N]\ny = sin(x) * cos(x)\n"), backend="numba").module
    on.value_and_grad(x)
    assert bool(_vector_calls(on._value_and_grad_loop)) == (on._VECTOR_MATH[0] == "libmvec")
    assert on._VECTOR_MATH[0] == ("libmvec" if LIBMVEC else "scalar")


def test_a_loop_with_sums_vectorises():
    """A loop's sums add in any order (``_sum_add``'s reassoc), so the loop of a mean
    log-likelihood vectorises: libmvec's exp and log, and the sums (value and gradient)
    equal NumPy's up to rounding, float64 and float32."""
    text = "x: [N]\nm: scalar\ns: scalar\ny = sum(log(1.0 + exp(-(x - m) ** 2 / s))) / 1000.0\n"
    fn = gc.compile(gc.parse(text), backend="numba")
    want = gc.compile(gc.parse(text)).module.value_and_grad
    for dtype, rtol in ((np.float64, 1e-13), (np.float32, 2e-6)):
        x = np.random.default_rng(2).normal(size=N * 3).astype(dtype)
        value, grads = fn.module.value_and_grad(x, 0.3, 1.7)
        expected, wgrads = want(x, 0.3, 1.7)
        np.testing.assert_allclose(value, expected, rtol=rtol)
        for k in ("m", "s"):
            np.testing.assert_allclose(grads[k], wgrads[k], rtol=rtol)
        np.testing.assert_allclose(grads["x"], wgrads["x"], rtol=rtol, atol=rtol * 1e-3)
    assert "_sum_add(" in fn.source
    if LIBMVEC and fn.module._VECTOR_MATH[0] == "libmvec":
        calls = _vector_calls(fn.module._value_and_grad_loop)
        assert any(c.endswith("_exp") for c in calls) and any(c.endswith("_log") for c in calls)


@pytest.mark.parametrize("exponent", ["inf", "nan", "3", "-1.5"])
def test_a_constant_exponent_of_any_value(exponent):
    """A constant exponent picks the spelling: integral ones multiply (x ** 3), others
    call pow (libmvec's); inf and nan are not integral (once round(inf): OverflowError
    at compile time)."""
    g = gc.parse(f"x: [N]\ny = x ** {exponent}\n")
    fn = gc.compile(g, backend="numba")
    x = np.random.default_rng(4).uniform(0.5, 1.5, N)
    with np.errstate(all="ignore"):
        (value, grads), (want, wgrads) = fn(x=x), gc.compile(g)(x=x)
    np.testing.assert_allclose(value, want, rtol=1e-14, equal_nan=True)
    np.testing.assert_allclose(grads["x"], wgrads["x"], rtol=1e-13, equal_nan=True)
    assert ("_libm_pow(" in fn.source) == (exponent in ("inf", "nan", "-1.5"))
