"""NumPy's other reductions: diff, ptp, average, trapezoid (graphc/ops/summaries.py) and the
NaN-ignoring nansum, nanmean, nanmax, nanmin, nanprod, nanvar, nanstd
(graphc/ops/nanreductions.py), against JAX: values and gradients in both modes, optimized
and not, float64 and float32; axis tuples, keepdims, size-1 axes, NaNs and slices of NaNs
only; ties; the dot-product test; second order; text, builder, pictures, backends, the
saved module; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from checks import check_backend_matches_numpy, check_error_at
from conftest import MODES, central_diff, cross, first_of_each

import graphc as gc

# id: (the op in .gc text of x [and w], JAX's, x's shape, w's shape or None, kind of x)
CASES = {
    "diff": ("diff(x)", lambda jnp, x, w: jnp.diff(x), (3, 4), None, "normal"),
    "diff n=2 axis 0": ("diff(x, n=2, axis=0)", lambda jnp, x, w: jnp.diff(x, n=2, axis=0),
                        (4, 3), None, "normal"),
    "diff n=0": ("diff(x, n=0)", lambda jnp, x, w: jnp.diff(x, n=0), (2, 3), None, "normal"),
    "diff ends": ("diff(x, axis=1, prepend=1.5, append=-2.0)",
                  lambda jnp, x, w: jnp.diff(x, axis=1, prepend=1.5, append=-2.0), (2, 3, 2),
                  None, "normal"),
    "diff n=3 size-1 rows": ("diff(x, n=3)", lambda jnp, x, w: jnp.diff(x, n=3), (1, 5),
                             None, "normal"),
    "ptp": ("ptp(x)", lambda jnp, x, w: jnp.ptp(x), (3, 4), None, "ties"),
    "ptp axis tuple keepdims": ("ptp(x, axis=(0, 2), keepdims=True)",
                                lambda jnp, x, w: jnp.ptp(x, axis=(0, 2), keepdims=True),
                                (2, 3, 2), None, "ties"),
    "ptp size-1 axis": ("ptp(x, axis=1)", lambda jnp, x, w: jnp.ptp(x, axis=1), (3, 1, 2),
                        None, "normal"),
    "average": ("average(x)", lambda jnp, x, w: jnp.average(x), (3, 4), None, "normal"),
    "average axis tuple keepdims": ("average(x, axis=(0, 2), keepdims=True)",
                                    lambda jnp, x, w: jnp.average(x, axis=(0, 2),
                                                                  keepdims=True),
                                    (2, 3, 2), None, "normal"),
    "average weights": ("average(x, weights=w)",
                        lambda jnp, x, w: jnp.average(x, weights=w), (3, 4), (3, 4), "normal"),
    "average weights 1-D axis 0": ("average(x, axis=0, weights=w)",
                                   lambda jnp, x, w: jnp.average(x, axis=0, weights=w),
                                   (3, 2, 2), (3,), "normal"),
    "average weights tuple keepdims": ("average(x, axis=(0, 1), weights=w, keepdims=True)",
                                       lambda jnp, x, w: jnp.average(x, axis=(0, 1), weights=w,
                                                                     keepdims=True),
                                       (2, 3), (2, 3), "normal"),
    "trapezoid": ("trapezoid(x)", lambda jnp, x, w: jnp.trapezoid(x), (3, 4), None, "normal"),
    "trapezoid dx axis 0": ("trapezoid(x, dx=0.25, axis=0)",
                            lambda jnp, x, w: jnp.trapezoid(x, dx=0.25, axis=0), (4, 2, 3),
                            None, "normal"),
    "trapezoid x": ("trapezoid(x, x=w)", lambda jnp, x, w: jnp.trapezoid(x, w), (3, 4), (4,),
                    "normal"),
    "trapezoid x same shape axis 0": ("trapezoid(x, x=w, axis=0)",
                                      lambda jnp, x, w: jnp.trapezoid(x, w, axis=0), (3, 2),
                                      (3, 2), "normal"),
    "trapezoid 1-D x axis 0": ("trapezoid(x, x=w, axis=0)",
                               lambda jnp, x, w: jnp.trapezoid(x, w, axis=0), (3, 2, 4), (3,),
                               "normal"),
    "trapezoid size-1 axis": ("trapezoid(x, axis=1)", lambda jnp, x, w: jnp.trapezoid(x, axis=1),
                              (2, 1), None, "normal"),
    "nansum": ("nansum(x)", lambda jnp, x, w: jnp.nansum(x), (3, 4), None, "nans"),
    "nansum axis tuple keepdims": ("nansum(x, axis=(0, 2), keepdims=True)",
                                   lambda jnp, x, w: jnp.nansum(x, axis=(0, 2), keepdims=True),
                                   (3, 2, 3), None, "nans"),
    "nanmean axis 1": ("nanmean(x, axis=1)", lambda jnp, x, w: jnp.nanmean(x, axis=1), (3, 4),
                       None, "nans"),
    "nanmean size-1 axis": ("nanmean(x, axis=(0, 2))",
                            lambda jnp, x, w: jnp.nanmean(x, axis=(0, 2)), (3, 1, 4), None,
                            "nans"),
    "nanmax axis 1 keepdims": ("nanmax(x, axis=1, keepdims=True)",
                               lambda jnp, x, w: jnp.nanmax(x, axis=1, keepdims=True), (3, 4, 2),
                               None, "nan ties"),
    "nanmax all": ("nanmax(x)", lambda jnp, x, w: jnp.nanmax(x), (3, 4), None, "nan ties"),
    "nanmin axis tuple": ("nanmin(x, axis=(0, -1))",
                          lambda jnp, x, w: jnp.nanmin(x, axis=(0, -1)), (3, 2, 3), None,
                          "nan ties"),
    "nanprod axis 0": ("nanprod(x, axis=0)", lambda jnp, x, w: jnp.nanprod(x, axis=0), (3, 4),
                       None, "nans"),
    "nanprod all keepdims": ("nanprod(x, keepdims=True)",
                             lambda jnp, x, w: jnp.nanprod(x, keepdims=True), (2, 3), None,
                             "nans"),
    "nanvar ddof": ("nanvar(x, axis=1, ddof=1)", lambda jnp, x, w: jnp.nanvar(x, axis=1, ddof=1),
                    (3, 4), None, "nans"),
    "nanvar all": ("nanvar(x)", lambda jnp, x, w: jnp.nanvar(x), (3, 4), None, "nans"),
    "nanstd axis tuple ddof": ("nanstd(x, axis=(0, 2), ddof=1)",
                               lambda jnp, x, w: jnp.nanstd(x, axis=(0, 2), ddof=1), (3, 2, 3),
                               None, "nans"),
    "nanstd keepdims": ("nanstd(x, axis=0, keepdims=True)",
                        lambda jnp, x, w: jnp.nanstd(x, axis=0, keepdims=True), (3, 4), None,
                        "nans"),
    "quantile": ("quantile(x, 0.3)", lambda jnp, x, w: jnp.quantile(x, 0.3), (3, 4), None,
                 "ties"),
    "quantile many q axis tuple keepdims": (
        "quantile(x, (0.1, 0.5, 0.9), axis=(0, 2), keepdims=True)",
        lambda jnp, x, w: jnp.quantile(x, jnp.array([0.1, 0.5, 0.9]), axis=(0, 2), keepdims=True),
        (3, 4, 5), None, "ties"),
    "quantile nearest axis 1": ("quantile(x, 0.7, axis=1, method='nearest')",
                                lambda jnp, x, w: jnp.quantile(x, 0.7, axis=1, method="nearest"),
                                (3, 6), None, "normal"),
    "quantile lower size-1 axis": ("quantile(x, 0.5, axis=1, method='lower')",
                                   lambda jnp, x, w: jnp.quantile(x, 0.5, axis=1, method="lower"),
                                   (3, 1, 4), None, "normal"),
    "quantile higher": ("quantile(x, 0.25, axis=-1, method='higher')",
                        lambda jnp, x, w: jnp.quantile(x, 0.25, axis=-1, method="higher"),
                        (3, 5), None, "ties"),
    "quantile midpoint axis tuple": ("quantile(x, 0.4, axis=(1, 0), method='midpoint')",
                                     lambda jnp, x, w: jnp.quantile(x, 0.4, axis=(1, 0),
                                                                    method="midpoint"),
                                     (3, 4, 2), None, "ties"),
    "percentile": ("percentile(x, (30.0, 70.0), axis=1)",
                   lambda jnp, x, w: jnp.percentile(x, jnp.array([30.0, 70.0]), axis=1), (3, 4),
                   None, "normal"),
    "median": ("median(x)", lambda jnp, x, w: jnp.median(x), (3, 4), None, "ties"),
    "median axis 1 keepdims": ("median(x, axis=1, keepdims=True)",
                               lambda jnp, x, w: jnp.median(x, axis=1, keepdims=True), (3, 5),
                               None, "normal"),
    "median axis tuple": ("median(x, axis=(0, 1))", lambda jnp, x, w: jnp.median(x, axis=(0, 1)),
                          (3, 4, 2), None, "ties"),
    "nanquantile": ("nanquantile(x, 0.3, axis=1)",
                    lambda jnp, x, w: jnp.nanquantile(x, 0.3, axis=1), (3, 4), None, "nans"),
    "nanpercentile many q": ("nanpercentile(x, (20.0, 90.0), axis=(0, 2), keepdims=True)",
                             lambda jnp, x, w: jnp.nanpercentile(
                                 x, jnp.array([20.0, 90.0]), axis=(0, 2), keepdims=True),
                             (3, 2, 3), None, "nans"),
    "nanmedian": ("nanmedian(x, axis=0)", lambda jnp, x, w: jnp.nanmedian(x, axis=0), (3, 4),
                  None, "nan ties"),
}
FIRST = first_of_each(CASES)


def _values(kind: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """"ties": small integers (max and min tie often); "nans": NaN where the indices add
    up to 1 mod 3 (a size-1 axis makes slices of NaNs only); "nan ties": both."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=shape).astype(float) if "ties" in kind else \
        rng.normal(size=shape)
    if "nan" in kind:
        x[np.indices(shape).sum(axis=0) % 3 == 1] = np.nan
    return x


