"""Axis-taking ops on an undeclared input: its rank is known only at call time, so an
op that needs it asks for a declaration (never "x scalar: axis 0 is out of range");
one that works at any rank (flip(x), roll(x, 1), sum(x)) is accepted and gives JAX's
numbers at call time."""

from __future__ import annotations

import numpy as np
import pytest

import graphc as gc

NEEDS_A_SHAPE = [
    "flip(x, axis=0)", "flip(x, axis=(0, 1))", "flipud(x)", "fliplr(x)", "roll(x, 1, axis=0)",
    "moveaxis(x, 0, 1)", "swapaxes(x, 0, 1)", "expand_dims(x, 1)", "squeeze(x, axis=0)",
    "sort(x)", "sort(x, axis=0)", "cumsum(x)", "cumsum(x, axis=0)", "cumprod(x, axis=0)",
    "sum(x, axis=0)", "mean(x, axis=1)", "max(x, axis=0)", "min(x, axis=-1)",
    "argmax(x, axis=0)", "prod(x, axis=0)", "var(x, axis=0)", "std(x, axis=0)",
    "norm(x, axis=0)", "logsumexp(x, axis=0)", "softmax(x)", "log_softmax(x, axis=1)",
    "transpose(x, (1, 0))", "x.mT", "repeat(x, 2, axis=0)", "trace(x)", "triu(x)",
    "diag(x)", "x[1:]", "x @ x", "einsum('ij->j', x)", "tensordot(x, x, axes=1)",
    "sum((x + 1) * w, axis=1)",
]


@pytest.mark.parametrize("expr", NEEDS_A_SHAPE)
def test_an_op_needing_the_rank_asks_for_a_declaration(expr):
    with pytest.raises(gc.ShapeError) as info:
        gc.parse(f"w: [3]\ny = {expr}")
    err = info.value
    assert (err.line, err.col) == (2, 5)
    assert "not declared" in err.message and "x: [N]" in err.message, err.message
    assert "out of range" not in err.message and "scalar)" not in err.message


def test_the_builder_says_the_same():
    x = gc.input("x")
    with pytest.raises(gc.ShapeError, match="the shape of x is not declared"):
        gc.graph(y=gc.flip(x, axis=0))


def test_several_undeclared_inputs_are_named():
    with pytest.raises(gc.ShapeError, match="the shapes of a, b are not declared"):
        gc.parse("y = cumsum(a * b, axis=0)")
    with pytest.raises(gc.ShapeError, match="declare them"):
        gc.parse("y = cumsum(a * b, axis=0)")


def test_a_parameter_error_is_still_said():
    """What is wrong whatever the rank is said as it is."""
    with pytest.raises(gc.GraphcError, match="axis is required"):
        gc.parse("y = expand_dims(x)")


ANY_RANK = {  # .gc text: JAX's
    "flip(x)": lambda jnp, x: jnp.flip(x),
    "roll(x, 1)": lambda jnp, x: jnp.roll(x, 1),
    "squeeze(x)": lambda jnp, x: jnp.squeeze(x),
    "expand_dims(x, 0)": lambda jnp, x: jnp.expand_dims(x, 0),
    "max(x)": lambda jnp, x: jnp.max(x),
}


@pytest.mark.parametrize("expr", sorted(ANY_RANK))
def test_an_op_working_at_any_rank_gives_jaxs_numbers(expr, mode, jax):
    import jax.numpy as jnp

    g = gc.parse(f"y = sum(sin({expr}) * c)")
    if mode == "forward":  # stacked tangents need the shapes: a clear error, as documented
        with pytest.raises(gc.GraphcError, match="declare x"):
            gc.compile(g, mode=mode)
        return
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(3, 1, 4)), rng.normal()
    value, grads = gc.compile(g, mode=mode)(x=x, c=c)
    f = lambda x, c: jnp.sum(jnp.sin(ANY_RANK[expr](jnp, x)) * c)  # noqa: E731
    want, ref = jax.value_and_grad(f, argnums=(0, 1))(x, c)
    np.testing.assert_allclose(value, float(want), rtol=1e-12)
    np.testing.assert_allclose(grads["x"], np.asarray(ref[0]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["c"], float(ref[1]), rtol=1e-12)

