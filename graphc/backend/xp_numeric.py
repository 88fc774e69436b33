"""Helpers an Array-API module ships (see xp_helpers.py) for NumPy's numerics that the
standard spells otherwise or not at all: linear algebra through its linalg extension
(a NotImplementedError where the library has none), fmod exactly from ``%``, diff,
average, cumprod's derivatives, 1-d convolve and correlate, atleast_1d/2d, rollaxis and
select. Same names and signatures as the NumPy helpers and templates they stand for."""

from typing import TYPE_CHECKING

from .xp_helpers import _ns, _number, _shape
from .xp_more import _float_of, _grown

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _linalg(a, name):
    """The library's linalg.<name> (the standard's extension), or a NotImplementedError."""
    xp = _ns(a)
    found = getattr(getattr(xp, "linalg", None), name, None)
    if found is None:
        raise NotImplementedError(f"{xp.__name__} has no linalg.{name}: it needs "
                                  "backend='numpy'")
    if array_api_compat.is_dask_namespace(xp) and a.ndim != 2:
        raise NotImplementedError(f"dask's linalg.{name} takes one matrix, not a stack of "
                                  f"{a.ndim - 2}-d: it needs backend='numpy'")
    return found


def _det(a):
    return _linalg(a, "det")(a)


def _slogdet(a):
    return _linalg(a, "slogdet")(a)


def _inv(a):
    return _linalg(a, "inv")(a)


def _solve(a, b, name="solve"):
    """np.linalg.solve: b is a vector when 1-d, else a stack of matrices."""
    if b.ndim == 1:
        return _solve(a, _ns(b).reshape(b, (-1, 1)), name)[..., 0]
    found = _linalg(a, "solve")
    if array_api_compat.is_dask_namespace(_ns(b)) and b.ndim > 2:
        raise NotImplementedError(f"dask's linalg.solve takes one matrix, not a stack of "
                                  f"{b.ndim - 2}-d right-hand sides: it needs backend='numpy'")
    return found(a, b)


def _cholesky(a):
    """The lower factor of (a + a.mT) / 2, as JAX's (ops/linalg.py). On dask, dask's own
    with lower=True: array_api_compat's gives dask's default, the upper factor."""
    xp = _ns(a)
    factor = _linalg(a, "cholesky")
    if array_api_compat.is_dask_namespace(xp):
        import dask.array.linalg
        return dask.array.linalg.cholesky((a + xp.matrix_transpose(a)) / 2, lower=True)
    return factor((a + xp.matrix_transpose(a)) / 2)


def _solve_triangular(a, b, lower=False, trans=0, unit_diagonal=False):
    """scipy's solve_triangular on stacks: only a's triangle read (its diagonal as 1s
    when unit_diagonal); trans 1 or 2 solves with its transpose."""
    xp = _ns(a, b)
    t = xp.tril(a) if lower else xp.triu(a)
    if unit_diagonal:
        eye = xp.eye(a.shape[-1], dtype=t.dtype, device=array_api_compat.device(a))
        t = t * (1 - eye) + eye
    if trans:
        t = xp.matrix_transpose(t)
    return _solve(t, b, "solve_triangular")


def _fmod(x, y):
    """NumPy's fmod: the library's own where it has one, else (array_api_strict) the
    remainder of |x| by |y| (the standard's %: fmod where neither is negative) with x's
    sign, bit for bit."""
    xp = _ns(x, y)
    if hasattr(xp, "fmod"):
        return xp.fmod(x, y)
    r = abs(x) % abs(y)
    return xp.copysign(r, xp.asarray(x, dtype=r.dtype) if _number(x) else x)


def _mod_slope(x, y):
    """JAX's d(x % y)/dy: -trunc(x / y), plus 1 where the remainder took y's sign
    (ops/choices.py)."""
    xp = _ns(x, y)
    r = _fmod(x, y)
    return xp.astype((r != 0) & ((r < 0) != (y < 0)), r.dtype) - xp.trunc(x / y)


def _span(x, axis, start, stop):
    """x[start:stop] along one axis."""
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)]


def _edge(x, axis, value):
    """A slice of ``value`` across axis, as x's other axes (diff's ends)."""
    shape = list(x.shape)
    shape[axis] = 1
    return _ns(x).full(tuple(shape), value, dtype=x.dtype, device=array_api_compat.device(x))


def _diff(x, n=1, axis=-1, prepend=None, append=None):
    """np.diff(x, n, axis), numbers prepended/appended in x's dtype."""
    parts = ([] if prepend is None else [_edge(x, axis, prepend)]) + [x] + \
        ([] if append is None else [_edge(x, axis, append)])
    x = _ns(x).concat(parts, axis=axis) if len(parts) > 1 else x
    for _ in range(n):
        x = _span(x, axis, 1, None) - _span(x, axis, None, -1)
    return x


