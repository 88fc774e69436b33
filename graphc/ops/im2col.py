"""The NumPy convolutions of graphc/ops/convolution.py, shipped inside emitted modules:
im2col a few images at a time (the columns stay in the cache), with stride 1 each tap's
columns one run of the flattened padded image; col2im by adding each tap's columns back.
"""

import numpy as np


def _conv_options(kernel, stride, padding, dilation):
    """torch's options as one tuple per spatial axis: strides, (low, high) zero pads and
    dilations; "same" pads d*(K-1) in all, the odd one at the end (torch's, JAX's)."""
    k = len(kernel)

    def each(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v,) * k
    stride, dilation = each(stride), each(dilation)
    if isinstance(padding, str):
        total = [d * (n - 1) if padding == "same" else 0 for d, n in zip(dilation, kernel)]
        return stride, tuple((t // 2, t - t // 2) for t in total), dilation
    pads = tuple(tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in each(padding))
    return stride, pads, dilation


def _conv_windows(x, kernel, stride, pads, dilation, out):
    """x's windows, a strided view (N, C, O..., K...) of x zero-padded by pads (leading
    axes kept): window o of axis i starts at stride*o, its taps dilation apart."""
    k = len(kernel)
    lead = np.ndim(x) - k
    if any(lo or hi for lo, hi in pads):
        x = np.pad(x, [(0, 0)] * lead + [tuple(p) for p in pads])
    extent = [d * (n - 1) + 1 for d, n in zip(dilation, kernel)]
    view = np.lib.stride_tricks.sliding_window_view(x, extent, axis=tuple(range(lead, lead + k)))
    return view[(Ellipsis,) + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out, stride))
                + tuple(slice(None, None, d) for d in dilation)]


