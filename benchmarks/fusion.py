"""Issue 24, targets 3 and 5: what fusing P4's elementwise parts can gain, and whether
``backend="auto"`` is never slower than plain NumPy on the suite's problems.

    python benchmarks/fusion.py p4 [--rounds 300]    # where P4's time goes
    python benchmarks/fusion.py auto [--rounds 30]   # auto against numpy, P1-P6

Every contender is timed in the same rounds, interleaved (shuffled each round); the
tables give the minimum and the spread, as multiples of one reference (hand-written
NumPy; the numpy backend).
``p4``'s "fused" contenders are graphc's NumPy lines with regions hand-fused into numba
loops (the code a fusing backend would emit): what fusion could gain at most.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

import graphc as gc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlp  # noqa: E402 - benchmarks/mlp.py
import problems as pb  # noqa: E402 - benchmarks/problems.py


@numba.njit(error_model="numpy")
def _bias_tanh(t, b):
    """t = tanh(t + b) in place, b along the rows: one pass, scalar tanh (libm)."""
    for i in range(t.shape[0]):
        for j in range(t.shape[1]):
            t[i, j] = np.tanh(t[i, j] + b[j])


@numba.njit(error_model="numpy")
def _tanh_grad_sum(g, h, column_sums):
    """g *= 1 - h*h in place, and g's column sums (a bias's gradient): one pass."""
    acc = np.zeros(g.shape[1])
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            v = g[i, j] * (1.0 - h[i, j] * h[i, j])
            g[i, j] = v
            acc[j] += v
    column_sums[:] = acc


@numba.njit(error_model="numpy")
def _cross_entropy_grad(logits, b, labels, logits_bar, b_bar):
    """logits += b; the mean cross-entropy, its gradient and b's: row by row."""
    n, k = logits.shape
    loss, acc = 0.0, np.zeros(k)
    for i in range(n):
        top, total, ys = -np.inf, 0.0, 0.0
        for j in range(k):
            logits[i, j] += b[j]
            top = max(top, logits[i, j])
        for j in range(k):
            total += np.exp(logits[i, j] - top)
            ys += labels[i, j]
        lse = np.log(total) + top
        for j in range(k):
            lp = logits[i, j] - lse
            loss -= labels[i, j] * lp
            d = (np.exp(lp) * ys - labels[i, j]) / n
            logits_bar[i, j] = d
            acc[j] += d
    b_bar[:] = acc
    return loss / n


def _fused(m, tanh_loop: bool, loss_loop: bool) -> Callable:
    """P4's value and gradient, graphc's lines (module ``m``'s helpers), with the
    backward's tanh' and bias sums fused (``tanh_loop``: the forward's bias and tanh
    too; ``loss_loop``: the loss and its gradient too)."""
    def layer(t, b):
        if tanh_loop:
            _bias_tanh(t, b)
        else:
            np.tanh(np.add(t, b, out=t), out=t)
        return t

    def value_and_grad(x, labels, W1, b1, W2, b2, W3, b3):  # noqa: N803 - the math's names
        h1 = layer(x @ W1, b1)
        h2 = layer(h1 @ W2, b2)
        logits = h2 @ W3
        if loss_loop:
            logits_bar, b3_bar = np.empty_like(logits), np.empty_like(b3)
            loss = _cross_entropy_grad(logits, b3, labels, logits_bar, b3_bar)
        else:  # graphc's lines
            logits += b3
            log_probs = m._log_softmax(logits)
            n = m._batch_size(logits)
            loss = -(np.sum(labels * log_probs) / n)
            t = np.exp(log_probs, out=log_probs)
            t = np.multiply(t, np.sum(labels, axis=-1, keepdims=True), out=log_probs)
            logits_bar = np.multiply(np.subtract(t, labels, out=t), 1.0 / n, out=t)
            b3_bar = np.sum(logits_bar, axis=0)
        h2_bar = logits_bar @ W3.T
        W3_bar = h2.T @ logits_bar
        b2_bar, b1_bar = np.empty_like(b2), np.empty_like(b1)
        _tanh_grad_sum(h2_bar, h2, b2_bar)
        h1_bar = h2_bar @ W2.T
        W2_bar = h1.T @ h2_bar
        _tanh_grad_sum(h1_bar, h1, b1_bar)
        return loss, {"W1": x.T @ h1_bar, "b1": b1_bar, "W2": W2_bar, "b2": b2_bar,
                      "W3": W3_bar, "b3": b3_bar}
    return value_and_grad


