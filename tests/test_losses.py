"""binary_cross_entropy and huber (issue 19, "Losses"): against JAX everywhere.

JAX's twins are optax's per-element formulas written out (optax is not a dependency),
reduced by the mean, as the ops reduce.
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from conftest import MODES, central_diff, cross

import graphc as gc

BACKENDS = ["numpy", "blocks"]


def jax_loss(name: str, delta: float = 1.0):
    import jax
    import jax.numpy as jnp

    if name == "binary_cross_entropy":  # optax.sigmoid_binary_cross_entropy, its mean
        return lambda x, z: jnp.mean(-z * jax.nn.log_sigmoid(x)
                                     - (1.0 - z) * jax.nn.log_sigmoid(-x))

    def huber(p, t):  # optax.huber_loss, its mean
        errors = jnp.abs(p - t)
        quadratic = jnp.minimum(errors, delta)
        return jnp.mean(0.5 * quadratic ** 2 + delta * (errors - quadratic))
    return huber


def decl(shape: tuple | None) -> str:
    return "any" if shape is None else ("scalar" if shape == () else str(list(shape)))


# (first operand's shape, second's); None: undeclared, given a (3, 4) array
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (5,)), ((2, 1, 3), (3,)),
          (None, None), ((3, 4), None)]
CASES = [("binary_cross_entropy", "", 1.0), ("huber", "", 1.0), ("huber", ", delta=0.7", 0.7)]


def values(shapes: tuple, name: str, dtype=np.float64, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a, b = (rng.normal(size=s if s is not None else (3, 4)) * 2 for s in shapes)
    if name == "binary_cross_entropy":
        b = rng.uniform(0, 1, size=np.shape(b))  # targets: probabilities
    return {"a": np.asarray(a, dtype), "b": np.asarray(b, dtype)}


def loss_graph(name: str, extra: str, shapes: tuple) -> gc.Graph:
    head = "".join(f"{k}: {decl(s)}\n" for k, s in zip("ab", shapes) if s is not None)
    return gc.parse(head + f"L = {name}(a, b{extra})")


@cross(lambda case, shapes, dtype, optimize, mode:  # fast: a fifth of the shapes in f64
       (dtype, optimize) == (np.float64, True) and shapes in SHAPES[::5]
       or (case[0], shapes) == (("huber", SHAPES[1]) if optimize else ("binary_cross_entropy",
                                                                        SHAPES[0])),
       case={f"{n}{e}": (n, e, d) for n, e, d in CASES}, shapes=SHAPES,
       dtype=[np.float64, np.float32], optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_are_jaxs(jax, case, shapes, dtype, mode, optimize):
    name, extra, delta = case
    g = loss_graph(name, extra, shapes)
    at = values(shapes, name, dtype)
    if mode == "forward" and None in shapes:
        with pytest.raises(gc.GraphcError, match="needs declared shapes"):
            gc.compile(g, mode=mode)
        return
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    want, wants = jax.value_and_grad(jax_loss(name, delta), argnums=(0, 1))(*at.values())
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.asarray(value).dtype == dtype and np.shape(value) == ()
    assert value == pytest.approx(float(want), rel=rtol)
    for k, w in zip("ab", wants):
        assert grads[k].dtype == dtype and grads[k].shape == at[k].shape
        np.testing.assert_allclose(grads[k], np.asarray(w), rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("mode", MODES)
def test_huber_at_its_kinks_is_jaxs(jax, mode):
    """|r| == delta (JAX: minimum's tie) and r == 0 (abs'(0)), in the gradient and in
    the gradient differentiated again (1/4 at the tie, as JAX's two halves give)."""
    r = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 1.5, -1.5, 0.25])
    p, t = r + 1.0, np.ones_like(r)
    g = gc.parse("p: [8]\nt: [8]\nL = huber(p, t, delta=0.5)")
    loss = jax_loss("huber", 0.5)
    _, grads = gc.compile(g, mode=mode)(p=p, t=t)
    np.testing.assert_array_equal(grads["p"], np.asarray(jax.grad(loss)(p, t)))
    hess = np.asarray(jax.hessian(loss)(p, t))
    grad_graph = gc.compile(g, wrt=["p"]).grad_graph
    for k in range(len(r)):
        v = np.eye(8)[k]
        g2 = gc.parse("v: [8]\n" + str(grad_graph) + "\nh = sum(p_bar * v)")
        _, second = gc.compile(g2, of="h", wrt=["p"], mode=mode)(p=p, t=t, v=v)
        np.testing.assert_array_equal(second["p"], hess[k], err_msg=f"row {k}")


