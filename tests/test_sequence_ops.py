"""torch.nn.functional's embedding and dropout (graphc/ops/sequence.py) against JAX
(jnp.take; x * mask / (1 - p)): values and gradients in both modes, float32 and float64,
repeated ids (a scatter-add), the dot-product test, second order, text round trip,
pictures, backends, the saved module, bad input (ids out of range at call time)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import (
    LOSS,
    check_backend_agrees,
    check_backend_matches_numpy,
    check_dot_product_test,
    check_error_at,
    check_round_trip_of_case,
    check_saved_module,
    check_second_order_of_case,
    check_text_round_trip_and_verify,
    check_value_and_gradients,
)
from conftest import MODES, central_diff, cross

import graphc as gc

EMBED = "ids: int[3, 4]\ntable: [5, 2]\nw: [2]\nf = embedding(ids, table) * w" + LOSS
IDS = np.array([[0, 4, 4, 1], [2, 2, 2, 0], [3, 4, 0, 0]])  # repeats: adjoints add up


def _at(dtype=np.float64, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    return {"ids": IDS, "table": rng.normal(size=(5, 2)).astype(dtype),
            "w": rng.normal(size=2).astype(dtype)}


@cross(lambda mode, dtype, optimize: dtype == np.float64 and optimize or mode == "forward"
       and dtype == np.float32 and optimize,
       mode=MODES, dtype=[np.float64, np.float32], optimize={"opt": True, "noopt": False})
def test_embedding_matches_jax(jax, mode, dtype, optimize):
    import jax.numpy as jnp

    at = _at(dtype)
    value, grads = gc.compile(gc.parse(EMBED), mode=mode, optimize=optimize)(**at)

    def loss(table, w):
        f = jnp.take(table, at["ids"], axis=0) * w
        return jnp.sum(jnp.sin(f) * f)
    want, (d_table, d_w) = jax.value_and_grad(loss, argnums=(0, 1))(
        at["table"].astype(np.float64), at["w"].astype(np.float64))
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(value, float(want), **tol)
    assert np.asarray(value).dtype == dtype and set(grads) == {"table", "w"}
    for got, ref in ((grads["table"], d_table), (grads["w"], d_w)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, np.asarray(ref), **tol)


def test_embedding_dot_product_test_and_second_order(jax):
    """<J v, u> == <v, J^T u> for the table; the gradient graph differentiated again in
    both modes is JAX's Hessian-vector product."""
    import jax.numpy as jnp

    g = gc.parse("u: [3, 4, 2]\nids: int[3, 4]\ntable: [5, 2]\nL = sum(embedding(ids, table) * u)")
    rng = np.random.default_rng(1)
    at = {"u": rng.normal(size=(3, 4, 2)), "ids": IDS, "table": rng.normal(size=(5, 2))}
    v = rng.normal(size=(5, 2))
    rev = gc.compile(g, wrt=["table"])(**at)[1]["table"]
    jv = gc.compile(g, wrt=["table"], mode="forward")(**at)[1]["table"]
    assert np.vdot(jv, v) == pytest.approx(np.vdot(rev, v), rel=1e-12)
    fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, "table")
    np.testing.assert_allclose(rev, fd, rtol=1e-6, atol=1e-8)

    grad_graph = gc.compile(gc.parse(EMBED), wrt=["table", "w"]).grad_graph
    g2 = gc.parse("v: [5, 2]\n" + str(grad_graph) + "\nh = sum(table_bar * v)")
    at = _at(seed=2)

    def loss(table, w):
        f = jnp.take(table, at["ids"], axis=0) * w
        return jnp.sum(jnp.sin(f) * f)
    want = jax.grad(lambda t, w: jnp.vdot(jax.grad(loss)(t, w), v), argnums=(0, 1))(
        at["table"], at["w"])
    for mode in MODES:
        second = gc.compile(g2, of="h", wrt=["table", "w"], mode=mode)(**at, v=v)[1]
        for name, ref in zip(("table", "w"), want):
            np.testing.assert_allclose(second[name], np.asarray(ref), rtol=1e-9, atol=1e-11)


def test_embedding_round_trip_verify_builder_and_pictures():
    g = gc.parse(EMBED)
    check_text_round_trip_and_verify(g, _at(seed=3))
    ids, table, w = (gc.input("ids", shape=(3, 4), dtype=int), gc.input("table", shape=(5, 2)),
                     gc.input("w", shape=(2,)))
    f = gc.embedding(ids, table) * w
    built = gc.graph(L=gc.sum(gc.sin(f) * f))
    assert "embedding(ids, table)" in str(built)
    assert built.evaluate(**_at())["L"] == g.evaluate(**_at())["L"]
    dot = gc.render(g, at=_at()).source
    assert "added into the rows ids took" in dot


def test_embedding_out_of_range_ids_are_input_errors_never_a_wrap():
    """A negative id is an error, not NumPy's count from the end; so is an id past V, in
    both modes and in the interpreter; the saved module raises IndexError itself."""
    g = gc.parse(EMBED)
    at = _at()
    for bad in ([[0, 0, 0, -1]] * 3, [[0, 5, 0, 0]] * 3):
        for mode in MODES:
            with pytest.raises(gc.InputError, match="out of range for a table of 5 rows"):
                gc.compile(g, mode=mode)(**{**at, "ids": np.array(bad)})
        with pytest.raises(gc.InputError, match="out of range"):
            g.evaluate(**{**at, "ids": np.array(bad)})


