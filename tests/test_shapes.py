"""Shape ops (graphc/ops/shaping.py): reshape, squeeze, expand_dims, transpose with axes,
.mT, swapaxes, moveaxis, broadcast_to. Each against JAX (values and gradients, both
modes, float64 and float32, optimized or not), the dot-product test, second order, the
text round trip, the builder, the backends, the saved module and bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import check_hessian_vector_product, check_text_round_trip_and_verify
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc

# name: (declarations, the op applied to "{0}", value shapes, the op in JAX on a)
CASES = {
    "reshape": ("x: [2, 3, 4]", "reshape({0}, (4, -1))", {"x": (2, 3, 4)},
                lambda jnp, a: jnp.reshape(a, (4, -1))),
    "reshape int": ("x: [3, 4]", "reshape({0}, 12)", {"x": (3, 4)},
                    lambda jnp, a: jnp.reshape(a, 12)),
    "reshape named": ("x: [N, 3, 4]", "reshape({0}, (N, -1))", {"x": (2, 3, 4)},
                      lambda jnp, a: jnp.reshape(a, (a.shape[0], -1))),
    "reshape named last": ("x: [4, N]", "reshape({0}, (2, 2, N))", {"x": (4, 3)},
                           lambda jnp, a: jnp.reshape(a, (2, 2, a.shape[-1]))),
    "reshape -1 is a name": ("x: [2, N]", "reshape({0}, (-1, 2))", {"x": (2, 5)},
                             lambda jnp, a: jnp.reshape(a, (-1, 2))),
    "squeeze": ("x: [3, 1, 4]", "squeeze({0})", {"x": (3, 1, 4)},
                lambda jnp, a: jnp.squeeze(a)),
    "squeeze axes": ("x: [1, 3, 1]", "squeeze({0}, (0, -1))", {"x": (1, 3, 1)},
                     lambda jnp, a: jnp.squeeze(a, (0, -1))),
    "expand_dims": ("x: [3, 4]", "expand_dims({0}, 1)", {"x": (3, 4)},
                    lambda jnp, a: jnp.expand_dims(a, 1)),
    "expand_dims axes": ("x: [3, 4]", "expand_dims({0}, (0, -1))", {"x": (3, 4)},
                         lambda jnp, a: jnp.expand_dims(a, (0, -1))),
    "transpose": ("x: [2, 3, 4]", "transpose({0})", {"x": (2, 3, 4)},
                  lambda jnp, a: jnp.transpose(a)),
    "transpose axes": ("x: [2, 3, 4]", "transpose({0}, (1, 2, 0))", {"x": (2, 3, 4)},
                       lambda jnp, a: jnp.transpose(a, (1, 2, 0))),
    "transpose negative axes": ("x: [2, 3, 4]", "transpose({0}, (-1, 0, 1))",
                                {"x": (2, 3, 4)}, lambda jnp, a: jnp.transpose(a, (2, 0, 1))),
    "mT": ("x: [2, 3, 4]", "{0}.mT", {"x": (2, 3, 4)}, lambda jnp, a: a.mT),
    "swapaxes": ("x: [2, 3, 4]", "swapaxes({0}, 0, -1)", {"x": (2, 3, 4)},
                 lambda jnp, a: jnp.swapaxes(a, 0, -1)),
    "moveaxis": ("x: [2, 3, 4]", "moveaxis({0}, 0, -1)", {"x": (2, 3, 4)},
                 lambda jnp, a: jnp.moveaxis(a, 0, -1)),
    "moveaxis axes": ("x: [2, 3, 4, 1]", "moveaxis({0}, (0, 1), (-1, 0))",
                      {"x": (2, 3, 4, 1)}, lambda jnp, a: jnp.moveaxis(a, (0, 1), (-1, 0))),
    "broadcast_to": ("x: [3, 1]", "broadcast_to({0}, (2, 3, 4))", {"x": (3, 1)},
                     lambda jnp, a: jnp.broadcast_to(a, (2, 3, 4))),
    "broadcast_to named": ("x: [N, 1]", "broadcast_to({0}, (2, N, 4))", {"x": (3, 1)},
                           lambda jnp, a: jnp.broadcast_to(a, (2, a.shape[0], 4))),
    "broadcast_to scalar": ("x: scalar", "broadcast_to({0}, (2, 3))", {"x": ()},
                            lambda jnp, a: jnp.broadcast_to(a, (2, 3))),
    "concatenate": ("x: [2, 3]", "concatenate([{0}, 2 * {0}, exp({0})], axis=1)",
                    {"x": (2, 3)},
                    lambda jnp, a: jnp.concatenate([a, 2 * a, jnp.exp(a)], axis=1)),
    "concatenate named": ("x: [N, 3]", "concatenate([{0}, {0}.T.T * {0}])", {"x": (2, 3)},
                          lambda jnp, a: jnp.concatenate([a, a * a])),
    "pad named": ("x: [N, 3]", "pad({0}, ((1, 2), (0, 0)))", {"x": (2, 3)},
                  lambda jnp, a: jnp.pad(a, ((1, 2), (0, 0)))),
    "tile named": ("x: [N]", "tile({0}, (2, 3))", {"x": (4,)}, lambda jnp, a: jnp.tile(a, (2, 3))),
    "concatenate a constant": ("x: [2, 3]", "concatenate([zeros_like({0}), {0}], -1)",
                               {"x": (2, 3)},
                               lambda jnp, a: jnp.concatenate([jnp.zeros_like(a), a], -1)),
    "stack": ("x: [2, 3]", "stack([{0}, exp({0}), {0}])", {"x": (2, 3)},
              lambda jnp, a: jnp.stack([a, jnp.exp(a), a])),
    "stack last": ("x: [N, 3]", "stack([ones_like({0}), {0}], axis=-1)", {"x": (4, 3)},
                   lambda jnp, a: jnp.stack([jnp.ones_like(a), a], axis=-1)),
    "stack one": ("x: [3]", "stack([{0}], 1)", {"x": (3,)},
                  lambda jnp, a: jnp.stack([a], 1)),
    "triu": ("x: [3, 4]", "triu({0}, 1)", {"x": (3, 4)}, lambda jnp, a: jnp.triu(a, 1)),
    "tril stack": ("x: [2, 3, 3]", "tril({0})", {"x": (2, 3, 3)}, lambda jnp, a: jnp.tril(a)),
    "trace": ("x: [3, 3]", "trace({0})", {"x": (3, 3)}, lambda jnp, a: jnp.trace(a)),
    "trace stack offset": ("x: [2, 3, 4]", "trace({0}, -1)", {"x": (2, 3, 4)},
                           lambda jnp, a: jnp.trace(a, -1, axis1=-2, axis2=-1)),
    "vector @ stack": ("x: [2, 3, 4]", "arange(0.5, 3.5) @ {0}", {"x": (2, 3, 4)},
                       lambda jnp, a: jnp.arange(0.5, 3.5) @ a),
    "stack @ vector": ("x: [2, 3, 4]", "{0} @ arange(1.0, 5.0)", {"x": (2, 3, 4)},
                       lambda jnp, a: a @ jnp.arange(1.0, 5.0)),
    "roll": ("x: [3, 4]", "roll({0}, 1, 0)", {"x": (3, 4)}, lambda jnp, a: jnp.roll(a, 1, 0)),
    "roll flat": ("x: [3, 4]", "roll({0}, -2)", {"x": (3, 4)}, lambda jnp, a: jnp.roll(a, -2)),
    "roll axes": ("x: [3, 4]", "roll({0}, (1, 2), (0, -1))", {"x": (3, 4)},
                  lambda jnp, a: jnp.roll(a, (1, 2), (0, -1))),
    "tile": ("x: [2, 3]", "tile({0}, (2, 1, 2))", {"x": (2, 3)},
             lambda jnp, a: jnp.tile(a, (2, 1, 2))),
    "tile int": ("x: [3]", "tile({0}, 2)", {"x": (3,)}, lambda jnp, a: jnp.tile(a, 2)),
    "repeat": ("x: [2, 3]", "repeat({0}, 2, axis=1)", {"x": (2, 3)},
               lambda jnp, a: jnp.repeat(a, 2, axis=1)),
    "repeat flat": ("x: [2, 3]", "repeat({0}, 3)", {"x": (2, 3)},
                    lambda jnp, a: jnp.repeat(a, 3)),
    "pad": ("x: [2, 3]", "pad({0}, ((1, 0), (2, 1)), constant_values=0.5)", {"x": (2, 3)},
            lambda jnp, a: jnp.pad(a, ((1, 0), (2, 1)), constant_values=0.5)),
    "pad int": ("x: [2, 3]", "pad({0}, 1)", {"x": (2, 3)}, lambda jnp, a: jnp.pad(a, 1)),
    "diag vector": ("x: [3]", "diag({0}, 1)", {"x": (3,)}, lambda jnp, a: jnp.diag(a, 1)),
    "diag matrix": ("x: [3, 4]", "diag({0}, -1)", {"x": (3, 4)},
                    lambda jnp, a: jnp.diag(a, -1)),
    "diag named": ("x: [N]", "diag({0})", {"x": (3,)}, lambda jnp, a: jnp.diag(a)),
}


def program(name: str) -> tuple[gc.Graph, dict[str, np.ndarray]]:
    """The op between two nonlinearities, weighted by w: L = sum(tanh(op(sin(x))) * w)."""
    decl, op, shapes, _ = CASES[name]
    head = gc.parse(f"{decl}\nf = {op.format('x')}")
    out = head.shape("f")
    w = "scalar" if not out else "[" + ", ".join(map(str, out)) + "]"
    g = gc.parse(f"{decl}\nw: {w}\ny = {op.format('sin(x)')}\nL = sum(tanh(y) * w)")
    rng = np.random.default_rng(len(name))
    values = {k: rng.normal(size=s) for k, s in shapes.items()}
    values["w"] = rng.normal(size=np.shape(head.evaluate(**values)["f"]))
    return g, values


def jax_loss(name: str, jnp):
    fn = CASES[name][3]
    return lambda x, w: jnp.sum(jnp.tanh(fn(jnp, jnp.sin(x))) * w)


FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda name, optimize, mode:  # fast: each op in both modes
       optimize and name in FIRST or name == "stack",
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_match_jax(name, jax, mode, optimize):
    import jax.numpy as jnp

    g, values = program(name)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    ref_value, ref = jax.value_and_grad(jax_loss(name, jnp), argnums=(0, 1))(*values.values())
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    for k, r in zip(values, ref):
        assert np.shape(grads[k]) == np.shape(values[k])
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12)


@cross(lambda name, mode: name in ("reshape", "stack"), name=sorted(CASES), mode=MODES)
def test_float32_stays_float32(name, mode):
    g, values = program(name)
    fn = gc.compile(g, mode=mode)
    value, grads = fn(**{k: np.float32(v) if np.ndim(v) == 0 else v.astype(np.float32)
                         for k, v in values.items()})
    want_value, want = fn(**values)
    assert np.asarray(value).dtype == np.float32
    assert value == pytest.approx(float(want_value), rel=1e-5, abs=1e-5)
    for k in values:
        assert np.asarray(grads[k]).dtype == np.float32, k
        np.testing.assert_allclose(grads[k], want[k], rtol=1e-4, atol=1e-5)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u> for the op alone: forward mode gives J v, reverse J^T u,
    and finite differences agree with both."""
    decl, op, shapes, _ = CASES[name]
    head = gc.parse(f"{decl}\nf = {op.format('x')}")
    rng = np.random.default_rng(3)
    values = {k: rng.normal(size=s) for k, s in shapes.items()}
    out = head.evaluate(**values)["f"]
    w = "[" + ", ".join(map(str, head.shape("f"))) + "]" if np.ndim(out) else "scalar"
    g = gc.parse(f"{decl}\nu: {w}\nf = {op.format('x')}\nL = sum(f * u)")
    values["u"] = rng.normal(size=np.shape(out))
    _, rev = gc.compile(g, wrt=["x"])(**values)
    _, fwd = gc.compile(g, wrt=["x"], mode="forward")(**values)
    v = rng.normal(size=shapes["x"])
    assert np.vdot(fwd["x"], v) == pytest.approx(np.vdot(rev["x"], v), rel=1e-12, abs=1e-12)
    fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, "x")
    np.testing.assert_allclose(rev["x"], fd, rtol=1e-6, atol=1e-8)


