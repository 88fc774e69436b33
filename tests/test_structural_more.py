"""NumPy's remaining structural functions (graphc/ops/assembling.py: hstack, vstack,
dstack, column_stack, append, atleast_1d/2d, rollaxis, rot90, diagonal, diagflat, take)
and vector products (graphc/ops/vectors.py: vdot, vecdot, matvec, vecmat, cross,
convolve, correlate) against JAX: values and gradients in both modes, float32 and
float64, optimized and not; the dot-product test; second order; text round trip;
pictures; backends; the saved module; bad input."""

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
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc

# name -> (declarations and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "hstack mats": ("a: [2, 3]\nb: [2, 1]\nf = hstack([a, b, a])",
                    lambda jnp, a, b: jnp.hstack([a, b, a])),
    "hstack vecs": ("a: [3]\nb: [1]\nf = hstack([a, b])", lambda jnp, a, b: jnp.hstack([a, b])),
    "hstack scalars": ("a: scalar\nb: [2]\nf = hstack([a, b, a])",
                       lambda jnp, a, b: jnp.hstack([a, b, a])),
    "vstack vec and mat": ("a: [3]\nb: [2, 3]\nf = vstack([a, b])",
                           lambda jnp, a, b: jnp.vstack([a, b])),
    "vstack 3-d": ("a: [1, 2, 3]\nb: [2, 2, 3]\nf = vstack([b, a])",
                   lambda jnp, a, b: jnp.vstack([b, a])),
    "dstack": ("a: [3]\nb: [1, 3]\nf = dstack([a, b])", lambda jnp, a, b: jnp.dstack([a, b])),
    "dstack mats": ("a: [2, 3]\nb: [2, 3, 2]\nf = dstack([a, b])",
                    lambda jnp, a, b: jnp.dstack([a, b])),
    "column_stack": ("a: [3]\nb: [3, 2]\nf = column_stack([a, b, a])",
                     lambda jnp, a, b: jnp.column_stack([a, b, a])),
    "append flat": ("a: [2, 3]\nb: [3]\nf = append(a, b)", lambda jnp, a, b: jnp.append(a, b)),
    "append axis": ("a: [2, 3]\nb: [2, 1]\nf = append(a, b, axis=-1)",
                    lambda jnp, a, b: jnp.append(a, b, axis=-1)),
    "atleast_1d": ("a: scalar\nb: [3]\nf = atleast_1d(a) * b",
                   lambda jnp, a, b: jnp.atleast_1d(a) * b),
    "atleast_2d": ("a: [3]\nb: [2, 1]\nf = atleast_2d(a) * b",
                   lambda jnp, a, b: jnp.atleast_2d(a) * b),
    "atleast_2d matrix": ("a: [2, 3]\nb: [3]\nf = atleast_2d(a) * b",
                          lambda jnp, a, b: jnp.atleast_2d(a) * b),
    "rollaxis": ("a: [2, 3, 4]\nb: [3]\nf = rollaxis(a, 2) * b",
                 lambda jnp, a, b: jnp.rollaxis(a, 2) * b),
    "rollaxis start": ("a: [2, 3, 1, 4]\nb: scalar\nf = rollaxis(a, 0, 3) * b",
                       lambda jnp, a, b: jnp.rollaxis(a, 0, 3) * b),
    "rollaxis negative": ("a: [2, 3, 4]\nb: scalar\nf = rollaxis(a, -1, -2) * b",
                          lambda jnp, a, b: jnp.rollaxis(a, -1, -2) * b),
    "rot90": ("a: [2, 3]\nb: [2]\nf = rot90(a) * b", lambda jnp, a, b: jnp.rot90(a) * b),
    "rot90 k axes": ("a: [2, 3, 5]\nb: [2]\nf = rot90(a, 3, (2, 0)) * b",
                     lambda jnp, a, b: jnp.rot90(a, 3, (2, 0)) * b),
    "rot90 twice": ("a: [2, 1, 3]\nb: scalar\nf = rot90(a, -2, axes=(1, 2)) * b",
                    lambda jnp, a, b: jnp.rot90(a, -2, axes=(1, 2)) * b),
    "diagonal": ("a: [3, 3]\nb: [3]\nf = diagonal(a) * b", lambda jnp, a, b: jnp.diagonal(a) * b),
    "diagonal offset axes": ("a: [2, 3, 4]\nb: [3]\nf = diagonal(a, -1, 2, 1) * b",
                             lambda jnp, a, b: jnp.diagonal(a, -1, 2, 1) * b),
    "diagonal wide": ("a: [3, 5]\nb: [3]\nf = diagonal(a, offset=2) * b",
                      lambda jnp, a, b: jnp.diagonal(a, offset=2) * b),
    "diagflat": ("a: [3]\nb: [3, 1]\nf = diagflat(a) * b", lambda jnp, a, b: jnp.diagflat(a) * b),
    "diagflat matrix k": ("a: [2, 2]\nb: scalar\nf = diagflat(a, -1) * b",
                          lambda jnp, a, b: jnp.diagflat(a, -1) * b),
    "vdot": ("a: [2, 3]\nb: [2, 3]\nf = vdot(a, b)", lambda jnp, a, b: jnp.vdot(a, b)),
    "vdot scalars": ("a: scalar\nb: scalar\nf = vdot(a, b)", lambda jnp, a, b: jnp.vdot(a, b)),
    "vecdot": ("a: [2, 3]\nb: [3]\nf = vecdot(a, b)", lambda jnp, a, b: jnp.vecdot(a, b)),
    "vecdot broadcast": ("a: [1, 3]\nb: [4, 1, 3]\nf = vecdot(a, b)",
                         lambda jnp, a, b: jnp.vecdot(a, b)),
    "vecdot axis": ("a: [3, 2]\nb: [4, 3, 1]\nf = vecdot(a, b, axis=-2)",
                    lambda jnp, a, b: jnp.vecdot(a, b, axis=-2)),
    "matvec": ("a: [2, 4, 3]\nb: [3]\nf = matvec(a, b)",
               lambda jnp, a, b: jnp.matmul(a, b[..., None])[..., 0]),
    "matvec batch": ("a: [4, 3]\nb: [2, 1, 3]\nf = matvec(a, b)",
                     lambda jnp, a, b: jnp.matmul(a, b[..., None])[..., 0]),
    "vecmat": ("a: [4]\nb: [2, 4, 3]\nf = vecmat(a, b)",
               lambda jnp, a, b: jnp.matmul(a[..., None, :], b)[..., 0, :]),
    "vecmat size 1": ("a: [2, 1]\nb: [1, 5]\nf = vecmat(a, b)",
                      lambda jnp, a, b: jnp.matmul(a[..., None, :], b)[..., 0, :]),
    "cross": ("a: [3]\nb: [3]\nf = cross(a, b)", lambda jnp, a, b: jnp.cross(a, b)),
    "cross broadcast": ("a: [2, 3]\nb: [3]\nf = cross(a, b)", lambda jnp, a, b: jnp.cross(a, b)),
    "cross axis": ("a: [3, 2]\nb: [1, 3, 1]\nf = cross(a, b, axis=-2)",
                   lambda jnp, a, b: jnp.cross(a, b, axis=-2)),
    "cross axis 0": ("a: [3, 2]\nb: [3, 2]\nf = cross(a, b, axis=0)",
                     lambda jnp, a, b: jnp.cross(a, b, axis=0)),
    "convolve": ("a: [5]\nb: [3]\nf = convolve(a, b)", lambda jnp, a, b: jnp.convolve(a, b)),
    "convolve same": ("a: [6]\nb: [4]\nf = convolve(a, b, 'same')",
                      lambda jnp, a, b: jnp.convolve(a, b, "same")),
    "convolve same long kernel": ("a: [2]\nb: [5]\nf = convolve(a, b, mode='same')",
                                  lambda jnp, a, b: jnp.convolve(a, b, mode="same")),
    "convolve valid": ("a: [7]\nb: [3]\nf = convolve(a, b, 'valid')",
                       lambda jnp, a, b: jnp.convolve(a, b, "valid")),
    "convolve valid long kernel": ("a: [3]\nb: [4]\nf = convolve(a, b, 'valid')",
                                   lambda jnp, a, b: jnp.convolve(a, b, "valid")),
    "convolve size 1": ("a: [1]\nb: [4]\nf = convolve(a, b)",
                        lambda jnp, a, b: jnp.convolve(a, b)),
    "correlate": ("a: [5]\nb: [3]\nf = correlate(a, b)", lambda jnp, a, b: jnp.correlate(a, b)),
    "correlate full": ("a: [4]\nb: [3]\nf = correlate(a, b, 'full')",
                       lambda jnp, a, b: jnp.correlate(a, b, "full")),
    "correlate same": ("a: [5]\nb: [2]\nf = correlate(a, b, 'same')",
                       lambda jnp, a, b: jnp.correlate(a, b, "same")),
    "correlate same long kernel": ("a: [2]\nb: [5]\nf = correlate(a, b, 'same')",
                                   lambda jnp, a, b: jnp.correlate(a, b, "same")),
    "correlate valid long kernel": ("a: [2]\nb: [5]\nf = correlate(a, b)",
                                    lambda jnp, a, b: jnp.correlate(a, b)),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each op in f64 in both modes
       (dtype, optimize) == (np.float64, True) and case in FIRST
       or case in ("hstack mats", "convolve same") and mode == "forward",
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u; and J^T u
    is the finite differences' gradient."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in ("cross", "correlate", "diagonal", "column_stack"),
       case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The reverse-mode gradient graph, printed and parsed again, differentiated again
    in both modes: JAX's Hessian-vector product."""
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


