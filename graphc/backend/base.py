"""What a backend is: one object that says which graphs it takes, how it prints them
and what it ships and reports. ``emit.py`` prints every function as NumPy; a backend
adds, where it takes a graph, a branch that hands big arrays to its own kernel."""

from __future__ import annotations

import builtins
import inspect
import keyword
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import GraphcWarning
from ..ir.graph import Graph
from ..ops import OPS, Op, values
from . import blocks, memory

if TYPE_CHECKING:
    from .emit import Emission, Function
    from .names import Namer

PUBLIC = ("forward", "value_and_grad")
RULE = ("_NAMES", "_DECLARED", "_INTS")  # module constants: input names, declared
# shapes, integer inputs (only where there are some)
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) \
    | {"np", *PUBLIC, memory._one_dtype.__name__, *RULE} \
    | {f.__name__ for op in OPS.values() for f in op.helpers} \
    | {f.__name__ for f in (*values.HELPERS, values._given, values._same_shape,
                            values._scalar_value)}  # gc.jvp's, gc.vjp's, compile's
"""Names every emitted module defines or reads: no parameter may shadow them."""


@dataclass
class Shipped:
    """What a backend adds to the module: helpers' sources, a docstring paragraph,
    standard modules and packages imported, module-level names."""

    helpers: tuple[str, ...] = ()
    doc: str = ""
    imports: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    names: str = ""


class Backend:
    """A backend. This base takes no graph (every function is the NumPy one); a backend
    overrides what it adds."""

    name: str
    help: str  # one line, for ``graphc compile --help``
    needs: str | None = None  # a package it needs installed
    reserved: frozenset[str] = RESERVED
    # inputs checked and converted to NumPy (``_inputs``), memory planned, a Python-float
    # path; False: inputs pass untouched (``spelled``, ``prologue``, ``assembled``)
    converts: bool = True

    def too_big(self) -> tuple[int, str] | None:
        """Gradient nodes over which the backend declines (the NumPy code runs), and why."""
        return None

    def takes(self, grad: Graph) -> bool:
        """Whether this compile (of gradient ``grad``) may split at all: not with integer
        inputs (indices), which no kernel reads."""
        if any(grad.integer(i) for i in grad.inputs):
            return False
        limited = self.too_big()
        if limited is None or len(grad.nx) <= limited[0]:
            return True
        limit, why = limited
        warnings.warn(f"backend={self.name!r}: the gradient has {len(grad.nx):,} nodes, "
                      f"over {limit:,}; {why}, so arrays run the NumPy code", GraphcWarning,
                      stacklevel=3)
        return False

    def split(self, g: Graph, flattened: Callable[[Graph], Graph]) -> blocks.Split | None:
        """How ``g`` runs in this backend's kernel, or None (NumPy alone). ``flattened``
        specialises a graph to one block (``passes.for_blocks``)."""
        return None

    def branch(self, split: blocks.Split, fn: Function, emission: Emission, one_dtype: bool
               ) -> tuple[list[str], str]:
        """The lines of ``fn`` running ``fn.split`` in the kernel, and the kernel's
        source; ``one_dtype``: ``fn`` brought its inputs to one dtype. A backend that
        splits defines it."""
        raise NotImplementedError(f"backend {self.name!r} splits graphs but prints no "
                                  "branch for them: define Backend.branch")

    def float_branch(self, fn: Function, emission: Emission, namer: Namer
                     ) -> tuple[list[str], str] | None:
        """The lines of public function ``fn`` (its names from ``namer``) on Python floats,
        and the source they call; None: the NumPy lines run on floats. With a branch, the
        NumPy lines are a function of their own (``emit.numpy_name``; reserve it)."""
        return None

    def shipped(self, functions: list[str], emission: Emission) -> Shipped:
        """What the module needs beside ``functions`` (their sources)."""
        return Shipped()

    def spelled(self, op: Op | None, code: str) -> str:
        """``op``'s template (or a literal's text, ``op`` None) as this backend prints it."""
        return code

    def prologue(self, params: list[str], floats: list[str]) -> list[str]:
        """The first lines of every function that does not convert its inputs
        (``floats``: the parameters that are not integer inputs)."""
        return []

    def assembled(self, title: str, functions: list[str], ops: dict[str, Op],
                  scalar: bool) -> str | None:
        """The whole module around ``functions``, or None: module.py's NumPy layout."""
        return None

    def report(self, emission: Emission) -> dict[str, int]:
        """What ``fn.report()`` adds to the rewrites: what the gradient's memory plan did."""
        return dict(emission.counts.get("value_and_grad", {}))


def sources(functions: tuple[Callable, ...], decorator: str = "") -> dict[Callable, str]:
    """Each function's source, read once at import: an edit or upgrade of graphc under
    a running process would make inspect read wrong lines later."""
    return {f: decorator + inspect.getsource(f) for f in functions}

