"""NumPy's NaN-ignoring reductions: nansum, nanmean, nanmax, nanmin, nanprod, nanvar,
nanstd, one entry each, with JAX's derivatives.

Each reduces as its plain op would over the elements that are not NaN; its derivative is
the plain op's weights on those elements and 0 at a NaN (``_weighted``'s pattern: the
adjoint spread back times the weights), 0 too over a slice of NaNs only (whose value is
nan, or 0 for nansum, 1 for nanprod), as JAX's. Ties share as max's and min's do. The
values are computed without NumPy's warnings at slices of NaNs only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .expr import R, Tangents, jvp
from .reductions import _from_end, _weighted
from .table import Op, _register
from .tensor import (
    _AXIS,
    _MADE,
    _expand,
    _negative,
    _params_shape,
    _reduced,
    _reduces_all,
    _spell,
)


# ---- NumPy helpers, shipped inside emitted modules ---------------------------------
def _nan_extreme(x, axis, keepdims, pick, empty):
    """pick (np.max or np.min) of the elements that are not NaN; nan over NaNs only,
    as np.nanmax's, without its warning."""
    nan = np.isnan(x)
    out = pick(np.where(nan, empty, x), axis=axis, keepdims=keepdims)
    return np.where(np.all(nan, axis=axis, keepdims=keepdims), np.nan, out)[()]


def _nanmax(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, np.max, -np.inf)


def _nanmin(x, axis=None, keepdims=False):
    return _nan_extreme(x, axis, keepdims, np.min, np.inf)


def _nanmean(x, axis=None, keepdims=False):
    """The mean of the elements that are not NaN (nan over NaNs only, without a warning)."""
    x = np.asarray(x)
    n = np.sum(~np.isnan(x), axis=axis, keepdims=keepdims).astype(x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(x, axis=axis, keepdims=keepdims) / n


def _nanvar(x, axis=None, ddof=0, keepdims=False):
    """np.nanvar: the squared deviations of the elements that are not NaN over n - ddof;
    nan where n <= ddof, as JAX's (NumPy's warns)."""
    x = np.asarray(x)
    d = x - _nanmean(x, axis, True)
    n = np.sum(~np.isnan(x), axis=axis, keepdims=keepdims).astype(x.dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > ddof, np.nansum(d * d, axis=axis, keepdims=keepdims) / (n - ddof),
                        np.nan)[()]


def _nanstd(x, axis=None, ddof=0, keepdims=False):
    return np.sqrt(_nanvar(x, axis, ddof, keepdims))


# ---- the weights d out / d x, on handles ----------------------------------------------
def _kept(x: R) -> R:
    """True where x is not NaN (NaN != NaN)."""
    return x.call("eq", x)


def _ones(x: R) -> R:
    """1.0 where x is not NaN, 0.0 at a NaN, in x's float dtype."""
    return _kept(x).call("choose", 1.0, 0.0, x)


def _clean(x: R, fill: float) -> R:
    """x with its NaNs replaced by fill (their derivative 0)."""
    return _kept(x).call("where", x, fill)


def _count(out: R, less: float = 0.0) -> R:
    """How many elements are not NaN (less ddof), at least 1: a slice of NaNs only
    divides 0 by 1, JAX's derivative there."""
    x = out.args[0]
    return _ones(x).sum(out.params["axis"], keepdims=True).call("maximum", 1.0 + less) - less


def _extreme_weights(out: R, fill: float) -> R:
    """max's ties among the elements that are not NaN: each shares the adjoint equally."""
    x = out.args[0]
    hit = _clean(x, fill).call("eq", _expand(out, out)).call("choose", 1.0, 0.0, x) * _ones(x)
    return hit / hit.sum(out.params["axis"], keepdims=True).call("maximum", 1.0)


def _centered(out: R) -> R:
    """(x - nanmean) / (n - ddof) where x is not NaN, 0 at a NaN: half of d nanvar / d x."""
    x, params = out.args[0], out.params
    mean = x.call("nanmean", axis=params["axis"], keepdims=True)
    return _kept(x).call("where", x - mean, 0.0) / _count(out, float(params["ddof"]))


def _moment(weights: Callable[[R], R]) -> Callable[[R], R]:
    """nanvar's and nanstd's weights, 0 where n <= ddof (value nan) and at NaNs, as JAX's."""
    def gated(out: R) -> R:
        x, params = out.args[0], out.params
        n = _ones(x).sum(params["axis"], keepdims=True)
        return n.call("gt", float(params["ddof"])).call("logical_and", _kept(x)).call(
            "where", weights(out), 0.0)
    return gated


_NAN_VAR = {"axis": None, "ddof": 0, "keepdims": False}
_ENTRIES: list[tuple[str, Callable, dict, Callable[[R], R], str]] = [
    ("nansum", np.nansum, _AXIS, lambda out: _ones(out.args[0]), "{out}_bar where {0} is not nan"),
    ("nanmean", _nanmean, _AXIS, lambda out: _ones(out.args[0]) / _count(out),
     "{out}_bar / count where {0} is not nan"),
    ("nanmax", _nanmax, _AXIS, lambda out: _extreme_weights(out, -np.inf),
     "{out}_bar * ({0} == {out}) / ties, 0 at nan"),
    ("nanmin", _nanmin, _AXIS, lambda out: _extreme_weights(out, np.inf),
     "{out}_bar * ({0} == {out}) / ties, 0 at nan"),
    ("nanprod", np.nanprod, _AXIS,
     lambda out: _clean(out.args[0], 1.0).call("prod_except", axis=_from_end(out))
     * _ones(out.args[0]), "{out}_bar * (product of the others but nans), 0 at nan"),
    ("nanvar", _nanvar, _NAN_VAR, _moment(lambda out: _centered(out) * 2.0),
     "{out}_bar * 2 * ({0} - nanmean) / (n - ddof), 0 at nan"),
    ("nanstd", _nanstd, _NAN_VAR, _moment(lambda out: _centered(out) / _expand(out, out)),
     "{out}_bar * ({0} - nanmean) / ((n - ddof) * {out}), 0 at nan"),
]
_HELPERS = {"nanmax": (_nan_extreme, _nanmax), "nanmin": (_nan_extreme, _nanmin),
            "nanmean": (_nanmean,), "nanvar": (_nanmean, _nanvar),
            "nanstd": (_nanmean, _nanvar, _nanstd)}
def _ahead(weights: Callable[[R], R]) -> Callable[..., str | None]:
    """The jvp: the tangent times the weights, summed; 0 where x is NaN, however large
    the tangent there (JAX selects, so a NaN tangent at a NaN does not reach the sum)."""
    @jvp
    def rule(out: R, dots: Tangents) -> R | None:
        x, params = out.args[0], out.params
        kept = _kept(x).call("where", dots[0], 0.0)
        return (kept * weights(out)).sum(_negative(params["axis"], x.ndim),
                                         keepdims=bool(params["keepdims"]))
    return rule


for _name, _fn, _params, _weights, _rule in _ENTRIES:
    _code = f"np.{_name}" if _name not in _HELPERS else f"_{_name}"
    _register(Op(_name, 1, f"{_code}({{0}})", _fn, slot_prec=(0,), params=_params,
                 signature=("axis",),
                 scalar_result=_reduces_all, spell=_spell(_code, _params),
                 shape=_params_shape(lambda x, axis, keepdims, ddof=0: _reduced(x, axis, keepdims)),
                 helpers=_HELPERS.get(_name, ()), vjp=_weighted(_weights)[0],
                 jvp=_ahead(_weights),
                 dtype="follows", traits=_MADE, rules=(_rule,)))
