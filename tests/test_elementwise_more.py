"""The rest of NumPy's elementwise functions and constant arrays (ops/numpy_more.py,
issue 19): against JAX on broadcast arrays in float32 and float64, both modes,
optimized or not; second order; JAX's derivative at every kink, zero and inf; the text
round trip, from_sympy, the pictures, the backends, the saved module, and bad input."""

from __future__ import annotations

import importlib.util
import math
import warnings

import numpy as np
import pytest
import sympy as sp
from checks import parse_error
from conftest import MODES, OPTIMIZE, cross
from sympy.codegen import cfunctions as cf

import graphc as gc
from graphc.backend import loops
from graphc.ir.derive import pretty
from graphc.ops import OPS

SIGNED, POS, WIDE = ("±", 0.2, 3.0), (0.5, 2.0), (-3.0, 3.0)
DOMAINS = {  # away from kinks and jumps: each operand's range ("±": either sign)
    "cbrt": (SIGNED,), "float_power": (POS, WIDE), "fmod": (("±", 2.1, 2.9), ("±", 0.7, 1.0)),
    "copysign": (SIGNED, SIGNED), "heaviside": (SIGNED, (0.0, 1.0)),
    "logaddexp2": (WIDE, WIDE), "rint": ((0.6, 1.4),), "trunc": (("±", 1.1, 1.9),),
    "full_like": (WIDE, WIDE), "zeros_like": (WIDE,), "ones_like": (WIDE,),
}
NAMES = sorted(DOMAINS)
CONSTANTS = ["identity", "tri", "linspace", "select", "nan_to_num"]


def _draw(rng: np.random.Generator, domain: tuple, shape: tuple) -> np.ndarray:
    if domain[0] == "±":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(domain[1], domain[2], shape)
    return rng.uniform(domain[0], domain[1], shape)


def _case(name: str, dtype: type, seed: int = 0) -> tuple[gc.Graph, dict]:
    """sum(op(x, y) * w): x of shape (2, 3), y of (3,) (broadcast), w (2, 1) weights."""
    rng = np.random.default_rng(seed)
    at = {k: _draw(rng, d, s).astype(dtype)
          for k, d, s in zip("xy", DOMAINS[name], [(2, 3), (3,)])}
    at["w"] = rng.uniform(0.5, 1.5, (2, 1)).astype(dtype)
    decl = "".join(f"{k}: {list(np.shape(v))}\n" for k, v in at.items())
    return gc.parse(decl + f"out = sum({name}({', '.join('xy'[:len(at) - 1])}) * w)"), at


def _jax_value_and_grad(name: str, at: dict, jax):
    f = getattr(jax.numpy, name)
    args = [np.asarray(v, np.float64) for v in at.values()]
    k = len(at) - 1
    value, grads = jax.value_and_grad(lambda *a: (f(*a[:k]) * a[k]).sum(),
                                      argnums=tuple(range(len(at))))(*args)
    return float(value), [np.asarray(g) for g in grads]


def test_each_op_is_public_and_callable():
    for name in NAMES + CONSTANTS:
        assert OPS[name].public and name in gc.__all__ and callable(getattr(gc, name)), name


@cross(lambda name, dtype, optimize, mode: (dtype, optimize) == (np.float64, True)
       or name == ("cbrt" if optimize else "fmod"),  # the fast tier: each op in f64
       name=NAMES, dtype={"f64": np.float64, "f32": np.float32},
       optimize={"opt": True, "noopt": False}, mode=MODES)
def test_value_and_gradient_match_jax_on_broadcast_arrays(name, dtype, optimize, mode, jax):
    g, at = _case(name, dtype)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    want, want_grads = _jax_value_and_grad(name, at, jax)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, want, rtol=rtol)
    for (k, v), w in zip(at.items(), want_grads):
        assert grads[k].dtype == dtype and grads[k].shape == v.shape, k
        np.testing.assert_allclose(grads[k], w, rtol=rtol, atol=rtol * 1e-2, err_msg=k)


# ---- second order: the gradient graph, differentiated again ------------------------
@pytest.mark.parametrize("name", ["cbrt", "float_power", "fmod", "copysign", "logaddexp2",
                                  "full_like"])
