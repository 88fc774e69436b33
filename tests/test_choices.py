"""Choices (graphc/ops/choices.py): comparisons, & | ^ ~, where, clip, stop_gradient,
% and //, against JAX: values and gradients in both modes, float32 and float64,
broadcasting, at the bounds and ties, second order, text, backends and bad input."""

from __future__ import annotations

import html

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, MODES, central_diff, cross, first_of_each

import graphc as gc

RNG = np.random.default_rng(19)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(1, 4))  # a size-1 axis: broadcast, its gradient summed back
Z = 0.3

# (text, the same in JAX as a function of the inputs x, y, z)
CASES = {
    "gt": ("f = where(x > y, x * y, x - y)", lambda j, x, y, z: j.where(x > y, x * y, x - y)),
    "ge": ("f = where(x >= z, sin(x), y)", lambda j, x, y, z: j.where(x >= z, j.sin(x), y)),
    "lt": ("f = where(x < y, x, y * z)", lambda j, x, y, z: j.where(x < y, x, y * z)),
    "le": ("f = where(abs(x) <= z, x * x, z * y)",
           lambda j, x, y, z: j.where(abs(x) <= z, x * x, z * y)),
    "eq ne": ("f = where((x == x) & (y != z), x * y, 0.0)",
              lambda j, x, y, z: j.where((x == x) & (y != z), x * y, 0.0)),
    "chained": ("f = where(y < x < z, x, y)", lambda j, x, y, z: j.where((y < x) & (x < z), x, y)),
    "logic": ("f = where((x > 0) & ~(y > 0) | (x < y) ^ (z > 0), x * z, y * x)",
              lambda j, x, y, z: j.where((x > 0) & ~(y > 0) | (x < y) ^ (z > 0), x * z, y * x)),
    "where scalar branch": ("f = where(x > 0, x, 0.5)", lambda j, x, y, z: j.where(x > 0, x, 0.5)),
    "clip": ("f = clip(x, y, z) * x", lambda j, x, y, z: j.clip(x, y, z) * x),
    "clip numbers": ("f = clip(x * y, -0.25, 0.5)", lambda j, x, y, z: j.clip(x * y, -0.25, 0.5)),
    "stop_gradient": ("f = stop_gradient(x * y) * x + stop_gradient(z) * z",
                      lambda j, x, y, z: _jax().lax.stop_gradient(x * y) * x
                      + _jax().lax.stop_gradient(z) * z),
    "mod": ("f = x % y + (x * z) % -0.7", lambda j, x, y, z: j.mod(x, y) + j.mod(x * z, -0.7)),
    "floor_divide": ("f = x // y * x + z // x", lambda j, x, y, z: j.floor_divide(x, y) * x
                     + j.floor_divide(z, x)),
}


def _jax():
    import jax
    return jax


def _reference(jax, name: str, values: dict) -> tuple:
    import jax.numpy as jnp

    f = CASES[name][1]

    def total(x, y, z):
        return jnp.sum(f(jnp, x, y, z))
    value = np.asarray(f(jnp, *values.values()))
    return value, jax.grad(total, argnums=(0, 1, 2))(*values.values())


def _values(dtype=np.float64) -> dict:
    return {"x": X.astype(dtype), "y": Y.astype(dtype), "z": dtype(Z)}


FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda name, optimize, mode:  # fast: each op in both modes
       optimize and name in FIRST or name == "clip",
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_match_jax(jax, name, mode, optimize):
    """Declared shapes (forward mode stacks directions through where and clip)."""
    g = gc.parse("x: [3, 4]\ny: [1, 4]\nz: scalar\n" + CASES[name][0] + "\nL = sum(f)")
    values = _values()
    value, grads = gc.compile(g, of="L", mode=mode, optimize=optimize)(**values)
    want_value, want = _reference(jax, name, values)
    assert value == pytest.approx(float(np.sum(want_value)), rel=1e-12, abs=1e-12)
    for k, w in zip(values, want):
        assert np.shape(grads[k]) == np.shape(values[k])
        np.testing.assert_allclose(grads[k], np.asarray(w), rtol=1e-12, atol=1e-12)