def _diff_bar(g, n=1, axis=-1, ends=(0, 0)):
    """The adjoint of np.diff(x, n, axis) from g (ops/summaries.py): minus the
    difference of g with a zero put at each end, n times; the ends cut off."""
    for _ in range(n):
        zero = _edge(g, axis, 0.0)
        g = -_diff(_ns(g).concat([zero, g, zero], axis=axis), axis=axis)
    return _span(g, axis, ends[0], g.shape[axis] - ends[1])


def _mid(y, axis=-1):
    """The midpoints (y[1:] + y[:-1]) / 2 along axis: the trapezoids' heights."""
    return (_span(y, axis, 1, None) + _span(y, axis, None, -1)) / 2


def _mid_bar(g, axis=-1):
    """The adjoint of _mid: half of g with a zero put first plus half of it with a zero
    put last."""
    xp, zero = _ns(g), _edge(g, axis, 0.0)
    return (xp.concat([zero, g], axis=axis) + xp.concat([g, zero], axis=axis)) / 2


def _halves(y, axis=-1):
    """trapezoid's d out / d y for dx = 1: ones, halves at the two ends (0 for one sample)."""
    xp = _ns(y)
    return _mid_bar(_span(xp.ones(_shape(y), dtype=_float_of(y),
                                  device=array_api_compat.device(y)), axis, 1, None), axis)


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid: the trapezoids' areas summed along axis, x's spacing or dx."""
    xp = _ns(y)
    d = dx
    if x is not None:
        d = _diff(x, axis=-1 if x.ndim == 1 else axis)
        if x.ndim == 1:  # along axis
            d = xp.reshape(d, (-1,) + (1,) * (y.ndim - 1 - axis % y.ndim))
    return xp.sum(d * (_span(y, axis, 1, None) + _span(y, axis, None, -1)) / 2.0, axis=axis)


def _matmul_grad(grad, a, b, slot):
    """d(a @ b) for operand ``slot`` (0: a, 1: b), shapes known only now: a vector as a
    1-row/1-column matrix, the batch axes broadcasting added summed away (ops/tensor.py)."""
    xp = _ns(grad, a, b)
    a2 = a if a.ndim > 1 else xp.reshape(a, (1, -1))
    b2 = b if b.ndim > 1 else xp.reshape(b, (-1, 1))
    g2 = xp.reshape(grad, _shape(grad)[:-1] + (1,) + _shape(grad)[-1:]) if a.ndim == 1 else grad
    g2 = xp.expand_dims(g2, axis=-1) if b.ndim == 1 else g2
    if slot == 0:
        d, like = g2 @ xp.matrix_transpose(b2), a2
    else:
        d, like = xp.matrix_transpose(a2) @ g2, b2
    lead = d.ndim - like.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(like.shape)
                                      if n == 1 and d.shape[lead + i] != 1)
    return xp.reshape(xp.sum(d, axis=axes) if axes else d, _shape(a if slot == 0 else b))


def _average(a, weights=None, axis=None, keepdims=False):
    """np.average: the mean, or sum(a * w) / sum(w), w 1-D along an int axis or of a's
    shape; nan where the weights sum to 0, as JAX's."""
    xp = _ns(a)
    if weights is None:
        return xp.mean(a, axis=axis, keepdims=keepdims)
    w = weights
    if _shape(w) != _shape(a):  # 1-D along axis: put it along that axis
        w = xp.reshape(w, _shape(w) + (1,) * (a.ndim - 1 - axis % a.ndim))
    w = xp.broadcast_to(w, _shape(a))
    return xp.sum(a * w, axis=axis, keepdims=keepdims) / xp.sum(w, axis=axis, keepdims=keepdims)


def _cumprod_dot(x, d, axis):
    """The tangent of cumprod(x, axis) along d (leading axes allowed): y'_i = y'_(i-1)
    x_i + y_(i-1) d_i, no division, so right with zeros."""
    xp = _ns(x, d)
    x, d = xp.broadcast_arrays(x, d)
    xs, ds = xp.moveaxis(x, axis, -1), xp.moveaxis(d, axis, -1)
    if not xs.shape[-1]:  # an empty axis
        return xp.moveaxis(ds, -1, axis)
    y, dot = xs[..., 0], ds[..., 0]
    dots = [dot]
    for i in range(1, xs.shape[-1]):
        dot = dot * xs[..., i] + y * ds[..., i]
        y = y * xs[..., i]
        dots.append(dot)
    return xp.moveaxis(xp.stack(dots, axis=-1), -1, axis)


