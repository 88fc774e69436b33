"""torch.nn.functional's pooling (graphc/ops/pooling.py: max_pool2d, avg_pool2d,
global_avg_pool) against JAX's reduce_window: values and gradients in both modes, float32
and float64, odd sizes, stride > 1, padding, overlapping windows; ties as JAX's gradient
breaks them; the dot-product test; second order; text round trip; pictures; backends; the
saved module; bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import (
    check_backend_matches_numpy,
    check_dot_product_test,
    check_error_at,
    check_round_trip_of_case,
    check_saved_module,
    check_second_order_of_case,
    check_value_and_gradients,
    values,
)
from conftest import MODES, cross, first_of_each

import graphc as gc


def _window(kind: str, a, k, s=None, p=0):
    """torch's pool of a's last two axes in JAX: lax.reduce_window, -inf or zero padding."""
    from jax import lax

    k = k if isinstance(k, tuple) else (k, k)
    s = k if s is None else s if isinstance(s, tuple) else (s, s)
    p = p if isinstance(p, tuple) else (p, p)
    lead = (1,) * (a.ndim - 2)
    pads = [(0, 0)] * (a.ndim - 2) + [(p[0], p[0]), (p[1], p[1])]
    if kind == "max":
        return lax.reduce_window(a, -np.inf, lax.max, lead + k, lead + s, pads)
    return lax.reduce_window(a, 0.0, lax.add, lead + k, lead + s, pads) / (k[0] * k[1])


# name -> (declarations and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "max_pool2d": ("a: [2, 3, 6, 4]\nb: [3, 1, 1]\nf = max_pool2d(a, 2) * b",
                   lambda jnp, a, b: _window("max", a, 2) * b),
    "max_pool2d overlapping": ("a: [1, 2, 7, 5]\nb: [2, 1, 1]\nf = max_pool2d(a, 3, 1) * b",
                               lambda jnp, a, b: _window("max", a, 3, 1) * b),
    "max_pool2d stride padding": (
        "a: [2, 2, 7, 6]\nb: scalar\nf = max_pool2d(a, 3, stride=2, padding=1) * b",
        lambda jnp, a, b: _window("max", a, 3, 2, 1) * b),
    "max_pool2d pairs": (
        "a: [1, 2, 5, 7]\nb: [2, 1, 1]\nf = max_pool2d(a, (2, 3), (1, 2), (1, 0)) * b",
        lambda jnp, a, b: _window("max", a, (2, 3), (1, 2), (1, 0)) * b),
    "max_pool2d unbatched": ("a: [2, 5, 5]\nb: [2, 1, 1]\nf = max_pool2d(a, 3, 2) * b",
                             lambda jnp, a, b: _window("max", a, 3, 2) * b),
    "avg_pool2d": ("a: [2, 3, 6, 4]\nb: [3, 1, 1]\nf = avg_pool2d(a, 2) * b",
                   lambda jnp, a, b: _window("avg", a, 2) * b),
    "avg_pool2d overlapping padding": (
        "a: [1, 2, 5, 5]\nb: [2, 1, 1]\nf = avg_pool2d(a, 3, stride=1, padding=1) * b",
        lambda jnp, a, b: _window("avg", a, 3, 1, 1) * b),
    "avg_pool2d pairs": (
        "a: [2, 1, 7, 6]\nb: scalar\nf = avg_pool2d(a, (3, 2), 2, (1, 1)) * b",
        lambda jnp, a, b: _window("avg", a, (3, 2), 2, (1, 1)) * b),
    "global_avg_pool": ("a: [2, 3, 5, 4]\nb: [3]\nf = global_avg_pool(a) * b",
                        lambda jnp, a, b: jnp.mean(a, axis=(-2, -1)) * b),
    "global_avg_pool unbatched": ("a: [3, 1, 5]\nb: [3]\nf = global_avg_pool(a) * b",
                                  lambda jnp, a, b: jnp.mean(a, axis=(-2, -1)) * b),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each case in f64 reverse mode, each op
       (dtype, optimize) == (np.float64, True) and (mode == "reverse" or case in FIRST)
       or (case, dtype, optimize) == ("max_pool2d stride padding", np.float32, True),
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


@cross(lambda case: case in FIRST or case == "max_pool2d overlapping", case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u; and J^T u
    is the finite differences' gradient (max_pool2d: linear where no tie is near)."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in FIRST or case == "max_pool2d stride padding", case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The reverse-mode gradient graph, printed and parsed again, differentiated again
    in both modes: JAX's Hessian-vector product."""
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


@pytest.mark.parametrize("k, s, p", [(2, 1, 0), (3, 2, 1), (2, 2, 1), (3, 1, 1)])
def test_ties_go_to_the_first_maximum_as_jaxs_gradient(jax, mode, k, s, p):
    """A window of equal entries passes its adjoint to the first of them in row-major
    order, in both modes, as jax.grad and jax.jvp of reduce_window's max; so do ties
    between some entries only, and -inf entries never lose their adjoint to the padding."""
    import jax.numpy as jnp

    x = np.ones((1, 1, 5, 5))
    x[0, 0, 2:, 1] = 3.0
    x[0, 0, 4, 4] = -np.inf
    g = gc.parse(f"x: [1, 1, 5, 5]\nL = sum(max_pool2d(x, {k}, {s}, {p}))")
    want = jax.grad(lambda x: jnp.sum(_window("max", x, k, s, p)))(x)
    np.testing.assert_array_equal(gc.compile(g, mode=mode)(x=x)[1]["x"], np.asarray(want))


