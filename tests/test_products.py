"""dot, inner, outer, kron, tensordot, einsum (graphc/ops/products.py) and sort
(sorting.py) against JAX: values and gradients in both modes, float32 and float64,
optimized and not; the dot-product test; second order; text round trip; pictures;
backends; bad input."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest
from checks import (
    LOSS,
    check_backend_agrees,
    check_dot_product_test,
    check_round_trip_of_case,
    check_saved_module,
    check_second_order_of_case,
    check_value_and_gradients,
    values,
)
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc

# name -> (declarations and f = ..., the same f in JAX: fn(jnp, a, b))
CASES = {
    "dot mat-mat": ("a: [3, 4]\nb: [4, 2]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot vec-vec": ("a: [4]\nb: [4]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot mat-vec": ("a: [3, 4]\nb: [4]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot scalar-mat": ("a: scalar\nb: [2, 3]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot mat-scalar": ("a: [2, 3]\nb: scalar\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot scalars": ("a: scalar\nb: scalar\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot N-d vec": ("a: [2, 3, 4]\nb: [4]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot vec N-d": ("a: [4]\nb: [3, 4, 2]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot N-d N-d": ("a: [2, 3, 4]\nb: [5, 4, 2]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "dot size 1": ("a: [1, 4]\nb: [4, 1]\nf = dot(a, b)", lambda jnp, a, b: jnp.dot(a, b)),
    "inner mats": ("a: [3, 4]\nb: [5, 4]\nf = inner(a, b)", lambda jnp, a, b: jnp.inner(a, b)),
    "inner vecs": ("a: [3]\nb: [3]\nf = inner(a, b)", lambda jnp, a, b: jnp.inner(a, b)),
    "inner N-d": ("a: [2, 1, 3]\nb: [3]\nf = inner(a, b)", lambda jnp, a, b: jnp.inner(a, b)),
    "inner scalar": ("a: scalar\nb: [2, 3]\nf = inner(a, b)", lambda jnp, a, b: jnp.inner(a, b)),
    "outer": ("a: [3]\nb: [4]\nf = outer(a, b)", lambda jnp, a, b: jnp.outer(a, b)),
    "outer size 1": ("a: [1]\nb: [4]\nf = outer(a, b)", lambda jnp, a, b: jnp.outer(a, b)),
    "kron mats": ("a: [2, 3]\nb: [4, 2]\nf = kron(a, b)", lambda jnp, a, b: jnp.kron(a, b)),
    "kron vec-mat": ("a: [3]\nb: [2, 2]\nf = kron(a, b)", lambda jnp, a, b: jnp.kron(a, b)),
    "kron 3-d vec": ("a: [2, 1, 2]\nb: [3]\nf = kron(a, b)", lambda jnp, a, b: jnp.kron(a, b)),
    "kron scalar": ("a: scalar\nb: [2, 2]\nf = kron(a, b)", lambda jnp, a, b: jnp.kron(a, b)),
    "tensordot 2": ("a: [2, 3, 4]\nb: [3, 4, 2]\nf = tensordot(a, b)",
                    lambda jnp, a, b: jnp.tensordot(a, b)),
    "tensordot 1": ("a: [2, 3]\nb: [3, 1, 2]\nf = tensordot(a, b, axes=1)",
                    lambda jnp, a, b: jnp.tensordot(a, b, axes=1)),
    "tensordot 0": ("a: [2]\nb: [3, 2]\nf = tensordot(a, b, axes=0)",
                    lambda jnp, a, b: jnp.tensordot(a, b, axes=0)),
    "tensordot lists": ("a: [2, 3, 4]\nb: [4, 3, 5]\nf = tensordot(a, b, axes=([1, 2], [1, 0]))",
                        lambda jnp, a, b: jnp.tensordot(a, b, axes=([1, 2], [1, 0]))),
    "tensordot negative": ("a: [3, 4]\nb: [4, 3]\nf = tensordot(a, b, axes=((-1,), (0,)))",
                           lambda jnp, a, b: jnp.tensordot(a, b, axes=((-1,), (0,)))),
    "einsum matmul": ("a: [3, 4]\nb: [4, 2]\nf = einsum('ij,jk->ik', a, b)",
                      lambda jnp, a, b: jnp.einsum("ij,jk->ik", a, b)),
    "einsum implicit": ("a: [3, 4]\nb: [4, 2]\nf = einsum('ij,jk', a, b)",
                        lambda jnp, a, b: jnp.einsum("ij,jk", a, b)),
    "einsum size 1": ("a: [3, 1]\nb: [4, 2]\nf = einsum('ij,jk->ik', a, b)",
                      lambda jnp, a, b: jnp.einsum("ij,jk->ik", a, b)),
    "einsum size 1 alone": ("a: [3, 1]\nb: [1, 4, 2]\nf = einsum('ij,ljk->ki', a, b)",
                            lambda jnp, a, b: jnp.einsum("ij,ljk->ki", a, b)),
    "einsum permuted": ("a: [2, 3, 4]\nb: [4, 3]\nf = einsum('ijk,kj->ji', a, b)",
                        lambda jnp, a, b: jnp.einsum("ijk,kj->ji", a, b)),
    "einsum summed alone": ("a: [2, 3]\nb: [4]\nf = einsum('ij,k->kj', a, b)",
                            lambda jnp, a, b: jnp.einsum("ij,k->kj", a, b)),
    "einsum one operand": ("a: [2, 3, 4]\nb: [3]\nf = einsum('ijk->kj', a) * b",
                           lambda jnp, a, b: jnp.einsum("ijk->kj", a) * b),
    "einsum transpose": ("a: [2, 3]\nb: [2]\nf = einsum('ij->ji', a) * b",
                         lambda jnp, a, b: jnp.einsum("ij->ji", a) * b),
    "sort": ("a: [2, 5]\nb: [5]\nf = sort(a) * b", lambda jnp, a, b: jnp.sort(a) * b),
    "sort axis 0": ("a: [3, 4]\nb: [4]\nf = sort(a * b, axis=0)",
                    lambda jnp, a, b: jnp.sort(a * b, axis=0)),
    "sort vector": ("a: [6]\nb: scalar\nf = sort(a * b)", lambda jnp, a, b: jnp.sort(a * b)),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each op in f64 in both modes
       (dtype, optimize) == (np.float64, True) and case in FIRST
       or case == ("dot mat-mat" if optimize else "einsum matmul"),  # forward, f32, noopt
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u; and J^T u
    is the finite differences' gradient."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in ("outer", "einsum implicit", "inner N-d"), case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The reverse-mode gradient graph, printed and parsed again, differentiated again
    in both modes: JAX's Hessian-vector product."""
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


