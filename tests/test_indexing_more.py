"""Issue 19's leftovers on indexing and shapes: ravel; split, array_split and unstack
(several arrays: ``a, b = split(x, 2)``); round(x, decimals); x[i, :, j] (index arrays
apart: NumPy puts their axes first); argmax and arange as indices (``Op.integral``);
polygamma(n, x). Each against JAX (values and gradients, both modes, float64 and
float32, optimized or not), the dot-product test, second order, the text round trip,
the builder, the backends, the saved module and bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import sympy as sp
from checks import check_hessian_vector_product, check_text_round_trip_and_verify
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc
from graphc.ops import FUNCTIONS

I3 = np.array([0, 3, 3])
J21 = np.array([[1], [4]])

# name: (declarations, the op applied to "{0}", x's shape, the op in JAX on a, int inputs)
CASES = {
    "ravel": ("x: [2, 3, 4]", "ravel({0})", (2, 3, 4), lambda jnp, a: jnp.ravel(a), {}),
    "ravel named": ("x: [N, 3]", "ravel({0}) * ravel({0})[::-1]", (4, 3),
                    lambda jnp, a: jnp.ravel(a) * jnp.ravel(a)[::-1], {}),
    "split": ("x: [6, 2]", "split({0}, 3)[0] * split({0}, 3)[2] + split({0}, 3)[1]", (6, 2),
              lambda jnp, a: jnp.split(a, 3)[0] * jnp.split(a, 3)[2] + jnp.split(a, 3)[1], {}),
    "split indices axis": ("x: [2, 5]", "split({0}, (1, 3), axis=1)[2] * split({0}, (1, 3), 1)[1]",
                           (2, 5), lambda jnp, a: jnp.split(a, (1, 3), axis=1)[2]
                           * jnp.split(a, (1, 3), axis=1)[1], {}),
    "split named": ("x: [2 * N, 3]", "split({0}, 2)[0] - 2 * split({0}, 2)[-1]", (4, 3),
                    lambda jnp, a: jnp.split(a, 2)[0] - 2 * jnp.split(a, 2)[-1], {}),
    "array_split": ("x: [3, 7]", "array_split({0}, 3, -1)[1] * array_split({0}, 3, -1)[2] + "
                    "array_split({0}, 3, -1)[0][:, 1:]", (3, 7), lambda jnp, a:
                    jnp.array_split(a, 3, -1)[1] * jnp.array_split(a, 3, -1)[2]
                    + jnp.array_split(a, 3, -1)[0][:, 1:], {}),
    "array_split empty": ("x: [5]", "concatenate([array_split({0}, (2, 2))[1], array_split("
                          "{0}, (2, 2))[0]]) * array_split({0}, (2, 2))[2][1:]", (5,),
                          lambda jnp, a: jnp.concatenate([jnp.array_split(a, (2, 2))[1],
                                                          jnp.array_split(a, (2, 2))[0]])
                          * jnp.array_split(a, (2, 2))[2][1:], {}),
    "unstack": ("x: [3, 4]", "unstack({0})[0] * unstack({0})[2]", (3, 4),
                lambda jnp, a: jnp.unstack(a)[0] * jnp.unstack(a)[2], {}),
    "unstack axis": ("x: [2, 3, 4]", "unstack({0}, axis=-2)[1] + unstack({0}, axis=-2)[2]",
                     (2, 3, 4), lambda jnp, a: jnp.unstack(a, axis=-2)[1]
                     + jnp.unstack(a, axis=-2)[2], {}),
    "round decimals": ("x: [5]", "{0} * round(3 * {0}, 1) + around({0}, -1)", (5,),
                       lambda jnp, a: a * jnp.round(3 * a, 1) + jnp.round(a, -1), {}),
    "polygamma": ("x: [4]", "polygamma(1, {0} + 2) + polygamma(3, {0} * {0} + 1)", (4,),
                  lambda jnp, a: _jax_polygamma(1, a + 2) + _jax_polygamma(3, a * a + 1), {}),
    "index apart": ("x: [4, 3, 5]\ni: int[3]\nj: int[2, 1]", "{0}[i, :, j]", (4, 3, 5),
                    lambda jnp, a: a[I3, :, J21], {"i": I3, "j": J21}),
    "index apart int": ("x: [4, 3, 5]\nj: int[2, 1]", "{0}[2, 1:, j]", (4, 3, 5),
                        lambda jnp, a: a[2, 1:, J21], {"j": J21}),
    "index apart new axis": ("x: [4, 5]\ni: int[3]\nj: int[2, 1]", "{0}[i, None, j]", (4, 5),
                             lambda jnp, a: a[I3, None, J21], {"i": I3, "j": J21}),
    "index apart behind": ("x: [2, 4, 3, 5]\ni: int[3]\nj: int[2, 1]", "{0}[:, i, :, j]",
                           (2, 4, 3, 5), lambda jnp, a: a[:, I3, :, J21], {"i": I3, "j": J21}),
    "index broadcast": ("x: [4, 5]\ni: int[3]\nj: int[2, 1]", "{0}[i, j]", (4, 5),
                        lambda jnp, a: a[I3, J21], {"i": I3, "j": J21}),
    "index argmax": ("x: [N, 3]", "{0}[arange(N), argmax({0}, axis=1)]", (4, 3),
                     lambda jnp, a: a[jnp.arange(4), jnp.argmax(a, axis=1)], {}),
    "index take argmax": ("x: [N, 3]", "take_along_axis({0}, expand_dims(argmin({0}, axis=1), "
                          "1), axis=1)", (4, 3), lambda jnp, a: jnp.take_along_axis(
                              a, jnp.expand_dims(jnp.argmin(a, 1), 1), 1), {}),
}
STRUCTURAL = [k for k in CASES if not k.startswith(("round", "polygamma"))]


def _jax_polygamma(n, a):
    import jax.scipy.special as jss

    return jss.polygamma(n, a)


def program(name: str, dtype: type = np.float64) -> tuple[gc.Graph, dict[str, np.ndarray]]:
    """The op between two nonlinearities, weighted by w: L = sum(tanh(op(sin(x))) * w)."""
    decl, op, shape, _, ints = CASES[name]
    head = gc.parse(f"{decl}\nf = {op.format('x')}")
    rng = np.random.default_rng(len(name))
    values = {"x": rng.normal(size=shape).astype(dtype), **ints}
    out = np.shape(head.evaluate(**values)["f"])
    w = "[" + ", ".join(map(str, head.shape("f"))) + "]" if out else "scalar"
    g = gc.parse(f"{decl}\nw: {w}\ny = {op.format('sin(x)')}\nL = sum(tanh(y) * w)")
    values["w"] = rng.normal(size=out).astype(dtype)
    return g, values


def jax_loss(name: str, jnp):
    fn = CASES[name][3]
    return lambda x, w: jnp.sum(jnp.tanh(fn(jnp, jnp.sin(x))) * w)


def floats(values: dict) -> list[str]:
    return [k for k, v in values.items() if np.asarray(v).dtype.kind == "f"]


FIRST = first_of_each(CASES)


@cross(lambda name, optimize, mode: optimize and name in FIRST,  # fast: each op, both modes
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_match_jax(name, jax, mode, optimize):
    import jax.numpy as jnp

    g, values = program(name)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    ref_value, ref = jax.value_and_grad(jax_loss(name, jnp), argnums=(0, 1))(
        values["x"], values["w"])
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    assert sorted(grads) == ["w", "x"]  # integer inputs are never differentiated
    for k, r in zip(("x", "w"), ref):
        assert np.shape(grads[k]) == np.shape(values[k])
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12)


@cross(lambda name, mode: name in ("split", "index apart", "polygamma"),
       name=sorted(CASES), mode=MODES)
def test_float32_stays_float32(name, mode, jax):
    import jax.numpy as jnp

    g, values = program(name, np.float32)
    value, grads = gc.compile(g, mode=mode)(**values)
    assert np.asarray(value).dtype == np.float32
    ref_value, ref = jax.value_and_grad(jax_loss(name, jnp), argnums=(0, 1))(
        values["x"], values["w"])
    assert float(value) == pytest.approx(float(ref_value), rel=1e-4, abs=1e-4)
    for k, r in zip(("x", "w"), ref):
        assert np.asarray(grads[k]).dtype == np.float32, k
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-3, atol=1e-4)


@cross(lambda name: name in FIRST, name=STRUCTURAL)
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u> for the op alone: forward mode gives J v, reverse J^T u,
    and finite differences agree with both."""
    decl, op, shape, _, ints = CASES[name]
    head = gc.parse(f"{decl}\nf = {op.format('x')}")
    rng = np.random.default_rng(3)
    values = {"x": rng.normal(size=shape), **ints}
    out = head.evaluate(**values)["f"]
    u = "[" + ", ".join(map(str, head.shape("f"))) + "]" if np.ndim(out) else "scalar"
    g = gc.parse(f"{decl}\nu: {u}\nf = {op.format('x')}\nL = sum(f * u)")
    values["u"] = rng.normal(size=np.shape(out))
    _, rev = gc.compile(g, wrt=["x"])(**values)
    _, fwd = gc.compile(g, wrt=["x"], mode="forward")(**values)
    v = rng.normal(size=shape)
    assert np.vdot(fwd["x"], v) == pytest.approx(np.vdot(rev["x"], v), rel=1e-12, abs=1e-12)
    fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, "x")
    np.testing.assert_allclose(rev["x"], fd, rtol=1e-6, atol=1e-8)


