"""Products of the op table: einsum (one or two operands) and NumPy's dot, inner, outer,
tensordot and kron.

Every product is an einsum of its operands (``dot`` of matrices is ``'ab,bc->ac'``), so
one vjp and one jvp, written as einsums, serve them all: an operand's adjoint is the
einsum of the output's adjoint with the other operand, and forward mode's direction axis
is one more letter. Where a product is a matrix product (``dot`` of 1-d and 2-d
operands) matmul's own rules are used, so that its gradient reads ``out_bar @ b.T``.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GraphcError, ShapeError
from . import shapes
from .expr import R, Tangents, jvp, vjp
from .table import Op, Trait, _register, floats_only
from .tensor import (
    _MADE,
    _axes,
    _matmul_jvp,
    _matmul_vjp,
    _params_shape,
    _summed_to,
)

_LETTERS = string.ascii_letters
Terms = tuple[tuple[str, ...], str]
"""An einsum: each operand's letters and the result's (('ij', 'jk'), 'ik')."""
Axes = tuple[tuple[int, ...], tuple[int, ...]]
"""The axes of a and of b a product contracts, paired in order."""


# ---- einsum subscripts --------------------------------------------------------------
def _terms(subscripts: Any, count: int) -> Terms:
    """``'ij,jk->ik'`` as (('ij', 'jk'), 'ik'); without ``->`` the output is NumPy's:
    the letters used once, in alphabetical order. ShapeError for what is not supported."""
    if not isinstance(subscripts, str):
        raise ShapeError(f"einsum's subscripts are a string such as 'ij,jk->ik', got "
                         f"{subscripts!r}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ShapeError("einsum: ellipses (...) are not supported; name every axis")
    left, arrow, right = spec.partition("->")
    ins = tuple(left.split(","))
    if len(ins) != count:
        raise ShapeError(f"einsum: subscripts {subscripts!r} name {len(ins)} operands, "
                         f"{count} given (graphc's einsum takes one or two)")
    used = "".join(ins)
    if not arrow:
        right = "".join(sorted(c for c in set(used) if used.count(c) == 1))
    for term in (*ins, right):
        bad = [c for c in term if c not in _LETTERS]
        if bad:
            raise ShapeError(f"einsum: {bad[0]!r} in {subscripts!r} is not a letter")
        if len(set(term)) < len(term):
            raise ShapeError(f"einsum: {term!r} repeats a letter (diagonals and traces are "
                             "not supported)")
    missing = [c for c in right if c not in used]
    if missing:
        raise ShapeError(f"einsum: output letter {missing[0]!r} names no operand's axis")
    return ins, right


def _letter_dims(ins: tuple[str, ...], operands: tuple[shapes.Shape, ...]) -> dict[str, Any]:
    dims: dict[str, Any] = {}
    for term, shape in zip(ins, operands):
        if len(term) != len(shape):
            raise ShapeError(f"einsum: {term!r} names {len(term)} axes of an operand with "
                             f"{len(shape)}")
        for c, d in zip(term, shape):  # a length 1 stretches, as NumPy's einsum's
            if dims.setdefault(c, d) != d and 1 not in (d, dims[c]):
                raise ShapeError(f"einsum: axis {c!r} is {dims[c]} in one operand and {d} "
                                 "in another")
            dims[c] = d if dims[c] == 1 else dims[c]
    return dims


def _einsum_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    operands = tuple(g.shape(a) for a in args)
    ins, right = _terms(params["subscripts"], len(args))
    dims = _letter_dims(ins, operands)
    return tuple(dims[c] for c in right)


def _einsum(*operands: Any, subscripts: str) -> Any:
    """np.einsum through BLAS where it can (optimize=True: a product of two matrices is
    a matmul, not einsum's own loop), as the emitted module spells it."""
    return np.einsum(subscripts, *operands, optimize=True)


def _einsum_of(x: R, ins: tuple[str, ...], right: str, *others: R) -> R:
    """The einsum ``ins -> right`` of x and ``others``, as a node. A 0-d x (the adjoint
    of a scalar) multiplies instead: np.einsum has no weak scalars (a float 1.0 makes
    float32 operands float64)."""
    if len(ins) == 2 and ins[0] == "":
        return x * (others[0] if ins[1] == right else _einsum_of(others[0], ins[1:], right))
    op = "einsum" if len(ins) == 2 else "einsum1"
    return x.call(op, *others, subscripts=",".join(ins) + "->" + right)


# ---- the rules of every product, from its einsum --------------------------------------
def _static(out: R) -> None:
    """Rules that name axes need them known now: an undeclared operand may have more."""
    if any(a.elastic for a in out.args):
        name = out.g.op(out.node).name
        raise GraphcError(f"the derivative of {name} (node {out.node!r}) needs its operands' "
                          "shapes: declare the inputs that reach it (e.g. x: [3, 4])")


def _adjoint(grad: R, x: R, mine: str, ins: tuple[str, ...], right: str,
             others: tuple[R, ...]) -> R:
    """An operand's adjoint: the output's adjoint contracted with the other operands,
    summed over x's axes of length 1 that the others stretched, and spread over x's axes
    that nothing else has (an axis summed in x alone, or one of length 1 elsewhere)."""
    seen = right + "".join(ins)
    kept = "".join(c for c in mine if c in seen)
    found = grad if not ins and kept == right else _einsum_of(grad, (right, *ins), kept, *others)
    found = _summed_to(found, found.shape, tuple(d for c, d in zip(mine, x.shape) if c in seen))
    lost = tuple(i - len(mine) for i, c in enumerate(mine) if c not in seen)
    if lost:
        found = found.call("expand_dims", axis=lost)
    return found if found.shape == x.shape else found * x.call("ones_like")


def _contraction_vjp(of: Callable[[R], Terms]) -> Callable[..., tuple[str | None, ...]]:
    """The vjp of a product whose einsum ``of(out)`` gives."""
    @vjp
    def rule(out: R, grad: R) -> tuple[R | None, ...]:
        _static(out)
        ins, right = of(out)
        args = out.args
        return tuple(_adjoint(grad, x, ins[k], tuple(t for j, t in enumerate(ins) if j != k),
                              right, tuple(a for j, a in enumerate(args) if j != k))
                     for k, x in enumerate(args))
    return rule


def _contraction_jvp(of: Callable[[R], Terms]) -> Callable[..., str | None]:
    """The jvp of a product: each tangent in its operand's place, forward mode's
    direction axis one more letter, first in the result."""
    @jvp
    def rule(out: R, dots: Tangents) -> R | None:
        _static(out)
        ins, right = of(out)
        z = next(c for c in _LETTERS if c not in "".join(ins))

        def term(k: int, dot: R) -> R:
            operands = [dot if j == k else a for j, a in enumerate(out.args)]
            stacked = tuple(z + t if j == k else t for j, t in enumerate(ins))
            return _einsum_of(operands[0], stacked, z + right, *operands[1:])
        return _total([dot and term(k, dot) for k, dot in enumerate(dots)])
    return rule


def _total(terms: list[R | None]) -> R | None:
    """The sum of the terms that are not None (forward mode's zero tangents)."""
    found = [t for t in terms if t is not None]
    return functools.reduce(lambda x, y: x + y, found) if found else None


def _params_terms(out: R) -> Terms:
    return _terms(out.params["subscripts"], len(out.args))


# einsum of one operand and of two (fixed arities), both written einsum('ij->j', x)
for _count, _name in ((1, "einsum1"), (2, "einsum")):
    _register(Op(_name, _count, "np.einsum({subscripts!r}, " + ", ".join(
        "{%d}" % k for k in range(_count)) + ", optimize=True)", _einsum,
        slot_prec=(0,) * _count, params={"subscripts": None}, leading=("subscripts",),
        spelled="einsum", shape=_einsum_shape,
        vjp=_contraction_vjp(_params_terms), jvp=_contraction_jvp(_params_terms),
        # one operand: np.einsum returns a view where it can ('ij->ji'): not FRESH
        dtype="follows", traits=Trait.INTERNAL if _count == 1 else _MADE,
        rules=("einsum({out}_bar)",) if _count == 1 else
        ("einsum({out}_bar, {1}) to {0}'s axes", "einsum({out}_bar, {0}) to {1}'s axes")))


# ---- tensordot, dot, inner, outer: einsums with NumPy's own functions -----------------
def _contracting(na: int, nb: int, axes: Axes) -> Terms:
    """The einsum of np.tensordot(a, b, axes): a's free axes, then b's."""
    axes_a, axes_b = axes
    a = _LETTERS[:na]
    b = list(_LETTERS[na:na + nb])
    for i, j in zip(axes_a, axes_b):
        b[j] = a[i]
    free_b = "".join(c for j, c in enumerate(b) if j not in axes_b)
    return (a, "".join(b)), "".join(c for i, c in enumerate(a) if i not in axes_a) + free_b


def _tensordot_axes(na: int, nb: int, params: dict) -> Axes:
    """np.tensordot's axes (an int n: a's last n with b's first n; or a pair of axis
    lists) as non-negative axes of a and of b, checked."""
    axes = params["axes"]
    if isinstance(axes, int) and not isinstance(axes, bool):
        if not 0 <= axes <= min(na, nb):
            raise ShapeError(f"axes={axes} needs operands with at least {axes} dimensions")
        return tuple(range(na - axes, na)), tuple(range(axes))
    if not (isinstance(axes, (tuple, list)) and len(axes) == 2):
        raise ShapeError(f"axes is an integer or a pair of axis lists, got {axes!r}")
    pair = [tuple(x) if isinstance(x, (tuple, list)) else (x,) for x in axes]
    if len(pair[0]) != len(pair[1]):
        raise ShapeError(f"axes {axes!r} pairs {len(pair[0])} axes of a with "
                         f"{len(pair[1])} of b")
    found = [_in_order(p, n) for p, n in zip(pair, (na, nb))]
    return found[0], found[1]


def _in_order(axes: tuple[Any, ...], ndim: int) -> tuple[int, ...]:
    """Axes as given (their order pairs them), each checked and made non-negative."""
    for a in axes:
        _axes(a, ndim)
    out = tuple(a % ndim for a in axes)
    if len(set(out)) < len(out):
        raise ShapeError(f"axes {axes} name an axis twice")
    return out


def _dot_axes(na: int, nb: int, params: dict) -> Axes:
    """np.dot: a scalar multiplies; else a's last axis with b's second-to-last (or only)."""
    return ((), ()) if not na or not nb else ((na - 1,), (max(nb - 2, 0),))


def _inner_axes(na: int, nb: int, params: dict) -> Axes:
    """np.inner: a scalar multiplies; else the last axes of both."""
    return ((), ()) if not na or not nb else ((na - 1,), (nb - 1,))


def _outer_axes(na: int, nb: int, params: dict) -> Axes:
    if na != 1 or nb != 1:
        raise ShapeError("outer takes two vectors (NumPy's flattens other operands: "
                         "reshape them to vectors first)")
    return (), ()


_AXES: dict[str, Callable[[int, int, dict], Axes]] = {
    "dot": _dot_axes, "inner": _inner_axes, "outer": _outer_axes, "tensordot": _tensordot_axes}


def _product_terms(name: str, a: shapes.Shape, b: shapes.Shape, params: dict) -> Terms:
    return _contracting(len(a), len(b), _AXES[name](len(a), len(b), params))


def _product_shape(g: Any, args: tuple[str, ...], params: dict, name: str) -> shapes.Shape:
    floats_only(g, args)
    a, b = g.shape(args[0]), g.shape(args[1])
    ins, right = _product_terms(name, a, b, params)
    for i, c in enumerate(ins[0]):  # no length-1 stretch here: NumPy's and JAX's refuse
        if c in ins[1] and a[i] != b[ins[1].index(c)]:
            raise ShapeError(f"axis {c!r} is {a[i]} in one operand and "
                             f"{b[ins[1].index(c)]} in another (summed: no length 1 "
                             "stretches)")
    dims = _letter_dims(ins, (a, b))
    return tuple(dims[c] for c in right)


def _of(out: R) -> Terms:
    a, b = out.args
    return _product_terms(out.g.op(out.node).name, a.shape, b.shape, out.params)


def _is_matmul(out: R) -> bool:
    """dot of 1-d and 2-d operands (and inner of vectors) is a matrix product."""
    a, b = out.args
    name = out.g.op(out.node).name
    return (name == "dot" and 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2
            or name == "inner" and a.ndim == b.ndim == 1) and not (a.elastic or b.elastic)


_einsum_vjp, _einsum_jvp = _contraction_vjp(_of), _contraction_jvp(_of)


def _product_vjp(g: Any, node: str, grad: str) -> tuple[str | None, ...]:
    return (_matmul_vjp if _is_matmul(R(g, node)) else _einsum_vjp)(g, node, grad)


def _product_jvp(g: Any, node: str, dots: tuple[str | None, ...]) -> str | None:
    return (_matmul_jvp if _is_matmul(R(g, node)) else _einsum_jvp)(g, node, dots)


def _tensordot_code(params: dict) -> str:
    axes = params["axes"]
    return "np.tensordot({0}, {1}" + ("" if axes == 2 else f", axes={axes!r}") + ")"


_PRODUCTS = {"dot": ("{out}_bar @ {1}.T", "{0}.T @ {out}_bar"),
             "inner": ("{out}_bar · {1}", "{out}_bar · {0}"),
             "tensordot": ("tensordot({out}_bar, {1}) over {1}'s free axes",
                           "tensordot({0}, {out}_bar) over {0}'s free axes")}
for _name, _rules in _PRODUCTS.items():
    _defaults = {"axes": 2} if _name == "tensordot" else {}
    _register(Op(_name, 2, f"np.{_name}({{0}}, {{1}})", getattr(np, _name), slot_prec=(0, 0),
                 params=_defaults, spell=_tensordot_code if _defaults else None,
                 shape=functools.partial(_product_shape, name=_name), vjp=_product_vjp,
                 jvp=_product_jvp, rules=_rules, dtype="follows", traits=_MADE))
# outer's adjoints are matrix-vector products (its einsum's would be too, by einsum)
_register(Op("outer", 2, "np.outer({0}, {1})", np.outer, slot_prec=(0, 0), dtype="follows",
             shape=functools.partial(_product_shape, name="outer"),
             vjp=vjp(lambda out, grad: (grad @ out.args[1], grad.T @ out.args[0])),
             jvp=_einsum_jvp, rules=("{out}_bar @ {1}", "{out}_bar.T @ {0}"), traits=_MADE))


# ---- kron: a block matrix of products; its adjoints sum each block against the other --
def _kron_grad(g: np.ndarray, other: np.ndarray, like: np.ndarray, slot: int,
               ndim: int) -> np.ndarray:
    """The adjoint of kron(a, b) (``ndim`` dimensions; -1: as many as a or b has now)
    for operand ``slot``, ``like``: g's blocks contracted with ``other``. g or other may
    carry forward mode's direction axes in front (other then lifted to ndim dimensions)."""
    ndim = ndim if ndim >= 0 else max(np.ndim(other), np.ndim(like))
    lead_g, lead_o = np.ndim(g) - ndim, max(np.ndim(other) - ndim, 0)
    theirs = np.shape(other)[lead_o:]
    theirs = (1,) * (ndim - len(theirs)) + theirs
    mine = (1,) * (ndim - np.ndim(like)) + np.shape(like)
    pairs = [(m, t) if slot == 0 else (t, m) for m, t in zip(mine, theirs)]
    blocks = np.reshape(g, np.shape(g)[:lead_g] + tuple(d for p in pairs for d in p))
    other = np.reshape(other, np.shape(other)[:lead_o] + theirs)
    m, t = "abcdefghijklm"[:ndim], "nopqrstuvwxyz"[:ndim]
    spec = "".join(x + y if slot == 0 else y + x for x, y in zip(m, t))
    found = np.einsum(f"...{spec},...{t}->...{m}", blocks, other, optimize=True)
    return np.reshape(found, np.shape(found)[:np.ndim(found) - ndim] + np.shape(like))


def _times(x: shapes.Dim, y: shapes.Dim) -> shapes.Dim:
    if isinstance(x, int) and isinstance(y, int):
        return x * y
    return y if x == 1 else x if y == 1 else f"{x}*{y}"


def _kron_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    a, b = g.shape(args[0]), g.shape(args[1])
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(_times(x, y) for x, y in zip(a, b))


def _kron_grad_shape(g: shapes.Shape, other: shapes.Shape, like: shapes.Shape, slot: int,
                     ndim: int) -> shapes.Shape:
    if ndim < 0:  # reverse mode, dims known at call time: no direction axes
        return like
    return (g[:len(g) - ndim] if len(g) > ndim else other[:max(len(other) - ndim, 0)]) + like


def _lifted(dot: R, out: R) -> R:
    """A tangent padded to the product's dimensions, so that np.kron lines it up."""
    return dot.call("lift", ndim=out.ndim) if dot.ndim - 1 < out.ndim else dot


@jvp
def _kron_jvp(out: R, dots: Tangents) -> R | None:
    _static(out)
    a, b = out.args
    return _total([dots[0] and _lifted(dots[0], out).call("kron", b),
                   dots[1] and a.call("kron", _lifted(dots[1], out))])


@vjp
def _kron_grad_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    g, other, like = out.args
    slot, ndim = out.params["slot"], out.params["ndim"]
    return (grad.call("kron", other) if slot == 0 else other.call("kron", grad),
            g.call("kron_grad", grad, other, slot=1 - slot, ndim=ndim), None)


@jvp
def _kron_grad_jvp(out: R, dots: Tangents) -> R | None:
    g, other, like = out.args
    params, ndim = out.params, out.params["ndim"]
    lifted = dots[1] and (dots[1].call("lift", ndim=ndim) if dots[1].ndim <= ndim else dots[1])
    return _total([dots[0] and dots[0].call("kron_grad", other, like, **params),
                   lifted and g.call("kron_grad", lifted, like, **params)])


def _unkron(out: R, grad: R, slot: int) -> R:
    like, other = out.args[slot], out.args[1 - slot]
    return grad.call("kron_grad", other, like, slot=slot, ndim=-1 if out.elastic else out.ndim)


_register(Op("kron", 2, "np.kron({0}, {1})", np.kron, slot_prec=(0, 0), dtype="follows",
             shape=_kron_shape, jvp=_kron_jvp,
             vjp=vjp(lambda out, grad: (_unkron(out, grad, 0), _unkron(out, grad, 1))),
             rules=("each block of {out}_bar · {1}", "sum of {out}_bar's blocks · {0}"),
             traits=_MADE))
def _kron_grad_rule(g: Any, node: str) -> str:
    """kron_grad's adjoint for its first operand: kron of out_bar with ``other``, on
    the side operand ``slot`` of the kron took."""
    return "kron({out}_bar, {1})" if g.attrs(node)["params"]["slot"] == 0 else \
        "kron({1}, {out}_bar)"


_register(Op("kron_grad", 3, "_kron_grad({0}, {1}, {2}, {slot}, {ndim})", _kron_grad,
             slot_prec=(0, 0, 0), grad_slots=(0, 1), params={"slot": 0, "ndim": 0},
             helpers=(_kron_grad,), dtype="follows", shape=_params_shape(_kron_grad_shape),
             vjp=_kron_grad_vjp, jvp=_kron_grad_jvp, traits=Trait.INTERNAL | _MADE,
             rules=(_kron_grad_rule, "{0}'s blocks contracted with {out}_bar",)))
