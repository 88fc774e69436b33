"""NumPy's, jax.nn's and jax.scipy.special's elementwise functions (ops/elementwise.py,
issue 19), beyond the table-driven checks of test_ops.py: against JAX on broadcast
arrays in float32 and float64, second order, the conventions at kinks and ties, the
text round trip, from_sympy, the backends, the saved module, and bad input."""

from __future__ import annotations

import importlib.util
import inspect
import math
import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp
from checks import parse_error
from conftest import MODES, OPTIMIZE, central_diff, cross
from sympy.codegen import cfunctions as cf

import graphc as gc
from graphc.backend import loops
from graphc.ir.derive import pretty
from graphc.ops import OPS
from graphc.ops.special import _polygamma


def _jax_fn(name: str):
    """The JAX function of a graphc op (jax.numpy, jax.nn or jax.scipy.special)."""
    import jax
    import jax.scipy.special

    nn = {"silu", "log_sigmoid", "soft_sign", "softsign", "gelu"}
    special = {"erf", "erfc", "gammaln", "digamma"}
    if name in nn:
        return getattr(jax.nn, "soft_sign" if name == "softsign" else name)
    if name in special or name == "lgamma":
        return getattr(jax.scipy.special, "gammaln" if name == "lgamma" else name)
    return getattr(jax.numpy, name)


UNIT, WIDE, POS = (-0.9, 0.9), (-3.0, 3.0), (0.2, 4.0)
DOMAINS = {  # where each op is smooth (away from kinks and jumps), its operands' ranges
    "log1p": ((-0.9, 3.0),), "expm1": (WIDE,), "log2": (POS,), "log10": (POS,),
    "exp2": (WIDE,), "square": (WIDE,), "reciprocal": (POS,), "sinh": (WIDE,),
    "cosh": (WIDE,), "arcsin": (UNIT,), "arccos": (UNIT,), "arctan": (WIDE,),
    "arctan2": ((0.5, 3.0), WIDE), "arcsinh": (WIDE,), "arccosh": ((1.1, 4.0),),
    "arctanh": (UNIT,), "hypot": ((0.5, 3.0), WIDE), "logaddexp": (WIDE, WIDE),
    "sign": ((0.1, 3.0),), "floor": ((0.1, 0.9),), "ceil": ((0.1, 0.9),),
    "round": ((0.6, 1.4),), "silu": (WIDE,), "log_sigmoid": (WIDE,), "soft_sign": (WIDE,),
    "softsign": (WIDE,), "gelu": (WIDE,), "erf": (WIDE,), "erfc": (WIDE,),
    "gammaln": (POS,), "lgamma": (POS,), "digamma": (POS,), "absolute": ((0.1, 3.0),),
    "fmax": ((0.0, 1.0), (1.5, 2.0)), "fmin": ((0.0, 1.0), (1.5, 2.0)), "sinc": (WIDE,),
    "deg2rad": (WIDE,), "rad2deg": (WIDE,), "radians": (WIDE,), "degrees": (WIDE,),
}
NAMES = sorted(DOMAINS)


def test_each_op_is_public_and_callable():
    for name in DOMAINS:
        assert OPS[name].public and name in gc.__all__ and callable(getattr(gc, name)), name


def _case(name: str, dtype: type, seed: int = 0) -> tuple[gc.Graph, dict]:
    """sum(op(x, y) * w): x of shape (2, 3), y of (3,) (broadcast), w (2, 1) weights."""
    domains = DOMAINS[name]
    rng = np.random.default_rng(seed)
    shapes = [(2, 3), (3,)][:len(domains)]
    at = {k: rng.uniform(lo, hi, s).astype(dtype)
          for k, (lo, hi), s in zip("xy", domains, shapes)}
    at["w"] = rng.uniform(0.5, 1.5, (2, 1)).astype(dtype)
    decl = "".join(f"{k}: {list(np.shape(v))}\n" for k, v in at.items())
    call = f"{name}({', '.join('xy'[:len(domains)])})"
    return gc.parse(decl + f"out = sum({call} * w)"), at


