"""Linear algebra of the op table: numpy.linalg's solve, inv, det, slogdet and cholesky,
and scipy's (jax.scipy.linalg's) solve_triangular, on square matrices or stacks of them.

Their derivatives are the standard matrix results (Giles 2008, "An extended collection
of matrix derivative results for forward and reverse mode AD"; Murray 2016, "Differentiation
of the Cholesky decomposition"), written with these same ops, so a gradient is
differentiated again. A right-hand side b is a vector only when it is 1-d (NumPy 2's
rule); the rules work on columns (b[..., None]), so forward mode's leading direction
axis never makes a vector a matrix; the operands' shapes must be declared. A singular
matrix, or cholesky's input that is not positive definite, is an error at call time
that says so (``np.linalg.LinAlgError`` in the standalone module, ``InputError`` from
graphc).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import pieces, shapes
from .expr import R, Tangents, jvp, vjp
from .products import _total
from .shaping import _declared
from .table import Op, _register, floats_only
from .tensor import _MADE, _summed_to


# ---- values: NumPy's, each failure named -------------------------------------------
def _solve(a: np.ndarray, b: np.ndarray, name: str = "solve") -> np.ndarray:
    """np.linalg.solve; a singular matrix is an error naming the op."""
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"{name}: the matrix is singular") from None


def _inv(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError("inv: the matrix is singular") from None


def _cholesky(a: np.ndarray) -> np.ndarray:
    """The lower factor of (a + a.mT) / 2, as JAX's (symmetrize_input=True): NumPy's own
    for a symmetric a, and a derivative that is the same from either triangle."""
    try:
        return np.linalg.cholesky((a + np.swapaxes(a, -1, -2)) / 2)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError("cholesky: the matrix is not positive definite") from None


def _solve_triangular(a: np.ndarray, b: np.ndarray, lower: bool = False, trans: int = 0,
                      unit_diagonal: bool = False) -> np.ndarray:
    """scipy's solve_triangular on stacks: only a's triangle is read (its diagonal as 1s
    when unit_diagonal); trans 1 ('T') or 2 ('C') solves with its transpose."""
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        eye = np.eye(np.shape(a)[-1], dtype=t.dtype)
        t = t * (1 - eye) + eye
    if trans:
        t = np.swapaxes(t, -1, -2)
    return _solve(t, b, "solve_triangular")


# ---- shapes -------------------------------------------------------------------------
def _square(a: shapes.Shape, name: str) -> None:
    if len(a) < 2 or a[-1] != a[-2]:
        raise ShapeError(f"{name} takes a square matrix (or a stack of them), got "
                         f"{shapes.format_shape(a)}")


def _solve_shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
    floats_only(g, args)
    name = "solve_triangular" if "lower" in params else "solve"
    if name == "solve_triangular":
        if params["trans"] not in (0, 1, 2):
            raise ShapeError(f"trans is 0, 1 or 2 (scipy's 'N', 'T', 'C'), got "
                             f"{params['trans']!r}")
        for k in ("lower", "unit_diagonal"):
            if not isinstance(params[k], bool):
                raise ShapeError(f"{k} is True or False, got {params[k]!r}")
    a, b = _declared(g, args[0], name), _declared(g, args[1], name)
    _square(a, name)
    rows = b[-1] if len(b) == 1 else b[-2] if len(b) >= 2 else None
    if rows != a[-1]:
        raise ShapeError(f"{name}: b of shape {shapes.format_shape(b)} does not have the "
                         f"matrix's {a[-1]} rows (b is a vector only when 1-d, as in NumPy 2)")
    if len(b) == 1:
        return a[:-1]
    return shapes.broadcast(a[:-2], b[:-2]) + b[-2:]


def _matrix_shape(name: str, drop: int) -> Any:
    def shape(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        floats_only(g, args)
        a = _declared(g, args[0], name)
        _square(a, name)
        if "piece" in params:
            if type(params["piece"]) is not int or not -2 <= params["piece"] < 2:
                raise ShapeError(f"slogdet gives 2 arrays (sign, logabsdet): there is no "
                                 f"[{params['piece']}]")
            params["piece"] %= 2
        return a[:len(a) - drop]
    return shape


# ---- the rules ----------------------------------------------------------------------
def _column(x: R, vector: bool) -> R:
    return x.call("expand_dims", axis=-1) if vector else x


def _triangular(out: R) -> dict | None:
    """solve_triangular's params, trans as 0 or 1; None for solve."""
    if out.g.op(out.node).name != "solve_triangular":
        return None
    p = dict(out.params)
    p["trans"] = min(p["trans"], 1)  # 2 (conjugate transpose) is 1 for real matrices
    return p


