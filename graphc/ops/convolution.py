"""Convolution, torch.nn.functional's: conv1d, conv2d (NCL / NCHW; stride, padding with
"same" and "valid", dilation, groups; bias optional) and conv_transpose2d.

Every convolution is one trilinear form T(x, w, g) = <conv(x, w), g>, whose three partial
derivatives are three internal ops over the last k axes: ``conv_apply`` (the convolution,
d/dg), ``conv_input_grad`` (d/dx: the transposed convolution) and ``conv_weight_grad``
(d/dw: x's windows against g). Each is linear in each operand, and the derivatives of each
are the other two, so every derivative of any order is one of them (the same relations
JAX's conv_general_dilated transposes by). No loop over pixels: their NumPy (im2col.py)
is im2col and matmuls, col2im for the input's gradient.
Leading axes (forward mode's directions) broadcast in front of (N, C, ...).
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .im2col import (
    _CORE,
    _HELPERS,
    _T_HELPERS,
    _conv,
    _conv_apply,
    _conv_input_grad,
    _conv_options,
    _conv_transpose,
    _conv_weight_grad,
)
from .products import _total
from .table import Op, _register, floats_only
from .tensor import _INNER, _MADE

_SPATIAL = ("L",), ("H", "W")  # the spatial axes' names, for messages (conv1d, conv2d)


# ---- shapes -------------------------------------------------------------------------
def _ints(name: str, value: Any, k: int, least: int) -> tuple[int, ...]:
    """An option given as an int or a k-tuple of ints, each at least ``least``."""
    found = value if isinstance(value, tuple) else (value,) * k
    if len(found) != k or any(type(v) is not int or v < least for v in found):
        raise ShapeError(f"{name} must be an integer >= {least} or {k} of them, got {value!r}")
    return found


def _options(name: str, k: int, kernel: tuple, params: dict) -> tuple[tuple, tuple, tuple]:
    """A public op's stride, (low, high) pads and dilation, checked (torch's rules)."""
    stride = _ints("stride", params["stride"], k, 1)
    dilation = _ints("dilation", params["dilation"], k, 1)
    padding = params["padding"]
    if isinstance(padding, str):
        if padding not in ("same", "valid") or name.startswith("conv_transpose"):
            raise ShapeError(f"{name}: padding {padding!r} is not an option"
                             + (" ('same' or 'valid', or integers)" if "transpose" not in name
                                else " (integers)"))
        if padding == "same" and stride != (1,) * k:
            raise ShapeError(f"{name}: padding='same' needs stride 1, got {params['stride']!r}"
                             " (as torch)")
    elif isinstance(padding, tuple) and padding and all(isinstance(p, tuple) for p in padding):
        if len(padding) != k or any(len(p) != 2 or any(type(v) is not int or v < 0 for v in p)
                                    for p in padding):
            raise ShapeError(f"padding as (low, high) pairs takes {k} pairs of integers >= 0,"
                             f" got {padding!r}")
    else:
        _ints("padding", padding, k, 0)
    return _conv_options(kernel, stride, padding, dilation)


def _operand_shapes(g: Any, args: tuple[str, ...], name: str, k: int) -> list[tuple]:
    floats_only(g, args)
    found = [g.shape(a) for a in args]
    layout = ("N", "C") + _SPATIAL[k - 1]
    for a, s, what in zip(args, found, ("input", "weight")):
        if g.elastic(a) or len(s) != k + 2:
            raise ShapeError(f"{name} takes a declared {what} of {k + 2} dimensions "
                             f"({', '.join(layout)} for the input), got {g.shown(a)} "
                             f"{shapes.format_shape(s)}")
        if not all(isinstance(n, int) for n in s[1:]):
            raise ShapeError(f"{name}: {g.shown(a)} {shapes.format_shape(s)} needs its sizes "
                             "after the first as numbers")
    return found


def _groups(name: str, groups: Any, c_in: int, c_out: int, per_group: int,
            per_what: str) -> None:
    if type(groups) is not int or groups < 1:
        raise ShapeError(f"{name}: groups must be a positive integer, got {groups!r}")
    if c_in % groups or c_out % groups:
        raise ShapeError(f"{name}: groups={groups} must divide the input channels ({c_in}) "
                         f"and the output channels ({c_out})")
    if per_group != c_in // groups if per_what == "C_in" else per_group * groups != c_out:
        want = c_in // groups if per_what == "C_in" else c_out // groups
        raise ShapeError(f"{name}: the weight's second axis must be {per_what}/groups = "
                         f"{want}, got {per_group}")


def _bias_shape(g: Any, args: tuple[str, ...], name: str, c_out: int) -> None:
    floats_only(g, args[2:])
    if len(args) == 3 and (g.elastic(args[2]) or g.shape(args[2]) != (c_out,)):
        raise ShapeError(f"{name}: the bias must have shape [{c_out}] (one per output "
                         f"channel), got {g.shown(args[2])} "
                         f"{shapes.format_shape(g.shape(args[2]))}")


def _conv_shape(g: Any, args: tuple[str, ...], params: dict, name: str, k: int
                ) -> shapes.Shape:
    x, w = _operand_shapes(g, args[:2], name, k)
    _groups(name, params["groups"], x[1], w[0], w[1], "C_in")
    stride, pads, dilation = _options(name, k, w[2:], params)
    out = []
    for axis, n, (lo, hi), d, m, s in zip(_SPATIAL[k - 1], x[2:], pads, dilation, w[2:], stride):
        if n + lo + hi < d * (m - 1) + 1:
            raise ShapeError(f"{name}: the kernel ({m}, dilated to {d * (m - 1) + 1}) is larger "
                             f"than the padded input along {axis} ({n} + {lo + hi})")
        out.append((n + lo + hi - d * (m - 1) - 1) // s + 1)
    _bias_shape(g, args, name, w[0])
    return (x[0], w[0], *out)


def _transpose_shape(g: Any, args: tuple[str, ...], params: dict, name: str, k: int
                     ) -> shapes.Shape:
    x, w = _operand_shapes(g, args[:2], name, k)
    if w[0] != x[1]:
        raise ShapeError(f"{name}: the weight's first axis ({w[0]}) must be the input's "
                         f"channels ({x[1]})")
    groups = params["groups"]
    _groups(name, groups, x[1], w[1] * groups if type(groups) is int else 0, w[1], "C_out")
    stride, pads, dilation = _options(name, k, w[2:], params)
    extra = _ints("output_padding", params["output_padding"], k, 0)
    out = []
    for n, (lo, hi), d, m, s, e in zip(x[2:], pads, dilation, w[2:], stride, extra):
        if e >= s:  # torch allows e < dilation too; its extra rows would need a crop
            raise ShapeError(f"{name}: output_padding {e} must be smaller than the stride "
                             f"({s})")
        out.append((n - 1) * s - lo - hi + d * (m - 1) + 1 + e)
    if min(out) < 1:
        raise ShapeError(f"{name}: the padding leaves an output of size {tuple(out)}")
    _bias_shape(g, args, name, w[1] * groups)
    return (x[0], w[1] * groups, *out)


def _lead(a: shapes.Shape, b: shapes.Shape, k: int) -> shapes.Shape:
    """The leading axes (forward mode's directions) of two operands, broadcast."""
    return shapes.broadcast(a[:len(a) - k - 2], b[:len(b) - k - 2])


def _internal_shape(g: Any, args: tuple[str, ...], params: dict, which: str) -> shapes.Shape:
    a, b = (g.shape(x) for x in args)
    k = len(params["stride"])
    if which == "apply":
        out = [(n + lo + hi - d * (m - 1) - 1) // s + 1 for n, (lo, hi), d, m, s in
               zip(a[-k:], params["padding"], params["dilation"], b[-k:], params["stride"])]
        return _lead(a, b, k) + (a[-k - 2], b[-k - 2], *out)
    if which == "input":
        return _lead(a, b, k) + (a[-k - 2], b[-k - 1] * params["groups"], *params["size"])
    return _lead(a, b, k) + (b[-k - 1], a[-k - 1] // params["groups"], *params["kernel"])


# ---- derivatives: each of the three ops' are the other two --------------------------
def _resolved(out: R) -> tuple[int, dict]:
    """k and the options of a node as the internal ops take them (stride, padding pairs,
    dilation, groups)."""
    op = out.g.op(out.node).name
    p = out.params
    if op.startswith("conv_") and op[5:] in ("apply", "input_grad", "weight_grad"):
        return len(p["stride"]), {k: p[k] for k in ("stride", "padding", "dilation", "groups")}
    w = out.args[1].shape
    k = len(w) - 2
    stride, pads, dilation = _conv_options(w[2:], p["stride"], p["padding"], p["dilation"])
    return k, {"stride": stride, "padding": pads, "dilation": dilation, "groups": p["groups"]}


def _is(out: R, *names: str) -> bool:
    return out.g.op(out.node).name.split("_bias")[0] in names


def _bias_bar(grad: R, k: int) -> R:
    return grad.sum(axis=(-k - 2, *range(-k, 0)))


def _spatial(x: R, k: int) -> tuple:
    return tuple(x.shape[-k:])


@vjp
def _conv_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    k, p = _resolved(out)
    x, w = out.args[:2]
    bias = (_bias_bar(grad, k),) if len(out.args) == 3 else ()
    if _is(out, "conv1d", "conv2d", "conv_apply"):  # T(x, w, grad)
        return (grad.call("conv_input_grad", w, size=_spatial(x, k), **p),
                x.call("conv_weight_grad", grad, kernel=_spatial(w, k), **p), *bias)
    if _is(out, "conv_transpose2d", "conv_input_grad"):  # T(grad, w, x)
        return (grad.call("conv_apply", w, **p),
                grad.call("conv_weight_grad", x, kernel=_spatial(w, k), **p), *bias)
    g = out.args[1]  # conv_weight_grad(x, g): T(x, grad, g)
    return (g.call("conv_input_grad", grad, size=_spatial(x, k), **p),
            x.call("conv_apply", grad, **p))


@jvp
def _conv_jvp(out: R, dots: Tangents) -> R | None:
    k, p = _resolved(out)
    x, w = out.args[:2]
    op = "conv_apply" if _is(out, "conv1d", "conv2d", "conv_apply") else \
        "conv_input_grad" if _is(out, "conv_transpose2d", "conv_input_grad") else \
        "conv_weight_grad"
    shape = {"conv_apply": {}, "conv_input_grad": {"size": tuple(out.shape[-k:])},
             "conv_weight_grad": {"kernel": tuple(out.shape[-k:])}}[op]
    terms = [dots[0] and dots[0].call(op, w, **shape, **p),
             dots[1] and x.call(op, dots[1], **shape, **p)]
    if len(dots) == 3 and dots[2] is not None:  # the bias, along the channels
        bias = dots[2].call("expand_dims", axis=(-k - 2, *range(-k, 0)))
        if not any(t is not None for t in terms):  # the tangent has the output's shape
            bias = bias.call("spread", out) if dots[2].ndim > 1 else \
                bias.call("broadcast_like", out)
        terms.append(bias)
    return _total([t for t in terms if t is not None])


# ---- the table's entries ---------------------------------------------------------------
def _spell(helper: str, defaults: dict[str, Any], bias: bool) -> Any:
    """The helper's call with only the options that differ from torch's defaults."""
    def spell(params: dict) -> str:
        extra = "".join(f", {k}={params[k]!r}" for k, v in defaults.items()
                        if params.get(k, v) != v)
        return f"{helper}({{0}}, {{1}}{extra}" + (", bias={2})" if bias else ")")
    return spell


def _public(name: str, k: int, fn: Any, helpers: tuple, defaults: dict[str, Any],
            shape: Any, rules: tuple[str, str]) -> None:
    """``name`` and ``name_bias`` (written ``name(..., bias=b)``, or torch's
    ``name(x, w, b)``: the options follow the bias by position, as torch's)."""
    axes = ", ".join(str(a) for a in (0, *range(2, k + 2)))
    for bias in (False, True):
        _register(Op(name + "_bias" * bias, 2 + bias, f"{fn.__name__}({{0}}, {{1}})",
                     (lambda x, w, b, **p: fn(x, w, bias=b, **p)) if bias else fn,
                     slot_prec=(0,) * (2 + bias), params=dict(defaults),
                     spelled=name if bias else None, keyword_operands=("bias",) * bias,
                     signature=("bias", *defaults),
                     spell=_spell(fn.__name__, defaults, bias), helpers=helpers,
                     shape=functools.partial(shape, name=name, k=k), vjp=_conv_vjp,
                     jvp=_conv_jvp, dtype="follows", traits=_MADE | _INNER if bias else _MADE,
                     rules=rules + ((f"sum({{out}}_bar, axis=({axes}))",) if bias else ())))


for _k in (1, 2):
    _d = {"stride": (1,) * _k, "padding": (0,) * _k, "dilation": (1,) * _k, "groups": 1}
    _public(f"conv{_k}d", _k, _conv, _HELPERS, _d, _conv_shape,
            (f"conv_transpose{_k}d({{out}}_bar, {{1}}) (the same options)",
             "{0}'s windows correlated with {out}_bar"))
_public("conv_transpose2d", 2, _conv_transpose, _T_HELPERS,
        {"stride": (1, 1), "padding": (0, 0), "output_padding": (0, 0), "groups": 1,
         "dilation": (1, 1)}, _transpose_shape,
        ("conv2d({out}_bar, {1}) (the same options)", "{out}_bar's windows correlated with {0}"))

_OPTIONS = {"stride": None, "padding": None, "dilation": None, "groups": 1}
for _name, _fn, _extra, _which, _rules in (
        ("conv_apply", _conv_apply, {}, "apply",
         ("conv_input_grad({out}_bar, {1})", "conv_weight_grad({0}, {out}_bar)")),
        ("conv_input_grad", _conv_input_grad, {"size": None}, "input",
         ("conv_apply({out}_bar, {1})", "conv_weight_grad({out}_bar, {0})")),
        ("conv_weight_grad", _conv_weight_grad, {"kernel": None}, "weight",
         ("conv_input_grad({1}, {out}_bar)", "conv_apply({0}, {out}_bar)"))):
    _args = "".join(f", {{{p}}}" for p in (*_extra, *_OPTIONS))
    _register(Op(_name, 2, f"_{_name}({{0}}, {{1}}{_args})", _fn, slot_prec=(0, 0),
                 params={**_extra, **_OPTIONS}, helpers=(_fn, *_CORE),
                 shape=functools.partial(_internal_shape, which=_which), vjp=_conv_vjp,
                 jvp=_conv_jvp, dtype="follows", traits=_INNER | _MADE, rules=_rules))
