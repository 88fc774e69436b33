"""The helpers an Array-API module ships: the standard's spelling of the NumPy helpers
that ops' templates call (ops/*.py), by the same name, so a template is written once.
Each takes its namespace from its arguments. Written in the standard alone (no out=,
no in-place writes: JAX and dask arrays are immutable or lazy)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the emitted module imports it; graphc itself runs without it
    import array_api_compat


def _ns(*values):
    """The namespace of the arrays among ``values`` (Python numbers have none; NumPy's
    scalars, a float's subclass, have NumPy's); NumPy's for Python numbers alone, which
    graphc computes as NumPy's float64."""
    arrays = [v for v in values if not _number(v)]
    if not arrays:
        import array_api_compat.numpy as xp
        return xp
    return array_api_compat.array_namespace(*arrays)


def _number(x):
    return x.__class__ in (int, float)


def _weak(xp, *values):
    """The float inputs by graphc's rule (the NumPy backend's ``_input``): a 0-d integer
    array becomes float64, any other array must be of a float dtype (an integer array
    here would compute in integers: a wrong number); Python numbers become 0-d arrays of
    the arrays' common dtype: weak, as in NumPy (a float32 model's Python float stays
    float32)."""
    values = tuple(v if _number(v) or xp.isdtype(v.dtype, "real floating")
                   else _float64(xp, v) for v in values)
    arrays = [v for v in values if not _number(v)]
    dtype = xp.result_type(*arrays) if arrays else xp.asarray(0.0).dtype
    return tuple(xp.asarray(v, dtype=dtype) if _number(v) else v for v in values)


def _float64(xp, v):
    """A 0-d integer array as float64 (the NumPy backend's rule); else a TypeError."""
    if v.ndim == 0 and xp.isdtype(v.dtype, "integral"):
        return xp.astype(v, xp.float64)
    raise TypeError(f"an input of dtype {v.dtype} is not of a float dtype (gradients "
                    "need float inputs; use .astype(float))")


def _sigmoid(x):
    """1 / (1 + exp(-x))."""
    return 1 / (1 + _ns(x).exp(-x))


def _heaviside(x, h):
    """NumPy's heaviside: 0 below 0, ``h`` at 0, 1 above, in x's dtype."""
    xp = _ns(x)
    return xp.where(x > 0, 1.0, xp.where(x == 0, xp.asarray(h, dtype=x.dtype), 0.0))


def _reciprocal(x):
    return 1 / x


def _std(x, axis=None, ddof=0, keepdims=False):
    """NumPy's std: ``ddof`` is the standard's ``correction``."""
    return _ns(x).std(x, axis=axis, correction=ddof, keepdims=keepdims)


def _var(x, axis=None, ddof=0, keepdims=False):
    """NumPy's var: ``ddof`` is the standard's ``correction``."""
    return _ns(x).var(x, axis=axis, correction=ddof, keepdims=keepdims)


def _swapaxes(x, a, b):
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return _ns(x).permute_dims(x, tuple(axes))