@cross(lambda name, mode: name in ("clip", "where scalar branch"), name=sorted(CASES),
       mode=MODES)
def test_float32_stays_float32(jax, name, mode):
    """Undeclared inputs, elementwise: one sweep in each mode, seeds of ones."""
    g = gc.parse("x: any\ny: any\nz: any\n" + CASES[name][0])
    values = _values(np.float32)
    value, grads = gc.compile(g, mode=mode)(**values)
    assert value.dtype == np.float32
    assert all(grads[k].dtype == np.float32 for k in ("x", "y")), grads
    want_value, want = _reference(jax, name, _values())
    np.testing.assert_allclose(value, want_value, rtol=1e-5, atol=1e-5)
    for k, w in zip(values, want):
        np.testing.assert_allclose(grads[k], np.asarray(w), rtol=1e-4, atol=1e-4, err_msg=k)


# ---- the JAX convention at every bound, tie and sign -------------------------------
@pytest.mark.parametrize("x, lo, hi", [(0.0, 0.0, 1.0), (1.0, 0.0, 1.0), (0.5, 0.0, 1.0),
                                       (-1.0, 0.0, 1.0), (2.0, 0.0, 1.0), (0.5, 1.0, 0.0),
                                       (1.0, 1.0, 1.0)])
def test_clip_at_its_bounds_is_jaxs(jax, x, lo, hi, mode):
    """clip = minimum(maximum(x, lo), hi): at a bound half goes to x, half to the bound."""
    import jax.numpy as jnp

    g = gc.parse("f = clip(x, lo, hi)")
    value, grads = gc.compile(g, mode=mode)(x=x, lo=lo, hi=hi)
    want = jax.grad(jnp.clip, argnums=(0, 1, 2))(x, lo, hi)
    assert value == float(jnp.clip(x, lo, hi))
    assert [float(grads[k]) for k in ("x", "lo", "hi")] == [float(w) for w in want]


def test_clip_without_a_bound_is_jaxs(jax, mode):
    """clip(x, 0) and clip(x) leave the missing bounds out, as jnp.clip does."""
    import jax.numpy as jnp

    x = np.array([-1.0, 0.0, 0.5, 2.0])
    for text, jaxs in (("f = clip(x, 0)", lambda a: jnp.clip(a, 0.0)),
                       ("f = clip(x)", jnp.clip)):
        g = gc.parse(text)
        value, grads = gc.compile(g, mode=mode)(x=x)
        np.testing.assert_array_equal(value, jaxs(x))
        np.testing.assert_array_equal(grads["x"], jax.vmap(jax.grad(jaxs))(x))
        np.testing.assert_array_equal(gc.parse(str(g)).evaluate(x=x)["f"], value)
    built = gc.graph(f=gc.clip(gc.input("x"), 0.0))
    np.testing.assert_array_equal(built.evaluate(x=x)["f"], np.clip(x, 0.0, None))


