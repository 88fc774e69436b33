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


_ZERO_NORMS = [("norm(x)", {}), ("norm(x, ord=2)", {"ord": 2}), ("norm(x, ord=1)", {"ord": 1}),
               ("norm(x, ord=inf)", {"ord": np.inf}), ("norm(x, ord=-inf)", {"ord": -np.inf}),
               ("norm(x, ord='fro')", {"ord": "fro"}), ("norm(x, axis=1)", {"axis": 1}),
               ("norm(x, ord=1, axis=0)", {"ord": 1, "axis": 0}),
               ("norm(x, ord=inf, axis=1, keepdims=True)",
                {"ord": np.inf, "axis": 1, "keepdims": True}),
               ("norm(x, axis=(0, 1))", {"axis": (0, 1)})]
"""Vector norms of x: [3] (an ord without an axis), matrix ones of x: [2, 3]."""


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("text", "kw"), _ZERO_NORMS, ids=[t for t, _ in _ZERO_NORMS])
def test_norm_at_zero_is_jaxs_without_a_warning(jax, text, kw, dtype):
    """norm of an all-zero x (norm(var(huber(x, x))[None]) in the fuzzer): ord 2's
    gradient x / norm warned of 0/0 in the emitted code. Now JAX's values (nan for 2 and
    'fro', 1 for ord 1, shares for inf) with no warning, in both modes and second order."""
    import jax.numpy as jnp

    shape = (3,) if "ord" in text and "axis" not in text and "fro" not in text else (2, 3)
    x = np.zeros(shape, dtype)
    v = np.linspace(0.5, 1.5, x.size).reshape(shape)

    def f(x):
        return jnp.sum(jnp.linalg.norm(x, **kw))
    want = np.asarray(jax.grad(f)(x.astype(float)))
    want2 = np.asarray(jax.grad(lambda x: jnp.vdot(jax.grad(f)(x), v))(x.astype(float)))
    g = gc.parse(f"x: {list(shape)}\nout = sum({text})")
    g2 = gc.parse(f"v: {list(shape)}\n{gc.compile(g).grad_graph}\nh = sum(x_bar * v)")
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(x=x)
        assert value == 0 and grads["x"].dtype == dtype
        np.testing.assert_allclose(grads["x"], want, err_msg=mode)
        second = gc.compile(g2, of="h", wrt=["x"], mode=mode)(x=x, v=v.astype(dtype))[1]["x"]
        np.testing.assert_allclose(second, want2, err_msg=mode)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_norm_of_the_fuzzers_zero_program_is_jaxs(jax, mode):
    """The program the fuzzer found, with a zero row next to a nonzero one."""
    import jax.numpy as jnp

    x = np.array([0.0, 0.0, 0.0])
    g = gc.parse("x: [3]\nout = norm(var(huber(x, x))[None])")
    value, grads = gc.compile(g, mode=mode)(x=x)

    def huber(a, b, delta=1.0):
        q = jnp.minimum(jnp.abs(a - b), delta)
        return jnp.mean(0.5 * q ** 2 + delta * (jnp.abs(a - b) - q))
    want = jax.grad(lambda x: jnp.linalg.norm(jnp.var(huber(x, x))[None]))(x)
    assert value == 0
    np.testing.assert_allclose(grads["x"], np.asarray(want))
    y = np.array([[0.0, 0.0], [3.0, -4.0]])
    value, grads = gc.compile(gc.parse("y: [2, 2]\nout = sum(norm(y, axis=1))"), mode=mode)(y=y)
    # forward mode as JAX's jacfwd: the zero row's nan tangent reaches every direction
    want = (jax.grad if mode == "reverse" else jax.jacfwd)(
        lambda y: jnp.sum(jnp.linalg.norm(y, axis=1)))(y)
    np.testing.assert_allclose(grads["y"], np.asarray(want))


@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rot90_of_a_value_added_to_an_undeclared_input(jax, k):
    """v = rot90(sin(x), k) + y, y undeclared: v's adjoint reached rot90's vjp with a
    shape known only at call time, which rot90 refused (a ShapeError from compile in
    reverse mode; forward mode refuses undeclared y anyway). Its vjp is now NumPy's flips
    and swap, which take it."""
    import jax.numpy as jnp

    x = np.arange(6.0).reshape(2, 3) / 7
    g = gc.parse(f"x: [2, 3]\nv = rot90(sin(x), {k}) + y\nL = sum(v * v)")
    value, grads = gc.compile(g)(x=x, y=0.5)
    want = jax.grad(lambda x, y: jnp.sum((jnp.rot90(jnp.sin(x), k) + y) ** 2),
                    argnums=(0, 1))(x, 0.5)
    np.testing.assert_allclose(grads["x"], np.asarray(want[0]), rtol=1e-12)
    np.testing.assert_allclose(grads["y"], float(want[1]), rtol=1e-12)
