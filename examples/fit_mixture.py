"""A 2-component Gaussian mixture fitted by gradient descent on graphc's gradient.

The loss is `examples/mixture.gc` (benchmark P6). A training loop calls the gradient
over and over on arrays of the same size. With ``backend="blocks"`` the points go
through in blocks on all cores and each block returns its parts of the sums: the same
fit up to the rounding of those sums; with ``backend="numba"`` (when numba is installed) they
go through one compiled loop, which adds up the sums as it goes. The script fits every
way and prints the time per step of each (the first step, where numba compiles its
loop, is not timed).

    python examples/fit_mixture.py [--points 1000000] [--steps 300]
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np

import graphc as gc

TEXT = (Path(__file__).resolve().parent / "mixture.gc").read_text()
PARAMS = ["z", "m1", "m2", "ls1", "ls2"]


def data(n: int, seed: int = 0) -> np.ndarray:
    """Points from 0.3 N(-1, 0.5^2) + 0.7 N(2, 1)."""
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.3
    return np.where(first, rng.normal(-1.0, 0.5, n), rng.normal(2.0, 1.0, n))


OPTIONS = {"numpy": {}, "blocks": {"backend": "blocks"}}
if importlib.util.find_spec("numba") is not None:
    OPTIONS["numba"] = {"backend": "numba"}


def fit(x: np.ndarray, steps: int, options: dict, lr: float = 0.1
        ) -> tuple[dict[str, float], list[float], float]:
    """Gradient descent on the mean negative log-likelihood, from a rough start, with
    the gradient compiled with ``options``; returns the parameters, the loss curve and
    the seconds per step."""
    fn = gc.compile(gc.parse(TEXT), wrt=PARAMS, **options)
    step = fn.module.value_and_grad  # the emitted function itself: no argument checks
    params = {"z": 0.0, "m1": -0.5, "m2": 0.5, "ls1": 0.0, "ls2": 0.0}
    losses, seconds = [], []
    for _ in range(steps):
        start = time.perf_counter()
        nll, grads = step(x, *(np.float64(params[k]) for k in PARAMS))
        seconds.append(time.perf_counter() - start)
        losses.append(float(nll) / x.size)
        for k in PARAMS:
            params[k] -= lr * float(grads[k]) / x.size
    return params, losses, float(np.mean(seconds[1:] or seconds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    x = data(args.points)
    results = {name: fit(x, args.steps, options) for name, options in OPTIONS.items()}
    params, losses, _ = results["numpy"]
    w = 1 / (1 + math.exp(-params["z"]))
    print(f"mean nll: {losses[0]:.4f} -> {losses[-1]:.4f}")
    print(f"weights {w:.2f} / {1 - w:.2f}, means {params['m1']:.2f} / {params['m2']:.2f}, "
          f"scales {math.exp(params['ls1']):.2f} / {math.exp(params['ls2']):.2f} "
          "(data: 0.30 / 0.70, -1.00 / 2.00, 0.50 / 1.00)")
    for name, (found, _, per_step) in results.items():
        apart = max(abs(found[k] - params[k]) for k in PARAMS)
        print(f"{name:18s} {1e3 * per_step:6.2f} ms per step, parameters within "
              f"{apart:.1e} of the numpy fit")


if __name__ == "__main__":
    main()
