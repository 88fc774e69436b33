"""backend="array_api", its wider vocabulary (graphc/backend/xp_gather.py, xp_numeric.py):
resize, quantiles and medians, the adjoints of gathers (a scatter-add per library),
convolve and correlate, cumprod's derivatives, average, linear algebra, fmod, diff and
more, each against the NumPy backend on every library installed, values and
gradients, reverse and forward mode; fmod bit for bit; float32 kept; dask lazy."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import cross
from test_array_api import LIBRARIES, _compare, _computed

import graphc as gc

pytest.importorskip("array_api_compat")

CASES = {
    "resize": "y = sum(resize(a, (4, 5)) * resize(c, (4, 5))) + sum(resize(a * b, 7) ** 2)",
    "quantile": "y = quantile(a, 0.3) + sum(quantile(a * b, (0.1, 0.9), axis=1) ** 2)"
                " + sum(median(b, axis=0) ** 2) + sum(percentile(a, 40, axis=0,"
                " method='nearest', keepdims=True) * b) + sum(quantile(b, 0.5, axis=(0, 1),"
                " method='higher', keepdims=True) * a)",
    "nanquantile": "y = nanquantile(a, 0.3) + sum(nanmedian(a * b, axis=1) ** 2)"
                   " + sum(nanpercentile(b, (20, 70), axis=0) ** 2)",
    "gathers": "y = sum(take_along_axis(a, i, axis=1) ** 2) + sum(c[j] * d[j])"
               " + sum(c[k] ** 3) + sum(take(c, k) * c[k])",
    "sort": "y = sum(sort(a, axis=1) * b) + sum(sort(a * b, axis=0) ** 2)",
    "convolve": "y = sum(convolve(c, d) ** 2) + sum(convolve(d, c, mode='same') * d)"
                " + sum(correlate(c, d) ** 2) + sum(correlate(d, c, mode='same') * d)"
                " + sum(correlate(c, d, mode='full') ** 2) + sum(convolve(c, d, 'valid') ** 2)",
    "cumprod": "y = sum(cumprod(a, axis=1) * b) + sum(cumprod(a * b, axis=0) ** 2)",
    "average": "y = average(a) + sum(average(a, axis=1, weights=c) ** 2)"
               " + sum(average(a * b, axis=0, weights=b * b + 1) ** 2)",
    "linalg": "y = sum(cholesky(m @ m.T + 3 * eye(3)) * m) + sum(inv(m + 3 * eye(3)) * m)"
              " + sum(solve(m + 3 * eye(3), c) ** 2) + det(m) + slogdet(m)[1]"
              " + sum(solve(m + 3 * eye(3), m) * m)",
    "linalg_2d": "y = sum(cholesky(m @ m.T + 3 * eye(3)) * m) + sum(inv(m + 3 * eye(3)) * m)"
                 " + sum(solve(m + 3 * eye(3), c) ** 2) + sum(solve_triangular(cholesky("
                 "m @ m.T + eye(3)), a, lower=True) * b)",  # dask's linalg: one matrix
    "fmod": "y = sum(fmod(a, b * b + 0.5) * a) + sum(fmod(a * 7, 1.5)) + sum((a * 5) % (b + 3))",
    "diff": "y = sum(diff(a) ** 2) + sum(diff(a, n=2, axis=1) * a[:, :1])"
            " + sum(diff(b, axis=0, prepend=0.5, append=-1.0) ** 2) + trapezoid(c * c)"
            " + sum(trapezoid(a * b, dx=0.5, axis=0) ** 2) + sum(trapezoid(a, x=cumsum(c * c))"
            " ** 2) + sum(trapezoid(b, x=a * a, axis=0) ** 2)",
    "shapes": "y = sum(atleast_2d(c) * a) + sum(rollaxis(a, 1) * b.T) + sum(atleast_1d(c) ** 2)"
              " + sum(select([a > 0, b > 0], [a * b, a + b], 0.5)) + sum(rot90(p, 1, (1, 3)) * 2)"
              " + sum(rot90(p, 3, (-1, 0)) ** 2) + sum(rot90(a, 2) * b) + sum(rot90(a, 0) * b)"
              " + sum(nan_to_num(log(a)) * b)"
              " + sum(nan_to_num(log(a), nan=1.5, posinf=3.0, neginf=-4.0) * b)",
    "pooling": "y = sum(max_pool2d(p, 2, 1, 1) ** 2) + sum(avg_pool2d(p, (2, 3), (2, 1), (1, 0))"
               " ** 2) + sum(max_pool2d(p, 3, 2) * avg_pool2d(p, 3, 2))",
    "layers": "y = sum(layer_norm(a * b, (3,)) * a) + sum(rms_norm(a, 3) * b)"
              " + sum(rms_norm(b, 3, eps=0.001) ** 2) + sum(batch_norm(p) ** 3)"
              " + sum(attention(a, b, m) ** 2) + sum(attention(a, b, m, is_causal=True) * a)"
              " + sum(tile(a, (2, 1)) ** 2) + sum(repeat(c, 2) ** 2) + sum(pad(a, 1) ** 2)",
    "inner": "y = sum(inner(a, b) * m) + sum(inner(c, c * c)) + vdot(a, b)",
    "pieces": "y = sum(dot(a, b) * m) + sum(dot(a, c) ** 2) + vdot(a, b) * 2"
              " + sum(cross(a, b) * m) + sum(cross(a, b, axis=0) ** 2)"
              " + sum(ptp(a, axis=1) ** 2) + ptp(b) + trace(a @ b) + trace(a, offset=1)"
              " + sum(diagflat(c, k=-1) * diagflat(c * c, 1)) + sum(split(a, 3, axis=1)[1] ** 2)"
              " + sum(array_split(d, 2)[0] ** 2) + sum(split(d, [1, -2])[1] * d[:2])"
              " + sum(diagonal(a, 1) ** 2) + sum(diagonal(p, -1, 3, 2) ** 2)",
    "steps": "y = sum(d[::-1] * d) + sum(d[4:0:-2] ** 2) + sum(a[:, ::-2] * b[:, :2])"
             " + sum(d[1::3] ** 2) + sum(a[1, 2::-1] * c) + sum(p[None, 1, :, 3:0:-2] ** 2)",
}
"""Each op the Array-API backend refused before and spells now, with its gradients."""
SHAPES = "a: [3, 3]\nb: [3, 3]\nc: [3]\nd: [5]\nm: [3, 3]\np: [2, 2, 4, 5]\ni: int[3, 2]\n" \
    "j: int[4]\nk: int[5]\n"


def _values(case: str) -> dict:
    rng = np.random.default_rng(1)
    values = {n: rng.normal(size=s) for n, s in
              (("a", (3, 3)), ("b", (3, 3)), ("c", 3), ("d", 5), ("m", (3, 3)),
               ("p", (2, 2, 4, 5)))}
    values |= {"i": np.array([[0, 2], [1, 1], [2, 0]]), "j": np.array([2, 0, 2, 1]),
               "k": np.array([1, 1, 0, 2, 1])}  # repeated: their adjoints add up
    values["p"][0, 0, 1, :2] = values["p"][0, 0, 1, 3]  # ties: the first maximum
    if case == "nanquantile":
        values["a"][0, 1] = values["b"][2, 2] = np.nan
    return values


def _unsupported(name: str, case: str, mode: str) -> str | None:
    """Why a library refuses a case (a NotImplementedError; array_api_strict's own
    IndexError where the standard has no such index), else None."""
    if name == "dask" and case == "linalg":
        return "has no linalg.det"
    if name == "dask" and case == "linalg_2d" and mode == "forward":
        return "takes one matrix"  # the tangents: a stack of directions
    if name == "array_api_strict" and (case == "inner" or case == "pieces" and mode == "forward"):
        return "has no einsum"  # inner's gradient, vdot's tangent
    if name == "array_api_strict" and case == "gathers" and mode == "forward":
        return "Integer index arrays are only allowed with integer indices"  # t[:, idx]
    return None


@cross(lambda name, case, mode: name == "numpy" or name == "array_api_strict" and
       mode == "reverse", name=list(LIBRARIES), case=list(CASES), mode=["reverse", "forward"])
def test_new_ops_match_the_numpy_backend(name, case, mode):
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    g = gc.parse(SHAPES + CASES[case])
    wrt = ["a", "b", "c", "d", "m", "p"]
    fn, ref = (gc.compile(g, wrt=wrt, mode=mode, backend=b) for b in ("array_api", "numpy"))
    values = _values(case)
    why = _unsupported(name, case, mode)
    if why is not None:
        with pytest.raises((NotImplementedError, gc.InputError), match=why):
            fn(**{k: convert(v) for k, v in values.items()})
        return
    _compare(fn, ref, values, convert, rtol=1e-10, atol=1e-12, what=f"{name} {case} {mode}")


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_negative_and_other_steps_on_torch(mode):
    """PyTorch refuses x[::-1] (the standard allows it): slices of negative step are
    taken forwards and flipped (``_backwards``), and strided slices' adjoints spread g
    with zeros between (``_strided``; once a NotImplementedError)."""
    module, convert = LIBRARIES["torch"]
    pytest.importorskip(module)
    g = gc.parse(SHAPES + CASES["steps"])
    wrt = ["a", "b", "c", "d", "p"]
    fn, ref = (gc.compile(g, wrt=wrt, mode=mode, backend=b) for b in ("array_api", "numpy"))
    assert "_backwards(" in fn.source
    _compare(fn, ref, _values("steps"), convert, rtol=1e-12, atol=1e-12, what=mode)


FMOD_EDGES = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 1e-300, -1e-300, 1e300, -1e300,
              5e-324, np.inf, -np.inf, np.nan, 0.1, -0.1, 3.0, 1e-17]


@cross(lambda name: name in ("numpy", "array_api_strict"), name=list(LIBRARIES))
def test_fmod_is_numpys_bit_for_bit(name):
    """fmod over every pair of edge values: zeros of both signs, subnormals, huge, inf
    and nan. array_api_strict builds it from the standard's % (|x| % |y| with x's
    sign); the others have their own, PyTorch's and JAX's NumPy's but at float64's
    extremes (a quotient past float64's range: PyTorch's nan; a subnormal y: JAX's nan)."""
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    x, y = (np.array(v) for v in np.meshgrid(FMOD_EDGES, FMOD_EDGES))
    g = gc.parse(f"x: [{x.size}]\ny: [{x.size}]\nz = fmod(x, y)")
    fn = gc.compile(g, backend="array_api")
    for dtype in (np.float64, np.float32):
        xs, ys = x.ravel().astype(dtype), y.ravel().astype(dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            want = np.fmod(xs, ys)
        got = _computed(fn.forward(x=convert(xs), y=convert(ys)))
        assert got.dtype == dtype
        if name in ("torch", "jax") and dtype == np.float64:
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                inside = ~(np.abs(xs / ys) > 1e300) & ~((ys != 0) & (np.abs(ys) < 1e-307))
            xs, ys, want, got = xs[inside], ys[inside], want[inside], got[inside]
            assert inside.sum() > 250  # of 400
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan)
        assert np.array_equal(got[~nan].view(np.uint8), want[~nan].view(np.uint8)), \
            [(a, b, w, v) for a, b, w, v in zip(xs, ys, want, got) if w != v or
             np.signbit(w) != np.signbit(v)]


@cross(lambda name: name != "jax", name=list(LIBRARIES))
def test_a_repeated_index_gets_every_adjoint(name):
    """x[idx] with repeats: the scatter-add (each library's own, or one-hot) adds each
    taken element's adjoint, as np.add.at."""
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    g = gc.parse("x: [4]\nidx: int[6]\ny = sum(x[idx] * arange(6))")
    fn = gc.compile(g, wrt=["x"], backend="array_api")
    _, grads = fn(x=convert(np.arange(4.0)), idx=convert(np.array([0, 2, 2, 3, 0, 2])))
    assert np.array_equal(_computed(grads["x"]), [0 + 4, 0, 1 + 2 + 5, 3])


@cross(lambda name: name == "torch", name=["torch", "jax", "array_api_strict"])
def test_new_ops_keep_float32(name):
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    g = gc.parse(SHAPES + "y = sum(resize(a, (4, 5))) + quantile(a, 0.3) + sum(diff(a))"
                 " + sum(fmod(a, 1.5)) + sum(convolve(c, d)) + sum(cumprod(a, axis=0))"
                 " + sum(take_along_axis(a, i, axis=1)) + sum(inv(m + 3 * eye(3)))")
    values = _values("")
    fn = gc.compile(g, wrt=["a", "c", "d", "m"], backend="array_api")
    value, grads = fn(**{k: convert(v.astype(np.float32) if v.dtype == float else v)
                         for k, v in values.items()})
    assert all("float32" in str(x.dtype) for x in (value, *grads.values())), \
        [x.dtype for x in (value, *grads.values())]


def test_dask_scatter_add_stays_lazy():
    """The one-hot scatter-add (dask has none of its own) builds dask's graph only."""
    da = pytest.importorskip("dask.array")
    g = gc.parse("x: [6]\nidx: int[4]\ny = sum(take_along_axis(x, idx, axis=0) ** 2)"
                 " + quantile(x, 0.3) + sum(resize(x, 9))")
    fn, ref = gc.compile(g, wrt=["x"], backend="array_api"), gc.compile(g, wrt=["x"])
    x, idx = np.linspace(-1, 2, 6) ** 2, np.array([5, 0, 5, 2])
    value, grads = fn(x=da.from_array(x, chunks=3), idx=da.from_array(idx, chunks=2))
    assert hasattr(value, "dask") and hasattr(grads["x"], "dask")
    want_value, want = ref(x=x, idx=idx)
    np.testing.assert_allclose(value.compute(), want_value, rtol=1e-12)
    np.testing.assert_allclose(grads["x"].compute(), want["x"], rtol=1e-12)


def test_diff_and_take_along_axis_adjoints_in_one_numpy_module():
    """The NumPy backend's helpers of diff's adjoint and take_along_axis's were both named
    _along: one module with both called the wrong one (found by the random programs)."""
    g = gc.parse("a: [3, 3]\ni: int[3, 2]\ny = sum(diff(a, prepend=0.5) ** 2)"
                 " + sum(take_along_axis(a, i, axis=1) ** 2) + sum(trapezoid(a))")
    a, i = np.arange(9.0).reshape(3, 3), np.array([[0, 2], [1, 1], [2, 0]])
    _, grads = gc.compile(g, wrt=["a"])(a=a, i=i)
    d = np.diff(np.concatenate([np.full((3, 1), 0.5), a], axis=1))
    want = 2 * (np.concatenate([d[:, :-1] - d[:, 1:], d[:, -1:]], axis=1))
    np.add.at(want, (np.arange(3)[:, None], i), 2 * np.take_along_axis(a, i, axis=1))
    want += [0.5, 1.0, 0.5]
    np.testing.assert_allclose(grads["a"], want, rtol=1e-12)