# ---- take: integer indices (never differentiated), a scatter-add adjoint ----------------
TAKES = {
    "take flat": ("a: [2, 3]\ni: int[4]\nf = take(a, i)", None),
    "take axis": ("a: [5, 3]\ni: int[2, 2]\nf = take(a, i, axis=0)", 0),
    "take last axis": ("a: [2, 5]\ni: int[3]\nf = take(a, i, -1)", -1),
    "take size 1": ("a: [1, 5]\ni: int[1]\nf = take(a, i, axis=1)", 1),
}
TAKE_AT = {"take flat": [5, 0, -1, 5], "take axis": [[4, 0], [4, -5]],
           "take last axis": [1, 1, -2], "take size 1": [3]}


@cross(lambda case, mode, dtype: dtype == np.float64 or case == "take axis",
       case=sorted(TAKES), mode=MODES, dtype=[np.float64, np.float32])
def test_take_matches_jax_repeated_and_negative_indices_too(jax, case, mode, dtype):
    """An index taken twice gets both adjoints (4 twice: np.add.at), negative indices
    count from the end, as NumPy's and JAX's."""
    import jax.numpy as jnp

    text, axis = TAKES[case]
    g = gc.parse(text + LOSS)
    a = np.random.default_rng(11).normal(size=g.shape("a")).astype(dtype)
    i = np.array(TAKE_AT[case])
    value, grads = gc.compile(g, mode=mode, wrt=["a"])(a=a, i=i)

    def loss(a):
        f = jnp.take(a, i, axis=axis)
        return jnp.sum(jnp.sin(f) * f)
    want, ref = jax.value_and_grad(loss)(a.astype(np.float64))
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(value, float(want), **tol)
    assert np.asarray(value).dtype == dtype and grads["a"].dtype == dtype
    np.testing.assert_allclose(grads["a"], np.asarray(ref), **tol)


