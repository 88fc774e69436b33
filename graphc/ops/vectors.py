"""Products of vectors, NumPy's: vdot, vecdot, matvec, vecmat (NumPy 2.2's names; the
emitted code is NumPy 2.0's matmul), cross; and the 1-d convolve and correlate.

vdot, vecdot, matvec and vecmat are einsums (``products``' rules serve them: batch axes
broadcast as NumPy's, aligned at the end). cross is bilinear: each adjoint is a cross
product with the other operand. convolve and correlate are one product, ``_correlate_at``
(a window of x times w, zero outside x, no Python loop); the adjoint of one such product
is another, so every derivative of any order is one of them.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .products import _LETTERS, Terms, _contraction_jvp, _contraction_vjp, _letter_dims, _total
from .shaping import _declared
from .table import Op, Trait, _register, floats_only
from .tensor import _MADE, _axes, _summed_to


# ---- NumPy implementations, shipped inside emitted modules --------------------------
def _matvec(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """NumPy 2.2's matvec in NumPy 2.0's matmul: matrices times vectors, batches broadcast."""
    return np.matmul(x1, x2[..., None])[..., 0]


def _vecmat(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """NumPy 2.2's vecmat (real) in NumPy 2.0's matmul: vectors times matrices."""
    return np.matmul(x1[..., None, :], x2)[..., 0, :]


def _correlate_at(x: np.ndarray, w: np.ndarray, start: int, length: int, flip: bool) -> np.ndarray:
    """out[..., k] = sum_m x[..., k + start + m] * w[..., m] for k < length, x zero outside
    its range (w reversed if ``flip``: a convolution); the axes in front broadcast."""
    n, m = np.shape(x)[-1], np.shape(w)[-1]
    if flip:
        w = w[..., ::-1]
    lo, hi = max(-start, 0), max(start + length + m - 1 - n, 0)
    padded = np.pad(x, [(0, 0)] * (np.ndim(x) - 1) + [(lo, hi)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, m, axis=-1)
    return np.einsum("...km,...m->...k", windows[..., start + lo:start + lo + length, :], w)


# ---- vdot, vecdot, matvec, vecmat: einsums ---------------------------------------------
def _batched(shapes_: tuple[shapes.Shape, ...], cores: tuple[str, ...], right: str,
             name: str, at: tuple[int, ...] = ()) -> Terms:
    """The einsum of a product of operands with batch axes in front of their core axes
    ('ij' and 'j' for matvec), or around them (vecdot's core axis ``at[k]``)."""
    batches = [len(s) - len(c) for s, c in zip(shapes_, cores)]
    if min(batches) < 0:
        need = " and ".join(f"{len(c)}" for c in cores)
        raise ShapeError(f"{name} needs operands of at least {need} dimensions, got "
                         + " and ".join(map(shapes.format_shape, shapes_)))
    free = "".join(c for c in _LETTERS if c not in "".join(cores))[:max(batches)]
    ins = []
    for k, (n, core) in enumerate(zip(batches, cores)):
        term = free[len(free) - n:]
        ins.append(term[:at[k]] + core + term[at[k]:] if at else term + core)
    return tuple(ins), free + right


def _vecdot_at(a: shapes.Shape, b: shapes.Shape, axis: Any) -> tuple[int, int]:
    """vecdot's axis in each operand (counted in each, NumPy's)."""
    if len(a) != len(b) and isinstance(axis, int) and axis >= 0:
        raise ShapeError("vecdot of operands of different ranks: give the axis counted "
                         "from the end (axis=-1)")
    return _axes(axis, len(a))[0] if a else 0, _axes(axis, len(b))[0] if b else 0


def _vector_terms(name: str, a: shapes.Shape, b: shapes.Shape, params: dict) -> Terms:
    if name == "vdot":
        if a != b:
            raise ShapeError(f"vdot of {shapes.format_shape(a)} and {shapes.format_shape(b)}: "
                             "graphc's vdot takes operands of one shape (reshape one first)")
        return (_LETTERS[:len(a)],) * 2, ""
    if name == "vecdot":
        return _batched((a, b), ("z", "z"), "", name, _vecdot_at(a, b, params["axis"]))
    cores = {"matvec": (("yz", "z"), "y"), "vecmat": (("z", "zy"), "y")}[name]
    return _batched((a, b), *cores, name)


def _vector_shape(g: Any, args: tuple[str, ...], params: dict, name: str) -> shapes.Shape:
    floats_only(g, args)
    a, b = (_declared(g, x, name) for x in args)
    ins, right = _vector_terms(name, a, b, params)
    for i, c in enumerate(ins[0]):  # a summed axis does not stretch (NumPy's gufuncs)
        if c not in right and a[i] != b[ins[1].index(c)]:
            raise ShapeError(f"{name}: the summed axis is {a[i]} in one operand and "
                             f"{b[ins[1].index(c)]} in the other")
    dims = _letter_dims(ins, (a, b))
    return tuple(dims[c] for c in right)


def _of(out: R) -> Terms:
    a, b = out.args
    return _vector_terms(out.g.op(out.node).name, a.shape, b.shape, out.params)


_VECTORS: dict[str, tuple[str, Any, dict, tuple]] = {"vdot": ("np.vdot({0}, {1})", np.vdot, {}, ()),
            "vecdot": ("np.vecdot({0}, {1})", np.vecdot, {"axis": -1}, ()),
            "matvec": ("_matvec({0}, {1})", _matvec, {}, (_matvec,)),
            "vecmat": ("_vecmat({0}, {1})", _vecmat, {}, (_vecmat,))}
_RULES = {"vdot": ("{out}_bar · {1}", "{out}_bar · {0}"),
          "vecdot": ("{out}_bar[..., None] · {1}", "{out}_bar[..., None] · {0}"),
          "matvec": ("outer({out}_bar, {1})", "vecmat({out}_bar, {0})"),
          "vecmat": ("matvec({1}, {out}_bar)", "outer({0}, {out}_bar)")}
for _name, (_code, _fn, _params, _helpers) in _VECTORS.items():
    _register(Op(_name, 2, _code, _fn, slot_prec=(0, 0), params=_params,
                 spell=(lambda p: "np.vecdot({0}, {1}" + (
                     ")" if p["axis"] == -1 else ", axis={axis})")) if _params else None,
                 helpers=_helpers, shape=functools.partial(_vector_shape, name=_name),
                 vjp=_contraction_vjp(_of), jvp=_contraction_jvp(_of), rules=_RULES[_name],
                 dtype="follows", traits=_MADE))


# ---- cross: 3-vectors along one axis ---------------------------------------------------
def _cross_axis(a: shapes.Shape, b: shapes.Shape, axis: Any) -> int:
    """The vectors' axis, counted from the end of each operand and of the result."""
    if len(a) != len(b) and isinstance(axis, int) and axis >= 0:
        raise ShapeError("cross of operands of different ranks: give the axis counted from "
                         "the end (axis=-1)")
    if not a or not b:
        raise ShapeError("cross takes vectors, not scalars")
    (i,), (j,) = _axes(axis, len(a)), _axes(axis, len(b))
    if a[i] != 3 or b[j] != 3:
        raise ShapeError(f"cross takes vectors of length 3 along axis {axis}, got "
                         f"{a[i]} and {b[j]} (2-vectors: NumPy 2 deprecates them)")
    if i - len(a) != j - len(b):
        raise ShapeError("cross: the vectors' axis must be as far from the end in both")
    return i - len(a)


def _cross_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    a, b = (_declared(g, x, "cross") for x in args)
    k = _cross_axis(a, b, params["axis"])
    rest = shapes.broadcast(a[:k] + a[len(a) + k + 1:], b[:k] + b[len(b) + k + 1:])
    return rest[:len(rest) + k + 1] + (3,) + rest[len(rest) + k + 1:]


def _axis_of(out: R) -> int:
    a, b = out.args
    return _cross_axis(a.shape, b.shape, out.params["axis"])


@vjp
def _cross_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    a, b = out.args
    k = _axis_of(out)
    return (_summed_to(b.call("cross", grad, axis=k), out.shape, a.shape),
            _summed_to(grad.call("cross", a, axis=k), out.shape, b.shape))


@jvp
def _cross_jvp(out: R, dots: Tangents) -> R | None:
    a, b = out.args
    k = _axis_of(out)

    def lifted(dot: R) -> R:
        return dot.call("lift", ndim=out.ndim) if dot.ndim - 1 < out.ndim else dot
    return _total([dots[0] and lifted(dots[0]).call("cross", b, axis=k),
                   dots[1] and a.call("cross", lifted(dots[1]), axis=k)])


_register(Op("cross", 2, "np.cross({0}, {1})", np.cross, slot_prec=(0, 0), params={"axis": -1},
             spell=lambda p: "np.cross({0}, {1}" + (")" if p["axis"] == -1 else ", axis={axis})"),
             shape=_cross_shape, vjp=_cross_vjp, jvp=_cross_jvp, dtype="follows",
             rules=("cross({1}, {out}_bar)", "cross({out}_bar, {0})"), traits=_MADE))


# ---- convolve and correlate (1-d): one windowed product, _correlate_at -----------------
_MODES = ("full", "same", "valid")


def _lengths(g: Any, args: tuple[str, ...], name: str) -> tuple[int, int]:
    floats_only(g, args)
    found = [g.shape(a) for a in args]
    if any(g.elastic(a) for a in args) or any(len(s) != 1 for s in found):
        raise ShapeError(f"{name} takes two declared vectors (1-d), got "
                         + " and ".join(map(shapes.format_shape, found)))
    (n,), (m,) = found
    if not isinstance(n, int) or not isinstance(m, int):
        raise ShapeError(f"{name} needs the vectors' lengths as numbers (x: [100]), got "
                         f"{n} and {m}")
    if not n or not m:
        raise ShapeError(f"{name} of an empty vector")
    return n, m


def _window(name: str, n: int, m: int, mode: Any) -> tuple[int, int, bool]:
    """np.convolve's or np.correlate's (start, length, flip) for _correlate_at."""
    if mode not in _MODES:
        raise ShapeError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    short, long = min(n, m), max(n, m)
    if mode == "full":
        skip, length = 0, n + m - 1
    elif mode == "same":  # centred as NumPy's: correlate's centre differs when v is longer
        skip, length = (short - (name == "convolve" or n >= m)) // 2, long
    else:
        skip, length = short - 1, long - short + 1
    return skip - (m - 1), length, name == "convolve"


def _signal_shape(g: Any, args: tuple[str, ...], params: dict, name: str) -> shapes.Shape:
    n, m = _lengths(g, args, name)
    return (_window(name, n, m, params["mode"])[1],)


def _windowed_bar(grad: R, x: R, w: R, start: int, flip: bool) -> tuple[R, R]:
    """The adjoints of _correlate_at(x, w, start, ..., flip), each another such product."""
    n, m = x.shape[-1], w.shape[-1]
    back = -start - (m - 1)
    x_bar = grad.call("correlate_at", w, start=back, length=n, flip=not flip)
    w_bar = grad.call("correlate_at", x, start=back, length=m, flip=False) if flip else \
        x.call("correlate_at", grad, start=start, length=m, flip=False)
    return (x_bar if x_bar.shape == x.shape else _summed_to(x_bar, x_bar.shape, x.shape),
            w_bar if w_bar.shape == w.shape else _summed_to(w_bar, w_bar.shape, w.shape))


def _window_params(out: R) -> dict:
    name = out.g.op(out.node).name
    if name == "correlate_at":
        return dict(out.params)
    x, w = out.args
    start, length, flip = _window(name, x.shape[0], w.shape[0], out.params["mode"])
    return {"start": start, "length": length, "flip": flip}


@vjp
def _windowed_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    x, w = out.args
    p = _window_params(out)
    return _windowed_bar(grad, x, w, p["start"], p["flip"])


@jvp
def _windowed_jvp(out: R, dots: Tangents) -> R | None:
    x, w = out.args
    p = _window_params(out)
    return _total([dots[0] and dots[0].call("correlate_at", w, **p),
                   dots[1] and x.call("correlate_at", dots[1], **p)])


def _mode_spell(name: str, default: str) -> Any:
    return lambda p: f"np.{name}({{0}}, {{1}}" + (
        ")" if p["mode"] == default else ", mode={mode!r})")


for _name, _default in (("convolve", "full"), ("correlate", "valid")):
    _register(Op(_name, 2, f"np.{_name}({{0}}, {{1}})", getattr(np, _name), slot_prec=(0, 0),
                 params={"mode": _default}, positional=("mode",),
                 spell=_mode_spell(_name, _default),
                 shape=functools.partial(_signal_shape, name=_name), dtype="follows",
                 vjp=_windowed_vjp, jvp=_windowed_jvp, traits=_MADE,
                 rules=(f"correlate({{out}}_bar, {{1}}) ({_name}'s adjoint)",
                        f"correlate({{out}}_bar, {{0}}) ({_name}'s adjoint)")))


def _correlate_at_shape(x: shapes.Shape, w: shapes.Shape, start: int, length: int,
                        flip: bool) -> shapes.Shape:
    return shapes.broadcast(x[:-1], w[:-1]) + (length,)


_register(Op("correlate_at", 2, "_correlate_at({0}, {1}, {start}, {length}, {flip})",
             _correlate_at, slot_prec=(0, 0),
             params={"start": 0, "length": 1, "flip": False}, helpers=(_correlate_at,),
             shape=lambda g, args, params: _correlate_at_shape(
                 *(g.shape(a) for a in args), **params),
             dtype="follows", vjp=_windowed_vjp, jvp=_windowed_jvp,
             traits=_MADE | Trait.INTERNAL,
             rules=("{out}_bar convolved with {1} (reversed if flip), shifted by start",
                    "{0} correlated with {out}_bar from start (reversed if flip)")))