@cross(lambda name: name in ("transpose axes", "concatenate", "vector @ stack"),
       name=["reshape named", "squeeze axes", "expand_dims axes", "transpose axes", "mT",
             "swapaxes", "moveaxis axes", "broadcast_to named", "concatenate", "stack last",
             "triu", "trace stack offset", "vector @ stack", "roll flat", "roll axes", "tile",
             "repeat", "repeat flat", "pad", "diag vector", "diag matrix"])
def test_second_order_matches_jax(name, jax):
    """The gradient graph, printed and parsed again, differentiated in both modes: JAX's
    Hessian-vector product."""
    import jax.numpy as jnp

    g, values = program(name)
    v = np.random.default_rng(5).normal(size=np.shape(values["x"]))
    decl = CASES[name][0].replace("x:", "v:")
    grad_graph = gc.compile(g, wrt=["x"]).grad_graph
    g2 = gc.parse(f"{decl}\n{grad_graph}\nh = sum(x_bar * v)")
    check_hessian_vector_product(jax, g2, jax_loss(name, jnp), values, v, ("x", "w"),
                                 rtol=1e-10, atol=1e-12)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_text_round_trip_and_verify(name):
    check_text_round_trip_and_verify(*program(name))


def test_the_builder_spells_what_the_text_spells():
    x = gc.input("x", shape=("N", 3, 4))
    y = gc.reshape(x, ("N", -1))
    z = gc.moveaxis(gc.swapaxes(gc.expand_dims(y.T, 0), 0, 2), 0, -1)
    built = gc.graph(L=gc.sum(gc.broadcast_to(gc.squeeze(z), [2, 12, "N"]) * gc.sum(
        gc.transpose(x, (1, 2, 0)).mT.mT)))
    text = ("x: [N, 3, 4]\nL = sum(broadcast_to(squeeze(moveaxis(swapaxes(expand_dims("
            "reshape(x, (N, -1)).T, 0), 0, 2), 0, -1)), (2, 12, N)) * "
            "sum(transpose(x, (1, 2, 0)).mT.mT))")
    parsed = gc.parse(text)
    assert str(built) == str(parsed)
    assert "reshape(x, (N, -1))" in str(parsed) and "transpose(x, (1, 2, 0))" in str(parsed)
    value = np.random.default_rng(0).normal(size=(5, 3, 4))
    assert built.evaluate(x=value)["L"] == pytest.approx(parsed.evaluate(x=value)["L"])