def test_a_nan_gives_nan_and_its_window_adjoint_the_largest_number():
    """NaN propagates to the value (as torch and JAX); the adjoint goes to the window's
    largest number, as JAX's comparisons pass NaN over."""
    x = np.array([[[[1.0, np.nan], [np.nan, 2.0]]]])
    value, grads = gc.compile(gc.parse("x: [1, 1, 2, 2]\nL = sum(max_pool2d(x, 2))"))(x=x)
    assert np.isnan(value)
    np.testing.assert_array_equal(grads["x"], [[[[0.0, 0.0], [0.0, 1.0]]]])


def test_a_large_overlapping_max_pool_matches_jax_and_keeps_float32(jax):
    """Many windows share each entry (kernel 3, stride 1): the bincount adds them up."""
    import jax.numpy as jnp

    g = gc.parse("x: [4, 3, 11, 9]\ny = max_pool2d(x, 3, 1, 1)\nL = sum(y * y)")
    x = np.random.default_rng(1).normal(size=(4, 3, 11, 9)).astype(np.float32)
    value, grads = gc.compile(g)(x=x)
    want = jax.grad(lambda x: jnp.sum(_window("max", x, 3, 1, 1) ** 2))(x.astype(np.float64))
    assert grads["x"].dtype == np.float32 and np.asarray(value).dtype == np.float32
    np.testing.assert_allclose(grads["x"], np.asarray(want), rtol=1e-5, atol=1e-6)


# ---- the builder, the emitted code, pictures, backends, the saved module ---------------
def test_the_builder_makes_what_the_text_makes():
    x = gc.input("x", shape=(2, 3, 6, 6))
    built = gc.graph(L=gc.sum(gc.max_pool2d(x, 2)) + gc.sum(gc.avg_pool2d(x, 3, 1, 1))
                     + gc.sum(gc.global_avg_pool(x)))
    text = gc.parse("x: [2, 3, 6, 6]\nL = sum(max_pool2d(x, 2)) + sum(avg_pool2d(x, 3, 1, 1))"
                    " + sum(global_avg_pool(x))")
    assert str(built) == str(text)
    assert "max_pool2d(x, 2)" in str(text) and "global_avg_pool(x)" in str(text)


def test_saved_module_gives_what_fn_gives(tmp_path):
    g = gc.parse("x: [2, 3, 7, 6]\nw: [3, 1, 1]\ny = max_pool2d(x, 3, 2, 1) * w\n"
                 "z = avg_pool2d(y, 2, padding=1)\nL = sum(global_avg_pool(sin(z)) * 2)")
    at = values(g, seed=2)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        source = fn.source
        assert "_max_pool(x, (3, 3), (2, 2), (1, 1))" in source
        assert "np.mean(" in source and "sliding_window_view" in source
        check_saved_module(fn, at, tmp_path / f"saved_pool_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse("x: [1, 2, 4, 4]\nL = sum(max_pool2d(x, 2)) + sum(avg_pool2d(x, 2))"
                 " + sum(global_avg_pool(x))")
    dot = gc.render(g, at=values(g, seed=3)).source
    for rule in ("at each window's argmax", "spread over each window", "spread over each map"):
        assert rule in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_backends_agree(backend):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse("x: [2, 3, 7, 6]\nw: [3, 1, 1]\ny = max_pool2d(x, 3, 2, 1) * w\n"
                 "z = avg_pool2d(tanh(y), 2, padding=1)\nL = sum(global_avg_pool(z * z))")
    check_backend_matches_numpy(g, lambda dtype: values(g, seed=4, dtype=dtype), backend,
                                rtol_value=1e-6, rtol=1e-5, atol=1e-6)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("x: [1, 1, 3, 3]\ny = max_pool2d(x, 4)", ["kernel (4, 4) is larger than the padded "
                                               "input (3, 3)"]),
    ("x: [1, 1, 3, 3]\ny = avg_pool2d(x, (2, 6), padding=1)", ["larger than the padded"]),
    ("x: [3, 3]\ny = max_pool2d(x, 2)", ["NCHW", "[3, 3]"]),
    ("x: [1, 1, 1, 3, 3]\ny = avg_pool2d(x, 2)", ["NCHW"]),
    ("x: [1, 1, 6, 6]\ny = max_pool2d(x, 3, padding=2)", ["more than half the kernel"]),
    ("x: [1, 1, 6, 6]\ny = avg_pool2d(x, 2, 0)", ["must be positive"]),
    ("x: [1, 1, 6, 6]\ny = max_pool2d(x, (2, 2, 2))", ["a pair of integers"]),
    ("x: [1, 1, 6, 6]\ny = max_pool2d(x, 1.5)", ["a pair of integers"]),
    ("x: [1, 1, H, 6]\ny = max_pool2d(x, 2)", ["height and width as numbers"]),
    ("x: [6, 6]\ny = global_avg_pool(x)", ["NCHW"]),
    ("x: int[1, 1, 4, 4]\ny = max_pool2d(x, 2)", ["integers"]),
])
def test_bad_shapes_are_errors_at_the_line(text, words):
    check_error_at(text, gc.ShapeError, words, 2, 5)


def test_an_undeclared_input_is_refused():
    check_error_at("y = max_pool2d(x, 2)", gc.ShapeError, "declare", 1)
