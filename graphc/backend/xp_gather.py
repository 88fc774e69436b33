"""Helpers an Array-API module ships (see xp_helpers.py) for the gathers and their
adjoints: take_along_axis's, resize's (pick and put: constant positions), sort's, and
quantile and median (JAX's values and weights, sorted stably). Each adjoint is a gather
of the flat positions, added back by _scatter_add (each library's own scatter-add)."""

from typing import TYPE_CHECKING

from .xp_helpers import _gathered_back, _ns, _positions, _shape, _size

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _take_along(x, idx, axis=-1):
    """take_along_axis; where the library has none (dask), a one-hot sum along axis."""
    xp = _ns(x)
    if hasattr(xp, "take_along_axis"):
        return xp.take_along_axis(x, idx, axis=axis)
    x, idx = xp.moveaxis(x, axis, -1), xp.moveaxis(idx, axis, -1)
    hit = idx[..., None] == xp.arange(x.shape[-1], device=array_api_compat.device(x))
    return xp.moveaxis(xp.sum(xp.where(hit, x[..., None, :], 0), axis=-1), -1, axis)


def _untake(g, like, idx, axis=-1, lead=0):
    """The adjoint of take_along_axis(like, idx, axis): g added where it was taken."""
    return _gathered_back(g, like, _take_along(_positions(like), idx, axis))


def _pick(x, index, axis, flat, shape):
    """x gathered at the constant ``index`` along ``axis`` (from the end); with ``flat``
    a count (not -1), its last ``flat`` axes flattened first; the gathered axis reshaped
    to ``shape`` (ops/editing.py)."""
    xp = _ns(x)
    if flat >= 0:
        x = xp.reshape(x, _shape(x)[:x.ndim - flat] + (-1,))
    y = xp.take(x, xp.asarray(index, dtype=xp.int64, device=array_api_compat.device(x)),
                axis=axis % x.ndim)
    return xp.reshape(y, _shape(y)[:y.ndim + axis] + tuple(shape) + _shape(y)[y.ndim + axis + 1:])


def _put(g, like, index, axis, flat, shape):
    """The adjoint of _pick(like, ...): g added back where each element was taken."""
    return _gathered_back(g, like, _pick(_positions(like), index, axis, flat, shape))