def _mask(x: R, p: dict) -> R:
    """The part of a matrix that solve_triangular reads."""
    k = (-1 if p["lower"] else 1) if p["unit_diagonal"] else 0
    return x.call("tril" if p["lower"] else "triu", k=k)


def _solved(a: R, rhs: R, p: dict | None, flip: int = 0) -> R:
    """a's (or, flip, its transpose's) solve of rhs (columns)."""
    if p is None:
        return (a.mT if flip else a).call("solve", rhs)
    return a.call("solve_triangular", rhs, **{**p, "trans": p["trans"] ^ flip})


@vjp
def _solve_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """b_bar = solve(a.T, x_bar), a_bar = -b_bar @ x.T (its triangle for solve_triangular)."""
    a, b = out.args
    p = _triangular(out)
    vector = b.ndim == 1
    x = _column(out, vector)
    b_bar = _solved(a, _column(grad, vector), p, flip=1)
    a_bar = -(x @ b_bar.mT) if p and p["trans"] else -(b_bar @ x.mT)
    a_bar = _mask(a_bar, p) if p else a_bar
    b_bar = b_bar.sum(axis=-1) if vector else b_bar
    return _summed_to(a_bar, a_bar.shape, a.shape), _summed_to(b_bar, b_bar.shape, b.shape)


@jvp
def _solve_jvp(out: R, dots: Tangents) -> R | None:
    """x_dot = solve(a, b_dot - a_dot @ x)."""
    a, b = out.args
    p = _triangular(out)
    vector = b.ndim == 1
    x = _column(out, vector)
    n = x.ndim

    def lift(dot: R) -> R:  # line a stack's batch axes up with x's
        return dot.call("lift", ndim=n) if dot.ndim - 1 < n else dot
    terms = []
    if dots[1] is not None:
        terms.append(lift(_column(dots[1], vector)))
    if dots[0] is not None:
        da = _mask(dots[0], p) if p else dots[0]
        da = da.mT if p and p["trans"] else da
        terms.append(-(lift(da) @ x))
    found = _solved(a, _total(terms), p)  # type: ignore[arg-type]
    return found.sum(axis=-1) if vector else found


def _per_matrix(x: R, out: R) -> R:
    """A value per matrix, against the matrices: (…,) as (…, 1, 1)."""
    return x.call("expand_dims", axis=(-2, -1)) if out.ndim else x


def _logdet_jvp(out: R, da: R) -> R:
    """d log|det a| = trace(inv(a) @ a_dot), as sum(inv(a).T * a_dot)."""
    return (out.args[0].call("inv").mT * da).sum(axis=(-2, -1))


@vjp
def _slogdet_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    if out.params["piece"] == 0:
        return (None,)  # the sign: piecewise constant
    return (_per_matrix(grad, out) * out.args[0].call("inv").mT,)


def _phi(x: R) -> R:
    """Murray's Φ: the lower triangle, its diagonal halved."""
    return (x.call("tril") + x.call("tril", k=-1)) * 0.5


def _lower_solve(l_: R, rhs: R, trans: int) -> R:
    return l_.call("solve_triangular", rhs, lower=True, trans=trans, unit_diagonal=False)