@pytest.mark.parametrize("case", sorted(TAKES))
def test_take_dot_product_second_order_and_round_trip(case):
    text, _ = TAKES[case]
    shape = gc.parse(text).shape("f")
    g = gc.parse(f"u: {list(shape)}\n{text}\nL = sum(f * u * f)")
    rng = np.random.default_rng(12)
    at = {"a": rng.normal(size=g.shape("a")), "u": rng.normal(size=shape),
          "i": np.array(TAKE_AT[case])}
    _, rev = gc.compile(g, wrt=["a"])(**at)
    _, fwd = gc.compile(g, wrt=["a"], mode="forward")(**at)
    np.testing.assert_allclose(fwd["a"], rev["a"], rtol=1e-12)
    fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, "a")
    np.testing.assert_allclose(rev["a"], fd, rtol=1e-6, atol=1e-8)
    assert str(gc.parse(str(g))) == str(g)
    grad_graph = gc.compile(g, wrt=["a"]).grad_graph
    g2 = gc.parse(f"v: {list(g.shape('a'))}\n{grad_graph}\nh = sum(a_bar * v)")
    v = rng.normal(size=g.shape("a"))
    at_v = gc.compile(g, wrt=["a"])(**{**at, "a": v})[1]["a"]  # L is quadratic in a:
    for mode in MODES:  # its Hessian times v is its gradient at v
        hv = gc.compile(g2, of="h", wrt=["a"], mode=mode)(**at, v=v)[1]["a"]
        np.testing.assert_allclose(hv, at_v, rtol=1e-12, atol=1e-14)
    assert gc.verify(g, at).ok


