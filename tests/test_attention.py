"""attention(q, k, v, mask=None, is_causal=False, scale=None) (graphc/ops/attention.py)
against JAX (jax.numpy and jax.nn.dot_product_attention) and torch's
scaled_dot_product_attention: values and gradients in both modes, float32 and float64,
optimized and not, broadcasting batch and head axes; the dot-product test; second
order; text round trip and verify; pictures; backends; the saved module; bad input."""

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
from conftest import MODES, cross

import graphc as gc


def _attention(jnp, q, k, v, mask=None, scale=None):
    """The reference in jax.numpy: softmax(q @ k^T * scale, masked) @ v."""
    scores = q @ jnp.swapaxes(k, -1, -2) * (q.shape[-1] ** -0.5 if scale is None else scale)
    if mask is not None:
        scores = jnp.where(mask, scores, -jnp.inf)
    import jax

    return jax.nn.softmax(scores, axis=-1) @ v


# name -> (declarations of a and b and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "attention 2-d": ("a: [3, 4]\nb: [5, 4]\nf = attention(a, b, cos(b))",
                      lambda jnp, a, b: _attention(jnp, a, b, jnp.cos(b))),
    "attention heads broadcast": (
        "a: [2, 1, 3, 4]\nb: [3, 5, 4]\nf = attention(a, b, b[..., :2] * 2)",
        lambda jnp, a, b: _attention(jnp, a, b, b[..., :2] * 2)),
    "attention mask": ("a: [2, 3, 4]\nb: [5, 4]\n"
                       "f = attention(a, b, sin(b), mask=triu(ones((3, 5)), 1) < 1)",
                       lambda jnp, a, b: _attention(jnp, a, b, jnp.sin(b),
                                                    jnp.triu(jnp.ones((3, 5)), 1) < 1)),
    "attention mask per batch": ("a: [2, 3, 1]\nb: [1, 3, 2]\nf = attention(a, a, b, "
                                 "mask=stack([tri(3, 3), ones((3, 3))]) > 0, scale=0.5)",
                                 lambda jnp, a, b: _attention(
                                     jnp, a, a, b, jnp.stack([jnp.tri(3, 3), jnp.ones((3, 3))]) > 0,
                                     0.5)),
    "attention causal": ("a: [4, 2]\nb: [4, 3]\nf = attention(a, a * 2, b, is_causal=True)",
                         lambda jnp, a, b: _attention(jnp, a, a * 2, b,
                                                      jnp.tril(jnp.ones((4, 4))) > 0)),
}


@cross(lambda case, optimize, dtype, mode:  # fast: three cases, reverse mode; one forward
       (dtype, optimize) == (np.float64, True)
       and case in ("attention heads broadcast", "attention mask", "attention causal")
       and (mode == "reverse" or case == "attention mask"),
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


def test_jax_nn_dot_product_attention_agrees(jax):
    """jax.nn's layout is [B, T, N, H] (heads third): graphc's [B, N, T, H] transposed."""
    import jax.numpy as jnp

    g = gc.parse("q: [2, 3, 4, 5]\nk: [2, 3, 6, 5]\nv: [2, 3, 6, 5]\nm: [4, 6]\n"
                 "f = attention(q, k, v, mask=m > 0)\nL = sum(sin(f) * f)")
    at = values(g, seed=1)
    at["m"] = np.where(np.arange(6) < np.arange(4)[:, None] + 2, 1.0, -1.0)
    mask = jnp.asarray(at["m"] > 0)[None, None]

    def t(x):  # [B, N, T, H] <-> [B, T, N, H]
        return jnp.swapaxes(x, 1, 2)

    def loss(q, k, v):
        f = t(jax.nn.dot_product_attention(t(q), t(k), t(v), mask=mask))
        return jnp.sum(jnp.sin(f) * f)
    want, refs = jax.value_and_grad(loss, argnums=(0, 1, 2))(at["q"], at["k"], at["v"])
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode, wrt=["q", "k", "v"])(**at)
        # jax.nn's gradients are float32-accurate (~1e-7) even for float64 inputs here
        np.testing.assert_allclose(value, float(want), rtol=1e-8)
        for name, ref in zip("qkv", refs):
            np.testing.assert_allclose(grads[name], ref, rtol=1e-5, atol=1e-6)


@cross(lambda case: case in ("attention mask", "attention causal"), case=sorted(CASES))
def test_dot_product_test(case):
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case == "attention mask", case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case == "attention causal", case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


def test_the_backward_reads_the_forwards_softmax():
    """Reverse mode differentiates the expansion: the softmax is computed once, as
    ``weights``, and the backward reads it; forward() calls the helper."""
    g = gc.parse(CASES["attention mask"][0] + LOSS)
    fn = gc.compile(g)
    head, body = fn.source.split("def value_and_grad")
    assert body.count("_softmax(") == 1 and "weights = _softmax(np.where(" in body
    assert "np.tensordot(weights, f_bar, axes=((0, 1), (0, 1)))" in body  # v_bar = P.T @ f_bar
    assert "_attention(a, b, np.sin(b), mask=" in head
    assert "attention(a, b, sin(b), mask=" in str(g)


