"""Value and gradient of random scalar DAGs on Python floats: compile time and one call,
graphc's NumPy backend (a line of Python per node) against its numba backend (the
scalar graph compiled to native code through LLVM, backend/scalar_ir.py), with
PyTensor's C backend as the reference where it finishes.

    python benchmarks/scalar_dags.py [--sizes 1000,10000,100000] [--pytensor 1000]

Writes benchmarks/scalar_dags.json. Calls: the best of 5 rounds (the machine may be
shared: compare the ratios of one run)."""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

from compile_time import random_dag_text

import graphc as gc


def _per_call(f, args: list[float], budget: float = 0.2) -> tuple[float, float]:
    """Seconds per call of ``f(*args)``, wall-clock and this process's CPU time (less
    swayed by other jobs on a shared machine): the best of 5 rounds of ~``budget`` s."""
    start = time.perf_counter()
    f(*args)
    n = max(1, int(budget / max(time.perf_counter() - start, 1e-7)))
    wall = cpu = float("inf")
    for _ in range(5):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            f(*args)
        wall = min(wall, (time.perf_counter() - start) / n)
        cpu = min(cpu, (time.process_time() - start_cpu) / n)
    return wall, cpu


def graphc_row(text: str, backend: str) -> dict[str, float]:
    g = gc.parse(text)
    args = [0.1 * (i + 1) for i in range(len(g.inputs))]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's array loop declines big gradients
        fn = gc.compile(g, backend=backend)
    compiled = time.perf_counter()
    fn.module.value_and_grad(*args)  # numba: LLVM compiles at the first call
    first = time.perf_counter()
    wall, cpu = _per_call(fn.module.value_and_grad, args)
    return {"compile_s": compiled - start, "first_call_s": first - compiled,
            "call_us": 1e6 * wall, "call_cpu_us": 1e6 * cpu,
            "live_nodes": len(fn.forward_graph.nx), "gradient_nodes": len(fn.grad_graph.nx)}


def pytensor_row(text: str) -> dict[str, float]:
    import pytensor
    import pytensor.tensor as pt

    g = gc.parse(text)
    env = {name: pt.dscalar(name) for name in g.inputs}
    inputs = list(env.values())
    env.update(sin=pt.sin, cos=pt.cos, tanh=pt.tanh, exp=pt.exp, sigmoid=pt.sigmoid,
               softplus=pt.softplus, relu=lambda x: pt.maximum(x, 0.0))
    for line in text.splitlines():
        name, expr = line.split(" = ")
        env[name] = eval(expr, {"__builtins__": {}}, env)  # noqa: S307 - our own text
    start = time.perf_counter()
    fn = pytensor.function(inputs, [env["out"], *pytensor.grad(env["out"], inputs,
                                                          disconnected_inputs="ignore")])
    compiled = time.perf_counter()
    args = [0.1 * (i + 1) for i in range(len(inputs))]
    wall, cpu = _per_call(fn, args)
    return {"compile_s": compiled - start, "call_us": 1e6 * wall, "call_cpu_us": 1e6 * cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--pytensor", default="1000", help="sizes PyTensor compiles too")
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = parser.parse_args()
    rows = []
    graphc_row(random_dag_text(20), "numba")  # numba's import (a second) once, not in a row
    for n in map(int, args.sizes.split(",")):
        text = random_dag_text(n)
        row: dict = {"nodes": n, "numpy": graphc_row(text, "numpy")}
        row["numba"] = graphc_row(text, "numba")
        if str(n) in args.pytensor.split(","):
            row["pytensor_c"] = pytensor_row(text)
        rows.append(row)
        print(json.dumps(row), flush=True)
    Path(args.out).write_text(json.dumps({"machine": platform.machine(),
                                          "python": platform.python_version(),
                                          "rows": rows}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
