"""Reductions (graphc/ops/reductions.py): max, min, argmax, argmin, prod, var, std, cumsum,
cumprod, norm, and logsumexp over a tuple of axes, against JAX: values and gradients in
both modes, optimized and not, float64 and float32; JAX's answers at ties, zeros and
the norm at 0; the dot-product test; second order; text, builder, backends; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_backend_matches_numpy, check_error_at
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc


def _values(kind: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """"ties": small integers (max, min and abs tie often); "zeros": a third of them 0
    (prod and cumprod); "normal": distinct."""
    rng = np.random.default_rng(seed)
    if kind == "ties":
        return rng.integers(-2, 3, size=shape).astype(float)
    x = rng.normal(size=shape)
    if kind == "zeros":
        x[rng.random(shape) < 0.35] = 0.0
    return x


def _lse(jax, x, **kw):
    return jax.scipy.special.logsumexp(x, **kw)


INF = float("inf")
# id: (the op on x in .gc text, JAX's, x's shape, kind of values)
CASES = {
    "max axis 1 keepdims": ("max(x, axis=1, keepdims=True)",
                            lambda jnp, jax, x: jnp.max(x, axis=1, keepdims=True), (3, 4, 2),
                            "ties"),
    "max all": ("max(x)", lambda jnp, jax, x: jnp.max(x), (3, 4), "ties"),
    "max two axes": ("max(x, axis=(0, -1))", lambda jnp, jax, x: jnp.max(x, axis=(0, -1)),
                     (3, 4, 2), "ties"),
    "min axis -1": ("min(x, axis=-1)", lambda jnp, jax, x: jnp.min(x, axis=-1), (3, 4), "ties"),
    "min size-1 axis": ("min(x, axis=1)", lambda jnp, jax, x: jnp.min(x, axis=1), (3, 1, 4),
                        "normal"),
    "prod axis 1": ("prod(x, axis=1)", lambda jnp, jax, x: jnp.prod(x, axis=1), (5, 3), "zeros"),
    "prod all": ("prod(x)", lambda jnp, jax, x: jnp.prod(x), (2, 3), "normal"),
    "prod two axes keepdims": ("prod(x, axis=(0, 2), keepdims=True)",
                               lambda jnp, jax, x: jnp.prod(x, axis=(0, 2), keepdims=True),
                               (2, 3, 2), "zeros"),
    "var": ("var(x)", lambda jnp, jax, x: jnp.var(x), (3, 4), "normal"),
    "var ddof": ("var(x, axis=1, ddof=1)", lambda jnp, jax, x: jnp.var(x, axis=1, ddof=1),
                 (3, 4), "normal"),
    "std keepdims": ("std(x, axis=0, keepdims=True)",
                     lambda jnp, jax, x: jnp.std(x, axis=0, keepdims=True), (3, 4), "normal"),
    "std two axes ddof": ("std(x, axis=(0, 2), ddof=1)",
                          lambda jnp, jax, x: jnp.std(x, axis=(0, 2), ddof=1), (2, 3, 2),
                          "normal"),
    "cumsum axis 1": ("cumsum(x, axis=1)", lambda jnp, jax, x: jnp.cumsum(x, axis=1), (3, 4),
                      "normal"),
    "cumsum vector": ("cumsum(x)", lambda jnp, jax, x: jnp.cumsum(x), (5,), "normal"),
    "cumprod axis -1": ("cumprod(x, axis=-1)", lambda jnp, jax, x: jnp.cumprod(x, axis=-1),
                        (3, 4), "zeros"),
    "cumprod axis 0": ("cumprod(x, axis=0)", lambda jnp, jax, x: jnp.cumprod(x, axis=0),
                       (3, 2, 2), "normal"),
    "logsumexp two axes": ("logsumexp(x, axis=(0, 1))",
                           lambda jnp, jax, x: _lse(jax, x, axis=(0, 1)), (3, 4), "normal"),
    "logsumexp two axes keepdims": ("logsumexp(x, axis=(0, 2), keepdims=True)",
                                    lambda jnp, jax, x: _lse(jax, x, axis=(0, 2), keepdims=True),
                                    (2, 3, 2), "normal"),
    "norm": ("norm(x)", lambda jnp, jax, x: jnp.linalg.norm(x), (3, 4), "normal"),
    "norm 2 keepdims": ("norm(x, ord=2, axis=1, keepdims=True)",
                        lambda jnp, jax, x: jnp.linalg.norm(x, ord=2, axis=1, keepdims=True),
                        (3, 4), "normal"),
    "norm 1": ("norm(x, ord=1, axis=-1)", lambda jnp, jax, x: jnp.linalg.norm(x, ord=1, axis=-1),
               (3, 4), "zeros"),
    "norm inf": ("norm(x, ord=inf, axis=0)",
                 lambda jnp, jax, x: jnp.linalg.norm(x, ord=jnp.inf, axis=0), (3, 4), "ties"),
    "norm -inf": ("norm(x, ord=-inf, axis=1)",
                  lambda jnp, jax, x: jnp.linalg.norm(x, ord=-jnp.inf, axis=1), (3, 4), "ties"),
    "norm fro": ("norm(x, ord='fro')", lambda jnp, jax, x: jnp.linalg.norm(x, ord="fro"),
                 (3, 4), "normal"),
    "norm fro two axes": ("norm(x, ord='fro', axis=(0, 2))",
                          lambda jnp, jax, x: jnp.linalg.norm(x, ord="fro", axis=(0, 2)),
                          (2, 3, 2), "normal"),
    "norm vector 1": ("norm(x, ord=1)", lambda jnp, jax, x: jnp.linalg.norm(x, ord=1), (5,),
                      "normal"),
}


def _case(name: str, dtype=np.float64, seed: int = 0):
    """L = sum(op(x * b) * u), b [last axis] of signs broadcast over x: the graph, its
    values, and JAX's L of (x, b, u)."""
    text, jax_op, shape, kind = CASES[name]
    out = np.shape(gc.parse(f"x: {list(shape)}\nf = {text}").evaluate(
        x=np.ones(shape))["f"])
    rng = np.random.default_rng(seed + 1)
    values = {"x": _values(kind, shape, seed), "b": rng.choice([1.0, -1.0], size=shape[-1:]),
              "u": rng.normal(size=out)}
    decl = f"x: {list(shape)}\nb: {list(shape[-1:])}\nu: {list(out) if out else 'scalar'}\n"
    g = gc.parse(decl + f"f = {text.replace('(x', '(x * b', 1)}\nL = sum(f * u)")
    values = {k: np.asarray(v, dtype) for k, v in values.items()}

    def loss(jnp, jax):
        return lambda x, b, u: jnp.sum(jax_op(jnp, jax, x * b) * u)
    return g, values, loss


FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda name, optimize, mode:  # fast: each op in both modes
       optimize and name in FIRST or name == "prod all",
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_are_jaxs(name, jax, mode, optimize):
    import jax.numpy as jnp

    g, values, loss = _case(name)
    value, grads = gc.compile(g, of="L", mode=mode, optimize=optimize)(**values)
    want, ref = jax.value_and_grad(loss(jnp, jax), argnums=(0, 1, 2))(*values.values())
    np.testing.assert_allclose(value, float(want), rtol=1e-12)
    for k, r in zip(values, ref):
        assert np.shape(grads[k]) == np.shape(values[k])
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12, err_msg=k)


@cross(lambda name: name in ("cumsum vector", "norm"), name=sorted(CASES))
def test_float32_stays_float32(name, jax):
    import jax.numpy as jnp

    g, values, loss = _case(name, np.float32)
    ref = jax.grad(loss(jnp, jax), argnums=(0, 1))(*(v.astype(float) for v in values.values()))
    for mode in MODES:
        value, grads = gc.compile(g, of="L", mode=mode)(**values)
        assert np.asarray(value).dtype == np.float32
        for k, r in zip(("x", "b"), ref):
            assert grads[k].dtype == np.float32, (mode, k)
            np.testing.assert_allclose(grads[k], np.asarray(r), rtol=2e-4, atol=2e-5)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u>: forward mode's J v, reverse mode's J^T u (u the cotangent
    the graph multiplies by), and finite differences where the op is smooth there."""
    g, values, _ = _case(name, seed=3)
    _, rev = gc.compile(g, of="L", wrt=["x", "b"])(**values)
    _, fwd = gc.compile(g, of="L", wrt=["x", "b"], mode="forward")(**values)
    rng = np.random.default_rng(4)
    for k in ("x", "b"):
        v = rng.normal(size=np.shape(values[k]))
        assert np.vdot(fwd[k], v) == pytest.approx(np.vdot(rev[k], v), rel=1e-10, abs=1e-12)
    if CASES[name][3] == "normal":
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, "x")
        np.testing.assert_allclose(rev["x"], fd, rtol=1e-5, atol=1e-7)


SECOND = ["max axis 1 keepdims", "min axis -1", "prod axis 1", "prod two axes keepdims",
          "prod all", "var ddof", "std two axes ddof", "norm", "norm 1", "norm inf",
          "norm fro two axes", "cumsum axis 1", "logsumexp two axes"]


@cross(lambda name: name in ("prod axis 1", "norm", "logsumexp two axes"), name=SECOND)
def test_second_order_is_jaxs(name, jax):
    """The reverse-mode gradient graph, printed, read back and differentiated again in
    both modes, gives JAX's Hessian-vector product (prod's at zeros too)."""
    import jax.numpy as jnp

    g, values, loss = _case(name, seed=5)
    shape = np.shape(values["x"])
    grad_graph = gc.compile(g, of="L", wrt=["x"]).grad_graph
    g2 = gc.parse(f"v: {list(shape)}\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    v = np.random.default_rng(6).normal(size=shape)
    f = loss(jnp, jax)
    want = jax.grad(lambda x, b, u: jnp.vdot(jax.grad(f)(x, b, u), v), argnums=(0, 1))(
        *values.values())
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["x", "b"], mode=mode)(**values, v=v)
        for k, r in zip(("x", "b"), want):
            np.testing.assert_allclose(second[k], np.asarray(r), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{mode} {k}")


def _grad(jax, text: str, x: np.ndarray, mode: str) -> np.ndarray:
    g = gc.parse(f"x: {list(x.shape)}\ny = {text}")
    return gc.compile(g, mode=mode)(x=x)[1]["x"]


@cross(lambda mode: mode == "reverse", mode=MODES)
def test_ties_zeros_and_zero_norms_are_jaxs(jax, mode):
    """Where the derivative is a choice, JAX's: ties share max's and min's adjoint, prod's
    and cumprod's gradients at one and at several zeros, std's at a constant row (nan),
    the norms at 0 (nan for 2 and 'fro', 1 for ord 1, 1 / (2 size) for inf)."""
    import jax.numpy as jnp

    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, np.nan]])
    zeros = np.array([[1.0, 0.0, 2.0, 3.0], [1.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]])
    checks = [
        ("sum(max(x, axis=1))", ties, lambda x: jnp.sum(jnp.max(x, axis=1))),
        ("sum(min(x, axis=1))", ties, lambda x: jnp.sum(jnp.min(x, axis=1))),
        ("max(x)", ties[:2], jnp.max),
        ("sum(prod(x, axis=1))", zeros, lambda x: jnp.sum(jnp.prod(x, axis=1))),
        ("sum(sin(cumprod(x, axis=1)))", zeros,
         lambda x: jnp.sum(jnp.sin(jnp.cumprod(x, axis=1)))),
        ("sum(std(x, axis=1))", ties[1:2], lambda x: jnp.sum(jnp.std(x, axis=1))),
        ("sum(var(x, axis=1))", ties[1:2], lambda x: jnp.sum(jnp.var(x, axis=1))),
    ]
    for ord_text, ord_ in (("None", None), ("2", 2), ("1", 1), ("inf", INF), ("-inf", -INF)):
        checks.append((f"sum(norm(x, ord={ord_text}, axis=1))", np.zeros((2, 3)),
                       lambda x, o=ord_: jnp.sum(jnp.linalg.norm(x, ord=o, axis=1))))
    checks.append(("norm(x, ord='fro')", np.zeros((2, 3)),
                   lambda x: jnp.linalg.norm(x, ord="fro")))
    checks.append(("norm(x, ord=inf)", np.array([-3.0, 3.0, 1.0]),
                   lambda x: jnp.linalg.norm(x, ord=jnp.inf)))
    with np.errstate(all="ignore"):
        for text, x, f in checks:
            # forward mode as JAX's: a nan row's tangent reaches every direction's sum
            want = np.asarray((jax.grad if mode == "reverse" else jax.jacfwd)(f)(x))
            np.testing.assert_allclose(_grad(jax, text, x, mode), want, err_msg=text)


def test_prod_hessian_at_zeros_is_jaxs(jax):
    """prod's Hessian with one, two and all zeros: the products of all but two elements."""
    import jax.numpy as jnp

    grad_graph = gc.compile(gc.parse("x: [4]\ny = prod(x)")).grad_graph
    g2 = gc.parse("v: [4]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    fns = {mode: gc.compile(g2, of="h", wrt=["x"], mode=mode) for mode in MODES}
    for x in ([1.0, 0.0, 2.0, 3.0], [1.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]):
        x = np.array(x)
        hessian = np.asarray(jax.hessian(jnp.prod)(x))
        for k in range(4):
            for fn in fns.values():
                row = fn(x=x, v=np.eye(4)[k])[1]["x"]
                np.testing.assert_allclose(row, hessian[k])


def test_argmax_and_argmin_are_numpys_and_pass_no_derivative(jax, mode):
    """argmax/argmin: NumPy's (the first of ties), integers; keepdims; a value computed
    from one has no derivative through it (JAX's too)."""
    import jax.numpy as jnp

    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, -1.0], [0.0, 5.0, 1.0, 5.0]])
    g = gc.parse("x: [3, 4]\na = argmax(x, axis=1, keepdims=True)\nb = argmin(x)\n"
                 "c = argmin(x, axis=0)\ny = sum(x * a) + b * sum(x) + sum(c)")
    got = g.evaluate(x=x)
    np.testing.assert_array_equal(got["a"], np.argmax(x, axis=1, keepdims=True))
    assert got["b"] == np.argmin(x) and got["a"].dtype.kind == "i"
    np.testing.assert_array_equal(got["c"], np.asarray(jnp.argmin(x, axis=0)))
    for backend in ("numpy", "blocks"):
        value, grads = gc.compile(g, mode=mode, backend=backend)(x=x)
        assert value == g.evaluate(x=x)["y"]
    ref = jax.grad(lambda x: jnp.sum(x * jnp.argmax(x, axis=1, keepdims=True))
                   + jnp.argmin(x) * jnp.sum(x))(x)
    np.testing.assert_allclose(grads["x"], np.asarray(ref))


