"""Tensor graphs: matrix ops, broadcasting, softmax family, losses, dtypes, bad input."""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings

import numpy as np
import pytest
from conftest import EXAMPLES, MODES, central_diff

import graphc as gc
from graphc.ops.tensor import _max_along, _sum_along

MLP = """
x: [N, 4]
labels: [N, 3]
W1: [4, 5]
b1: [5]
W2: [5, 3]
b2: [3]
h = tanh(x @ W1 + b1)
logits = h @ W2 + b2
loss = cross_entropy(logits, labels)
"""


def mlp_values(n: int = 6, dtype=np.float64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {"x": rng.normal(size=(n, 4)), "labels": np.eye(3)[rng.integers(0, 3, n)],
              "W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    return {k: v.astype(dtype) for k, v in values.items()}


def jax_mlp(jnp, jax):
    def loss(x, labels, W1, b1, W2, b2):  # noqa: N803
        h = jnp.tanh(x @ W1 + b1)
        logits = h @ W2 + b2
        return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=-1))
    return loss


def test_mlp_gradients_match_jax_and_finite_differences(jax, mode, optimize):
    import jax.numpy as jnp

    g = gc.parse(MLP)
    values = mlp_values()
    fn = gc.compile(g, mode=mode, optimize=optimize)
    value, grads = fn(**values)
    ref_value, ref = jax.value_and_grad(jax_mlp(jnp, jax), argnums=tuple(range(6)))(
        *values.values())
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    for name, r in zip(values, ref):
        assert grads[name].shape == values[name].shape
        np.testing.assert_allclose(grads[name], np.asarray(r), rtol=1e-9, atol=1e-12)
    for name in ("W1", "b2"):
        fd = central_diff(lambda **v: g.evaluate(**v)["loss"], values, name)
        np.testing.assert_allclose(grads[name], fd, rtol=1e-5, atol=1e-8)


def test_mlp_emitted_code_reads_like_the_lecture():
    source = gc.compile(gc.load(EXAMPLES / "mlp.gc"), wrt="W1,b1,W2,b2,W3,b3").source
    body = source.split("def value_and_grad")[1]
    for line in ("W3_bar = h2.T @ logits_bar", "h2_bar = logits_bar @ W3.T",
                 "b3_bar = np.sum(logits_bar, axis=0)", "W1_bar = x.T @ t1_bar",
                 "np.sum(labels, axis=-1, keepdims=True)"):
        assert line in body, line
    # the backward takes the softmax as exp of the forward's log-probabilities
    log_probs = re.search(r"(\w+) = _log_softmax\(logits\)", body)[1]
    assert f"np.exp({log_probs}" in body
    assert body.count("softmax(") == 1
    assert "for " not in body  # BLAS matmuls, never Python loops over elements
    assert "x_bar" not in body  # only the requested wrt