@pytest.mark.parametrize("optimize", [True, False])
def test_a_line_split_out_for_width_runs_before_its_buffer_is_reused(jax, mode, optimize):
    """fmod(var(x), x*x + 0.5)**2: the printer gave a folded operand (2/3 * sum(v2)) a
    line of its own where its reader's line grew too long, the memory plan counted that
    line early, and the final print (with out= spelled) emitted it late, after
    np.multiply(x0, v2, out=v2) had overwritten v2: a wrong gradient, optimized."""
    import jax.numpy as jnp

    g = gc.parse("x0: [2, 3]\nv1 = var(x0)\nv2 = fmod(v1, x0 * x0 + 0.5)\nv8 = sum(v2 * v2)")
    x = np.random.default_rng(0).uniform(-1.5, 1.5, size=(2, 3))
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(x0=x)
    f = lambda x: jnp.sum(jnp.fmod(jnp.var(x), x * x + 0.5) ** 2)  # noqa: E731
    np.testing.assert_allclose(value, np.asarray(f(x)), rtol=1e-12)
    np.testing.assert_allclose(grads["x0"], np.asarray(jax.grad(lambda x: jnp.sum(f(x)))(x)),
                               rtol=1e-10)


@pytest.mark.parametrize("text, f", [
    ("x0: [3]\nv2 = cross(x0, sin(x0) + 1)\nv7 = v2 + x1",
     lambda jnp, x0, x1: jnp.cross(x0, jnp.sin(x0) + 1) + x1),
    ("x0: [2, 3]\nv2 = rot90(x0)\nv7 = v2 * x1", lambda jnp, x0, x1: jnp.rot90(x0) * x1),
    ("x0: [2, 3]\nv2 = rot90(x0, 2)\nv7 = v2 + x1", lambda jnp, x0, x1: jnp.rot90(x0, 2) + x1),
], ids=["cross", "rot90", "rot180"])
def test_structural_ops_of_declared_values_beside_an_undeclared_input(jax, text, f):
    """cross(x0, ...) + x1 with x1 undeclared: the adjoint of cross's output,
    sum_to(out_bar, v2), was taken as undeclared (its first operand is) though it has
    v2's shape, and cross's and rot90's vjps refused it ("needs its operand's shape")."""
    import jax.numpy as jnp

    g = gc.parse(text + "\nv8 = sum(v7)")  # an array's gradient is not summed silently
    rng = np.random.default_rng(1)
    x0 = rng.normal(size=g.shape("x0"))
    for x1 in (0.5, rng.normal(size=np.shape(f(jnp, x0, 0.0)))):
        for optimize in (True, False):
            value, grads = gc.compile(g, optimize=optimize)(x0=x0, x1=x1)
            want = jax.grad(lambda a, b: jnp.sum(f(jnp, a, b)), argnums=(0, 1))(x0, x1)
            np.testing.assert_allclose(value, np.sum(f(jnp, x0, x1)), rtol=1e-12)
            np.testing.assert_allclose(grads["x0"], np.asarray(want[0]), rtol=1e-12)
            np.testing.assert_allclose(grads["x1"], np.asarray(want[1]), rtol=1e-12)


@pytest.mark.parametrize("text", ["z = vdot(x, y)", "z = einsum('ij,ij->', x, y)",
                                  "z = einsum('ij,j->', x, y[0])"])
def test_float32_stays_float32_through_a_scalar_products_adjoint(jax, mode, text):
    """vdot of [2, 3] operands, optimized: the adjoint einsum(',ij->ij', 1.0, y) of the
    output's seed (a float constant) gave float64: np.einsum has no weak scalars. A 0-d
    operand of an einsum rule now multiplies instead."""
    import jax.numpy as jnp

    g = gc.parse("x: [2, 3]\ny: [2, 3]\n" + text)
    rng = np.random.default_rng(2)
    x, y = (rng.normal(size=(2, 3)).astype(np.float32) for _ in range(2))
    f = {"z = vdot(x, y)": lambda x, y: jnp.vdot(x, y),
         "z = einsum('ij,ij->', x, y)": lambda x, y: jnp.sum(x * y),
         "z = einsum('ij,j->', x, y[0])": lambda x, y: jnp.sum(x * y[0])}[text]
    want = jax.grad(f, argnums=(0, 1))(x.astype(float), y.astype(float))
    for optimize in (True, False):
        value, grads = gc.compile(g, mode=mode, optimize=optimize)(x=x, y=y)
        assert np.asarray(value).dtype == np.float32
        for k, w in zip("xy", want):
            assert grads[k].dtype == np.float32, (k, optimize)
            np.testing.assert_allclose(grads[k], np.asarray(w), rtol=1e-5, atol=1e-6)