@cross(lambda name: name in ("split", "polygamma"),
       name=sorted(CASES))
def test_second_order_matches_jax(name, jax):
    """The gradient graph, printed and parsed again, differentiated in both modes: JAX's
    Hessian-vector product."""
    import jax.numpy as jnp

    g, values = program(name)
    v = np.random.default_rng(5).normal(size=np.shape(values["x"]))
    decl = CASES[name][0].splitlines()[0].replace("x:", "v:")
    grad_graph = gc.compile(g, wrt=["x"]).grad_graph
    g2 = gc.parse(f"{decl}\n{grad_graph}\nh = sum(x_bar * v)")
    check_hessian_vector_product(jax, g2, jax_loss(name, jnp), values, v, ("x", "w"),
                                 rtol=1e-9, atol=1e-11)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_text_round_trip_and_verify(name):
    check_text_round_trip_and_verify(*program(name))


def test_split_assigns_several_names_and_prints_them_back():
    text = ("x: [N, 4]\na, b = split(x, 2, axis=1)\nc, d, e = unstack(x[:3])\n"
            "p, q = array_split(x, (1,))\ny = sum(a * b) + sum(c * e) + sum(d) + sum(p) "
            "+ sum(q)")
    g = gc.parse(text)
    printed = str(g)
    assert "a, b = split(x, 2, 1)" in printed and "c, d, e = unstack(" in printed
    assert "p, q = array_split(x, (1,))" in printed
    assert str(gc.parse(printed)) == printed
    assert g.shape("a") == ("N", 2) and g.shape("c") == (4,) and g.shape("q") == ("N-1", 4)
    x = np.random.default_rng(0).normal(size=(5, 4))
    got = g.evaluate(x=x)
    np.testing.assert_array_equal(got["b"], np.split(x, 2, axis=1)[1])
    np.testing.assert_array_equal(got["e"], x[2])
    _, grads = gc.compile(g)(x=x)
    want = np.zeros_like(x)
    want[:, :2], want[:, 2:] = x[:, 2:], x[:, :2]
    want[0] += x[2]
    want[2] += x[0]
    want[1] += 1
    np.testing.assert_allclose(grads["x"], want + 1, rtol=1e-12)


