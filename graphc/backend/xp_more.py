"""More helpers an Array-API module ships (see xp_helpers.py): NumPy's joins built from
the standard's concat, its constants in the inputs' dtype and device, erf in the
standard's elementwise functions alone, the nan-reductions through ``where(isnan(x))``
and einsum where the library has one. Same names as the NumPy helpers and templates
they stand for (ops/*.py), so a template is written once."""

from typing import TYPE_CHECKING

from .xp_helpers import _ns, _shape

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _float_of(like):
    """The float dtype the graph computes in: float32 inputs give float32 constants."""
    xp = _ns(like)
    return like.dtype if xp.isdtype(like.dtype, "real floating") else xp.float64


def _float_like(like, value):
    """value (a number or an integer array) in like's float dtype, on like's device."""
    xp = _ns(like)
    value = xp.asarray(value, device=array_api_compat.device(like))
    return xp.astype(value, _float_of(like))


def _diagonal(xp, N, M, k, dtype, device):
    """(rows, cols) of an N x M matrix (M None: N), shifted by k, to compare."""
    rows = xp.reshape(xp.arange(N, device=device), (N, 1)) + k
    return rows, xp.arange(N if M is None else M, device=device)


def _eye(xp, N, M=None, k=0, dtype=None, device=None):
    """NumPy's eye, from arange (dask's eye of a non-square matrix cannot be computed);
    xp is passed: there is no array to read it from."""
    rows, cols = _diagonal(xp, N, M, k, dtype, device)
    return xp.astype(cols == rows, dtype if dtype is not None else xp.float64)


def _tri(xp, N, M=None, k=0, dtype=None, device=None):
    """NumPy's tri: ones at and below the k-th diagonal."""
    rows, cols = _diagonal(xp, N, M, k, dtype, device)
    return xp.astype(cols <= rows, dtype if dtype is not None else xp.float64)


def _grown(shape, grow):
    """An operand's shape as np.hstack & co. join it (ops/assembling.py's _grown)."""
    if grow == "flat":
        size = 1
        for n in shape:
            size *= n
        return (size,)
    if grow == "col":
        return tuple(shape) if len(shape) >= 2 else (shape[0] if shape else 1, 1)
    want = {"1d": 1, "2d": 2, "3d": 3}.get(grow, 0)
    if len(shape) >= want:
        return tuple(shape)
    if not shape:
        return (1,) * want
    return (1, shape[0]) + (1,) * (want - 2) if len(shape) == 1 else tuple(shape) + (1,)


def _own(x, n):
    """The last n axes of x's shape: an operand's own, behind forward mode's directions."""
    return _shape(x)[len(_shape(x)) - n:]


def _join(xs, grow, axis):
    """xs grown by ``grow``, concatenated along axis: np.hstack & co."""
    return _ns(*xs).concat([_ns(x).reshape(x, _grown(_shape(x), grow)) for x in xs],
                           axis=axis)


def _hstack(xs):
    return _join(xs, "1d", 0 if len(_shape(xs[0])) <= 1 else 1)


def _vstack(xs):
    return _join(xs, "2d", 0)


def _dstack(xs):
    return _join(xs, "3d", 2)


def _column_stack(xs):
    return _join(xs, "col", 1)


def _append(x, y, axis=None):
    """np.append: flattened and joined, or joined along axis."""
    return _join((x, y), "flat", 0) if axis is None else _ns(x, y).concat((x, y), axis=axis)


def _join_part(g, *xs, index, grow, axis, ndims):
    """Operand ``index``'s part of g, the adjoint of joining xs (ops/assembling.py)."""
    own = [_own(x, n) for x, n in zip(xs, ndims)]
    sizes = [_grown(s, grow)[axis] for s in own]
    start = sum(sizes[:index])
    part = [slice(None)] * g.ndim
    part[axis] = slice(start, start + sizes[index])
    p = g[tuple(part)]
    return _ns(p).reshape(p, _shape(p)[:p.ndim - len(_grown(own[index], grow))] + own[index])


def _join_lead(*ts, grow, axis, ndims):
    """ts joined as np.hstack & co. join their operands, forward mode's leading axes kept."""
    grown = [_ns(t).reshape(t, _shape(t)[:t.ndim - n] + _grown(_own(t, n), grow))
             for t, n in zip(ts, ndims)]
    return _ns(*ts).concat(grown, axis=axis)