def test_the_saved_module_gives_what_fn_gives(tmp_path):
    g = gc.parse(CASES["attention causal"][0] + LOSS)
    at = values(g, seed=2)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        check_saved_module(fn, at, tmp_path / f"saved_attention_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse(CASES["attention 2-d"][0] + LOSS)
    dot = gc.render(g, at=values(g, seed=3)).source
    for rule in ("(P * (dP - sum(dP * P))) @ b * scale", ".mT @ a * scale", "P.mT @ f_bar"):
        assert rule in dot, rule


def test_the_builder_makes_what_the_text_makes():
    q, k = gc.input("q", shape=(3, 4)), gc.input("k", shape=(5, 4))
    built = gc.graph(L=gc.sum(gc.attention(q, k, k, mask=gc.ones((3, 5)) > 0, scale=0.25))
                     + gc.sum(gc.attention(q, q, q, is_causal=True, mask=None)))
    text = gc.parse("q: [3, 4]\nk: [5, 4]\nL = sum(attention(q, k, k, mask=ones((3, 5)) > 0,"
                    " scale=0.25)) + sum(attention(q, q, q, is_causal=True))")
    assert str(built) == str(text)


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_backends_agree(backend, mode):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(CASES["attention mask"][0] + LOSS)
    for dtype in (np.float64, np.float32):
        check_backend_agrees(g, values(g, seed=4, dtype=dtype), backend, mode,
                             rtol_value=1e-5 if dtype == np.float32 else 1e-12, rtol=1e-4,
                             atol=1e-5)


@pytest.mark.slow
def test_torch_computes_the_same():
    """torch's scaled_dot_product_attention: a boolean attn_mask (True = keep), is_causal."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional  # noqa: N806
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(5, 3))
    mask = rng.uniform(size=(3, 5)) < 0.7
    mask[:, 0] = True  # no row masked entirely
    for dtype in (np.float32, np.float64):
        tq, tk, tv = (torch.tensor(x.astype(dtype)) for x in (q, k, v))
        for text, want in (
                ("attention(q, k, v, mask=m > 0.5)",
                 F.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))),
                ("attention(q, k[:, :3], v[:3], is_causal=True)",
                 F.scaled_dot_product_attention(tq, tk[:, :3], tv[:3], is_causal=True))):
            g = gc.parse(f"q: [2, 3, 4]\nk: [2, 5, 4]\nv: [5, 3]\nm: [3, 5]\nf = {text}")
            got = g.evaluate(q=q.astype(dtype), k=k.astype(dtype), v=v.astype(dtype),
                             m=mask.astype(dtype))["f"]
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-5 if dtype == np.float32
                                       else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-12)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("q: [3, 4]\nk: [5, 4]\nm: [5, 3]\nf = attention(q, k, k, mask=m > 0)",
     ["mask [5, 3] must broadcast to the scores' shape [3, 5]"]),
    ("q: [3, 4]\nk: [5, 4]\nm: [2, 3, 5]\nf = attention(q, k, k, mask=m > 0)",
     ["mask [2, 3, 5] must broadcast"]),
    ("q: [3, 4]\nk: [5, 4]\nm: [3, 5]\nf = attention(q, k, k, mask=m)", ["must be booleans"]),
    ("q: [3, 4]\nk: [5, 4]\nm: [3, 5]\nf = attention(q, k, k, mask=m > 0, is_causal=True)",
     ["not both"]),
    ("q: [3, 4]\nk: [5, 3]\nf = attention(q, k, k)", ["k [..., S, d]", "[3, 4], [5, 3]"]),
    ("q: [3, 4]\nk: [5, 4]\nv: [4, 2]\nf = attention(q, k, v)", ["v [..., S, dv]"]),
    ("q: [4]\nk: [5, 4]\nf = attention(q, k, k)", ["at least 2 axes"]),
    ("q: [2, 3, 4]\nk: [3, 5, 4]\nf = attention(q, k, k)", ["do not broadcast"]),
    ("q: [3, 4]\nk: [5, 4]\nf = attention(q, k, k, scale=inf)", ["scale must be a number"]),
    ("k: [5, 4]\nf = attention(q, k, k)", ["declare"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, words):
    check_error_at(text, gc.ShapeError, words, line=text.count("\n") + 1, col=5)


def test_bad_calls_are_parse_errors():
    check_error_at("q: [3, 4]\nf = attention(q, q, q, q > 0, 0.0)", gc.ParseError,
                   ["attention() takes at most 4 arguments by position, got 5"], line=2)
    assert str(gc.parse("q: [3, 4]\nf = attention(q, q, q, q @ q.T > 0)")) == \
        str(gc.parse("q: [3, 4]\nf = attention(q, q, q, mask=q @ q.T > 0)"))  # attn_mask
    check_error_at("q: [3, 4]\nf = attention(q, q, q, causal=True)", gc.ParseError,
                   ["takes no keyword causal", "is_causal"], line=2)


def test_a_row_masked_entirely_is_nan_as_torchs():
    g = gc.parse("q: [2, 3]\nm: [2, 2]\nf = attention(q, q, q, mask=m > 0)")
    with pytest.warns(RuntimeWarning, match="invalid value"):  # NumPy's, as log(-1)'s
        out = g.evaluate(q=np.ones((2, 3)), m=np.array([[1.0, -1.0], [-1.0, -1.0]]))["f"]
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_a_width_declared_by_name_is_read_at_call_time():
    """q: [T, D]: the scale 1/sqrt(D) is read off q when called, in both modes, the same
    numbers as with D declared as a number."""
    named = gc.parse("q: [T, D]\nk: [S, D]\nv: [S, E]\nf = sum(attention(q, k, v) ** 2)")
    sized = gc.parse("q: [3, 4]\nk: [5, 4]\nv: [5, 2]\nf = sum(attention(q, k, v) ** 2)")
    rng = np.random.default_rng(3)
    at = {"q": rng.normal(size=(3, 4)), "k": rng.normal(size=(5, 4)), "v": rng.normal(size=(5, 2))}
    want, want_grads = gc.compile(sized)(**at)
    for mode in ("reverse", "forward"):
        value, grads = gc.compile(named, mode=mode)(**at)
        np.testing.assert_allclose(value, want, rtol=1e-14)
        for k in at:
            np.testing.assert_allclose(grads[k], want_grads[k], rtol=1e-12, atol=1e-14)
