"""Constant arrays: zeros, ones, full, eye and arange, as NumPy's. They have no
derivative; their operands, which their text does not write, are the inputs they read
dimension sizes and their float dtype off (``Op.reads``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from . import shapes
from .shaping import _target
from .table import Op, Trait, _register


def _float_of(like):
    """The float dtype the graph computes in: float32 inputs give float32 constants."""
    dtype = np.asarray(like).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _float_like(like, value):
    """``value`` (integers, booleans) in ``like``'s float dtype. An array by astype:
    float64's type(array) tries Python's float() first, which NumPy 2.0 grants a
    one-element array (a DeprecationWarning), giving a 0-d scalar: a (1, 1) value lost
    its axes."""
    dtype = _float_of(like)
    return value.astype(dtype) if np.ndim(value) else dtype.type(value)


def _resolved(value: Any, xs: tuple, at: tuple) -> Any:
    """A parameter with each dimension name replaced by its size, read off the inputs
    (``at``: each name's operand slot and axis)."""
    if isinstance(value, tuple):
        return tuple(_resolved(v, xs, at) for v in value)
    for name, slot, axis in at:
        if value == name:
            return np.shape(xs[slot])[axis]
    return value


def _spelled(value: Any, at: tuple) -> str:
    """A parameter as NumPy source, a dimension name read off its operand."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_spelled(v, at) for v in value) + "," * (len(value) == 1) + ")"
    for name, slot, axis in at:
        if value == name:
            return "{%d}.shape[%d]" % (slot, axis)
    return repr(value)


def _names_in(params: dict) -> list[str]:
    """The dimension names a constant's parameters use, in order (its own parameters:
    not ``at`` and ``like``, which its shape rule adds)."""
    values = [v for k, p in params.items() if k not in ("at", "like")
              for v in (p if isinstance(p, tuple) else (p,))]
    return list(dict.fromkeys(v for v in values if isinstance(v, str)))


def _inputs_read(g: Any, params: dict) -> tuple[str, ...]:
    """A constant's operands, which its text does not write: for each dimension name
    the first input declaring it, else the first input (whose float dtype it takes)."""
    declared = [i for i in g.inputs if g.attrs(i)["params"]["declared"]]
    found = []
    for name in _names_in(params):
        holder = next((i for i in declared if name in g.shape(i)), None)
        if holder is None and name in g.inputs:  # linspace(x, 1.0): x is a value
            raise ShapeError(f"{name} is an input, not a number or a dimension's name")
        if holder is None:
            raise ShapeError(f"dimension {name} is not declared by an input (x: [{name}]) "
                             "before it is used")
        found.append(holder)
    return tuple(dict.fromkeys(found or g.inputs[:1]))


def _constant(dims: Any, integral: Any):
    """The shape rule of a constant whose shape ``dims(params)`` gives; it notes where
    each dimension name is read (``at``: its operand and axis) and whether the result
    takes its first operand's float dtype (``like``; not for ints)."""
    def rule(g: Any, args: tuple[str, ...], params: dict) -> shapes.Shape:
        at = []
        for name in _names_in(params):
            slot = next((k for k, a in enumerate(args) if name in g.shape(a)), None)
            if slot is None:
                raise ShapeError(f"dimension {name} is not one of its operands'")
            shape = g.shape(args[slot])
            at.append((name, slot, shape.index(name) - len(shape)))
        params["at"], params["like"] = tuple(at), bool(args) and not integral(params)
        return dims(params)
    return rule


def _shape_param(params: dict) -> shapes.Shape:
    if params["shape"] is None:
        raise ShapeError("shape is required, as in NumPy's zeros((2, 3))")
    target = _target(params["shape"])
    if any(type(d) is int and d < 0 for d in target):
        raise ShapeError(f"shape {target}: dimensions are >= 0")
    return target


def _eye_dims(params: dict) -> shapes.Shape:
    n, m = params["N"], params["M"]
    if n is None:
        raise ShapeError("N is required, as in NumPy's eye(3)")
    dims = _target((n, n if m is None else m))
    if any(type(d) is int and d < 0 for d in dims):
        raise ShapeError(f"eye's dimensions are >= 0, got {dims}")
    return dims


def _arange_dims(params: dict) -> shapes.Shape:
    start, stop, step = params["start"], params["stop"], params["step"]
    if start is None:
        raise ShapeError("arange needs a stop, as NumPy's arange(N) or arange(2, 5)")
    if stop is None:
        start, stop = 0, start
    if isinstance(stop, str):
        if start != 0 or step not in (None, 1):
            raise ShapeError(f"arange to a dimension {stop} counts from 0 by 1")
        return (stop,)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in (start, stop, step or 1)) or step == 0:
        raise ShapeError("arange's start, stop and step are numbers (step not 0) or a "
                         "dimension's name")
    return (max(int(np.ceil((stop - start) / (step or 1))), 0),)


def _integral(params: dict) -> bool:
    """arange of ints is ints (an index), as NumPy's."""
    return all(isinstance(params[k], (int, str, type(None))) for k in ("start", "stop", "step"))


def _make(name: str, call: Any, make: Any, dims: Any, params: dict,
          integral: Any = lambda params: False) -> None:
    """A constant: ``call(spelled params)`` is its NumPy call (before the dtype),
    ``make(**params)`` computes it, ``dims(params)`` is its shape."""
    def spell(p: dict) -> str:
        code = call({k: _spelled(p[k], p["at"]) for k in params})
        return code[:-1] + ", dtype=_float_of({0}))" if p["like"] else code

    def fn(*xs: Any, at: tuple, like: bool, **given: Any) -> Any:
        out = make(**{k: _resolved(v, xs, at) for k, v in given.items()})
        return out.astype(_float_of(xs[0])) if like else out

    _register(Op(name, 0, "", fn, params=params, positional=tuple(params),
                 spell=spell, shape=_constant(dims, integral), reads=_inputs_read,
                 elastic_from=(), integral=integral, helpers=(_float_of,),
                 traits=Trait.NO_DERIVATIVE | Trait.FRESH))


_SHAPED = {"shape": None}
_make("zeros", lambda p: f"np.zeros({p['shape']})", lambda shape: np.zeros(shape),
      _shape_param, _SHAPED)
_make("ones", lambda p: f"np.ones({p['shape']})", lambda shape: np.ones(shape),
      _shape_param, _SHAPED)
_make("full", lambda p: f"np.full({p['shape']}, {p['fill_value']})",
      lambda shape, fill_value: np.full(shape, float(fill_value)), _shape_param,
      {"shape": None, "fill_value": None})
_make("eye", lambda p: "np.eye(" + p["N"] + (", " + p["M"]) * (p["M"] != "None")
      + (", k=" + p["k"]) * (p["k"] != "0") + ")",
      lambda N, M, k: np.eye(N, M, k), _eye_dims, {"N": None, "M": None, "k": 0})
_make("arange", lambda p: "np.arange(" + ", ".join(
          v for v in (p["start"], p["stop"], p["step"]) if v != "None") + ")",
      lambda start, stop, step: np.arange(start, stop, step), _arange_dims,
      {"start": None, "stop": None, "step": None}, _integral)