def _conv_chunks(x, kernel, stride, padding, dilation, out, groups, budget):
    """im2col, ``budget`` bytes of images at a time into one buffer that stays in the
    cache (20-40% faster than LeNet's conv1's 20 MB at once): yields a slice of the batch,
    x's windows there as (..., images, groups, C/groups * prod(K), pixels) and the grid
    of pixels. Strided: the output's (a tap's copy runs along rows of the output). With
    stride 1, the grid's rows are the padded input's: a tap's columns are then one run of
    the flattened padded image (1.4x faster), and the columns past the output's in each
    row are garbage, which the caller drops (or multiplies by zeros)."""
    k, nb = len(kernel), np.ndim(x) - len(kernel) - 2  # nb: the axes before the batch
    if all(s == 1 for s in stride):
        size = tuple(n + lo + hi for n, (lo, hi) in zip(np.shape(x)[-k:], padding))
        steps = [int(np.prod(size[a + 1:])) for a in range(k)]
        grid = tuple(out[:1]) + size[1:]
        tail = sum((m - 1) * d * s for m, d, s in zip(kernel[1:], dilation[1:], steps[1:]))
        flat = np.zeros(np.shape(x)[:-k] + (int(np.prod(size)) + tail,), x.dtype)
        np.reshape(flat[..., :int(np.prod(size))], np.shape(x)[:-k] + size)[
            (Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                zip(np.shape(x)[-k:], padding))] = x
        it = flat.itemsize
        win = np.lib.stride_tricks.as_strided(
            flat, np.shape(flat)[:-1] + tuple(kernel) + (int(np.prod(grid)),),
            flat.strides[:-1] + tuple(d * s * it for d, s in zip(dilation, steps)) + (it,),
            writeable=False)  # (..., N, C, K..., pixels)
    else:
        grid = tuple(out)
        win = _conv_windows(x, kernel, stride, padding, dilation, out)
        nd = np.ndim(win)  # (..., N, C, O..., K...) as (..., N, C, K..., O...)
        win = np.transpose(win, [*range(nd - 2 * k), *range(nd - k, nd),
                                 *range(nd - 2 * k, nd - k)])
    n = np.shape(win)[nb]
    image = win.dtype.itemsize * int(np.prod(win.shape)) // max(n, 1)
    step = max(1, min(n, budget // max(image, 1)))
    buf = np.empty(np.shape(win)[:nb] + (step,) + np.shape(win)[nb + 1:], win.dtype)
    rest = (slice(None),) * (np.ndim(win) - nb - 1)
    for at in range(0, n, step):
        cols = buf[(Ellipsis, slice(0, min(step, n - at))) + rest]
        np.copyto(cols, win[(Ellipsis, slice(at, at + step)) + rest])
        yield slice(at, at + step), np.reshape(cols, np.shape(cols)[:nb + 1]
                                               + (groups, -1, int(np.prod(grid)))), grid


def _conv_weights(w, k, groups):
    """w (..., C_out, C_in/groups, K...) as (..., groups, C_out/groups, C_in/groups *
    prod(K)): one matrix per group."""
    ws = np.shape(w)
    return np.reshape(w, ws[:-k - 2] + (groups, ws[-k - 2] // groups, -1))


def _conv_apply(x, w, stride, padding, dilation, groups):
    """out[n, o, i] = sum over c, j of x_padded[n, c, stride*i + dilation*j] * w[o, c, j],
    channels in groups (the last k axes spatial; leading axes broadcast): the weights'
    matrix times each image's columns (im2col, about 1 MB at a time), written into the
    output."""
    k = len(stride)
    kernel = np.shape(w)[-k:]
    out = tuple((n + lo + hi - d * (m - 1) - 1) // s + 1 for n, (lo, hi), d, m, s in
                zip(np.shape(x)[-k:], padding, dilation, kernel, stride))
    ws = _conv_weights(w, k, groups)[..., None, :, :, :]  # (..., 1, groups, C_out/g, C_in/g * K)
    y = np.empty(np.broadcast_shapes(np.shape(x)[:-k - 2], np.shape(ws)[:-4])
                 + (np.shape(x)[-k - 2], groups, np.shape(ws)[-2], int(np.prod(out))),
                 np.result_type(x, w))
    shaped = np.reshape(y, np.shape(y)[:-1] + out)  # the same array
    for at, cols, grid in _conv_chunks(x, kernel, stride, padding, dilation, out, groups,
                                       2 ** 20):
        if grid == out:
            np.matmul(ws, cols, out=y[..., at, :, :, :])
        else:  # the output's pixels of each row of the grid
            part = np.matmul(ws, cols)
            shaped[(Ellipsis, at, slice(None), slice(None)) + (slice(None),) * k] = np.reshape(
                part, np.shape(part)[:-1] + grid)[(Ellipsis,) + tuple(slice(0, o) for o in out)]
    return y.reshape(y.shape[:-3] + (-1,) + out)


def _conv_input_grad(g, w, size, stride, padding, dilation, groups):
    """The transposed convolution, the adjoint of _conv_apply's x (of spatial ``size``):
    col2im, the columns w^T g added back into the padded input one kernel tap at a time
    (a strided slice of every window each; stride and dilation need no zeros). The batch
    axis goes last meanwhile: each tap's add then runs along N * W, not W (10x faster)."""
    k = len(stride)
    kernel = np.shape(w)[-k:]
    if all(s == 1 for s in stride):
        return _conv_input_grad_flat(g, w, size, padding, dilation, groups)
    g = np.moveaxis(g, -k - 2, -1)  # (..., C_out, O..., N)
    out, n = np.shape(g)[-k - 1:-1], np.shape(g)[-1]
    g = np.reshape(g, np.shape(g)[:-k - 2] + (groups, -1, int(np.prod(out)) * n))
    cols = np.matmul(np.swapaxes(_conv_weights(w, k, groups), -1, -2), g)
    cols = cols.reshape(cols.shape[:-3] + (-1,) + tuple(kernel) + out + (n,))
    x = np.zeros(cols.shape[:-2 * k - 1] + tuple(m + lo + hi for m, (lo, hi) in
                                                   zip(size, padding)) + (n,), cols.dtype)
    for tap in np.ndindex(*kernel):
        x[(Ellipsis,) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in
                              zip(tap, dilation, stride, out)) + (slice(None),)] += \
            cols[(Ellipsis, *tap) + (slice(None),) * (k + 1)]
    x = x[(Ellipsis,) + tuple(slice(lo, lo + m) for (lo, _), m in zip(padding, size))
          + (slice(None),)]
    return np.ascontiguousarray(np.moveaxis(x, -1, -k - 2))


def _conv_input_grad_flat(g, w, size, padding, dilation, groups):
    """_conv_input_grad with stride 1, a few images (1 MB of columns) at a time: g on the
    grid of _conv_chunks (zeros past the output's pixels), its columns w^T g, and each
    tap's added to the flattened padded input as one run (LeNet's conv2: 1.1x faster
    than the batch-last col2im alone, 1 ms less in a whole call: no 15 MB of columns)."""
    k = len(size)
    kernel, out = np.shape(w)[-k:], np.shape(g)[-k:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, padding))
    steps = [int(np.prod(padded[a + 1:])) for a in range(k)]
    grid = tuple(out[:1]) + padded[1:]
    tail = sum((m - 1) * d * s for m, d, s in zip(kernel[1:], dilation[1:], steps[1:]))
    wt = np.swapaxes(_conv_weights(w, k, groups), -1, -2)[..., None, :, :, :]
    n, c = np.shape(g)[-k - 2], np.shape(w)[-k - 1] * groups
    flat = np.zeros(np.broadcast_shapes(np.shape(g)[:-k - 2], np.shape(w)[:-k - 2])
                    + (n, c, int(np.prod(padded)) + tail), np.result_type(g, w))
    offsets = [sum(t * d * s for t, d, s in zip(tap, dilation, steps))
               for tap in np.ndindex(*kernel)]
    step = max(1, min(n, 2 ** 20 // max(1, flat.itemsize * c * len(offsets)
                                          * int(np.prod(grid)))))
    spread = np.zeros(np.shape(g)[:-k - 2] + (step, groups, np.shape(g)[-k - 1] // groups)
                      + grid, g.dtype)
    for at in range(0, n, step):
        m = min(step, n - at)
        chunk = spread[(Ellipsis, slice(0, m)) + (slice(None),) * (k + 2)]
        chunk[(Ellipsis,) + tuple(slice(0, o) for o in out)] = np.reshape(
            g[(Ellipsis, slice(at, at + m)) + (slice(None),) * (k + 1)], np.shape(chunk)[:-k] + out)
        cols = np.matmul(wt, np.reshape(chunk, np.shape(chunk)[:-k] + (-1,)))
        cols = np.reshape(cols, np.shape(cols)[:-3] + (c, len(offsets), -1))
        target = flat[(Ellipsis, slice(at, at + m), slice(None), slice(None))]
        for t, off in enumerate(offsets):
            target[..., off:off + np.shape(cols)[-1]] += cols[..., t, :]
    x = np.reshape(flat[..., :int(np.prod(padded))], np.shape(flat)[:-1] + padded)
    return np.ascontiguousarray(x[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in
                                                      zip(size, padding))])


def _conv_weight_grad(x, g, kernel, stride, padding, dilation, groups):
    """The adjoint of _conv_apply's w (of spatial ``kernel``): each image's g times its
    im2col columns, 4 MB of images at a time (LeNet's conv1: 2x faster than a matmul per
    kernel tap; conv2: 1.2x, and in a whole call as fast as one matmul over all images'
    columns, without their 15 MB of fresh pages)."""
    k = len(kernel)
    out = np.shape(g)[-k:]
    c = np.shape(x)[-k - 1]
    g = np.reshape(g, np.shape(g)[:-k - 1] + (groups, -1, int(np.prod(out))))
    w = np.zeros(np.broadcast_shapes(np.shape(x)[:-k - 2], np.shape(g)[:-4])
                 + (groups, np.shape(g)[-2], c // groups * int(np.prod(kernel))),
                 np.result_type(x, g))
    spread = None  # g on the grid of the columns, zeros past the output's pixels
    for at, cols, grid in _conv_chunks(x, kernel, stride, padding, dilation, out, groups,
                                       2 ** 22):
        part = g[..., at, :, :, :]
        if grid != out:
            if spread is None:
                spread = np.zeros(np.shape(part)[:-1] + grid, part.dtype)
            chunk = spread[(Ellipsis, slice(0, np.shape(part)[-4])) + (slice(None),) * (k + 2)]
            chunk[(Ellipsis,) + tuple(slice(0, o) for o in out)] = np.reshape(
                part, np.shape(part)[:-1] + out)
            part = np.reshape(chunk, np.shape(chunk)[:-k] + (-1,))
        w += np.sum(np.matmul(part, np.swapaxes(cols, -1, -2)), axis=-4)
    return np.reshape(w, np.shape(w)[:-3] + (-1, c // groups) + tuple(kernel))


def _biased(y, bias, k):
    """y plus the bias along the channels: in place (y is the convolution's own new
    array) where that keeps y's dtype."""
    if bias is None:
        return y
    bias = np.reshape(bias, (-1,) + (1,) * k)
    return np.add(y, bias, out=y) if np.result_type(y, bias) == y.dtype else y + bias


def _conv(x, w, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """torch.nn.functional.conv1d / conv2d (NCL / NCHW; weight (C_out, C_in/groups, K...))."""
    k = np.ndim(w) - 2
    stride, pads, dilation = _conv_options(np.shape(w)[-k:], stride, padding, dilation)
    return _biased(_conv_apply(x, w, stride, pads, dilation, groups), bias, k)


def _conv_transpose(x, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                    bias=None):
    """torch.nn.functional.conv_transpose2d (weight (C_in, C_out/groups, K...)): the
    adjoint of conv2d(., w) with these options, output_padding more rows at the end."""
    k = np.ndim(w) - 2
    kernel = np.shape(w)[-k:]
    stride, pads, dilation = _conv_options(kernel, stride, padding, dilation)
    extra = _conv_options(kernel, 1, output_padding, 1)[1]
    size = tuple((n - 1) * s - lo - hi + d * (m - 1) + 1 + e for n, s, (lo, hi), d, m, (e, _)
                 in zip(np.shape(x)[-k:], stride, pads, dilation, kernel, extra))
    return _biased(_conv_input_grad(x, w, size, stride, pads, dilation, groups), bias, k)


_CORE = (_conv_options, _conv_windows, _conv_chunks, _conv_weights, _conv_input_grad_flat)
_HELPERS = (_conv, _conv_apply, _biased) + _CORE
_T_HELPERS = (_conv_transpose, _conv_input_grad, _biased) + _CORE
