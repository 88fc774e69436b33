"""float32 meeting integers (graphc/ir/promote.py): float arithmetic with argmax, arange,
a count of booleans or where(c, 1.0, 0.0) keeps the float operand's dtype, as JAX does
(NumPy would give float64), in fn(), the saved module and every backend; the values and
gradients are JAX's in both dtypes and modes; one cast each, none for a comparison."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import MODES, cross

import graphc as gc

# id: (.gc text, JAX's loss of x)
CASES = {
    "times argmax": ("x: [N, 3]\ny = sum(sin(x) * argmax(x, axis=1, keepdims=True))",
                     lambda jnp, x: jnp.sum(jnp.sin(x) * jnp.argmax(x, axis=1, keepdims=True))),
    "argmin scalar": ("x: [N, 3]\ny = x[0, 0] * argmin(x) + sum(x)",
                      lambda jnp, x: x[0, 0] * jnp.argmin(x) + jnp.sum(x)),
    "plus arange": ("x: [N, 3]\ny = sum((x + arange(3)) ** 2)",
                    lambda jnp, x: jnp.sum((x + jnp.arange(3)) ** 2)),
    "arange over": ("x: [N, 3]\ny = sum(arange(3) * 0.5 / (x * x + 1))",
                    lambda jnp, x: jnp.sum(jnp.arange(3) * 0.5 / (x * x + 1))),
    "pow arange": ("x: [N, 3]\ny = sum(x ** arange(3))",
                   lambda jnp, x: jnp.sum(x ** jnp.arange(3))),
    "maximum arange": ("x: [N, 3]\ny = sum(maximum(x, arange(3) - 1))",
                       lambda jnp, x: jnp.sum(jnp.maximum(x, jnp.arange(3) - 1))),
    "count of bools": ("x: [N, 3]\ny = sum(x * sum(x > 0))",
                       lambda jnp, x: jnp.sum(x * jnp.sum(x > 0))),
    "where of numbers": ("x: [N, 3]\ny = sum(where(x > 0, 1.0, 0.0) * x ** 2)",
                         lambda jnp, x: jnp.sum(jnp.where(x > 0, 1.0, 0.0) * x ** 2)),
    "where with arange": ("x: [N, 3]\ny = sum(where(x > 0, x, arange(3)) ** 2)",
                          lambda jnp, x: jnp.sum(jnp.where(x > 0, x, jnp.arange(3)) ** 2)),
}


def _x(dtype):
    return np.random.default_rng(0).normal(size=(4, 3)).astype(dtype)


@cross(lambda name, dtype: dtype == np.float64 or name == min(CASES),  # fast: f32 once
       name=sorted(CASES), dtype=[np.float64, np.float32])
def test_values_gradients_and_dtypes_are_jaxs(name, dtype, mode, jax):
    import jax.numpy as jnp

    text, f = CASES[name]
    g = gc.parse(text)
    x = _x(dtype)
    want, ref = jax.value_and_grad(lambda x: f(jnp, x))(x.astype(np.float64))
    jax32 = jax.grad(lambda x: f(jnp, x))(x)
    assert jax32.dtype == dtype  # JAX keeps it
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    fn = gc.compile(g, mode=mode)
    module: dict = {}
    exec(compile(fn.source, "saved", "exec"), module)  # noqa: S102 - our own module
    for value, grads in (fn(x=x), module["value_and_grad"](x=x)):
        assert np.asarray(value).dtype == dtype and grads["x"].dtype == dtype
        np.testing.assert_allclose(value, float(want), **tol)
        np.testing.assert_allclose(grads["x"], np.asarray(ref), **tol)
    assert np.asarray(g.evaluate(x=x)["y"]).dtype == dtype


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_other_backends_keep_float32(backend):
    for name in ("times argmax", "plus arange", "where of numbers"):
        g = gc.parse(CASES[name][0])
        for mode in MODES:
            x = _x(np.float32)
            value, grads = gc.compile(g, mode=mode, backend=backend)(x=x)
            want, wgrads = gc.compile(g, mode=mode)(x=x)
            assert np.asarray(value).dtype == np.float32 and grads["x"].dtype == np.float32
            np.testing.assert_allclose(value, want, rtol=1e-5)
            np.testing.assert_allclose(grads["x"], wgrads["x"], rtol=1e-5, atol=1e-6)


def test_one_cast_each_and_none_for_a_comparison():
    source = gc.compile(gc.parse(CASES["times argmax"][0]), optimize=False).source
    body = source.split("def value_and_grad")[1].split("\ndef ")[0]
    assert body.count("_float_like(t1, np.argmax(") == 1 and body.count("_float_like(") == 1
    plain = gc.compile(gc.parse("x: [N]\ny = sum(x * (x > 0) + x * 2.0)")).source
    assert "_float_like(" not in plain.split("def forward")[1]


def test_the_text_prints_the_value_as_written_and_reads_back():
    g = gc.parse("x: [N, 3]\na = argmax(x, axis=1, keepdims=True)\n"
                 "y = sum(x * a) + sum(x + arange(3) * 2.0)")
    text = str(g)
    assert "x * a" in text and "x + arange(3) * 2.0" in text
    again = gc.parse(text)
    assert str(again) == text
    x = _x(np.float32)
    assert again.evaluate(x=x)["y"] == g.evaluate(x=x)["y"]


def test_the_builder_casts_too():
    x = gc.input("x", shape=("N", 3))
    g = gc.graph(y=gc.sum(x * gc.argmax(x, axis=1, keepdims=True)))
    value, grads = gc.compile(g)(x=_x(np.float32))
    assert np.asarray(value).dtype == np.float32 and grads["x"].dtype == np.float32


def test_second_order_keeps_float32():
    g = gc.parse(CASES["pow arange"][0])
    grad_graph = gc.compile(g).grad_graph
    g2 = gc.parse("v: [N, 3]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    x = _x(np.float32)
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["x"], mode=mode)(x=x, v=np.ones_like(x))
        assert second["x"].dtype == np.float32
        # d/dx sum(k x^(k-1)) = k (k-1) x^(k-2): 0, 0, 2 by column
        np.testing.assert_allclose(second["x"], np.broadcast_to([0.0, 0.0, 2.0], x.shape),
                                   rtol=1e-6)


# one-element casts, (.gc text, JAX's y, x): nanprod's, relu's and nan_to_num's masks
# meet the rewrite x * where(c, 1.0, 0.0) -> x * as_float(c, x) (nanprod's: CI's program)
ONE_ELEMENT = {
    "nanprod mask": ("x: [1]\ny = nanprod(x)", lambda jax, x: jax.numpy.nanprod(x),
                     np.array([0.8])),
    "kept argmax": ("x: [1, 3]\ny = argmax(x, axis=-1, keepdims=True) * 1.5 + sum(x * x)",
                    lambda jax, x: jax.numpy.argmax(x, -1, keepdims=True) * 1.5
                    + jax.numpy.sum(x * x), np.array([[0.3, 0.9, -0.1]])),
    "relu mask": ("x: [1]\ny = sum(relu(x) * sin(x))",
                  lambda jax, x: jax.numpy.sum(jax.nn.relu(x) * jax.numpy.sin(x)),
                  np.array([0.9])),
    "nan_to_num mask": ("x: [1, 1]\ny = sum(nan_to_num(x) * x)",
                        lambda jax, x: jax.numpy.sum(jax.numpy.nan_to_num(x) * x),
                        np.array([[0.7]])),
}


@pytest.mark.parametrize("name", sorted(ONE_ELEMENT))
def test_a_cast_of_one_element_keeps_its_axes(name, mode, jax):
    """NumPy 2.0's float64(array) tries Python's float() first, which takes a one-element
    array of one axis or more to a 0-d scalar with a DeprecationWarning ("Conversion of an
    array with ndim > 0 to a scalar"; CI's floor job): y was () where (1, 1). The warning
    is recorded, not an error: as an error NumPy swallows it and casts the array."""
    text, f, x = ONE_ELEMENT[name]
    g = gc.parse(text)
    want, jac = jax.numpy.asarray(f(jax, x)), jax.jacobian(lambda x: f(jax, x))(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if np.ndim(want):
            value, grads = gc.jacobian(g, mode=mode)(x=x)
        else:
            value, grads = gc.compile(g, mode=mode)(x=x)
        evaluated = g.evaluate(x=x)["y"]
    assert [str(w.message) for w in caught if "ndim > 0" in str(w.message)] == []
    assert np.shape(value) == np.shape(evaluated) == want.shape
    np.testing.assert_allclose(value, want, rtol=1e-12)
    assert np.shape(grads["x"]) == jac.shape
    np.testing.assert_allclose(grads["x"], jac, rtol=1e-12)
