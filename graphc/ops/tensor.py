"""Tensor ops of the op table: matmul, transposes, sum and mean, the softmax family,
flip; and the helpers of axes and shapes the other structural families import.

Each op is one entry, its rules just above it, written with expression handles as the
lectures write them (``W_bar = f_bar @ g.T``). The NumPy functions run in the
interpreter and ship verbatim in emitted modules, so both compute the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import ATOM, MUL, UNARY, Op, Trait, _register


# ---- NumPy implementations, shipped inside emitted modules ------------------------
def _short_rows(x, axis):
    """A matrix reduced along a last axis of at most 64: NumPy reduces such rows one
    at a time, 3-8x slower than the ways below (256 rows of 10: max 16 -> 2 us, sum
    6 -> 2 us)."""
    return np.ndim(x) == 2 and axis in (-1, 1) and x.shape[1] <= 64


def _max_along(x, axis):
    """np.max(x, axis, keepdims=True); short rows: over the columns of a transposed copy.
    Along an empty axis the max is -inf, as JAX's is (softmax of [] is [], logsumexp -inf)."""
    if x.size == 0:
        return np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    if _short_rows(x, axis):
        return x.T.copy().max(axis=0)[:, None]
    return np.max(x, axis=axis, keepdims=True)


def _sum_along(x, axis):
    """np.sum(x, axis, keepdims=True); short rows of floats: a product with ones (BLAS)."""
    if _short_rows(x, axis) and x.dtype.char in "fd":
        return x @ np.ones((x.shape[1], 1), x.dtype)
    return np.sum(x, axis=axis, keepdims=True)


def _softmax(x, axis=-1):
    """softmax along axis, shifted by the max (which the gradient treats as a constant)."""
    e = np.exp(x - _max_along(x, axis))
    return e / _sum_along(e, axis)


def _log_softmax(x, axis=-1):
    """log(softmax(x)) without overflow: x - max - log(sum(exp(x - max)))."""
    shifted = x - _max_along(x, axis)
    return shifted - np.log(_sum_along(np.exp(shifted), axis))