def _concat_part(g, *xs, index, axis):
    """Operand ``index``'s part of g, an adjoint of concat(xs, axis), axis from the end."""
    sizes = [_shape(x)[axis] for x in xs]
    start = sum(sizes[:index])
    part = [slice(None)] * g.ndim
    part[axis] = slice(start, start + sizes[index])
    return g[tuple(part)]


def _zeros_lead(t, like, ndim):
    """Zeros of like's shape behind t's leading axes: an operand's zero tangent."""
    xp = _ns(t, like)
    return xp.zeros(_shape(t)[:t.ndim - ndim] + _shape(like), dtype=xp.result_type(t, like),
                    device=array_api_compat.device(t))


def _erf_cody(x, complement):
    """erf(x), or erfc(x) when ``complement``: ops/special.py's Cody approximations in
    float64, each region computed on every element and chosen by where (no masked
    writes: JAX and dask arrays are immutable), in x's float dtype."""
    xp = _ns(x)
    dtype = _float_of(x)
    x = xp.astype(x, xp.float64)
    y = xp.abs(x)
    small, big = y <= 0.46875, y > 4.0
    a = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
         3.20937758913846947e03, 1.85777706184603153e-1)
    b = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
         2.84423683343917062e03)
    v = xp.where(small, y, 0.0)
    z = xp.where(v > 1.11e-16, v * v, 0.0)
    num, den = a[4] * z, z
    for i in range(3):
        num, den = (num + a[i]) * z, (den + b[i]) * z
    erf_small = x * (num + a[3]) / (den + b[3])
    c = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
         2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
         2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
    d = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
         1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
         3.43936767414372164e03, 1.23033935480374942e03)
    v = xp.where(small | big, 1.0, y)
    num, den = c[8] * v, v
    for i in range(7):
        num, den = (num + c[i]) * v, (den + d[i]) * v
    s = xp.trunc(v * 16.0) / 16.0
    erfc_mid = xp.exp(-s * s) * xp.exp(-(v - s) * (v + s)) * ((num + c[7]) / (den + d[7]))
    p = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
         1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
    qq = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
    finite = big & (y < 27.5)  # from 27.3 on erfc(|x|) is under 2**-1075: 0
    v = xp.where(finite, y, 5.0)
    z = 1.0 / (v * v)
    num, den = p[5] * z, z
    for i in range(4):
        num, den = (num + p[i]) * z, (den + qq[i]) * z
    q = (5.6418958354775628695e-1 - z * (num + p[4]) / (den + qq[4])) / v
    s = xp.trunc(v * 16.0) / 16.0
    sub = v >= 26.0  # subnormal: scaled by e**64 until the last product, rounded once
    t = xp.exp(xp.astype(sub, xp.float64) * 64.0 - s * s) * (xp.exp(-(v - s) * (v + s)) * q)
    erfc_big = xp.where(finite, xp.where(sub, t * 1.603810890548638e-28, t), 0.0)
    r = xp.where(small, erf_small, xp.where(big, erfc_big, erfc_mid))
    if complement:
        out = xp.where(small, 1.0 - r, xp.where(x < 0, 2.0 - r, r))
    else:
        out = xp.where(small, r, xp.copysign((0.5 - r) + 0.5, x))
    return xp.astype(xp.where(xp.isnan(x), x, out), dtype)


def _erf(x):
    return _erf_cody(x, False)


def _erfc(x):
    return _erf_cody(x, True)


def _gelu(x, approximate=True):
    """x Phi(x) exactly (through _erf), or JAX's tanh approximation of it."""
    if approximate:
        return x * (0.5 * (1.0 + _ns(x).tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))))
    return x * (_erf(x / 1.4142135623730951) + 1.0) / 2.0


def _nansum(x, axis=None, keepdims=False):
    xp = _ns(x)
    return xp.sum(xp.where(xp.isnan(x), 0.0, x), axis=axis, keepdims=keepdims)


def _nanprod(x, axis=None, keepdims=False):
    xp = _ns(x)
    return xp.prod(xp.where(xp.isnan(x), 1.0, x), axis=axis, keepdims=keepdims)


def _nan_extreme(x, axis, keepdims, pick, empty):
    """pick (max or min) of the elements that are not NaN; nan over NaNs only."""
    xp = _ns(x)
    nan = xp.isnan(x)
    out = pick(xp.where(nan, empty, x), axis=axis, keepdims=keepdims)
    return xp.where(xp.all(nan, axis=axis, keepdims=keepdims), xp.nan, out)