PROGRAM = """x: [3, 4]
w: [4]
m = max(x * w, axis=1, keepdims=True)
p = prod(x, axis=0)
s = std(x, axis=1, ddof=1)
n = norm(x, ord=inf, axis=1) + norm(x, ord='fro') + sum(norm(x, ord=-inf, axis=0))
c = cumprod(x, axis=1)
y = sum(m) + sum(p * w) + sum(s) + sum(n) + sum(sin(c)) + sum(cumsum(x, axis=0)) + var(x) \
+ min(x) + sum(logsumexp(x, axis=(0, 1), keepdims=True))
"""


def _program_values(dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {"x": rng.normal(size=(3, 4)).astype(dtype), "w": rng.normal(size=4).astype(dtype)}


def test_a_program_of_every_reduction_round_trips_and_verifies():
    """Printed as text and read back it is the same graph; verify agrees; the emitted
    module alone (NumPy only) gives what the compiled function gives; the memory plan
    of the optimized gradient is the unoptimized gradient's (regression: a folded
    operand given a line of its own ran before a line its buffer was still read by)."""
    g = gc.parse(PROGRAM)
    values = _program_values()
    again = gc.parse(str(g))
    assert str(again) == str(g)
    np.testing.assert_allclose(again.evaluate(**values)["y"], g.evaluate(**values)["y"])
    assert gc.verify(g, at=values).ok
    plain = gc.compile(g, optimize=False)(**values)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        value, grads = fn(**values)
        np.testing.assert_allclose(value, plain[0], rtol=1e-12)
        for k in values:
            np.testing.assert_allclose(grads[k], plain[1][k], rtol=1e-10, atol=1e-12)
        assert "graphc" not in fn.source.split('"""', 2)[2].split("def ")[0]
        module: dict = {}
        exec(compile(fn.source, "saved", "exec"), module)  # noqa: S102 - our own module
        saved_value, saved = module["value_and_grad"](**values)
        np.testing.assert_allclose(saved_value, value)
        for k in values:
            np.testing.assert_allclose(saved[k], grads[k])


def test_the_builder_names_are_the_text_names():
    x, w = gc.input("x", shape=(3, 4)), gc.input("w", shape=(4,))
    y = (gc.sum(gc.max(x * w, axis=1, keepdims=True)) + gc.sum(gc.prod(x, axis=0) * w)
         + gc.sum(gc.std(x, axis=1, ddof=1)) + gc.var(x) + gc.min(x)
         + gc.sum(gc.norm(x, ord=INF, axis=1)) + gc.norm(x, ord="fro")
         + gc.sum(gc.sin(gc.cumprod(x, axis=1))) + gc.sum(gc.cumsum(x, axis=0))
         + gc.sum(gc.argmax(x, axis=0) * w))
    text = ("x: [3, 4]\nw: [4]\ny = sum(max(x * w, axis=1, keepdims=True)) + "
            "sum(prod(x, axis=0) * w) + sum(std(x, axis=1, ddof=1)) + var(x) + min(x) + "
            "sum(norm(x, ord=inf, axis=1)) + norm(x, ord='fro') + sum(sin(cumprod(x, axis=1)))"
            " + sum(cumsum(x, axis=0)) + sum(argmax(x, axis=0) * w)")
    values = _program_values()
    built, parsed = gc.compile(gc.graph(y=y))(**values), gc.compile(gc.parse(text))(**values)
    np.testing.assert_allclose(built[0], parsed[0])
    for k in values:
        np.testing.assert_allclose(built[1][k], parsed[1][k])


def test_pictures_have_a_rule_on_each_edge():
    g = gc.parse(PROGRAM)
    source = gc.render(g, at=_program_values()).source
    for rule in ("ties", "product of the others", "(n - ddof)", "flip(cumsum(flip(",
                 "d norm / d x", "prod(k <= i, k != j)"):
        assert rule in source, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_every_backend_gives_the_numpy_backends_numbers(backend):
    g = gc.parse(PROGRAM)
    check_backend_matches_numpy(g, _program_values, backend, rtol_value=1e-6, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text, error, words", [
    ("y = max(x, axis=2)", gc.ShapeError, "axis 2 is out of range for 2 dimensions"),
    ("y = min(x, axis=(1, -1))", gc.ShapeError, "names an axis twice"),
    ("y = prod(x, axis=-3)", gc.ShapeError, "out of range"),
    ("y = var(x, axis=(0, 0))", gc.ShapeError, "names an axis twice"),
    ("y = argmax(x, axis=(0, 1))", gc.ShapeError, "take one axis"),
    ("y = cumsum(x)", gc.ShapeError, "give axis="),
    ("y = cumprod(x, axis=(0,))", gc.ShapeError, "one axis"),
    ("y = norm(x, ord=1)", gc.ShapeError, "matrix norm ord=1 is not supported"),
    ("y = norm(x, ord='nuc', axis=0)", gc.ShapeError, "vector norm ord='nuc'"),
    ("y = norm(x, axis=(0, 1, 2))", gc.ShapeError, "out of range"),
    ("y = std(x, ddof=0.5)", gc.ParseError, "ddof must be an integer (got 0.5)"),
    ("y = max(x, axis='0')", gc.ShapeError, "is not an integer"),
    ("y = max(x, keepdims=1)", gc.ParseError, "True or False"),
    ("y = max(x, where=x)", gc.ParseError, "takes no keyword where"),
])
def test_bad_input_is_an_error_with_line_and_column(text, error, words):
    check_error_at("x: [3, 4]\n" + text, error, words, line=2)