@pytest.mark.parametrize("text, shapes", [
    ("y = sum(x * s)", {"x": (3, 4), "s": ()}),                      # scalar x matrix
    ("y = sum(x + b)", {"x": (3, 4), "b": (4,)}),                    # bias add
    ("y = sum(x * c)", {"x": (3, 4), "c": (3, 1)}),                  # column broadcast
    ("y = sum(x / sum(x, axis=1, keepdims=True))", {"x": (3, 4)}),   # keepdims
    ("y = sum(mean(x, axis=0) * b)", {"x": (3, 4), "b": (4,)}),
    ("y = sum(x - mean(x, axis=(0, 1), keepdims=True))", {"x": (2, 3)}),
])
def test_broadcasting_gradients_have_the_input_shapes(text, shapes, mode, optimize):
    decl = "".join(f"{k}: {'scalar' if not s else list(s)}\n" for k, s in shapes.items())
    g = gc.parse(decl + text)
    rng = np.random.default_rng(1)
    values = {k: rng.uniform(0.5, 1.5, size=s) if s else 0.7 for k, s in shapes.items()}
    _, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    for k in shapes:
        fd = central_diff(lambda **v: g.evaluate(**v)["y"], values, k)
        assert np.shape(grads[k]) == shapes[k]
        np.testing.assert_allclose(grads[k], fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("text, at", [
    ("a: scalar\ny = a * x", {"a": 0.7, "x": (3,)}),
    ("a: [3]\ny = a * x", {"a": (3,), "x": (2, 1)}),
    ("a: [3]\ny = a * x", {"a": (3,), "x": ()}),
    ("a: scalar\ny = sin(a * x) * x + b", {"a": 0.7, "x": (2, 3), "b": ()}),
    ("w: [3]\nc: scalar\ny = tanh(w * x + c)", {"w": (3,), "c": 0.2, "x": (4, 1)}),
])
def test_declared_inputs_broadcast_by_undeclared_arrays(text, at, mode, optimize):
    """Regression: a declared input's gradient kept the shape an undeclared array
    broadcast it to (``a: scalar`` times an array x gave a_bar of x's shape): its static
    shape matched its consumer's, whose real shape is known only at call time."""
    g = gc.parse(text)
    rng = np.random.default_rng(2)
    values = {k: rng.uniform(0.5, 1.5, size=s) if isinstance(s, tuple) else s
              for k, s in at.items()}
    for backend in ("numpy", "blocks"):
        _, grads = gc.compile(g, mode=mode, optimize=optimize, backend=backend)(**values)
        for k, v in values.items():
            fd = central_diff(lambda **kw: g.evaluate(**kw)["y"], values, k)
            assert np.shape(grads[k]) == np.shape(v)
            np.testing.assert_allclose(grads[k], fd, rtol=1e-6, atol=1e-8)


STRUCTURAL = {
    "matmul 2x2": ("a: [3, 4]\nb: [4, 2]\nf = a @ b", {"a": (3, 4), "b": (4, 2)}),
    "matmul vec-mat": ("a: [4]\nb: [4, 2]\nf = a @ b", {"a": (4,), "b": (4, 2)}),
    "matmul mat-vec": ("a: [3, 4]\nb: [4]\nf = a @ b", {"a": (3, 4), "b": (4,)}),
    "matmul vec-vec": ("a: [4]\nb: [4]\nf = a @ b", {"a": (4,), "b": (4,)}),
    "matmul batched": ("a: [2, 3, 4]\nb: [4, 2]\nf = a @ b", {"a": (2, 3, 4), "b": (4, 2)}),
    "transpose": ("a: [3, 4]\nf = a.T", {"a": (3, 4)}),
    "transpose rank 3": ("a: [2, 3, 4]\nf = sin(a.T) * a.T", {"a": (2, 3, 4)}),
    "slice rows": ("a: [3, 4]\nf = slice(a, start=1)", {"a": (3, 4)}),
    "slice axis -2": ("a: [3, 4]\nf = slice(a, start=-2, stop=-1, axis=-2)", {"a": (3, 4)}),
    "slice axis -1": ("a: [2, 3, 4]\nf = slice(a, stop=-1, axis=-1)", {"a": (2, 3, 4)}),
    "sum axis": ("a: [3, 4]\nf = sum(a, axis=0)", {"a": (3, 4)}),
    "sum all": ("a: [3, 4]\nf = sum(a)", {"a": (3, 4)}),
    "mean keepdims": ("a: [3, 4]\nf = mean(a, axis=1, keepdims=True)", {"a": (3, 4)}),
    "softmax": ("a: [3, 4]\nf = softmax(a)", {"a": (3, 4)}),
    "softmax axis 0": ("a: [3, 4]\nf = softmax(a, axis=0)", {"a": (3, 4)}),
    "log_softmax": ("a: [3, 4]\nf = log_softmax(a)", {"a": (3, 4)}),
    "logsumexp": ("a: [3, 4]\nf = logsumexp(a)", {"a": (3, 4)}),
    "cross_entropy": ("a: [3, 4]\nb: [3, 4]\nf = cross_entropy(a, b)", {"a": (3, 4), "b": (3, 4)}),
    "cross_entropy broadcast labels": ("a: [3, 4]\nb: [1, 4]\nf = cross_entropy(a, b)",
                                       {"a": (3, 4), "b": (1, 4)}),
    "mse": ("a: [3, 4]\nb: [4]\nf = mse(a, b)", {"a": (3, 4), "b": (4,)}),
    "flip": ("a: [3, 4]\nf = flip(a)", {"a": (3, 4)}),
    "flip axis": ("a: [2, 3, 4]\nf = sin(flip(a, axis=(0, -1))) * a", {"a": (2, 3, 4)}),
}


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_dot_product_test_for_every_structural_op(name):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u."""
    text, shapes = STRUCTURAL[name]
    g0 = gc.parse(text)
    out_shape = g0.shape("f")
    decl = f"u: {list(out_shape) if out_shape else 'scalar'}\n"
    g = gc.parse(decl + text + "\nL = sum(f * u)")
    rng = np.random.default_rng(2)
    values = {k: rng.normal(size=s) for k, s in shapes.items()}
    values["u"] = rng.normal(size=out_shape) if out_shape else 0.8
    _, rev = gc.compile(g, wrt=list(shapes))(**values)  # J^T u
    for k in shapes:
        v = rng.normal(size=shapes[k])
        jv = gc.compile(g, wrt=[k], mode="forward")(**values)[1][k]
        # forward mode's gradient is sum_k <J e_k, u> e_k; project it on v
        assert np.vdot(jv, v) == pytest.approx(np.vdot(rev[k], v), rel=1e-9, abs=1e-12)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, k)
        np.testing.assert_allclose(rev[k], fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, axis", [
    ((256, 10), -1), ((5, 64), 1), ((5, 65), -1), ((4, 3), 0), ((2, 3, 4), -1), ((7,), -1)])
def test_softmax_reductions_are_numpys(shape, axis):
    """The softmax family's max (a transposed copy for short rows) is np.max's, NaN
    too; its sum (a product with ones for short rows of floats) is np.sum's."""
    rng = np.random.default_rng(0)
    for x in (rng.normal(size=shape), rng.normal(size=shape).astype(np.float32),
              rng.integers(-9, 9, size=shape)):
        for mine, numpys in ((_max_along, np.max), (_sum_along, np.sum)):
            got, want = mine(x, axis), numpys(x, axis=axis, keepdims=True)
            assert got.shape == want.shape and got.dtype == want.dtype
            tol = 1e-5 if x.dtype == np.float32 else 1e-12  # rounding of sums near 0
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        if x.dtype.kind == "f":
            x.flat[len(x.flat) // 2] = np.nan
            assert np.isnan(_max_along(x, axis)).sum() == 1
            assert np.isnan(_sum_along(x, axis)).sum() == 1


@pytest.mark.parametrize(("text", "b"), [
    ("X: [2, 3]\ny = sum(X) * 0.5 + b", np.array([1.0, 2.0, 3.0])),
    ("X: [2, 3]\ny = X * mean(X, axis=0) + b", np.ones((4, 1, 1))),
    ("X: [2, 3]\ny = sum(X) * 0.5 + b", 2.0),
])
def test_forward_mode_sums_a_tangent_an_undeclared_input_broadcasts(text, b, mode):
    """Found by the corpus: forward mode summed each direction's tangent, not the output
    it stands for, when an undeclared array off the input's paths broadcasts the output
    (dy/dX was 0.5 for y = sum(X) * 0.5 + b with b of 3 elements, not 1.5). Where y is
    not a scalar (compile refuses its gradient, a silent sum), the gradient of its sum:
    the forward-mode Jacobian summed over y's axes, or the vjp of ones."""
    x = np.arange(6.0).reshape(2, 3)
    g = gc.parse(text)
    value = gc.compile(g).forward(X=x, b=b)
    if np.ndim(value) == 0:
        _, grads = gc.compile(g, mode=mode)(X=x, b=b)
        _, reverse = gc.compile(g, mode="reverse")(X=x, b=b)
    else:
        with pytest.raises(gc.InputError, match="not a scalar"):
            gc.compile(g, mode=mode)(X=x, b=b)
        _, jac = gc.jacobian(g, mode="forward")(X=x, b=b)
        grads = {"X": jac["X"].reshape((-1,) + x.shape).sum(axis=0)}
        _, reverse = gc.vjp(g)(X=x, b=b, y_bar=np.ones(np.shape(value)))
    h = 1e-6
    step = np.zeros_like(x)
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step[i] = h
        numeric[i] = (np.sum(gc.compile(g).forward(X=x + step, b=b))
                      - np.sum(gc.compile(g).forward(X=x - step, b=b))) / (2 * h)
        step[i] = 0.0
    np.testing.assert_allclose(grads["X"], numeric, rtol=1e-6)
    np.testing.assert_allclose(grads["X"], reverse["X"], rtol=1e-12)


@pytest.mark.parametrize(("decl", "value"), [("[0]", np.zeros(0)), ("[2, 0]", np.zeros((2, 0)))])
@pytest.mark.parametrize("text", ["y = sum(softmax(x) * x)", "y = sum(log_softmax(x) * x)",
                                  "y = sum(logsumexp(x))"])
def test_softmax_family_over_an_empty_axis_is_jaxs(jax, decl, value, text):
    """Found by the corpus: NumPy's max has no identity, so an empty axis was a traceback.
    JAX gives softmax([]) = [], logsumexp([]) = -inf, and empty gradients."""
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    fns = {"softmax": lambda x: jnp.sum(jax.nn.softmax(x) * x),
           "log_softmax": lambda x: jnp.sum(jax.nn.log_softmax(x) * x),
           "logsumexp": lambda x: jnp.sum(logsumexp(x, axis=-1))}
    want = fns[text.split("(")[1]]
    g = gc.parse(f"x: {decl}\n{text}")
    with np.errstate(divide="ignore"):  # log(0) = -inf, as NumPy warns
        out, grads = gc.compile(g)(x=value)  # forward mode over size 0: issue 17, elsewhere
    assert out == float(want(value))
    assert grads["x"].shape == value.shape


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_family_is_stable_at_large_logits(scale):
    g = gc.parse("a: [2, 3]\ny: [2, 3]\n"
                 "L = cross_entropy(a, y) + sum(logsumexp(a)) + sum(softmax(a) * log_softmax(a))")
    a = scale + np.array([[0.0, 1.0, 2.0], [3.0, 0.5, -1.0]])
    y = np.eye(3)[[2, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        value, grads = gc.compile(g)(a=a, y=y)
    shifted_value, shifted = gc.compile(g)(a=a - scale, y=y)
    assert np.isfinite(value) and np.all(np.isfinite(grads["a"]))
    assert value == pytest.approx(shifted_value + 2 * scale, rel=1e-12)
    np.testing.assert_allclose(grads["a"], shifted["a"], atol=1e-12)


def test_float32_is_preserved(mode):
    values = mlp_values(dtype=np.float32)
    value, grads = gc.compile(gc.parse(MLP), mode=mode)(**values)
    assert np.asarray(value).dtype == np.float32
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_worked_example_reproduces_the_lecture():
    sys.path.insert(0, str(EXAMPLES))
    try:
        from worked_example import run
    finally:
        sys.path.pop(0)
    ours = run()
    np.testing.assert_allclose(ours["h"], [0.85, 0.48])
    assert round(ours["prediction"], 3) == 0.191
    assert round(ours["error"], 3) == 0.327
    assert round(ours["delta"], 3) == -0.809
    np.testing.assert_allclose(np.round(ours["W1 after"], 2), [[0.12, 0.13], [0.23, 0.10]])
    np.testing.assert_allclose(np.round(ours["W2 after"], 2), [0.17, 0.17])
    # the exact update: W2 - lr * delta * h
    np.testing.assert_allclose(ours["W2 after"], [0.14, 0.15] - 0.05 * -0.809 *
                               np.array([0.85, 0.48]), rtol=1e-12)


def test_xor_is_learned():
    sys.path.insert(0, str(EXAMPLES))
    try:
        from xor import X, Y, predict, train
    finally:
        sys.path.pop(0)
    params, losses = train(steps=1500)
    assert losses[-1] < 0.01 < losses[0]
    assert np.array_equal(predict(params) > 0.5, Y > 0.5)
    assert X.shape == (4, 2)


@pytest.mark.slow  # an example trains for seconds
def test_the_mixture_is_fitted_alike_in_blocks():
    """examples/fit_mixture.py: gradient descent recovers the data's mixture; blocks
    and numba's loop change only the rounding of the sums."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        from fit_mixture import OPTIONS, data, fit
    finally:
        sys.path.pop(0)
    x = data(20_000)
    (fresh, losses, _), *summed = (fit(x, 300, options) for options in OPTIONS.values())
    assert len(summed) == 2 if importlib.util.find_spec("numba") else 1  # blocks, numba
    for found, _, _ in summed:
        assert all(abs(found[k] - fresh[k]) < 1e-9 for k in fresh)
    assert losses[-1] < losses[0] - 0.5
    assert abs(fresh["m1"] + 1) < 0.05 and abs(fresh["m2"] - 2) < 0.05


@pytest.mark.slow  # an example trains for seconds
def test_digits_reach_95_percent():
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    sys.path.insert(0, str(EXAMPLES))
    try:
        from digits import train
    finally:
        sys.path.pop(0)
    result = train(epochs=25, progress=False)
    assert result["test_accuracy"][-1] >= 0.95
    assert result["loss"][-1] < result["loss"][0]


# ---- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize("text, where, words", [
    ("a: [3, 4]\nb: [5, 2]\nc = a @ b", (3, 5), ["matmul", "a [3, 4]", "b [5, 2]", "4", "5"]),
    ("a: [3, 4]\nb: [3]\nc = a + b", (3, 5), ["add", "[3, 4]", "[3]"]),
    ("a: [3, 4]\nc = a @ 2", (2, 5), ["matmul"]),
    ("a: [3, 4]\nc = sum(a, axis=2)", (2, 5), ["axis 2"]),
    ("a: [3, 4]\nc = sum(a, axis=(0, -2))", (2, 5), ["axis (0, -2)", "twice"]),
    ("a: [3, 4]\nc = mean(a, axis=True)", (2, 5), ["axis True", "not an integer"]),
    ("a: [3, 4]\nb: [3, 5]\nc = cross_entropy(a, b)", (3, 5), ["labels", "[3, 5]"]),
    ("a: []\nb: [3]\nc = cross_entropy(a, b)", (3, 5), ["needs logits with a class axis"]),
    ("a: [5]\nb: [2, 4, 3]\nc = a @ b", (3, 5), ["matmul", "inner dimensions 5 and 4"]),
])
def test_shape_errors_name_node_op_shapes_and_position(text, where, words):
    with pytest.raises(gc.ShapeError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == where
    for w in words:
        assert w in str(info.value), w


@pytest.mark.parametrize("change, words", [
    ({"x": np.ones((6, 5))}, ["x", "(6, 5)", "[N, 4]"]),           # wrong width
    ({"x": np.ones(4)}, ["x", "rank"]),                               # wrong rank
    ({"x": np.ones((6, 4), dtype=int)}, ["x", "int64"]),              # ints
    ({"x": np.ones((6, 4), dtype=complex)}, ["x", "complex"]),        # complex
    ({"labels": np.ones((7, 3))}, ["labels", "N"]),                   # N bound twice
    ({"labels": np.ones((6, 4))}, ["labels", "[N, 3]"]),              # labels shape
])
def test_call_time_input_errors(change, words):
    fn = gc.compile(gc.parse(MLP))
    with pytest.raises(gc.InputError) as info:
        fn(**{**mlp_values(), **change})
    for w in words:
        assert w in str(info.value), w


def test_nan_and_inf_propagate_as_numpy_does():
    values = mlp_values()
    values["x"][0, 0] = np.nan
    values["x"][1, 1] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = gc.compile(gc.parse(MLP))(**values)
    assert np.isnan(value)
    assert np.isnan(grads["W1"]).any()


ROSENBROCK = """
x: [N]
xs = slice(x, stop=-1)
xn = slice(x, start=1)
f = sum(100 * (xn - xs**2)**2 + (1 - xs)**2)
"""


def test_slices_gradient_matches_jax_and_finite_differences(jax, mode, optimize):
    import jax.numpy as jnp

    x = np.random.default_rng(5).uniform(-2, 2, size=7)
    value, grads = gc.compile(gc.parse(ROSENBROCK), mode=mode, optimize=optimize)(x=x)

    def rosenbrock(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    np.testing.assert_allclose(grads["x"], np.asarray(jax.grad(rosenbrock)(x)), rtol=1e-12)
    assert value == pytest.approx(float(rosenbrock(x)), rel=1e-13)
    fd = central_diff(lambda **v: gc.parse(ROSENBROCK).evaluate(**v)["f"], {"x": x}, "x")
    np.testing.assert_allclose(grads["x"], fd, rtol=1e-6)


def test_overlapping_slice_adjoints_add_in_place_without_zero_padding():
    fn = gc.compile(gc.parse(ROSENBROCK))
    assert fn.report()["x + unslice(g) -> add_slice(x, g)"] == 1
    body = fn.source.split("def value_and_grad")[1]
    # the first adjoint is computed in its slice of a new array from the start (where
    # 1 - xs is made), the second added in place: no zeros under either, no copy
    assert "_unslice(" not in body and fn.report()["slices written in place"] == 1
    buffer = re.search(r"(\w+) = np.empty_like\(x\)", body)[1]
    first = re.search(rf"(\w+) = np.subtract\(1.0, xs, out=_zeros_around\({buffer}, None, -1, "
                      r"0\)\)", body)[1]
    assert re.search(rf"xs_bar = np.multiply\(\w+, -2.0, out={first}\)", body)
    assert re.search(rf"x_bar = _add_slice\({buffer}, t2_bar, 1, None, 0, out={buffer}\)", body)


FLIP = """
x: [3, 4]
w: [3, 4]
y = flip(x, axis=1) * w
loss = sum(sin(flip(y)) * x)
"""


def jax_flip(jnp):
    def loss(x, w):
        return jnp.sum(jnp.sin(jnp.flip(jnp.flip(x, axis=1) * w)) * x)
    return loss


def flip_values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {"x": rng.normal(size=(3, 4)), "w": rng.normal(size=(3, 4))}


def test_flip_gradients_match_jax(jax, mode, optimize):
    """flip, the worked example of docs/ops.md: one entry, its gradient JAX's in both modes."""
    import jax.numpy as jnp

    values = flip_values()
    value, grads = gc.compile(gc.parse(FLIP), mode=mode, optimize=optimize)(**values)
    ref_value, ref = jax.value_and_grad(jax_flip(jnp), argnums=(0, 1))(*values.values())
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    for name, r in zip(values, ref):
        np.testing.assert_allclose(grads[name], np.asarray(r), rtol=1e-10, atol=1e-12)


def test_flip_second_order_matches_jax(jax):
    """The reverse-mode gradient of flip is a graph with flips in it: differentiated
    again, in both modes, it gives JAX's Hessian-vector product."""
    import jax.numpy as jnp

    values = flip_values()
    v = np.random.default_rng(12).normal(size=(3, 4))
    grad_graph = gc.compile(gc.parse(FLIP), wrt=["x"]).grad_graph
    g2 = gc.parse("v: [3, 4]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    loss = jax_flip(jnp)
    hvp = jax.grad(lambda x, w: jnp.vdot(jax.grad(loss)(x, w), v), argnums=(0, 1))(
        *values.values())
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["x", "w"], mode=mode)(**values, v=v)
        for name, r in zip(values, hvp):
            np.testing.assert_allclose(second[name], np.asarray(r), rtol=1e-10, atol=1e-12)


def test_flip_prints_as_numpy_and_round_trips():
    """flip is gc.flip and flip(...) in text, np.flip in the emitted module, and a graph
    printed as text reads back to the same values."""
    g = gc.parse(FLIP)
    x, w = gc.input("x", shape=(3, 4)), gc.input("w", shape=(3, 4))
    y = gc.flip(x, axis=1) * w
    built = gc.graph(loss=gc.sum(gc.sin(gc.flip(y)) * x))
    values = flip_values()
    again = gc.parse(str(g))
    assert str(again) == str(g)
    for other in (again, built):
        assert other.evaluate(**values)["loss"] == g.evaluate(**values)["loss"]
    source = gc.compile(g).source
    assert "np.flip(x, axis=1)" in source and "np.flip(y)" in source
    with pytest.raises(gc.ShapeError, match="axis 2 is out of range"):
        gc.parse("x: [3, 4]\ny = flip(x, axis=2)")


def test_forward_mode_over_a_gradient_with_a_choice_of_constants():
    """Regression: relu's derivative, a choice between 1 and 0, is pointwise, so forward
    mode differentiates an elementwise gradient with one tangent sweep; it went the
    direction-stacked way and asked for declared shapes."""
    g = gc.compile(gc.parse("e = relu(x) * x + abs(x)")).grad_graph
    x = np.array([-1.0, 0.5, 2.0])
    for mode in MODES:
        _, second = gc.compile(g, of="x_bar", wrt=["x"], mode=mode)(x=x)
        np.testing.assert_allclose(second["x"], [0.0, 2.0, 2.0])


@pytest.mark.parametrize("axis, start, stop", [(0, 1, None), (1, None, -1), (-1, 1, 3)])
def test_add_slice_differentiates_both_ways(axis, start, stop, mode):
    """add_slice(base, g) = base + g placed at [start:stop]: its vjp and jvp, checked
    against finite differences, on a graph built directly (the op is internal)."""
    g = gc.Graph()
    base = g.add_input("base", (3, 4), declared=True)
    width = len(range(*slice(start, stop).indices(4 if axis != 0 else 3)))
    part = g.add_input("part", (width, 4) if axis == 0 else (3, width), declared=True)
    both = g.add("add_slice", (base, g.add("sin", (part,))),
                 {"start": start, "stop": stop, "axis": axis})
    g.add("sum", (g.add("mul", (both, both)),), name="y")
    g.outputs = ["y"]
    rng = np.random.default_rng(1)
    at = {"base": rng.normal(size=(3, 4)), "part": rng.normal(size=g.shape(part))}
    _, grads = gc.compile(g, mode=mode)(**at)
    for name in at:
        fd = central_diff(lambda **v: g.evaluate(**v)["y"], at, name)
        np.testing.assert_allclose(grads[name], fd, rtol=1e-6, atol=1e-9)


def test_forward_mode_checks_a_size_known_only_at_call_time():
    """Regression: with a symbolic dimension the compile-time size check cannot run, and
    a call on 100,000 elements asked NumPy for a 74.5 GiB basis; it now says why."""
    import inspect

    from graphc.ops import directions

    fn = gc.compile(gc.parse("x: [N]\ny = sum(exp(x))"), mode="forward")
    x = np.linspace(0.0, 1.0, 100)
    np.testing.assert_allclose(fn(x)[1]["x"], np.exp(x))
    with pytest.raises(gc.InputError, match="x of 10000 elements carries 10000 directions "
                                            ".* use mode='reverse'"):
        fn(np.zeros(10_000))  # graphc's call checks it; the standalone module's _basis too
    with pytest.raises(ValueError, match="10000 directions .* use mode='reverse'"):
        fn.module.value_and_grad(np.zeros(10_000))
    assert f"n * n > {directions.TANGENT_LIMIT:_}" in inspect.getsource(directions._basis)


@pytest.mark.parametrize("text", ["s = mean(a)", "s = sum(a + b)", "s = sum(a * b)",
                                  "loss = mse(a, b)", "x: [N]\ns = sum(x * a)"])
def test_forward_mode_through_tensor_ops_needs_declared_shapes(text):
    """Undeclared inputs have no static shape: a reduction's tangent cannot tell the
    direction axis from theirs (mean(a) gave 1 per element, not 1/size). A clear error,
    and verify still compares the other methods."""
    g = gc.parse(text)
    with pytest.raises(gc.GraphcError, match="forward mode through .* needs declared "
                                             "shapes: declare .*mode='reverse'"):
        gc.compile(g, mode="forward")
    at = {n: np.linspace(0.5, 1.5, 3) if n != "b" else np.linspace(1, 2, 6).reshape(2, 3)
          for n in g.inputs}
    if "mse" in text:
        at["b"] = np.ones(3)
    report = gc.verify(g, at)
    assert report.ok and report.no_forward and all(r.forward is None for r in report.rows)


@pytest.mark.parametrize("text", ["x: [3]\ne = sum(x - x)", "x: [3]\ne = sum(sin(x / x)) + sum(x)",
                                  "x: [3]\ne = sum(softmax(x - x) * x)"])
def test_forward_mode_through_a_tensor_op_whose_tangent_is_zero(text, mode):
    """Regression: forward mode handed the sum a missing (zero) tangent, and failed with
    "operand None of sum is not a node"."""
    x = np.array([0.5, 1.0, 2.0])
    value, grads = gc.compile(gc.parse(text), mode=mode)(x)
    np.testing.assert_allclose(grads["x"], central_diff(gc.compile(gc.parse(text)).forward,
                                                        {"x": x}, "x"), atol=1e-8)


def test_a_forward_mode_tensor_gradient_is_not_differentiated_into_zeros():
    """Its stacked tangents (_from_directions...) are linear ops with no derivative rule:
    differentiating through them gave zeros; now an error says what to do. A
    reverse-mode gradient differentiates again, to the numbers JAX would give."""
    g = gc.parse("x: [2]\ns: scalar\ne = sum(sin(x * s))")
    at = {"x": np.array([0.3, 0.7]), "s": 1.5}
    forward = gc.compile(g, mode="forward").grad_graph
    with pytest.raises(gc.GraphcError, match="differentiate a reverse-mode gradient"):
        gc.compile(forward, of="de_ds", wrt=["x", "s"])
    reverse = gc.compile(g).grad_graph
    _, second = gc.compile(reverse, of="s_bar", wrt=["x", "s"])(**at)
    x, s = at["x"], at["s"]
    np.testing.assert_allclose(second["x"], np.cos(x * s) - x * s * np.sin(x * s))
    np.testing.assert_allclose(second["s"], -np.sum(x * x * np.sin(x * s)))


def test_forward_mode_through_an_op_without_a_tangent_rule_is_an_error():
    """matmul_grad (internal: matmul's adjoint for shapes known only at call time) has
    no jvp; outer, which had none, is public now (ops/products.py) and has one."""
    g = gc.Graph()
    grad, a, b = (g.add_input(n, s, declared=True) for n, s in
                  (("grad", (3, 2)), ("a", (3, 4)), ("b", (4, 2))))
    g.add("sum", (g.add("matmul_grad", (grad, a, b), {"slot": 0}),), name="y")
    g.outputs = ["y"]
    with pytest.raises(gc.GraphcError, match="forward mode through matmul_grad .* "
                                             "mode='reverse'"):
        gc.compile(g, wrt=["b"], mode="forward")
    g = gc.parse("x: [4]\nW: [4, 3]\nloss = sum(tanh(x @ W))")
    text = "v: [4, 3]\n" + str(gc.compile(g, wrt=["W"]).grad_graph) + "\nh = sum(W_bar * v)"
    assert "outer(" in text
    at = {"x": np.linspace(-1, 1, 4), "W": np.linspace(-1, 1, 12).reshape(4, 3),
          "v": np.linspace(0, 1, 12).reshape(4, 3)}
    forward, reverse = (gc.compile(gc.parse(text), of="h", wrt=["W"], mode=mode)(**at)[1]
                        for mode in MODES)
    np.testing.assert_allclose(forward["W"], reverse["W"], rtol=1e-12)


def test_a_symbolic_dimension_cut_twice_is_cut_once_by_the_sum():
    """N[1:][1:] is N-2 as N[:-2] is; it was N-1-1, and the product was refused."""
    g = gc.parse("a: [N]\ny = sum(slice(slice(a, start=1), start=1) * slice(a, stop=-2))")
    a = np.arange(6.0)
    for mode in ("reverse", "forward"):
        value, grads = gc.compile(g, mode=mode)(a=a)
        assert value == 26.0
        np.testing.assert_array_equal(grads["a"], [2.0, 3.0, 4.0, 6.0, 2.0, 3.0])


def test_cross_entropy_labels_whose_dims_are_not_the_logits_are_refused_with_a_line():
    """[B, A] labels against [B, 2] logits passed the shape check and failed to compile
    (ShapeError with no line) where the loss multiplies them."""
    with pytest.raises(gc.ShapeError, match="one-hot") as info:
        gc.parse("x0: [B, B]\nx1: [B, A]\n"
                 "t = cross_entropy(slice(x0, start=-3, stop=-1, axis=-1), x1)")
    assert info.value.line == 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_empty_batch_has_the_mean_jax_gives(jax, mode, dtype):
    """cross_entropy over no rows: the value is nan and the gradients are empty, as
    JAX's; the emitted code divided by the Python int 0 (a ZeroDivisionError)."""
    import jax.numpy as jnp

    g = gc.parse("logits: [B, 3]\nlabels: [B, 3]\nL = cross_entropy(logits, labels)")
    z = np.zeros((0, 3), dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's 0/0
        value, grads = gc.compile(g, mode=mode)(z, z)
    want, wants = jax.value_and_grad(
        lambda a, b: -jnp.mean(jnp.sum(b * jax.nn.log_softmax(a), axis=-1)),
        argnums=(0, 1))(jnp.asarray(z), jnp.asarray(z))
    assert np.isnan(value) and np.isnan(want) and value.dtype == dtype
    for name, w in zip(("logits", "labels"), wants):
        assert grads[name].shape == w.shape == (0, 3) and grads[name].dtype == dtype