def _jax_value_and_grad(name: str, at: dict):
    import jax

    f = _jax_fn(name)
    args = [np.asarray(v, np.float64) for v in at.values()]
    k = len(at) - 1
    value, grads = jax.value_and_grad(lambda *a: (f(*a[:k]) * a[k]).sum(),
                                      argnums=tuple(range(len(at))))(*args)
    return float(value), [np.asarray(g) for g in grads]


@cross(lambda name, dtype, optimize, mode: (dtype, optimize) == (np.float64, True)
       or name == ("erf" if optimize else "arctan2"),  # the fast tier: each op in f64
       name=NAMES, dtype={"f64": np.float64, "f32": np.float32},
       optimize={"opt": True, "noopt": False}, mode=MODES)
def test_value_and_gradient_match_jax_on_broadcast_arrays(name, dtype, optimize, mode, jax):
    g, at = _case(name, dtype)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    want, want_grads = _jax_value_and_grad(name, at)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, want, rtol=rtol)
    for (k, v), w in zip(at.items(), want_grads):
        assert grads[k].dtype == dtype and grads[k].shape == v.shape, k
        np.testing.assert_allclose(grads[k], w, rtol=rtol, atol=rtol * 1e-2, err_msg=k)


@pytest.mark.parametrize("approximate", [True, False])
def test_gelu_both_forms_match_jax(approximate, mode, jax):
    x = np.linspace(-4, 4, 33)
    text = "out = gelu(x)" if approximate else "out = gelu(x, approximate=False)"
    g = gc.parse(text)
    assert str(g).strip().endswith(text.removeprefix("out = "))
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 2e-6)):
        value, grads = gc.compile(g, mode=mode)(x=x.astype(dtype))
        f = lambda v: jax.nn.gelu(v, approximate=approximate)  # noqa: E731
        assert value.dtype == grads["x"].dtype == dtype
        np.testing.assert_allclose(value, f(x), rtol=rtol, atol=rtol)
        np.testing.assert_allclose(grads["x"], jax.vmap(jax.grad(f))(x), rtol=rtol, atol=rtol)
    handle = gc.gelu(gc.input("x"), approximate=approximate)
    np.testing.assert_allclose(gc.compile(gc.graph(out=handle))(x=x)[0], f(x), rtol=1e-12)


# ---- second order: the gradient graph, differentiated again ------------------------
SECOND = ["log1p", "expm1", "log2", "exp2", "reciprocal", "sinh", "cosh", "arcsin",
          "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "silu", "log_sigmoid",
          "soft_sign", "erf", "erfc", "gammaln", "digamma", "sinc", "rad2deg"]


def _second(text: str, x: np.ndarray, mode: str) -> np.ndarray:
    first = gc.compile(gc.parse(text), mode=mode).grad_graph
    return gc.compile(first, of=first.outputs[1], wrt="x")(x=x)[1]["x"]