def test_bad_input_to_the_builder_is_a_shape_error():
    x = gc.input("x", shape=(3, 4))
    for y in (gc.max(x, axis=2), gc.norm(x, ord=3), gc.argmin(x, axis=(0, 1))):
        with pytest.raises(gc.ShapeError):
            gc.graph(y=y)


# logsumexp(x, axis, b=w), as jax.scipy.special.logsumexp: (text, JAX's, shapes of x, w, u)
WEIGHTED = {
    "last axis, weights broadcast": ("sum(logsumexp(x, b=w) * u)",
                                     lambda lse, x, w, u: (lse(x, axis=-1, b=w) * u).sum(),
                                     (3, 4), (4,), (3,)),
    "two axes": ("logsumexp(x, axis=(0, 1), b=w) * u",
                 lambda lse, x, w, u: lse(x, axis=(0, 1), b=w) * u, (3, 4), (3, 4), ()),
    "keepdims, x broadcast": ("sum(logsumexp(x, axis=0, keepdims=True, b=w) * u)",
                              lambda lse, x, w, u: (lse(x, axis=0, keepdims=True, b=w) * u).sum(),
                              (4,), (3, 4), (1, 4)),
    "zero weights": ("sum(logsumexp(x, axis=1, b=w * z) * u)",
                     lambda lse, x, w, u: (lse(x, axis=1, b=w * _Z) * u).sum(), (2, 3), (3,),
                     (2,)),
}
_Z = np.array([1.0, 0.0, 1.0])


