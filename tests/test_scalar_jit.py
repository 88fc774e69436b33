"""The numba backend on Python floats: the scalar graph compiled (LLVM IR through
llvmlite, or numba pieces for ops the IR table lacks) computes what the NumPy backend
computes, up to the C library's rounding, at inf, nan and 1/0 too."""

from __future__ import annotations

import importlib.util
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphc as gc
from graphc.backend import loops, scalar_ir, scalar_jit

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
from compile_time import random_dag_text  # noqa: E402
from strategies import dags, examples  # noqa: E402

pytest.importorskip("numba")
SPECIAL = (0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 1e308, 0.5)


@pytest.fixture(autouse=True)
def always_compiled(monkeypatch):
    """Small graphs too: their Python lines would otherwise win (``CALL_US``)."""
    monkeypatch.setattr(scalar_jit, "CALL_US", 0.0)


def _same(got, want):
    """Values and gradients equal up to the C library's rounding (a few ulps, grown by
    cancellation), NaN where NumPy's is, inf where NumPy's is."""
    (value, grads), (wvalue, wgrads) = got, want
    assert grads.keys() == wgrads.keys()
    for g, w in [(value, wvalue), *((grads[k], wgrads[k]) for k in wgrads)]:
        assert np.ndim(g) == 0
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-10, equal_nan=True)


def _both(text: str):
    g = gc.parse(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's array loop declines big gradients
        fn = gc.compile(g, backend="numba")
    return fn, gc.compile(g), g.inputs


def _call(fn, args):
    with np.errstate(all="ignore"):
        return fn(*args)


def test_a_small_dag_runs_compiled_code_and_matches_numpy(monkeypatch):
    """Pieces of 7 nodes: values cross pieces through the work array."""
    monkeypatch.setattr(scalar_ir, "PIECE", 7)
    fn, plain, inputs = _both(random_dag_text(60, n_inputs=3, seed=2))
    assert "= _Native(" in fn.source and "@p3(" in fn.source
    assert "needs NumPy and numba" in fn.source
    for args in ([0.1, -0.7, 2.0], [0.0, math.inf, -1.0], [math.nan, 1.0, -0.0]):
        _same(_call(fn, args), _call(plain, args))
        _same(_call(fn.module.value_and_grad, args), _call(plain, args))
    assert fn.module._value_and_grad_floats.compiled is not None  # the compiled path ran


@pytest.mark.slow
@pytest.mark.parametrize("n,seed", [(300, 0), (1000, 1), (2500, 3)])
def test_random_dags_match_numpy(n, seed):
    fn, plain, inputs = _both(random_dag_text(n, seed=seed))
    rng = np.random.default_rng(seed)
    for _ in range(3):
        args = [float(x) for x in rng.normal(size=len(inputs)) * 2]
        _same(_call(fn.module.value_and_grad, args), _call(plain, args))
        np.testing.assert_allclose(fn.module.forward(*args), plain.module.forward(*args),
                                   rtol=1e-7)


@pytest.mark.slow
@examples(60)
@given(dag=dags(max_steps=10), data=st.data())
def test_scalar_programs_match_numpy_at_special_values(dag, data):
    fn, plain, inputs = _both(dag.text())
    args = [data.draw(st.sampled_from(SPECIAL) | st.floats(-4, 4)) for _ in inputs]
    _same(_call(fn.module.value_and_grad, args), _call(plain.module.value_and_grad, args))


TEXTS = [
    "y = maximum(a, b) * minimum(a, 0.5 * b) + relu(a - b)",
    "y = where(a > b, sigmoid(a), softplus(b)) + logaddexp(a, b)",
    "y = abs(a) ** b + sqrt(a * a + 1) / (b - 1) + reciprocal(b)",
    "y = arctan2(a, b) + hypot(a, b) + log1p(a * a) + expm1(b) + exp2(a)",
    "y = heaviside(a, b) * sign(b) + sign(a - b)",
    "y = erf(a) * erfc(b) + cbrt(a) * copysign(a, b) + fmod(a, b)",
    "y = gammaln(a) + b",  # the gradient's digamma: numba pieces; the value compiled
    "y = clip(a, -1, 1) * elu(b)",  # numba pieces
]


@pytest.mark.slow
@pytest.mark.parametrize("text", TEXTS)
def test_each_spelling_matches_numpy_at_special_values(text):
    fn, plain, _ = _both(text)
    native = not any(op in text for op in ("clip", "gammaln"))  # else numba pieces
    assert ("_value_and_grad_floats = _Native(" in fn.source) == native
    assert ("def _value_and_grad_floats(" in fn.source) == (not native)
    assert ("_forward_floats = _Native(" in fn.source) == ("clip" not in text)
    for a in SPECIAL:
        for b in SPECIAL:
            _same(_call(fn.module.value_and_grad, [a, b]), _call(plain, [a, b]))
            np.testing.assert_allclose(_call(fn.module.forward, [a, b]),
                                       _call(plain.module.forward, [a, b]), rtol=1e-7)


@pytest.mark.slow
def test_ints_and_arrays_take_the_numpy_path():
    fn, plain, _ = _both("y = tanh(a) * sin(b) + exp(a * b)")
    _same(_call(fn, [1, 2.0]), _call(plain, [1, 2.0]))
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(fn(x, 0.5)[0], plain(x, 0.5)[0])
    assert fn.module._value_and_grad_floats.compiled is None  # neither called it


@pytest.mark.slow
def test_the_saved_module_gives_what_fn_gives(tmp_path):
    fn, plain, _ = _both(random_dag_text(200, n_inputs=4, seed=5))
    path = tmp_path / "dag.py"
    fn.save(path)
    spec = importlib.util.spec_from_file_location("dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "numba" in module.__doc__ and "llvmlite" in module.__doc__
    args = [0.3, -1.2, 0.8, 2.5]
    _same(module.value_and_grad(*args), fn(*args))


@pytest.mark.slow
def test_an_op_without_a_compiled_spelling_runs_the_python_lines(monkeypatch):
    spelled = loops._spelled
    monkeypatch.setattr(loops, "_spelled", lambda op: op.name != "erf" and spelled(op))
    fn, plain, _ = _both("y = erf(a) * tanh(b) + sin(a * b)")
    assert "_floats" not in fn.source
    for a, b in [(0.3, -2.0), (math.inf, 0.0), (math.nan, 1.0)]:
        _same(_call(fn, [a, b]), _call(plain, [a, b]))


def test_ir_literals_are_exact():
    for v in (0.1, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308):
        bits = int(scalar_ir.literal(v), 16)
        assert np.array([bits], dtype=np.uint64).view(np.float64)[0] == v
        assert math.copysign(1, np.array([bits], dtype=np.uint64).view(np.float64)[0]) \
            == math.copysign(1, v)
    assert math.isnan(np.array([int(scalar_ir.literal(math.nan), 16)],
                               dtype=np.uint64).view(np.float64)[0])


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{"mode": "forward"}, {"wrt": "a", "of": "d"}])
def test_forward_mode_and_parts_of_a_graph_match_numpy(kwargs):
    g = gc.parse("c = tanh(a) * b\nd = sin(c) + a * a\ne = exp(-d) * c")
    fn, plain = gc.compile(g, backend="numba", **kwargs), gc.compile(g, **kwargs)
    assert "_value_and_grad_floats = _Native(" in fn.source
    for args in ([0.3, -1.2], [math.inf, 0.0], [0.0, math.nan]):
        _same(_call(fn, args), _call(plain, args))
