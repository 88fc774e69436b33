"""Running a graph in the interpreter: call arguments matched to inputs and checked,
then every node evaluated with its op's NumPy function (``Graph.evaluate``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..ops import shapes
from ..ops.values import CONSTANTS, _check_shape, _inputs

if TYPE_CHECKING:
    from .graph import Graph


def bind(g: Graph, args: tuple = (), kwargs: dict | None = None, check: bool = True
         ) -> dict[str, Any]:
    """Match call arguments to inputs and (``check``) check them; raises ``InputError``.
    Unchecked, values pass untouched (backend="array_api": a dask array stays lazy) and
    only declared shapes are checked."""
    names = g.inputs
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise InputError(f"input values are a mapping name -> value, got {type(kwargs).__name__}")
    if len(args) > len(names):
        raise InputError(f"{len(args)} positional values given, the graph has "
                         f"{len(names)} inputs ({', '.join(names)})")
    values = dict(zip(names, args))
    for k, v in (kwargs or {}).items():
        if k not in names:
            raise InputError(f"unexpected input {k!r} (inputs: {', '.join(names)})" + (
                f"; in .gc text {k} is NumPy's constant unless the text assigns or declares "
                f"it: declare `{k}: scalar` (or its shape) to make it an input"
                if k in CONSTANTS else ""))
        if k in values:
            raise InputError(f"input {k!r} given twice")
        values[k] = v
    if missing := [n for n in names if n not in values]:
        raise InputError(f"missing input{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if not check:  # untouched, but a declared shape still holds (else a wrong number)
        dims: dict[str, int] = {}
        for n, shape in zip(names, _declared(g, names)):
            actual = tuple(getattr(values[n], "shape", ()))
            if shape is not None and all(isinstance(d, int) for d in actual):  # dask: nan
                try:
                    _check_shape(n, actual, shape, dims)
                except ValueError as exc:
                    raise InputError(str(exc)) from None
        return values
    ints = [n for n in names if g.integer(n)]
    try:  # the emitted module's own rule
        checked = _inputs(names, _declared(g, names), [values[n] for n in names], ints)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    return dict(zip(names, checked))  # shapes that meet in no op may differ (a.T * b)


def evaluate(g: Graph, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run the graph in the interpreter: node name -> forward value.

    >>> import graphc as gc
    >>> float(gc.parse("e = (a + b) * (b + 1)").evaluate(a=2.0, b=1.0)["e"])
    6.0
    """
    values = bind(g, args, kwargs)
    try:
        return run(g, dict(values))
    except ValueError as exc:  # an undeclared input that meets a declared one
        declared = dict(zip(g.inputs, _declared(g, g.inputs)))
        raise shapes.not_broadcasting(values, declared, exc) from None


def _declared(g: Graph, names: list[str]) -> list[shapes.Shape | None]:
    return [g.shape(n) if g.attrs(n)["params"]["declared"] else None for n in names]


def run(g: Graph, env: dict[str, Any]) -> dict[str, Any]:
    """Evaluate every node from already checked input values (``env`` is extended); a
    node's value already in ``env`` is kept (verify holds stopped gradients so)."""
    name = None
    try:
        for name in g.order():
            d = g.nx.nodes[name]
            if name in env:
                continue
            if d["op"] == "const":
                env[name] = d["params"]["value"]
            else:
                fn = g.op(name).fn
                env[name] = fn(*(env[a] for a in d["args"]), **d["params"])
    except IndexError as exc:  # an index input past its axis (x[i], x[labels])
        raise InputError(f"node {name}: an index is out of range: {exc}") from None
    return env
