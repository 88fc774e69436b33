"""Pausing Python's cyclic garbage collector while big graphs are built, where its
repeated scans of a growing heap would make building superlinear."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_MANY_OBJECTS = 100_000  # made in a pause: past this, their collection is worth skipping


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building makes many small objects and no cycles; what survives a big build goes to the
    oldest generation (``gc.freeze`` + ``unfreeze``), unless the program froze objects itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > _MANY_OBJECTS and gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