def _case(name: str, dtype: type = np.float64, seed: int = 0):
    """L = sum(op(x * b, w) * u), b [last axis] of signs broadcast over x: the graph, its
    values, and JAX's L of (x, b, w, u)."""
    text, jax_op, shape, wshape, kind = CASES[name]
    rng = np.random.default_rng(seed + 1)
    values = {"x": _values(kind, shape, seed), "b": rng.choice([1.0, -1.0], size=shape[-1:])}
    decl = f"x: {list(shape)}\nb: {list(shape[-1:])}\n"
    if wshape is not None:
        values["w"] = rng.uniform(0.5, 2.0, size=wshape)
        decl += f"w: {list(wshape)}\n"
    w = values.get("w")
    out = np.shape(jax_op(np, values["x"], w))
    values["u"] = rng.normal(size=out)
    decl += f"u: {list(out) if out else 'scalar'}\n"
    g = gc.parse(decl + f"f = {text.replace('(x', '(x * b', 1)}\nL = sum(f * u)")
    values = {k: np.asarray(v, dtype) for k, v in values.items()}

    def loss(jnp):
        if wshape is None:
            return lambda x, b, u: jnp.sum(jax_op(jnp, x * b, None) * u)
        return lambda x, b, w, u: jnp.sum(jax_op(jnp, x * b, w) * u)
    return g, values, loss


