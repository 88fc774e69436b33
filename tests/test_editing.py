"""Editing with constant positions (graphc/ops/editing.py: resize, delete, insert) against
JAX: values and gradients in both modes, float32 and float64, optimized and not; the
dot-product test; second order; text round trip and verify; the builder; pictures;
backends; the saved module; bad input (a ShapeError at its line and column)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import (
    LOSS,
    check_backend_agrees,
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

# name -> (declarations and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "resize grow": ("a: [2, 3]\nb: [4]\nf = resize(a, (3, 4)) * b",
                    lambda jnp, a, b: jnp.resize(a, (3, 4)) * b),
    "resize shrink": ("a: [2, 3]\nb: scalar\nf = resize(a, 4) * b",
                      lambda jnp, a, b: jnp.resize(a, 4) * b),
    "resize vector to matrix": ("a: [3]\nb: [5, 1]\nf = resize(a, (5, 2)) * b",
                                lambda jnp, a, b: jnp.resize(a, (5, 2)) * b),
    "delete flat": ("a: [2, 3]\nb: [5]\nf = delete(a, 1) * b",
                    lambda jnp, a, b: jnp.delete(a, 1) * b),
    "delete axis tuple": ("a: [2, 4]\nb: [2, 1]\nf = delete(a, (0, -1, 0), axis=1) * b",
                          lambda jnp, a, b: jnp.delete(a, jnp.array([0, -1, 0]), axis=1) * b),
    "delete axis 0 positional": ("a: [3, 2]\nb: [2]\nf = delete(a, -3, 0) * b",
                                 lambda jnp, a, b: jnp.delete(a, -3, 0) * b),
    "insert int column": ("a: [2, 3]\nb: [2]\nf = insert(a, 1, values=b, axis=1)",
                          lambda jnp, a, b: jnp.insert(a, 1, b, axis=1)),
    "insert int append row": ("a: [2, 3]\nb: [3]\nf = insert(a, 2, values=b, axis=0)",
                              lambda jnp, a, b: jnp.insert(a, 2, b, axis=0)),
    "insert int flat": ("a: [2, 3]\nb: [2]\nf = insert(a, -1, values=b)",
                        lambda jnp, a, b: jnp.insert(a, -1, b)),
    "insert tuple broadcast": ("a: [2, 3]\nb: scalar\nf = insert(a, (3, 0), values=b, axis=1)",
                               lambda jnp, a, b: jnp.insert(a, jnp.array([3, 0]), b, axis=1)),
    "insert tuple columns": ("a: [2, 3]\nb: [2, 1]\nf = insert(a, (2, 0), values=b, axis=1)",
                             lambda jnp, a, b: jnp.insert(a, jnp.array([2, 0]), b, axis=1)),
    "insert one-tuple": ("a: [2, 3]\nb: [2, 1]\nf = insert(a, (1,), values=b, axis=1)",
                         lambda jnp, a, b: jnp.insert(a, jnp.array([1]), b, axis=1)),
    "insert int moved": ("a: [2, 3]\nb: [1, 2]\nf = insert(a, 0, values=b, axis=1)",
                         lambda jnp, a, b: jnp.insert(a, 0, b, axis=1)),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each op in f64 in both modes, f32 too
       case in FIRST and (dtype, optimize) == (np.float64, True)
       or case == "resize grow" and mode == "reverse",
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    import jax.numpy as jnp

    g = gc.parse(CASES[case][0] + LOSS)
    at = values(g, dtype=dtype)
    np.testing.assert_array_equal(g.evaluate(**at)["f"], np.asarray(
        CASES[case][1](jnp, at["a"], at["b"]), dtype=dtype))
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> = <v, J^T u>: forward mode's product against reverse mode's, and reverse
    mode's gradient is the finite differences' gradient."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in ("delete axis 0 positional", "insert int moved"), case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The gradient graph, printed, read back and differentiated again in both modes:
    JAX's Hessian-vector product (for a and for b)."""
    check_second_order_of_case(jax, CASES, case)


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


