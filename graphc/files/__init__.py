"""Files a command reads and writes, such that a failed or interrupted command leaves
nothing behind: bounded reading (``reading``), all-or-nothing writing (``writing``),
signals that raise so cleanups run (``signals``)."""

from .reading import read_text
from .signals import Interrupted, signals_raise
from .writing import Outputs, writable, write_atomic

__all__ = ["Interrupted", "Outputs", "read_text", "signals_raise", "writable", "write_atomic"]