def test_second_derivatives_match_jax(name, mode, jax):
    rng = np.random.default_rng(3)
    at = {k: _draw(rng, d, (4,)) for k, d in zip("xy", DOMAINS[name])}
    f = getattr(jax.numpy, name)
    decl = "".join(f"{k}: [4]\n" for k in at)
    first = gc.compile(gc.parse(decl + f"out = {name}({', '.join(at)})"), mode=mode).grad_graph
    hessian = jax.vmap(jax.hessian(f, argnums=tuple(range(len(at)))))(*at.values())
    for i, of in enumerate(first.outputs[1:]):
        _, grads = gc.compile(first, of=of, mode=mode)(**at)
        for j, k in enumerate(at):
            np.testing.assert_allclose(grads[k], hessian[i][j], rtol=1e-10, atol=1e-14,
                                       err_msg=(of, k))


# ---- kinks, zeros, signs and infinities: JAX's value and derivative -----------------
INF, NAN = math.inf, math.nan
KINKS = [  # op, operands: graphc's value and gradient must be JAX's there
    ("cbrt", (0.0,)), ("cbrt", (-0.0,)), ("cbrt", (-8.0,)), ("cbrt", (-INF,)),
    ("fmod", (5.5, 2.0)), ("fmod", (-5.5, 2.0)), ("fmod", (5.5, -2.0)), ("fmod", (4.0, 2.0)),
    ("fmod", (-4.0, 2.0)), ("fmod", (1.0, 0.0)), ("fmod", (0.0, 1.0)),
    ("copysign", (2.0, -3.0)), ("copysign", (-2.0, 3.0)), ("copysign", (0.0, -1.0)),
    ("copysign", (2.0, -0.0)), ("copysign", (-0.0, 1.0)), ("copysign", (0.0, -0.0)),
    ("copysign", (-2.0, INF)),
    ("heaviside", (0.0, 0.5)), ("heaviside", (-0.0, 0.3)), ("heaviside", (2.0, 0.5)),
    ("heaviside", (-2.0, 0.5)), ("heaviside", (-INF, 0.5)),
    ("logaddexp2", (1.0, 1.0)), ("logaddexp2", (-INF, 0.5)), ("logaddexp2", (0.5, -INF)),
    ("logaddexp2", (1000.0, 0.0)), ("logaddexp2", (-INF, -INF)),
    ("float_power", (2.0, 3.0)), ("float_power", (-2.0, 3.0)), ("float_power", (2.0, 0.0)),
    ("float_power", (-2.0, 0.5)),
    ("rint", (0.5,)), ("rint", (1.5,)), ("rint", (2.5,)), ("rint", (-0.5,)),
    ("trunc", (-2.7,)), ("trunc", (2.0,)), ("trunc", (-0.5,)),
]


@pytest.mark.parametrize(("name", "args"), KINKS, ids=[f"{n}{a}" for n, a in KINKS])
def test_kinks_zeros_and_infinities_take_jax_s_value_and_derivative(name, args, mode, jax):
    f = getattr(jax.numpy, name)
    want = float(f(*args))
    want_grads = [float(d) for d in jax.grad(f, argnums=tuple(range(len(args))))(*args)]
    at = dict(zip("xy", args))
    for optimize in OPTIMIZE:
        with warnings.catch_warnings():  # 1 / 0, inf - inf: NumPy's warnings
            warnings.simplefilter("ignore", RuntimeWarning)
            value, grads = gc.compile(gc.parse(f"out = {name}({', '.join(at)})"), mode=mode,
                                      optimize=optimize)(**at)
        np.testing.assert_allclose(value, want, rtol=1e-15)
        assert math.copysign(1, value) == math.copysign(1, want)  # -0.0 is JAX's too
        np.testing.assert_allclose([float(grads[k]) for k in at], want_grads, rtol=1e-15)