def test_take_out_of_range_is_an_input_error_in_both_modes():
    g = gc.parse("a: [5, 3]\ni: int[2]\nf = take(a, i, axis=0)" + LOSS)
    a = np.ones((5, 3))
    for mode in MODES:
        fn = gc.compile(g, mode=mode, wrt=["a"])
        with pytest.raises(gc.InputError, match="out of range"):
            fn(a=a, i=np.array([0, 5]))
        with pytest.raises(gc.InputError, match="out of range"):
            fn(a=a, i=np.array([-6, 0]))
    value, grads = gc.compile(g, wrt=["a"], backend="blocks")(a=a, i=np.array([4, 4]))
    np.testing.assert_allclose(grads["a"][4], 2 * (np.cos(1.0) + np.sin(1.0)))  # twice
    assert value == pytest.approx(6 * np.sin(1.0)) and not grads["a"][:4].any()
    with pytest.raises(gc.ShapeError, match="not an integer array") as info:
        gc.parse("a: [5, 3]\ni: [2]\n\nf = take(a, i)")
    assert (info.value.line, info.value.col) == (4, 5)


# ---- the builder, the emitted code, pictures, backends, the saved module ---------------
def test_the_builder_makes_what_the_text_makes():
    a, b, c = gc.input("a", shape=(2, 3)), gc.input("b", shape=(3,)), gc.input("c", shape=(5,))
    i = gc.input("i", shape=(2,), dtype=int)
    built = gc.graph(L=gc.sum(gc.hstack([a, a])) + gc.sum(gc.vstack((a, b)))
                     + gc.sum(gc.dstack([a])) + gc.sum(gc.column_stack([b, b]))
                     + gc.sum(gc.append(a, b)) + gc.sum(gc.append(a, a, 0))
                     + gc.sum(gc.atleast_1d(gc.sum(a)) * gc.atleast_2d(b))
                     + gc.sum(gc.rollaxis(a, 1)) + gc.sum(gc.rot90(a, 3))
                     + gc.sum(gc.diagonal(a, 1)) + gc.sum(gc.diagflat(b, -1))
                     + gc.sum(gc.take(a, i, 1)) + gc.vdot(b, b) + gc.sum(gc.vecdot(a, b))
                     + gc.sum(gc.matvec(a, b)) + gc.sum(gc.vecmat(gc.sum(a, axis=1), a))
                     + gc.sum(gc.cross(a, b, axis=-1)) + gc.sum(gc.convolve(c, b, "same"))
                     + gc.sum(gc.correlate(c, b)))
    text = gc.parse(
        "a: [2, 3]\nb: [3]\ni: int[2]\nc: [5]\n"
        "L = sum(hstack([a, a])) + sum(vstack([a, b])) + sum(dstack([a]))"
        " + sum(column_stack([b, b])) + sum(append(a, b)) + sum(append(a, a, 0))"
        " + sum(atleast_1d(sum(a)) * atleast_2d(b)) + sum(rollaxis(a, 1))"
        " + sum(rot90(a, 3)) + sum(diagonal(a, 1)) + sum(diagflat(b, -1))"
        " + sum(take(a, i, 1)) + vdot(b, b) + sum(vecdot(a, b)) + sum(matvec(a, b))"
        " + sum(vecmat(sum(a, axis=1), a)) + sum(cross(a, b, axis=-1))"
        " + sum(convolve(c, b, 'same')) + sum(correlate(c, b))")
    assert str(built) == str(text)
    assert "convolve(c, b, 'same')" in str(text)  # an option, quoted; not a dimension
    rng = np.random.default_rng(13)
    at = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=3), "c": rng.normal(size=5),
          "i": np.array([2, 0])}
    assert built.evaluate(**at)["L"] == text.evaluate(**at)["L"]
    assert gc.verify(text, at).ok


