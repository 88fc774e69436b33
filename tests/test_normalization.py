"""layer_norm, rms_norm and batch_norm (graphc/ops/normalization.py) against JAX: values
and gradients in both modes, float32 and float64, optimized and not; the dot-product
test; second order; text round trip and verify; pictures; backends; the saved module;
torch's own functions (the semantics: biased variance, rms_norm's eps); bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import (
    LOSS,
    check_backend_agrees,
    check_dot_product_test,
    check_error_at,
    check_round_trip_of_case,
    check_saved_module,
    check_second_order_of_case,
    check_value_and_gradients,
    values,
)
from conftest import MODES, cross, first_of_each

import graphc as gc


def _norm(jnp, x, axes, eps=1e-5, center=True):
    """The reference, in jax.numpy: (x - mean) / sqrt(biased var + eps) over axes."""
    xc = x - jnp.mean(x, axis=axes, keepdims=True) if center else x
    return xc / jnp.sqrt(jnp.mean(xc * xc, axis=axes, keepdims=True) + eps)


def _batch(jnp, x, w=None, b=None, eps=1e-5):
    per = (slice(None),) + (None,) * (x.ndim - 2)
    out = _norm(jnp, x, (0,) + tuple(range(2, x.ndim)), eps)
    return out * (1 if w is None else w[per]) + (0 if b is None else b[per])


# name -> (declarations of a and b and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "layer_norm affine": ("a: [3, 4]\nb: [4]\nf = layer_norm(a, (4,), weight=b, bias=cos(b))",
                          lambda jnp, a, b: _norm(jnp, a, -1) * b + jnp.cos(b)),
    "layer_norm two axes": ("a: [2, 3, 5]\nb: [3, 5]\nf = layer_norm(a, (3, 5), weight=b)",
                            lambda jnp, a, b: _norm(jnp, a, (-2, -1)) * b),
    "layer_norm bias int shape": ("a: [1, 5]\nb: [5]\nf = layer_norm(a * b, 5, bias=b, eps=0.1)",
                                  lambda jnp, a, b: _norm(jnp, a * b, -1, 0.1) + b),
    "layer_norm plain": ("a: [4]\nb: [2, 1]\nf = layer_norm(a, (4,)) * b",
                         lambda jnp, a, b: _norm(jnp, a, -1) * b),
    "rms_norm weight": ("a: [3, 4]\nb: [4]\nf = rms_norm(a, (4,), weight=b, eps=1e-6)",
                        lambda jnp, a, b: _norm(jnp, a, -1, 1e-6, center=False) * b),
    "rms_norm machine eps": ("a: [2, 3]\nb: [3]\nf = rms_norm(a + b, (2, 3))",
                             lambda jnp, a, b: _norm(jnp, a + b, (-2, -1), 2.0 ** -52, False)),
    "batch_norm 4-d": ("a: [3, 2, 2, 3]\nb: [2]\nf = batch_norm(a, weight=b, bias=sin(b))",
                       lambda jnp, a, b: _batch(jnp, a, b, jnp.sin(b))),
    "batch_norm 2-d": ("a: [5, 3]\nb: [3]\nf = batch_norm(a, bias=b, eps=0.01)",
                       lambda jnp, a, b: _batch(jnp, a, b=b, eps=0.01)),
    "batch_norm 3-d": ("a: [2, 3, 4]\nb: [3]\nf = batch_norm(a * b[:, None], weight=b)",
                       lambda jnp, a, b: _batch(jnp, a * b[:, None], b)),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each op in f64 reverse mode, one forward
       (dtype, optimize) == (np.float64, True) and case in FIRST
       and (mode == "reverse" or case == "layer_norm affine"),
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    if case == "rms_norm machine eps" and dtype == np.float32:
        pytest.skip("eps is float32's there: the reference's 2**-52 is float64's")
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


def test_rms_norm_eps_is_the_dtypes_machine_eps_as_torch(jax):
    """eps=None: np.finfo(x.dtype).eps at call time, float32's for float32 (torch's)."""
    import jax.numpy as jnp

    g = gc.parse("x: [2, 3]\nf = rms_norm(x, (3,))\nL = sum(f * f * x)")
    x = np.array([[1e-4, -2e-4, 3e-4], [0.5, 1.0, -2.0]], np.float32)
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode)(x=x)
        want, ref = jax.value_and_grad(lambda x: jnp.sum(
            _norm(jnp, x, -1, float(np.finfo(np.float32).eps), False) ** 2 * x))(
                x.astype(np.float64))
        assert grads["x"].dtype == np.float32
        np.testing.assert_allclose(value, float(want), rtol=1e-5)
        np.testing.assert_allclose(grads["x"], ref, rtol=2e-3, atol=1e-5)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case == "layer_norm affine", case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


def test_the_backward_reads_the_forwards_statistics():
    """Reverse mode differentiates the expansion: one mean, one variance, one sqrt,
    computed once, their values read by the backward; forward() calls the helper."""
    g = gc.parse(CASES["layer_norm affine"][0] + LOSS)
    fn = gc.compile(g)
    body = fn.source.split("def value_and_grad")[1]
    assert body.count("np.sqrt(") == 1 and body.count("np.mean(") == 2
    assert "std = np.sqrt(" in body and "x_hat" in body
    assert "_normalized(a, -1, 1e-05) * b + np.cos(b)" in fn.source.split("def value_and_grad")[0]
    assert "layer_norm(a, (4,), weight=b, bias=cos(b))" in str(g)


def test_the_saved_module_gives_what_fn_gives(tmp_path):
    g = gc.parse("x: [4, 2, 3]\nw: [3]\nc: [2]\n"
                 "L = sum(sin(layer_norm(x, (3,), weight=w)) + rms_norm(x, (2, 3)))"
                 " + sum(batch_norm(x, weight=c, bias=c) ** 2)")
    at = values(g, seed=1)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        check_saved_module(fn, at, tmp_path / f"saved_norm_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse(CASES["layer_norm affine"][0] + "\nh = rms_norm(a, (4,))" + LOSS + " + sum(h)")
    dot = gc.render(g, at=values(g, seed=2)).source
    for rule in ("mean(f_bar * b * x_hat)", "sum(f_bar * x_hat)", "sum(f_bar)",
                 "(h_bar - x_hat * mean(h_bar * x_hat)) / std"):
        assert rule in dot, rule


def test_the_builder_makes_what_the_text_makes():
    x, w = gc.input("x", shape=(2, 3)), gc.input("w", shape=(3,))
    built = gc.graph(L=gc.sum(gc.layer_norm(x, (3,), weight=w, bias=None))
                     + gc.sum(gc.rms_norm(x, (3,), eps=1e-6)) + gc.sum(gc.batch_norm(x, bias=w)))
    text = gc.parse("x: [2, 3]\nw: [3]\nL = sum(layer_norm(x, (3,), weight=w))"
                    " + sum(rms_norm(x, (3,), eps=1e-06)) + sum(batch_norm(x, bias=w))")
    assert str(built) == str(text)


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_backends_agree(backend, mode):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse("x: [4, 2, 3]\nw: [3]\nc: [2]\n"
                 "L = sum(sin(layer_norm(x, (3,), weight=w, bias=w)) * rms_norm(x, (2, 3)))"
                 " + sum(batch_norm(x, weight=c) ** 2)")
    for dtype in (np.float64, np.float32):
        check_backend_agrees(g, values(g, seed=3, dtype=dtype), backend, mode,
                             rtol_value=1e-5 if dtype == np.float32 else 1e-12, rtol=1e-4,
                             atol=1e-5)


@pytest.mark.slow
def test_torch_computes_the_same():
    """torch.nn.functional's layer_norm, rms_norm (eps=None) and batch_norm in training."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional  # noqa: N806
    rng = np.random.default_rng(4)
    x, w, c = rng.normal(size=(4, 2, 3)), rng.normal(size=3), rng.normal(size=2)
    for dtype in (np.float32, np.float64):
        at = {"x": x.astype(dtype), "w": w.astype(dtype), "c": c.astype(dtype)}
        tx, tw, tc = (torch.tensor(at[k]) for k in "xwc")
        for text, want in (
                ("layer_norm(x, (2, 3), bias=c[:, None] * w)",
                 F.layer_norm(tx, (2, 3), bias=tc[:, None] * tw)),
                ("rms_norm(x, (3,), weight=w)", F.rms_norm(tx, (3,), weight=tw)),
                ("batch_norm(x, weight=c, bias=c, eps=0.001)",
                 F.batch_norm(tx, None, None, tc, tc, training=True, eps=1e-3))):
            g = gc.parse(f"x: [4, 2, 3]\nw: [3]\nc: [2]\nf = {text}")
            got = g.evaluate(**at)["f"]
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-4 if dtype == np.float32
                                       else 1e-12, atol=1e-5 if dtype == np.float32 else 1e-12)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("a: [3, 4]\nf = layer_norm(a, (3,))", ["shape [3]", "last axes of x", "[3, 4]"]),
    ("a: [4]\nf = layer_norm(a, (2, 4))", ["last axes of x"]),
    ("a: [3, 4]\nf = layer_norm(a)", ["needs the normalized shape"]),
    ("a: [3, 4]\nb: [3]\nf = layer_norm(a, (4,), weight=b)", ["weight must have shape [4]"]),
    ("a: [3, 4]\nb: [1, 4]\nf = rms_norm(a, 4, weight=b)", ["weight must have shape [4]"]),
    ("a: [3, 4]\nf = layer_norm(a, (4,), eps=-1.0)", ["eps must be a number >= 0"]),
    ("a: [3, 4]\nf = rms_norm(a, (4,), eps=True)", ["eps must be a number >= 0"]),
    ("b: [4]\nf = layer_norm(a, (4,))", ["declare"]),
    ("a: [3]\nf = batch_norm(a)", ["at least 2 axes"]),
    ("a: [1, 3]\nf = batch_norm(a)", ["more than one value per channel"]),
    ("a: [2, 3, 5]\nb: [5]\nf = batch_norm(a, bias=b)", ["bias must have shape [3]"]),
    ("a: int[2, 3]\nf = batch_norm(a)", ["holds integers"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, words):
    check_error_at(text, gc.ShapeError, words, line=text.count("\n") + 1, col=5)


@pytest.mark.parametrize("text, words", [
    ("a: [3, 4]\nb: [4]\nf = layer_norm(a, (4,), b, b, 0.1, 2)",
     ["takes at most 5 arguments by position, got 6"]),
    ("a: [3, 4]\nb: [4]\nf = layer_norm(a, (4,), b, weight=b)", ["got weight twice"]),
    ("a: [3, 4]\nf = layer_norm(a, (4,), axis=0)", ["takes no keyword axis"]),
    ("a: [3, 4]\nf = batch_norm(a, shape=(4,))", ["takes no keyword shape"]),
])
def test_bad_calls_are_parse_errors(text, words):
    check_error_at(text, gc.ParseError, words, line=text.count("\n") + 1)


def test_a_wrong_shape_at_call_time_is_an_input_error():
    fn = gc.compile(gc.parse("x: [N, 4]\nL = sum(layer_norm(x, (4,)) ** 2)"))
    with pytest.raises(gc.InputError, match="does not match declared"):
        fn(x=np.ones((2, 5)))


def test_torchs_positional_weight_and_bias():
    """layer_norm(x, (4,), w, b, 1e-3) is torch's layer_norm(x, (4,), weight=w, bias=b,
    eps=1e-3), in text and in Python."""
    head = "x: [3, 4]\nw: [4]\nb: [4]\n"
    by_position = gc.parse(head + "f = sum(layer_norm(x, (4,), w, b, 1e-3) ** 3)")
    by_name = gc.parse(head + "f = sum(layer_norm(x, (4,), weight=w, bias=b, eps=1e-3) ** 3)")
    assert str(by_position) == str(by_name)
    x, w, b = gc.input("x", shape=(3, 4)), gc.input("w", shape=(4,)), gc.input("b", shape=(4,))
    assert str(gc.graph(f=gc.sum(gc.layer_norm(x, (4,), w, b, 1e-3) ** 3))) == str(by_name)
    at = {k: np.random.default_rng(1).normal(size=s) for k, s in
          (("x", (3, 4)), ("w", (4,)), ("b", (4,)))}
    assert gc.compile(by_position)(**at)[0] == gc.compile(by_name)(**at)[0]
