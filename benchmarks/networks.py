"""Networks beyond the MLP (issue 21): value and gradient of a LeNet-5 and a transformer block.

Each network's loss and its gradient with respect to every parameter, in float32:
graphc's emitted `value_and_grad`, a hand-written NumPy version (the LeNet: im2col by
sliding-window views and einsum, the backward written out), PyTorch eager
(`loss.backward()`) and `jax.jit(jax.value_and_grad)`, all on the same inputs and one
thread each, checked against each other first. Timed in interleaved repetitions
(benchmarks/derivatives.py's `interleaved`); figures are medians of per-repetition
ratios to the fastest peer. `--profile` prints where graphc's time goes (cProfile of the
emitted function, by NumPy call). Writes benchmarks/networks.json.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/networks.py [--repeats 11] [--min-time 0.2] [--profile]

(as benchmarks/suite.py: where the machine forces OPENBLAS_CORETYPE=Haswell, NumPy's
float32 matmuls run at half the speed of the AVX-512 kernels OpenBLAS picks for this CPU,
while JAX and PyTorch bring their own; the results name the kernels that ran.)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# every framework on one thread, as benchmarks/derivatives.py runs NumPy: on the shared
# 2-CPU machine torch's two spinning threads made its transformer block 10x slower
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from derivatives import interleaved  # noqa: E402
from suite import machine_info, max_abs_diff  # noqa: E402

import graphc as gc  # noqa: E402

LENET = """
x: [N, 1, 28, 28]
labels: int[N]
K1: [6, 1, 5, 5]
c1: [6]
K2: [16, 6, 5, 5]
c2: [16]
W3: [400, 120]
b3: [120]
W4: [120, 84]
b4: [84]
W5: [84, 10]
b5: [10]
h1 = max_pool2d(relu(conv2d(x, K1, c1, padding=2)), 2)
h2 = max_pool2d(relu(conv2d(h1, K2, c2)), 2)
h3 = relu(reshape(h2, (N, 400)) @ W3 + b3)
h4 = relu(h3 @ W4 + b4)
logits = h4 @ W5 + b5
loss = cross_entropy(logits, labels)
"""
LENET_SHAPES = {"K1": (6, 1, 5, 5), "c1": (6,), "K2": (16, 6, 5, 5), "c2": (16,),
                "W3": (400, 120), "b3": (120,), "W4": (120, 84), "b4": (84,),
                "W5": (84, 10), "b5": (10,)}

BLOCK = """
x: [B, T, D]
target: [B, T, D]
g1: [D]
n1: [D]
Wq: [D, D]
Wk: [D, D]
Wv: [D, D]
Wo: [D, D]
g2: [D]
n2: [D]
W1: [D, F]
c1: [F]
W2: [F, D]
c2: [D]
h = layer_norm(x, (D,), weight=g1, bias=n1)
a = attention(h @ Wq, h @ Wk, h @ Wv, mask=tril(ones((T, T))) > 0)
x2 = x + a @ Wo
m = layer_norm(x2, (D,), weight=g2, bias=n2)
y = x2 + relu(m @ W1 + c1) @ W2 + c2
loss = mse(y, target)
"""
B, T, D, F = 16, 64, 128, 512
BLOCK_SHAPES = {"g1": (D,), "n1": (D,), "Wq": (D, D), "Wk": (D, D), "Wv": (D, D),
                "Wo": (D, D), "g2": (D,), "n2": (D,), "W1": (D, F), "c1": (F,),
                "W2": (F, D), "c2": (D,)}


def parameters(shapes: dict[str, tuple[int, ...]], rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    out = {}
    for k, s in shapes.items():
        fan_in = int(np.prod(s[1:])) if len(s) == 4 else s[0]
        scale = 1.0 if len(s) == 1 else 1 / np.sqrt(fan_in)
        out[k] = (rng.normal(scale=scale, size=s) + (1.0 if k.startswith("g") else 0.0)
                  ).astype(np.float32)
    return out


# --- hand-written NumPy LeNet ------------------------------------------------------------

def _conv(x: np.ndarray, k: np.ndarray, c: np.ndarray, pad: int
          ) -> tuple[np.ndarray, np.ndarray]:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    win = sliding_window_view(xp, k.shape[2:], axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", win, k, optimize=True) + c[:, None, None], win


def _conv_back(g: np.ndarray, win: np.ndarray, k: np.ndarray, pad: int, need_x: bool
               ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    dk = np.einsum("nohw,nchwij->ocij", g, win, optimize=True)
    if not need_x:
        return None, dk, g.sum(axis=(0, 2, 3))
    kh, kw = k.shape[2:]
    gp = np.pad(g, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    gwin = sliding_window_view(gp, (kh, kw), axis=(2, 3))
    dxp = np.einsum("nohwij,ocij->nchw", gwin, k[:, :, ::-1, ::-1], optimize=True)
    h, w = dxp.shape[2] - 2 * pad, dxp.shape[3] - 2 * pad
    return dxp[:, :, pad:pad + h, pad:pad + w], dk, g.sum(axis=(0, 2, 3))


def _pool(a: np.ndarray) -> np.ndarray:
    n, c, h, w = a.shape
    return a.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def _pool_back(g: np.ndarray, a: np.ndarray, m: np.ndarray) -> np.ndarray:
    n, c, h, w = a.shape
    hit = a.reshape(n, c, h // 2, 2, w // 2, 2) == m[:, :, :, None, :, None]
    return (hit * g[:, :, :, None, :, None]).reshape(a.shape)


def lenet_numpy(x: np.ndarray, labels: np.ndarray, p: dict[str, np.ndarray]
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    z1, w1 = _conv(x, p["K1"], p["c1"], 2)
    a1 = np.maximum(z1, 0)
    h1 = _pool(a1)
    z2, w2 = _conv(h1, p["K2"], p["c2"], 0)
    a2 = np.maximum(z2, 0)
    h2 = _pool(a2)
    f = h2.reshape(len(x), -1)
    z3 = f @ p["W3"] + p["b3"]
    h3 = np.maximum(z3, 0)
    z4 = h3 @ p["W4"] + p["b4"]
    h4 = np.maximum(z4, 0)
    logits = h4 @ p["W5"] + p["b5"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(x))
    loss = np.mean(np.log(s[:, 0]) - shifted[rows, labels])
    g = e / s
    g[rows, labels] -= 1
    g /= len(x)
    grads = {"W5": h4.T @ g, "b5": g.sum(0)}
    g = (g @ p["W5"].T) * (z4 > 0)
    grads |= {"W4": h3.T @ g, "b4": g.sum(0)}
    g = (g @ p["W4"].T) * (z3 > 0)
    grads |= {"W3": f.T @ g, "b3": g.sum(0)}
    g = _pool_back((g @ p["W3"].T).reshape(h2.shape), a2, h2) * (z2 > 0)
    g, grads["K2"], grads["c2"] = _conv_back(g, w2, p["K2"], 0, True)
    g = _pool_back(g, a1, h1) * (z1 > 0)
    _, grads["K1"], grads["c1"] = _conv_back(g, w1, p["K1"], 2, False)
    return loss, grads


# --- peers -------------------------------------------------------------------------------

def jax_lenet():
    import jax
    import jax.numpy as jnp

    def conv(x, k, c, pad):
        y = jax.lax.conv_general_dilated(x, k, (1, 1), [(pad, pad), (pad, pad)],
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + c[:, None, None]

    def pool(a):
        return jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                     "VALID")

    def loss(p, x, labels):
        h1 = pool(jax.nn.relu(conv(x, p["K1"], p["c1"], 2)))
        h2 = pool(jax.nn.relu(conv(h1, p["K2"], p["c2"], 0)))
        h3 = jax.nn.relu(h2.reshape(len(x), -1) @ p["W3"] + p["b3"])
        h4 = jax.nn.relu(h3 @ p["W4"] + p["b4"])
        logits = h4 @ p["W5"] + p["b5"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None],
                                             axis=1))
    return jax.jit(jax.value_and_grad(loss))


def torch_lenet(x: np.ndarray, labels: np.ndarray, p: dict[str, np.ndarray]) -> Callable:
    import torch
    import torch.nn.functional as tf

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tx, tl = torch.tensor(x), torch.tensor(labels)

    def call():
        for v in tp.values():
            v.grad = None
        h1 = tf.max_pool2d(tf.relu(tf.conv2d(tx, tp["K1"], tp["c1"], padding=2)), 2)
        h2 = tf.max_pool2d(tf.relu(tf.conv2d(h1, tp["K2"], tp["c2"])), 2)
        h3 = tf.relu(h2.reshape(len(tx), -1) @ tp["W3"] + tp["b3"])
        h4 = tf.relu(h3 @ tp["W4"] + tp["b4"])
        loss = tf.cross_entropy(h4 @ tp["W5"] + tp["b5"], tl)
        loss.backward()
        return loss.detach().numpy(), {k: v.grad.numpy() for k, v in tp.items()}
    return call


def jax_block():
    import jax
    import jax.numpy as jnp

    def norm(x, g, n):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + 1e-5) * g + n

    def loss(p, x, target):
        h = norm(x, p["g1"], p["n1"])
        q, k, v = h @ p["Wq"], h @ p["Wk"], h @ p["Wv"]
        s = q @ jnp.swapaxes(k, -1, -2) / np.sqrt(D)
        s = jnp.where(jnp.tril(jnp.ones((T, T), bool)), s, -jnp.inf)
        x2 = x + jax.nn.softmax(s, axis=-1) @ v @ p["Wo"]
        m = norm(x2, p["g2"], p["n2"])
        y = x2 + jax.nn.relu(m @ p["W1"] + p["c1"]) @ p["W2"] + p["c2"]
        return jnp.mean((y - target) ** 2) / 2
    return jax.jit(jax.value_and_grad(loss))


def torch_block(x: np.ndarray, target: np.ndarray, p: dict[str, np.ndarray]) -> Callable:
    import torch
    import torch.nn.functional as tf

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tx, tt = torch.tensor(x), torch.tensor(target)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def call():
        for v in tp.values():
            v.grad = None
        h = tf.layer_norm(tx, (D,), tp["g1"], tp["n1"])
        a = tf.scaled_dot_product_attention(h @ tp["Wq"], h @ tp["Wk"], h @ tp["Wv"],
                                            attn_mask=mask)
        x2 = tx + a @ tp["Wo"]
        m = tf.layer_norm(x2, (D,), tp["g2"], tp["n2"])
        y = x2 + tf.relu(m @ tp["W1"] + tp["c1"]) @ tp["W2"] + tp["c2"]
        loss = ((y - tt) ** 2).mean() / 2
        loss.backward()
        return loss.detach().numpy(), {k: v.grad.numpy() for k, v in tp.items()}
    return call


# --- running -----------------------------------------------------------------------------

def where_time_goes(fn: Callable, calls: int = 20, top: int = 8) -> list[dict[str, Any]]:
    """graphc's emitted call profiled: the NumPy functions that take its time."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    rows = sorted(((v[2], f"{k[0].rsplit('/', 1)[-1]}:{k[2]}") for k, v in stats.items()),
                  reverse=True)[:top]
    return [{"where": w, "share": t / total} for t, w in rows]


