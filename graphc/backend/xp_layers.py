"""Helpers an Array-API module ships (see xp_helpers.py) for the network layers: 2-d
pooling (every window's kernel offset a strided slice, no sliding-window view; the
max's adjoint a scatter-add, _scatter_add), normalization, attention, and the adjoints
of tile and repeat (reshapes and sums). Same names as the NumPy helpers (ops/*.py)."""

from typing import TYPE_CHECKING

from .xp_helpers import _ns, _scatter_add, _shape, _softmax

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _padded(x, padding, fill):
    """x's last two axes padded by (ph, pw) on each side with ``fill``."""
    xp, (ph, pw) = _ns(x), padding
    device = array_api_compat.device(x)
    for axis, width in ((-2, ph), (-1, pw)):
        if width:
            shape = list(x.shape)
            shape[axis] = width
            edge = xp.full(tuple(shape), fill, dtype=x.dtype, device=device)
            x = xp.concat([edge, x, edge], axis=axis)
    return x


def _offsets(x, kernel, stride, padding, fill):
    """For each kernel offset (i, j), in row-major order, that offset of every window
    of x's padded last two axes: a strided slice of shape (..., OH, OW)."""
    x = _padded(x, padding, fill)
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (x.shape[-2] - kh) // sh + 1, (x.shape[-1] - kw) // sw + 1
    return [x[..., i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]


def _max_pool(x, kernel, stride, padding):
    """torch's max_pool2d: each window's maximum, the padding -inf."""
    xp = _ns(x)
    parts = _offsets(x, kernel, stride, padding, -xp.inf)
    out = parts[0]
    for part in parts[1:]:
        out = xp.maximum(out, part)
    return out


def _pool_mean(x, kernel, stride, padding):
    """torch's avg_pool2d (count_include_pad): each window's mean, the padding zeros."""
    parts = _offsets(x, kernel, stride, padding, 0.0)
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out / (kernel[0] * kernel[1])


def _pool_spread(g, kernel, stride, padding, size):
    """The adjoint of _pool_mean: each g / (kh*kw) added over its window (one
    scatter-add of every offset's share, into the padded plane, cropped)."""
    xp = _ns(g)
    (ph, pw), (h, w) = padding, size
    plane = (h + 2 * ph, w + 2 * pw)
    cells = xp.reshape(xp.arange(plane[0] * plane[1], device=array_api_compat.device(g)), plane)
    where = xp.concat([xp.reshape(c, (-1,)) for c in _offsets(cells, kernel, stride,
                                                               (0, 0), 0)])
    lead = _shape(g)[:-2]
    part = xp.reshape(g / (kernel[0] * kernel[1]), lead + (-1,))
    out = _scatter_add(xp.concat([part] * (kernel[0] * kernel[1]), axis=-1), where,
                       plane[0] * plane[1])
    return xp.reshape(out, lead + plane)[..., ph:ph + h, pw:pw + w]


def _fmax(a, b):
    """NumPy's fmax: the larger, NaN passed over unless both are."""
    xp = _ns(a, b)
    return xp.where(xp.isnan(b), a, xp.where(xp.isnan(a), b, xp.maximum(a, b)))


def _pool_argmax(x, kernel, stride, padding):
    """Where each window's maximum is, a flat index into x's last two axes: the first
    in row-major window order (JAX's), NaN and -inf passed over unless the window holds
    nothing else (ops/pooling.py)."""
    xp = _ns(x)
    low = xp.finfo(x.dtype).min
    if any(padding):  # the padding (-inf) loses to every value, NaN and -inf too
        x = _fmax(x, xp.asarray(low, dtype=x.dtype))
    parts = _offsets(x, kernel, stride, padding, -xp.inf)
    width = x.shape[-1]
    best = parts[0] if any(padding) else _fmax(parts[0], xp.asarray(low, dtype=x.dtype))
    at = xp.zeros(_shape(best), dtype=xp.int64, device=array_api_compat.device(x))
    for k, part in enumerate(parts[1:], 1):  # growing offsets: a larger is a later max
        i, j = divmod(k, kernel[1])
        at = xp.maximum(at, xp.astype(part > best, xp.int64) * (i * width + j))  # a tie: first
        best = _fmax(best, part)
    oh, ow = _shape(at)[-2:]
    device = array_api_compat.device(x)
    corner = xp.reshape(xp.arange(oh, device=device) * stride[0] - padding[0], (-1, 1)) \
        * width + xp.arange(ow, device=device) * stride[1] - padding[1]
    return at + corner


def _pool_pick(t, idx):
    """t's last two axes gathered at idx (flat indices); t's leading axes kept."""
    xp = _ns(t)
    lead = _shape(t)[:t.ndim - idx.ndim]
    flat = xp.reshape(t, _shape(t)[:-2] + (-1,))
    at = xp.reshape(idx, (1,) * len(lead) + _shape(idx)[:-2] + (-1,))
    at = xp.broadcast_to(at, _shape(flat)[:-1] + _shape(at)[-1:])
    if hasattr(xp, "take_along_axis"):
        taken = xp.take_along_axis(flat, at, axis=-1)
    else:  # dask: a one-hot sum
        hit = at[..., None] == xp.arange(flat.shape[-1], device=array_api_compat.device(t))
        taken = xp.sum(xp.where(hit, flat[..., None, :], 0), axis=-1)
    return xp.reshape(taken, lead + _shape(idx))


def _pool_put(g, idx, size):
    """The adjoint of _pool_pick: g added at idx of zeros of (..., *size) (an index
    taken by several windows gets each one's); g's leading axes kept."""
    xp = _ns(g, idx)
    whole = _shape(idx)[:-2] + tuple(size)
    count = 1
    for n in whole:
        count *= n
    cells = xp.reshape(xp.arange(count, device=array_api_compat.device(g)), whole)
    where = xp.reshape(_pool_pick(cells, idx), (-1,))
    lead = _shape(g)[:g.ndim - idx.ndim]
    return xp.reshape(_scatter_add(xp.reshape(g, lead + (-1,)), where, count), lead + whole)


def _normalized(x, axes, eps, center=True):
    """(x - mean) / sqrt(var + eps) over axes, the variance biased; not centered:
    x / sqrt(mean(x**2) + eps) (rms_norm)."""
    xp = _ns(x)
    xc = x - xp.mean(x, axis=axes, keepdims=True) if center else x
    return xc / xp.sqrt(xp.mean(xc * xc, axis=axes, keepdims=True) + eps)


def _batch_norm(x, weight=None, bias=None, eps=1e-5):
    """torch's batch_norm in training: statistics over every axis but the channels
    (axis 1); weight and bias per channel."""
    xp = _ns(x)
    out = _normalized(x, (0,) + tuple(range(2, x.ndim)), eps)
    per_channel = (-1,) + (1,) * (x.ndim - 2)
    return out * (1 if weight is None else xp.reshape(weight, per_channel)) \
        + (0 if bias is None else xp.reshape(bias, per_channel))


def _machine_eps(x):
    """The float's eps: rms_norm's eps when none is given, as torch's."""
    xp = _ns(x)
    return float(xp.finfo(xp.result_type(x.dtype, xp.float32)).eps)


def _attention(q, k, v, mask=None, is_causal=False, scale=None):
    """softmax(q @ k.mT * scale, where mask) @ v; scale 1/sqrt(q's last axis)."""
    xp = _ns(q, k, v)
    scores = q @ xp.matrix_transpose(k) * (q.shape[-1] ** -0.5 if scale is None else scale)
    if is_causal:  # np.tri(T, S, dtype=bool)
        device = array_api_compat.device(q)
        mask = xp.reshape(xp.arange(q.shape[-2], device=device), (-1, 1)) \
            >= xp.arange(k.shape[-2], device=device)
    if mask is not None:
        scores = xp.where(mask, scores, -xp.inf)
    return _softmax(scores) @ v


def _untile(g, like, reps):
    """The adjoint of np.tile(like, reps): g's tiles summed (leading axes kept)."""
    xp = _ns(g)
    reps = reps if isinstance(reps, tuple) else (reps,)
    ndim = max(len(reps), len(_shape(like)))
    reps = (1,) * (ndim - len(reps)) + reps
    dims = (1,) * (ndim - len(_shape(like))) + _shape(like)
    lead = _shape(g)[:g.ndim - ndim]
    split = lead + tuple(d for pair in zip(reps, dims) for d in pair)
    axes = tuple(len(lead) + 2 * i for i in range(ndim))
    return xp.reshape(xp.sum(xp.reshape(g, split), axis=axes), lead + _shape(like))


def _unrepeat(g, like, repeats, axis, flat):
    """The adjoint of np.repeat(like, repeats, axis): each element's copies summed; axis
    counted from the end, or ``flat``: like flattened (leading axes of g kept)."""
    xp = _ns(g)
    lead = _shape(g)[:g.ndim - (1 if flat else len(_shape(like)))]
    if flat:
        return xp.reshape(xp.sum(xp.reshape(g, lead + (-1, repeats)), axis=-1),
                          lead + _shape(like))
    shape, a = _shape(g), g.ndim + axis
    return xp.sum(xp.reshape(g, shape[:a] + (-1, repeats) + shape[a + 1:]), axis=a + 1)


def _pad(x, pad_width, constant_values=0.0):
    """np.pad with a constant: pad_width an int, a (before, after) pair or one per axis."""
    xp = _ns(x)
    widths = ((pad_width, pad_width),) if isinstance(pad_width, int) else \
        (tuple(pad_width),) if all(isinstance(w, int) for w in pad_width) else pad_width
    widths = [tuple(w) * (3 - len(w)) for w in widths]  # (n,): n before and after
    for axis, (before, after) in enumerate(widths * x.ndim if len(widths) == 1 else widths):
        shape = list(x.shape)
        parts = []
        for width in (before, after):
            shape[axis] = width
            parts.append(xp.full(tuple(shape), constant_values, dtype=x.dtype,
                                 device=array_api_compat.device(x)))
        x = xp.concat([parts[0], x, parts[1]], axis=axis)
    return x


def _unpad(g, widths):
    """The adjoint of a constant pad: the middle of g, widths (before, after) per axis
    counted from the end (leading axes kept)."""
    index = [slice(None)] * (g.ndim - len(widths))
    index += [slice(b, n - a) for (b, a), n in zip(widths, _shape(g)[g.ndim - len(widths):])]
    return g[tuple(index)]


HELPERS = {f.__name__: f for f in (
    _padded, _offsets, _max_pool, _pool_mean, _pool_spread, _fmax, _pool_argmax, _pool_pick,
    _pool_put, _normalized, _batch_norm, _machine_eps, _attention, _untile, _unrepeat,
    _pad, _unpad)}
