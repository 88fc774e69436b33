"""torch.nn.functional's 2-d pooling, NCHW (or unbatched CHW): max_pool2d, avg_pool2d and
global_avg_pool, one op-table entry each.

Both pools read windows of the last two axes (``_windows``: a strided view, no loop over
pixels), reduced by one NumPy call per kernel offset over every window at once (80 times
faster than ``np.max`` of the view's last two axes); any leading axes (forward mode's
directions) pass through. avg_pool2d is linear: its adjoint spreads each mean back over
its window (``pool_spread``, the transpose of ``pool_mean``). max_pool2d is the input
gathered at each window's maximum (``pool_argmax``, flat indices into H*W; the first
maximum in row-major window order, as JAX's ``reduce_window`` gradient): its jvp gathers
the tangent there (``pool_pick``) and its vjp adds the adjoint back there (``pool_put``, an
unbuffered add: overlapping windows add up). pick and put are each other's transpose, so every
order of derivative is one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .shaping import _declared
from .table import Op, Trait, _register, floats_only
from .tensor import _MADE, _count


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _windows(x, kernel, stride, padding, fill):
    """x's (kh, kw) windows, every stride-th, of its last two axes padded with ``fill``:
    shape (..., OH, OW, kh, kw), a view of the padded array."""
    x = np.asarray(x)
    (ph, pw) = padding
    if ph or pw:
        x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)], constant_values=fill)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(-2, -1))
    return win[..., ::stride[0], ::stride[1], :, :]


def _max_pool(x, kernel, stride, padding):
    """torch's max_pool2d: each window's maximum, the padding -inf."""
    win = _windows(x, kernel, stride, padding, -np.inf)
    out = win[..., 0, 0].copy()
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            np.maximum(out, win[..., i, j], out=out)
    return out


def _pool_mean(x, kernel, stride, padding):
    """torch's avg_pool2d (count_include_pad): each window's mean, the padding zeros."""
    win = _windows(x, kernel, stride, padding, 0)
    out = win[..., 0, 0].copy()
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            if i or j:
                np.add(out, win[..., i, j], out=out)
    return np.divide(out, kernel[0] * kernel[1], out=out)


def _pool_spread(g, kernel, stride, padding, size):
    """The adjoint of _pool_mean: each g / (kh*kw) added over its window (a loop over the
    kernel's offsets, each a strided slice of every window)."""
    g = np.asarray(g)
    (kh, kw), (sh, sw), (ph, pw), (h, w) = kernel, stride, padding, size
    oh, ow = np.shape(g)[-2:]
    out = np.zeros(np.shape(g)[:-2] + (h + 2 * ph, w + 2 * pw), g.dtype)
    part = g / (kh * kw)
    for i in range(kh):
        for j in range(kw):
            out[..., i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += part
    return out[..., ph:ph + h, pw:pw + w]


def _pool_argmax(x, kernel, stride, padding):
    """Where each window's maximum is, a flat index into x's last two axes: the first in
    row-major window order (JAX's); NaN and -inf are passed over unless the window holds
    nothing else, so the padding is never chosen. They count as the lowest float: the
    running maximum starts there and grows by fmax, which skips NaN (without padding, no
    cleaned copy of x is made: 20% faster)."""
    x = np.asarray(x)
    low = np.finfo(x.dtype).min
    if any(padding):  # the padding (-inf) loses to every value, NaN and -inf too
        x = np.fmax(x, low)
    win = _windows(x, kernel, stride, padding, -np.inf)
    width = np.shape(x)[-1]
    best = win[..., 0, 0].copy() if any(padding) else np.fmax(win[..., 0, 0], low)
    at = np.zeros(np.shape(best), np.intp)  # the offset in the window, in x's flat indices
    for i, j in list(np.ndindex(*kernel))[1:]:  # growing offsets: a larger is a later max
        later = win[..., i, j] > best  # strictly: a tie keeps the first
        np.maximum(at, later * (i * width + j), out=at)  # (not a masked copy: slow)
        np.fmax(best, win[..., i, j], out=best)
    oh, ow = np.shape(at)[-2:]
    corner = ((np.arange(oh) * stride[0] - padding[0])[:, None] * width
              + np.arange(ow) * stride[1] - padding[1])
    return np.add(at, corner, out=at)


def _pool_pick(t, idx):
    """t's last two axes gathered at idx (flat indices); t's leading axes kept."""
    t = np.asarray(t)
    lead = np.shape(t)[:np.ndim(t) - np.ndim(idx)]
    flat = np.reshape(t, np.shape(t)[:-2] + (-1,))
    at = np.reshape(idx, (1,) * len(lead) + np.shape(idx)[:-2] + (-1,))
    return np.reshape(np.take_along_axis(flat, at, axis=-1), lead + np.shape(idx))


def _pool_put(g, idx, size):
    """The adjoint of _pool_pick: g added at idx of zeros of (..., *size) (an index taken
    by several windows gets each one's); g's leading axes kept."""
    g = np.asarray(g)
    per = np.shape(idx)[-2] * np.shape(idx)[-1]
    maps, n = np.size(g) // max(per, 1), np.size(idx) // max(per, 1)
    at = np.broadcast_to(np.reshape(idx, (n, per)), (maps // max(n, 1), n, per))
    cells = size[0] * size[1]
    flat = (np.arange(maps).reshape(-1, 1) * cells + np.reshape(at, (maps, per))).ravel()
    out = np.zeros(maps * cells, g.dtype)
    np.add.at(out, flat, np.ravel(g))  # in g's dtype: 2.5x a bincount's float64 and cast
    return np.reshape(out, np.shape(g)[:-2] + tuple(size))


# ---- the parameters: torch's ints or pairs, checked when the graph is built ----------
def _pair(value: Any, what: str) -> tuple[int, int]:
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(type(v) is int for v in pair):
        raise ShapeError(f"{what} {value!r}: an integer or a pair of integers")
    return pair[0], pair[1]


def _normal(params: dict) -> dict:
    """kernel, stride (the kernel's when None, as torch) and padding as pairs of ints."""
    kernel = _pair(params["kernel_size"], "kernel_size")
    stride = kernel if params["stride"] is None else _pair(params["stride"], "stride")
    padding = _pair(params["padding"], "padding")
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ShapeError(f"kernel_size {kernel} and stride {stride} must be positive, "
                         f"padding {padding} not negative")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ShapeError(f"padding {padding} is more than half the kernel {kernel} (torch "
                         "refuses it: a window would hold padding only)")
    return {"kernel": kernel, "stride": stride, "padding": padding}


def _image(x: shapes.Shape, name: str) -> tuple[int, int]:
    if len(x) not in (3, 4):
        raise ShapeError(f"{name} takes an NCHW input (4-d, or 3-d CHW), got "
                         f"{shapes.format_shape(x)}")
    h, w = x[-2:]
    if not isinstance(h, int) or not isinstance(w, int):
        raise ShapeError(f"{name} needs the height and width as numbers, got {h} and {w}")
    return h, w


def _pooled(x: shapes.Shape, kernel: Any, stride: Any, padding: Any) -> shapes.Shape:
    """torch's output size: floor((H + 2p - k) / s) + 1 along each of the last two axes."""
    h, w = x[-2:]
    if h + 2 * padding[0] < kernel[0] or w + 2 * padding[1] < kernel[1]:
        raise ShapeError(f"kernel {kernel} is larger than the padded input "
                         f"({h + 2 * padding[0]}, {w + 2 * padding[1]})")
    return x[:-2] + ((h + 2 * padding[0] - kernel[0]) // stride[0] + 1,
                     (w + 2 * padding[1] - kernel[1]) // stride[1] + 1)


def _pool_shape(g: Any, args: tuple[str, ...], params: dict, name: str) -> shapes.Shape:
    floats_only(g, args)
    x = _declared(g, args[0], name)
    _image(x, name)
    return _pooled(x, **_normal(params))


def _spelled(helper: str) -> Callable[[dict], str]:
    """The emitted call, with the parameters as normal pairs."""
    def spell(params: dict) -> str:
        p = _normal(params)
        return f"{helper}({{0}}, {p['kernel']}, {p['stride']}, {p['padding']})"
    return spell


def _interpreted(helper: Callable[..., Any]) -> Callable[..., Any]:
    """The interpreter's call: torch's parameters, as normal pairs, to helper."""
    return lambda x, kernel_size, stride, padding: helper(
        x, **_normal({"kernel_size": kernel_size, "stride": stride, "padding": padding}))


def _size(x: R) -> tuple[int, int]:
    return x.shape[-2], x.shape[-1]


_TORCH = {"kernel_size": None, "stride": None, "padding": (0, 0)}  # padding=0 as well
_POSITIONAL = ("kernel_size", "stride", "padding")
_WINDOW = {"kernel": (1, 1), "stride": (1, 1), "padding": (0, 0)}


# ---- max_pool2d ---------------------------------------------------------------------------
def _argmax_of(out: R) -> R:
    return out.args[0].call("pool_argmax", **_normal(out.params))


_register(Op("max_pool2d", 1, "_max_pool({0})",
             _interpreted(_max_pool), slot_prec=(0,), params=_TORCH, positional=_POSITIONAL,
             spell=_spelled("_max_pool"), helpers=(_windows, _max_pool), dtype="follows",
             shape=lambda g, args, params: _pool_shape(g, args, params, "max_pool2d"),
             vjp=vjp(lambda out, grad: (grad.call("pool_put", _argmax_of(out),
                                                  size=_size(out.args[0])),)),
             jvp=jvp(lambda out, dots: dots[0].call("pool_pick", _argmax_of(out))),
             rules=("{out}_bar put back at each window's argmax",), traits=_MADE))
_register(Op("pool_argmax", 1, "_pool_argmax({0}, {kernel}, {stride}, {padding})",
             _pool_argmax, slot_prec=(0,), params=_WINDOW, helpers=(_windows, _pool_argmax),
             shape=lambda g, args, params: _pooled(g.shape(args[0]), **params),
             integral=lambda params: True, traits=_MADE | Trait.INTERNAL | Trait.NO_DERIVATIVE))


def _picked_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    t, idx = g.shape(args[0]), g.shape(args[1])
    return t[:-2] + idx[-2:]


_register(Op("pool_pick", 2, "_pool_pick({0}, {1})", _pool_pick, slot_prec=(0, 0),
             helpers=(_pool_pick,), shape=_picked_shape, dtype="first", grad_slots=(0,),
             vjp=vjp(lambda out, grad: (grad.call("pool_put", out.args[1],
                                                  size=_size(out.args[0])), None)),
             jvp=jvp(lambda out, dots: dots[0].call("pool_pick", out.args[1])),
             rules=("{out}_bar put back at {1}",), traits=_MADE | Trait.INTERNAL))
_register(Op("pool_put", 2, "_pool_put({0}, {1}, {size})", _pool_put, slot_prec=(0, 0),
             params={"size": (1, 1)}, helpers=(_pool_put,), dtype="first", grad_slots=(0,),
             shape=lambda g, args, params: g.shape(args[0])[:-2] + tuple(params["size"]),
             vjp=vjp(lambda out, grad: (grad.call("pool_pick", out.args[1]), None)),
             jvp=jvp(lambda out, dots: dots[0].call("pool_put", out.args[1], **out.params)),
             rules=("{out}_bar picked at {1}",), traits=_MADE | Trait.INTERNAL))


# ---- avg_pool2d: linear, pool_mean and its transpose pool_spread ---------------------------
_register(Op("avg_pool2d", 1, "_pool_mean({0})",
             _interpreted(_pool_mean), slot_prec=(0,), params=_TORCH, positional=_POSITIONAL,
             spell=_spelled("_pool_mean"), helpers=(_windows, _pool_mean), dtype="follows",
             shape=lambda g, args, params: _pool_shape(g, args, params, "avg_pool2d"),
             vjp=vjp(lambda out, grad: (grad.call("pool_spread", **_normal(out.params),
                                                  size=_size(out.args[0])),)),
             jvp=jvp(lambda out, dots: dots[0].call("pool_mean", **_normal(out.params))),
             rules=("{out}_bar / (kh*kw) spread over each window",), traits=_MADE))


def _spread_back(out: R, grad: R) -> tuple[R | None, ...]:
    return (grad.call("pool_mean", **{k: out.params[k] for k in _WINDOW}),)


_register(Op("pool_mean", 1, "_pool_mean({0}, {kernel}, {stride}, {padding})", _pool_mean,
             slot_prec=(0,), params=_WINDOW, helpers=(_windows, _pool_mean), dtype="follows",
             shape=lambda g, args, params: _pooled(g.shape(args[0]), **params),
             vjp=vjp(lambda out, grad: (grad.call("pool_spread", **out.params,
                                                  size=_size(out.args[0])),)),
             jvp=jvp(lambda out, dots: dots[0].call("pool_mean", **out.params)),
             rules=("{out}_bar / (kh*kw) spread over each window",),
             traits=_MADE | Trait.INTERNAL))
_register(Op("pool_spread", 1, "_pool_spread({0}, {kernel}, {stride}, {padding}, {size})",
             _pool_spread, slot_prec=(0,), params={**_WINDOW, "size": (1, 1)},
             helpers=(_pool_spread,), dtype="follows",
             shape=lambda g, args, params: g.shape(args[0])[:-2] + tuple(params["size"]),
             vjp=vjp(_spread_back),
             jvp=jvp(lambda out, dots: dots[0].call("pool_spread", **out.params)),
             rules=("the window means of {out}_bar",), traits=Trait.INTERNAL))


# ---- global_avg_pool: the mean over H and W ---------------------------------------------------
def _global_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    x = _declared(g, args[0], "global_avg_pool")
    if len(x) not in (3, 4):
        raise ShapeError("global_avg_pool takes an NCHW input (4-d, or 3-d CHW), got "
                         f"{shapes.format_shape(x)}")
    return x[:-2]


@vjp
def _global_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x = out.args[0]
    spread = (grad / _count(x, x.shape[-2:], out)).call("expand_dims", axis=(-2, -1))
    return (spread.call("broadcast_like", x),)


@jvp
def _global_jvp(out: R, dots: Tangents) -> R | None:
    return dots[0].call("mean", axis=(-2, -1))


_register(Op("global_avg_pool", 1, "np.mean({0}, axis=(-2, -1))",
             lambda x: np.mean(x, axis=(-2, -1)), slot_prec=(0,), dtype="follows",
             shape=_global_shape, vjp=_global_vjp, jvp=_global_jvp, traits=_MADE,
             rules=("{out}_bar / (H*W) spread over each map of {0}",)))