PAIRS = [(5.0, 3.0), (-5.0, 3.0), (5.0, -3.0), (-5.0, -3.0), (6.0, 3.0), (-6.0, 3.0),
         (6.0, -3.0), (1.0, 0.1), (-1.0, 0.1), (1.0, -0.1), (0.0, 3.0), (-0.0, -3.0),
         (7.5, 2.5), (1e-300, 3.0), (-1e-300, 3.0), (2.0, np.inf), (-2.0, np.inf)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mod_and_floor_divide_are_numpys_values_and_jaxs_derivatives(jax, mode, dtype):
    """Values bit for bit NumPy's (the sign of y), derivatives JAX's: d(x % y)/dy is
    -trunc(x / y), plus 1 where the remainder took y's sign (11 at x = -1, y = 0.1,
    where x / y rounds to -10); x // y has derivative 0."""
    import jax.numpy as jnp

    x = np.array([p[0] for p in PAIRS], dtype=dtype)
    y = np.array([p[1] for p in PAIRS], dtype=dtype)
    for text, numpys, jaxs in (("f = x % y", np.mod, jnp.mod),
                               ("f = x // y", np.floor_divide, jnp.floor_divide)):
        value, grads = gc.compile(gc.parse(text), mode=mode)(x=x, y=y)
        np.testing.assert_array_equal(value, numpys(x, y))
        np.testing.assert_array_equal(np.signbit(value), np.signbit(numpys(x, y)))
        assert value.dtype == dtype and grads["y"].dtype == dtype
        want = jax.grad(lambda a, b, f=jaxs: jnp.sum(f(a, b)), argnums=(0, 1))(x, y)
        for k, w in zip("xy", want):
            np.testing.assert_array_equal(grads[k], np.asarray(w), err_msg=f"{text} d/d{k}")


def test_mod_on_python_floats_falls_back_to_numpy():
    """Python's 1.0 % 0.0 raises: the module's float path gives NumPy's nan instead."""
    fn = gc.compile(gc.parse("f = x % y + x // y"))
    with np.errstate(all="ignore"):
        value, grads = fn(x=1.0, y=0.0)
    assert np.isnan(value) and grads["x"] == 1.0
    assert fn(x=-5.0, y=3.0)[0] == -5.0 % 3.0 + -5.0 // 3.0


def test_where_takes_the_gradient_to_the_branch_taken(jax):
    """Where both branches are computed (a nan in the other one), the gradient is
    JAX's: where(c, g, 0), so 0 * nan never reaches the branch taken."""
    import jax.numpy as jnp

    g = gc.parse("f = where(x > 0, sqrt(x), x)")
    x = np.array([-1.0, 0.0, 4.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        value, grads = gc.compile(g)(x=x)
    want = jax.grad(lambda a: jnp.sum(jnp.where(a > 0, jnp.sqrt(a), a)))(x)
    np.testing.assert_array_equal(value, [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(grads["x"], want)


def test_stop_gradient_is_the_value_and_no_derivative():
    g = gc.parse("f = stop_gradient(x) * x")
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(x=3.0)
        assert (value, grads["x"]) == (9.0, 3.0)
    rep = gc.verify(g, at={"x": 3.0})  # finite differences hold the stopped value
    assert rep.ok, rep


def test_comparisons_are_bools_with_no_derivative():
    g = gc.parse("c = x < y\nd = ~(x == y) | (y >= 1)\nf = x * c")
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    values = g.evaluate(x=x, y=y)
    np.testing.assert_array_equal(values["c"], [True, False, False])
    np.testing.assert_array_equal(values["d"], [True, True, True])
    assert values["c"].dtype == bool and values["d"].dtype == bool
    for mode in MODES:
        value, grads = gc.compile(g, of="f", mode=mode)(x=x, y=y)
        np.testing.assert_array_equal(grads["x"], [1.0, 0.0, 0.0])
        np.testing.assert_array_equal(grads["y"], [0.0, 0.0, 0.0])
    value = gc.compile(g, of="c")(x=x, y=y)[0]
    assert value.dtype == bool


@pytest.mark.parametrize("text", ["y = where(x > 0, x > 1, x < -1) * 1.0",
                                  "y = stop_gradient(x > 1) * 1.0 + 0.0"])
def test_bools_times_one_stay_numbers(text, optimize):
    """Regression: the optimizer's ``b * 1.0 -> b`` is for numbers; a choice between
    bools (or a stopped one) is bools, and times 1.0 a float array, as in NumPy."""
    x = np.array([-2.0, 0.5, 2.0])
    value = gc.compile(gc.parse(text), optimize=optimize)(x=x)[0]
    assert value.dtype == np.float64
    np.testing.assert_array_equal(value, gc.parse(text).evaluate(x=x)["y"])


# ---- Huber regression, end to end ----------------------------------------------------
@cross(lambda dtype, optimize, mode: dtype == np.float64 or optimize and mode == "reverse",
       dtype=[np.float64, np.float32], optimize={"opt": True, "noopt": False}, mode=MODES)
def test_huber_loss_matches_jax(jax, mode, optimize, dtype):
    import jax.numpy as jnp

    def huber(X, target, w, d):  # noqa: N803
        r = X @ w - target
        return jnp.mean(jnp.where(jnp.abs(r) <= d, 0.5 * r ** 2, d * (jnp.abs(r) - 0.5 * d)))

    rng = np.random.default_rng(3)
    values = {"X": rng.normal(size=(8, 3)), "target": rng.normal(size=8) * 2,
              "w": rng.normal(size=3), "d": 1.0}
    g = gc.load(EXAMPLES / "huber.gc")
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(
        **{k: np.asarray(v, dtype=dtype) for k, v in values.items()})
    want_value, want = jax.value_and_grad(huber, argnums=(0, 1, 2, 3))(*values.values())
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert value.dtype == dtype and grads["w"].dtype == dtype
    assert float(value) == pytest.approx(float(want_value), rel=tol)
    for k, w in zip(values, want):
        np.testing.assert_allclose(grads[k], np.asarray(w), rtol=tol, atol=tol)
    rep = gc.verify(g, at=values)
    assert rep.ok, rep


# ---- second order, the dot-product test, verify, pictures ----------------------------
@pytest.mark.parametrize("name", ["clip", "le", "mod", "stop_gradient", "logic"])
def test_second_order_matches_jax(jax, name):
    """The reverse-mode gradient differentiated again, in both modes: JAX's
    Hessian-vector product."""
    import jax.numpy as jnp

    values = _values()
    v = RNG.normal(size=(3, 4))
    g = gc.parse("x: [3, 4]\ny: [1, 4]\nz: scalar\n" + CASES[name][0] + "\nL = sum(f * f)")
    grad_graph = gc.compile(g, of="L", wrt=["x"]).grad_graph
    g2 = gc.parse("v: [3, 4]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    f = CASES[name][1]

    def loss(x, y, z):
        return jnp.sum(f(jnp, x, y, z) ** 2)
    hvp = jax.grad(lambda *a: jnp.vdot(jax.grad(loss)(*a), v), argnums=(0, 1, 2))(
        *values.values())
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=list(values), mode=mode)(**values, v=v)
        for k, r in zip(values, hvp):
            np.testing.assert_allclose(second[k], np.asarray(r), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["where", "clip", "mod"])
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u>, and J^T u == finite differences (away from kinks)."""
    text = {"where": "f = where(a > b, a * b, sin(a))", "clip": "f = clip(a, b - 1, b + 1) * a",
            "mod": "f = a % (b * b + 1)"}[name]
    g = gc.parse("a: [3, 4]\nb: [4]\nu: [3, 4]\n" + text + "\nL = sum(f * u)")
    values = {"a": RNG.normal(size=(3, 4)) * 2, "b": RNG.normal(size=4),
              "u": RNG.normal(size=(3, 4))}
    _, rev = gc.compile(g, wrt=["a", "b"])(**values)
    for k in ("a", "b"):
        v = RNG.normal(size=values[k].shape)
        jv = gc.compile(g, wrt=[k], mode="forward")(**values)[1][k]
        assert np.vdot(jv, v) == pytest.approx(np.vdot(rev[k], v), rel=1e-9, abs=1e-12)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, k)
        np.testing.assert_allclose(rev[k], fd, rtol=1e-5, atol=1e-7)


def test_verify_and_pictures():
    g = gc.parse("y = where((a < b) & (a > -2), a % b, a // b) + clip(a, 0, 1) * b"
                 " + stop_gradient(a) * a")
    rep = gc.verify(g, at={"a": 0.7, "b": 1.3})
    assert rep.ok, rep
    dot = html.unescape(gc.render(g, at={"a": 0.7, "b": 1.3}).source)  # HTML labels too
    assert "mod_slope(a, b)" in dot  # d(a % b)/db, named on its edge
    assert "[a > 0] + [a = 0]/2" in dot  # clip's rule at the lower bound, an Iverson bracket
    assert "Heaviside" not in dot and "Piecewise" not in dot  # math, not sympy (issue 22)


# ---- text, builder, sympy --------------------------------------------------------------
def test_text_round_trips_with_parentheses():
    text = ("f = where(((a < b) & ~(b < c) | (a == c)) ^ (a >= 1), a % (b // c), -a % b)"
            " + clip(a, b, c) + stop_gradient(a) * a\ng = a < b < c")
    g = gc.parse(text)
    printed = str(g)
    assert "(a < b) & (b < c)" in printed and "logical_not(b < c)" in printed
    again = gc.parse(printed)
    assert str(again) == printed
    at = {"a": np.array([-2.0, 0.5, 3.0]), "b": np.array([1.5, -2.0, 1.0]), "c": 0.75}
    for out in ("f", "g"):
        np.testing.assert_array_equal(again.evaluate(**at)[out], g.evaluate(**at)[out])


def test_builder_operators_and_functions():
    a, b = gc.input("a"), gc.input("b")
    c = (a < b) & ~(a == b) | (1.0 >= a) ^ (a != 2)  # noqa: SIM300 - reflected >=
    f = gc.where(c, a % b, 3 // b) + gc.clip(a, 0, 1) + gc.stop_gradient(a) * (5 % a)
    g = gc.graph(f=f)
    text = gc.parse("f = where((a < b) & ~(a == b) | (1.0 >= a) ^ (a != 2), a % b, 3 // b)"
                    " + clip(a, 0, 1) + stop_gradient(a) * (5 % a)")
    at = {"a": np.array([-2.0, 0.5, 3.0]), "b": np.array([1.5, -2.0, 1.0])}
    np.testing.assert_array_equal(g.evaluate(**at)["f"], text.evaluate(**at)["f"])
    # == builds a node, as on JAX's arrays; hashing stays by identity
    seen = {a: 1, b: 2}
    assert seen[a] == 1 and a in seen and len({a, b, a}) == 2
    assert (a == "a") is False and (a != None) is True  # noqa: E711
    with pytest.raises(gc.GraphcError, match="no truth value"):
        bool(a == b)


def test_from_sympy_reads_relations_and_logic():
    x, y = sp.symbols("x y", real=True)
    g = gc.from_sympy(sp.Piecewise((x ** 2, (x > 0) & ~(y < 1)), (y, True)), name="f")
    for at, want in (((2.0, 1.5), 4.0), ((2.0, 0.5), 0.5), ((-1.0, 3.0), 3.0)):
        assert float(g.evaluate(x=at[0], y=at[1])["f"]) == want
    _, grads = gc.compile(g)(x=2.0, y=1.5)
    assert (float(grads["x"]), float(grads["y"])) == (4.0, 0.0)
    g = gc.from_sympy(sp.Piecewise((sp.Mod(x, y), sp.Xor(x > 1, y > 1, x > y)), (y, True)))
    assert "x % y" in str(g) and "^" in str(g)
    value, grads = gc.compile(g)(x=-5.0, y=3.0)  # -5 % 3: -trunc(-5 / 3) + 1
    assert (float(value), float(grads["x"]), float(grads["y"])) == (1.0, 1.0, 2.0)
    value, grads = gc.compile(g)(x=0.5, y=-3.0)
    assert (float(value), float(grads["x"]), float(grads["y"])) == (-2.5, 1.0, 1.0)


# ---- backends and the saved module -----------------------------------------------------
BACKEND_TEXT = ("f = where((x > y) & ~(x < -1), x * y, y - x) + clip(x, -0.5, y) * x"
                " + stop_gradient(x) * y + x % (y * y + 1) + x // 0.7")


def _backend_check(backend: str) -> None:
    g = gc.parse(BACKEND_TEXT)
    n = 50_000  # past blocks._SMALLEST: the loop and the blocks run
    x, y = RNG.normal(size=n) * 2, RNG.normal(size=n)
    want_value, want = gc.compile(g)(x=x, y=y)
    value, grads = gc.compile(g, backend=backend)(x=x, y=y)
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=1e-12)
    for k in want:
        np.testing.assert_allclose(grads[k], want[k], rtol=1e-12, atol=1e-12)


def test_blocks_backend():
    _backend_check("blocks")


@pytest.mark.slow  # numba compiles the loops
def test_numba_backend():
    pytest.importorskip("numba")
    _backend_check("numba")
    source = gc.compile(gc.parse("f = where(~(x > y), clip(x, 0, y), x)"), backend="numba").source
    assert "t1 = x.dtype.type(_minimum(_maximum(x[i], const), y[i]))" in source
    assert "x.dtype.type(_pick(not x[i] > y[i], t1, x[i]))" in source


EDGES = np.array([-np.inf, -800.0, -2.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 800.0,
                  np.inf, np.nan])


@pytest.mark.slow  # numba compiles each loop
@pytest.mark.parametrize("text", ["y = a % b", "y = a // b", "y = clip(a, b, 0.5)",
                                  "y = where(~(a >= b) | (a == 0), a * b, 1.0)"])
def test_the_numba_loop_gives_numpys_values_at_the_edges(text, mode):
    """Infinities, NaN, signed zeros and x % 0: the loop's Python operators (with
    error_model="numpy") and its spelling of clip and mod_slope are NumPy's, bit for bit."""
    pytest.importorskip("numba")
    from graphc.backend import blocks, loops

    g = gc.parse(text)
    grid = [np.resize(v.ravel(), 2 * blocks._SMALLEST + 5) for v in np.meshgrid(EDGES, EDGES)]
    fused = gc.compile(g, backend="numba", mode=mode)
    assert loops.loop_name("value_and_grad") in fused.source
    with np.errstate(all="ignore"):
        got, want = fused(*grid), gc.compile(g, mode=mode)(*grid)
    for mine, numpys in zip([got[0], *got[1].values()], [want[0], *want[1].values()]):
        np.testing.assert_array_equal(mine, numpys)
        zero = numpys == 0
        np.testing.assert_array_equal(np.signbit(mine[zero]), np.signbit(numpys[zero]))


def test_saved_module_gives_what_fn_gives(tmp_path):
    import importlib.util

    fn = gc.compile(gc.parse(BACKEND_TEXT))
    path = tmp_path / "choices_grad.py"
    fn.save(str(path))
    spec = importlib.util.spec_from_file_location("choices_grad", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = RNG.normal(size=7), RNG.normal(size=7)
    value, grads = module.value_and_grad(x, y)
    want_value, want = fn(x=x, y=y)
    np.testing.assert_array_equal(value, want_value)
    for k in want:
        np.testing.assert_array_equal(grads[k], want[k])
    assert "import graphc" not in fn.source


# ---- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize("text, error, message", [
    ("y = where(a, b, c)", gc.ShapeError, "where's condition must be a boolean"),
    ("y = where(a * 2 > 0, b, c)\nz = where(y, a, b)", gc.ShapeError, "must be a boolean"),
    ("y = a & (b > 0)", gc.ShapeError, r"each operand of & must be a boolean"),
    ("y = (a > 0) | b", gc.ShapeError, r"each operand of \| must be a boolean"),
    ("y = ~a", gc.ShapeError, "the operand of ~ must be a boolean"),
    ("y = a < b and b < c", gc.ParseError, "use & and |"),
    ("y = not a", gc.ParseError, "use ~"),
    ("y = a in b", gc.ParseError, "in and is are not allowed"),
    ("y = a is b", gc.ParseError, "in and is are not allowed"),
    ("y = a << b", gc.ParseError, "operator << is not supported"),
    ("a: [3]\nb: [4]\ny = where(a > 0, b, 1.0)", gc.ShapeError, "do not broadcast"),
    ("y = clip(a, b, c, d)", gc.ParseError, "clip\\(\\) takes 1 to 3 arguments"),
    ("y = -(a > 0)", gc.ShapeError, "- of booleans: NumPy has none"),
    ("y = (a > 0) - (b > 0)", gc.ShapeError, "- of booleans"),
])
def test_bad_input_is_a_clear_error_with_line_and_column(text, error, message):
    with pytest.raises(error, match=message) as info:
        gc.parse(text)
    assert info.value.line == text.count("\n") + 1 and info.value.col is not None


def test_builder_refuses_a_number_as_a_condition():
    a, b = gc.inputs("a b")
    with pytest.raises(gc.ShapeError, match="where's condition must be a boolean"):
        gc.graph(y=gc.where(a, a, b))
    with pytest.raises(gc.ShapeError, match="must be a boolean"):
        gc.graph(y=a & b)