def test_emitted_code_is_numpys_and_needs_numpy_2_0_only(tmp_path):
    """NumPy's own functions run the forward; matvec and vecmat (NumPy 2.2's) are
    matmuls; the saved module computes what fn() computes."""
    g = gc.parse("a: [2, 3]\nb: [3]\nc: [5]\ni: int[2]\n"
                 "L = sum(hstack([a, a]) * 2) + sum(vstack([b, a])) + sum(rot90(a, 3))"
                 " + sum(diagonal(a, 1)) + sum(take(a, i, 1)) + sum(matvec(a, b))"
                 " + sum(vecmat(b, a.T)) + sum(cross(a, b)) + sum(convolve(c, b, 'same'))"
                 " + sum(correlate(c, b)) + vecdot(b, b) + sum(append(a, b))")
    rng = np.random.default_rng(14)
    at = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=3), "c": rng.normal(size=5),
          "i": np.array([2, -1])}
    for mode in MODES:
        fn = gc.compile(g, mode=mode, wrt=["a", "b", "c"])
        source = fn.source
        for spelled in ("np.hstack([a, a])", "np.vstack([b, a])", "np.rot90(a, k=3)",
                        "np.diagonal(a, offset=1)", "np.take(a, i, axis=1)", "_matvec(a, b)",
                        "np.cross(a, b)", "np.convolve(c, b, mode='same')",
                        "np.correlate(c, b)", "np.vecdot(b, b)", "np.append(a, b)"):
            assert spelled in source, spelled
        assert "np.matvec(" not in source and "np.vecmat(" not in source
        check_saved_module(fn, at, tmp_path / f"saved_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse("a: [2, 3]\nb: [3]\nc: [5]\n"
                 "L = sum(hstack([a, a])) + sum(rot90(a)) + sum(diagonal(a))"
                 " + sum(cross(a, b)) + sum(convolve(c, b)) + sum(rollaxis(a, 1))")
    rng = np.random.default_rng(15)
    dot = gc.render(g, at={"a": rng.normal(size=(2, 3)), "b": rng.normal(size=3),
                           "c": rng.normal(size=5)}).source
    for rule in ("'s part 1", "rot90(", "-k)", "on the diagonal of zeros", "cross(b, ",
                 "correlate(", "convolve's adjoint", "moveaxis("):
        assert rule in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
@pytest.mark.parametrize("case", ["hstack mats", "column_stack", "rot90 k axes",
                                  "diagonal offset axes", "diagflat matrix k", "vecdot axis",
                                  "matvec batch", "cross axis", "convolve same",
                                  "correlate same long kernel", "append flat"])