def test_a_piece_alone_is_written_with_its_index():
    g = gc.parse("x: [6]\nb = split(x, 3)[-1]\ny = sum(b * b)")
    assert "b = split(x, 3)[2]" in str(g)
    fn = gc.compile(g)
    assert "np.split(x, 3)[2]" in fn.source
    x = np.arange(6.0)
    value, grads = fn(x=x)
    assert value == 4 ** 2 + 5 ** 2
    np.testing.assert_array_equal(grads["x"], [0, 0, 0, 0, 8, 10])


def test_the_builder_spells_what_the_text_spells():
    x = gc.input("x", shape=(6, "N"))
    a, b, c = gc.split(x, 3)
    first, last = gc.unstack(x, axis=0)[0], gc.unstack(x)[-1]
    p, q = gc.array_split(gc.ravel(x), (4,))
    built = gc.graph(L=gc.sum(a * c + b) + gc.sum(first * last) + gc.sum(p) * gc.sum(q)
                     + gc.sum(gc.round(x, 2) + gc.around(x) + gc.polygamma(1, x * x + 1)))
    text = ("x: [6, N]\na, b, c = split(x, 3)\nL = sum(a * c + b) + sum(unstack(x)[0] * "
            "unstack(x)[5]) + sum(array_split(ravel(x), (4,))[0]) * sum(array_split(ravel(x), "
            "(4,))[1]) + sum(round(x, 2) + round(x) + polygamma(1, x * x + 1))")
    parsed = gc.parse(text)
    value = np.random.default_rng(0).normal(size=(6, 3))
    assert built.evaluate(x=value)["L"] == pytest.approx(parsed.evaluate(x=value)["L"])
    assert len(gc.unstack(x)) == 6 and len(gc.split(x, (1, 2, 4), 0)) == 4
    with pytest.raises(gc.GraphcError, match="every array"):
        gc.split(x, 3, piece=1)
    with pytest.raises(gc.ShapeError, match="not equal"):
        gc.split(x, 4)
    with pytest.raises(gc.ShapeError, match="must be known"):
        gc.unstack(x, axis=1)