def _weighted(name: str):
    text, f, xs, ws, us = WEIGHTED[name]
    rng = np.random.default_rng(8)
    values = {"x": rng.normal(size=xs), "w": rng.uniform(0.2, 2.0, size=ws),
              "u": rng.normal(size=us)}
    z = "z: [3]\n" if "z" in text else ""
    decl = "".join(f"{k}: {list(np.shape(v)) if np.shape(v) else 'scalar'}\n"
                   for k, v in values.items())
    g = gc.parse(f"{decl}{z}L = {text}")
    return g, values, f, ({"z": _Z} if z else {})


@cross(lambda name, optimize, mode: optimize and (mode == "reverse" or name == "two axes"),
       name=sorted(WEIGHTED), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_logsumexp_weights_are_jaxs(name, jax, mode, optimize):
    """b= is an operand, differentiated like x: gradients of both against JAX's."""
    from jax.scipy.special import logsumexp

    g, values, f, extra = _weighted(name)
    value, grads = gc.compile(g, of="L", wrt=["x", "w"], mode=mode, optimize=optimize)(
        **values, **extra)
    want, ref = jax.value_and_grad(lambda *a: f(logsumexp, *a), argnums=(0, 1))(
        *values.values())
    np.testing.assert_allclose(value, float(want), rtol=1e-12)
    for k, r in zip(("x", "w"), ref):
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12, err_msg=k)