def _jax_grad(jax, mode: str):
    """JAX's gradient as each mode computes it: forward mode's tangents sum over every
    element, so a NaN value reaches every direction of its input (jax.jacfwd's too, one
    input at a time: the others' tangents are zero, not computed)."""
    if mode == "reverse":
        return jax.grad

    def each(f, argnums):
        return lambda *args: tuple(jax.jacfwd(f, argnums=k)(*args) for k in argnums)
    return each


@cross(lambda name, optimize, mode: optimize and name in FIRST,  # fast: each op, both modes
       name=sorted(CASES), optimize={"opt": True, "noopt": False}, mode=MODES)
def test_values_and_gradients_are_jaxs(name, jax, mode, optimize):
    import jax.numpy as jnp

    g, values, loss = _case(name)
    value, grads = gc.compile(g, of="L", mode=mode, optimize=optimize)(**values)
    want = loss(jnp)(*values.values())
    ref = _jax_grad(jax, mode)(loss(jnp), argnums=tuple(range(len(values))))(
        *values.values())
    np.testing.assert_allclose(value, float(want), rtol=1e-12, atol=1e-14)
    for k, r in zip(values, ref):
        assert np.shape(grads[k]) == np.shape(values[k])
        np.testing.assert_allclose(grads[k], np.asarray(r), rtol=1e-10, atol=1e-12, err_msg=k)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_float32_stays_float32(name, jax):
    import jax.numpy as jnp

    g, values, loss = _case(name, np.float32)
    for mode in MODES:
        ref = _jax_grad(jax, mode)(loss(jnp), argnums=tuple(range(len(values))))(
            *(v.astype(float) for v in values.values()))
        value, grads = gc.compile(g, of="L", mode=mode)(**values)
        assert np.asarray(value).dtype == np.float32
        for k, r in zip(values, ref):
            assert grads[k].dtype == np.float32, (mode, k)
            np.testing.assert_allclose(grads[k], np.asarray(r), rtol=2e-4, atol=2e-5)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_dot_product_test(name):
    """<J v, u> == <v, J^T u>: forward mode's J v, reverse mode's J^T u, and finite
    differences where the op is smooth there."""
    g, values, _ = _case(name, seed=3)
    wrt = [k for k in ("x", "b", "w") if k in values and not (k == "b" and "nan" in CASES[name][4])]
    _, rev = gc.compile(g, of="L", wrt=wrt)(**values)
    _, fwd = gc.compile(g, of="L", wrt=wrt, mode="forward")(**values)
    rng = np.random.default_rng(4)
    for k in wrt:
        v = rng.normal(size=np.shape(values[k]))
        assert np.vdot(fwd[k], v) == pytest.approx(np.vdot(rev[k], v), rel=1e-10, abs=1e-12)
    if CASES[name][4] == "normal":
        for k in wrt:
            fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], values, k)
            np.testing.assert_allclose(rev[k], fd, rtol=1e-5, atol=1e-7, err_msg=k)


