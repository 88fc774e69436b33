"""Second-order costs (issue 20): HVP over gradient, and a 100-input Hessian against JAX.

(a) For the suite's scalar problems (benchmarks/problems.py: P4 MLP, P5 Rosenbrock, P6
mixture) the emitted `hvp` against the emitted `value_and_grad` of `gc.compile` on the
same inputs (one random direction v): the textbook bound for an HVP is about 4 gradients.
(b) The full Hessian of two losses of 100 inputs, `gc.hessian` (forward over reverse)
against `jax.jit(jax.hessian(f))` (float64), and against reverse over reverse (the
reverse-mode Jacobian of the gradient graph, `gc.jacobian(grad, mode="reverse")`), set-up
excluded from the times (reported apart: graphc's compile, JAX's first call with its
trace and XLA compile).

Both are timed in interleaved repetitions (round-robin, a warm-up call each), each sample
the mean of enough back-to-back calls to last `--min-time`; the figures are medians of
per-repetition ratios, with the ratio of the best samples beside (the machine is
shared: the best is the run least disturbed by others). NumPy runs one BLAS thread.
Writes
benchmarks/derivatives.json.

    python benchmarks/derivatives.py [--repeats 21] [--min-time 0.02]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

# one BLAS thread: on the shared 2-CPU machine two spinning OpenBLAS threads per call
# made a 4 ms MLP gradient take 20-100 ms from run to run
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import problems as pb  # noqa: E402
from suite import calls_per_sample, machine_info, max_abs_diff, sample  # noqa: E402

import graphc as gc  # noqa: E402

HVP_PROBLEMS = ["P4", "P5", "P6"]  # the suite's scalar losses, its inputs
D = 100
ROSENBROCK = pb.P5_GC  # x: [N]
LOGISTIC = """\
X: [N, D]
y: [N]
w: [D]
z = X @ w
L = mean(softplus(z) - y * z) + 0.005 * sum(w * w)
"""


def interleaved(fns: dict[str, Any], repeats: int, min_time: float) -> dict[str, list[float]]:
    """Seconds per call of each function, one sample each per repetition, round-robin."""
    for fn in fns.values():
        fn()
    numbers = {k: calls_per_sample(fn, min_time) for k, fn in fns.items()}
    times: dict[str, list[float]] = {k: [] for k in fns}
    keys = list(fns)
    for rep in range(repeats):
        order = keys[rep % len(keys):] + keys[:rep % len(keys)]
        for k in order:
            times[k].append(sample(fns[k], numbers[k]))
    return times


def paired(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def hvp_row(key: str, args: argparse.Namespace) -> dict[str, Any]:
    p = pb.PROBLEMS[key]
    g = gc.parse(p.gc_text)
    inputs = p.make_inputs()
    rng = np.random.default_rng(0)
    v = {w: rng.normal(size=np.shape(inputs[w])).astype(np.asarray(inputs[w]).dtype)
         for w in p.wrt}
    t = time.perf_counter()
    grad = gc.compile(g, wrt=p.wrt)
    t_grad = time.perf_counter() - t
    t = time.perf_counter()
    hvp = gc.hvp(g, wrt=p.wrt)
    t_hvp = time.perf_counter() - t
    args_in = [inputs[k] for k in p.input_names]
    gmod, hmod = grad.module, hvp.module
    value, grads, hv = hmod.hvp(*args_in, v=v)
    value2, grads2 = gmod.value_and_grad(*args_in)
    assert max_abs_diff(value, value2) <= 1e-6 * max(1.0, abs(float(value2)))
    times = interleaved({"grad": lambda: gmod.value_and_grad(*args_in),
                         "hvp": lambda: hmod.hvp(*args_in, v=v)}, args.repeats, args.min_time)
    row = {"key": key, "title": p.title,
           "compile_s": {"grad": t_grad, "hvp": t_hvp},
           "grad_median_s": statistics.median(times["grad"]),
           "hvp_median_s": statistics.median(times["hvp"]),
           "grad_best_s": min(times["grad"]), "hvp_best_s": min(times["hvp"]),
           "ratio_paired": paired(times["hvp"], times["grad"]),
           "ratio_best": min(times["hvp"]) / min(times["grad"])}
    print(f"  {key}: grad {1e3 * row['grad_median_s']:.3f} ms, hvp "
          f"{1e3 * row['hvp_median_s']:.3f} ms, ratio {row['ratio_paired']:.2f} "
          f"(best {row['ratio_best']:.2f})", flush=True)
    return row


def hessian_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, D))  # noqa: N806 - the math's name
    y = (rng.uniform(size=1000) < 0.5).astype(float)
    cases = [
        ("Rosenbrock, 100 inputs", ROSENBROCK, {"x": rng.uniform(-2, 2, size=D)}, "x",
         lambda x: jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)),
        ("L2 logistic regression, 1000 points x 100 weights", LOGISTIC,
         {"X": X, "y": y, "w": 0.1 * rng.normal(size=D)}, "w",
         lambda X, y, w: jnp.mean(jax.nn.softplus(X @ w) - y * (X @ w))  # noqa: N803
         + 0.005 * jnp.sum(w * w)),
    ]
    rows = []
    for title, text, inputs, wrt, f in cases:
        g = gc.parse(text)
        t = time.perf_counter()
        fn = gc.hessian(g, wrt=wrt)
        compile_s = time.perf_counter() - t
        grad = gc.compile(g, wrt=wrt).grad_graph
        rr = gc.jacobian(grad, wrt=wrt, of=grad.outputs[1], mode="reverse")
        args_in = [inputs[k] for k in g.inputs]
        ours = fn.module.hessian(*args_in)[2][wrt][wrt]
        assert max_abs_diff(ours, rr.module.jacobian(*args_in)[1][wrt]) <= 1e-9
        jargs = [jnp.asarray(a) for a in args_in]
        argnum = list(g.inputs).index(wrt)
        jf = jax.jit(jax.hessian(f, argnums=argnum))
        t = time.perf_counter()
        theirs = np.asarray(jf(*jargs).block_until_ready())
        jax_setup_s = time.perf_counter() - t
        diff = max_abs_diff(ours, theirs)
        times = interleaved({"graphc": partial(fn.module.hessian, *args_in),
                             "jax": lambda jf=jf, jargs=jargs: jf(*jargs).block_until_ready(),
                             "reverse_over_reverse": partial(rr.module.jacobian, *args_in)},
                            args.repeats, args.min_time)
        row = {"title": title, "inputs": D, "max_abs_diff": diff,
               "setup_s": {"graphc": compile_s, "jax": jax_setup_s},
               "graphc_median_s": statistics.median(times["graphc"]),
               "jax_median_s": statistics.median(times["jax"]),
               "graphc_best_s": min(times["graphc"]), "jax_best_s": min(times["jax"]),
               "ratio_paired": paired(times["graphc"], times["jax"]),
               "ratio_best": min(times["graphc"]) / min(times["jax"]),
               "reverse_over_reverse_median_s": statistics.median(times["reverse_over_reverse"]),
               "reverse_over_reverse_ratio_paired": paired(times["reverse_over_reverse"],
                                                           times["graphc"])}
        print(f"  {title}: graphc {1e6 * row['graphc_median_s']:.1f} us, jax "
              f"{1e6 * row['jax_median_s']:.1f} us, graphc/jax {row['ratio_paired']:.2f} (best "
              f"{row['ratio_best']:.2f}), reverse over reverse / graphc "
              f"{row['reverse_over_reverse_ratio_paired']:.2f}, max|dH| {diff:.1e}", flush=True)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--min-time", type=float, default=0.02, help="seconds per sample")
    parser.add_argument("--json", default=str(HERE / "derivatives.json"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print("== HVP over gradient", flush=True)
    hvps = [hvp_row(k, args) for k in HVP_PROBLEMS]
    print("== 100-input Hessians against jax.jit(jax.hessian(f))", flush=True)
    hessians = hessian_rows(args)
    report = {"command": "python benchmarks/derivatives.py"
              + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv)),
              "date": time.strftime("%Y-%m-%d %H:%M"), "wall_s": time.perf_counter() - start,
              "repeats": args.repeats, "min_time": args.min_time,
              "openblas_threads": os.environ["OPENBLAS_NUM_THREADS"],
              "machine": machine_info(), "hvp": hvps, "hessian": hessians}
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.json} ({report['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
