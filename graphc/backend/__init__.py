"""From an optimized graph to the source of a standalone module: NumPy lines with a
memory plan, numba loops, and blocked kernels."""