def test_verify_reads_nan_to_num(jax):
    """gc.verify of a graph with nan_to_num: its sympy formula was called with the
    op's parameters (nan=, posinf=, neginf=), which sympy refused (a ValueError)."""
    import jax.numpy as jnp

    x = np.array([0.5, -1.0, 2.0])
    g = gc.parse("x: [3]\nv = nan_to_num(x) * x")
    assert gc.verify(g, at={"x": x}).ok
    scalar = gc.parse("x: scalar\nv = nan_to_num(x, nan=1.0, posinf=2.0) * x")
    assert gc.verify(scalar, at={"x": 0.5}).ok
    _, grads = gc.compile(g)(x=x)
    np.testing.assert_allclose(grads["x"], np.asarray(jax.grad(
        lambda x: jnp.sum(jnp.nan_to_num(x) * x))(x)), rtol=1e-12)


@pytest.mark.parametrize("text, f", [
    ("z = average(x, weights=arange(4) + 1)",
     lambda jnp, x: jnp.average(x, weights=jnp.arange(4) + 1)),
    ("z = trapezoid(x, x=arange(4) * 2)", lambda jnp, x: jnp.trapezoid(x, jnp.arange(4) * 2)),
    ("z = logsumexp(x, b=arange(4) + 1)",
     lambda jnp, x: __import__("jax").scipy.special.logsumexp(x, b=jnp.arange(4) + 1)),
], ids=["average", "trapezoid", "logsumexp"])
def test_float32_stays_float32_beside_integer_keyword_operands(jax, mode, text, f):
    """A float32 x with weights=/x=/b= computed from integers (arange): those ops are
    internal ones spelled as the public call, and promotion skipped internal ops, so
    NumPy's int64/float64 operand made the value (and gradient) float64; JAX's float32."""
    import jax.numpy as jnp

    x = np.array([0.5, -1.0, 2.0, 0.25], dtype=np.float32)
    value, grads = gc.compile(gc.parse("x: [4]\n" + text), mode=mode)(x=x)
    assert np.asarray(value).dtype == np.float32 and grads["x"].dtype == np.float32
    np.testing.assert_allclose(value, np.asarray(f(jnp, x)), rtol=1e-6)
    np.testing.assert_allclose(grads["x"], np.asarray(jax.grad(lambda x: f(jnp, x))(x)),
                               rtol=1e-5)


