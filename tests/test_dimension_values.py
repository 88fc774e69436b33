"""A declared dimension's name used as a value (graphc/ops/dimensions.py): ``x: [T, D]``
then ``sum(x) / sqrt(D)`` divides by x's size along D, a constant: against JAX with that
size written as a number, both modes and dtypes, optimized and not; second order; the
text round trip; backends, saved module, pictures, verify; a name both a dimension and a
variable is an error at its line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODES, cross

import graphc as gc

# id: (.gc text, JAX's loss of the inputs and the sizes, the inputs' shapes)
CASES = {
    "scaled": ("x: [T, D]\nw: [D]\nL = sum(tanh(x @ w / sqrt(D)))",
               lambda jnp, s, x, w: jnp.sum(jnp.tanh(x @ w / jnp.sqrt(s["D"]))),
               {"x": (4, 3), "w": (3,)}),
    "attention": ("q: [T, D]\nk: [T, D]\nu: [T, T]\n"
                  "L = sum(softmax(q @ k.T / sqrt(D), axis=-1) * u)",
                  lambda jnp, s, q, k, u: jnp.sum(
                      __import__("jax").nn.softmax(q @ k.T / jnp.sqrt(s["D"]), axis=-1) * u),
                  {"q": (3, 4), "k": (3, 4), "u": (3, 3)}),
    "mean by hand": ("x: [T, D]\nm = sum(x, axis=0) / T\nL = sum(m * m) * (D - 1) + T ** 2",
                     lambda jnp, s, x: jnp.sum((jnp.sum(x, axis=0) / s["T"]) ** 2)
                     * (s["D"] - 1) + s["T"] ** 2,
                     {"x": (5, 2)}),
    "after int labels": ("labels: int[N]\nx: [N, C]\n"
                         "L = cross_entropy(x, labels) * N / C + sum(x ** 2) / (N * C)",
                         lambda jnp, s, labels, x: -jnp.mean(jnp.take_along_axis(
                             __import__("jax").nn.log_softmax(x), labels[:, None], axis=1))
                         * s["N"] / s["C"] + jnp.sum(x ** 2) / (s["N"] * s["C"]),
                         {"labels": (4,), "x": (4, 3)}),
}
SIZES = {"T": 4, "D": 3, "N": 4, "C": 3}


def _case(name: str, dtype=np.float64, seed: int = 0):
    text, loss, shapes = CASES[name]
    rng = np.random.default_rng(seed)
    values = {k: rng.integers(0, s[-1] if k != "labels" else 3, size=s) if k == "labels"
              else rng.normal(size=s).astype(dtype) for k, s in shapes.items()}
    sizes = dict(SIZES)
    if name == "attention":
        sizes.update(T=3, D=4)
    if name == "mean by hand":
        sizes.update(T=5, D=2)
    return gc.parse(text), values, loss, sizes


def _floats(values):
    return [k for k, v in values.items() if v.dtype.kind == "f"]


@cross(lambda name, optimize, mode: optimize or name == "scaled",
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_are_jaxs_with_the_size_a_constant(name, optimize, mode, dtype,
                                                                 jax):
    import jax.numpy as jnp

    g, values, loss, sizes = _case(name, dtype)
    assert g.inputs == list(values)  # no input named after a dimension
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    floats = _floats(values)
    as64 = {k: np.asarray(v, np.float64) if k in floats else v for k, v in values.items()}
    want, ref = jax.value_and_grad(lambda *a: loss(jnp, sizes, *a),
                                   argnums=tuple(list(values).index(k) for k in floats)
                                   )(*as64.values())
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, float(want), **tol)
    assert set(grads) == set(floats)
    for k, r in zip(floats, ref):
        assert grads[k].dtype == dtype, k
        np.testing.assert_allclose(grads[k], np.asarray(r), **tol, err_msg=k)


def test_the_value_is_the_size_in_the_inputs_float_dtype():
    g = gc.parse("labels: int[N]\nx: [N, 3]\ny = N + 0 * sum(x)")
    for dtype in (np.float64, np.float32):
        got = g.evaluate(labels=np.array([0, 2, 1, 1, 0]), x=np.ones((5, 3), dtype))["y"]
        assert got == 5.0 and np.asarray(got).dtype == dtype


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_round_trip_prints_the_name(name):
    g = _case(name)[0]
    text = str(g)
    again = gc.parse(text)
    assert str(again) == text and again.inputs == g.inputs
    assert "sqrt(D)" in text if "sqrt(D)" in CASES[name][0] else True
    assert [d["op"] for d in again.node_data().values()] == \
        [d["op"] for d in g.node_data().values()]
    assert sum(d["op"] == "dimension" for d in g.node_data().values()) >= 1


def test_second_order_is_jaxs(jax):
    """The gradient graph prints D, reads back and differentiates again: JAX's Hessian
    times v, with D its constant."""
    import jax.numpy as jnp

    g, values, loss, sizes = _case("scaled", seed=3)
    grad_graph = gc.compile(g, wrt=["x"]).grad_graph
    assert "D" in str(grad_graph)
    g2 = gc.parse("v: [T, D]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    v = np.random.default_rng(4).normal(size=values["x"].shape)
    f = lambda x, w: loss(jnp, sizes, x, w)  # noqa: E731
    want = jax.grad(lambda x, w: jnp.vdot(jax.grad(f)(x, w), v), argnums=(0, 1))(
        *values.values())
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["x", "w"], mode=mode)(**values, v=v)
        for k, r in zip(("x", "w"), want):
            np.testing.assert_allclose(second[k], np.asarray(r), rtol=1e-10, err_msg=mode)


def test_saved_module_verify_and_pictures(tmp_path):
    g, values, _, _ = _case("attention")
    assert gc.verify(g, at=values).ok
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        assert ".type(q.shape[-1])" in fn.source
        module: dict = {}
        exec(compile(fn.source, "saved", "exec"), module)  # noqa: S102 - our own module
        value, grads = fn(**values)
        saved_value, saved = module["value_and_grad"](**values)
        assert saved_value == value
        for k in values:
            np.testing.assert_array_equal(saved[k], grads[k])
    source = gc.render(g, at=values).source
    assert "sqrt(D)" in source or "D" in source


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_other_backends_give_the_numpy_backends_numbers(backend, mode):
    for name in ("scaled", "mean by hand", "after int labels"):
        for dtype in (np.float64, np.float32):
            g, values, _, _ = _case(name, dtype)
            value, grads = gc.compile(g, mode=mode, backend=backend)(**values)
            want_value, want = gc.compile(g, mode=mode)(**values)
            assert np.asarray(value).dtype == dtype
            np.testing.assert_allclose(value, want_value, rtol=1e-6)
            for k in want:
                np.testing.assert_allclose(grads[k], want[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text, line, col, words", [
    ("x: [T, D]\nD = 3.0\ny = sum(x) * D", 2, 1, "D is a dimension of x (line 1)"),
    ("x: [T, D]\nD: scalar\ny = sum(x) * D", 2, 1, "cannot also be declared"),
    ("D: scalar\nx: [T, D]\ny = sum(x) * D", 2, 4, "D is a value already (line 1)"),
    ("y = 2 * D\nx: [T, D]\nz = sum(x) * y", 2, 4, "D is a value already (line 1)"),
    ("D = 3.0\nx: [T, D]\ny = sum(x) * D", 2, 4, "D is a value already (line 1)"),
    ("x: [L - 2]\ny = sum(x) * L", 2, 14, "dimension L is not declared"),
])
def test_a_name_both_a_dimension_and_a_variable_is_an_error(text, line, col, words):
    with pytest.raises(gc.GraphcError) as info:
        gc.parse(text)
    assert words in str(info.value)
    assert (info.value.line, info.value.col) == (line, col)


def test_the_builder_writes_what_the_text_writes():
    x, w = gc.input("x", shape=("T", "D")), gc.input("w", shape=("D",))
    built = gc.graph(L=gc.sum(gc.tanh(x @ w / gc.sqrt(gc.dimension("D")))))
    parsed = _case("scaled")[0]
    assert str(built) == str(parsed)
    with pytest.raises(gc.ShapeError, match="dimension D is not declared"):
        gc.graph(L=gc.dimension("D") * gc.sum(x))  # no input declares D before it
    with pytest.raises(gc.InputError):
        gc.dimension("L - 2")


def test_the_builder_refuses_an_input_named_as_a_dimension():
    """In text D would read back as x's size, not as the input: a different graph."""
    x = gc.input("x", shape=("T", "D"))
    with pytest.raises(gc.InputError, match="D is both an input and a dimension of x"):
        gc.graph(y=gc.sum(x) * gc.input("D"))