@vjp
def _cholesky_vjp(out: R, grad: R) -> tuple[R | None, ...]:
    """a_bar = sym(L^-T Φ(L^T L_bar) L^-1) (Murray 2016)."""
    z = _lower_solve(out, _phi(out.mT @ grad), 1)
    w = _lower_solve(out, z.mT, 1)
    return ((w + w.mT) * 0.5,)


@jvp
def _cholesky_jvp(out: R, dots: Tangents) -> R | None:
    """L_dot = L Φ(L^-1 sym(a_dot) L^-T) (Murray 2016)."""
    s = (dots[0] + dots[0].mT) * 0.5
    y = _lower_solve(out, _lower_solve(out, s, 0).mT, 0)
    return out @ _phi(y)


_TRIANGULAR = {"lower": False, "trans": 0, "unit_diagonal": False}
_register(Op("solve", 2, "_solve({0}, {1})", _solve, slot_prec=(0, 0), helpers=(_solve,),
             shape=_solve_shape, vjp=_solve_vjp, jvp=_solve_jvp, dtype="follows",
             rules=("-solve({0}.T, {out}_bar) @ {out}.T", "solve({0}.T, {out}_bar)"),
             traits=_MADE))
_register(Op("solve_triangular", 2,
             "_solve_triangular({0}, {1}, {lower}, {trans!r}, {unit_diagonal})",
             _solve_triangular, slot_prec=(0, 0), helpers=(_solve, _solve_triangular),
             params=dict(_TRIANGULAR),  # by keyword: printed lower=True, not True
             shape=_solve_shape, vjp=_solve_vjp, jvp=_solve_jvp, dtype="follows",
             rules=("triangle of -solve_triangular({0}.T, {out}_bar) @ {out}.T",
                    "solve_triangular({0}.T, {out}_bar)"), traits=_MADE))
_register(Op("inv", 1, "_inv({0})", _inv, slot_prec=(0,), helpers=(_inv,),
             shape=_matrix_shape("inv", 0), dtype="follows",
             vjp=vjp(lambda out, grad: (-(out.mT @ grad @ out.mT),)),
             jvp=jvp(lambda out, dots: -(out @ dots[0] @ out)),
             rules=("-{out}.T @ {out}_bar @ {out}.T",), traits=_MADE))
_register(Op("det", 1, "np.linalg.det({0})", np.linalg.det, slot_prec=(0,),
             shape=_matrix_shape("det", 2), dtype="follows",
             vjp=vjp(lambda out, grad: (_per_matrix(grad * out, out)
                                        * out.args[0].call("inv").mT,)),
             jvp=jvp(lambda out, dots: out * _logdet_jvp(out, dots[0])),
             rules=("{out}_bar * {out} * inv({0}).T",), traits=_MADE))
_register(Op("slogdet", 1, "np.linalg.slogdet({0})",
             lambda a, piece=0: np.linalg.slogdet(a)[piece], slot_prec=(0,),
             params={"piece": 0}, picked="piece", shape=_matrix_shape("slogdet", 2),
             spell=lambda p: f"np.linalg.slogdet({{0}})[{p['piece']}]",
             vjp=_slogdet_vjp, dtype="follows",
             jvp=jvp(lambda out, dots: _logdet_jvp(out, dots[0]) if out.params["piece"]
                     else None),
             rules=(lambda g, node: "0 (the sign)" if g.attrs(node)["params"]["piece"] == 0
                    else "{out}_bar * inv({0}).T",), traits=_MADE))
pieces.FIXED["slogdet"] = 2
_register(Op("cholesky", 1, "_cholesky({0})", _cholesky, slot_prec=(0,), helpers=(_cholesky,),
             shape=_matrix_shape("cholesky", 0), dtype="follows",
             vjp=_cholesky_vjp, jvp=_cholesky_jvp,
             rules=("sym(L^-T Φ(L.T @ {out}_bar) L^-1), L = {out}",), traits=_MADE))
