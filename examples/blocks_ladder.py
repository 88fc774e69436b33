"""Blocked evaluation on all cores: the 30-rung ladder x = sin(x)*cos(x) + x.

Compiles the ladder's gradient twice, whole and with ``backend="blocks"``, checks that
both give the same numbers to the last bit, and times them on 100,000 elements.
Run: ``python examples/blocks_ladder.py``.
"""

import time

import numpy as np

import graphc as gc

g = gc.parse("x: [N]\n" + "x = sin(x) * cos(x) + x\n" * 30)
whole, blocked = gc.compile(g), gc.compile(g, backend="blocks")
x = np.random.default_rng(0).uniform(-2.0, 2.0, 100_000)

value, grads = whole(x)
value_b, grads_b = blocked(x)
assert np.array_equal(value, value_b) and np.array_equal(grads["x"], grads_b["x"])


def best_of(fn, repeats=7):
    fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


print(f"whole:  {best_of(whole):.1f} ms per value and gradient")
print(f"blocks: {best_of(blocked):.1f} ms (same numbers, all cores)")
