"""Compile time per node for random scalar DAGs of 1k, 10k and 100k nodes.

The graph algorithms are linear and sympy work is cached per op pattern, so the time
per node should stay flat as graphs grow. Writes docs/compile_time.md.

    python benchmarks/compile_time.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import gc as pygc
import platform
import random
import time
from pathlib import Path

import graphc as gc
from graphc.autodiff import transform as autodiff
from graphc.backend import BACKENDS, module
from graphc.backend.emit import Emission
from graphc.optimize import passes

UNARY = ["sin", "cos", "tanh", "exp", "sigmoid", "softplus", "relu"]
BINARY = ["+", "-", "*"]


def random_dag_text(n: int, n_inputs: int = 8, seed: int = 0) -> str:
    """A .gc program of about n nodes: random ops on random earlier nodes (fan-out,
    shared operands), kept numerically tame by mixing in a tanh every few lines."""
    rng = random.Random(seed)
    names = [f"x{i}" for i in range(n_inputs)]
    lines = []
    for i in range(n):
        a = names[rng.randrange(max(0, len(names) - 50), len(names))]
        if rng.random() < 0.5:
            b = names[rng.randrange(len(names))]
            expr = f"{a} {rng.choice(BINARY)} {b}"
            expr = f"tanh({expr})" if i % 4 == 0 else expr
        else:
            expr = f"{rng.choice(UNARY)}({a})"
            expr = f"tanh({expr})" if expr.startswith(("exp", "softplus")) else expr
        lines.append(f"v{i} = {expr}")
        names.append(f"v{i}")
    lines.append(f"out = {' + '.join(names[-8:])}")
    return "\n".join(lines) + "\n"


def measure(n: int) -> dict[str, float]:
    """gc.compile first, on a clean heap; then its phases one by one, as it runs them
    (optimize the forward graph, differentiate, optimize the gradient, emit)."""
    text = random_dag_text(n)
    t0 = time.perf_counter()
    g = gc.parse(text)
    t1 = time.perf_counter()
    fn = gc.compile(g)
    t2 = time.perf_counter()
    fn(*[0.1 * (i + 1) for i in range(len(g.inputs))])
    del fn
    pygc.collect()
    t3 = time.perf_counter()
    fwd = passes.optimize(g.copy())
    t4 = time.perf_counter()
    grad = autodiff.reverse(fwd)
    t5 = time.perf_counter()
    grad = passes.optimize(grad)
    t6 = time.perf_counter()
    source = module.module_source(fwd, grad, "benchmark", Emission(BACKENDS["numpy"], plan=False))
    t7 = time.perf_counter()
    return {"nodes": len(g.nx), "grad_nodes": len(grad.nx), "lines": source.count("\n"),
            "parse": t1 - t0, "reverse": t5 - t4, "optimize": (t4 - t3) + (t6 - t5),
            "emit": t7 - t6, "compile": t2 - t1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--out", default=str(Path(__file__).parent.parent / "docs" /
                                             "compile_time.md"))
    args = parser.parse_args()
    rows = []
    for n in map(int, args.sizes.split(",")):
        r = measure(n)
        rows.append(r)
        print(f"{r['nodes']:>7} nodes: compile {r['compile']:.2f} s "
              f"({1e6 * r['compile'] / r['nodes']:.0f} us/node)", flush=True)
    head = ("| nodes | gradient nodes | parse s | reverse s | optimize s | emit s | "
            "gc.compile s | gc.compile us/node |\n|---:|---:|---:|---:|---:|---:|---:|---:|")
    body = "\n".join(
        f"| {r['nodes']:,} | {r['grad_nodes']:,} | {r['parse']:.2f} | {r['reverse']:.2f} | "
        f"{r['optimize']:.2f} | {r['emit']:.2f} | {r['compile']:.2f} | "
        f"{1e6 * r['compile'] / r['nodes']:.0f} |" for r in rows)
    Path(args.out).write_text(
        "# Compile time\n\nRandom scalar DAGs (`benchmarks/compile_time.py`: random unary "
        "and binary ops on earlier nodes, with fan-out and shared operands). "
        "`gc.compile` = reverse mode + optimizer + emitter + loading the module.\n\n"
        f"{head}\n{body}\n\nMachine: {platform.machine()}, Python "
        f"{platform.python_version()}. Regenerate: `python benchmarks/compile_time.py`.\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