SECOND = ["diff ends", "diff n=2 axis 0", "ptp axis tuple keepdims", "average",
          "average weights", "average weights 1-D axis 0", "trapezoid dx axis 0",
          "trapezoid x", "trapezoid x same shape axis 0", "trapezoid 1-D x axis 0", "nansum",
          "nanmean axis 1",
          "nanmax axis 1 keepdims", "nanprod axis 0", "nanvar ddof", "nanstd axis tuple ddof",
          "quantile many q axis tuple keepdims", "median axis 1 keepdims", "percentile"]


@cross(lambda name: name in ("trapezoid x", "nanprod axis 0"), name=SECOND)
def test_second_order_is_jaxs(name, jax):
    """The reverse-mode gradient graph, printed, read back and differentiated again in
    both modes, gives JAX's Hessian-vector product (the weights' and sample points' too)."""
    import jax.numpy as jnp

    g, values, loss = _case(name, seed=5)
    wrt = [k for k in ("x", "w") if k in values]
    grad_graph = gc.compile(g, of="L", wrt=wrt).grad_graph
    vs = {f"v{k}": np.random.default_rng(6).normal(size=np.shape(values[k])) for k in wrt}
    decl = "".join(f"v{k}: {list(np.shape(values[k]))}\n" for k in wrt)
    g2 = gc.parse(decl + str(grad_graph) + "\nh = " + " + ".join(
        f"sum({k}_bar * v{k})" for k in wrt))
    f, names = loss(jnp), list(values)

    def hvp(*args):
        grads = jax.grad(f, argnums=tuple(names.index(k) for k in wrt))(*args)
        return sum(jnp.vdot(d, vs[f"v{k}"]) for d, k in zip(grads, wrt))
    for mode in MODES:
        want = _jax_grad(jax, mode)(hvp, argnums=tuple(range(len(names))))(*values.values())
        _, second = gc.compile(g2, of="h", wrt=names, mode=mode)(**values, **vs)
        for k, r in zip(names, want):
            np.testing.assert_allclose(second[k], np.asarray(r), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{mode} {k}")


def test_ties_and_zero_weights_are_jaxs(jax, mode):
    """ptp's ties share the adjoint as max's and min's do (a constant row: 0); weights that
    sum to 0 give nan and JAX's infinite gradient (NumPy's average raises); diff past the
    axis's length is empty, its gradient 0."""
    import jax.numpy as jnp

    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, -1.0]])
    for text, f in (("sum(ptp(x, axis=1) * u)", lambda x: jnp.sum(jnp.ptp(x, axis=1) * _U)),
                    ("ptp(x)", jnp.ptp),
                    ("sum(ptp(x, axis=0) * u)", lambda x: jnp.sum(jnp.ptp(x, axis=0) * _U))):
        g = gc.parse(f"x: [3, 3]\nu: [3]\ny = {text}")
        grads = gc.compile(g, mode=mode, wrt=["x"])(x=ties, u=_U)[1]
        np.testing.assert_allclose(grads["x"], np.asarray(jax.grad(f)(ties)), err_msg=text)
    g = gc.parse("x: [2, 2]\nw: [2]\ny = sum(average(x, axis=1, weights=w))")
    w = np.array([1.0, -1.0])
    with np.errstate(all="ignore"):
        value, grads = gc.compile(g, mode=mode)(x=np.ones((2, 2)), w=w)
        want = jax.grad(lambda x: jnp.sum(jnp.average(x, axis=1, weights=w)))(np.ones((2, 2)))
    assert np.isnan(value)
    np.testing.assert_array_equal(grads["x"], np.asarray(want))  # w / sum(w): +-inf
    g = gc.parse("x: [2, 3]\ny = sum(diff(x, n=4)) + sum(x)")
    value, grads = gc.compile(g, mode=mode)(x=np.ones((2, 3)))
    assert value == 6.0
    np.testing.assert_array_equal(grads["x"], np.ones((2, 3)))


