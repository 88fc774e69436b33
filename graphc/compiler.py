"""autodiff -> passes -> emit -> a callable backed by the emitted module itself.

The callable runs exactly the source a user would save, executed as a module of its
own, so what is tested is what is shipped.
"""

from __future__ import annotations

import builtins
import copy
import inspect
import itertools
import linecache
import math
import operator
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

from .autodiff import transform as autodiff
from .backend import BACKENDS, backend_named, module
from .backend.base import Backend
from .backend.emit import Emission
from .errors import GraphcError, InputError
from .files import write_atomic
from .ir.collector import paused_gc
from .ir.graph import Graph
from .ops import Trait
from .ops.directions import TANGENT_LIMIT
from .ops.shapes import format_shape, not_broadcasting
from .optimize import passes as passes_mod

_MODES = {"reverse": autodiff.reverse, "forward": autodiff.forward}
FLOATS_LIMIT = 5_000
"""Graphs up to this many nodes get a Python-float fast path (per-call latency matters
for small graphs; for big ones it would only double the emitting)."""
_counter = itertools.count()


def load_module(source: str) -> ModuleType:
    """Run emitted source as a fresh module (its lines show in tracebacks)."""
    name = f"graphc_generated_{next(_counter)}"
    filename = f"<graphc {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = ModuleType(name)
    exec(builtins.compile(source, filename, "exec", dont_inherit=True), module.__dict__)
    return module


