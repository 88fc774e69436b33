"""solve, inv, det, slogdet, cholesky and solve_triangular (graphc/ops/linalg.py) against
JAX: values and gradients in both modes, float32 and float64, batched; the dot-product
test; second order; text round trip + verify; backends; the saved module; derivatives at
ill-conditioned matrices; bad input."""

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
    parse_error,
    values,
)
from conftest import MODES, cross, first_of_each

import graphc as gc

# The matrices are built in the program from a normal a: a @ a.T + 3 I is positive
# definite and well conditioned, a - 3 I (slogdet's) has a negative determinant.
SPD = "A = a @ a.mT + 3 * eye(3)\n"


def _spd(jnp, a):
    return a @ jnp.swapaxes(a, -1, -2) + 3 * jnp.eye(3)


def _tri(jnp, a, b, **options):
    import jax.scipy.linalg

    return jax.scipy.linalg.solve_triangular(_spd(jnp, a), b, **options)


CASES = {
    "solve vector": ("a: [3, 3]\nb: [3]\n" + SPD + "f = solve(A, b)",
                     lambda jnp, a, b: jnp.linalg.solve(_spd(jnp, a), b)),
    "solve matrix": ("a: [3, 3]\nb: [3, 2]\n" + SPD + "f = solve(A, b)",
                     lambda jnp, a, b: jnp.linalg.solve(_spd(jnp, a), b)),
    "solve stack vector": ("a: [2, 3, 3]\nb: [3]\n" + SPD + "f = solve(A, b)",
                           lambda jnp, a, b: jnp.linalg.solve(_spd(jnp, a), b)),
    "solve stacks size 1": ("a: [2, 3, 3]\nb: [1, 3, 2]\n" + SPD + "f = solve(A, b)",
                            lambda jnp, a, b: jnp.linalg.solve(_spd(jnp, a), b)),
    "solve_triangular lower": ("a: [3, 3]\nb: [3, 2]\n" + SPD
                               + "f = solve_triangular(A, b, lower=True)",
                               lambda jnp, a, b: _tri(jnp, a, b, lower=True)),
    "solve_triangular trans unit": ("a: [3, 3]\nb: [3]\n" + SPD
                                    + "f = solve_triangular(A, b, trans=1, unit_diagonal=True)",
                                    lambda jnp, a, b: _tri(jnp, a, b, trans=1,
                                                           unit_diagonal=True)),
    "solve_triangular stack": ("a: [2, 3, 3]\nb: [2, 3, 2]\n" + SPD
                               + "f = solve_triangular(A, b, trans=2)",
                               lambda jnp, a, b: _tri(jnp, a, b, trans="C")),
    "inv": ("a: [3, 3]\nb: [3]\n" + SPD + "f = inv(A) * b",
            lambda jnp, a, b: jnp.linalg.inv(_spd(jnp, a)) * b),
    "inv stack": ("a: [2, 3, 3]\nb: [3]\nf = inv(a + 3 * eye(3)) * b",
                  lambda jnp, a, b: jnp.linalg.inv(a + 3 * jnp.eye(3)) * b),
    "det": ("a: [3, 3]\nb: scalar\nf = det(a + 3 * eye(3)) * b",
            lambda jnp, a, b: jnp.linalg.det(a + 3 * jnp.eye(3)) * b),
    "det stack": ("a: [2, 3, 3]\nb: [2]\nf = det(a - 3 * eye(3)) * b",
                  lambda jnp, a, b: jnp.linalg.det(a - 3 * jnp.eye(3)) * b),
    "slogdet": ("a: [3, 3]\nb: scalar\ns, l = slogdet(a - 3 * eye(3))\nf = s * l * b",
                lambda jnp, a, b: jnp.prod(jnp.array(jnp.linalg.slogdet(a - 3 * jnp.eye(3))))
                * b),
    "slogdet stack": ("a: [2, 3, 3]\nb: [2]\nf = slogdet(" + SPD[4:-1] + ")[1] * b",
                      lambda jnp, a, b: jnp.linalg.slogdet(_spd(jnp, a))[1] * b),
    "cholesky": ("a: [3, 3]\nb: [3]\n" + SPD + "f = cholesky(A) * b",
                 lambda jnp, a, b: jnp.linalg.cholesky(_spd(jnp, a)) * b),
    "cholesky stack": ("a: [2, 3, 3]\nb: [3]\n" + SPD + "f = cholesky(A) * b",
                       lambda jnp, a, b: jnp.linalg.cholesky(_spd(jnp, a)) * b),
    "cholesky then solve_triangular": (
        "a: [3, 3]\nb: [3]\n" + SPD + "f = solve_triangular(cholesky(A), b, lower=True)",
        lambda jnp, a, b: __import__("jax").scipy.linalg.solve_triangular(
            jnp.linalg.cholesky(_spd(jnp, a)), b, lower=True)),
}
FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each op


