"""graphc's generated value-and-grad vs an expert's hand-written NumPy backprop.

A 784-256-128-10 tanh MLP with softmax cross-entropy, batch 256, float32: the network
of examples/mlp.gc. Both run in this process on the same arrays, interleaved, and the
ratio of their median times is the result (target <= 1.05). Writes docs/mlp_benchmark.md.

    python benchmarks/mlp.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def hand_value_and_grad(x, labels, W1, b1, W2, b2, W3, b3):  # noqa: N803 - the math's names
    """Backprop as an expert writes it: reuse activations, (probs - labels) / N."""
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.sum(labels * (shifted - np.log(s))) / n
    d3 = (e / s - labels) / n
    d2 = (d3 @ W3.T) * (1 - h2 * h2)
    d1 = (d2 @ W2.T) * (1 - h1 * h1)
    return loss, {"W1": x.T @ d1, "b1": d1.sum(axis=0), "W2": h1.T @ d2,
                  "b2": d2.sum(axis=0), "W3": h2.T @ d3, "b3": d3.sum(axis=0)}


def data(batch: int = 256, dtype=np.float32, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [784, 256, 128, 10]
    values = {"x": rng.normal(size=(batch, 784)),
              "labels": np.eye(10)[rng.integers(0, 10, batch)]}
    for i, (m, n) in enumerate(zip(sizes, sizes[1:]), start=1):
        values[f"W{i}"] = rng.normal(scale=1 / np.sqrt(m), size=(m, n))
        values[f"b{i}"] = np.zeros(n)
    return {k: v.astype(dtype) for k, v in values.items()}


def interleaved(fns: dict, args: dict, repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn(**args)
            times[name].append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "docs" / "mlp_benchmark.md"))
    args = parser.parse_args()
    g = gc.load(ROOT / "examples" / "mlp.gc")
    t = time.perf_counter()
    fn = gc.compile(g, wrt=PARAMS)
    compile_s = time.perf_counter() - t
    generated = fn.module.value_and_grad  # the emitted function itself, no call checks
    values = data()
    loss, grads = generated(**values)
    ref_loss, ref = hand_value_and_grad(**values)
    err = max(float(np.max(np.abs(grads[k] - ref[k]))) for k in PARAMS)
    dtypes = {str(grads[k].dtype) for k in PARAMS}
    for _ in range(3):  # warm up caches and BLAS threads
        generated(**values)
        hand_value_and_grad(**values)
    times = interleaved({"graphc": generated, "hand-written": hand_value_and_grad,
                         "graphc via fn(...)": fn}, values, args.repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    ratio = med["graphc"] / med["hand-written"]
    rows = "\n".join(f"| {k} | {1e3 * med[k]:.2f} | {1e3 * low[k]:.2f} | "
                     f"{med[k] / med['hand-written']:.3f} |" for k in times)
    text = (
        "# MLP: generated gradient vs hand-written NumPy\n\n"
        "784-256-128-10 tanh MLP, softmax cross-entropy, batch 256, float32 "
        "(`examples/mlp.gc`), gradient with respect to all weights and biases. "
        f"{args.repeats} interleaved repetitions in one process.\n\n"
        "| contender | median ms | min ms | ratio to hand-written (median) |\n"
        f"|---|---:|---:|---:|\n{rows}\n\n"
        f"- graphc / hand-written: **{ratio:.3f}** (target <= 1.05)\n"
        f"- max |gradient difference| vs hand-written: {err:.2e}; gradient dtypes: "
        f"{', '.join(sorted(dtypes))}; loss {float(loss):.6f} vs {float(ref_loss):.6f}\n"
        f"- compile time: {compile_s:.2f} s\n"
        "- `graphc via fn(...)` adds graphc's call-time input checks (shapes, dtypes).\n\n"
        f"Machine: {platform.machine()}, numpy {np.__version__}. "
        "Regenerate: `python benchmarks/mlp.py`.\n")
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