def run(title: str, text: str, inputs: dict[str, np.ndarray], wrt: list[str],
        peers: dict[str, Callable], args: argparse.Namespace) -> dict[str, Any]:
    g = gc.parse(text)
    t = time.perf_counter()
    fn = gc.compile(g, wrt=wrt)
    compile_s = time.perf_counter() - t
    call_args = [inputs[k] for k in g.inputs]
    ours = lambda: fn.module.value_and_grad(*call_args)  # noqa: E731
    value, grads = ours()
    checks = {}
    for name, peer in peers.items():
        v, gs = peer()
        scale = max(float(np.max(np.abs(np.asarray(grads[k])))) for k in wrt)
        checks[name] = {"value": abs(float(v) - float(value)),
                        "grad": max(max_abs_diff(np.asarray(gs[k]), grads[k]) for k in wrt)
                        / scale}
        assert checks[name]["grad"] < 1e-3, (title, name, checks[name])
    times = interleaved({"graphc": ours, **peers}, args.repeats, args.min_time)
    fastest = min(peers, key=lambda k: statistics.median(times[k]))
    row = {"title": title, "compile_s": compile_s, "checks": checks,
           "median_s": {k: statistics.median(v) for k, v in times.items()},
           "fastest_peer": fastest,
           "graphc_over_fastest": statistics.median(
               a / b for a, b in zip(times["graphc"], times[fastest]))}
    if args.profile:
        row["graphc_time"] = where_time_goes(ours)
    print(f"== {title}: compile {compile_s:.2f} s; "
          + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in row["median_s"].items())
          + f"; graphc / {fastest} {row['graphc_over_fastest']:.2f}", flush=True)
    for r in row.get("graphc_time", []):
        print(f"     {100 * r['share']:5.1f} %  {r['where']}")
    return row