class CompiledFunction:
    """``fn(*inputs) -> (value, {input: gradient})``, plus the source that computes it.

    >>> import graphc as gc
    >>> fn = gc.compile(gc.parse("e = (a + b) * (b + 1)"))
    >>> value, grads = fn(a=2.0, b=1.0)
    >>> float(value), float(grads["a"]), float(grads["b"])
    (6.0, 2.0, 5.0)
    """

    def __init__(self, graph: Graph, forward_graph: Graph, grad_graph: Graph, source: str):
        self.graph = graph
        self.forward_graph = forward_graph
        self.grad_graph = grad_graph
        self.source = source
        self.inputs = list(graph.inputs)
        self.wrt = list(grad_graph.meta.wrt)
        self.of = grad_graph.meta.of
        self.mode = grad_graph.meta.mode
        self.module = load_module(source)
        self._stacked = [grad_graph.args(n)[0] for n in grad_graph.nx
                         if grad_graph.attrs(n)["op"] == "basis"]
        self.unsummed: str | None = None  # ``summed``'s message, for the module's check
        self.__signature__ = signature(self.inputs)
        self._pick = _picker(graph)
        self.converts = True  # fn() checks and converts inputs (Backend.converts)

    def _floats(self, args: tuple, kwargs: dict) -> tuple | None:
        """The values in input order where every input is given once as a Python float
        and ``bind`` would pass them unchanged (``_picker``); None for any other call.
        Costs a fraction of ``bind``, for per-call latency on scalar graphs."""
        if self._pick is None:
            return None
        if kwargs:
            if args or len(kwargs) != len(self.inputs):
                return None
            try:
                args = self._pick(kwargs)
            except KeyError:
                return None
        elif len(args) != len(self.inputs):
            return None
        return args if set(map(type, args)) == _FLOAT else None

    def __call__(self, /, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        if (given := self._floats(args, kwargs)) is not None:
            args, kwargs = given, {}
        else:
            values = self.graph.bind(args, kwargs, check=self.converts)
            for w in self._stacked:  # the emitted _basis checks too, with a ValueError
                n = math.prod(np.shape(values[w]))  # torch's .size is a method
                if n * n > TANGENT_LIMIT:
                    raise InputError(f"forward mode: input {w} of {n} elements carries {n} "
                                     f"directions ({n * n:,} numbers at least); use "
                                     "mode='reverse'")
        try:
            return self._run(self.module.value_and_grad, args, kwargs)
        except ValueError as exc:  # the module's _scalar_value: an output not a scalar
            if self.unsummed and "is not a scalar" in str(exc):
                raise InputError(f"at these inputs {self.unsummed}") from None
            raise

    def forward(self, /, *args: Any, **kwargs: Any) -> Any:
        """The output value alone."""
        if (given := self._floats(args, kwargs)) is not None:
            return self._run(self.module.forward, given, {})
        self.graph.bind(args, kwargs, check=self.converts)
        return self._run(self.module.forward, args, kwargs)

    def _run(self, function: Callable, args: tuple, kwargs: dict) -> Any:
        """``function`` of the module on the values as given (``bind`` has checked them),
        so fn() and the saved module run the same code on the same values."""
        if kwargs:
            named = dict(zip(self.inputs, args), **kwargs)
            args = tuple(named[n] for n in self.inputs)
        try:
            return function(*args)
        except IndexError as exc:  # an index input past its axis (x[i], x[labels])
            raise InputError(f"an index is out of range: {exc}") from None
        except TypeError as exc:  # backend="array_api" converts inputs in the module (_weak)
            if not str(exc).startswith("an input of dtype"):
                raise
            raise InputError(str(exc)) from None
        except ValueError as exc:  # an undeclared input that meets a declared one
            raise not_broadcasting(dict(zip(self.inputs, args)), _declared(self.graph),
                                   exc) from None

    def save(self, path: str | os.PathLike) -> None:
        """Write the standalone module (imports numpy only; array_api_compat only for
        backend="array_api")."""
        write_atomic(path, self.source)

    def report(self) -> dict[str, int]:
        """Which rewrites fired and what the passes removed, with counts.

        >>> import graphc as gc
        >>> gc.compile(gc.parse("y = log(sigmoid(x))")).report()["log(sigmoid(x)) -> -softplus(-x)"]
        1
        """
        return dict(self.grad_graph.meta.report)

    def __repr__(self) -> str:
        return (f"<graphc.CompiledFunction d{self.of}/d({', '.join(self.wrt)}) "
                f"{self.mode} mode, {len(self.grad_graph.nx)} nodes>")


def signature(inputs: list[str], keywords: tuple[str, ...] = ()) -> inspect.Signature | None:
    """What ``inspect.signature(fn)`` and ``help(fn)`` show: the graph's inputs, then the
    keyword-only arguments of a derivative (``y_bar``); None where an input's name is
    not a Python identifier (``fn(*args, **kwargs)`` then)."""
    kinds = [inspect.Parameter.POSITIONAL_OR_KEYWORD] * len(inputs) \
        + [inspect.Parameter.KEYWORD_ONLY] * len(keywords)
    try:
        return inspect.Signature([inspect.Parameter(name, kind)
                                  for name, kind in zip([*inputs, *keywords], kinds)])
    except ValueError:  # not an identifier, a keyword, or a name twice
        return None


_REPLACED = {"fuse": "fuse='numba' is backend='numba'",
             "blocks": "blocks=True is backend='blocks'"}


def compile(g: Graph, wrt: str | list[str] | None = None, of: str | None = None,
            mode: str = "reverse", *, optimize: bool = True,
            passes: tuple[str, ...] | None = None, backend: str = "numpy",
            progress: bool | None = None, **replaced: Any) -> CompiledFunction:
    """Compile ``g`` into NumPy code for the value of ``of`` and its gradient.

    ``wrt`` defaults to every input; ``mode`` is ``"reverse"`` or ``"forward"``.
    ``optimize=False`` turns every pass but dead-node removal off; ``passes`` picks
    them by name (see ``graphc.optimize.passes.PASSES``). The forward graph is rewritten first
    (numerically stable forms, folding), then differentiated, then optimized again.
    ``backend`` prints it (``graphc.backend.BACKENDS``): ``"numpy"``, whole-array lines
    with memory planned; ``"numba"``, a function whose every op is elementwise, or a
    full sum of such arrays, runs big same-shaped float64 or float32 arrays through
    one loop that numba compiles: one pass over memory, on all cores, no temporary arrays (up to
    ``loops.LIMIT`` nodes in the gradient; numba takes minutes to compile bigger
    loops); ``"blocks"``, such functions evaluate big same-shaped float arrays in
    cache-sized blocks on all cores: the same values, but for the order in which sums
    are added; ``"auto"``, numba's where numba is installed (its module runs small
    arrays and floats through the NumPy lines), numpy's elsewhere (see
    docs/performance.md). ``fn.report()`` gives the compile time. ``progress`` shows
    a progress bar on stderr (tqdm, when installed); by default for graphs over
    20,000 nodes on a terminal.
    """
    for name in replaced:
        if name not in _REPLACED:
            raise TypeError(f"compile() got an unexpected keyword argument {name!r}")
        raise GraphcError(f"{name}= was replaced by backend=: {_REPLACED[name]} "
                          f"(backends: {', '.join(BACKENDS)})")
    chosen_backend = backend_named(backend)
    if mode not in _MODES:
        raise GraphcError(f"mode={mode!r}: expected 'reverse' or 'forward'")
    out = g.output(of)
    g.order()  # raises CycleError on a cyclic graph
    chosen = (passes_mod.PASSES if passes is None else tuple(passes)) if optimize else ("dce",)
    if unknown := set(chosen) - set(passes_mod.PASSES):
        raise GraphcError(f"unknown pass {sorted(unknown)[0]!r} "
                          f"(passes: {', '.join(passes_mod.PASSES)})")
    unsummed = summed(g, out, autodiff.resolve_wrt(g, wrt))
    start = time.perf_counter()
    fwd, grad, source = pipeline(g, out, lambda fwd: _MODES[mode](fwd, wrt, out), chosen,
                                 chosen_backend, progress,
                                 module.Entry(scalar=True) if unsummed else module.VALUE_AND_GRAD)
    fn = CompiledFunction(g, fwd, grad, source)
    fn.unsummed = unsummed
    # numba compiles a loop at its first call on big arrays: not counted here
    grad.meta.report["compile time (ms)"] = round(1000 * (time.perf_counter() - start))
    fn.converts = chosen_backend.converts
    return fn


def summed(g: Graph, out: str, wrt: list[str]) -> str | None:
    """No silent sum: a gradient is of a scalar, or of an output elementwise in the
    inputs differentiated, up to broadcasting (each element's derivative,
    ``grads["a"][i]`` that of ``out[i]``; the gradient graph of such a graph is one
    too); any other output would be summed over its elements unasked. A
    GraphcError; for an output whose shape is known only at call time, the message
    that fn() raises when it is not a scalar then."""
    if g.shape(out) == () and not g.elastic(out):
        return None
    live = g.upstream([out]) & g.downstream([w for w in wrt if g.has(w)])
    if not (bad := [n for n in g.order() if n in live and not g.op(n).pointwise
                    and Trait.IDENTITY not in g.op(n).traits]):  # sum_to: up to broadcasting
        return None
    shape = "" if g.elastic(out) else f" (shape {format_shape(g.shape(out))})"
    message = (f"{g.shown(out)} is not a scalar{shape} and not elementwise in "
               f"{', '.join(wrt)} ({g.attrs(bad[0])['op']} in node {g.shown(bad[0])!r}): "
               f"its gradient would silently sum its elements. Differentiate "
               f"sum({g.shown(out)}) for that sum, use gc.jacobian(g) for every "
               "derivative, or gc.vjp(g) with a cotangent y_bar")
    if g.elastic(out):
        return message
    raise GraphcError(message)


def pipeline(g: Graph, out: str, differentiate: Callable[[Graph], Graph],
             chosen: tuple[str, ...] = passes_mod.PASSES, backend: Backend | None = None,
             progress: bool | None = None, entry: module.Entry = module.VALUE_AND_GRAD
             ) -> tuple[Graph, Graph, str]:
    """The forward graph of ``out`` rewritten, ``differentiate``d, optimized again and
    emitted (the ``entry`` function beside ``forward``): (forward, derivative, source)."""
    backend = backend or backend_named("numpy")
    if progress is None:
        progress = len(g.nx) > 20_000 and sys.stderr.isatty()
    with paused_gc(), _phases(progress, len(g.nx)) as phase:
        fwd = copy.copy(g)  # optimize only reads it and builds a new graph: no deep copy
        fwd.outputs = [out]
        fwd = passes_mod.optimize(fwd, chosen)
        phase("differentiating")
        grad = differentiate(fwd)
        phase("optimizing")
        grad = passes_mod.optimize(grad, chosen)
        phase("emitting")
        title = f"Value and {entry.title} of {_safe(out)} with respect to " \
                f"{', '.join(_safe(w) for w in grad.meta.wrt) or 'nothing'}."
        floats = passes_mod.for_floats(grad, chosen) if len(grad.nx) <= FLOATS_LIMIT and all(
            grad.shape(i) == () for i in grad.inputs
            if grad.attrs(i)["params"]["declared"]) else None  # every input may be a float
        splits = (backend.split(fwd, passes_mod.for_blocks),
                  backend.split(grad, passes_mod.for_blocks)) \
            if backend.takes(grad) else (None, None)
        emission = Emission(backend, "memory" in chosen, floats, splits)
        source = module.module_source(fwd, grad, title, emission, entry)
        grad.meta.report = {**grad.meta.report, **backend.report(emission)}
        phase("loading")
        return fwd, grad, source


@contextmanager
def _phases(show: bool, nodes: int) -> Iterator[Callable[[str], None]]:
    """A progress bar over compile's five phases (tqdm's, when it is installed)."""
    if show:
        try:
            from tqdm import tqdm
        except ImportError:
            show = False
    if not show:
        yield lambda name: None
        return
    with tqdm(total=5, desc=f"compiling {nodes:,} nodes", unit="phase", file=sys.stderr,
              leave=False) as bar:
        bar.set_postfix_str("rewriting")

        def phase(name: str) -> None:
            bar.update(1)
            bar.set_postfix_str(name)

        yield phase


_FLOAT = {float}


def _picker(g: Graph) -> Callable[[dict], tuple] | None:
    """The inputs' values in order from keyword arguments, where Python floats for
    every input pass ``bind`` unchanged: no integer input, none declared with a shape
    (a float's is ``()``), a tuple even for one input; None where they may not."""
    declared = _declared(g)
    if not g.inputs or any(g.integer(n) or declared[n] not in (None, ()) for n in g.inputs):
        return None
    pick = operator.itemgetter(*g.inputs)
    return pick if len(g.inputs) > 1 else lambda kwargs: (pick(kwargs),)


def _declared(g: Graph) -> dict[str, tuple | None]:
    """Each input's declared shape; None for an undeclared input."""
    return {n: g.shape(n) if g.attrs(n)["params"]["declared"] else None for n in g.inputs}


def _safe(name: str) -> str:
    """A name fit for a docstring: identifiers as they are, anything else replaced."""
    return name if name.isidentifier() and name.isascii() else "(unnamed)"