@pytest.mark.parametrize("call", ["nan_to_num(x)", "nan_to_num(x, nan=1.0, posinf=5.0)",
                                  "nan_to_num(x, neginf=-3.0)"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_nan_to_num_takes_jax_s_values_and_derivatives(call, dtype, mode, jax):
    """Replaced values (the dtype's largest number by default) pass no derivative."""
    x = np.array([NAN, INF, -INF, 1.5, -0.0, -2.0], dtype)
    g = gc.parse(f"x: [6]\nout = 0.5 * {call}")
    assert str(gc.parse(str(g))) == str(g) and call in str(g)
    f = eval("lambda x: 0.5 * jnp." + call, {"jnp": jax.numpy})  # noqa: S307 - our own text
    with np.errstate(over="ignore"):
        value, grads = gc.compile(g, mode=mode)(x=x)
    want = f(x.astype(np.float64))
    assert value.dtype == grads["x"].dtype == dtype
    np.testing.assert_array_equal(value, np.asarray(f(x)).astype(dtype))
    np.testing.assert_array_equal(grads["x"], jax.vmap(jax.grad(f))(x.astype(np.float64)))
    assert np.isfinite(want).all()


# ---- text, Python handles, sympy, pictures -----------------------------------------
PROGRAM = """
x: [N]
y: [N]
a = cbrt(x) + float_power(abs(x) + 1, y) + fmod(x, y + 3) + copysign(x, y)
b = heaviside(x, 0.5) * x + logaddexp2(x, y) + rint(x) * y + trunc(y) * x
c = full_like(x, 2.0) * y + zeros_like(x) + ones_like(y) * x + full_like(x, y) * x
d = sum(identity(N) @ x) + sum(tri(N, N, -1) @ y) + sum(linspace(0.0, 1.0, N) * x)
e = select([x < 0, y > 1], [x * y, sin(y)], 0.25)
out = sum(a + b + c + e) + d
"""
AT = {"x": np.array([-0.7, 0.2, 0.9, 1.6]), "y": np.array([0.4, -1.2, 1.1, 2.1])}


def _jax_program(jax):
    jnp = jax.numpy

    def f(x, y):
        n = x.shape[0]
        a = (jnp.cbrt(x) + jnp.float_power(jnp.abs(x) + 1, y) + jnp.fmod(x, y + 3)
             + jnp.copysign(x, y))
        b = (jnp.heaviside(x, 0.5) * x + jnp.logaddexp2(x, y) + jnp.rint(x) * y
             + jnp.trunc(y) * x)
        c = (jnp.full_like(x, 2.0) * y + jnp.zeros_like(x) + jnp.ones_like(y) * x
             + jnp.full_like(x, y) * x)
        d = (jnp.sum(jnp.identity(n) @ x) + jnp.sum(jnp.tri(n, n, -1) @ y)
             + jnp.sum(jnp.linspace(0.0, 1.0, n) * x))
        e = jnp.select([x < 0, y > 1], [x * y, jnp.sin(y)], 0.25)
        return jnp.sum(a + b + c + e) + d
    return f


def test_text_round_trip():
    g = gc.parse(PROGRAM)
    text = str(g)
    again = gc.parse(text)
    assert str(again) == text
    for call in ("cbrt(x)", "fmod(x, ", "heaviside(x, 0.5)", "tri(N, N, -1)",
                 "linspace(0.0, 1.0, N)", "full_like(x, 2.0)", "zeros_like(x)"):
        assert call in text, call
    np.testing.assert_array_equal(again.evaluate(**AT)["out"], g.evaluate(**AT)["out"])
    assert str(gc.parse("out = sum(linspace(0, 2, 4, endpoint=False))")).strip().endswith(
        "linspace(0, 2, 4, False))")


def test_program_of_every_op_verifies_and_matches_jax_in_both_dtypes(jax):
    g = gc.parse(PROGRAM)
    assert gc.verify(g, at=AT).ok
    want, want_grads = jax.value_and_grad(_jax_program(jax), argnums=(0, 1))(*AT.values())
    for mode in MODES:
        for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-5)):
            at = {k: v.astype(dtype) for k, v in AT.items()}
            value, grads = gc.compile(g, mode=mode)(**at)
            assert value.dtype == dtype
            np.testing.assert_allclose(value, want, rtol=rtol)
            for k, w in zip("xy", want_grads):
                assert grads[k].dtype == dtype
                np.testing.assert_allclose(grads[k], w, rtol=rtol, err_msg=(mode, k))