def test_binary_cross_entropy_is_stable_at_large_logits(jax):
    """No overflow at any logit, and confident right answers keep their tiny losses."""
    x = np.array([-1000.0, -40.0, -30.0, 0.0, 30.0, 40.0, 1000.0])
    g = gc.parse("x: [7]\nz: [7]\nL = binary_cross_entropy(x, z)")
    for z in (np.ones(7), np.zeros(7), np.full(7, 0.25)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value, grads = gc.compile(g)(x=x, z=z)
        want, wants = jax.value_and_grad(jax_loss("binary_cross_entropy"), (0, 1))(x, z)
        assert value == pytest.approx(float(want), rel=1e-14)
        np.testing.assert_allclose(grads["x"], np.asarray(wants[0]), rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(grads["z"], np.asarray(wants[1]), rtol=1e-14)
    one = gc.parse("x: scalar\nz: scalar\nL = binary_cross_entropy(x, z)")
    assert one.evaluate(x=30.0, z=1.0)["L"] == pytest.approx(np.log1p(np.exp(-30.0)),
                                                               rel=1e-15)


STRUCTURAL = {
    "bce": ("a: [3, 4]\nb: [4]\nf = binary_cross_entropy(a, b)", {"a": (3, 4), "b": (4,)}),
    "bce wide targets": ("a: [4]\nb: [3, 1]\nf = binary_cross_entropy(a, b)",
                         {"a": (4,), "b": (3, 1)}),
    "huber": ("a: [3, 4]\nb: [3, 1]\nf = huber(a, b, delta=0.8)", {"a": (3, 4), "b": (3, 1)}),
    "huber scalar": ("a: scalar\nb: [5]\nf = huber(a, b)", {"a": (), "b": (5,)}),
}


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u; finite
    differences agree with both."""
    text, shapes = STRUCTURAL[name]
    g = gc.parse("u: scalar\n" + text + "\nL = f * u")
    rng = np.random.default_rng(2)
    at = {k: rng.normal(size=s) for k, s in shapes.items()} | {"u": 0.8}
    _, rev = gc.compile(g, wrt=list(shapes))(**at)
    for k in shapes:
        v = rng.normal(size=shapes[k])
        jv = gc.compile(g, wrt=[k], mode="forward")(**at)[1][k]
        assert np.vdot(jv, v) == pytest.approx(np.vdot(rev[k], v), rel=1e-12, abs=1e-14)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, k)
        np.testing.assert_allclose(rev[k], fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, extra, delta", CASES)
def test_second_order_is_jaxs(jax, name, extra, delta):
    """The reverse-mode gradient graph, differentiated again in both modes: JAX's
    Hessian-vector products."""
    import jax.numpy as jnp

    shapes = ((3, 4), (4,))
    at = values(shapes, name, seed=3)
    v = np.random.default_rng(4).normal(size=(3, 4))
    grad_graph = gc.compile(loss_graph(name, extra, shapes), wrt=["a"]).grad_graph
    g2 = gc.parse("v: [3, 4]\n" + str(grad_graph) + "\nh = sum(a_bar * v)")
    loss = jax_loss(name, delta)
    want = jax.grad(lambda a, b: jnp.vdot(jax.grad(loss)(a, b), v), argnums=(0, 1))(
        *at.values())
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["a", "b"], mode=mode)(**at, v=v)
        for k, w in zip("ab", want):
            np.testing.assert_allclose(second[k], np.asarray(w), rtol=1e-10, atol=1e-13)


def test_text_builder_and_round_trip():
    text = "p: [3, 4]\nt: [4]\nL = huber(p, t, delta=0.5) + binary_cross_entropy(p, t)"
    g = gc.parse(text)
    p, t = gc.input("p", shape=(3, 4)), gc.input("t", shape=(4,))
    built = gc.graph(L=gc.huber(p, t, delta=0.5) + gc.binary_cross_entropy(p, t))
    again = gc.parse(str(g))
    assert str(again) == str(g) and "huber(p, t, delta=0.5)" in str(g)
    assert "huber(p, t)" in str(gc.parse("p: [3]\nt: [3]\nL = huber(p, t)"))
    at = values(((3, 4), (4,)), "binary_cross_entropy")
    at = {"p": at["a"], "t": at["b"]}
    want = g.evaluate(**at)["L"]
    assert again.evaluate(**at)["L"] == want == built.evaluate(**at)["L"]
    source = gc.compile(g).source
    assert "_huber(p, t, delta=0.5)" in source and "def _binary_cross_entropy(" in source


@pytest.mark.parametrize("name, extra, delta", CASES)
def test_backends_and_the_saved_module_give_fns_numbers(name, extra, delta, tmp_path):
    shapes = ((3, 4), (4,))
    g = loss_graph(name, extra, shapes)
    at = values(shapes, name, seed=5)
    value, grads = gc.compile(g)(**at)
    for mode in MODES:
        for backend in BACKENDS:
            fn = gc.compile(g, mode=mode, backend=backend)
            got, got_grads = fn(**at)
            assert got == pytest.approx(value, rel=1e-13)
            for k in grads:
                np.testing.assert_allclose(got_grads[k], grads[k], rtol=1e-12, atol=1e-15)
            path = tmp_path / f"{mode}_{backend}.py"
            fn.save(path)
            assert "import graphc" not in path.read_text()
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            saved, saved_grads = module.value_and_grad(**at)
            assert saved == got and all(np.array_equal(saved_grads[k], got_grads[k])
                                        for k in grads)


@pytest.mark.slow
@pytest.mark.parametrize("name, extra, delta", CASES)
def test_numba_gives_numpys_numbers(name, extra, delta):
    pytest.importorskip("numba")
    shapes = ((3, 4), None)
    g = loss_graph(name, extra, shapes)
    at = values(shapes, name, seed=6)
    value, grads = gc.compile(g)(**at)
    got, got_grads = gc.compile(g, backend="numba")(**at)
    assert got == pytest.approx(value, rel=1e-13)
    for k in grads:
        np.testing.assert_allclose(got_grads[k], grads[k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, extra, delta", CASES)
def test_verify_and_pictures(name, extra, delta):
    g = loss_graph(name, extra, ((2, 3), (3,)))
    at = values(((2, 3), (3,)), name, seed=7)
    report = gc.verify(g, at)
    assert report.ok, str(report)
    edges = g.local_derivatives()
    rule = str(edges[("a", "L")])
    assert ("sigmoid(a) - b" if name == "binary_cross_entropy" else "clip(a - b") in rule
    dot = gc.render(g, at=at).source
    assert rule in dot


# ---- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize("text, cls, where, words", [
    ("a: [3, 4]\nb: [3]\nL = huber(a, b)", gc.ShapeError, (3, 5), ["[3, 4]", "[3]"]),
    ("a: [2]\nb: [3]\nL = binary_cross_entropy(a, b)", gc.ShapeError, (3, 5), ["[2]", "[3]"]),
    ("L = huber(a, b, delta=0)", gc.ShapeError, (1, 5), ["positive", "got 0"]),
    ("L = huber(a, b, delta=-0.5)", gc.ShapeError, (1, 5), ["positive", "got -0.5"]),
    ("L = huber(a, b, delta=None)", gc.ShapeError, (1, 5), ["positive", "got None"]),
    ("L = huber(a, b, delta=True)", gc.ShapeError, (1, 5), ["got True"]),
    ("L = huber(a, b, delta=1e999)", gc.ShapeError, (1, 5), ["finite", "got inf"]),
    ("L = huber(a, b, 0.5)", gc.ParseError, (1, 5), ["2 arguments, got 3"]),
    ("L = huber(a, b, beta=0.5)", gc.ParseError, (1, 17), ["no keyword beta", "delta"]),
    ("L = binary_cross_entropy(a)", gc.ParseError, (1, 5), ["2 arguments, got 1"]),
    ("L = binary_crossentropy(a, b)", gc.UnknownOpError, (1, 5),
     ["did you mean 'binary_cross_entropy'"]),
])
def test_bad_text_is_a_clear_error_at_its_place(text, cls, where, words):
    with pytest.raises(cls) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == where
    for w in words:
        assert w in str(info.value), w


def test_bad_calls_and_builder_arguments_are_clear_errors():
    fn = gc.compile(gc.parse("a: [N, 3]\nb: [N, 3]\nL = huber(a, b)"))
    with pytest.raises(gc.InputError, match="'b'.*N"):
        fn(a=np.ones((2, 3)), b=np.ones((4, 3)))
    with pytest.raises(gc.InputError, match="int64"):
        fn(a=np.ones((2, 3)), b=np.ones((2, 3), dtype=int))
    p, t = gc.inputs("p t")
    with pytest.raises(gc.ShapeError, match="positive finite number, got np.float32"):
        gc.graph(L=gc.huber(p, t, delta=np.float32(0.5)))
    with pytest.raises(gc.GraphcError, match="no keyword dim"):
        gc.binary_cross_entropy(p, t, dim=1)