def test_the_builder_makes_what_the_text_makes():
    a, b = gc.input("a", shape=(2, 3)), gc.input("b", shape=(2,))
    built = gc.graph(L=gc.sum(gc.resize(a, (3, 4))) + gc.sum(gc.delete(a, (0, 2), 1))
                     + gc.sum(gc.insert(a, 1, values=b, axis=1) ** 2))
    text = gc.parse("a: [2, 3]\nb: [2]\nL = sum(resize(a, (3, 4))) + sum(delete(a, (0, 2), 1))"
                    " + sum(insert(a, 1, values=b, axis=1) ** 2)")
    assert str(built) == str(text)
    at = values(text, seed=8)
    assert built.evaluate(**at)["L"] == text.evaluate(**at)["L"]


PROGRAM = ("a: [2, 3]\nb: [2]\nL = sum(sin(resize(a, (3, 4)))) + sum(delete(a, (0, 2), 1) ** 2)"
           " + sum(exp(insert(a, 1, values=b, axis=1)))")


def test_emitted_code_is_numpys_and_the_saved_module_agrees(tmp_path):
    g = gc.parse(PROGRAM)
    at = values(g, seed=9)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        for spelled in ("np.resize(a, (3, 4))", "np.delete(a, (0, 2), axis=1)",
                        "np.insert(a, 1, b, axis=1)"):
            assert spelled in fn.source, spelled
        check_saved_module(fn, at, tmp_path / f"editing_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse(PROGRAM)
    dot = gc.render(g, at=values(g, seed=10)).source
    for rule in ("repeats summed", "0 where deleted", "where a went", "where b went"):
        assert rule in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_backends_agree(backend, mode):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(PROGRAM)
    check_backend_agrees(g, values(g, seed=11), backend, mode)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("a: [2, 3]\n\nf = delete(a, 6)", ["index 6 is out of range", "size 6"]),
    ("a: [2, 3]\n\nf = delete(a, (0, -4), axis=1)", ["index -4 is out of range", "size 3"]),
    ("a: [2, 3]\n\nf = delete(a, 0, axis=2)", ["axis 2 is out of range"]),
    ("a: [2, 3]\n\nf = delete(a, 1.5)", ["an integer or a tuple of integers"]),
    ("a: [N, 3]\n\nf = delete(a, 0, axis=0)", ["numbers, not names"]),
    ("a: [2, 3]\nb: [2]\nf = insert(a, 4, values=b, axis=1)", ["index 4 is out of range"]),
    ("a: [2, 3]\nb: [2]\nf = insert(a, -4, values=b, axis=1)", ["index -4 is out of range"]),
    ("a: [2, 3]\nb: [3]\nf = insert(a, 1, values=b, axis=1)", ["[3, 1] and [2, 1]"]),
    ("a: [2, 3]\nb: [1, 1, 2]\nf = insert(a, 1, values=b, axis=1)", ["more dimensions"]),
    ("a: [2, 3]\n\nf = resize(a, (2, -1))", ["non-negative integers"]),
    ("a: [0]\n\nf = resize(a, 3)", ["empty array"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, words):
    check_error_at(text, gc.ShapeError, words, line=3, col=5)


@pytest.mark.parametrize("text", ["f = delete(a, 0)", "f = resize(a, 3)",
                                  "b: [2]\nf = insert(a, 0, values=b)"])
def test_an_undeclared_operand_is_refused(text):
    with pytest.raises(gc.ShapeError, match="declare"):
        gc.parse(text)


def test_insert_with_values_by_position_says_to_give_them_by_keyword():
    with pytest.raises(gc.ParseError) as info:
        gc.parse("a: [4]\nb: scalar\nf = insert(a, 1, b)")
    assert "values by keyword: insert(..., values=...)" in str(info.value)
    assert (info.value.line, info.value.col) == (3, 5)