def test_python_handles_build_the_same_graph():
    x, y = gc.inputs("x y")
    out = gc.sum(gc.cbrt(x) + gc.float_power(gc.abs(x) + 1, y) + gc.fmod(x, y + 3)
                 + gc.copysign(x, y) + gc.heaviside(x, 0.5) * x + gc.logaddexp2(x, y)
                 + gc.rint(x) * y + gc.trunc(y) * x + gc.full_like(x, 2.0) * y
                 + gc.zeros_like(x) + gc.ones_like(y) * x + gc.full_like(x, y) * x)
    g = gc.graph(out=out)
    text = PROGRAM.split("d = ")[0].split("\n", 3)[3]
    want = gc.parse("x: [N]\ny: [N]\n" + text + "out = sum(a + b + c)")
    np.testing.assert_allclose(g.evaluate(**AT)["out"], want.evaluate(**AT)["out"], rtol=1e-15)
    got = gc.graph(out=gc.sum(gc.identity(3) + gc.tri(3, 3, 1) + gc.linspace(0.0, 1.0, 3)))
    np.testing.assert_allclose(got.evaluate()["out"], 3 + 8 + 4.5)


def test_from_sympy_reads_cbrt_and_heaviside():
    x, y = sp.symbols("x y", real=True)
    g = gc.from_sympy(cf.Cbrt(x) + sp.Heaviside(x, y) * y, name="e")
    assert {"cbrt", "heaviside"} <= {g.attrs(n)["op"] for n in g.order()}
    value, grads = gc.compile(g)(x=-8.0, y=0.25)
    assert value == pytest.approx(-2.0) and grads == pytest.approx({"x": 1 / 12, "y": 0.0})
    with np.errstate(divide="ignore"):  # cbrt'(0) = 1 / 0 = inf, as JAX's
        _, grads = gc.compile(g)(x=0.0, y=0.25)
    assert grads == {"x": math.inf, "y": 0.5}  # heaviside(0, y) * y: y + y
    # sympy.cbrt(x) is x**(1/3), the principal root: nan for x < 0, as NumPy's x ** (1/3)
    g = gc.from_sympy(sp.cbrt(x), name="e")
    assert g.attrs("e")["op"] == "pow"


def test_every_edge_has_a_readable_rule():
    g = gc.parse("x: [3]\ny: [3]\nout = sum(cbrt(x) + fmod(x, y) + copysign(x, y) "
                 "+ heaviside(x, y) + logaddexp2(x, y) + rint(x) + full_like(x, y))")
    rules = {k: pretty(v) for k, v in g.local_derivatives().items()}
    text = " ".join(rules.values())
    assert all(r and "Derivative" not in r for r in rules.values())
    assert "trunc(x/y)" in text and "copysign(1, y)" in text and "sigmoid" in text
    dot = gc.render(g, at={"x": np.array([0.5, 1.0, 2.0]), "y": np.array([1.5, -1, 2])}).source
    assert "trunc" in dot and "cbrt" in dot


# ---- select(condlist, choicelist, default): the first choice whose condition holds ----
SELECT = ("x: [2, 3]\ny: [3]\nd: [2, 1]\n"
          "out = sum(select([x < 0, (y > 0.5) | (x > 1)], [x * y, exp(y)], d) * x)")


def _jax_select(jax):
    jnp = jax.numpy
    return lambda x, y, d: jnp.sum(jnp.select([x < 0, (y > 0.5) | (x > 1)],
                                              [x * y, jnp.exp(y)], d) * x)


