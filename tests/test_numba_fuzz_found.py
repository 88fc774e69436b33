"""The numba backend against the NumPy backend on random programs of the whole vocabulary
(tests/strategies.py), issue 24's "correctness of every backend against the NumPy
backend": small arrays (the NumPy lines), big same-shaped arrays (the fused loop, float64
and float32) and Python floats (the compiled scalar code), both modes. A fuzzing pass of
~1,000 such programs found one wrong number (float32 in the loop, the last test); else
only NumPy's own paths differ (the sign of a zero at a tie of clip or fmax, the sign bit
of a NaN that copysign reads, ``power(-inf, 0.5)``: NumPy's scalar and array loops
disagree on each)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODES
from hypothesis import given
from hypothesis import strategies as st
from strategies import ELEMENTWISE_OPS, Program, examples, programs

import graphc as gc
from graphc.backend import blocks

pytest.importorskip("numba")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

BIG = (2, blocks._SMALLEST + 1)
"""Same-shaped arrays of this shape go through the loop (``loops._fusable``)."""


_ELASTIC = programs(max_steps=8, ops=ELEMENTWISE_OPS, declared=False)
"""Undeclared inputs, elementwise ops: any same shapes (or Python floats) may be passed,
and the loop (or the compiled float code) takes them."""


def _values(p: Program, how: str, seed: int, dtype) -> dict:
    values = p.values(seed, dtype)
    if how == "floats":
        return {k: float(np.ravel(v)[0]) for k, v in values.items()}
    if how == "big":
        rng = np.random.default_rng(seed)
        return {k: rng.uniform(-1.5, 1.5, BIG).astype(dtype) for k in values}
    return values


def _outcome(fn: gc.CompiledFunction, values: dict):
    try:
        return fn(**values)
    except gc.GraphcError as exc:  # both backends refuse alike (forward mode's shapes)
        return type(exc)


def _leaves(result) -> list:
    value, grads = result
    return [value, *(grads[k] for k in sorted(grads))]


@pytest.mark.parametrize("how", ["small", "big", "floats"])
@examples(8)
@given(data=st.data(), mode=st.sampled_from(MODES), single=st.booleans(),
       seed=st.integers(0, 2**16))
def test_numba_gives_the_numpy_backends_numbers_on_random_programs(how, data, mode, single,
                                                                    seed):
    """Value and gradient of sum(output); float32 stays float32; the saved module gives
    what fn() gives."""
    p = data.draw(programs() if how == "small" else _ELASTIC)
    dtype = np.float32 if single and how != "floats" else np.float64
    mode = "reverse" if how == "big" else mode  # forward: one direction per element
    scalars = "".join(f"{i.name}: scalar\n" for i in p.inputs) if how == "floats" else ""
    # the gradient of sum(output) (of a Python float graph: the output, which a sum would
    # keep off the compiled float code)
    of = p.out if how == "floats" else "total"
    g = gc.parse(scalars + p.text() + ("" if how == "floats" else f"total = sum({p.out})\n"))
    values = _values(p, how, seed, dtype)
    try:
        want = gc.compile(g, of=of, mode=mode)
    except gc.GraphcError as exc:
        with pytest.raises(type(exc)):
            gc.compile(g, of=of, mode=mode, backend="numba")
        return
    fn = gc.compile(g, of=of, mode=mode, backend="numba")
    got, wanted = _outcome(fn, values), _outcome(want, values)
    if not isinstance(wanted, tuple):
        assert got is wanted
        return
    rtol, atol = (1e-9, 1e-9) if dtype == np.float64 else (2e-4, 2e-4)
    scale = max(1.0, *(float(np.max(np.abs(w))) for w in _leaves(wanted)))
    for a, b in zip(_leaves(got), _leaves(wanted), strict=True):
        assert np.shape(a) == np.shape(b) and np.result_type(a) == np.result_type(b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=p.text())
    module: dict = {}
    exec(compile(fn.source, "<saved>", "exec"), module)
    again = module["value_and_grad"](*(values[n] for n in fn.inputs))
    for a, b in zip(_leaves(again), _leaves(got), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("text", ["y = floor(x * 3.0)", "y = (x + 1e-8) - x",
                                  "s: scalar\ny = floor(x * s)", "y = floor(relu(x) * 3.0)",
                                  "y = floor(heaviside(x, 0.5) * x * 3.0)"])
def test_float32_arrays_compute_in_float32_in_the_loop(text):
    """The loop's constants and scalar inputs were float64 (numba's promotion, not NumPy's):
    on float32 arrays floor(x * 3.0) was one less than NumPy's and JAX's on a third of
    the elements, (x + 1e-8) - x was 1e-8, not 0; x * s (s: scalar, a Python float) too,
    and relu's 0.0 and heaviside's 1.0 (the spellings' own float64s)."""
    g = gc.parse(text)
    x = np.arange(BIG[0] * BIG[1], dtype=np.float32).reshape(BIG) / np.float32(3.0)
    at = {"x": x, "s": 3.0} if "s" in g.inputs else {"x": x}
    fused, plain = gc.compile(g, backend="numba"), gc.compile(g)
    assert fused.report()["functions run as numba loops"]
    got, want = fused.forward(**at), plain.forward(**at)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)