@cross(lambda name, mode: name in ("log1p", "erf", "digamma"), name=SECOND, mode=MODES)
def test_second_derivative_matches_jax(name, mode, jax):
    lo, hi = DOMAINS[name][0]
    x = np.linspace(lo, hi, 7)
    f = _jax_fn(name)
    want = jax.vmap(jax.grad(jax.grad(f)))(x)
    np.testing.assert_allclose(_second(f"out = {name}(x)", x, mode), want, rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("approximate", [True, False])
def test_gelu_second_derivative_matches_jax(approximate, mode, jax):
    x = np.linspace(-3, 3, 9)
    f = lambda v: jax.nn.gelu(v, approximate=approximate)  # noqa: E731
    got = _second(f"out = gelu(x, approximate={approximate})", x, mode)
    np.testing.assert_allclose(got, jax.vmap(jax.grad(jax.grad(f)))(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["arctan2", "hypot", "logaddexp"])
def test_mixed_second_derivatives_match_jax(name, jax):
    at = {"x": np.array([0.7, 1.9]), "y": np.array([-1.3, 0.4])}
    first = gc.compile(gc.parse(f"out = {name}(x, y)")).grad_graph
    f = _jax_fn(name)
    hessian = jax.vmap(jax.hessian(f, argnums=(0, 1)))(at["x"], at["y"])
    for i, of in enumerate(first.outputs[1:]):
        _, grads = gc.compile(first, of=of)(**at)
        for j, k in enumerate("xy"):
            np.testing.assert_allclose(grads[k], hessian[i][j], rtol=1e-10, err_msg=(of, k))


def test_third_derivative_of_digamma_uses_polygamma(jax):
    """gammaln -> digamma -> polygamma(1, .) -> polygamma(2, .): each order a node."""
    x = np.array([0.3, 1.5, 4.0])
    g = gc.compile(gc.parse("out = gammaln(x)")).grad_graph
    for _ in range(2):
        g = gc.compile(g, of=g.outputs[1], wrt="x").grad_graph
    got = g.evaluate(x=x)[g.outputs[1]]
    f = jax.scipy.special.gammaln
    np.testing.assert_allclose(got, jax.vmap(jax.grad(jax.grad(jax.grad(f))))(x), rtol=1e-10)
    assert any(g.attrs(n)["op"] == "polygamma" for n in g.order())


# ---- kinks, ties and NaNs: JAX's derivative ----------------------------------------
KINKS = [  # text, inputs, the gradient JAX gives there
    ("out = hypot(x, y)", {"x": 0.0, "y": 0.0}, {"x": 0.5, "y": 0.5}),
    ("out = hypot(x, y)", {"x": -3.0, "y": 0.0}, {"x": -1.0, "y": 0.0}),
    ("out = fmax(x, y)", {"x": 1.0, "y": 1.0}, {"x": 0.0, "y": 1.0}),
    ("out = fmax(x, y)", {"x": math.nan, "y": 1.0}, {"x": 0.0, "y": 1.0}),
    ("out = fmax(x, y)", {"x": 1.0, "y": math.nan}, {"x": 1.0, "y": 0.0}),
    ("out = fmax(x, y)", {"x": 2.0, "y": 1.0}, {"x": 1.0, "y": 0.0}),
    ("out = fmin(x, y)", {"x": 1.0, "y": 1.0}, {"x": 0.0, "y": 1.0}),
    ("out = fmin(x, y)", {"x": math.nan, "y": 1.0}, {"x": 0.0, "y": 1.0}),
    ("out = fmin(x, y)", {"x": 1.0, "y": math.nan}, {"x": 1.0, "y": 0.0}),
    ("out = fmax(x, x)", {"x": 1.0}, {"x": 1.0}),
    ("out = sinc(x)", {"x": 0.0}, {"x": 0.0}),
    ("out = sign(x)", {"x": 0.0}, {"x": 0.0}),
    ("out = round(x)", {"x": 0.5}, {"x": 0.0}),
    ("out = floor(x)", {"x": 1.0}, {"x": 0.0}),
    ("out = ceil(x)", {"x": 1.0}, {"x": 0.0}),
    ("out = absolute(x)", {"x": 0.0}, {"x": 1.0}),
    ("out = soft_sign(x)", {"x": 0.0}, {"x": 1.0}),
    ("out = logaddexp(x, y)", {"x": 1.0, "y": 1.0}, {"x": 0.5, "y": 0.5}),
    ("out = logaddexp(x, y)", {"x": -math.inf, "y": 1.0}, {"x": 0.0, "y": 1.0}),
    ("out = logaddexp(x, y)", {"x": 1000.0, "y": 0.0}, {"x": 1.0, "y": 0.0}),
    ("out = arcsin(x)", {"x": 1.0}, {"x": math.inf}),
    ("out = arccosh(x)", {"x": 1.0}, {"x": math.inf}),
]


def _jax_grads(text: str, at: dict, jax) -> dict:
    name = text.split("= ")[1].split("(")[0]
    f = _jax_fn(name)
    if "(x, x)" in text:
        return {"x": float(jax.grad(lambda v: f(v, v))(at["x"]))}
    got = jax.grad(f, argnums=tuple(range(len(at))))(*at.values())
    return dict(zip(at, map(float, got)))


@pytest.mark.parametrize(("text", "at", "expected"), KINKS, ids=[f"{k[0][6:]}@{k[1]}"
                                                                 for k in KINKS])
def test_kinks_ties_and_nans_take_jax_s_derivative(text, at, expected, mode, jax):
    assert _jax_grads(text, at, jax) == pytest.approx(expected, rel=1e-15)  # JAX's
    for optimize in OPTIMIZE:
        with warnings.catch_warnings():  # inf, nan, exp(1000): NumPy's warnings
            warnings.simplefilter("ignore", RuntimeWarning)
            _, grads = gc.compile(gc.parse(text), mode=mode, optimize=optimize)(**at)
        assert {k: float(v) for k, v in grads.items()} == pytest.approx(expected, rel=1e-15)


def test_hypot_at_the_origin_computes_no_zero_over_zero(mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, grads = gc.compile(gc.parse("out = hypot(x, y)"), mode=mode)(
            x=np.array([0.0, 3.0]), y=np.array([0.0, 4.0]))
    np.testing.assert_array_equal(grads["x"], [0.5, 0.6])
    np.testing.assert_array_equal(grads["y"], [0.5, 0.8])


def test_sinc_at_zero_is_jax_s_to_the_fourth_order(jax):
    """sinc(0) = 1, and its derivatives there are the Taylor series' (JAX's), with no
    0/0 warning."""
    x = np.array([0.0, 0.3])
    g = gc.parse("out = sinc(x)")
    f = jax.numpy.sinc
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for order in range(1, 5):
            g = gc.compile(g).grad_graph if order == 1 else \
                gc.compile(g, of=g.outputs[1], wrt="x").grad_graph
            f = jax.grad(f)
            got = g.evaluate(x=x)[g.outputs[1]]
            np.testing.assert_allclose(got, jax.vmap(f)(x), rtol=1e-9, atol=1e-12,
                                       err_msg=str(order))


# ---- text, Python handles, sympy ---------------------------------------------------
PROGRAM = """
x: [4]
y: [4]
a = log1p(square(x)) + expm1(x) + log2(x + 3) + log10(x + 3) + exp2(x) + reciprocal(x + 3)
b = sinh(x) * cosh(y) + arcsin(x / 4) + arccos(y / 4) + arctan(x) + arctan2(x, y + 3)
c = arcsinh(x) + arccosh(x + 3) + arctanh(x / 4) + hypot(x, y) + logaddexp(x, y)
d = sign(x) + floor(x) + ceil(y) + round(x) + silu(x) + log_sigmoid(y) + soft_sign(x)
e = softsign(y) + gelu(x) + gelu(y, approximate=False) + erf(x) + erfc(y)
f = gammaln(x + 3) + lgamma(y + 3) + digamma(x + 3) + absolute(x) + fmax(x, y) + fmin(x, y)
out = sum(a + b + c + d + e + f + sinc(x) + deg2rad(x) + rad2deg(y) + radians(x) + degrees(y))
"""
AT = {"x": np.array([-0.7, 0.2, 0.9, 1.6]), "y": np.array([0.4, -1.2, 1.1, 2.1])}


def test_text_round_trip_and_aliases_print_their_op():
    g = gc.parse(PROGRAM)
    text = str(g)
    for alias, op in [("lgamma", "gammaln"), ("softsign", "soft_sign"), ("absolute", "abs"),
                      ("radians", "deg2rad"), ("degrees", "rad2deg")]:
        assert f"{alias}(" not in text and f"{op}(" in text
    again = gc.parse(text)
    assert str(again) == text
    np.testing.assert_array_equal(again.evaluate(**AT)["out"], g.evaluate(**AT)["out"])


def test_lambdas_of_the_new_ops_differentiate_and_draw(mode):
    """A lambda's formula (pictures) and its body (gradients) both read the new ops."""
    g = gc.parse("f = lambda u, v: floor(u) * u + round(v) * sinc(u) + hypot(u, v) * erf(v)"
                 " + fmax(u, v) * gammaln(u + 3)\nout = f(x, y)")
    at = {"x": np.array([0.3, 1.7]), "y": np.array([-0.4, 2.2])}
    assert gc.verify(g, at=at).ok
    assert all("Derivative" not in pretty(d) for d in g.local_derivatives().values())
    _, grads = gc.compile(g, mode=mode)(**at)
    fd = central_diff(lambda **v: g.evaluate(**v)["out"], at, "x")
    np.testing.assert_allclose(grads["x"], fd, rtol=1e-6)


def test_aliases_are_one_entry():
    for alias, op in [("absolute", "abs"), ("lgamma", "gammaln"), ("softsign", "soft_sign"),
                      ("radians", "deg2rad"), ("degrees", "rad2deg")]:
        assert OPS[alias] is OPS[op]
        x = gc.input("x")
        g = gc.graph(out=getattr(gc, alias)(x))
        assert g.attrs("out")["op"] == op


def test_program_of_every_op_verifies_and_matches_jax(jax):
    g = gc.parse(PROGRAM)
    assert gc.verify(g, at=AT).ok
    jnp, nn, special = jax.numpy, jax.nn, jax.scipy.special

    def f(x, y):
        a = (jnp.log1p(x * x) + jnp.expm1(x) + jnp.log2(x + 3) + jnp.log10(x + 3) + jnp.exp2(x)
             + 1 / (x + 3))
        b = (jnp.sinh(x) * jnp.cosh(y) + jnp.arcsin(x / 4) + jnp.arccos(y / 4) + jnp.arctan(x)
             + jnp.arctan2(x, y + 3))
        c = (jnp.arcsinh(x) + jnp.arccosh(x + 3) + jnp.arctanh(x / 4) + jnp.hypot(x, y)
             + jnp.logaddexp(x, y))
        d = (jnp.sign(x) + jnp.floor(x) + jnp.ceil(y) + jnp.round(x) + nn.silu(x)
             + nn.log_sigmoid(y) + nn.soft_sign(x))
        e = (nn.soft_sign(y) + nn.gelu(x) + nn.gelu(y, approximate=False) + special.erf(x)
             + special.erfc(y))
        f = (special.gammaln(x + 3) + special.gammaln(y + 3) + special.digamma(x + 3)
             + jnp.abs(x) + jnp.fmax(x, y) + jnp.fmin(x, y))
        return jnp.sum(a + b + c + d + e + f + jnp.sinc(x) + jnp.deg2rad(x) + jnp.rad2deg(y)
                       + jnp.radians(x) + jnp.degrees(y))

    want, want_grads = jax.value_and_grad(f, argnums=(0, 1))(*AT.values())
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(**AT)
        np.testing.assert_allclose(value, want, rtol=1e-12)
        for k, w in zip("xy", want_grads):
            np.testing.assert_allclose(grads[k], w, rtol=1e-11, err_msg=(mode, k))


def test_from_sympy_reads_sympy_s_heads():
    x, y = sp.symbols("x y", real=True)
    expr = (sp.asin(x / 4) + sp.acos(x / 4) + sp.atan(x) + sp.atan2(x, y) + sp.asinh(x)
            + sp.acosh(y + 3) + sp.atanh(x / 4) + sp.sinh(x) + sp.cosh(y) + sp.erf(x)
            + sp.erfc(y) + sp.loggamma(y + 3) + sp.polygamma(0, y + 3) + sp.polygamma(1, y + 3)
            + cf.log1p(y * y) + cf.expm1(x) + cf.log2(y + 3) + cf.log10(y + 3) + cf.exp2(x)
            + cf.hypot(x, y) + sp.floor(x) + sp.ceiling(y) + sp.sign(x))
    g = gc.from_sympy(expr, name="e")
    ops = {g.attrs(n)["op"] for n in g.order()}
    assert {"arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh", "sinh",
            "cosh", "erf", "erfc", "gammaln", "digamma", "polygamma", "log1p", "expm1", "log2",
            "log10", "exp2", "hypot", "floor", "ceil", "sign"} <= ops
    at = {"x": 0.7, "y": 1.3}
    value, grads = gc.compile(g)(**at)
    reference = sp.lambdify((x, y), expr, modules=["scipy", "numpy"])
    assert value == pytest.approx(reference(**at), rel=1e-12)
    for k in at:
        fd = central_diff(lambda **v: reference(**v), at, k)
        assert grads[k] == pytest.approx(float(fd), rel=1e-7), k


# ---- backends and the saved module ------------------------------------------------
BIG = 20_000  # past the blocks and loops' threshold


def _big_at(names: str) -> dict:
    rng = np.random.default_rng(7)
    return {k: rng.uniform(0.2, 2.5, BIG) for k in names}


BACKEND_TEXT = ("out = erf(x) * silu(y) + gammaln(x) + erfc(y) + log1p(x) * arctan2(x, y)"
                " + hypot(x, y) + logaddexp(x, y) + fmax(x, y) + sinc(x) + round(y)")


def _same(fn, plain, at: dict, atol: float = 0.0) -> None:
    value, grads = fn(**at)
    want, want_grads = plain(**at)
    np.testing.assert_allclose(value, want, rtol=1e-12, atol=atol)
    for k in want_grads:
        np.testing.assert_allclose(grads[k], want_grads[k], rtol=1e-12, atol=atol, err_msg=k)


def test_blocks_backend_gives_numpy_s_numbers(mode):
    g, at = gc.parse(BACKEND_TEXT), _big_at("xy")
    _same(gc.compile(g, mode=mode, backend="blocks"), gc.compile(g, mode=mode), at)
    for approximate in (True, False):
        g = gc.parse(f"out = gelu(x, approximate={approximate}) * digamma(x)")
        _same(gc.compile(g, backend="blocks"), gc.compile(g), {"x": at["x"]})


@pytest.mark.slow  # numba compiles each loop
@pytest.mark.skipif(not importlib.util.find_spec("numba"), reason="numba is not installed")
def test_numba_loops_spell_the_new_ops_and_fall_back_where_they_cannot():
    g, at = gc.parse(BACKEND_TEXT), _big_at("xy")
    fn = gc.compile(g, backend="numba")
    assert loops.loop_name("forward") in fn.source and "math.erf(" in fn.source
    assert "import math" in fn.source
    _same(fn, gc.compile(g), at)
    # digamma's derivative is polygamma, gelu's is erf's: each spelled for one float,
    # so the gradient is a loop too (backend/scalar_special.py)
    g = gc.parse("out = digamma(x) + gelu(x)")
    fn = gc.compile(g, backend="numba")
    assert loops.loop_name("value_and_grad") in fn.source and "_gelu1(" in fn.source
    _same(fn, gc.compile(g), {"x": at["x"]}, atol=1e-15)  # the sum crosses 0 near x = 1.2


def test_saved_module_imports_only_numpy_and_gives_fn_s_numbers(tmp_path):
    g = gc.parse(PROGRAM)
    fn = gc.compile(g)
    path = tmp_path / "grad.py"
    fn.save(str(path))
    source = path.read_text()
    imports = {line for line in source.splitlines() if line.startswith(("import", "from"))}
    assert imports == {"import numpy as np"}
    for helper in ("def _erf_cody(", "def _erf(", "def _erfc(", "def _gammaln(",
                   "def _digamma(", "def _gelu(", "def _sigmoid("):
        assert source.count(helper) == 1, helper
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    value, grads = namespace["value_and_grad"](**AT)
    want, want_grads = fn(**AT)
    assert value == want
    for k in want_grads:
        np.testing.assert_array_equal(grads[k], want_grads[k])
    # second order ships polygamma's source
    first = fn.grad_graph
    source = gc.compile(first, of=first.outputs[1], wrt="x").source
    assert "def _polygamma(" in source and "import scipy" not in source


# ---- _polygamma against scipy.special and mpmath -------------------------------------
def test_polygamma_helper_is_accurate():
    sc = pytest.importorskip("scipy.special")
    x = np.concatenate([np.logspace(-300, 300, 601), np.linspace(1e-3, 50, 4001)])
    for n in (1, 2, 3, 4):
        with np.errstate(over="ignore"):  # scipy's own n! zeta(n+1, x) overflows to inf
            ref = sc.polygamma(n, x)
        got = _polygamma(n, x)
        with np.errstate(invalid="ignore"):
            ulp = np.abs(got - ref) / np.spacing(np.abs(ref))
        assert np.max(np.where(got == ref, 0, ulp)) <= 16, n  # measured: 11
    # x < 0: scipy's direct sum is off by up to 1000 ulp there; mpmath is the reference
    mpmath.mp.dps = 30
    xs = -np.random.default_rng(0).uniform(0, 50, 200)
    for n in (1, 2, 3):
        ref = np.array([float(mpmath.polygamma(n, mpmath.mpf(v))) for v in xs])
        err = np.abs(_polygamma(n, xs) - ref) / np.spacing(np.maximum(np.abs(ref), 1.0))
        assert err.max() <= 10, n  # measured: 7
    edge = np.array([0.0, -1.0, -np.inf, np.inf, np.nan])
    with np.errstate(all="raise"):
        got = _polygamma(2, edge)
    np.testing.assert_array_equal(got, [-np.inf, -np.inf, -np.inf, 0.0, np.nan])
    assert _polygamma(1, np.float32(2.0)).dtype == np.float32


def test_polygamma_source_runs_with_only_numpy():
    namespace: dict = {"np": np}
    exec(inspect.getsource(_polygamma), namespace)
    x = np.linspace(-5.5, 7.5, 101)
    np.testing.assert_array_equal(namespace["_polygamma"](2, x), _polygamma(2, x))


# ---- pictures --------------------------------------------------------------------
def test_every_edge_has_a_readable_rule():
    g = gc.parse("x: [3]\nout = sum(gelu(x) + hypot(x, 2.0) + gammaln(x) + fmax(x, 1.0))")
    rules = {k: pretty(v) for k, v in g.local_derivatives().items()}
    text = " ".join(rules.values())
    assert "gelu'(x)" in text and "digamma(x)" in text
    assert all(r and "Derivative" not in r for r in rules.values())
    dot = gc.render(g, at={"x": np.array([0.5, 1.0, 2.0])}).source
    assert "gelu" in dot and "digamma" in dot


# ---- bad input -------------------------------------------------------------------
@pytest.mark.parametrize(("text", "cls", "match"), [
    ("out = arctan2(x)", gc.ParseError, "arctan2\\(\\) takes 2 arguments"),
    ("out = hypot(x, y, z)", gc.ParseError, "takes 2 arguments"),
    ("out = gelu(x, approximate=1)", gc.ParseError, "approximate must be True or False"),
    ("out = gelu(x, True)", gc.ParseError, "takes 1 argument"),
    ("out = lgamma(x, axis=0)", gc.ParseError, "takes no keyword axis"),
    ("out = polygamma(x, x)", gc.ShapeError, "n a constant integer >= 1"),
    ("out = polygamma(0.5, x)", gc.ShapeError, "n a constant integer >= 1"),
    ("out = sinc()", gc.ParseError, "takes 1 argument"),
])
def test_bad_calls_are_errors_with_a_line_and_column(text, cls, match):
    error = parse_error("x: scalar\n" + text, cls, match)
    assert error.line == 2 and error.col is not None


def test_bad_values_at_call_time_are_input_errors():
    fn = gc.compile(gc.parse("out = erf(x) + gammaln(x)"))
    with pytest.raises(gc.InputError):
        fn(x="a")
    with pytest.raises(gc.InputError):
        fn(x=np.array([1 + 2j]))
    with pytest.raises(gc.GraphcError):
        gc.gelu(gc.input("x"), alpha=1.0)
    with pytest.raises(gc.ShapeError, match="approximate must be True or False"):
        gc.graph(out=gc.gelu(gc.input("x"), approximate="yes"))