def _select_at(dtype: type = np.float64) -> dict:
    rng = np.random.default_rng(5)
    return {"x": rng.uniform(-2, 2, (2, 3)).astype(dtype),
            "y": np.array([-1.0, 0.7, 2.0], dtype), "d": rng.uniform(-1, 1, (2, 1)).astype(dtype)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_select_matches_jax_on_broadcast_operands(dtype, mode, optimize, jax):
    at = _select_at(dtype)
    value, grads = gc.compile(gc.parse(SELECT), mode=mode, optimize=optimize)(**at)
    want, want_grads = jax.value_and_grad(_jax_select(jax), argnums=(0, 1, 2))(
        *(v.astype(np.float64) for v in at.values()))
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert value.dtype == dtype
    np.testing.assert_allclose(value, want, rtol=rtol)
    for k, w in zip(at, want_grads):
        assert grads[k].dtype == dtype and grads[k].shape == at[k].shape
        np.testing.assert_allclose(grads[k], w, rtol=rtol, atol=rtol, err_msg=k)


def test_select_takes_the_first_condition_and_defaults_to_zero(mode, jax):
    jnp = jax.numpy
    x = np.array([-2.0, -0.5, 0.5, 3.0])
    g = gc.parse("x: [4]\nout = sum(select([x < 0, x < 1], [x * x, 3 * x]))")
    assert str(gc.parse(str(g))) == str(g) and "], 0.0)" in str(g)
    value, grads = gc.compile(g, mode=mode)(x=x)
    f = lambda x: jnp.sum(jnp.select([x < 0, x < 1], [x * x, 3 * x]))  # noqa: E731
    assert value == pytest.approx(float(f(x)), rel=1e-15)
    np.testing.assert_array_equal(grads["x"], jax.grad(f)(x))  # -4, -1, 3, 0


def test_select_second_order_verify_and_pictures(mode, jax):
    g = gc.parse("x: [4]\nout = select([x < 0], [x * x * x], sin(x))")  # no sum: no stacking
    x = np.array([-1.5, -0.2, 0.4, 2.0])
    assert gc.verify(g, at={"x": x}).ok
    first = gc.compile(g, mode=mode).grad_graph
    _, grads = gc.compile(first, of=first.outputs[1], wrt="x", mode=mode)(x=x)
    jnp = jax.numpy
    f = lambda v: jnp.select([v < 0], [v * v * v], jnp.sin(v))  # noqa: E731
    np.testing.assert_allclose(grads["x"], jax.vmap(jax.grad(jax.grad(f)))(x), rtol=1e-12)
    rules = g.local_derivatives()
    node = next(n for n in g.order() if g.attrs(n)["op"] == "select")
    conditions = [a for a in g.args(node) if g.attrs(a)["op"] == "lt"]
    assert conditions and all((c, node) not in rules for c in conditions)  # bools: none
    assert "where select takes this operand" in pretty(rules[(g.args(node)[1], node)])
    assert "select" in gc.render(g, at={"x": x}).source


def test_select_through_the_python_handles():
    x = gc.input("x")
    g = gc.graph(out=gc.sum(gc.select([x < 0, x > 2], [-x, x * 0.5], x)))
    value, grads = gc.compile(g)(x=np.array([-1.0, 1.0, 4.0]))
    assert value == 1.0 + 1.0 + 2.0 and list(grads["x"]) == [-1.0, 1.0, 0.5]
    assert "select([x < 0.0, x > 2.0], [-x, x * 0.5], x)" in str(g)


# ---- constant arrays: NumPy's values in the inputs' float dtype ---------------------
@pytest.mark.parametrize(("text", "want"), [
    ("identity(3)", lambda jnp: jnp.identity(3)),
    ("identity(N)", lambda jnp: jnp.identity(4)),
    ("tri(3)", lambda jnp: jnp.tri(3)),
    ("tri(N, 2, -1)", lambda jnp: jnp.tri(4, 2, -1)),
    ("tri(2, N, k=1)", lambda jnp: jnp.tri(2, 4, k=1)),
    ("linspace(-1.0, 2.0)", lambda jnp: jnp.linspace(-1.0, 2.0)),
    ("linspace(0, 1, 5, endpoint=False)", lambda jnp: jnp.linspace(0, 1, 5, endpoint=False)),
    ("linspace(2.0, -1.0, 1)", lambda jnp: jnp.linspace(2.0, -1.0, 1)),
    ("linspace(0.0, 1.0, 0)", lambda jnp: jnp.linspace(0.0, 1.0, 0)),
    ("zeros_like(x)", lambda jnp: jnp.zeros(4)),
    ("ones_like(x[:, None] * x)", lambda jnp: jnp.ones((4, 4))),
    ("full_like(x, -2.5)", lambda jnp: jnp.full(4, -2.5)),
])
def test_constants_are_numpy_s_in_the_inputs_float_dtype(text, want, jax):
    g = gc.parse(f"x: [N]\nc = {text}\nout = sum(c) * sum(x)")
    for dtype in (np.float64, np.float32):
        x = np.arange(1.0, 5.0, dtype=dtype)
        fn = gc.compile(g, wrt="x")
        got = g.evaluate(x=x)["c"]
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want(jax.numpy), rtol=1e-6 if dtype == np.float32
                                   else 1e-13, atol=1e-15)  # linspace: JAX's last ulps
        value, grads = fn(x=x)
        assert value.dtype == grads["x"].dtype == dtype
        np.testing.assert_allclose(grads["x"], np.sum(got), rtol=1e-6)  # no derivative of c