def test_the_builder_makes_what_the_text_makes():
    a, b = gc.input("a", shape=(2, 3)), gc.input("b", shape=(3, 2))
    built = gc.graph(L=gc.sum(gc.sort(gc.dot(a, b) + gc.einsum("ij,jk->ik", a, b)))
                     + gc.sum(gc.tensordot(a, b, axes=([0, 1], [1, 0])))
                     + gc.sum(gc.kron(a, b)) + gc.sum(gc.inner(a, a))
                     + gc.sum(gc.outer(gc.einsum("ij->j", a), gc.einsum("ij->i", b))))
    text = gc.parse("a: [2, 3]\nb: [3, 2]\n"
                    "L = sum(sort(dot(a, b) + einsum('ij,jk->ik', a, b))) "
                    "+ sum(tensordot(a, b, axes=([0, 1], [1, 0]))) + sum(kron(a, b)) "
                    "+ sum(inner(a, a)) + sum(outer(einsum('ij->j', a), einsum('ij->i', b)))")
    at = values(text, seed=8)
    assert str(built) == str(text)
    assert built.evaluate(**at)["L"] == text.evaluate(**at)["L"]
    with pytest.raises(gc.GraphcError,
                       match="einsum takes one or two operands after its subscripts, got 3"):
        gc.einsum("i,i,i->i", a, a, a)


def test_emitted_code_is_numpys():
    """NumPy's own functions run the forward; dot of matrices keeps matmul's BLAS
    adjoints (out_bar @ b.T); sort's adjoint follows the permutation."""
    g = gc.parse("a: [3, 4]\nb: [4, 2]\nc: [2, 3, 4]\nd: [4, 3, 2]\n"
                 "L = sum(sin(dot(a, b))) + sum(tensordot(c, d, axes=1)) + sum(kron(a, b))"
                 " + sum(sort(a, axis=0) * a) + sum(tensordot(c, d, axes=((2, 1), (0, 1))))")
    source = gc.compile(g).source
    for spelled in ("np.dot(a, b)", "np.tensordot(c, d, axes=1)", "np.kron(a, b)",
                    "np.sort(a, axis=0)", "np.tensordot(c, d, axes=((2, 1), (0, 1)))",
                    "@ b.T", "a.T @", "_sorted_like(", "_kron_grad("):
        assert spelled in source, spelled
    imports = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import numpy as np"]