def _softmax(x, axis=-1):
    """softmax along axis, shifted by the max (which the gradient treats as a constant)."""
    xp = _ns(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    """log(softmax(x)) without overflow: x - max - log(sum(exp(x - max)))."""
    xp = _ns(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) along axis, shifted by the max."""
    xp = _ns(x)
    m = xp.max(x, axis=axis, keepdims=True)
    out = m + xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else xp.squeeze(out, axis=axis)


def _shape(x):
    return tuple(getattr(x, "shape", ()))


def _sum_to(x, like):
    """Sum x over the axes along which `like` was broadcast, to the shape of `like`."""
    shape = _shape(like)
    if _shape(x) == shape:
        return x
    xp = _ns(x, like)
    x = xp.broadcast_to(x, xp.broadcast_shapes(_shape(x), shape)) \
        if hasattr(xp, "broadcast_shapes") else xp.broadcast_arrays(x, like)[0]
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return xp.reshape(xp.sum(x, axis=axes), shape)


def _broadcast_like(x, like):
    """x broadcast against `like`, in like's float dtype where x is a number."""
    if _number(like):
        return x
    xp = _ns(like)
    if _number(x):
        x = xp.asarray(x, dtype=like.dtype)
    return xp.broadcast_arrays(x, like)[0] if _shape(x) != _shape(like) else x


def _choose(c, a, b, like):
    """where(c, a, b) for two numbers a and b, in the float dtype of ``like``."""
    xp = _ns(c)
    dtype = like.dtype if hasattr(like, "dtype") else xp.float64
    return xp.where(c, xp.asarray(a, dtype=dtype), xp.asarray(b, dtype=dtype))


def _reshape_like(t, src, like):
    """t, whose last axes have src's shape, reshaped to like's; leading axes kept."""
    return _ns(t).reshape(t, _shape(t)[:t.ndim - len(_shape(src))] + _shape(like))


def _placed(g, n, axis, start, stop):
    """g along ``axis`` put at [start:stop] of a length ``n`` axis, zeros elsewhere:
    concatenated, not written in place (JAX and dask arrays are immutable)."""
    xp = _ns(g)
    start, stop, _ = slice(start, stop).indices(n)
    stop = max(start, stop)
    parts = []
    for width in (start, None, n - stop):
        if width is None:
            parts.append(g)
        elif width:
            shape = list(g.shape)
            shape[axis] = width
            parts.append(xp.zeros(tuple(shape), dtype=g.dtype))
    return xp.concat(parts, axis=axis) if len(parts) > 1 else g


def _unslice(g, like, start, stop, axis):
    """The adjoint of a slice: g placed where the slice came from, zeros elsewhere."""
    ndim = len(_shape(like))
    return _placed(g, _shape(like)[axis], axis % ndim - ndim, start, stop)  # from the end


def _add_slice(base, g, start, stop, axis):
    """base + g placed where a slice [start:stop] along axis came from."""
    return base + _unslice(g, base, start, stop, axis)


def _unindex(g, like, *arrays, key=(), lead=0):
    """The adjoint of like[key] for a basic key (ints, slices, None, ...): g placed
    where its elements came from, zeros elsewhere. Index arrays would need a scatter-add,
    the standard lacks, chosen per library (_scatter_add)."""
    xp, shape = _ns(g, like), _shape(like)
    if arrays:  # each element's flat position, indexed as like was: an adjoint of a gather
        found = iter(arrays)
        where = _positions(like)[tuple(next(found) if k == (None,) else Ellipsis if k == ()
                                       else slice(*k) if isinstance(k, tuple) else k
                                       for k in key)]
        if lead and _apart(key):  # g's gathered axes behind the leading ones: NumPy's order
            taken = len(xp.broadcast_arrays(*arrays)[0].shape)
            g = xp.moveaxis(g, tuple(range(lead)), tuple(range(taken, taken + lead)))
        return _gathered_back(g, like, where)
    if _number(g):  # a reverse sweep's seed
        g = xp.asarray(g, dtype=like.dtype, device=array_api_compat.device(like))
    if () in key:  # Ellipsis: full slices in its place
        at = key.index(())
        rest = sum(1 for k in key if k is not None and k != ())
        key = key[:at] + ((None, None, None),) * (len(shape) - rest) + key[at + 1:]
    axis = lead  # the axis of g that the next key element reads
    for k in key:
        if k is None:  # a new axis of size 1: g has it, like has not
            g = xp.squeeze(g, axis=axis)
        elif isinstance(k, int):  # an axis like has and g has not
            g = _placed(xp.expand_dims(g, axis=axis), shape[axis - lead], axis,
                        k % shape[axis - lead], k % shape[axis - lead] + 1)
            axis += 1
        else:
            start, stop, step = slice(*k).indices(shape[axis - lead])
            count = len(range(start, stop, step))
            if step < 0:  # reversed: flip g back, then place it as the forward slice
                g = xp.flip(g, axis=axis)
                start, step = start + (count - 1) * step if count else 0, -step
            if step != 1:
                g = _strided(g, axis, step)
            g = _placed(g, shape[axis - lead], axis, start, start + _shape(g)[axis])
            axis += 1
    return g


def _strided(g, axis, step):
    """g's elements ``step`` apart along ``axis``, zeros between (the standard has no
    strided write): the adjoint of x[a:b:step] before it is placed at a."""
    xp, shape = _ns(g), list(_shape(g))
    spread = xp.stack([g] + [xp.zeros_like(g)] * (step - 1), axis=axis + 1)
    count, shape[axis] = shape[axis], shape[axis] * step
    return xp.reshape(spread, tuple(shape))[
        (slice(None),) * axis + (slice(0, (count - 1) * step + 1 if count else 0), ...)]


def _apart(key):
    """Whether a key's index arrays (and ints beside them) are apart, x[i, :, j]: NumPy
    then puts their broadcast axes first (ops/indexing.py)."""
    if (None,) not in key:
        return False
    at = [p for p, k in enumerate(key) if k == (None,) or isinstance(k, int)]
    return at[-1] - at[0] + 1 != len(at)


def _positions(like):
    """Each element's flat position, in like's shape (on like's device)."""
    xp = _ns(like)
    return xp.reshape(xp.arange(_size(like), device=array_api_compat.device(like)),
                      _shape(like))


def _gathered_back(g, like, where):
    """The adjoint of a gather of like's elements at flat positions ``where``: g (its
    leading axes, forward mode's directions, kept) added back where each came from."""
    xp = _ns(g, like)
    if _number(g):  # a reverse sweep's seed
        g = xp.full(_shape(where), g, dtype=like.dtype, device=array_api_compat.device(like))
    lead = _shape(g)[:g.ndim - where.ndim]
    out = _scatter_add(xp.reshape(g, lead + (-1,)), xp.reshape(where, (-1,)), _size(like))
    return xp.reshape(out, lead + _shape(like))


def _scatter_add(g, at, size):
    """out[..., at[j]] += g[..., j] into zeros (..., size): an element taken twice gets
    both. The standard has no scatter-add: each library's own (NumPy's add.at, PyTorch's
    index_add, JAX's .at[].add), else a one-hot sum (array_api_strict, dask: lazy)."""
    xp = _ns(g)
    shape, device = _shape(g)[:-1] + (size,), array_api_compat.device(g)
    if array_api_compat.is_numpy_namespace(xp):
        out = xp.zeros(shape, dtype=g.dtype)
        xp.add.at(out, (Ellipsis, at), g)
        return out
    if array_api_compat.is_torch_namespace(xp):
        return xp.zeros(shape, dtype=g.dtype, device=device).index_add(-1, at, g)
    if array_api_compat.is_jax_namespace(xp):
        return xp.zeros(shape, dtype=g.dtype).at[..., at].add(g)
    hit = xp.reshape(at, (-1, 1)) == xp.arange(size, device=device)  # (len(at), size)
    return xp.sum(xp.where(hit, g[..., None], 0.0), axis=-2)


def _expand_dims(x, axis):
    """expand_dims; a Python number (a reverse sweep's seed 1.0) stays one: it broadcasts
    as its size-1 axes would, in the arrays' dtype."""
    return x if _number(x) else _ns(x).expand_dims(x, axis=axis)


def _ravel(x):
    return _ns(x).reshape(x, (-1,))


def _size(x):
    return _ns(x).reshape(x, (-1,)).shape[0] if getattr(x, "ndim", 0) else 1


def _size_ratio(x, y):
    """How many elements of x each element of y stands for (a mean's divisor)."""
    return _size(x) / _size(y)


def _batch_size(x):
    """The length of x's first axis (a loss's batch)."""
    return x.shape[0]


def _mse(pred, target):
    """Half the mean squared error."""
    return _ns(pred, target).mean((pred - target) ** 2) / 2


def _huber(pred, target, delta=1.0):
    """Mean of optax's huber_loss: q = min(|r|, delta); q**2 / 2 + delta * (|r| - q)."""
    xp = _ns(pred, target)
    size = xp.abs(pred - target)
    quad = xp.minimum(size, delta)
    return xp.mean(quad * quad * 0.5 + (size - quad) * delta)


def _binary_cross_entropy(logits, targets):
    """Mean of max(x, 0) - x z + log1p(exp(-|x|)): never overflows."""
    xp = _ns(logits, targets)
    return xp.mean(xp.maximum(logits, 0.0) - logits * targets
                   + xp.log1p(xp.exp(-xp.abs(logits))))


def _cross_entropy(logits, labels):
    """Mean over the batch (first axis) of -sum(labels * log_softmax(logits)), for
    float labels; class indices need take_along_axis, which graphc spells for NumPy."""
    xp = _ns(logits, labels)
    if not xp.isdtype(labels.dtype, "real floating"):
        raise NotImplementedError("cross_entropy of integer labels needs backend='numpy'")
    batch = logits.shape[0] if logits.ndim > 1 else 1
    return -xp.sum(labels * _log_softmax(logits)) / batch


def _basis(x):
    """Every unit direction of x at once (forward mode): shape (x.size, *x.shape)."""
    n = _size(x)
    if n * n > 50_000_000:  # graphc's TANGENT_LIMIT
        raise ValueError(f"forward mode: an input of {n} elements carries {n} directions "
                         f"({n * n:,} numbers at least); use mode='reverse'")
    xp = _ns(x)
    return xp.reshape(xp.eye(n, dtype=x.dtype), (n,) + _shape(x))


def _from_directions(t, x):
    """Sum each direction's output tangent: the gradient, shaped like x."""
    xp = _ns(t)
    n = t.shape[0]
    return xp.reshape(xp.sum(xp.reshape(t, (n, -1)), axis=1), _shape(x))


def _lift(t, ndim):
    """A direction-stacked tangent padded with 1-axes so it broadcasts like ndim dims."""
    return _ns(t).reshape(t, t.shape[:1] + (1,) * (ndim - t.ndim + 1) + t.shape[1:])


def _lift_like(t, like):
    """_lift to the dims of `like`."""
    return _lift(t, len(_shape(like))) if len(_shape(like)) - t.ndim + 1 > 0 else t


def _spread(t, like):
    """A direction-stacked tangent broadcast to the full shape of `like`."""
    return _ns(t).broadcast_to(t, t.shape[:1] + _shape(like))


def _scalar_value(value, name):
    """The value of an output whose gradient is of a scalar, its shape known only now:
    a ValueError where it is not one, never a silent sum."""
    if getattr(value, "ndim", 0):
        raise ValueError(f"{name} is not a scalar (shape {tuple(value.shape)}): its "
                         f"gradient would sum its elements; differentiate sum({name})")
    return value


HELPERS = {f.__name__: f for f in (
    _number, _sigmoid, _heaviside, _reciprocal, _std, _var, _swapaxes, _softmax,
    _log_softmax, _logsumexp, _shape, _sum_to, _broadcast_like, _choose, _reshape_like,
    _placed, _unslice, _add_slice, _apart, _positions, _gathered_back, _scatter_add,
    _unindex, _strided, _expand_dims, _ravel, _size, _size_ratio,
    _batch_size, _mse, _huber, _binary_cross_entropy, _cross_entropy, _basis,
    _from_directions, _lift, _lift_like, _spread, _scalar_value)}
"""Every shipped helper by name; ``_ns`` ships always."""
