"""Reverse and forward mode as graph transforms: a graph in, its gradient graph out."""

from .transform import adjoint_values, forward, reverse

__all__ = ["adjoint_values", "forward", "reverse"]