def _nanmax(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, _ns(x).max, -_ns(x).inf)


def _nanmin(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, _ns(x).min, _ns(x).inf)


def _nan_count(x, axis, keepdims):
    xp = _ns(x)
    return xp.sum(xp.astype(~xp.isnan(x), x.dtype), axis=axis, keepdims=keepdims)


def _nanmean(x, axis=None, keepdims=False):
    """The mean of the elements that are not NaN (nan over NaNs only)."""
    return _nansum(x, axis, keepdims) / _nan_count(x, axis, keepdims)


def _nanvar(x, axis=None, ddof=0, keepdims=False):
    """Squared deviations of the elements that are not NaN over n - ddof; nan where
    n <= ddof, as JAX's."""
    xp = _ns(x)
    d = x - _nanmean(x, axis, True)
    n = _nan_count(x, axis, keepdims)
    return xp.where(n > ddof, _nansum(d * d, axis, keepdims) / xp.where(n > ddof, n - ddof, 1),
                    xp.nan)


def _nanstd(x, axis=None, ddof=0, keepdims=False):
    return _ns(x).sqrt(_nanvar(x, axis, ddof, keepdims))


def _group_last(x, axis):
    """x with the axes of ``axis`` (from the end; None: all) moved last and flattened
    into one, and how to undo it (ops/reductions.py)."""
    xp, ndim = _ns(x), x.ndim
    axes = tuple(range(-ndim, 0)) if axis is None else \
        tuple(sorted(a % ndim - ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    moved = xp.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    return xp.reshape(moved, _shape(moved)[:moved.ndim - len(axes)] + (-1,)), \
        _shape(moved), axes


def _ungroup(y, moved_shape, axes):
    xp = _ns(y)
    return xp.moveaxis(xp.reshape(y, moved_shape), tuple(range(-len(axes), 0)), axes)


def _prod_except(x, axis=None):
    """Each element's product of the others along axis, from prefix and suffix
    products: no division, so right where x has zeros (JAX's prod gradient)."""
    xp = _ns(x)
    flat, moved, axes = _group_last(x, axis)
    ones = xp.ones_like(flat[..., :1])
    left = xp.cumulative_prod(xp.concat([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.cumulative_prod(xp.concat([ones, xp.flip(flat, axis=-1)[..., :-1]], axis=-1),
                               axis=-1)
    return _ungroup(left * xp.flip(right, axis=-1), moved, axes)


def _outer(a, b):
    """np.outer: a and b flattened, every product."""
    xp = _ns(a, b)
    return xp.reshape(a, (-1, 1)) * xp.reshape(b, (1, -1))


def _cbrt(x):
    """The real cube root (negative for negative x), within an ulp of np.cbrt's."""
    xp = _ns(x)
    return xp.sign(x) * xp.abs(x) ** (1 / 3)


def _logaddexp2(a, b):
    """log2(2**a + 2**b) without overflow, through logaddexp."""
    return _ns(a, b).logaddexp(a * 0.6931471805599453, b * 0.6931471805599453) \
        / 0.6931471805599453


def _einsum(subscripts, *operands, optimize=True):
    """einsum where the library has one (NumPy, PyTorch, JAX, dask.array; the standard
    has none): a NotImplementedError elsewhere, never a wrong number."""
    xp = _ns(*operands)
    if array_api_compat.is_dask_namespace(xp):
        import dask.array
        return dask.array.einsum(subscripts, *operands)
    if array_api_compat.is_numpy_namespace(xp):
        return xp.einsum(subscripts, *operands, optimize=optimize)
    if not hasattr(xp, "einsum"):
        raise NotImplementedError(f"{xp.__name__} has no einsum: it needs "
                                  "backend='numpy'")
    return xp.einsum(subscripts, *operands)


HELPERS = {f.__name__: f for f in (
    _float_of, _float_like, _diagonal, _eye, _tri, _grown, _own, _join, _hstack, _vstack, _dstack,
    _column_stack, _append, _join_part, _join_lead, _concat_part, _zeros_lead, _erf_cody,
    _erf, _erfc, _gelu, _nansum, _nanprod, _nan_extreme, _nanmax, _nanmin, _nan_count,
    _nanmean, _nanvar, _nanstd, _group_last, _ungroup, _prod_except, _outer, _cbrt,
    _logaddexp2, _einsum)}