def test_emitted_code_is_numpys_and_the_saved_module_agrees(tmp_path):
    g, values = program("split indices axis")
    h, more = program("index apart")
    for graph, vals, words in ((g, values, ["np.split(", "axis=1)[2]"]),
                               (h, more, ["[i, :, j]", "np.add.at"])):
        for mode in MODES:
            fn = gc.compile(graph, mode=mode)
            for word in words[:1 if mode == "forward" else 2]:
                assert word in fn.source
            path = tmp_path / f"m_{mode}_{len(vals)}.py"
            fn.save(path)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            value, grads = module.value_and_grad(**vals)
            want_value, want = fn(**vals)
            assert value == want_value
            for k in floats(vals):
                np.testing.assert_array_equal(grads[k], want[k])


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_other_backends(backend, mode):
    for name in ("ravel named", "split", "unstack axis", "round decimals", "polygamma",
                 "index apart", "index argmax"):
        graph, vals = program(name)
        value, grads = gc.compile(graph, mode=mode, backend=backend)(**vals)
        want_value, want = gc.compile(graph, mode=mode)(**vals)
        assert value == pytest.approx(want_value, rel=1e-12)
        for k in floats(vals):
            np.testing.assert_allclose(grads[k], want[k], rtol=1e-10, atol=1e-12)


def test_pictures_show_each_edge_rule():
    g, values = program("split")
    dot = gc.render(g, at=values).source
    assert "in its place in" in dot


# ---- ravel of an undeclared value ---------------------------------------------------------
def test_ravel_of_an_undeclared_input_takes_its_shape_at_call_time(jax):
    import jax.numpy as jnp

    g = gc.parse("w: [6]\ny = sum(ravel(x * x) * w)")
    x, w = np.arange(6.0).reshape(2, 3), np.linspace(-1, 1, 6)
    ref = jax.grad(lambda x, w: jnp.sum(jnp.ravel(x * x) * w), argnums=(0, 1))(x, w)
    for mode in ("reverse",):  # (forward mode needs x declared, as for any sum)
        value, grads = gc.compile(g, mode=mode)(x=x, w=w)
        assert value == pytest.approx(float(np.sum(np.ravel(x * x) * w)))
        np.testing.assert_allclose(grads["x"], ref[0], rtol=1e-12)
        np.testing.assert_allclose(grads["w"], ref[1], rtol=1e-12)
    assert gc.parse("x: [N, 3]\ny = ravel(x)").shape("y") == ("3*N",)


# ---- integers: what an op declares (Op.integral) --------------------------------------------
def test_int_valued_ops_are_indices_and_comparisons_are_not():
    g = gc.parse("x: [N, 3]\nk = argmax(x, axis=1)\nr = arange(N)\nc = x > 0\n"
                 "m = reshape(expand_dims(k, 1), (N, 1))\ns = m[1:]\nf = arange(0.5, 2.0)\n"
                 "y = sum(x[r, k])")
    assert all(g.integer(n) for n in ("k", "r", "m", "s"))
    assert not any(g.integer(n) for n in ("x", "c", "f", "y"))
    with pytest.raises(gc.ShapeError, match="c is not an integer array"):
        gc.parse("x: [3]\nc = x > 0\ny = sum(x[c])")
    with pytest.raises(gc.ShapeError, match="holds integers"):  # int inputs: indices only
        gc.parse("x: [3]\nj: int[3]\ny = sum(x * reshape(j, 3))")
    # argmax's integers, NumPy's, may still scale a value (tests/test_reductions.py)
    assert gc.parse("x: [3]\ny = sum(x * argmax(x))").shape("y") == ()