def lenet_row(args: argparse.Namespace) -> dict[str, Any]:
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    p = parameters(LENET_SHAPES, rng)
    x = rng.uniform(size=(256, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, size=256)
    jf = jax_lenet()
    jp = {k: jnp.asarray(v) for k, v in p.items()}
    jx, jl = jnp.asarray(x), jnp.asarray(labels)

    def jax_call():
        v, gs = jf(jp, jx, jl)
        return v.block_until_ready(), gs
    peers = {"numpy by hand": lambda: lenet_numpy(x, labels, p),
             "torch eager": torch_lenet(x, labels, p), "jax jit": jax_call}
    return run("LeNet-5, 1x28x28, batch 256, float32", LENET, {"x": x, "labels": labels, **p},
               list(LENET_SHAPES), peers, args)


def block_row(args: argparse.Namespace) -> dict[str, Any]:
    import jax.numpy as jnp

    rng = np.random.default_rng(1)
    p = parameters(BLOCK_SHAPES, rng)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    target = rng.normal(size=(B, T, D)).astype(np.float32)
    jf = jax_block()
    jp = {k: jnp.asarray(v) for k, v in p.items()}
    jx, jt = jnp.asarray(x), jnp.asarray(target)

    def jax_call():
        v, gs = jf(jp, jx, jt)
        return v.block_until_ready(), gs
    peers = {"torch eager": torch_block(x, target, p), "jax jit": jax_call}
    return run(f"transformer block, B={B} T={T} D={D} F={F}, causal, float32", BLOCK,
               {"x": x, "target": target, **p}, list(BLOCK_SHAPES), peers, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per sample")
    parser.add_argument("--profile", action="store_true",
                        help="also report where graphc's time goes")
    parser.add_argument("--json", default=str(HERE / "networks.json"))
    args = parser.parse_args(argv)
    if "OPENBLAS_CORETYPE" in os.environ:
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} forces NumPy's BLAS "
              "kernels; for the CPU's own (JAX and PyTorch use theirs), run with "
              "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE", file=sys.stderr)
    import torch
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = [lenet_row(args), block_row(args)]
    report = {"command": "python benchmarks/networks.py"
              + "".join(f" {a}" for a in (sys.argv[1:] if argv is None else argv)),
              "date": time.strftime("%Y-%m-%d %H:%M"), "wall_s": time.perf_counter() - start,
              "repeats": args.repeats, "min_time": args.min_time,
              "machine": machine_info(), "networks": rows}
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.json} ({report['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
