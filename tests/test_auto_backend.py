"""backend="auto" (issue 24, target 3): numba's module where numba is installed and the
function fuses, the NumPy backend's module elsewhere; float32 arrays through the loop
stay float32, within float32 rounding of NumPy's answer."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import dags, examples, programs

import graphc as gc
from graphc.backend import blocks, loops

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
BIG = 2 * blocks._SMALLEST + 5  # big enough for the loop
COLAH = "c = a + b\nd = b + 1\ne = c * d"
MLP = "x: [B, 4]\nW: [4, 3]\nb: [3]\ny = sum(tanh(x @ W + b))"
LOOPS = "functions run as numba loops"


@pytest.fixture
def no_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """numba not installed, as far as graphc can tell."""
    find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numba" else find(name, *a))


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_a_big_array_graph_gets_numbas_loop():
    fn = gc.compile(gc.parse(COLAH), backend="auto")
    assert fn.source == gc.compile(gc.parse(COLAH), backend="numba").source
    assert fn.report()[LOOPS] == 2 and "needs NumPy and numba." in fn.source


@pytest.mark.parametrize("text", [MLP, "x: [3]\ny = sum(cumsum(x) * x)"])
def test_a_graph_no_loop_takes_is_the_numpy_module(text: str):
    fn = gc.compile(gc.parse(text), backend="auto")
    assert fn.report().get(LOOPS, 0) == 0 and "needs only NumPy." in fn.source
    assert "import numba" not in fn.source


def test_without_numba_auto_is_numpy(no_numba: None):
    for text in (COLAH, MLP):
        fn = gc.compile(gc.parse(text), backend="auto")
        assert fn.source == gc.compile(gc.parse(text)).source
        assert fn.report()[LOOPS] == 0
    with pytest.raises(gc.GraphcError, match="needs numba"):
        gc.compile(gc.parse(COLAH), backend="numba")  # asked for by name: an error


def test_over_the_loop_limit_auto_is_numpy_without_a_warning(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(loops, "LIMIT", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn = gc.compile(gc.parse(COLAH), backend="auto")
    assert fn.report()[LOOPS] == 0 and fn.source == gc.compile(gc.parse(COLAH)).source


def test_compile_time_is_reported():
    for backend in ("numpy", "auto"):
        ms = gc.compile(gc.parse(COLAH), backend=backend).report()["compile time (ms)"]
        assert isinstance(ms, int) and 0 <= ms < 60_000


@examples(16)
@given(program=programs(), seed=st.integers(0, 2**16))
def test_auto_equals_numpy_on_programs(program, seed: int):
    """Random tensor programs (summed) at their own small shapes: the NumPy lines run,
    so the same bits as the numpy backend, float64 and float32."""
    g = gc.parse(program.text() + f"loss = sum({program.out})\n")
    plain, auto = gc.compile(g), gc.compile(g, backend="auto")
    for dtype in (np.float64, np.float32):
        at = program.values(seed, dtype)
        with np.errstate(all="ignore"):
            want, got = plain(**at), auto(**at)
        for w, o in zip([want[0], *want[1].values()], [got[0], *got[1].values()], strict=True):
            assert np.result_type(o) == np.result_type(w)
            np.testing.assert_array_equal(o, w)


def _within_float32(got, want32, ref64) -> None:
    """``got`` is float32 and as close to the float64 answer as NumPy's float32 one is,
    up to a few float32 roundings (where both are finite)."""
    assert np.result_type(got) == np.float32
    got, want32, ref64 = (np.asarray(v, dtype=np.float64).ravel() for v in (got, want32, ref64))
    ok = np.isfinite(want32) & np.isfinite(ref64) & (np.abs(ref64) < 1e30)
    scale = max(1.0, float(np.abs(ref64[ok]).max(initial=0.0)))
    err = np.abs(got[ok] - ref64[ok])
    allowed = 4 * np.abs(want32[ok] - ref64[ok]) + 1e-5 * np.abs(ref64[ok]) + 1e-5 * scale
    assert np.all(err <= allowed), float(np.max(err - allowed))


@pytest.mark.parametrize("text, mode", [
    (COLAH, "reverse"), (COLAH, "forward"),
    ("a: [N]\nb: [N]\ny = sum(exp(a) * sin(b) + a * a)", "reverse"),  # sums in the loop
    ("s: scalar\ny = maximum(a * b, s) + tanh(a) / (1 + b * b)", "reverse"),
    ("s: scalar\ny = maximum(a * b, s) + tanh(a) / (1 + b * b)", "forward")])
@pytest.mark.slow  # numba compiles each loop (~1 s)
@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_float32_arrays_take_the_loop_and_stay_float32(text: str, mode: str):
    g = gc.parse(text)
    plain, auto = gc.compile(g, mode=mode), gc.compile(g, mode=mode, backend="auto")
    rng = np.random.default_rng(3)
    at64 = {n: 0.5 if n == "s" else rng.uniform(-1.5, 1.5, BIG) for n in g.inputs}
    at32 = {n: np.float32(v) if n == "s" else v.astype(np.float32) for n, v in at64.items()}
    arrays = tuple(v for n, v in at32.items() if n != "s")
    assert auto.module._fusable(arrays, tuple(v for n, v in at32.items() if n == "s"))
    want, got, ref = plain(**at32), auto(**at32), plain(**at64)
    _within_float32(got[0], want[0], ref[0])
    for k in ref[1]:
        _within_float32(got[1][k], want[1][k], ref[1][k])


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_float32_with_a_float64_scalar_is_numpys_float64():
    """NumPy's promotion makes these float64: the NumPy lines run them."""
    fn = gc.compile(gc.parse("s: scalar\ny = a * s"), backend="auto")
    a = np.ones(BIG, np.float32)
    assert not fn.module._fusable((a,), (np.float64(2.0),))
    assert not fn.module._fusable((a, a.astype(np.float64)), ())  # two dtypes
    assert fn.module._fusable((a,), (np.float32(2.0),))
    assert fn.module._fusable((a.astype(np.float64),), (np.float64(2.0),))


@pytest.mark.slow  # numba compiles each loop (~1 s)
@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
@examples(8)
@given(dag=dags(), seed=st.integers(0, 2**16))
def test_auto_on_big_arrays_gives_numpys_values(dag, seed: int):
    """Random elementwise DAGs on big arrays: float64 to rounding, float32 within
    float32 rounding of NumPy's float32 answer."""
    g = gc.parse(dag.text())
    plain, auto = gc.compile(g), gc.compile(g, backend="auto")
    assert auto.report()[LOOPS] == 2
    rng = np.random.default_rng(seed)
    at = [rng.uniform(-1.5, 1.5, BIG) for _ in g.inputs]
    with np.errstate(all="ignore"):
        ref, got64 = plain(*at), auto(*at)
        want, got = plain(*[a.astype(np.float32) for a in at]), \
            auto(*[a.astype(np.float32) for a in at])
    for r, o in zip([ref[0], *ref[1].values()], [got64[0], *got64[1].values()], strict=True):
        np.testing.assert_allclose(o, r, rtol=1e-9, atol=1e-12, equal_nan=True)
    _within_float32(got[0], want[0], ref[0])
    for k in ref[1]:
        _within_float32(got[1][k], want[1][k], ref[1][k])