def test_backends_agree(case, backend, mode):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(CASES[case][0] + LOSS)
    check_backend_agrees(g, values(g, seed=9), backend, mode)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("a: [2, 3]\nb: [3, 3]\nf = hstack([a, b])", ["[2, 3] and [3, 3] differ off axis 1"]),
    ("a: [2, 3]\nb: [3]\nf = hstack([a, b])", ["one rank", "[2, 3], [3]"]),
    ("a: [2, 3]\nb: [2]\nf = vstack([a, b])", ["differ off axis 0"]),
    ("a: [2, 3]\nb: [2, 3]\nf = append(a, b, axis=2)", ["axis 2 is out of range"]),
    ("a: [2, 3]\nb: [3]\nf = append(a, b, axis=0)", ["one rank"]),
    ("a: scalar\nb: [3]\nf = append(a, b, axis=0)", ["a scalar has no axes"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rollaxis(a, 2)", ["axis 2 is out of range"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rollaxis(a, 0, 3)", ["-2 <= start <= 2"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rollaxis(a)", ["axis is required"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rot90(a, 1, (0, 0))", ["name one axis twice"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rot90(a, 1, (0, 2))", ["axis 2 is out of range"]),
    ("a: [2, 3]\nb: [2, 3]\nf = rot90(a, 1, (0,))", ["two axes"]),
    ("a: [3]\nb: [2, 3]\nf = diagonal(a)", ["at least two dimensions"]),
    ("a: [3, 3]\nb: [2, 3]\nf = diagonal(a, 0, 1, 1)", ["name one axis"]),
    ("a: [N, M]\nb: [2, 3]\nf = diagonal(a)", ["known only at call time"]),
    ("a: [2, 3]\nb: [3, 2]\nf = vdot(a, b)", ["one shape"]),
    ("a: [2, 3]\nb: [2]\nf = vecdot(a, b)", ["summed axis is 3 in one operand and 2"]),
    ("a: [2, 3]\nb: [2, 1, 3]\nf = vecdot(a, b, axis=0)", ["counted from the end"]),
    ("a: [3]\nb: [3]\nf = matvec(a, b)", ["at least 2 and 1 dimensions"]),
    ("a: [2]\nb: [2]\nf = cross(a, b)", ["vectors of length 3", "got 2 and 2"]),
    ("a: [3, 2]\nb: [3]\nf = cross(a, b, axis=0)", ["counted from the end"]),
    ("a: [2, 3]\nb: [4, 3]\nf = cross(a, b)", ["do not broadcast"]),
    ("a: [5]\nb: [2, 3]\nf = convolve(a, b)", ["two declared vectors (1-d)", "[2, 3]"]),
    ("a: [0]\nb: [3]\nf = convolve(a, b)", ["empty vector"]),
    ("a: [5]\nb: [3]\nf = correlate(a, b, 'middle')", ["'full', 'same' or 'valid'"]),
    ("a: [N]\nb: [3]\nf = correlate(a, b)", ["lengths as numbers"]),
    ("b: [3]\nf = convolve(a, b)", ["declared vectors"]),
    ("b: [3]\nf = cross(a, b)", ["declare"]),
    ("b: [3]\nf = vdot(a, b)", ["declare"]),
    ("b: [3]\nf = atleast_2d(a) * b", ["declare"]),
    ("b: [3]\nf = rot90(a)", ["declare"]),
    ("b: [3]\nf = hstack([a, b])", ["declare"]),
    ("b: [3]\nf = diagflat(a)", ["declare"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, words):
    check_error_at(text, gc.ShapeError, words, line=text.count("\n") + 1, col=5)


@pytest.mark.parametrize("text, words", [
    ("a: [3]\nf = hstack(a)", ["takes a list of arrays first"]),
    ("a: [3]\nf = hstack([a], 0)", ["at most 0 more"]),
    ("a: [2, 3]\nf = rot90(a, 1.5)", ["k must be an integer"]),
    ("a: [2, 3]\nf = diagflat(a, 1.0)", ["k must be an integer"]),
    ("a: [3]\nb: [3]\nf = cross(a, b, axisa=0)", ["takes no keyword axisa"]),
])
def test_bad_calls_are_parse_errors(text, words):
    with pytest.raises(gc.ParseError) as info:
        gc.parse(text)
    assert info.value.line == text.count("\n") + 1
    for word in words:
        assert word in str(info.value), (word, str(info.value))