def _matmuls(x, labels, W1, b1, W2, b2, W3, b3):  # noqa: N803
    """The eight matrix products P4's value and gradient need, and nothing else."""
    h1 = x @ W1
    h2 = h1 @ W2
    logits = h2 @ W3
    h2_bar = logits @ W3.T
    h1_bar = h2_bar @ W2.T
    return h2.T @ logits, h1.T @ h2_bar, x.T @ h1_bar


def interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, np.ndarray]:
    """Each contender once a round, in an order shuffled each round: a contender's
    neighbour (numba's threads still spinning after a loop, say) is no one's in all."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    order, rng = list(fns), random.Random(0)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            fn = fns[name]
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: np.array(v) for k, v in times.items()}


def _row(name: str, t: np.ndarray, ref: np.ndarray) -> str:
    paired = t / ref
    q1, q3 = np.percentile(paired, [25, 75])
    return (f"| {name} | {1e6 * t.min():.1f} | {t.min() / ref.min():.3f} | "
            f"{np.median(paired):.3f} ({q1:.3f}-{q3:.3f}) |")


def p4(rounds: int) -> None:
    v = mlp.data()
    module = gc.compile(gc.load(pb.ROOT / "examples" / "mlp.gc"), wrt=mlp.PARAMS).module
    fns = {"hand-written": mlp.hand_value_and_grad, "graphc (numpy)": module.value_and_grad,
           "fused: tanh' + bias sums": _fused(module, False, False),
           "fused: + loss": _fused(module, False, True),
           "fused: + bias and tanh": _fused(module, True, True),
           "matrix products alone": _matmuls}
    ref_loss, ref = mlp.hand_value_and_grad(**v)
    for name, f in list(fns.items())[1:-1]:
        loss, grads = f(**v)
        err = max(float(np.abs(grads[k] - ref[k]).max()) for k in ref)
        assert err < 1e-5 and abs(loss - ref_loss) < 1e-5, (name, err)
    times = interleaved({k: lambda f=f: f(**v) for k, f in fns.items()}, rounds)
    print("| P4 contender | min µs | min / hand's min | paired median (IQR) |\n"
          "|---|---:|---:|---:|")
    for name, t in times.items():
        print(_row(name, t, times["hand-written"]))


def auto(rounds: int) -> None:
    prepared, compiled = {}, {}
    for key, p in pb.PROBLEMS.items():
        inputs = p.make_inputs()
        for backend in ("numpy", "auto"):
            fn = gc.compile(gc.parse(p.gc_text), wrt=p.wrt, backend=backend)
            args = tuple(inputs.values())
            t = time.perf_counter()
            fn.module.value_and_grad(*args)  # numba compiles a loop at its first call
            compiled[key, backend] = (fn.report()["compile time (ms)"],
                                      1e3 * (time.perf_counter() - t), "import numba" in fn.source)
            prepared[key, backend] = lambda f=fn.module.value_and_grad, a=args: f(*a)
    times = interleaved({f"{k} {b}": f for (k, b), f in prepared.items()}, rounds)
    print("| problem | numpy min | auto / numpy (min) | paired median (IQR) | graphc compile ms"
          " | first call ms | needs numba |\n|---|---:|---:|---:|---:|---:|---|")
    for key in pb.PROBLEMS:
        t, ref = times[f"{key} auto"], times[f"{key} numpy"]
        paired = t / ref
        q1, q3 = np.percentile(paired, [25, 75])
        ms, first, numba_used = compiled[key, "auto"]
        print(f"| {key} | {1e3 * ref.min():.3f} ms | {t.min() / ref.min():.3f} | "
              f"{np.median(paired):.3f} ({q1:.3f}-{q3:.3f}) | {ms} | {first:.0f} | "
              f"{'yes' if numba_used else 'no'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=("p4", "auto"))
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    if args.part == "p4":
        p4(args.rounds or 300)
    else:
        auto(args.rounds or 30)


if __name__ == "__main__":
    main()