_U = np.array([0.5, -1.0, 2.0])
NAN = float("nan")


@cross(lambda name: name in ("nanmax", "nanvar", "nanstd"),
       name=["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
             "nanmedian"])
def test_slices_of_nans_only_are_jaxs(name, jax):
    """A row of NaNs only: the value is NumPy's and JAX's (nan; 0 for nansum, 1 for nanprod),
    its gradient 0 in both modes, as JAX's reverse mode (JAX's forward mode divides 0 by 0
    there for nanmean, nanvar, nanstd: nan); no warning. Ties as max's and min's."""
    import jax.numpy as jnp

    x = np.array([[1.0, NAN, 3.0, 3.0], [NAN, NAN, NAN, NAN], [2.0, 2.0, NAN, -1.0]])
    text = f"{name}(x, axis=1, ddof=1)" if name in ("nanvar", "nanstd") else f"{name}(x, axis=1)"
    g = gc.parse(f"x: [3, 4]\nu: [3]\ny = sum({text} * u)")
    kw = {"ddof": 1} if name in ("nanvar", "nanstd") else {}

    def f(x, u):
        return jnp.sum(getattr(jnp, name)(x, axis=1, **kw) * u)
    want = np.asarray(jax.grad(f)(x, _U))
    with np.errstate(all="raise"):
        np.testing.assert_allclose(g.evaluate(x=x, u=_U)["y"], float(f(x, _U)))
        for mode in MODES:
            for dtype in (np.float64, np.float32):
                value, grads = gc.compile(g, mode=mode, wrt=["x"])(x=x.astype(dtype),
                                                                    u=_U.astype(dtype))
                assert grads["x"].dtype == dtype
                np.testing.assert_allclose(grads["x"], want, rtol=1e-6, err_msg=mode)

PROGRAM = """x: [3, 4]
w: [4]
t: [4]
d = diff(x, n=2) + 0.5
e = diff(x, axis=0, prepend=0.0)
p = ptp(x * w, axis=1, keepdims=True)
a = average(x, axis=1, weights=w) + average(x, axis=(0, 1), keepdims=True)
q = trapezoid(x, dx=0.5, axis=0) * w
r = trapezoid(sin(x), x=t)
n = nansum(x, axis=0) + nanmean(x * x, axis=0) + nanmax(x, axis=0) * nanmin(x, axis=0)
m = nanprod(x, axis=(0, 1), keepdims=True) + nanvar(x, axis=0, ddof=1) + nanstd(x, axis=0)
k = quantile(x, (0.25, 0.75), axis=0) * w + percentile(x, 40.0, axis=0, method='lower')
y = sum(sin(d)) + sum(e * e) + sum(p) + sum(a * a) + sum(q) + sum(r * r) + sum((n + m) * w) \
+ sum(k * k) + median(x * w)
"""