def test_embedding_and_dropout_saved_module_and_backends(tmp_path):
    g = gc.parse("m: [3, 4, 1]\n" + EMBED.replace("embedding(ids, table) * w",
                               "dropout(embedding(ids, table), m, 0.25) * w"))
    at = {**_at(seed=4), "m": np.tile([1.0, 0.0, 1.0, 1.0], (3, 1))[..., None]}
    for mode in MODES:
        fn = gc.compile(g, mode=mode, wrt=["table", "w"])
        assert "_embedding(ids, table)" in fn.source and "/ (1 - 0.25)" in fn.source
        module = check_saved_module(fn, at, tmp_path / f"saved_embedding_{mode}.py")
        with pytest.raises(IndexError, match="out of range"):
            module.value_and_grad(**{**at, "ids": -IDS - 1})
    for mode in MODES:
        check_backend_agrees(g, at, "blocks", mode, wrt=["table", "w"])


@pytest.mark.slow
def test_embedding_numba(tmp_path):
    if not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(EMBED)
    at = _at(seed=5)
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(**at)
        other, others = gc.compile(g, mode=mode, backend="numba")(**at)
        np.testing.assert_allclose(other, value, rtol=1e-12)
        for k in grads:
            np.testing.assert_allclose(others[k], grads[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("text, words", [
    ("ids: [3]\ntable: [5, 2]\ny = embedding(ids, table)", ["must be integers", "int[B, T]"]),
    ("ids: int[3]\ntable: [5, 2, 1]\ny = embedding(ids, table)", ["matrix [V, D]"]),
    ("ids: int[3]\ntable: int[5, 2]\ny = embedding(ids, table)", ["must hold floats"]),
    ("ids: int[3]\ntable: [5, 2]\ny = dropout(table, ids, 0.5)", ["integers"]),
    ("x: [3, 2]\nm: [4, 3, 2]\ny = dropout(x, m, 0.5)", ["mask [4, 3, 2] does not fit x [3, 2]"]),
    ("x: [3, 2]\nm: [3, 2]\ny = dropout(x, m, 1.0)", ["p is 1.0", "[0, 1)"]),
    ("x: [3, 2]\nm: [3, 2]\ny = dropout(x, m, -0.1)", ["p is -0.1"]),
])
def test_bad_input_is_an_error_at_the_line(text, words):
    check_error_at(text, gc.ShapeError, words, 3, 5)


# ---- dropout(x, mask, p): a product with the caller's mask, scaled by 1 / (1 - p) ----------
DROPOUT = {
    "dropout": ("a: [3, 4]\nb: [3, 4]\nf = dropout(a, b, 0.25)",
                lambda jnp, a, b: a * b / 0.75),
    "dropout default p channels": ("a: [2, 3, 4]\nb: [2, 3, 1]\nf = dropout(a, b)",
                                   lambda jnp, a, b: a * b / 0.5),
}


@cross(lambda case, mode, dtype: dtype == np.float64 or mode == "forward",
       case=sorted(DROPOUT), mode=MODES, dtype=[np.float64, np.float32])
def test_dropout_matches_jax(jax, case, mode, dtype):
    check_value_and_gradients(jax, DROPOUT, case, mode, True, dtype)


@pytest.mark.parametrize("case", sorted(DROPOUT))
def test_dropout_dot_product_second_order_round_trip(jax, case):
    check_dot_product_test(DROPOUT[case][0])
    check_second_order_of_case(jax, DROPOUT, case)
    check_round_trip_of_case(DROPOUT, case)


def test_dropout_with_a_mask_of_zeros_and_ones_scales_the_kept():
    """The design: the caller draws the mask (no randomness inside a graph), the kept
    entries are scaled by 1 / (1 - p), as torch's training-mode dropout; the mask is
    differentiated like any factor."""
    g = gc.parse("x: [4]\nmask: [4]\ny = dropout(x, mask, 0.2)\nL = sum(y * y)")
    x, mask = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, 1.0, 0.0])
    value, grads = gc.compile(g)(x=x, mask=mask)
    np.testing.assert_allclose(g.evaluate(x=x, mask=mask)["y"], [1.25, 0.0, 3.75, 0.0])
    np.testing.assert_allclose(grads["x"], 2 * np.array([1.25, 0.0, 3.75, 0.0]) * 1.25)
    assert value == pytest.approx(1.25 ** 2 * 10)
    assert gc.dropout(gc.input("x"), gc.input("mask"), 0.2) is not None


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_dropout_backends(backend):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(DROPOUT["dropout"][0] + LOSS)
    rng = np.random.default_rng(6)
    check_backend_matches_numpy(
        g, lambda dtype: {"a": rng.normal(size=(3, 4)).astype(dtype),
                          "b": (rng.random((3, 4)) > 0.3).astype(dtype)},
        backend, rtol_value=1e-6, rtol=1e-5, atol=1e-6)
