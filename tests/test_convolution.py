"""Convolution (graphc/ops/convolution.py: conv1d, conv2d, conv_transpose2d, torch's) against
JAX's lax.conv_general_dilated (conv_transpose2d: the adjoint of JAX's convolution, the
relation torch defines it by): values and gradients in both modes, float32 and float64,
optimized and not; the dot-product test; second order; text round trip and verify; the
bias; pictures; backends; the saved module; bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from checks import (
    LOSS,
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


def _conv(stride, pads, dilation=None, groups=1):
    """JAX's convolution with these options, NCHW (or NCL) and OIHW, as a CASES fn."""
    def fn(jnp, a, b):
        from jax import lax
        k = a.ndim - 2
        layout = ("NCHW", "OIHW", "NCHW") if k == 2 else ("NCH", "OIH", "NCH")
        return lax.conv_general_dilated(a, b, stride, pads, rhs_dilation=dilation or (1,) * k,
                                        dimension_numbers=layout, feature_group_count=groups)
    return fn


def _transposed(stride, padding, output_padding=(0, 0), dilation=(1, 1), groups=1):
    """torch's conv_transpose2d in JAX: the adjoint of the convolution of an input of the
    output's size (torch's definition), by jax.vjp."""
    def fn(jnp, a, b):
        import jax
        size = tuple((n - 1) * s - 2 * p + d * (m - 1) + 1 + e for n, s, p, d, m, e in
                     zip(a.shape[2:], stride, padding, dilation, b.shape[2:], output_padding))
        x0 = jnp.zeros((a.shape[0], b.shape[1] * groups) + size)
        conv = _conv(stride, [(p, p) for p in padding], dilation, groups)
        return jax.vjp(lambda x: conv(jnp, x, b), x0)[1](a)[0]
    return fn


# name -> (declarations of a (the input) and b (the weight) and f = ..., the same in JAX)
CASES = {
    "conv2d plain": ("a: [2, 3, 5, 6]\nb: [4, 3, 3, 2]\nf = conv2d(a, b)",
                     _conv((1, 1), [(0, 0), (0, 0)])),
    "conv2d stride padding": ("a: [2, 3, 7, 6]\nb: [2, 3, 3, 3]\nf = conv2d(a, b, stride=2, "
                              "padding=1)", _conv((2, 2), [(1, 1), (1, 1)])),
    "conv2d pairs": ("a: [1, 2, 7, 5]\nb: [3, 2, 2, 3]\nf = conv2d(a, b, stride=(3, 2), "
                     "padding=(2, 0), dilation=(1, 2))", _conv((3, 2), [(2, 2), (0, 0)], (1, 2))),
    "conv2d same": ("a: [2, 2, 5, 6]\nb: [3, 2, 3, 2]\nf = conv2d(a, b, padding='same')",
                    _conv((1, 1), [(1, 1), (0, 1)])),
    "conv2d same dilated": ("a: [1, 2, 6, 5]\nb: [2, 2, 2, 3]\nf = conv2d(a, b, padding="
                            "'same', dilation=3)", _conv((1, 1), [(1, 2), (3, 3)], (3, 3))),
    "conv2d valid": ("a: [1, 2, 4, 4]\nb: [2, 2, 4, 3]\nf = conv2d(a, b, padding='valid')",
                     _conv((1, 1), [(0, 0), (0, 0)])),
    "conv2d groups": ("a: [2, 4, 5, 5]\nb: [6, 2, 3, 3]\nf = conv2d(a, b, groups=2, stride=2, "
                      "padding=1)", _conv((2, 2), [(1, 1), (1, 1)], groups=2)),
    "conv2d depthwise": ("a: [1, 3, 4, 5]\nb: [3, 1, 2, 2]\nf = conv2d(a, b, groups=3)",
                         _conv((1, 1), [(0, 0), (0, 0)], groups=3)),
    "conv2d low high pads": ("a: [1, 2, 5, 4]\nb: [2, 2, 3, 3]\nf = conv2d(a, b, stride=2, "
                             "padding=((0, 2), (1, 0)))", _conv((2, 2), [(0, 2), (1, 0)])),
    "conv1d plain": ("a: [2, 3, 9]\nb: [4, 3, 3]\nf = conv1d(a, b)", _conv((1,), [(0, 0)])),
    "conv1d options": ("a: [2, 4, 11]\nb: [2, 2, 3]\nf = conv1d(a, b, stride=3, padding=2, "
                       "dilation=2, groups=2)", _conv((3,), [(2, 2)], (2,), 2)),
    "conv1d same": ("a: [1, 2, 7]\nb: [3, 2, 4]\nf = conv1d(a, b, padding='same')",
                    _conv((1,), [(1, 2)])),
    "conv_transpose2d plain": ("a: [2, 3, 4, 3]\nb: [3, 2, 3, 2]\nf = conv_transpose2d(a, b)",
                               _transposed((1, 1), (0, 0))),
    "conv_transpose2d stride": ("a: [1, 2, 3, 4]\nb: [2, 3, 3, 3]\nf = conv_transpose2d(a, b, "
                                "stride=2, padding=1, output_padding=1)",
                                _transposed((2, 2), (1, 1), (1, 1))),
    "conv_transpose2d groups": ("a: [2, 4, 3, 3]\nb: [4, 1, 2, 3]\nf = conv_transpose2d(a, b, "
                                "stride=(1, 3), padding=(0, 1), groups=2, dilation=2)",
                                _transposed((1, 3), (0, 1), (0, 0), (2, 2), 2)),
}
FIRST = {"conv2d stride padding", "conv1d options", "conv_transpose2d stride"}