def test_pictures_show_each_products_rule():
    g = gc.parse("a: [3, 4]\nb: [4, 2]\nc: [5]\n"
                 "L = sum(dot(a, b)) + sum(sort(c)) + sum(einsum('ij,jk->ki', a, b))")
    dot = gc.render(g, at=values(g)).source
    for rule in ("a_bar += ", "f_bar @ b.T", "moved back where sorting took c",
                 "einsum(", "to a's axes"):
        assert rule.replace("f_bar", "") in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
@pytest.mark.parametrize("case", ["dot N-d N-d", "kron mats", "tensordot lists",
                                  "einsum summed alone", "sort axis 0", "outer"])
def test_backends_agree(case, backend):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(CASES[case][0] + LOSS)
    check_backend_agrees(g, values(g, seed=9), backend)


@pytest.mark.parametrize("case", ["dot N-d N-d", "kron vec-mat", "tensordot 2",
                                  "einsum one operand", "sort"])
def test_the_saved_module_computes_what_fn_computes(case, tmp_path):
    g = gc.parse(CASES[case][0] + LOSS)
    fn = gc.compile(g)
    at = values(g, 10)
    check_saved_module(fn, at, tmp_path / "saved.py")


def test_sort_ties_and_nan_follow_jax(jax, mode):
    """Ties: the stable order (the earlier entry takes the earlier place), as JAX's
    sort's jvp; NaN sorts last, its gradient goes with it."""
    import jax.numpy as jnp

    x = np.array([[3.0, 1.0, 3.0, 1.0, 2.0], [0.0, 0.0, np.nan, 5.0, 0.0]])
    w = np.arange(10.0).reshape(2, 5)
    g = gc.parse("x: [2, 5]\nw: [2, 5]\nL = sum(sort(x) * w)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, grads = gc.compile(g, mode=mode)(x=x, w=w)
    want = jax.grad(lambda x: jnp.sum(jnp.sort(x) * w))(x)
    np.testing.assert_array_equal(grads["x"], np.asarray(want))
    np.testing.assert_array_equal(grads["x"][0], [3.0, 0.0, 4.0, 1.0, 2.0])


def test_dot_of_scalars_is_a_product_and_keeps_float32():
    g = gc.parse("a: scalar\nb: [3]\nf = sum(dot(a, b) * dot(b, b))")
    at = {"a": np.float32(2.0), "b": np.array([1.0, 2.0, 3.0], np.float32)}
    value, grads = gc.compile(g)(**at)
    assert value == np.float32(2.0 * 6.0 * 14.0) and value.dtype == np.float32
    assert grads["a"] == np.float32(6.0 * 14.0) and grads["a"].dtype == np.float32


# ---- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize("text, words", [
    ("a: [3, 4]\nb: [5, 2]\nc = dot(a, b)", ["dot", "'b' is 4", "5"]),
    ("a: [3, 4]\nb: [3, 5]\nc = inner(a, b)", ["inner", "4", "5"]),
    ("a: [3, 4]\nb: [4]\nc = outer(a, b)", ["outer takes two vectors"]),
    ("a: [3, 4]\nb: [4]\nc = tensordot(a, b, axes=2)", ["axes=2", "2 dimensions"]),
    ("a: [3, 4]\nb: [4]\nc = tensordot(a, b, axes=([0, 1], [0]))", ["pairs 2 axes", "1 of b"]),
    ("a: [3, 4]\nb: [4]\nc = tensordot(a, b, axes=([2], [0]))", ["axis 2 is out of range"]),
    ("a: [3, 4]\nb: [4, 4]\nc = tensordot(a, b, axes=([1, 1], [0, 1]))", ["twice"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('ij,j,k->i', a, b)", ["3 operands", "2 given"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('ij,jj->i', a, b)", ["repeats a letter"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('...j,j->...', a, b)", ["ellips"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('ij,j->q', a, b)", ["'q' names no operand's axis"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('ij,jk->i', a, b)", ["'jk' names 2 axes", "1"]),
    ("a: [3, 4]\nb: [4]\nc = einsum('i1,1->i', a, b)", ["'1'", "not a letter"]),
    ("a: [3, 4]\nb: [5]\nc = einsum('ij,j->i', a, b)", ["axis 'j' is 4", "5"]),
    ("a: [3, 4]\nc = sort(a, axis=2)", ["axis 2 is out of range"]),
])
def test_shape_errors_have_line_and_column(text, words):
    with pytest.raises(gc.ShapeError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == (3 if "b:" in text else 2, 5)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize("text, words", [
    ("a: [3, 4]\nc = einsum(a, 'ij->j')", ["first argument is its subscripts"]),
    ("a: [3, 4]\nc = einsum()", ["first argument is its subscripts"]),
    ("a: [3, 4]\nc = einsum('ij')", ["one or two operands after its subscripts, got 0"]),
    ("a: [3, 4]\nc = einsum('ij,jk,kl->il', a, a, a)", ["one or two operands", "got 3"]),
    ("a: [3, 4]\nc = sort(a, axis=(0, 1))", ["sort's axis is one integer"]),
    ("a: [3, 4]\nc = sort(a, axis=None)", ["axis must be an integer"]),
    ("a: [3, 4]\nc = dot(a, 'x')", ["strings are not allowed"]),
])
def test_bad_calls_are_errors_with_a_line(text, words):
    with pytest.raises(gc.GraphcError) as info:
        gc.parse(text)
    assert info.value.line == 2
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize("call", ["dot(x, i)", "inner(i, x)", "outer(x, i)", "kron(i, x)",
                                  "tensordot(x, i, axes=1)", "einsum('i,i->', x, i)"])
def test_integer_operands_are_refused_with_a_line(call):
    with pytest.raises(gc.ShapeError, match="i holds integers") as info:
        gc.parse(f"x: [3]\ni: int[3]\ny = {call}")
    assert (info.value.line, info.value.col) == (3, 5)


def test_undeclared_operands_are_asked_to_be_declared():
    """Without declared shapes the products' axes are not known when differentiating:
    a clear error, not a gradient of the wrong shape."""
    g = gc.parse("y = sum(dot(a, b)) * sum(b)")
    a, b = np.ones((2, 3)), np.ones(3)
    assert g.evaluate(a=a, b=b)["y"] == 18.0
    with pytest.raises(gc.GraphcError, match="derivative of dot .* declare"):
        gc.compile(g)


def test_sort_of_the_flattened_array_is_refused_in_the_builder():
    with pytest.raises(gc.ShapeError, match="axis=None, which flattens, is not supported"):
        gc.graph(y=gc.sort(gc.input("x", shape=(2, 3)), axis=None))


def test_a_wrong_shape_at_call_time_is_an_input_error():
    fn = gc.compile(gc.parse("a: [3, 4]\nb: [4]\nL = sum(dot(a, b))"))
    with pytest.raises(gc.InputError, match="b"):
        fn(a=np.ones((3, 4)), b=np.ones(5))


@pytest.mark.parametrize("text", ["x: [3]\ny = sum(sort(x + b, axis=0) * w)",
                                  "x: [3]\ny = sum(sort(x * b, axis=-1) * w)",
                                  "x: [3]\ny = sum(sin(kron(x + b, w))) * sum(kron(w, x) ** 2)"])
def test_sort_and_kron_of_a_value_an_undeclared_input_stretches(text):
    """x + b has x's static shape [3], but b of shape (2, 1) makes it (2, 3) at call
    time: sort's axis 0 is then the axis of 2 (it was counted from the end, -1, the
    wrong one), and kron's blocks are read with the dims of the call."""
    g = gc.parse(text)
    at = {"x": np.array([0.3, -1.2, 0.8]), "b": np.array([[0.5], [-2.0]]),
          "w": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])}
    _, grads = gc.compile(g)(**at)
    for k in at:
        fd = central_diff(lambda **kw: g.evaluate(**kw)["y"], at, k)
        np.testing.assert_allclose(grads[k], fd, rtol=1e-6, atol=1e-9, err_msg=k)


def test_einsum_beside_a_variable_named_einsum_round_trips():
    """A variable named einsum shadows the function: both einsums print as gc.einsum."""
    g = gc.parse("x: [2, 3]\neinsum = sum(x)\n"
                 "y = sum(gc.einsum('ij->j', x) * einsum) + sum(gc.einsum('ij,ij->i', x, x))")
    text = str(g)
    assert text.count("gc.einsum(") == 2
    x = np.arange(6.0).reshape(2, 3)
    assert gc.parse(text).evaluate(x=x)["y"] == g.evaluate(x=x)["y"] == 280.0
