"""From an optimized graph to the source of a standalone module. A backend is one
object (base.py) chosen by name from ``BACKENDS``: NumPy lines with a memory plan
(the default), numba loops, block kernels, or the Array API's lines for any array
library. Adding one is a module and a line here."""

from __future__ import annotations

import importlib.util

from ..errors import GraphcError
from .array_api import ARRAY_API
from .auto_backend import AUTO
from .base import Backend
from .blocks_backend import BLOCKS
from .numba_backend import NUMBA
from .numpy_backend import NUMPY

BACKENDS: dict[str, Backend] = {b.name: b for b in (NUMPY, NUMBA, BLOCKS, AUTO, ARRAY_API)}


def backend_named(name: str) -> Backend:
    """The backend called ``name``; a clear error for an unknown one, or one whose
    package is not installed."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise GraphcError(f"backend={name!r}: expected one of "
                          f"{', '.join(repr(b) for b in BACKENDS)}")
    found = BACKENDS[name]
    if found.needs is not None and importlib.util.find_spec(found.needs) is None:
        raise GraphcError(f"backend={name!r} needs {found.needs}, which is not installed "
                          f"(pip install {found.needs})")
    return found