def _resize(a, new_shape):
    """np.resize: a's elements repeated cyclically to fill new_shape."""
    xp, shape = _ns(a), new_shape if isinstance(new_shape, tuple) else (new_shape,)
    count = 1
    for n in shape:
        count *= n
    flat = xp.reshape(a, (-1,))
    reps = -(-count // max(_size(a), 1))
    return xp.reshape(xp.concat([flat] * max(reps, 1))[:count], shape)


def _sorted_like(t, x, axis=-1, inverse=False):
    """t's entries moved along axis as sorting x (stably) moves x's (``inverse``: moved
    back); t's axes in front of x's (forward mode's directions) kept."""
    xp = _ns(t, x)
    order = xp.argsort(x, axis=axis, stable=True)
    if inverse:
        order = xp.argsort(order, axis=axis, stable=True)
    lead = t.ndim - x.ndim
    order = xp.broadcast_to(xp.reshape(order, (1,) * lead + _shape(order)),
                            _shape(t)[:lead] + _shape(order))
    return _take_along(t, order, axis)


def _grouped(a, axis):
    """a's slices along axis as one last axis, flattened in JAX's order, and the
    permuted shape and permutation that undo it (ops/quantiles.py)."""
    xp, nd = _ns(a), a.ndim
    axes = tuple(range(nd)) if axis is None else tuple(
        ax % nd for ax in (axis if isinstance(axis, tuple) else (axis,)))
    keep = [d for d in range(nd) if d not in axes]
    perm = keep + list(axes)
    if isinstance(axis, tuple):  # JAX swaps each kept axis to the front
        perm = list(range(nd))
        for i, k in enumerate(keep):
            perm[i], perm[k] = perm[k], perm[i]
    moved = xp.permute_dims(a, tuple(perm))
    return xp.reshape(moved, _shape(moved)[:len(keep)] + (-1,)), (_shape(moved), perm)


def _quantile_at(a, q, axis, method, nan=False):
    """The sorted slices' order, and for each q the two positions and weights of JAX's
    quantile (ops/quantiles.py), in float64; nan: of the elements that are not NaN."""
    xp, device = _ns(a), array_api_compat.device(a)
    flat, undo = _grouped(a, axis)
    order = xp.argsort(flat, axis=-1, stable=True)
    missing = xp.isnan(flat)
    n = xp.sum(xp.astype(~missing, xp.float64), axis=-1, keepdims=True) if nan \
        else xp.asarray(float(flat.shape[-1]), dtype=xp.float64, device=device)
    qs = xp.asarray(q if isinstance(q, tuple) else (q,), dtype=xp.float64, device=device)
    pos = qs * (xp.maximum(n, 1.0) - 1) * xp.ones(_shape(flat)[:-1] + (1,), dtype=xp.float64,
                                                  device=device)
    lo, hi = xp.floor(pos), xp.ceil(pos)
    high = pos - lo
    apart = xp.astype(hi > lo, xp.float64)
    high = {"linear": high, "lower": 0 * high, "higher": apart, "midpoint": apart * 0.5,
            "nearest": xp.astype(high > 0.5, xp.float64)}[method]
    void = xp.all(missing, axis=-1) if nan else xp.any(missing, axis=-1)
    return flat, order, xp.astype(lo, xp.int64), xp.astype(hi, xp.int64), 1 - high, high, \
        void, undo


def _quantile(a, q, axis=None, method="linear", keepdims=False, nan=False):
    """jnp.quantile(a, q, axis, method, keepdims) (nan: jnp.nanquantile): q's axes
    first, then a's kept ones."""
    xp = _ns(a)
    flat, order, lo, hi, w_lo, w_hi, void, _ = _quantile_at(a, q, axis, method, nan)
    s = _take_along(flat, order)
    out = _take_along(s, lo) * xp.astype(w_lo, a.dtype) + \
        _take_along(s, hi) * xp.astype(w_hi, a.dtype)
    out = xp.where(void[..., None], xp.nan, out)
    out = xp.reshape(xp.moveaxis(out, -1, 0),
                     ((len(q),) if isinstance(q, tuple) else ()) + _shape(out)[:-1])
    if keepdims:
        axes = range(a.ndim) if axis is None else \
            sorted(ax % a.ndim for ax in (axis if isinstance(axis, tuple) else (axis,)))
        for ax in axes:
            out = xp.expand_dims(out, axis=int(isinstance(q, tuple)) + ax)
    return xp.astype(out, a.dtype)


def _percentile(a, q, axis=None, method="linear", keepdims=False, nan=False):
    q = tuple(v / 100 for v in q) if isinstance(q, tuple) else q / 100
    return _quantile(a, q, axis, method, keepdims, nan)


def _median(a, axis=None, keepdims=False, nan=False):
    return _quantile(a, 0.5, axis, "midpoint", keepdims, nan)


def _nanquantile(a, q, axis=None, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims, True)


def _nanpercentile(a, q, axis=None, method="linear", keepdims=False):
    return _percentile(a, q, axis, method, keepdims, True)


def _nanmedian(a, axis=None, keepdims=False):
    return _median(a, axis, keepdims, True)


def _quantile_weights(a, q, axis=None, method="linear", nan=False):
    """d quantile / d a: for each q its two weights put where the sorted elements came
    from (shape q's + a's); 0 over a slice whose value is nan."""
    xp = _ns(a)
    flat, order, lo, hi, w_lo, w_hi, void, (moved, perm) = _quantile_at(a, q, axis, method, nan)
    rank = xp.arange(flat.shape[-1], device=array_api_compat.device(a))
    ranks = xp.where(rank == lo[..., None], w_lo[..., None], 0.0) + \
        xp.where(rank == hi[..., None], w_hi[..., None], 0.0)
    ranks = xp.where(void[..., None, None], 0.0, ranks)  # (..., k, n)
    ranks = xp.astype(ranks, xp.result_type(a.dtype, xp.float32))
    back = xp.argsort(order, axis=-1, stable=True)  # where each element was sorted to
    w = _take_along(ranks, xp.broadcast_to(back[..., None, :], _shape(ranks)))
    w = xp.reshape(xp.moveaxis(w, -2, 0), (-1,) + tuple(moved))
    w = xp.permute_dims(w, (0,) + tuple(1 + p for p in sorted(range(len(perm)),
                                                              key=perm.__getitem__)))
    return xp.reshape(w, ((len(q),) if isinstance(q, tuple) else ()) + _shape(a))


HELPERS = {f.__name__: f for f in (
    _take_along, _untake, _pick, _put, _resize, _sorted_like, _grouped, _quantile_at, _quantile,
    _percentile, _median, _nanquantile, _nanpercentile, _nanmedian, _quantile_weights)}
