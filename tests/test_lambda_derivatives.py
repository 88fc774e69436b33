"""A lambda's derivative is that of what its body computes (issue 17, item 6).

sympy simplifies a formula as it builds it (``sqrt(x)**2`` is ``x``, ``exp(log(x))``
is ``x``), so a derivative taken from the lambda's one sympy formula was 1 at x = -2,
where the lambda computes nan. JAX differentiates what is computed: nan there.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

import graphc as gc

BODIES = {
    "sqrt(x)**2": lambda o, x: o.sqrt(x) ** 2,
    "x**2 / x": lambda o, x: x**2 / x,
    "exp(log(x))": lambda o, x: o.exp(o.log(x)),
    "log(exp(x))": lambda o, x: o.log(o.exp(x)),
    "sqrt(x) * sqrt(x)": lambda o, x: o.sqrt(x) * o.sqrt(x),
    "sqrt(x * x)": lambda o, x: o.sqrt(x * x),
    "(x - x) * log(x)": lambda o, x: (x - x) * o.log(x),
    "sin(x) * cos(x) + x": lambda o, x: o.sin(x) * o.cos(x) + x,
}
POINTS = [-2.0, 0.0, 3.0, 800.0]


def _grads(text: str, mode: str, optimize: bool) -> tuple[np.ndarray, np.ndarray]:
    fn = gc.compile(gc.parse(text), mode=mode, optimize=optimize)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        floats = np.array([fn(x=p)[1]["x"] for p in POINTS])
        arrays = np.asarray(fn(x=np.array(POINTS))[1]["x"]) if mode == "reverse" else floats
    return floats, arrays


@pytest.mark.parametrize("body", ["sqrt(x)**2", "exp(log(x))", "sqrt(x) * sqrt(x)"])
def test_the_issues_lambdas_have_nan_gradients_where_their_value_is_nan(body, mode, optimize):
    floats, arrays = _grads(f"f = lambda x: {body}\ny = f(x)", mode, optimize)
    for got in (floats, arrays):
        assert np.isnan(got[0]), got  # at -2: the value is nan, so is the gradient
        assert got[2] == pytest.approx(1.0)


@pytest.mark.parametrize("body", sorted(BODIES))
def test_lambda_gradients_are_jaxs(body, mode, optimize, jax):
    jnp = jax.numpy
    want = np.array([float(jax.grad(lambda x: BODIES[body](jnp, x))(p)) for p in POINTS])
    for text, scale in ((f"f = lambda x: {body}\ny = f(x)", 1.0),
                        (f"f = lambda x: {body}\ndbl = lambda x: f(x) * 2\ny = dbl(x)", 2.0)):
        for got in _grads(text, mode, optimize):
            np.testing.assert_allclose(got, want * scale, rtol=1e-12, equal_nan=True,
                                       err_msg=f"{text} ({mode})")


def test_a_lambda_calling_another_twice_is_differentiated_once_per_level():
    """The body's nodes are shared between calls on the same operands: depth 40 of
    lambdas each calling the previous one twice builds in well under a second."""
    lines = ["f0 = lambda x: sin(x)"]
    lines += [f"f{k} = lambda x: f{k - 1}(x) * f{k - 1}(x)" for k in range(1, 41)]
    start = time.perf_counter()
    fn = gc.compile(gc.parse("\n".join(lines + ["y = f3(x)"])))
    assert time.perf_counter() - start < 10
    _, grads = fn(x=0.5)
    s = np.sin(0.5)
    assert grads["x"] == pytest.approx(8 * s**7 * np.cos(0.5))


@pytest.mark.parametrize("text, at, want", [
    ("y = x / x", 0.0, np.nan),  # 1/x - x/x**2: nan, as JAX (sympy's x/x is 1: 0)
    ("y = x / x", 2.0, 0.0),
    ("y = (x / x) * z", 0.0, np.nan),
    ("y = x - x", np.inf, 0.0),  # 1 - 1, as JAX
])
def test_an_op_on_one_operand_twice_is_differentiated_slot_by_slot(text, at, want, mode,
                                                                    optimize):
    fn = gc.compile(gc.parse(text), mode=mode, optimize=optimize)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = fn(**{"x": np.array([at])} | ({"z": np.array([1.0])} if "z" in text else {}))
    np.testing.assert_equal(np.asarray(got[1]["x"]).ravel()[0], want)