def test_like_constants_pass_no_derivative_to_their_operand(mode, jax):
    g = gc.parse("x: [3]\nout = sum(zeros_like(x) + ones_like(x) * 2 + full_like(x, 3.0))")
    _, grads = gc.compile(g, mode=mode)(x=np.array([1.0, 2.0, 3.0]))
    want = jax.grad(lambda x: (jax.numpy.zeros_like(x) + jax.numpy.ones_like(x) * 2
                               + jax.numpy.full_like(x, 3.0)).sum())(np.ones(3))
    np.testing.assert_array_equal(grads["x"], want)
    labels = gc.parse("labels: int[3]\nout = zeros_like(labels)")  # NumPy's: ints stay ints
    assert labels.evaluate(labels=np.array([2, 0, 1]))["out"].dtype == np.int64


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_ones_like_times_a_value_in_forward_mode(declared, optimize, jax):
    """The optimizer writes ones_like(a) * w as broadcast_like(w, a), which forward mode
    carries direction-stacked tangents through (a found by the random programs)."""
    decl = "a: [2, 3]\n" if declared else ""
    g = gc.parse(decl + "w: [1, 3]\nout = ones_like(a) * w")  # (2, 3), elementwise in w
    at = {"a": np.ones((2, 3)), "w": np.array([[0.5, -2.0, 1.0]])}
    _, grads = gc.compile(g, mode="forward", optimize=optimize)(**at)
    want = jax.grad(lambda a, w: jax.numpy.sum(jax.numpy.ones_like(a) * w),
                    argnums=(0, 1))(*at.values())
    np.testing.assert_array_equal(grads["w"], want[1])  # 2 each: the per-element seed
    np.testing.assert_array_equal(grads["a"], np.zeros((2, 3)))


# ---- backends and the saved module ------------------------------------------------
BIG = 20_000  # past the blocks and loops' threshold
BACKEND_TEXT = ("out = cbrt(x) * fmod(x, y) + copysign(x, y) * heaviside(x - 1, 0.5)"
                " + logaddexp2(x, y) + rint(y) * trunc(x) + float_power(x, y)"
                " + full_like(x, 0.5) * y + ones_like(x) + zeros_like(y)"
                " + nan_to_num(x, posinf=1.0) * nan_to_num(y)"
                " + select([x < 0, y > 1], [x * y, y], x)")


def _big_at() -> dict:
    rng = np.random.default_rng(7)
    return {k: rng.choice([-1.0, 1.0], BIG) * rng.uniform(0.2, 2.5, BIG) for k in "xy"}


def _same(fn, plain, at: dict, rtol: float = 0.0) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # float_power of x < 0: nan
        value, grads = fn(**at)
        want, want_grads = plain(**at)
    np.testing.assert_allclose(value, want, rtol=rtol, atol=rtol * 1e-3)
    for k in want_grads:
        np.testing.assert_allclose(grads[k], want_grads[k], rtol=rtol, atol=rtol * 1e-3,
                                   err_msg=k)


def test_blocks_backend_gives_numpy_s_numbers(mode):
    g = gc.parse(BACKEND_TEXT)
    _same(gc.compile(g, mode=mode, backend="blocks"), gc.compile(g, mode=mode), _big_at())
    without = gc.parse(BACKEND_TEXT.split(" + select")[0])  # the loop backends' own code
    _same(gc.compile(without, mode=mode, backend="blocks"), gc.compile(without, mode=mode),
          _big_at())


@pytest.mark.slow  # numba compiles each loop
@pytest.mark.skipif(not importlib.util.find_spec("numba"), reason="numba is not installed")
def test_numba_loops_spell_the_new_ops():
    g = gc.parse(BACKEND_TEXT)
    without = gc.parse(BACKEND_TEXT.split(" + select")[0])
    for mode in MODES:
        fn = gc.compile(without, backend="numba", mode=mode)
        assert loops.loop_name("forward") in fn.source
        _same(fn, gc.compile(without, mode=mode), _big_at(), rtol=1e-12)
        fn = gc.compile(g, backend="numba", mode=mode)
        assert loops.loop_name("forward") not in fn.source  # select: NumPy's code runs
        # numba's cbrt is within an ulp of NumPy's (libm's) one
        _same(fn, gc.compile(g, mode=mode), _big_at(), rtol=1e-12)