def test_logsumexp_weights_second_order_builder_and_text(jax):
    """The gradient graph of logsumexp(x, b=w) differentiated again is JAX's; gc.logsumexp
    takes b= too; the text reads back (printed as NumPy writes it: logsumexp(x, b=w));
    a negative sum is nan, as JAX's."""
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    g, values, f, _ = _weighted("last axis, weights broadcast")
    grad_graph = gc.compile(g, of="L", wrt=["x"]).grad_graph
    g2 = gc.parse("v: [3, 4]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    v = np.random.default_rng(9).normal(size=(3, 4))
    assert np.shape(values["u"]) == (3,)
    loss = lambda *a: f(logsumexp, *a)  # noqa: E731
    want = jax.grad(lambda x, w, u: jnp.vdot(jax.grad(loss)(x, w, u), v), argnums=(0, 1))(
        *values.values())
    for mode in MODES:
        second = gc.compile(g2, of="h", wrt=["x", "w"], mode=mode)(**values, v=v)[1]
        for k, r in zip(("x", "w"), want):
            np.testing.assert_allclose(second[k], np.asarray(r), rtol=1e-9, atol=1e-12)
    assert str(gc.parse(str(g))) == str(g)
    printed = str(gc.parse("x: [3, 4]\nw: [4]\ny = logsumexp(x, axis=0, b=w)"))
    assert printed.endswith("y = logsumexp(x, axis=0, b=w)\n"), printed
    x, w = gc.input("x", shape=(3, 4)), gc.input("w", shape=(4,))
    u = gc.input("u", shape=(3,))
    built = gc.graph(L=gc.sum(gc.logsumexp(x, b=w) * u))
    np.testing.assert_allclose(built.evaluate(**values)["L"], g.evaluate(**values)["L"])
    signs = np.array([1.0, -1.0, -1.0, -1.0])
    with np.errstate(invalid="ignore"):
        got = g.evaluate(x=np.zeros((3, 4)), w=signs, u=np.ones(3))["L"]
    assert np.isnan(got) and np.isnan(logsumexp(np.zeros((3, 4)), axis=-1, b=signs)).all()


def test_logsumexp_weights_of_the_wrong_shape_are_a_shape_error_at_the_call():
    with pytest.raises(gc.ShapeError) as info:
        gc.parse("x: [3, 4]\nw: [3]\ny = logsumexp(x, b=w)")
    assert (info.value.line, info.value.col) == (3, 5) and "do not broadcast" in str(info.value)


@pytest.mark.parametrize("mode", MODES)
def test_empty_arrays_are_numpys_or_an_input_error(mode):
    """An empty axis: prod is 1, cumprod and norm are empty and 0, as NumPy's; max has no
    value (NumPy and JAX refuse it): an InputError, not a NumPy traceback."""
    g = gc.parse("x: [N, 3]\ny = sum(prod(x, axis=0)) + sum(cumprod(x, axis=0)) + "
                 "sum(norm(x, axis=0)) + sum(var(x, axis=1))")
    value, grads = gc.compile(g, mode=mode)(x=np.zeros((0, 3)))
    assert value == 3.0 and grads["x"].shape == (0, 3)
    with pytest.raises(gc.InputError, match="empty array has no maximum"):
        gc.compile(gc.parse("x: [N, 3]\ny = sum(max(x, axis=0))"), mode=mode)(x=np.zeros((0, 3)))
