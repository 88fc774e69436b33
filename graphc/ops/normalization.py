"""Normalisation layers of the op table: layer_norm, rms_norm and batch_norm, with
torch.nn.functional's names and signatures (weight and bias optional, by keyword).

Each is a composite: reverse mode differentiates its expansion (``expand``: a mean, the
biased variance, a square root), so the backward reads the forward's statistics instead
of recomputing them; forward mode's jvp is the same formula's derivative, written out
(the Jacobian of x_hat is symmetric: ``(g - mean(g) - x_hat * mean(g * x_hat)) / std``).
An op given a weight or a bias is another entry of one family (``layer_norm_weight``...),
written as the function's keyword, as logsumexp's ``b=``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp
from .shaping import _declared
from .table import ADD, ATOM, MUL, Op, Trait, _register, floats_only
from .tensor import _MADE

_OPTIONAL = ((), ("weight",), ("bias",), ("weight", "bias"))


# ---- NumPy implementations, shipped inside emitted modules ------------------------
def _normalized(x, axes, eps, center=True):
    """(x - mean) / sqrt(var + eps) over axes, the variance biased (torch's in training);
    not centered: x / sqrt(mean(x**2) + eps) (rms_norm)."""
    xc = x - np.mean(x, axis=axes, keepdims=True) if center else x
    return xc / np.sqrt(np.mean(np.square(xc), axis=axes, keepdims=True) + eps)


def _batch_norm(x, weight=None, bias=None, eps=1e-5):
    """torch's batch_norm in training: statistics over every axis but the channels
    (axis 1); weight and bias per channel."""
    out = _normalized(x, (0,) + tuple(range(2, np.ndim(x))), eps)
    per_channel = (slice(None),) + (None,) * (np.ndim(x) - 2)
    return out * (1 if weight is None else weight[per_channel]) \
        + (0 if bias is None else bias[per_channel])


def _machine_eps(x):
    """np.finfo(x.dtype).eps: rms_norm's eps when none is given, as torch's."""
    return np.finfo(np.result_type(x, np.float32)).eps


# ---- the families: which axes, centered or not, the default eps ---------------------
def _trailing(shape: Any) -> tuple[int, ...]:
    """layer_norm's and rms_norm's axes: the last len(shape) ones, counted from the end."""
    return tuple(range(-len(shape if isinstance(shape, tuple) else (shape,)), 0))


def _axes(family: str, params: dict, ndim: int) -> int | tuple[int, ...]:
    """The normalized axes, negative (forward mode's leading direction axis is harmless)."""
    axes = (-ndim,) + tuple(range(2 - ndim, 0)) if family == "batch_norm" \
        else _trailing(params["shape"])  # batch_norm: every axis but the channels, 1
    return axes[0] if len(axes) == 1 else axes


def _per_channel(family: str, w: R, ndim: int) -> R:
    """weight or bias lined up with x's axes: batch_norm's (C,) as (C, 1, 1)."""
    if family == "batch_norm" and ndim > 2:
        return w.call("expand_dims", axis=tuple(range(2 - ndim, 0)))
    return w


def _eps(x: R, params: dict) -> R | float:
    eps = params["eps"]
    return x.call("machine_eps") if eps is None else float(eps)


def _statistics(family: str, x: R, params: dict) -> tuple[R, R, R]:
    """x centered (rms_norm: x), std = sqrt(var + eps) and x_hat, as handles."""
    axes = _axes(family, params, x.ndim)
    xc = x if family == "rms_norm" else x - x.call("mean", axis=axes, keepdims=True)
    var = xc.call("square").call("mean", axis=axes, keepdims=True)
    std = (var + _eps(x, params)).call("sqrt")
    return xc, std, xc / std


# ---- shapes -------------------------------------------------------------------------
def _check_eps(name: str, eps: Any) -> None:
    if eps is not None and (type(eps) not in (int, float) or not 0 <= eps < float("inf")):
        raise ShapeError(f"{name}'s eps must be a number >= 0, got {eps!r}")


def _shape_rule(family: str, names: tuple[str, ...]) -> Callable[..., shapes.Shape]:
    def rule(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        floats_only(g, args)
        x = _declared(g, args[0], family)
        _check_eps(family, params["eps"])
        if family == "batch_norm":
            if len(x) < 2:
                raise ShapeError(f"batch_norm needs x of at least 2 axes, [N, C, ...], got "
                                 f"{shapes.format_shape(x)}")
            want: shapes.Shape = x[1:2]
            reduced = [x[0], *x[2:]]
            if all(d == 1 for d in reduced):
                raise ShapeError("batch_norm in training needs more than one value per "
                                 f"channel, x is {shapes.format_shape(x)}")
        else:
            want = params["shape"] if isinstance(params["shape"], tuple) else (params["shape"],)
            if want == () or not all(isinstance(d, (int, str)) and not isinstance(d, bool)
                                     for d in want):
                raise ShapeError(f"{family} needs the normalized shape, x's last axes: "
                                 f"{family}(x, (D,)), got {params['shape']!r}")
            if len(want) > len(x) or x[len(x) - len(want):] != want:
                raise ShapeError(f"{family}'s shape {shapes.format_shape(want)} must be the "
                                 f"last axes of x, {shapes.format_shape(x)}")
        for k, a in zip(names, args[1:]):
            if _declared(g, a, f"{family}'s {k}") != want:
                raise ShapeError(f"{family}'s {k} must have shape {shapes.format_shape(want)}, "
                                 f"got {shapes.format_shape(g.shape(a))}")
        return x
    return rule


# ---- derivatives ----------------------------------------------------------------------
def _expand_rule(family: str, names: tuple[str, ...]) -> Callable[..., str]:
    def expand(g: Any, args: tuple, params: dict, name: str, temp: bool) -> str:
        """x_hat = (x - mean) / std, then * weight + bias, as nodes: the backward reads
        the forward's std and x_hat."""
        x = R(g, args[0])
        xc, std, _ = _statistics(family, x, params)
        g.show_as(std.node, g.fresh("std"))
        steps = [("div", std)] + [("mul" if k == "weight" else "add",
                                   _per_channel(family, R(g, a), x.ndim))
                                  for k, a in zip(names, args[1:])]
        node = xc.node
        for i, (op, w) in enumerate(steps[:-1]):
            node = g.add(op, (node, w.node), name=g.fresh("x_hat" if i == 0 else "scaled"))
        return g.add(steps[-1][0], (node, steps[-1][1].node), name=name, temp=temp)
    return expand


def _jvp_rule(family: str, names: tuple[str, ...]) -> Callable[..., Any]:
    @jvp
    def rule(out: R, dots: Tangents) -> R | None:
        x, *given = out.args
        affine = {k: (_per_channel(family, w, x.ndim), dot) for k, w, dot in
                  zip(names, given, dots[1:])}
        _, std, x_hat = _statistics(family, x, out.params)
        terms = []
        if dots[0] is not None:
            axes = _axes(family, out.params, x.ndim)
            dx = dots[0] if family == "rms_norm" else \
                dots[0] - dots[0].call("mean", axis=axes, keepdims=True)
            d_hat = (dx - x_hat * (x_hat * dx).call("mean", axis=axes, keepdims=True)) / std
            terms.append(d_hat * affine["weight"][0] if "weight" in affine else d_hat)
        for k, (w, dot) in affine.items():
            if dot is not None:
                dot = _per_channel(family, dot, x.ndim)
                dot = dot.call("lift", ndim=out.ndim) if w.ndim < out.ndim else dot
                terms.append(x_hat * dot if k == "weight" else dot)
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total.call("spread", out) if total.shape[1:] != out.shape else total
    return rule


def _rules(family: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """Each operand's adjoint as the picture's edges show it (sums over the other axes)."""
    g = "{out}_bar * {1}" if "weight" in names else "{out}_bar"
    centered = "" if family == "rms_norm" else f" - mean({g})"
    by_slot = {"weight": "sum({out}_bar * x_hat)", "bias": "sum({out}_bar)"}
    return (f"({g}{centered} - x_hat * mean({g} * x_hat)) / std",
            *(by_slot[k] for k in names))


# ---- the entries -----------------------------------------------------------------------
def _code(family: str, names: tuple[str, ...]) -> Callable[[dict], str]:
    """The NumPy the emitted forward runs: ``_normalized(x, -1, 1e-05) * w + b``."""
    def spell(params: dict) -> str:
        given = dict(zip(names, ("{1}", "{2}")))
        if family == "batch_norm":
            extra = "".join(f", {k}={v}" for k, v in given.items())
            eps = "" if params["eps"] == 1e-5 else f", eps={params['eps']!r}"
            return f"_batch_norm({{0}}{extra}{eps})"
        eps = "_machine_eps({0})" if params["eps"] is None else repr(float(params["eps"]))
        center = ", center=False" if family == "rms_norm" else ""
        code = f"_normalized({{0}}, {_axes(family, params, 0)}, {eps}{center})"
        if "weight" in given:
            code += f" * {given['weight']}"
        return code + (f" + {given['bias']}" if "bias" in given else "")
    return spell


def _fn(family: str, names: tuple[str, ...]) -> Callable[..., Any]:
    def fn(x: Any, *given: Any, shape: Any = (), eps: Any = None) -> Any:
        affine = dict(zip(names, given))
        if family == "batch_norm":
            return _batch_norm(x, eps=eps, **affine)
        out = _normalized(x, _trailing(shape), _machine_eps(x) if eps is None else eps,
                          center=family == "layer_norm")
        return out * affine.get("weight", 1) + affine.get("bias", 0)
    return fn


_SUFFIX = {(): "", ("weight",): "_weight", ("bias",): "_bias", ("weight", "bias"): "_affine"}
_HELPERS = {"batch_norm": (_normalized, _batch_norm), "layer_norm": (_normalized,),
            "rms_norm": (_normalized, _machine_eps)}


def _family(family: str, params: dict, optional: tuple[tuple[str, ...], ...]) -> None:
    """One entry per choice of weight and bias given; the public one takes neither.
    torch's order by position: ``layer_norm(x, (D,), w, b, 1e-5)``."""
    shape = ("shape",) if "shape" in params else ()
    signature = (*shape, *max(optional, key=len), "eps")
    for names in optional:
        _register(Op(family + _SUFFIX[names], 1 + len(names), "", _fn(family, names),
                     prec=ATOM if family == "batch_norm" or not names else
                     ADD if "bias" in names else MUL,
                     slot_prec=(0,) + (ATOM,) * len(names), params=params,
                     positional=shape,
                     spelled=family if names else None, keyword_operands=names,
                     signature=signature,
                     spell=_code(family, names), shape=_shape_rule(family, names),
                     expand=_expand_rule(family, names), jvp=_jvp_rule(family, names),
                     rules=_rules(family, names), helpers=_HELPERS[family], dtype="follows",
                     traits=_MADE | (Trait.INTERNAL if names else Trait.NONE)))


_family("layer_norm", {"shape": (), "eps": 1e-5}, _OPTIONAL)
_family("rms_norm", {"shape": (), "eps": None}, _OPTIONAL[:2])
_family("batch_norm", {"eps": 1e-5}, _OPTIONAL)
_register(Op("machine_eps", 1, "_machine_eps({0})", _machine_eps, slot_prec=(0,),
             shape=lambda g, args, params: (), scalar_result=lambda params: True,
             helpers=(_machine_eps,), dtype="follows",
             traits=Trait.INTERNAL | Trait.NO_DERIVATIVE))