def test_arange_beside_an_undeclared_input_has_its_shape(jax):
    """v[arange(2), argmin(v, axis=-1)][:, None] in a program with an undeclared input:
    arange(2) reads the first input for its float dtype, and so was taken as undeclared
    (its shape known at call time only), and indexing its result was refused."""
    import jax.numpy as jnp

    g = gc.parse("v1 = mse(sin(x0), x0)\nv3 = vstack([v1, sin(v1)])\n"
                 "v5 = v3[arange(2), argmin(v3, axis=-1)][:, None] + x0\nv6 = sum(v5)")

    def f(x0):
        v1 = jnp.mean((jnp.sin(x0) - x0) ** 2) / 2
        v3 = jnp.vstack([v1, jnp.sin(v1)])
        return v3[jnp.arange(2), jnp.argmin(v3, axis=-1)][:, None] + x0
    for x0 in (0.3, np.array([0.3, -1.2])):
        value, grads = gc.compile(g)(x0=x0)
        np.testing.assert_allclose(value, np.sum(f(x0)), rtol=1e-12)
        np.testing.assert_allclose(grads["x0"], np.asarray(
            jax.grad(lambda x: jnp.sum(f(x)))(np.asarray(x0, dtype=float))), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("decl, shape, good", [("x: [2, 3]", (1, 3), (2, 3)),
                                               ("x: scalar", (3,), ()),
                                               ("x: [N]\ny: [N]", (1,), (3,))])
def test_array_api_checks_declared_shapes(jax, mode, decl, shape, good):
    """backend="array_api" passed inputs untouched, unchecked: x: [2, 3] given a (1, 3)
    array summed 3 numbers (6.0, not an error), x: scalar given (3,) gave an array. Now
    fn() refuses a declared shape's mismatch as the NumPy backend does; right ones run."""
    import jax.numpy as jnp

    g = gc.parse(decl + "\nz = sum(x * x) + sum(x)")
    fn = gc.compile(g, mode=mode, backend="array_api")
    with pytest.raises(gc.InputError, match="does not match declared"):
        fn(**{n: np.ones(shape if n == "x" else good) for n in g.inputs})  # y: N is 3
    x = np.linspace(-1.0, 2.0, int(np.prod(good))).reshape(good)
    value, grads = fn(**{n: x for n in g.inputs})
    want, dx = jax.value_and_grad(lambda x: jnp.sum(x * x) + jnp.sum(x))(x)
    assert value == pytest.approx(float(want), rel=1e-12)
    np.testing.assert_allclose(grads["x"], np.asarray(dx), rtol=1e-12)


def test_vjp_when_optimizing_puts_y_bar_before_an_input(jax):
    """An optimize sweep rebuilt the inputs in topological order: here y_bar before x1,
    so _vjp's parameters were (x0, y_bar, x1) and the public vjp read them by position,
    def vjp(x0, y_bar, y_bar): a SyntaxError. The inputs now keep their order."""
    import jax.numpy as jnp

    g = gc.parse("v1 = -x0\nv2 = full_like(v1, 2.0) * x0 + ones_like(x0) * v1\n"
                 "v7 = -v2\nv12 = v7 + x1")
    x0, x1 = np.array([[0.9], [-0.4]]), np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -2.0]])
    y_bar = np.arange(6.0).reshape(2, 3)
    value, pulled = gc.vjp(g)(x0=x0, x1=x1, y_bar=y_bar)
    want, pull = jax.vjp(lambda a, b: -(jnp.full_like(-a, 2.0) * a - a) + b, x0, x1)
    np.testing.assert_allclose(value, np.asarray(want), rtol=1e-12)
    for name, w in zip(("x0", "x1"), pull(y_bar)):
        np.testing.assert_allclose(pulled[name], np.asarray(w), rtol=1e-12, err_msg=name)
    assert gc.compile(g).grad_graph.inputs == g.inputs == ["x0", "x1"]


@pytest.mark.parametrize("name", ["_given", "_same_shape", "_scalar_value"])
def test_an_input_named_as_a_shipped_helper(jax, name):
    """An input named _given was the parameter of gc.jvp's public function, which then
    called the array: InputError "'numpy.ndarray' object is not callable". The helpers
    that gc.jvp, gc.vjp and compile ship are reserved names now, as the others are."""
    import jax.numpy as jnp

    g = gc.parse(f"{name}: [3]\nw: [3]\ny = sum(sin({name}) * w * {name})")
    a, w, d = np.array([0.3, -1.2, 0.8]), np.array([1.0, 2.0, -0.5]), np.array([0.5, 1.5, -1.0])
    f = lambda a, w: jnp.sum(jnp.sin(a) * w * a)  # noqa: E731
    _, pushed = gc.jvp(g)(**{name: a, "w": w}, x_dot={name: d, "w": w})
    assert pushed == pytest.approx(float(jax.jvp(f, (a, w), (d, w))[1]), rel=1e-12)
    _, _, hv = gc.hvp(g)(**{name: a, "w": w}, v={name: d, "w": w})
    want = jax.jvp(jax.grad(f, argnums=(0, 1)), (a, w), (d, w))[1]
    np.testing.assert_allclose(hv[name], np.asarray(want[0]), rtol=1e-12)
    _, pulled = gc.vjp(g)(**{name: a, "w": w}, y_bar=2.0)
    np.testing.assert_allclose(pulled[name], 2 * np.asarray(jax.grad(f)(a, w)), rtol=1e-12)


@pytest.mark.parametrize("s", [np.array(3), np.array(3, dtype=np.int8)])
def test_array_api_a_python_float_beside_a_0d_integer_array_is_a_float(s):
    """backend="array_api": x = 1.5 beside s = np.array(3) took the arrays' dtype, int64,
    so y = s * x was 3 (a wrong number); now a 0-d integer array is float64 as in the
    NumPy backend (and JAX's 4.5)."""
    pytest.importorskip("array_api_compat")
    fn = gc.compile(gc.parse("y = s * x"), backend="array_api", wrt=["x"])
    value, grads = fn(x=1.5, s=s)
    assert float(value) == 4.5 and float(grads["x"]) == 3.0
    assert np.asarray(value).dtype == np.float64


def test_array_api_an_integer_array_input_is_an_input_error():
    pytest.importorskip("array_api_compat")
    fn = gc.compile(gc.parse("y = s * x"), backend="array_api", wrt=["x"])
    with pytest.raises(gc.InputError, match="not of a float dtype"):
        fn(x=np.array([1, 2]), s=2.0)
