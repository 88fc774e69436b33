"""Helpers an Array-API module ships (see xp_helpers.py) for NumPy's products, pieces
and diagonals that the standard spells otherwise: dot, inner, vdot, cross, ptp, trace,
diagflat, split and array_split and their adjoint (zeros around a piece, _placed),
slices of negative step (PyTorch refuses them). Same names as the NumPy templates and
helpers they stand for (ops/*.py)."""

from typing import TYPE_CHECKING

from .xp_helpers import _ns, _placed, _shape
from .xp_more import _float_of

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _dot(a, b):
    """np.dot: the last axis of a times the second-to-last of b (b's only, 1-d)."""
    if not a.ndim or not b.ndim:
        return a * b
    return _ns(a, b).tensordot(a, b, axes=((a.ndim - 1,), (max(b.ndim - 2, 0),)))


def _inner(a, b):
    """np.inner: the last axes of a and b summed."""
    if not a.ndim or not b.ndim:
        return a * b
    return _ns(a, b).tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def _vdot(a, b):
    """np.vdot of real arrays: both flattened, their dot product."""
    xp = _ns(a, b)
    return xp.sum(xp.reshape(a, (-1,)) * xp.reshape(b, (-1,)))


def _cross(a, b, axis=-1):
    """np.cross of 3-vectors along axis, NumPy's formulas."""
    xp = _ns(a, b)
    a, b = xp.moveaxis(a, axis, -1), xp.moveaxis(b, axis, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise NotImplementedError("cross of 2-vectors needs backend='numpy'")
    a0, a1, a2, b0, b1, b2 = a[..., 0], a[..., 1], a[..., 2], b[..., 0], b[..., 1], b[..., 2]
    out = xp.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return xp.moveaxis(out, -1, axis)


def _ptp(x, axis=None, keepdims=False):
    """np.ptp: max - min along axis."""
    xp = _ns(x)
    return xp.max(x, axis=axis, keepdims=keepdims) - xp.min(x, axis=axis, keepdims=keepdims)


def _offset_diagonal(x, offset):
    """Where x's last two axes' diagonal ``offset`` is (a boolean matrix)."""
    xp, device = _ns(x), array_api_compat.device(x)
    rows = xp.reshape(xp.arange(x.shape[-2], device=device), (-1, 1))
    return xp.arange(x.shape[-1], device=device) - rows == offset


def _trace(x, offset=0):
    """The trace of each matrix of x (its last two axes), as np.trace of a matrix."""
    xp = _ns(x)
    return xp.sum(xp.where(_offset_diagonal(x, offset), x, 0.0), axis=(-2, -1))


def _eye_like(x, offset=0):
    """eye of x's last two axes, in x's float dtype: where a trace reads x."""
    return _ns(x).astype(_offset_diagonal(x, offset), _float_of(x))


def _diagflat(v, k=0):
    """np.diagflat: v flattened onto diagonal k of a square matrix."""
    xp, device = _ns(v), array_api_compat.device(v)
    flat = xp.reshape(v, (-1,))
    n = flat.shape[0] + abs(k)
    rows = xp.reshape(xp.arange(n, device=device), (-1, 1))
    cols = xp.arange(n, device=device)
    at = xp.minimum(xp.minimum(rows, cols), flat.shape[0] - 1)  # the element on the diagonal
    values = xp.reshape(xp.take(flat, xp.reshape(at, (-1,)), axis=0), (n, n))
    return xp.where(cols - rows == k, values, 0.0)


def _diagonal_of(x, offset=0, axis1=0, axis2=1):
    """np.diagonal: the diagonal ``offset`` of axes axis1 and axis2, as x's last axis."""
    xp = _ns(x)
    m = xp.moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = m.shape[-2:]
    count = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    i = xp.arange(count, device=array_api_compat.device(x))
    at = (i + max(-offset, 0)) * cols + i + max(offset, 0)
    flat = xp.reshape(m, _shape(m)[:-2] + (-1,))
    return xp.take(flat, at, axis=flat.ndim - 1)


def _diag_place(g, like, k):
    """Zeros of like's last two axes with g on diagonal k (g's leading axes kept): the
    adjoint of a diagonal."""
    xp, device = _ns(g, like), array_api_compat.device(g)
    n, m = _shape(like)[-2:]
    rows = xp.reshape(xp.arange(n, device=device), (-1, 1))
    cols = xp.arange(m, device=device)
    at = xp.reshape(xp.clip(xp.minimum(rows, cols), 0, max(g.shape[-1] - 1, 0)), (-1,))
    values = xp.reshape(xp.take(g, at, axis=g.ndim - 1), _shape(g)[:-1] + (n, m))
    return xp.where(cols - rows == k, values, 0.0)


def _bounds(n, indices_or_sections):
    """Where np.array_split (np.split: sections that divide n) cuts an axis of n."""
    if isinstance(indices_or_sections, int):
        each, extra = divmod(n, indices_or_sections)
        sizes = [each + 1] * extra + [each] * (indices_or_sections - extra)
        cuts = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    else:
        cuts = [0, *indices_or_sections, n]
    spans = [slice(lo, hi).indices(n)[:2] for lo, hi in zip(cuts, cuts[1:])]
    return [(lo, max(lo, hi)) for lo, hi in spans]


def _split_all(x, indices_or_sections, axis=0):
    """np.split and np.array_split: the pieces of x along axis."""
    pieces = []
    for lo, hi in _bounds(x.shape[axis], indices_or_sections):
        index = [slice(None)] * x.ndim
        index[axis] = slice(lo, hi)
        pieces.append(x[tuple(index)])
    return pieces


def _unpiece(g, like, kind, indices_or_sections, axis, piece):
    """The adjoint of a piece of like (split, array_split or unstack; axis from the
    end): g among zeros where the piece came from; g's leading axes kept."""
    n = _shape(like)[axis]
    if kind == "unstack":
        g, (start, stop) = _ns(g).expand_dims(g, axis=axis), (piece, piece + 1)
    else:
        start, stop = _bounds(n, indices_or_sections)[piece]
    return _placed(g, n, axis, start, stop)


def _backwards(x, key):
    """``x[key]`` for a basic key (ints, None, slices) with negative steps, which the
    standard allows and PyTorch refuses: each such slice taken forwards, the axis then
    flipped (``x[4:0:-2]`` is ``flip(x[2:5:2])``)."""
    xp, taken, flipped = _ns(x), list(key), []
    dim = axis = 0  # the axes of x and of x[key] that key[at] reads and makes
    for at, k in enumerate(key):
        if isinstance(k, slice):
            start, stop, step = k.indices(_shape(x)[dim])
            if step < 0:
                count = len(range(start, stop, step))
                low = start + (count - 1) * step if count else 0
                taken[at] = slice(low, low + (count - 1) * -step + 1 if count else 0, -step)
                flipped.append(axis)
        dim += k is not None
        axis += not isinstance(k, int)
    y = x[tuple(taken) + (...,)]
    return xp.flip(y, axis=tuple(flipped)) if flipped else y


HELPERS = {f.__name__: f for f in (
    _backwards, _dot, _inner, _vdot, _cross, _ptp, _offset_diagonal, _trace, _eye_like, _diagflat,
    _diagonal_of, _diag_place, _bounds, _split_all, _unpiece)}