def test_saved_module_imports_only_numpy_and_gives_fn_s_numbers(tmp_path):
    fn = gc.compile(gc.parse(PROGRAM))
    path = tmp_path / "grad.py"
    fn.save(str(path))
    source = path.read_text()
    imports = {line for line in source.splitlines() if line.startswith(("import", "from"))}
    assert imports == {"import numpy as np"}
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    value, grads = namespace["value_and_grad"](**AT)
    want, want_grads = fn(**AT)
    assert value == want
    for k in want_grads:
        np.testing.assert_array_equal(grads[k], want_grads[k])


# ---- bad input -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "cls", "match"), [
    ("out = cbrt(x, x)", gc.ParseError, "cbrt\\(\\) takes 1 argument"),
    ("out = fmod(x)", gc.ParseError, "takes 2 arguments"),
    ("out = heaviside(x)", gc.ParseError, "takes 2 arguments"),
    ("out = copysign(x, y, x)", gc.ParseError, "takes 2 arguments"),
    ("out = fmod(labels, x)", gc.ShapeError, "labels holds integers"),
    ("out = full_like(x, z)", gc.ShapeError, "does not broadcast to a's \\[3\\]"),
    ("out = full_like(labels, 1.0)", gc.ShapeError, "labels holds integers"),
    ("out = sum(linspace(0.0, 1.0, -1))", gc.ShapeError, "name, got -1"),
    ("out = sum(linspace(0.0, 1.0, 2.5))", gc.ShapeError, "num is an integer >= 0 or a"),
    ("out = sum(linspace(0.0, 1.0, 3, 1))", gc.ParseError, "endpoint must be True or False"),
    ("out = sum(linspace(x, 1.0, 3))", gc.ShapeError, "x is an input, not a number"),
    ("out = sum(linspace(0.0))", gc.ShapeError, "start and stop are numbers"),
    ("out = sum(identity(-1))", gc.ShapeError, "identity's dimensions are >= 0"),
    ("out = sum(identity())", gc.ShapeError, "n is required, as in NumPy's identity"),
    ("out = sum(tri(2, -1))", gc.ShapeError, "tri's dimensions are >= 0"),
    ("out = sum(tri(M))", gc.ShapeError, "dimension M is not declared"),
    ("out = select([x > 0], [x, y])", gc.ParseError, "two lists of one length"),
    ("out = select([x > 0, y > 0], [x])", gc.ParseError, "two lists of one length"),
    ("out = select([], [])", gc.ParseError, "two lists of one length"),
    ("out = select(x > 0, x)", gc.ParseError, "two lists of one length"),
    ("out = select([x], [y])", gc.ShapeError, "conditions must be booleans"),
    ("out = select([x > 0], [labels])", gc.ShapeError, "labels holds integers"),
    ("out = select([x > 0], [z], y[:2])", gc.ShapeError, "cannot broadcast|broadcast"),
    ("out = nan_to_num(x, nan=None)", gc.ShapeError, "nan_to_num's nan is a number, got None"),
    ("out = nan_to_num(x, posinf=True)", gc.ShapeError, "posinf is a number or None"),
    ("out = nan_to_num(x, copy=False)", gc.ParseError, "takes no keyword copy"),
])
def test_bad_input_is_a_clear_error(text, cls, match):
    error = parse_error("x: [3]\ny: [3]\nz: [2, 3]\nlabels: int[3]\n" + text, cls, match)
    assert "line 5" in str(error)


def test_bad_input_through_the_python_handles():
    x = gc.input("x", shape=(3,))
    with pytest.raises(gc.ShapeError, match="start and stop are numbers"):
        gc.graph(out=gc.sum(gc.linspace(x, 1.0, 3)))
    with pytest.raises(gc.ShapeError, match="num is an integer >= 0"):
        gc.graph(out=gc.sum(gc.linspace(0.0, 1.0, -2)))
    with pytest.raises(gc.GraphcError, match="takes 2 argument"):
        gc.graph(out=gc.fmod(x))
    with pytest.raises(gc.GraphcError, match="two lists of one length"):
        gc.select([x > 0], [x, x])
    with pytest.raises(gc.ShapeError, match="conditions must be booleans"):
        gc.graph(out=gc.select([x], [x]))
