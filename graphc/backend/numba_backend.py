"""Numba: an elementwise function (or full sums of one) runs big same-shaped float64
arrays through one loop that numba compiles (loops.py, kernels.py); gradients over
``loops.LIMIT`` nodes, and ops it cannot spell for one float, run the NumPy lines.
On Python floats a scalar graph runs compiled (scalar_jit.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..ir.graph import Graph
from . import blocks, kernels, loops, scalar_ir, scalar_jit, vector_math
from .base import RESERVED, Backend, Shipped, sources
from .emit import numpy_name

if TYPE_CHECKING:
    from .emit import Emission, Function
    from .names import Namer

_SOURCES = sources(loops.HELPERS)
_LIBM = tuple(sources(vector_math.LIBM).values())
(_ADDER,) = sources((vector_math._adder,)).values()
_NATIVE = sources(scalar_ir.HELPERS)
_JITTED = sources(loops.JITTED, '@numba.njit(error_model="numpy")\n')


class Numba(Backend):
    name = "numba"
    help = ("elementwise functions of big float arrays in one numba loop on all cores; "
            "scalar graphs on Python floats compiled to native code")
    needs = "numba"
    reserved = RESERVED | loops.NAMES | {"threading"} \
        | {name(f) for f in ("forward", "value_and_grad")
           for name in (scalar_jit.driver_name, numpy_name)} \
        | {f.__name__ for f in scalar_ir.HELPERS} | {"ctypes"} | vector_math.NAMES

    def too_big(self) -> tuple[int, str]:
        return loops.LIMIT, "numba would take minutes or hours to compile one loop of them"

    def split(self, g: Graph, flattened: Callable[[Graph], Graph]) -> blocks.Split | None:
        found = kernels.flat_split(g, flattened, shifts=True)
        return found if found is not None and loops.fusable(found) else None

    def branch(self, split: blocks.Split, fn: Function, emission: Emission, one_dtype: bool
               ) -> tuple[list[str], str]:
        return (kernels.branch_source(split, fn.name, emission, fn.returns, loop=True),
                kernels.loop_source(split, fn.name, emission))

    def float_branch(self, fn: Function, emission: Emission, namer: Namer
                     ) -> tuple[list[str], str] | None:
        return scalar_jit.float_branch(fn, emission, namer)

    def shipped(self, functions: list[str], emission: Emission) -> Shipped:
        splits = [s for s in emission.splits if s is not None]
        floats = any(scalar_jit.DECORATOR in text for text in functions)
        native = any("= _Native(" in text for text in functions)
        if not splits and not floats and not native:
            return Shipped()
        doc = ("Big same-shaped float64 (or float32) arrays go through one loop compiled\n"
               "by numba on all cores (_fused; compiled at its first call): arrays by the same\n"
               "formulas, elementwise functions from the C library (equal up to rounding),\n"
               "without NumPy's floating-point warnings. sin, cos, exp, log... vectorise\n"
               "with glibc's libmvec where present (within 4 ulp; GRAPHC_LIBMVEC=0: not).\n"
               ) if splits else ""
        if any(s.sums for s in splits):
            doc += "Sums are added in another order: equal up to rounding.\n"
        if floats or native:
            by = "LLVM (llvmlite, numba's)" if native else "numba"
            doc += (f"Python floats go through float code compiled by {by} at its\n"
                    "first call (_*_floats): elementwise functions from the C library\n"
                    "(equal up to rounding).\n")
        jitted = [source for f, source in _JITTED.items()
                  if any(f"{f.__name__}(" in text for text in functions)]
        libm, adds = vector_math.defined(functions)
        imports = ("sys", "threading") * bool(splits) + ("os", "platform") * bool(libm) \
            + ("ctypes",) * native \
            + (("math",) if any("math." in text for text in (*functions, *jitted))
               else ())  # math.erf, math.lgamma (loops.SCALAR)
        vector = (*((*_LIBM, libm) if libm else ()), *((_ADDER, adds) if adds else ()))
        return Shipped((*(_SOURCES.values() if splits else ()), *jitted, *vector,
                        *(_NATIVE.values() if native else ())), doc, imports, ("numba",),
                       (loops.SHIPPED if splits else "")
                       + (vector_math.SHIPPED if libm else ""))

    def report(self, emission: Emission) -> dict[str, int]:
        return {**super().report(emission),
                "functions run as numba loops": sum(s is not None for s in emission.splits)}


NUMBA = Numba()