def _logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) along axis, shifted by the max."""
    m = _max_along(x, axis)
    out = m + np.log(_sum_along(np.exp(x - m), axis))
    return out if keepdims else np.squeeze(out, axis=axis)


_REDUCE = (_short_rows, _max_along, _sum_along)  # the helpers the softmax family calls


def _matmul_grad(grad, a, b, slot):
    """d(a @ b) for operand ``slot`` (0: a, 1: b), for shapes known only now: a vector
    as a 1-row/1-column matrix, the batch axes broadcasting added summed away."""
    a2 = a if np.ndim(a) > 1 else np.reshape(a, (1, -1))
    b2 = b if np.ndim(b) > 1 else np.reshape(b, (-1, 1))
    g2 = np.reshape(grad, np.shape(grad)[:-1] + (1,) + np.shape(grad)[-1:]) \
        if np.ndim(a) == 1 else grad
    g2 = np.expand_dims(g2, -1) if np.ndim(b) == 1 else g2
    if slot == 0:
        d, like = g2 @ np.swapaxes(b2, -1, -2), a2
    else:
        d, like = np.swapaxes(a2, -1, -2) @ g2, b2
    lead = d.ndim - like.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(like.shape)
                                      if n == 1 and d.shape[lead + i] != 1)
    return np.sum(d, axis=axes).reshape(np.shape(a if slot == 0 else b)) if axes else \
        d.reshape(np.shape(a if slot == 0 else b))


def _reverse_last(x, k):
    """x with its last k axes in reverse order (the transpose of a stacked tangent)."""
    n = np.ndim(x)
    return np.transpose(x, tuple(range(n - k)) + tuple(range(n - 1, n - k - 1, -1)))


def _size_ratio(x, y):
    """How many elements of x each element of y stands for (a mean's divisor)."""
    ratio = np.size(x) / np.size(y)
    # an empty x: 0 as NumPy's float, so that dividing by it is inf, not ZeroDivisionError
    return ratio if ratio else np.asarray(x).dtype.type(0) if np.ndim(x) else 0.0


def _batch_size(x):
    """The length of x's first axis; an empty batch's as x's float 0, so that the mean
    over it is nan, as NumPy's and JAX's, not a ZeroDivisionError."""
    n = np.shape(x)[0]
    return n if n else np.asarray(x).dtype.type(0)


# ---- shapes -------------------------------------------------------------------------
def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """axis (None, int or tuple) as sorted non-negative ints; ShapeError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    out = []
    for a in axis if isinstance(axis, tuple) else (axis,):
        if not isinstance(a, int) or isinstance(a, bool):
            raise ShapeError(f"axis {a!r} is not an integer")
        if not -ndim <= a < ndim:
            raise ShapeError(f"axis {a} is out of range for {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) < len(out):
        raise ShapeError(f"axis {axis} names an axis twice")
    return tuple(sorted(out))


def _params_shape(rule):
    """``rule(*operand shapes, **params)`` as the op table's shape(g, args, params)."""
    return lambda g, args, params: rule(*(g.shape(a) for a in args), **params)


def _spell(name: str, defaults: dict[str, Any]):
    """A NumPy call with only the keyword arguments that differ from the defaults."""
    def spell(params: dict) -> str:
        extra = "".join(f", {k}={params[k]!r}" for k, v in defaults.items()
                        if params.get(k, v) != v)
        return f"{name}({{0}}{extra})"
    return spell


def _negative(axis: Any, ndim: int) -> tuple[int, ...]:
    """Axes counted from the end, so a leading direction axis (forward mode) is harmless."""
    return tuple(a - ndim for a in _axes(axis, ndim))


def _along_shape(x: shapes.Shape, axis: Any) -> shapes.Shape:
    _axes(axis, len(x))
    return x


_AXIS = {"axis": None, "keepdims": False}
_SOFT = {"axis": -1}
_LSE = {"axis": -1, "keepdims": False}
_MADE = Trait.FRESH  # the result is a new array (memory planning)
_INNER = Trait.INTERNAL  # an op derivatives and forward mode are made of


# ---- helpers of the rules, on handles ---------------------------------------------
def reduce_to(g: Any, c: str, have: shapes.Shape, want: shapes.Shape) -> str:
    """Node ``c`` (static shape ``have``) summed over the axes broadcasting added."""
    return _summed_to(R(g, c), have, want).node


def _summed_to(c: R, have: shapes.Shape, want: shapes.Shape) -> R:
    lead = len(have) - len(want)
    ones = tuple(lead + i for i, d in enumerate(want) if d == 1 and have[lead + i] != 1)
    if ones:
        c = c.sum(axis=ones[0] if len(ones) == 1 else ones, keepdims=True)
    if lead > 0:
        c = c.sum(axis=0 if lead == 1 else tuple(range(lead)))
    return c


def _T(x: R) -> R:  # noqa: N802 - the transpose, as in the lectures
    """A matrix's transpose, or each matrix's of a stack."""
    return x.T if x.ndim == 2 else x.mT


def _expand(grad: R, out: R) -> R:
    """A reduction's adjoint with the reduced axes put back (as 1s)."""
    params, x = out.params, out.args[0]
    if params.get("keepdims") or params.get("axis") is None and not out.shape or \
            grad.shape == () and not grad.elastic:  # a scalar lines up with any axes
        return grad  # (np.expand_dims(1.0, 0) is a float64 array: float32 became float64)
    if x.elastic:  # x has more axes at call time: the axes as the reduction read them
        return grad.call("expand_dims", axis=params["axis"])
    axes = _axes(params.get("axis"), x.ndim)
    return grad.call("expand_dims", axis=axes[0] if len(axes) == 1 else axes)


def _count(x: R, dims: shapes.Shape, out: R) -> R | float:
    """How many elements of x (dims, when known now) one element of out averages."""
    known = shapes.numeric(dims)
    if not x.elastic and known is not None:
        return float(np.prod(known))
    return x.call("size_ratio", out)


def _itself(name: str):
    """The jvp of a linear op along axes: the op on the tangent, its axes counted from
    the end of the larger of operand and result (a reduction's axes are its operand's)."""
    @jvp
    def rule(out: R, dots: Tangents) -> R | None:
        params = dict(out.params)
        params["axis"] = _negative(params["axis"], max(out.ndim, out.args[0].ndim))
        return dots[0].call(name, **params)
    return rule


# ---- matmul and transposes ----------------------------------------------------------
def _matmul_shape(a: shapes.Shape, b: shapes.Shape) -> shapes.Shape:
    if not a or not b:
        raise ShapeError("@ needs operands with at least one dimension (use * for scalars)")
    a2, b2 = (a if len(a) > 1 else (1,) + a), (b if len(b) > 1 else b + (1,))
    if a2[-1] != b2[-2]:
        raise ShapeError(f"inner dimensions {a2[-1]} and {b2[-2]} differ")
    out = shapes.broadcast(a2[:-2], b2[:-2]) + a2[-2:-1] + b2[-1:]
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    return out[:-1] if len(b) == 1 else out


@vjp
def _matmul_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    a, b = out.args
    if a.elastic or b.elastic:  # dims known only at call time: NumPy's rule then
        return tuple(grad.call("matmul_grad", a, b, slot=k) for k in (0, 1))
    if a.ndim == 1 and b.ndim == 1:
        return grad * b, grad * a
    if a.ndim == 1 and b.ndim == 2:
        return b @ grad, a.call("outer", grad)
    if b.ndim == 1 and a.ndim == 2:
        return grad.call("outer", b), _T(a) @ grad
    if a.ndim == 1:  # a vector @ a stack: each matrix's row of products, batch axes summed
        da = (b @ grad.call("expand_dims", axis=-1)).sum(axis=-1)
        db = a.call("expand_dims", axis=-1) * grad.call("expand_dims", axis=-2)
        return _summed_to(da, da.shape, a.shape), _summed_to(db, db.shape, b.shape)
    if b.ndim == 1:  # a stack @ a vector
        da = grad.call("expand_dims", axis=-1) * b
        db = (grad.call("expand_dims", axis=-2) @ a).sum(axis=-2)
        return _summed_to(da, da.shape, a.shape), _summed_to(db, db.shape, b.shape)
    if a.ndim > 2 and b.ndim == 2:  # a stack @ a matrix (x @ W): W's adjoint one product
        rows = tuple(range(a.ndim - 1))  # over every row of the stack, not one per matrix
        return grad @ _T(b), a.call("tensordot", grad, axes=(rows, rows))  # summed after
    if a.ndim == 2 and b.ndim > 2:  # a matrix @ a stack: the same on the other side
        cols = (*range(b.ndim - 2), b.ndim - 1)
        return grad.call("tensordot", b, axes=(cols, cols)), _T(a) @ grad
    da, db = grad @ _T(b), _T(a) @ grad
    return (_summed_to(da, da.shape, a.shape),  # stacks of matrices: sum the batch axes
            _summed_to(db, db.shape, b.shape))


@jvp
def _matmul_jvp(out: R, dots: Tangents) -> R | None:
    """Tangents carry a leading direction axis, so a vector's tangent is a matrix and a
    matrix's a stack; a vector on the other side becomes a 1-row/1-column matrix."""
    a, b = out.args
    ndim = out.ndim

    def lift(x: R, dot: R) -> R:  # line a matrix stack's batch axes up with out's
        return dot.call("lift", ndim=ndim) if 2 <= x.ndim < ndim else dot

    terms = []
    if dots[0] and b.ndim == 1 and a.ndim >= 2:
        terms.append((dots[0] @ b.call("expand_dims", axis=-1)).sum(axis=-1))
    elif dots[0] and a.ndim == 1 and b.ndim > 2:  # a row against each matrix of b
        row = dots[0].call("expand_dims", axis=-2).call("lift", ndim=b.ndim)
        terms.append((row @ b).sum(axis=-2))
    elif dots[0]:
        terms.append(lift(a, dots[0]) @ b)
    if dots[1] and b.ndim == 1 and a.ndim > 2:  # a column against each matrix of a
        column = dots[1].call("expand_dims", axis=-1).call("lift", ndim=a.ndim)
        terms.append((a @ column).sum(axis=-1))
    elif dots[1] and b.ndim == 1:
        terms.append(dots[1] @ (a if a.ndim == 1 else _T(a)))
    elif dots[1] and a.ndim == 1:
        terms.append((a.call("expand_dims", axis=0) @ dots[1]).sum(axis=-2))
    elif dots[1]:
        terms.append(a @ lift(b, dots[1]))
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


# A product on the left is parenthesized, which Python does not need: (x * y) @ z
_register(Op("matmul", 2, "{0} @ {1}", np.matmul, MUL, (UNARY, UNARY), symbol="@",
             shape=_params_shape(_matmul_shape), vjp=_matmul_vjp, jvp=_matmul_jvp,
             dtype="follows", rules=("{out}_bar @ {1}.T", "{0}.T @ {out}_bar"),
             traits=_MADE))
_register(Op("matmul_grad", 3, "_matmul_grad({0}, {1}, {2}, {slot})", _matmul_grad,
             slot_prec=(0, 0, 0), params={"slot": 0}, dtype="follows",
             helpers=(_matmul_grad,), traits=_INNER | _MADE,
             shape=_params_shape(lambda grad, a, b, slot: (a, b)[slot])))


def _mT_shape(x: shapes.Shape) -> shapes.Shape:  # noqa: N802
    if len(x) < 2:
        raise ShapeError("needs at least two dimensions")
    return x[:-2] + (x[-1], x[-2])


_register(Op("mT", 1, "np.swapaxes({0}, -1, -2)", lambda x: np.swapaxes(x, -1, -2),
             ATOM, (ATOM,), shape=_params_shape(_mT_shape), dtype="follows", traits=_INNER,
             written_as=lambda operands, params: f"{operands[0]}.mT",
             rules=("{out}_bar.mT",), vjp=vjp(lambda out, grad: (grad.mT,)),
             jvp=jvp(lambda out, dots: dots[0].mT)))
_register(Op("reverse_last", 1, "_reverse_last({0}, {k})", _reverse_last,
             slot_prec=(0,), params={"k": None}, helpers=(_reverse_last,),
             shape=_params_shape(lambda x, k: x[:len(x) - k] + x[len(x) - k:][::-1]),
             traits=_INNER | Trait.STACKING))


# ---- reductions -----------------------------------------------------------------------
def _reduced(shape: shapes.Shape, axis: Any, keepdims: bool) -> shapes.Shape:
    axes = _axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduces_all(params: dict) -> bool:
    return params.get("axis") is None and not params.get("keepdims")


@vjp
def _reduce_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """sum's and mean's: the adjoint spread over the reduced axes (mean's / their count)."""
    x = out.args[0]
    if out.g.op(out.node).name == "mean":
        grad = grad / _count(x, tuple(x.shape[i] for i in _axes(out.params["axis"], x.ndim)), out)
    return (_expand(grad, out).call("broadcast_like", x),)


for _name, _rule in (("sum", ""), ("mean", " / count")):
    _register(Op(_name, 1, f"np.{_name}({{0}})", getattr(np, _name), slot_prec=(0,),
                 params=_AXIS, signature=("axis",), scalar_result=_reduces_all,
                 spell=_spell(f"np.{_name}", _AXIS),
                 shape=_params_shape(_reduced), vjp=_reduce_vjp, jvp=_itself(_name),
                 dtype="follows", traits=_MADE | Trait.AXES_FROM_END,
                 rules=("{out}_bar spread over {0}" + _rule,)))


# ---- sizes: numbers read off a value's shape at call time -----------------------------
for _name, _arity, _code, _fn in (("size_ratio", 2, "_size_ratio({0}, {1})", _size_ratio),
                                  ("batch_size", 1, "_batch_size({0})", _batch_size)):
    _register(Op(_name, _arity, _code, _fn, slot_prec=(0,) * _arity, helpers=(_fn,),
                 scalar_result=lambda params: True, dtype="weak",
                 shape=lambda g, args, params: (), traits=_INNER | Trait.NO_DERIVATIVE))


# ---- the softmax family: shifted by the max, which the gradient takes as a constant ----
def _along_jvp(rule):
    """jvp of an op along one axis, with the axis counted from the end."""
    @jvp
    def on_axis(out: R, dots: Tangents) -> R | None:
        return rule(out, dots[0], _negative(out.params["axis"], out.ndim)[0])
    return on_axis


@vjp
def _softmax_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    return (out * (grad - (grad * out).sum(out.params["axis"], keepdims=True)),)


@vjp
def _logsumexp_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    weights = (out.args[0] - _expand(out, out)).exp()
    return (_expand(grad, out) * weights,)


@jvp
def _logsumexp_jvp(out: R, dots: Tangents) -> R | None:
    x, params = out.args[0], out.params
    weights = (x - _expand(out, out)).exp()
    return (dots[0] * weights).sum(_negative(params.get("axis"), x.ndim),
                                   keepdims=bool(params.get("keepdims")))


# softmax's Jacobian, diag(s) - s s^T, is symmetric: its jvp is its vjp's formula
_register(Op("softmax", 1, "_softmax({0})", _softmax, slot_prec=(0,), dtype="follows",
             params=_SOFT, signature=("axis",), spell=_spell("_softmax", _SOFT),
             shape=_params_shape(_along_shape),
             vjp=_softmax_vjp, helpers=(*_REDUCE, _softmax),
             jvp=_along_jvp(lambda out, dot, axis: out * (dot - (dot * out).sum(
                 axis, keepdims=True))),
             rules=("{out} * ({out}_bar - sum({out}_bar * {out}))",),
             traits=_MADE | Trait.NONNEGATIVE))
_register(Op("log_softmax", 1, "_log_softmax({0})", _log_softmax, slot_prec=(0,),
             dtype="follows", params=_SOFT,
             signature=("axis",), spell=_spell("_log_softmax", _SOFT),
             shape=_params_shape(_along_shape), helpers=(*_REDUCE, _log_softmax),
             vjp=vjp(lambda out, grad: (
                 grad - out.exp() * grad.sum(out.params["axis"], keepdims=True),)),
             jvp=_along_jvp(lambda out, dot, axis: dot - (out.exp() * dot).sum(
                 axis, keepdims=True)),
             rules=("{out}_bar - exp({out}) * sum({out}_bar)",), traits=_MADE))
_register(Op("logsumexp", 1, "_logsumexp({0})", _logsumexp, slot_prec=(0,),
             dtype="follows", scalar_result=_reduces_all, params=_LSE, signature=("axis",),
             spell=_spell("_logsumexp", _LSE), shape=_params_shape(_reduced),
             vjp=_logsumexp_vjp, jvp=_logsumexp_jvp, helpers=(*_REDUCE, _logsumexp),
             rules=("{out}_bar * exp({0} - {out})",), traits=_MADE))


# ---- flip: the worked example of docs/ops.md, "Adding a structural op" ---------------
_register(Op("flip", 1, "np.flip({0})", np.flip, slot_prec=(0,), params={"axis": None},
             signature=("axis",),
             spell=_spell("np.flip", {"axis": None}), shape=_params_shape(_along_shape),
             vjp=vjp(lambda out, grad: (grad.call("flip", **out.params),)),
             jvp=jvp(lambda out, dots: dots[0].call(
                 "flip", axis=_negative(out.params["axis"], out.ndim))),
             rules=("flip({out}_bar)",), dtype="first"))
def _flip_along(name: str, axis: int) -> None:
    """NumPy's flipud (axis 0) and fliplr (axis 1): flip along one axis, under their names."""
    def shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        return _along_shape(g.shape(args[0]), axis)

    _register(Op(name, 1, f"np.{name}({{0}})", getattr(np, name), slot_prec=(0,), shape=shape,
                 vjp=vjp(lambda out, grad: (grad.call(name),)),
                 jvp=jvp(lambda out, dots: dots[0].call("flip", axis=_negative(axis, out.ndim))),
                 rules=(f"{name}({{out}}_bar)",), dtype="first"))


_flip_along("flipud", 0)
_flip_along("fliplr", 1)