@cross(lambda case, optimize, dtype, mode:  # fast: each case f64 reverse, each op forward
       (dtype, optimize, mode) == (np.float64, True, "reverse") or case in FIRST and mode
       == "forward" and (dtype == np.float64 or case == "solve matrix")
       or (case, optimize, dtype) == ("cholesky then solve_triangular", False, np.float32),
       case=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES,
       dtype=[np.float64, np.float32])
def test_value_and_gradients_match_jax(jax, case, mode, optimize, dtype):
    check_value_and_gradients(jax, CASES, case, mode, optimize, dtype, arrays=True)


@cross(lambda case: case in FIRST, case=sorted(CASES))
def test_dot_product_test(case):
    """<J v, u> == <v, J^T u>, and J^T u is the finite differences' gradient."""
    check_dot_product_test(CASES[case][0])


@cross(lambda case: case in {"solve stack vector", "cholesky"}, case=sorted(CASES))
def test_second_order_matches_jax(jax, case):
    """The gradient graph, printed and parsed, differentiated again in both modes."""
    check_second_order_of_case(jax, CASES, case)


@cross(lambda case: case in {"cholesky then solve_triangular", "slogdet"},
       case=sorted(CASES))
def test_text_round_trip_and_verify(case):
    check_round_trip_of_case(CASES, case)


def test_the_builder_makes_what_the_text_makes():
    a, b = gc.input("a", shape=(3, 3)), gc.input("b", shape=(3,))
    spd = a @ a.mT + 3 * gc.eye(3)
    sign, logdet = gc.slogdet(spd)
    built = gc.graph(L=gc.sum(gc.solve(spd, b)) + gc.det(spd) + sign * logdet
                     + gc.sum(gc.inv(spd)) + gc.sum(gc.solve_triangular(gc.cholesky(spd), b,
                                                                       lower=True)))
    text = gc.parse("a: [3, 3]\nb: [3]\n" + SPD + "s, l = slogdet(A)\n"
                    "L = sum(solve(A, b)) + det(A) + s * l + sum(inv(A)) "
                    "+ sum(solve_triangular(cholesky(A), b, lower=True))")
    at = values(text, seed=8)
    assert built.evaluate(**at)["L"] == pytest.approx(text.evaluate(**at)["L"], rel=1e-14)
    assert gc.parse(str(built)).evaluate(**at)["L"] == built.evaluate(**at)["L"]
    assert "solve_triangular(cholesky(A), b, lower=True)" in str(text)  # options by keyword


def test_emitted_code_and_pictures():
    g = gc.parse("a: [3, 3]\nb: [3]\n" + SPD + "L = sum(solve(A, b)) + slogdet(A)[1]")
    source = gc.compile(g).source
    for spelled in ("_solve(A, b)", "np.linalg.slogdet(A)[1]", "def _solve("):
        assert spelled in source, spelled
    imports = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import numpy as np"]
    dot = gc.render(g, at=values(g)).source
    for rule in ("solve(A.T, ", "inv(A).T"):
        assert rule in dot, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
@pytest.mark.parametrize("case", ["solve stacks size 1", "cholesky then solve_triangular",
                                  "slogdet", "inv stack", "det stack"])