def test_argmax_rows_against_jax_with_ties(jax):
    """Cross-entropy-like picking of each row's largest entry; a tie picks the first, as
    NumPy's and JAX's argmax."""
    import jax.numpy as jnp

    g = gc.parse("x: [N, 3]\nk = argmax(x, axis=1)\ny = sum(x[arange(N), k] ** 2)")
    x = np.array([[1.0, 3.0, 3.0], [-2.0, -1.0, -5.0], [0.5, 0.5, 0.5]])
    ref = jax.grad(lambda a: jnp.sum(a[jnp.arange(3), jnp.argmax(a, axis=1)] ** 2))(x)
    for mode in MODES:
        _, grads = gc.compile(g, mode=mode)(x=x)
        np.testing.assert_array_equal(grads["x"], np.asarray(ref))


def test_a_scalar_argmax_and_a_flipped_arange_index(jax):
    import jax.numpy as jnp

    g = gc.parse("x: [5]\ny = x[argmax(x)] * sum(x[flip(arange(3))] * x[1:4])")
    x = np.array([0.3, 2.0, -1.0, 2.0, 0.5])
    ref = jax.value_and_grad(lambda a: a[jnp.argmax(a)] * jnp.sum(
        a[jnp.flip(jnp.arange(3))] * a[1:4]))(x)
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(x=x)
        assert value == pytest.approx(float(ref[0]), rel=1e-14)
        np.testing.assert_allclose(grads["x"], np.asarray(ref[1]), rtol=1e-14)


# ---- round(x, decimals) and polygamma against NumPy, JAX and scipy --------------------------
@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals_is_numpys_and_its_derivative_is_zero(decimals, jax):
    import jax.numpy as jnp

    g = gc.parse(f"x: [7]\ny = sum(round(x, {decimals}) * x)")
    x = np.array([0.125, -2.675, 15.0, 149.5, 1e-3, -0.5, 2.5])
    for dtype in (np.float64, np.float32):
        value, grads = gc.compile(g)(x=x.astype(dtype))
        assert value == np.sum(np.round(x.astype(dtype), decimals) * x.astype(dtype))
        np.testing.assert_array_equal(grads["x"], np.round(x.astype(dtype), decimals))
        assert grads["x"].dtype == dtype
    ref = jax.grad(lambda a: jnp.sum(jnp.round(a, decimals) * a))(x)
    np.testing.assert_allclose(gc.compile(g, mode="forward")(x=x)[1]["x"], ref, rtol=1e-15)


def test_round_decimals_as_sympy_is_numpys_formula():
    from graphc.ir.derive import to_sympy

    g = gc.parse("y = round(x, 2) + round(x, -1) + around(x)")
    assert "around" not in str(g) and "round(x, 2)" in str(g)
    expr = to_sympy(g)  # x * 10**d rounded, then divided: what np.round computes
    assert {str(t) for t in expr.args} == {"10*round(x/10)", "round(x)", "round(100*x)/100"}


@pytest.mark.parametrize("n", [1, 2, 4])
def test_polygamma_against_scipy_and_jax(n, jax):
    """polygamma(n, x) and its derivative polygamma(n + 1, x), in both modes and dtypes."""
    import jax.scipy.special as jss
    import scipy.special as sc

    g = gc.parse(f"x: [6]\ny = sum(polygamma({n}, x))")
    x = np.array([0.3, 1.0, 2.5, 7.0, 12.5, -1.5])
    for mode in MODES:
        for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
            value, grads = gc.compile(g, mode=mode)(x=x.astype(dtype))
            assert grads["x"].dtype == dtype
            np.testing.assert_allclose(value, np.sum(sc.polygamma(n, x)), rtol=rtol)
            np.testing.assert_allclose(grads["x"], sc.polygamma(n + 1, x), rtol=rtol)
    ref = jax.grad(lambda a: jss.polygamma(n, a).sum())(x)  # x < 0 too (not at poles)
    np.testing.assert_allclose(gc.compile(g)(x=x)[1]["x"], ref, rtol=1e-10)


