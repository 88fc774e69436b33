"""Numba: an elementwise function (or full sums of one) runs big same-shaped float64
arrays through one loop that numba compiles (loops.py, kernels.py); gradients over
``loops.LIMIT`` nodes, and ops it cannot spell for one float, run the NumPy lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..ir.graph import Graph
from . import blocks, kernels, loops
from .base import RESERVED, Backend, Shipped, sources

if TYPE_CHECKING:
    from .emit import Emission, Function

_SOURCES = sources(loops.HELPERS)
_JITTED = sources(loops.JITTED, '@numba.njit(error_model="numpy")\n')


class Numba(Backend):
    name = "numba"
    help = "elementwise functions of big float arrays in one numba loop on all cores"
    needs = "numba"
    reserved = RESERVED | loops.NAMES | {"threading"}

    def too_big(self) -> tuple[int, str]:
        return loops.LIMIT, "numba would take minutes or hours to compile one loop of them"

    def split(self, g: Graph, flattened: Callable[[Graph], Graph]) -> blocks.Split | None:
        found = kernels.flat_split(g, flattened, shifts=True)
        return found if found is not None and loops.fusable(found) else None

    def branch(self, split: blocks.Split, fn: Function, emission: Emission, one_dtype: bool
               ) -> tuple[list[str], str]:
        return (kernels.branch_source(split, fn.name, emission, fn.returns, loop=True),
                kernels.loop_source(split, fn.name, emission))

    def shipped(self, functions: list[str], emission: Emission) -> Shipped:
        splits = [s for s in emission.splits if s is not None]
        if not splits:
            return Shipped()
        doc = ("Big same-shaped float64 (or float32) arrays go through one loop compiled\n"
               "by numba on all cores (_fused; compiled at its first call): arrays by the same\n"
               "formulas, elementwise functions from the C library (equal up to rounding),\n"
               "without NumPy's floating-point warnings.\n")
        if any(s.sums for s in splits):
            doc += "Sums are added in another order: equal up to rounding.\n"
        jitted = [source for f, source in _JITTED.items()
                  if any(f"{f.__name__}(" in text for text in functions)]
        imports = ("sys", "threading") + (("math",) if any("math." in text for text in
                                                             (*functions, *jitted))
                                          else ())  # math.erf, math.lgamma (loops.SCALAR)
        return Shipped((*_SOURCES.values(), *jitted), doc, imports, ("numba",), loops.SHIPPED)

    def report(self, emission: Emission) -> dict[str, int]:
        return {**super().report(emission),
                "functions run as numba loops": sum(s is not None for s in emission.splits)}


NUMBA = Numba()