def test_backends_agree(case, backend):
    if backend == "numba" and not importlib.util.find_spec("numba"):
        pytest.skip("numba is not installed")
    g = gc.parse(CASES[case][0] + LOSS)
    for mode in MODES:
        check_backend_agrees(g, values(g, seed=9), backend, mode, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["solve stack vector", "cholesky then solve_triangular",
                                  "slogdet", "det"])
def test_the_saved_module_computes_what_fn_computes(case, tmp_path):
    g = gc.parse(CASES[case][0] + LOSS)
    fn = gc.compile(g)
    at = values(g, 10)
    check_saved_module(fn, at, tmp_path / "saved.py")


# ---- ill-conditioned but valid: condition number 1e6 ----------------------------------
def _conditioned(n: int, cond: float, seed: int) -> np.ndarray:
    """A symmetric positive definite matrix with eigenvalues from 1 down to 1/cond."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    return (q * np.geomspace(1.0, 1.0 / cond, n)) @ q.T


ILL = {  # f of a (the matrix itself) and b: [4]; the loss is sum(sin(f) * f)
    "solve": ("f = solve(a, b)", lambda jnp, a, b: jnp.linalg.solve(a, b)),
    "inv": ("f = inv(a) @ b", lambda jnp, a, b: jnp.linalg.inv(a) @ b),
    "slogdet": ("f = slogdet(a)[1] * b", lambda jnp, a, b: jnp.linalg.slogdet(a)[1] * b),
    "det": ("f = det(a) * b", lambda jnp, a, b: jnp.linalg.det(a) * b),
    "cholesky": ("f = solve_triangular(cholesky(a), b, lower=True)",
                 lambda jnp, a, b: __import__("jax").scipy.linalg.solve_triangular(
                     jnp.linalg.cholesky(a), b, lower=True)),
}


@cross(lambda name, mode: mode == "reverse" or name == "cholesky", name=sorted(ILL), mode=MODES)
def test_derivatives_at_condition_1e6_within_documented_tolerance(jax, name, mode):
    """At cond(a) = 1e6 in float64 graphc's gradient is JAX's to 1e-8 of its largest
    entry (docs/ops.md: both lose about cond * eps = 2e-10 to rounding)."""
    import jax.numpy as jnp

    a, b = _conditioned(4, 1e6, seed=11), np.linspace(-1.0, 1.0, 4)
    g = gc.parse("a: [4, 4]\nb: [4]\n" + ILL[name][0] + LOSS)
    fn = ILL[name][1]
    want = jax.grad(lambda a, b: jnp.sum(jnp.sin(fn(jnp, a, b)) * fn(jnp, a, b)),
                    argnums=(0, 1))(a, b)
    _, grads = gc.compile(g, mode=mode)(a=a, b=b)
    for k, w in zip("ab", want):
        w = np.asarray(w)
        np.testing.assert_allclose(grads[k], w, rtol=0, atol=1e-8 * np.abs(w).max(), err_msg=k)


# ---- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize("text, words, col", [
    ("a: [3, 4]\nf = det(a)", ["det takes a square matrix", "[3, 4]"], 5),
    ("a: [3, 4]\nf = inv(a)", "inv takes a square matrix", 5),
    ("a: [4]\nf = cholesky(a)", "cholesky takes a square matrix", 5),
    ("a: [3, 3]\nb: [4]\nf = solve(a, b)", "does not have the matrix's 3 rows", 5),
    ("a: [3, 3]\nb: [2, 3]\nf = solve(a, b)", "vector only when 1-d", 5),
    ("a: [3, 2]\nb: [3]\nf = 1 + solve_triangular(a, b)", "solve_triangular takes a square", 9),
    ("a: [3, 3]\nb: [3]\nf = solve_triangular(a, b, trans=3)", "trans is 0, 1 or 2", 5),
    ("a: [3, 3]\nf = slogdet(a)[2]", "slogdet gives 2 arrays", 5),
    ("a: [3, 3]\nf = solve(a, b)", ["solve needs its operand's shape", "declare"], 5),
    ("f = cholesky(a)", ["cholesky needs its operand's shape", "declare"], 5),
])
def test_bad_shapes_are_errors_at_their_line(text, words, col):
    check_error_at(text, gc.ShapeError, words, line=len(text.splitlines()), col=col)


def test_slogdet_gives_two_arrays_and_options_are_checked():
    parse_error("a: [3, 3]\nb: [3]\nf = solve_triangular(a, b, lower=1)", gc.ParseError,
                "lower must be True or False")
    parse_error("a: [3, 3]\nf = slogdet(a)", gc.ParseError, "gives several arrays")
    parse_error("a: [3, 3]\ns, l, m = slogdet(a)", gc.ParseError, "gives 2 arrays, 3 names")


@pytest.mark.parametrize("text, a, words", [
    ("b: [3]\nf = sum(solve(a, b))", np.ones((3, 3)), "solve: the matrix is singular"),
    ("b: [3]\nf = sum(inv(a)) + sum(b)", np.ones((2, 3, 3)), "inv: the matrix is singular"),
    ("b: [3]\nf = sum(solve_triangular(a, b))", np.triu(np.ones((3, 3)), 1),
     "solve_triangular: the matrix is singular"),
    ("b: [3]\nf = sum(cholesky(a)) + sum(b)", -np.eye(3),
     "cholesky: the matrix is not positive definite"),
    ("b: [3]\nf = det(a) + sum(b)", np.ones((3, 3)), "inv: the matrix is singular"),
])
def test_singular_matrices_are_input_errors_at_call_time(text, a, words, tmp_path):
    """Never NumPy's LinAlgError traceback from graphc; the saved module names it too."""
    g = gc.parse(f"a: {list(a.shape)}\n" + text)
    at = {"a": a, "b": np.ones(3)}
    with pytest.raises(gc.InputError, match=words):
        gc.compile(g)(**at)  # det's value is 0.0 there; its gradient needs inv(a)
    if "det" not in text:
        with pytest.raises(gc.InputError, match=words):
            g.evaluate(**at)
    fn = gc.compile(g)
    fn.save(tmp_path / "saved.py")
    spec = importlib.util.spec_from_file_location("saved_singular", tmp_path / "saved.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(np.linalg.LinAlgError, match=words):
        module.value_and_grad(**at)


# ---- examples/gaussian_process.py -------------------------------------------------------
def test_gaussian_process_example_matches_sklearn(capsys):
    """The negative log marginal likelihood and its gradient are scikit-learn's (negated)
    at any theta; the fit reaches scikit-learn's own optimum; the script runs."""
    pytest.importorskip("sklearn")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    try:
        import gaussian_process as gp
    finally:
        sys.path.pop(0)
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    X, y = gp.data()  # noqa: N806
    kernel = ConstantKernel() * RBF() + WhiteKernel()
    assert [h.name for h in kernel.hyperparameters] == ["k1__k1__constant_value",
                                                        "k1__k2__length_scale",
                                                        "k2__noise_level"]  # gp.THETA's order
    fn = gc.compile(gp.NLML, wrt=list(gp.THETA))
    for theta in ([0.0, 0.0, -1.0], [1.2, -0.7, -3.0]):
        value, grads = fn(X=X, y=y, **dict(zip(gp.THETA, theta)))
        want, wgrad = gp.sklearn_log_marginal_likelihood(X, y, np.array(theta))
        assert -value == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose([-grads[k] for k in gp.THETA], wgrad, rtol=1e-9)
    theta, nlml, _ = gp.fit(X, y)
    theirs = GaussianProcessRegressor(kernel, alpha=0.0, random_state=0).fit(X, y)
    assert -nlml == pytest.approx(theirs.log_marginal_likelihood_value_, abs=1e-6)
    np.testing.assert_allclose(theta, theirs.kernel_.theta, atol=1e-3)
    gp.main()
    assert "scikit-learn's log marginal likelihood there: 18.3835" in capsys.readouterr().out