def _program_values(dtype: type = np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {"x": rng.normal(size=(3, 4)).astype(dtype),
            "w": rng.uniform(0.5, 2.0, size=4).astype(dtype),
            "t": np.cumsum(rng.uniform(0.1, 1.0, size=4)).astype(dtype)}


def test_a_program_round_trips_verifies_and_saves():
    """Printed as text and read back it is the same graph; verify agrees; the emitted
    module alone (NumPy only) gives what the compiled function gives, in both modes."""
    g = gc.parse(PROGRAM)
    values = _program_values()
    again = gc.parse(str(g))
    assert str(again) == str(g)
    for op in ("diff(x, n=2)", "prepend=0.0", "ptp(", "weights=w", "x=t", "dx=0.5",
               "nanprod(x, axis=(0, 1), keepdims=True)", "nanvar(x, axis=0, ddof=1)",
               "quantile(x, (0.25, 0.75), axis=0)", "percentile(x, 40.0, axis=0, method='lower')",
               "median(x * w)"):
        assert op in str(g), op
    np.testing.assert_allclose(again.evaluate(**values)["y"], g.evaluate(**values)["y"])
    assert gc.verify(g, at=values).ok
    plain = gc.compile(g, optimize=False)(**values)
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        value, grads = fn(**values)
        np.testing.assert_allclose(value, plain[0], rtol=1e-12)
        assert "graphc" not in fn.source.split('"""', 2)[2].split("def ")[0]
        module: dict = {}
        exec(compile(fn.source, "saved", "exec"), module)  # noqa: S102 - our own module
        saved_value, saved = module["value_and_grad"](**values)
        np.testing.assert_allclose(saved_value, value)
        for k in values:
            np.testing.assert_allclose(grads[k], plain[1][k], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(saved[k], grads[k])


def test_the_builder_names_are_the_text_names():
    x, w = gc.input("x", shape=(3, 4)), gc.input("w", shape=(4,))
    y = (gc.sum(gc.diff(x, n=2, axis=1)) + gc.ptp(x) + gc.sum(gc.average(x, axis=1, weights=w))
         + gc.average(x) + gc.sum(gc.trapezoid(x, x=w)) + gc.sum(gc.trapezoid(x, dx=2.0))
         + gc.nansum(x) + gc.nanmean(x) + gc.nanmax(x) + gc.nanmin(x) + gc.nanprod(x)
         + gc.sum(gc.nanvar(x, axis=1, ddof=1)) + gc.nanstd(x)
         + gc.sum(gc.quantile(x, [0.2, 0.6], axis=1, method="midpoint"))
         + gc.percentile(x, 90.0) + gc.median(x) + gc.nanmedian(x)
         + gc.nanquantile(x, 0.3, method="higher") + gc.nanpercentile(x, 10.0))
    text = ("x: [3, 4]\nw: [4]\ny = sum(diff(x, n=2, axis=1)) + ptp(x) + "
            "sum(average(x, axis=1, weights=w)) + average(x) + sum(trapezoid(x, x=w)) + "
            "sum(trapezoid(x, dx=2.0)) + nansum(x) + nanmean(x) + nanmax(x) + nanmin(x) + "
            "nanprod(x) + sum(nanvar(x, axis=1, ddof=1)) + nanstd(x) + "
            "sum(quantile(x, (0.2, 0.6), axis=1, method='midpoint')) + percentile(x, 90.0) + "
            "median(x) + nanmedian(x) + nanquantile(x, 0.3, method='higher') + "
            "nanpercentile(x, 10.0)")
    values = _program_values()
    del values["t"]
    built, parsed = gc.compile(gc.graph(y=y))(**values), gc.compile(gc.parse(text))(**values)
    np.testing.assert_allclose(built[0], parsed[0])
    for k in values:
        np.testing.assert_allclose(built[1][k], parsed[1][k])


def test_pictures_have_a_rule_on_each_edge():
    source = gc.render(gc.parse(PROGRAM), at=_program_values()).source
    for rule in ("-diff(", "== max", "* w / sum(w)", "* (x - ", "1/2 at the ends",
                 "t[i+1] - t[i-1]", "where x is not nan", "/ ties, 0 at nan",
                 "product of the others but nans", "(x - nanmean) / (n - ddof)",
                 "at the two sorted neighbours", "at the middle of the sorted"):
        assert rule in source, rule


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_every_backend_gives_the_numpy_backends_numbers(backend):
    g = gc.parse(PROGRAM)
    check_backend_matches_numpy(g, _program_values, backend, rtol_value=1e-5, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_nans_on_every_backend_are_the_numpy_backends(backend):
    """NaNs and a row of NaNs only through every NaN-ignoring reduction: the same values
    and gradients on each backend, in both modes and dtypes."""
    g = gc.parse("x: [3, 4]\nw: [4]\ny = sum((nansum(x, axis=1) + nanmean(x, axis=1) * "
                 "nanmax(x, axis=1) + nanmin(x * w, axis=1)) * nanprod(x, axis=1)) + "
                 "sum(nanvar(x, axis=0, ddof=1) * nanstd(x * w, axis=0) * w)")
    x = np.array([[1.0, NAN, 3.0, 3.0], [NAN, NAN, NAN, NAN], [2.0, 2.0, NAN, -1.0]])
    for dtype in (np.float64, np.float32):
        values = {"x": x.astype(dtype), "w": np.array([0.5, 1.0, -2.0, 1.5], dtype)}
        for mode in MODES:
            with np.errstate(invalid="ignore"):  # nanstd of one element: 0 / 0, nan as JAX's
                want, wgrads = gc.compile(g, mode=mode, wrt=["x"])(**values)
                value, grads = gc.compile(g, mode=mode, wrt=["x"], backend=backend)(**values)
            np.testing.assert_allclose(value, want, rtol=1e-5)
            assert grads["x"].dtype == dtype
            np.testing.assert_allclose(grads["x"], wgrads["x"], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("text, error, words", [
    ("y = diff(x, n=-1)", gc.ShapeError, "n must be >= 0"),
    ("y = diff(x, axis=2)", gc.ShapeError, "out of range"),
    ("y = diff(x, axis=(0, 1))", gc.ShapeError, "one axis"),
    ("y = diff(x, n=1.5)", gc.ParseError, "n must be an integer"),
    ("y = diff(x, prepend='a')", gc.ShapeError, "prepend must be a number"),
    ("y = diff(s)", gc.ShapeError, "at least one dimension"),
    ("y = ptp(x, axis=(1, -1))", gc.ShapeError, "names an axis twice"),
    ("y = ptp(x, axis=-3)", gc.ShapeError, "out of range"),
    ("y = average(x, axis=(0, 0))", gc.ShapeError, "names an axis twice"),
    ("y = average(x, weights=v)", gc.ShapeError, "weights [4] must have a's shape"),
    ("y = average(x, axis=0, weights=v)", gc.ShapeError, "1-D along axis="),
    ("y = average(x, axis=(0, 1), weights=v)", gc.ShapeError, "1-D along axis="),
    ("y = trapezoid(x, axis=3)", gc.ShapeError, "out of range"),
    ("y = trapezoid(x, dx=v)", gc.ShapeError, "dx must be a number, got 'v'"),
    ("y = trapezoid(x, x=v, axis=0)", gc.ShapeError, "length along axis=0"),
    ("y = trapezoid(x, x=v[:3])", gc.ShapeError, "or be 1-D of that length"),
    ("y = trapezoid(x, x=x2)", gc.ShapeError, "must have y's shape"),
    ("y = ptp(x, where=x)", gc.ParseError, "takes no keyword where"),
    ("y = nansum(x, axis=(0, 0))", gc.ShapeError, "names an axis twice"),
    ("y = nanmax(x, axis=2)", gc.ShapeError, "out of range"),
    ("y = nanvar(x, ddof=0.5)", gc.ParseError, "ddof must be an integer"),
    ("y = nanstd(x, axis=-3, ddof=1)", gc.ShapeError, "out of range"),
    ("y = nanmean(x, keepdims=1)", gc.ParseError, "True or False"),
    ("y = quantile(x, 1.5)", gc.ShapeError, "q 1.5 is outside [0, 1]"),
    ("y = quantile(x, (0.5, -0.25), axis=0)", gc.ShapeError, "outside [0, 1]"),
    ("y = percentile(x, 101.0)", gc.ShapeError, "outside [0, 100]"),
    ("y = quantile(x, s)", gc.ShapeError, "q as a value of the graph"),
    ("y = quantile(x, q=0.5, axis=(1, 1))", gc.ShapeError, "names an axis twice"),
    ("y = quantile(x, 0.5, method='hazen')", gc.ShapeError, "method 'hazen': one of linear"),
    ("y = median(x, axis=2)", gc.ShapeError, "out of range"),
])
def test_bad_input_is_an_error_with_line_and_column(text, error, words):
    check_error_at("x: [3, 4]\nv: [4]\nx2: [2, 3, 4]\ns: scalar\n" + text, error, words, line=5)