@cross(lambda case, optimize, dtype, mode:  # fast: each case once, the first in each mode
       (dtype, optimize, mode) == (np.float64, True, "reverse")
       or case in FIRST and (mode, dtype) == ("forward", np.float32),
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> = <v, J^T u> for the input and the weight; J^T u is finite differences'."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The gradient graph, printed, parsed and differentiated again in both modes: JAX's
    Hessian-vector product (the three internal ops' rules, each of the others)."""
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case == "conv2d groups", case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


# ---- the bias, torch's keyword ----------------------------------------------------------
BIASED = {
    "conv2d": ("x: [2, 4, 5, 6]\nw: [6, 2, 3, 3]\nb: [6]\n"
               "f = conv2d(x, w, bias=b, stride=(2, 1), padding='valid', groups=2)",
               lambda jnp, x, w: _conv((2, 1), [(0, 0), (0, 0)], groups=2)(jnp, x, w)),
    "conv1d": ("x: [3, 2, 8]\nw: [3, 2, 3]\nb: [3]\nf = conv1d(x, w, bias=b, dilation=2)",
               lambda jnp, x, w: _conv((1,), [(0, 0)], (2,))(jnp, x, w)),
    "conv_transpose2d": ("x: [2, 2, 3, 3]\nw: [2, 3, 2, 2]\nb: [3]\n"
                         "f = conv_transpose2d(x, w, bias=b, stride=2, output_padding=1)",
                         lambda jnp, x, w: _transposed((2, 2), (0, 0), (1, 1))(jnp, x, w)),
}


@cross(lambda name, mode, dtype: dtype == np.float64 and name == "conv2d",
       name=sorted(BIASED), mode=MODES, dtype=[np.float64, np.float32])
def test_bias_matches_jax(jax, name, mode, dtype):
    import jax.numpy as jnp

    text, fn = BIASED[name]
    g = gc.parse(text + LOSS)
    at = values(g, seed=2, dtype=dtype)
    k = len(g.shape("x")) - 2

    def loss(x, w, b):
        f = fn(jnp, x, w) + jnp.reshape(b, (-1,) + (1,) * k)
        return jnp.sum(jnp.sin(f) * f)
    want, wants = jax.value_and_grad(loss, argnums=(0, 1, 2))(
        *(at[n].astype(np.float64) for n in "xwb"))
    value, grads = gc.compile(g, mode=mode)(**at)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    np.testing.assert_allclose(value, float(want), **tol)
    assert np.asarray(value).dtype == dtype
    for name_, w in zip("xwb", wants):
        assert grads[name_].shape == at[name_].shape and grads[name_].dtype == dtype
        np.testing.assert_allclose(grads[name_], np.asarray(w), **tol, err_msg=name_)


def test_bias_dot_product_second_order_and_round_trip(jax):
    text = BIASED["conv_transpose2d"][0]
    check_dot_product_test(text.replace("x:", "a:").replace("(x,", "(a,").replace("b: [3]",
                           "c: [3]").replace("bias=b", "bias=c").replace("w", "b"))
    g = gc.parse(text + "\nL = sum(f * f * f)")
    at = values(g, seed=8)
    grads = gc.compile(g).grad_graph
    g2 = gc.parse("v: [3]\n" + str(grads) + "\nh = sum(b_bar * v)")
    v = np.random.default_rng(9).normal(size=3)
    want = gc.hvp(g, wrt=["b"])(**at, v={"b": v})[2]["b"]
    for mode in MODES:
        hv = gc.compile(g2, of="h", wrt=["b"], mode=mode)(**at, v=v)[1]["b"]
        np.testing.assert_allclose(hv, want, rtol=1e-10)
    assert str(gc.parse(str(g))) == str(g) and "bias=b" in str(g)


def test_the_builder_makes_what_the_text_makes():
    x, w = gc.input("x", shape=(2, 4, 5, 5)), gc.input("w", shape=(4, 2, 3, 3))
    b, s, v = gc.input("b", shape=(4,)), gc.input("s", shape=(2, 4, 7)), \
        gc.input("v", shape=(3, 4, 2))
    built = gc.graph(L=gc.sum(gc.conv2d(x, w, bias=b, stride=2, padding=(1, 0),
                                        groups=2))
                     + gc.sum(gc.conv1d(s, v, padding="same"))
                     + gc.sum(gc.conv_transpose2d(x, w, stride=2, output_padding=1)))
    text = gc.parse("x: [2, 4, 5, 5]\nw: [4, 2, 3, 3]\nb: [4]\ns: [2, 4, 7]\nv: [3, 4, 2]\n"
                    "L = sum(conv2d(x, w, bias=b, stride=2, padding=(1, 0), groups=2))"
                    " + sum(conv1d(s, v, padding='same'))"
                    " + sum(conv_transpose2d(x, w, stride=2, output_padding=1))")
    assert str(built) == str(text)
    assert "conv1d(s, v, padding='same')" in str(text)


# ---- the emitted code, pictures, backends, the saved module -----------------------------
PROGRAM = ("x: [2, 2, 5, 6]\nw: [4, 2, 3, 3]\nb: [4]\nt: [2, 4, 3, 3]\n"
           "h = tanh(conv2d(x, w, bias=b, stride=2, padding=1))\n"
           "u = conv_transpose2d(h * t, w, stride=2, padding=1, output_padding=(0, 1))\n"
           "L = sum(u * x) + sum(h * h)")


def _program_values(dtype=np.float64):
    return values(gc.parse(PROGRAM), seed=10, dtype=dtype)


def test_emitted_code_is_vectorised_numpy_and_the_saved_module_agrees(tmp_path):
    """Window views and matmuls, no loop over pixels; the saved module gives fn()'s."""
    g = gc.parse(PROGRAM)
    at = _program_values()
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        source = fn.source
        assert "_conv(x, w, stride=2, padding=1, bias=b)" in source
        assert "sliding_window_view" in source and "np.matmul" in source
        assert "for " not in source[source.index("def value_and_grad"):]
        check_saved_module(fn, at, tmp_path / f"saved_conv_{mode}.py")


def test_pictures_show_each_rule():
    g = gc.parse(PROGRAM)
    dot = gc.render(g, at=_program_values()).source
    for rule in ("conv_transpose2d(", "conv2d(", "windows correlated with",
                 "axis=(0, 2, 3)"):
        assert rule in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_backends_agree(backend):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    from checks import check_backend_matches_numpy
    check_backend_matches_numpy(gc.parse(PROGRAM), _program_values, backend,
                                rtol_value=1e-6, rtol=1e-5, atol=1e-6)


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("a: [2, 3, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b)", ["declared input of 4 dimensions",
                                                          "N, C, H, W", "[2, 3, 5]"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3]\nf = conv2d(a, b)", ["weight of 4 dimensions"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3]\nf = conv1d(a, b)", ["3 dimensions", "N, C, L"]),
    ("a: [2, 6, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, groups=4)",
     ["groups=4 must divide the input channels (6)"]),
    ("a: [2, 6, 5, 5]\nb: [4, 2, 3, 3]\nf = conv2d(a, b, groups=2)",
     ["second axis must be C_in/groups = 3, got 2"]),
    ("a: [2, 3, 5, 5]\nb: [4, 2, 3, 3]\nf = conv2d(a, b)", ["C_in/groups = 3, got 2"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, groups=0)", ["positive integer"]),
    ("a: [2, 3, 4, 5]\nb: [4, 3, 5, 3]\nf = conv2d(a, b, padding=0)",
     ["kernel (5, dilated to 5) is larger than the padded input along H (4 + 0)"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, dilation=3)",
     ["dilated to 7", "along H (5 + 0)"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, padding='same', stride=2)",
     ["padding='same' needs stride 1"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, padding='full')",
     ["padding 'full' is not an option"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, stride=(1, 0))",
     ["stride must be an integer >= 1 or 2 of them"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, padding=(1, 2, 3))",
     ["padding must be an integer >= 0 or 2 of them"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, padding=-1)", ["padding must be"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, padding=((1, 1),))", ["2 pairs"]),
    ("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nc: [3]\nf = conv2d(a, b, bias=c)",
     ["bias must have shape [4]", "[3]"]),
    ("a: [N, 3, H, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b)", ["sizes after the first as numbers"]),
    ("a: [2, 4, 3, 3]\nb: [3, 2, 3, 3]\nf = conv_transpose2d(a, b)",
     ["weight's first axis (3) must be the input's channels (4)"]),
    ("a: [2, 3, 3, 3]\nb: [3, 2, 3, 3]\nf = conv_transpose2d(a, b, groups=2)",
     ["groups=2 must divide the input channels (3)"]),
    ("a: [2, 3, 3, 3]\nb: [3, 2, 3, 3]\nf = conv_transpose2d(a, b, stride=2, output_padding=2)",
     ["output_padding 2 must be smaller than the stride (2)"]),
    ("a: [2, 3, 3, 3]\nb: [3, 2, 3, 3]\nf = conv_transpose2d(a, b, padding='same')",
     ["padding 'same' is not an option"]),
    ("a: [2, 3, 1, 1]\nb: [3, 2, 1, 1]\nf = conv_transpose2d(a, b, padding=1)",
     ["leaves an output of size"]),
])
def test_bad_shapes_are_shape_errors_at_their_line(text, words):
    check_error_at(text + "\ny = 1", gc.ShapeError, words, line=text.count("\n") + 1, col=5)


def test_bad_calls_are_clear():
    check_error_at("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nc: [4]\nf = conv2d(a, b, c, 1, 0, 1, 1, 2)",
                   gc.ParseError, ["takes at most 7 arguments by position, got 8"], line=4,
                   col=5)
    check_error_at("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nc: [4]\nf = conv2d(a, b, c, bias=c)",
                   gc.ParseError, ["got bias twice"], line=4)
    check_error_at("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, strides=2)",
                   gc.ParseError, ["takes no keyword strides"], line=3)
    check_error_at("a: [2, 3, 5, 5]\nb: [4, 3, 3, 3]\nf = conv2d(a, b, groups=1.5)",
                   gc.ParseError, ["groups must be an integer"], line=3)
    check_error_at("a: [2, 3, 5, 5]\ni: int[4, 3, 3, 3]\nf = conv2d(a, i)", gc.ShapeError,
                   ["holds integers"], line=3)
    x = gc.input("x")
    with pytest.raises(gc.ShapeError, match="declared input"):
        gc.graph(f=gc.conv2d(x, gc.input("w", shape=(1, 1, 1, 1))))
    with pytest.raises(gc.GraphcError, match="conv2d.. takes at most 7 arguments"):
        gc.conv2d(x, x, x, 1, 0, 1, 1, 2)
    with pytest.raises(gc.GraphcError, match="got bias twice"):
        gc.conv2d(x, x, x, bias=x)


def test_wrong_input_sizes_at_call_time_are_input_errors():
    g = gc.parse("x: [N, 2, 5, 5]\nw: [3, 2, 3, 3]\nL = sum(conv2d(x, w, padding=1))")
    fn = gc.compile(g)
    value, grads = fn(x=np.ones((4, 2, 5, 5)), w=np.ones((3, 2, 3, 3)))
    # each output sums the 2 * 3 * 3 taps inside the padded input: 4 at a corner ...
    inside = np.array([2, 3, 3, 3, 2])
    want = 4 * 3 * 2 * np.outer(inside, inside).sum()
    assert grads["x"].shape == (4, 2, 5, 5) and value == pytest.approx(want)
    with pytest.raises(gc.InputError):
        fn(x=np.ones((4, 2, 6, 5)), w=np.ones((3, 2, 3, 3)))


def test_torchs_positional_arguments_are_its_keywords():
    """conv2d(x, w, b, 2, 1) is torch's conv2d(x, w, bias=b, stride=2, padding=1), in text
    and in Python, and prints back by keyword."""
    head = "a: [2, 3, 6, 6]\nb: [4, 3, 3, 3]\nc: [4]\n"
    by_position = gc.parse(head + "f = sum(conv2d(a, b, c, 2, 1) ** 2)")
    by_name = gc.parse(head + "f = sum(conv2d(a, b, bias=c, stride=2, padding=1) ** 2)")
    assert str(by_position) == str(by_name)
    a, b, c = (gc.input(k, shape=s) for k, s in (("a", (2, 3, 6, 6)), ("b", (4, 3, 3, 3)),
                                                  ("c", (4,))))
    assert str(gc.graph(f=gc.sum(gc.conv2d(a, b, c, 2, 1) ** 2))) == str(by_name)
    rng = np.random.default_rng(0)
    at = {"a": rng.normal(size=(2, 3, 6, 6)), "b": rng.normal(size=(4, 3, 3, 3)),
          "c": rng.normal(size=4)}
    value, grads = gc.compile(by_position)(**at)
    want, want_grads = gc.compile(by_name)(**at)
    assert value == want and all(np.array_equal(grads[k], want_grads[k]) for k in at)