def test_emitted_code_is_numpys_and_the_saved_module_agrees(tmp_path):
    g = gc.parse("x: [N, 3, 4]\ny = reshape(x, (N, -1))\n"
                 "z = swapaxes(transpose(expand_dims(y, 0), (2, 1, 0)), 0, 1)\n"
                 "L = sum(sin(broadcast_to(squeeze(z), (2, N, 12))))")
    values = {"x": np.random.default_rng(1).normal(size=(5, 3, 4))}
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        source = fn.source
        assert "np.reshape(x, (x.shape[-3], -1))" in source
        assert "np.transpose(" in source and "np.swapaxes(" in source
        path = tmp_path / f"shapes_{mode}.py"
        fn.save(path)
        spec = importlib.util.spec_from_file_location(f"shapes_{mode}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        value, grads = module.value_and_grad(**values)
        want_value, want = fn(**values)
        assert value == want_value
        np.testing.assert_array_equal(grads["x"], want["x"])


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_other_backends(backend, mode):
    cases = [program(name) for name in ("transpose axes", "reshape named", "concatenate",
                                        "stack last", "pad", "tile", "repeat flat",
                                        "roll flat", "diag matrix", "trace stack offset")]
    cases.append((gc.parse(CONSTANTS), {"x": np.random.default_rng(6).normal(size=(4, 3))}))
    for graph, vals in cases:
        value, grads = gc.compile(graph, mode=mode, backend=backend)(**vals)
        want_value, want = gc.compile(graph, mode=mode)(**vals)
        assert value == pytest.approx(want_value, rel=1e-12)
        for k in vals:
            np.testing.assert_allclose(grads[k], want[k], rtol=1e-10, atol=1e-12)


def test_pictures_show_each_edge_rule():
    g, values = program("moveaxis")
    dot = gc.render(g, at=values).source
    assert "t1_bar += moveaxis(y_bar, destination, source)" in dot


def test_a_named_size_is_read_at_call_time():
    """-1 takes N * 3 (a dimension named "3*N"); a size known only at call time that does
    not fit is an InputError, never NumPy's traceback."""
    g = gc.parse("x: [N, 3]\ny = reshape(x, -1)\nz = reshape(y, (-1, 2))\nL = sum(z * z)")
    assert g.shape("y") == ("3*N",)
    x = np.arange(12.0).reshape(4, 3)
    value, grads = gc.compile(g)(x=x)
    assert value == pytest.approx(np.sum(x * x))
    np.testing.assert_allclose(grads["x"], 2 * x)
    with pytest.raises(gc.InputError, match="reshape"):
        gc.compile(g)(x=np.ones((3, 3)))


@pytest.mark.parametrize("text, line, col, words", [
    ("x: [3, 4]\ny = reshape(x, (5, -1))", 2, 5, ["cannot reshape [3, 4] into [5, -1]"]),
    ("x: [3, 4]\ny = reshape(x, (-1, -1))", 2, 5, ["one at most is -1"]),
    ("x: [3, 4]\ny = reshape(x, (M, 12))", 2, 5, ["M is not one of", "[3, 4]"]),
    ("x: [3, 4]\ny = reshape(x)", 2, 5, ["shape is required"]),
    ("y = reshape(x, (2, 3))", 1, 5, ["declare"]),
    ("x: [3, 4]\ny = squeeze(x, 0)", 2, 5, ["cannot squeeze axis 0, of size 3"]),
    ("x: [3, 4]\ny = expand_dims(x, (0, 0))", 2, 5, ["twice"]),
    ("x: [3, 4]\ny = transpose(x, (0,))", 2, 5, ["each of the 2 axes once"]),
    ("x: [3, 4]\ny = transpose(x, (0, 0))", 2, 5, ["twice"]),
    ("x: [3, 4]\ny = swapaxes(x, 0, 2)", 2, 5, ["axis 2 is out of range"]),
    ("x: [3, 4]\ny = swapaxes(x, 0)", 2, 5, ["axis1 and axis2 are required"]),
    ("x: [3, 4]\ny = moveaxis(x, (0, 1), 0)", 2, 5, ["as many axes"]),
    ("x: [3]\ny = x.mT", 2, 5, ["at least two dimensions"]),
    ("x: [3, 2]\ny = broadcast_to(x, (3, 4))", 2, 5, ["cannot broadcast [3, 2] to [3, 4]"]),
    ("x: [3, 2]\nz: [3, 3]\ny = concatenate([x, z])", 3, 5, ["[3, 2] and [3, 3] differ"]),
    ("x: [3, 2]\nz: [3, 3]\ny = concatenate([x, z], 1)\nw = concatenate([y, x], 2)", 4, 5,
     ["axis 2 is out of range"]),
    ("x: [3, 2]\nz: [3]\ny = concatenate([x, z], -1)", 3, 5, ["one rank", "[3, 2], [3]"]),
    ("x: scalar\ny = concatenate([x, x])", 2, 5, ["scalars cannot be concatenated"]),
    ("x: [3]\nz: [2]\ny = stack([x, z])", 3, 5, ["one shape", "[3], [2]"]),
    ("x: [3]\ny = stack([x, x], 2)", 2, 5, ["axis 2 is out of range"]),
    ("y = stack([x, x])", 1, 5, ["declare"]),
    ("x: [3]\ny = roll(x, 1.5)", 2, 5, ["shift must be an integer"]),
    ("x: [3]\ny = roll(x, (1, 2))", 2, 5, ["a tuple of shifts needs as many axes"]),
    ("x: [3, 2]\ny = roll(x, (1, 2), 0)", 2, 5, ["differ in length"]),
    ("x: [3]\ny = roll(x, 1, 1)", 2, 5, ["axis 1 is out of range"]),
    ("x: [3]\ny = tile(x, (2, -1))", 2, 5, ["reps must be non-negative integers"]),
    ("x: [3]\ny = repeat(x, (2, 3))", 2, 5, ["repeats must be a non-negative integer"]),
    ("x: [3]\ny = repeat(x, 2, 1)", 2, 5, ["axis 1 is out of range"]),
    ("x: [3, 2]\ny = pad(x, ((1, 1), (1, 1), (1, 1)))", 2, 5, ["one per axis (2)"]),
    ("x: [3, 2]\ny = pad(x, -1)", 2, 5, ["non-negative"]),
    ("x: [3, 2]\ny = pad(x)", 2, 5, ["pad_width None"]),
    ("x: [2, 3, 4]\ny = diag(x)", 2, 5, ["a vector (to a matrix) or a matrix"]),
    ("x: [N, M]\ny = diag(x)", 2, 5, ["known only at call time"]),
    ("x: [3]\ny = triu(x)", 2, 5, ["at least two dimensions"]),
    ("x: [3]\ny = trace(x)", 2, 5, ["at least two dimensions"]),
    ("x: [3]\ny = broadcast_to(x, (N, 3))", 2, 5, ["N is not one of"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, line, col, words):
    with pytest.raises(gc.ShapeError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == (line, col)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("text, words", [
    ("x: [3, 4]\ny = reshape(x, (2, 6), shape=(2, 6))", ["shape twice"]),
    ("x: [3, 4]\ny = swapaxes(x, 0, 1, 2)", ["takes 1 to 3 arguments"]),
    ("x: [3, 4]\ny = reshape(x, (2, 1j))", ["a parameter must be"]),
    ("x: [3, 4]\ny = x.nT", ["only .T", ".mT"]),
    ("x: [3, 4]\ny = concatenate(x, x)", ["takes a list of arrays first"]),
    ("x: [3, 4]\ny = concatenate([])", ["a list of at least 1 arrays"]),
    ("x: [3]\ny = concatenate([x, x], axis=None)", ["axis must be an integer"]),
    ("x: [3, 4]\ny = stack([x, x], 0, 1)", ["at most 1 more"]),
])
def test_bad_calls_are_parse_errors(text, words):
    with pytest.raises(gc.ParseError) as info:
        gc.parse(text)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_builder_errors_are_graphc_errors():
    x = gc.input("x", shape=(3, 4))
    for made in (gc.expand_dims(x, None), gc.expand_dims(x), gc.swapaxes(x, 0)):
        with pytest.raises(gc.ShapeError, match="required"):
            gc.graph(y=made)
    with pytest.raises(gc.GraphcError, match="twice"):
        gc.reshape(x, (12,), shape=(12,))
    with pytest.raises(gc.ShapeError, match="a shape is a tuple"):
        gc.graph(y=gc.reshape(x, (1.5, 8)))
    with pytest.raises(gc.GraphcError, match="a list of at least 1"):
        gc.concatenate(x, x)
    with pytest.raises(gc.GraphcError, match="a list of at least 1"):
        gc.stack([])


def test_lists_in_the_builder_and_text_are_one_node():
    """concatenate([a, b]) is one node with operands (a, b), printed back as a list."""
    a, b = gc.input("a", shape=(2, 3)), gc.input("b", shape=("N", 3))
    built = gc.graph(y=gc.concatenate([a, b, a], 0) * gc.sum(gc.stack((a, a), axis=1)))
    parsed = gc.parse("a: [2, 3]\nb: [N, 3]\ny = concatenate([a, b, a]) * "
                      "sum(stack([a, a], axis=1))")
    assert str(built) == str(parsed)
    assert "concatenate([a, b, a])" in str(parsed) and "stack([a, a], 1)" in str(parsed)
    (node,) = [n for n in parsed.nx if parsed.attrs(n)["op"] == "concatenate"]
    assert parsed.args(node) == ("a", "b", "a") and parsed.shape(node) == ("N+4", 3)
    source = gc.vjp(parsed, wrt=["b"]).source
    assert "np.concatenate([a, b, a])" in source and "np.stack([a, a], axis=1)" in source


# ---- constant arrays ----------------------------------------------------------------
CONSTANTS = """
x: [N, 3]
y = x * ones((N, 3)) + full((N, 1), 2.5) + x @ eye(3, k=1) + zeros(3) + arange(0.5, 2.0, 0.5)
L = sum(tanh(y) * reshape(arange(N), (N, 1))) + sum(eye(N) @ sin(x)) + sum(arange(1, 7, 2))
"""


def jax_constants(jnp):
    def loss(x):
        n = x.shape[0]
        y = x * jnp.ones((n, 3)) + jnp.full((n, 1), 2.5) + x @ jnp.eye(3, k=1) \
            + jnp.zeros(3) + jnp.arange(0.5, 2.0, 0.5)
        return jnp.sum(jnp.tanh(y) * jnp.reshape(jnp.arange(n), (n, 1))) \
            + jnp.sum(jnp.eye(n) @ jnp.sin(x)) + jnp.sum(jnp.arange(1, 7, 2))
    return loss


def test_constants_match_jax(jax, mode, optimize):
    import jax.numpy as jnp

    g = gc.parse(CONSTANTS)
    x = np.random.default_rng(7).normal(size=(4, 3))
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(x=x)
    ref_value, ref = jax.value_and_grad(jax_constants(jnp))(x)
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    np.testing.assert_allclose(grads["x"], np.asarray(ref), rtol=1e-10, atol=1e-12)
    assert gc.verify(g, at={"x": x}).ok


def test_constants_print_read_and_take_the_inputs_dtype(tmp_path):
    g = gc.parse(CONSTANTS)
    assert str(gc.parse(str(g))) == str(g)
    assert "ones((N, 3))" in str(g) and "arange(N)" in str(g)
    source = gc.compile(g).source
    assert "np.ones((x.shape[-2], 3), dtype=_float_of(x))" in source
    assert "np.arange(x.shape[-2])" in source  # ints, as NumPy's: an index
    assert "np.arange(1, 7, 2)" in source
    evaluated = g.evaluate(x=np.ones((5, 3)))
    assert evaluated["L"] == pytest.approx(gc.compile(g).forward(x=np.ones((5, 3))))
    x32 = np.random.default_rng(8).normal(size=(4, 3)).astype(np.float32)
    g32 = gc.parse("x: [N, 3]\ny = x * ones((N, 3)) + full((N, 1), 2.5) + x @ eye(3, k=1)"
                   " + zeros(3) + arange(0.5, 2.0, 0.5)\nL = sum(tanh(y) * y)")
    for mode in MODES:
        value, grads = gc.compile(g32, mode=mode)(x=x32)
        assert np.asarray(value).dtype == np.float32 and grads["x"].dtype == np.float32
    kinds = {g.attrs(n)["params"]["start"]: g.evaluate(x=np.ones((2, 3)))[n].dtype.kind
             for n in g.nx if g.attrs(n)["op"] == "arange"}
    assert kinds == {"N": "i", 1: "i", 0.5: "f"}


def test_the_builder_makes_constants():
    x = gc.input("x", shape=("N", 3))
    built = gc.graph(L=gc.sum(x * gc.ones(("N", 3)) + gc.full((1, 3), 2.0) + gc.arange(3.0)))
    parsed = gc.parse("x: [N, 3]\nL = sum(x * ones((N, 3)) + full((1, 3), 2.0) + arange(3.0))")
    assert str(built) == str(parsed)
    value = np.arange(6.0).reshape(2, 3)
    assert built.evaluate(x=value)["L"] == pytest.approx(np.sum(value + 2 + np.arange(3.0)))


@pytest.mark.parametrize("text, words", [
    ("x: [3]\ny = x + zeros()", ["shape is required"]),
    ("x: [3]\ny = x + zeros((2, -1))", ["dimensions are >= 0"]),
    ("x: [3]\ny = x + arange(M)", ["dimension M is not declared"]),
    ("x: [N]\ny = x + arange(N, 5)", ["numbers", "dimension's name"]),
    ("x: [N]\ny = x + arange(1, N)", ["counts from 0 by 1"]),
    ("x: [N]\ny = x + arange(3, step=0)", ["step not 0"]),
    ("x: [3]\ny = x + eye()", ["N is required"]),
    ("x: [3]\ny = x + eye(-2)", ["dimensions are >= 0"]),
    ("x: [3]\ny = x + ones((2, 2))", ["do not broadcast"]),
])
def test_bad_constants_are_shape_errors(text, words):
    with pytest.raises(gc.ShapeError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == (2, 9) or "broadcast" in words[0]
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("text, shapes, fn", [
    ("a: [3]\nb: [2, 3, 4]\nw: [2, 4]\nL = sum(tanh(a @ sin(b)) * w)",
     {"a": (3,), "b": (2, 3, 4), "w": (2, 4)},
     lambda jnp, a, b, w: jnp.sum(jnp.tanh(a @ jnp.sin(b)) * w)),
    ("a: [2, 1, 3, 4]\nb: [4]\nw: [2, 1, 3]\nL = sum(tanh(sin(a) @ b) * w)",
     {"a": (2, 1, 3, 4), "b": (4,), "w": (2, 1, 3)},
     lambda jnp, a, b, w: jnp.sum(jnp.tanh(jnp.sin(a) @ b) * w)),
])
def test_a_vector_at_a_stack_of_matrices_as_numpy(text, shapes, fn, jax, mode, optimize):
    """(n,) @ (B, n, m) is (B, m) and (B, n, m) @ (m,) is (B, n), as in NumPy."""
    import jax.numpy as jnp

    g = gc.parse(text)
    rng = np.random.default_rng(9)
    values = {k: rng.normal(size=s) for k, s in shapes.items()}
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    ref_value, ref = jax.value_and_grad(lambda *v: fn(jnp, *v), argnums=(0, 1, 2))(
        *values.values())
    assert value == pytest.approx(float(ref_value), rel=1e-12)
    for k, r in zip(values, ref):
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12)


def test_dimension_arithmetic_in_declarations():
    """x: [L - 2] is the dimension L-2 that slices of a [L] make, written back so; 2 * N
    is what concatenating two [N] makes, N + 3 what padding does."""
    g = gc.parse("x: [L - 2]\ny: [L]\nw: [2 * N, L + 3]\nv: [N]\n"
                 "z = x * slice(y, start=2) + slice(slice(y, stop=-1), start=1)\n"
                 "u = pad(reshape(z, (1, L - 2)) * ones((N, 1)), ((0, 0), (2, 3)))\n"
                 "t = concatenate([u, u]) * w\n"
                 "L2 = sum(t) + sum(v)")
    assert g.shape("x") == ("L-2",) and g.shape("t") == ("2*N", "L+3")
    assert str(g).startswith("x: [L-2]\ny: [L]\nw: [2*N, L+3]\n")
    assert str(gc.parse(str(g))) == str(g)
    rng = np.random.default_rng(4)
    values = {"x": rng.normal(size=3), "y": rng.normal(size=5), "w": rng.normal(size=(4, 8)),
              "v": rng.normal(size=2)}
    for mode in MODES:
        _, grads = gc.compile(g, mode=mode)(**values)
        for k in values:
            fd = central_diff(lambda **kw: g.evaluate(**kw)["L2"], values, k)
            np.testing.assert_allclose(grads[k], fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(gc.InputError):  # L-2 is 3 here, L is 6: they meet in z
        gc.compile(g)(**{**values, "y": np.ones(6)})


def test_the_builder_declares_dimension_arithmetic_too():
    x, y = gc.input("x", shape=("L-2",)), gc.input("y", shape=("L",))
    built = gc.graph(z=x * gc.slice(y, start=2))
    assert str(built) == str(gc.parse("x: [L - 2]\ny: [L]\nz = x * slice(y, start=2)"))
    with pytest.raises(gc.InputError, match="dimension"):
        gc.input("x", shape=("N*M",))


@pytest.mark.parametrize("decl", ["x: [N - M]", "x: [2 - N]", "x: [N / 2]", "x: [N * M]",
                                  "x: [N - -1]"])
def test_dimension_arithmetic_is_a_name_and_a_number(decl):
    with pytest.raises(gc.ParseError, match="a name plus or minus an integer"):
        gc.parse(decl + "\ny = x * 2")


def test_a_triangles_edge_shows_its_diagonal_not_a_name():
    """tril's rule read 'tril(t_bar, k)': beside a key matrix named k it meant the wrong k."""
    g = gc.parse("x: [3, 3]\nk = x * 2\nlow = tril(k, -1)\ny = sum(low)")
    assert str(g.local_derivatives()[("k", "low")]) == "tril(low_bar, k=-1)"


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", ["flipud", "fliplr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flipud_and_fliplr_are_numpys_with_jaxs_gradient(name, mode, dtype):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    g = gc.parse(f"x: [3, 4, 2]\nw: [3, 4, 2]\ny = sum({name}(x) * w * x)")
    rng = np.random.default_rng(7)
    x, w = (rng.normal(size=(3, 4, 2)).astype(dtype) for _ in range(2))
    fn = gc.compile(g, mode=mode)
    value, grads = fn(x=x, w=w)
    ref = jax.value_and_grad(lambda x, w: jnp.sum(getattr(jnp, name)(x) * w * x),
                             argnums=(0, 1))
    want, (gx, gw) = ref(jnp.asarray(x), jnp.asarray(w))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert grads["x"].dtype == dtype
    np.testing.assert_allclose(value, want, rtol=tol)
    np.testing.assert_allclose(grads["x"], gx, rtol=tol, atol=tol)
    np.testing.assert_allclose(grads["w"], gw, rtol=tol, atol=tol)
    assert str(gc.parse(str(g))) == str(g)  # printed back as flipud(x) / fliplr(x)
    assert f"np.{name}(x)" in fn.source


def test_fliplr_of_a_vector_is_a_shape_error_with_its_place():
    with pytest.raises(gc.ShapeError, match="line 2, column 5"):
        gc.parse("x: [3]\ny = fliplr(x)")