def _cumprod_bar(x, g, axis):
    """The adjoint of cumprod(x, axis) from g: x_bar_j = prefix_j s_j, the exclusive
    prefix product and s_j = g_j + x_(j+1) s_(j+1): right with zeros."""
    xp = _ns(x, g)
    xs, gs = xp.broadcast_arrays(xp.moveaxis(x, axis, -1), xp.moveaxis(g, axis, -1))
    n = xs.shape[-1]
    if not n:  # an empty axis
        return xp.moveaxis(gs, -1, axis)
    prefix = xp.cumulative_prod(xp.concat([xp.ones_like(xs[..., :1]), xs[..., :-1]],
                                          axis=-1), axis=-1)
    s = [gs[..., n - 1]]
    for j in range(n - 2, -1, -1):
        s.append(gs[..., j] + xs[..., j + 1] * s[-1])
    return xp.moveaxis(prefix * xp.stack(s[::-1], axis=-1), -1, axis)


def _correlate_at(x, w, start, length, flip):
    """out[..., k] = sum_m x[..., k + start + m] * w[..., m] for k < length, x zero
    outside its range (w reversed if ``flip``: a convolution); front axes broadcast."""
    xp = _ns(x, w)
    n, m = x.shape[-1], w.shape[-1]
    if flip:
        w = xp.flip(w, axis=-1)
    lo, hi = max(-start, 0), max(start + length + m - 1 - n, 0)
    dtype, device = xp.result_type(x, w), array_api_compat.device(x)
    padded = xp.concat([xp.zeros(_shape(x)[:-1] + (lo,), dtype=dtype, device=device),
                        xp.astype(x, dtype),
                        xp.zeros(_shape(x)[:-1] + (hi,), dtype=dtype, device=device)], axis=-1)
    at = start + lo
    out = padded[..., at:at + length] * w[..., :1]
    for j in range(1, m):
        out = out + padded[..., at + j:at + j + length] * w[..., j:j + 1]
    return out


def _signal(name, a, v, mode):
    """np.convolve and np.correlate (1-d): their window (ops/vectors.py's _window)."""
    n, m = a.shape[-1], v.shape[-1]
    short, long = min(n, m), max(n, m)
    if mode == "full":
        skip, length = 0, n + m - 1
    elif mode == "same":  # centred as NumPy's: correlate's centre differs when v is longer
        skip, length = (short - (name == "convolve" or n >= m)) // 2, long
    else:
        skip, length = short - 1, long - short + 1
    return _correlate_at(a, v, skip - (m - 1), length, name == "convolve")


def _convolve(a, v, mode="full"):
    return _signal("convolve", a, v, mode)


def _correlate(a, v, mode="valid"):
    return _signal("correlate", a, v, mode)


def _atleast_1d(x):
    return _ns(x).reshape(x, _grown(_shape(x), "1d"))


def _atleast_2d(x):
    return _ns(x).reshape(x, _grown(_shape(x), "2d"))


def _rollaxis(x, axis, start=0):
    """np.rollaxis as a moveaxis."""
    a = axis % x.ndim
    start += x.ndim if start < 0 else 0
    return _ns(x).moveaxis(x, a, start - 1 if a < start else start)


def _rot90(m, k=1, axes=(0, 1)):
    """np.rot90: flips and a swap of two axes, as NumPy computes it."""
    xp = _ns(m)
    a, b = (ax % m.ndim for ax in axes)
    order = list(range(m.ndim))
    order[a], order[b] = b, a
    k %= 4
    if k == 2:
        return xp.flip(xp.flip(m, axis=a), axis=b)
    if k == 1:
        return xp.permute_dims(xp.flip(m, axis=b), tuple(order))
    return xp.flip(xp.permute_dims(m, tuple(order)), axis=b) if k else m


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num: NaN to ``nan``, infinities to the given numbers or the largest
    finite ones of x's dtype."""
    xp = _ns(x)
    big = float(xp.finfo(x.dtype).max)
    x = xp.where(xp.isnan(x), nan, x)
    x = xp.where(x == xp.inf, big if posinf is None else posinf, x)
    return xp.where(x == -xp.inf, -big if neginf is None else neginf, x)


def _clip(x, a_min, a_max):
    """np.clip: minimum(maximum(x, a_min), a_max), so a_max where a_min > a_max (the
    standard's clip leaves that case open; array_api_strict raises)."""
    xp = _ns(x, a_min, a_max)
    return xp.minimum(xp.maximum(x, a_min), a_max)


def _select(condlist, choicelist, default=0):
    """np.select as nested where: the first choice whose condition holds."""
    out = default
    for c, a in zip(condlist[::-1], choicelist[::-1]):
        out = _ns(c).where(c, a, out)
    return out


HELPERS = {f.__name__: f for f in (
    _linalg, _det, _slogdet, _inv, _solve, _cholesky, _solve_triangular, _fmod, _mod_slope,
    _span, _edge, _diff, _diff_bar, _mid, _mid_bar, _halves, _trapezoid, _matmul_grad, _average,
    _cumprod_dot, _cumprod_bar, _correlate_at,
    _signal, _convolve, _correlate, _atleast_1d, _atleast_2d, _rollaxis, _rot90, _nan_to_num,
    _clip, _select)}
