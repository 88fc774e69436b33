"""NumPy's remaining structural functions (graphc/ops/assembling.py: hstack, vstack,
dstack, column_stack, append, atleast_1d/2d, rollaxis, rot90, diagonal, diagflat, take)
and vector products (graphc/ops/vectors.py: vdot, vecdot, matvec, vecmat, cross,
convolve, correlate) against JAX: values and gradients in both modes, float32 and
float64, optimized and not; the dot-product test; second order; text round trip;
pictures; backends; the saved module; bad input."""

from __future__ import annotations

import numpy as np
import pytest
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
LOSS = "\nL = sum(sin(f) * f)"


def jax_loss(jnp, case: str):
    fn = CASES[case][1]
    return lambda a, b: jnp.sum(jnp.sin(fn(jnp, a, b)) * fn(jnp, a, b))


def values(g: gc.Graph, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=g.shape(n)).astype(dtype) for n in g.inputs}


FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each case in f64 reverse mode, each op
       (dtype, optimize) == (np.float64, True) and (mode == "reverse" or case in FIRST)
       or case in ("hstack mats", "convolve same") and mode == "forward",
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    import jax.numpy as jnp

    g = gc.parse(CASES[case][0] + LOSS)
    at = values(g, dtype=dtype)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    wide = {k: v.astype(np.float64) for k, v in at.items()}
    want, wants = jax.value_and_grad(jax_loss(jnp, case), argnums=(0, 1))(wide["a"], wide["b"])
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(value, float(want), **tol)
    assert np.asarray(value).dtype == dtype
    for name, w in zip("ab", wants):
        assert np.shape(grads[name]) == at[name].shape
        assert np.asarray(grads[name]).dtype == dtype
        np.testing.assert_allclose(grads[name], np.asarray(w), **tol, err_msg=name)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u; and J^T u
    is the finite differences' gradient."""
    g0 = gc.parse(CASES[case][0])
    shape = g0.shape("f")
    g = gc.parse(f"u: {list(shape) if shape else 'scalar'}\n" + CASES[case][0]
                 + "\nL = sum(f * u)")
    at = values(g, seed=3)
    _, rev = gc.compile(g, wrt=["a", "b"])(**at)
    rng = np.random.default_rng(4)
    for k in "ab":
        v = rng.normal(size=np.shape(at[k]))
        jv = gc.compile(g, wrt=[k], mode="forward")(**at)[1][k]
        assert np.vdot(jv, v) == pytest.approx(np.vdot(rev[k], v), rel=1e-9, abs=1e-12)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, k)
        np.testing.assert_allclose(rev[k], fd, rtol=1e-5, atol=1e-7)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The reverse-mode gradient graph, printed and parsed again, differentiated again
    in both modes: JAX's Hessian-vector product."""
    import jax.numpy as jnp

    g = gc.parse(CASES[case][0] + LOSS)
    at = values(g, seed=5)
    v = np.random.default_rng(6).normal(size=g.shape("a"))
    grad_graph = gc.compile(g, wrt=["a", "b"]).grad_graph
    decl = f"v: {list(v.shape) if v.shape else 'scalar'}\n"
    g2 = gc.parse(decl + str(grad_graph) + "\nh = sum(a_bar * v)")
    loss = jax_loss(jnp, case)
    want = jax.grad(lambda a, b: jnp.vdot(jax.grad(loss)(a, b), v), argnums=(0, 1))(
        at["a"], at["b"])
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["a", "b"], mode=mode)(**at, v=v)
        for name, w in zip("ab", want):
            np.testing.assert_allclose(second[name], np.asarray(w), rtol=1e-9, atol=1e-11,
                                       err_msg=f"{mode} {name}")


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    g = gc.parse(CASES[case][0] + LOSS)
    at = values(g, seed=7)
    again = gc.parse(str(g))
    assert str(again) == str(g)
    assert again.evaluate(**at)["L"] == g.evaluate(**at)["L"]
    grads = gc.compile(g).grad_graph
    assert str(gc.parse(str(grads))) == str(grads)
    report = gc.verify(g, at)
    assert report.ok, str(report)
