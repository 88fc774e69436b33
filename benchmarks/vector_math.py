"""The numba loops' transcendentals with glibc's libmvec against the C library's scalar
functions (graphc/backend/vector_math.py), in one process: P3's loops compiled both
ways (one module's first call with GRAPHC_LIBMVEC=0, the other's without: the setting
is each module's), timed interleaved with PyTorch and hand-written NumPy. With
--ulps: each function's largest error in ulps against NumPy and against the
long-double value, both ways, on 10^6 points. With --sums: P5's and P6's modules as
emitted (sums added by ``_sum_add``, which LLVM may reorder) against the same modules
with a plain addition, interleaved (docs/performance.md has a run of each).

    python benchmarks/vector_math.py [--repeats 15] [--ulps | --sums]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import problems as pb

import graphc as gc

ULP_CASES = {"sin": (-1e3, 1e3), "cos": (-1e3, 1e3), "exp": (-700.0, 700.0),
             "log": (1e-300, 1e300), "tan": (-10.0, 10.0), "tanh": (-20.0, 20.0),
             "expm1": (-50.0, 700.0), "log1p": (-0.999, 1e3), "arctan": (-1e3, 1e3),
             "sinh": (-700.0, 700.0), "arcsin": (-1.0, 1.0),
             "power": (0.1, 10.0)}  # x ** 1.7


def _two_ways(text: str) -> tuple:
    """The module of ``text`` twice: its loops compiled with the scalar functions, then
    with libmvec (each module's first big call compiles them)."""
    scalar, vector = (gc.compile(gc.parse(text), backend="numba").module for _ in range(2))
    return scalar, vector


def _first_calls(scalar, vector, *args) -> None:
    os.environ["GRAPHC_LIBMVEC"] = "0"
    scalar.forward(*args), scalar.value_and_grad(*args)
    del os.environ["GRAPHC_LIBMVEC"]
    vector.forward(*args), vector.value_and_grad(*args)
    assert scalar._VECTOR_MATH == ["scalar"], scalar._VECTOR_MATH


def ulps() -> None:
    """Each function's loop both ways, on 10^6 points."""
    rng = np.random.default_rng(1)
    cases = []
    for name, (lo, hi) in ULP_CASES.items():
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 10**6)) if name == "log" \
            else rng.uniform(lo, hi, 10**6)
        f = (lambda v: v ** v.dtype.type(1.7)) if name == "power" else getattr(np, name)
        cases.append((name, x, f, *_two_ways("x: [N]\ny = " + (
            "x ** 1.7\n" if name == "power" else f"{name}(x)\n"))))
    for name, x, f, scalar, vector in cases:
        _first_calls(scalar, vector, x)
        numpy, true = f(x), f(x.astype(np.longdouble))
        row = [name, scalar._VECTOR_MATH[0]]
        for module in (vector, scalar):
            y = module.forward(x)
            row += [_ulps(y, numpy), _ulps(y, true)]
        print("{:5} ({}) libmvec: {:.2f} ulp vs NumPy, {:.2f} vs true; scalar: {:.2f}, {:.2f};"
              .format(*row), f"NumPy {_ulps(numpy, true):.2f} vs true", flush=True)


def _ulps(y: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(y - ref) / np.spacing(np.abs(ref).astype(np.float64))))


def p3(repeats: int) -> None:
    import torch
    x = pb.p3_inputs()["x"]
    scalar, vector = _two_ways(pb.P3_GC)
    _first_calls(scalar, vector, x)
    xt = torch.from_numpy(x)

    def torch_forward():
        with torch.no_grad():
            return pb.p3_model(torch, xt)
    calls = {"numba scalar fwd": lambda: scalar.forward(x),
             "numba libmvec fwd": lambda: vector.forward(x),
             "PyTorch fwd": torch_forward, "hand fwd": lambda: pb.p3_hand_forward(x),
             "numba scalar vg": lambda: scalar.value_and_grad(x),
             "numba libmvec vg": lambda: vector.value_and_grad(x),
             "hand vg": lambda: pb.p3_hand(x)}
    times: dict[str, list[float]] = {k: [] for k in calls}
    for rep in range(repeats):
        order = list(calls.items())
        for name, f in order[rep % len(order):] + order[:rep % len(order)]:
            time.sleep(0.05)
            f()
            start = time.perf_counter()
            for _ in range(5):
                f()
            times[name].append((time.perf_counter() - start) / 5 * 1e3)
    for name, ts in times.items():
        print(f"{name:18} min {min(ts):8.2f} ms  median {statistics.median(ts):8.2f}  "
              f"max {max(ts):8.2f}")
    for kind in ("fwd", "vg"):
        for other in ("numba scalar", "PyTorch", "hand"):
            if f"{other} {kind}" in times:
                r = [a / b for a, b in zip(times[f"numba libmvec {kind}"],
                                           times[f"{other} {kind}"])]
                print(f"{kind}: libmvec loop / {other}: paired median "
                      f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})")


_PLAIN = ("@numba.njit(inline='always')\ndef _plain_add(s, t):\n    return s + t\n\n\n"
          "_sum_add = _plain_add\n")


def sums(repeats: int) -> None:
    """The loops' sums added in any order (vectorised) against in order (not)."""
    from graphc.compiler import load_module
    for name, text, inputs, wrt in (("P5", pb.P5_GC, pb.p5_inputs(), None),
                                    ("P6", pb.P6_GC, pb.p6_inputs(), pb.P6_PARAMS)):
        fn = gc.compile(gc.parse(text), wrt=wrt, backend="numba")
        modules = {"any order": fn.module,
                   "in order": load_module(fn.source.replace("_sum_add = _adder()\n", _PLAIN))}
        (v1, g1), (v2, g2) = (m.value_and_grad(**inputs) for m in modules.values())
        print(f"{name}: value {abs(v1 - v2) / abs(v2):.1e} apart (relative), gradients "
              + ", ".join(f"{k} {np.max(np.abs(g1[k] - g2[k])) / np.max(np.abs(g2[k])):.1e}"
                          for k in g1))
        times: dict[str, list[float]] = {k: [] for k in modules}
        for rep in range(repeats):
            for key in sorted(modules, reverse=bool(rep % 2)):
                modules[key].value_and_grad(**inputs)
                start = time.perf_counter()
                for _ in range(5):
                    modules[key].value_and_grad(**inputs)
                times[key].append((time.perf_counter() - start) / 5 * 1e3)
        r = [a / b for a, b in zip(times["any order"], times["in order"])]
        print(f"{name}: any order min {min(times['any order']):.2f} ms, in order min "
              f"{min(times['in order']):.2f} ms; paired median {statistics.median(r):.2f} "
              f"({min(r):.2f}-{max(r):.2f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--ulps", action="store_true")
    how.add_argument("--sums", action="store_true")
    args = parser.parse_args()
    if args.ulps:
        ulps()
    elif args.sums:
        sums(args.repeats)
    else:
        p3(args.repeats)


if __name__ == "__main__":
    main()
