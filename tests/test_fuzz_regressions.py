"""Programs a fuzzing pass over the whole vocabulary found wrong or refused, minimised:
each against JAX (or against graphc's other mode where JAX has no text)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODES

import graphc as gc


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("y", [None, (2, 3), (3,), ()], ids=["none", "y23", "y3", "y0"])
def test_where_of_a_reduction_in_forward_mode(jax, mode, y):
    """where's branches of different ranks (x and sum(x)): forward mode's stacked
    tangents (D, 3) and (D,) did not broadcast (a ShapeError; with an undeclared
    condition, one at call time). Now lifted to the output's dims, as formula ops are."""
    import jax.numpy as jnp

    x = np.array([0.5, -1.0, 2.0])
    c = np.array([[1.0, -1, 1], [-1, 1, 1]])[(0,) * (2 - len(y))] if y else 0.5
    if y is None:
        g = gc.parse("x: [3]\nv = where(x > 0, x, sum(x) * 2)\nout = sum(v)")
        values, want = {"x": x}, jax.grad(
            lambda x: jnp.sum(jnp.where(x > 0, x, jnp.sum(x) * 2)))(x)
    else:
        g = gc.parse("x: [3]\nout = where(c > 0, x, sum(x) * 2)")
        values, want = {"x": x, "c": c}, jax.grad(
            lambda x: jnp.sum(jnp.where(c > 0, x, jnp.sum(x) * 2)))(x)
    if y is None:
        for optimize in (True, False):
            _, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
            np.testing.assert_allclose(grads["x"], np.asarray(want), rtol=1e-12)
        return
    # out is not a scalar: the gradient of its sum, from its forward-mode Jacobian
    # (stacked tangents, as before) or the vjp of ones
    value = gc.compile(g).forward(**values)
    if mode == "forward":
        _, jac = gc.jacobian(g, wrt="x", mode="forward")(**values)
        got = jac["x"].reshape((-1, 3)).sum(axis=0)
    else:
        got = gc.vjp(g, wrt="x")(**values, y_bar=np.ones(np.shape(value)))[1]["x"]
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12)


def test_prod_of_an_undeclared_input_round_trips():
    """prod(x) of an undeclared x: its gradient graph prints prod_except(x) (every
    axis), which the parser refused (an internal op's axis=None taken as missing)."""
    g = gc.parse("v = prod(x)")
    fn = gc.compile(g)
    x = np.array([[0.5, 2.0, -1.5], [1.2, 0.0, 0.7]])
    again = gc.parse(str(fn.grad_graph))
    np.testing.assert_array_equal(again.evaluate(x=x)["x_bar"], fn(x=x)[1]["x"])
    assert again.evaluate(x=x)["x_bar"][1, 1] == pytest.approx(0.5 * 2 * -1.5 * 1.2 * 0.7)


@pytest.mark.parametrize("text", ["dot(a, b)", "inner(a, b)", "tensordot(a, b, axes=1)"])
def test_products_refuse_a_length_1_axis_against_a_longer_one(text):
    """a: [2, 3] against b: [1]: NumPy's and JAX's dot/inner/tensordot refuse (they do
    not stretch a length 1 as einsum does); graphc's shape rule took it, and the module
    raised NumPy's ValueError at call time."""
    with pytest.raises(gc.ShapeError, match="is 3 in one operand and 1 in another"):
        gc.parse(f"a: [2, 3]\nb: [1]\nout = {text}")
    with pytest.raises(gc.ShapeError, match="is 3 in one operand and 1"):
        gc.parse("a: [2, 3]\nb: [2, 1]\nout = inner(a, b)")


def _backend_agrees(backend: str, text: str, mode: str) -> None:
    g = gc.parse(text)
    b = np.linspace(-1.0, 1.0, 300_000)
    for a in (0.5, -0.5):
        value, grads = gc.compile(g, backend=backend, mode=mode)(a=a, b=b)
        want, want_grads = gc.compile(g, mode=mode)(a=a, b=b)
        np.testing.assert_allclose(value, want, rtol=1e-12)
        for k in want_grads:
            np.testing.assert_allclose(grads[k], want_grads[k], rtol=1e-12, atol=1e-12)


_SCALAR_CONDITION = ["a: scalar\nb: [N]\nout = where(a > 0, b, 1.0)",
                     "a: scalar\nb: [N]\nout = leaky_relu(a, b) + elu(a, b)"]
"""A condition computed from scalars once, before the blocks: it reached the block kernel
as a float input, whose where() refused it (a ShapeError from compile)."""


@pytest.mark.parametrize("text", _SCALAR_CONDITION)
def test_blocks_with_a_scalar_condition(text, mode):
    _backend_agrees("blocks", text, mode)


@pytest.mark.slow
@pytest.mark.parametrize("text", _SCALAR_CONDITION)
def test_numba_with_a_scalar_condition(text):
    _backend_agrees("numba", text, "reverse")


def test_pad_of_an_undeclared_input_is_refused():
    """pad(x, 1) of an undeclared x: compiled for a 0-d x (no axis to pad), called with
    x of shape (3,), its gradient had shape (5,). pad needs x's axes, as reshape does."""
    with pytest.raises(gc.ShapeError, match="pad needs its operand's shape"):
        gc.parse("out = pad(x, 1)")
    value, grads = gc.vjp(gc.parse("x: [3]\nout = pad(x, 1)"))(x=np.ones(3), y_bar=np.ones(5))
    np.testing.assert_array_equal(value, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grads["x"], np.ones(3))
