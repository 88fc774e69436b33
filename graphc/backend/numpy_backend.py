"""The default backend: whole-array NumPy lines, with memory planned (memory.py):
lines write into arrays that are dead by then (``out=``), and inputs of mixed dtypes
are brought to one so that they can. Every graph prints this way; it ships no kernel."""

from __future__ import annotations

from .base import Backend


class NumPy(Backend):
    name = "numpy"
    help = "whole-array NumPy lines, memory planned (the default)"


NUMPY = NumPy()