def test_polygamma_is_public_in_text_builder_and_sympy():
    import scipy.special as sc

    assert "polygamma" in gc.__all__ and "polygamma" in FUNCTIONS
    g = gc.from_sympy(sp.polygamma(2, sp.Symbol("x")) + sp.polygamma(0, sp.Symbol("x")))
    assert {"polygamma", "digamma"} <= {g.attrs(n)["op"] for n in g.nx}
    x = np.array([1.5, 3.0])
    np.testing.assert_allclose(g.evaluate(x=x)[g.outputs[0]],
                               sc.polygamma(2, x) + sc.digamma(x), rtol=1e-12)
    t = gc.parse("x: [2]\ny = sum(polygamma(2, x))")
    assert str(gc.parse(str(t))) == str(t)
    assert gc.verify(t, at={"x": x}).ok


# ---- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, error, line, col, words", [
    ("x: [3, 4]\na, b = split(x, 2)", gc.ShapeError, 2, 8, ["axis of 3 into 2", "array_split"]),
    ("x: [3, 4]\na, b = unstack(x)", gc.ParseError, 2, 8, ["gives 3 arrays, 2 names"]),
    ("x: [6]\na, b, c, d = split(x, (2, 3))", gc.ParseError, 2, 14, ["gives 3 arrays, 4"]),
    ("x: [6]\na = split(x, 3)", gc.ParseError, 2, 5, ["gives several arrays", "a, b ="]),
    ("x: [6]\na = split(x, 3)[3]", gc.ShapeError, 2, 5, ["gives 3 arrays", "no [3]"]),
    ("x: [6]\na = split(x, 3)[-4]", gc.ShapeError, 2, 5, ["no [-4]"]),
    ("x: [6]\na = split(x, 3)[i]", gc.ParseError, 2, 17, ["integer literal"]),
    ("x: [6]\na = split(x, 3, piece=1)", gc.ParseError, 2, 17, ["take one"]),
    ("x: [6]\na = split(x, 0)[0]", gc.ShapeError, 2, 5, ["number of sections (> 0)"]),
    ("x: [6]\na = split(x, 2, axis=1)[0]", gc.ShapeError, 2, 5, ["axis 1 is out of range"]),
    ("x: [N]\na = array_split(x, 2)[0]", gc.ShapeError, 2, 5, ["sizes must be known"]),
    ("x: [N, 2]\na = unstack(x)[0]", gc.ShapeError, 2, 5, ["must be known"]),
    ("a, b = split(x, 2)", gc.ShapeError, 1, 8, ["declare"]),
    ("x: [6]\na, a = split(x, 2)", gc.ParseError, 2, 1, ["assigned twice"]),
    ("x: [6]\na, b = x, x", gc.ParseError, 2, 1, ["one plain name", "split"]),
    ("x: [6]\na, b[0] = split(x, 2)", gc.ParseError, 2, 4, ["plain names"]),
    ("x: [6]\ny = round(x, 1.5)", gc.ParseError, 2, 5, ["decimals must be an integer"]),
    ("x: [6]\ny = polygamma(0, x)", gc.ShapeError, 2, 5, ["digamma(x)"]),
    ("x: [6]\nn: scalar\ny = polygamma(n, x)", gc.ShapeError, 3, 5, ["constant integer"]),
    ("x: [4, 3]\nc = x > 0\ny = x[c, :, 0]", gc.ShapeError, 3, 5, ["not an integer array"]),
])
def test_bad_input_is_an_error_with_line_and_column(text, error, line, col, words):
    with pytest.raises(error) as info:
        gc.parse(text)
    assert type(info.value) is error
    assert (info.value.line, info.value.col) == (line, col)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_sizes_known_at_call_time_that_do_not_fit_are_input_errors():
    g = gc.parse("x: [N, 2]\na, b = split(x, 2)\ny = sum(a * b)")
    assert g.shape("a") == ("N/2", 2)
    for mode in MODES:
        with pytest.raises(gc.InputError, match="equal division"):
            gc.compile(g, mode=mode)(x=np.ones((3, 2)))
    h = gc.parse("x: [4, 3, 5]\ni: int[2]\nj: int[2]\ny = sum(x[i, :, j])")
    with pytest.raises(gc.InputError):
        gc.compile(h)(x=np.ones((4, 3, 5)), i=np.array([0, 4]), j=np.array([0, 1]))
    with pytest.raises(gc.InputError):
        gc.compile(h)(x=np.ones((4, 3, 5)), i=np.array([0.0, 1.0]), j=np.array([0, 1]))
