"""Auto: numba's backend where numba is installed and the gradient may get a loop (at
most ``loops.LIMIT`` nodes), whose module runs big same-shaped float arrays through
the loop and everything else through the NumPy lines; the NumPy backend's module
otherwise, which needs NumPy alone. Not the default (docs/performance.md, Backends)."""

from __future__ import annotations

import importlib.util

from ..ir.graph import Graph
from . import loops
from .numba_backend import Numba


class Auto(Numba):
    name = "auto"
    help = "numba's loop where numba is installed and the function fuses, else numpy"
    needs = None  # type: ignore[assignment]  # numba only where installed: takes()

    def takes(self, grad: Graph) -> bool:
        """Not without numba, nor over ``loops.LIMIT`` (numba's compile would take
        minutes): the NumPy lines, without the numba backend's warning."""
        return len(grad.nx) <= loops.LIMIT and installed() and super().takes(grad)


def installed() -> bool:
    """Whether numba can be imported here (looked up at each compile: a test may hide it)."""
    return importlib.util.find_spec("numba") is not None


AUTO = Auto()
