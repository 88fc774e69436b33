"""Throughput (GB/s of float64 data) of the Gaussian-mixture NLL and its gradient
(benchmark P6): the NumPy module on data in memory against backend="array_api" on
NumPy arrays and on dask arrays, threaded and on a dask.distributed LocalCluster of
worker processes (examples/dask_mixture.py), with the data generated chunk by chunk
where it is computed or already held by the workers. Each time is the best of a few
runs, on data that fits in memory. ``--cluster`` is the run that does not fit: the
points generated chunk by chunk on the cluster's workers once, the peak memory of the
whole process tree sampled as it runs (and the run stopped if the machine's available
memory falls under 4 GiB), against the NumPy module on data that fits in the same run
(both include generating the points), checked against it on the first chunks; written
to benchmarks/dask_mixture_cluster.json.

    python benchmarks/dask_mixture.py [--points 2e7] [--chunk 2e6] [--workers 2]
    python benchmarks/dask_mixture.py --cluster --points 5e9 --chunk 1e7 --memory 3GB
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

import dask_mixture as dm  # noqa: E402 - examples/dask_mixture.py

import graphc as gc  # noqa: E402


def best(run, repeats: int) -> float:
    """The fewest seconds ``run()`` took in ``repeats`` runs (a shared machine is noisy)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


class Memory(threading.Thread):
    """Samples the resident memory of this process and all its descendants (the
    cluster's nannies and workers) every ``every`` seconds, keeping the peak; sets
    ``low`` when the machine's available memory falls under ``floor`` bytes."""

    def __init__(self, every: float = 0.5, floor: float = 4 * 2**30):
        super().__init__(daemon=True)
        self.every, self.floor, self.peak, self.low = every, floor, 0, False
        self.least_available = float("inf")
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.done.wait(self.every):
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # one that ended since listed
                    total += process.memory_info().rss
            self.peak = max(self.peak, total)
            available = psutil.virtual_memory().available
            self.least_available = min(self.least_available, available)
            self.low = self.low or available < self.floor


def numpy_rate(size: int, points: int, repeats: int) -> float:
    """The fewest seconds the NumPy module takes over ``points`` points held in memory,
    generating them included (as the cluster run generates its own)."""
    import numpy as np

    fn = gc.compile(gc.parse(dm.TEXT), wrt=list(dm.PARAMS))
    return best(lambda: fn(x=np.concatenate([dm.chunk(size, k) for k in range(points // size)]),
                           **dm.PARAMS), repeats)


def cluster_run(args: argparse.Namespace) -> None:
    """The run that does not fit in memory, once (see the module's docstring)."""
    points, size = int(args.points), int(args.chunk)
    fits = 5 * size  # the NumPy module's points: a few chunks, in memory
    before = numpy_rate(size, fits, args.repeats)
    memory = Memory()
    memory.start()
    local, client = dm.cluster(args.workers, args.memory)
    with local, client:
        fn = gc.compile(gc.parse(dm.TEXT), wrt=list(dm.PARAMS), backend="array_api")
        start = time.perf_counter()
        futures = client.compute(list(dm.by_chunk(fn, dm.data(points, size))))
        while not memory.low and not all(future.done() for future in futures):
            time.sleep(0.5)
        if memory.low:
            client.cancel(futures)
            raise SystemExit(f"stopped after {time.perf_counter() - start:.0f} s: the machine's "
                             f"available memory fell under 4 GiB (this run's peak: "
                             f"{memory.peak / 1e9:.2f} GB)")
        seconds = time.perf_counter() - start
        value, grads = client.gather(futures)
        check, want = dm.gradient(2 * size, size, client, chunked=True)[:2]
    memory.done.set()
    after = numpy_rate(size, fits, args.repeats)
    nll, numpy_grads = dm.subsample(size)
    gap = max(abs(check - nll) / abs(nll),
              *(abs(want[k] - v) / max(1.0, abs(v)) for k, v in numpy_grads.items()))
    gigabytes, numpy_seconds = 8 * points / 1e9, min(before, after)
    result = {
        "points": points, "GB": gigabytes, "chunk": size, "workers": args.workers,
        "threads per worker": 1, "memory limit per worker": args.memory,
        "seconds": seconds, "GB/s": gigabytes / seconds,
        "peak RSS of the process tree (GB)": memory.peak / 1e9,
        "least available memory on the machine (GB)": memory.least_available / 1e9,
        "NumPy module (generating the points included), points": fits,
        "NumPy module GB/s (best of before and after the run)": 8 * fits / 1e9 / numpy_seconds,
        "nll": float(value), "gradient": {k: float(v) for k, v in grads.items()},
        "relative gap to the NumPy module on the first 2 chunks": gap,
        "machine": f"{os.cpu_count()} cores shared with other jobs, load average "
                   f"{os.getloadavg()[0]:.1f} at the end",
    }
    print(json.dumps(result, indent=1))
    (HERE / "dask_mixture_cluster.json").write_text(json.dumps(result, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    import dask
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=float, default=2e7)
    parser.add_argument("--chunk", type=float, default=2e6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cluster", action="store_true",
                        help="the run that does not fit in memory, on the cluster only")
    parser.add_argument("--memory", default="2GB", help="memory limit per worker (--cluster)")
    args = parser.parse_args(argv)
    if args.cluster:
        return cluster_run(args)
    points, size, repeats = int(args.points), int(args.chunk), args.repeats
    text, wrt, params = gc.parse(dm.TEXT), list(dm.PARAMS), dm.PARAMS
    numpy_fn = gc.compile(text, wrt=wrt)
    xp_fn = gc.compile(text, wrt=wrt, backend="array_api")
    x = np.concatenate([dm.chunk(size, k) for k in range(-(-points // size))])[:points]
    rows = {
        "generating the data (NumPy, one core)":
            best(lambda: [dm.chunk(size, k) for k in range(points // size)], repeats),
        "NumPy module, data in memory": best(lambda: numpy_fn(x=x, **params), repeats),
        'backend="array_api", NumPy arrays in memory':
            best(lambda: xp_fn(x=x, **params), repeats),
        "dask threads, data generated chunk by chunk":
            best(lambda: dask.compute(*xp_fn(x=dm.data(points, size), **params)), repeats),
    }
    local, client = dm.cluster(args.workers)
    with local, client:
        rows[f"dask.distributed, {args.workers} worker processes, data generated"] = best(
            lambda: client.compute(list(xp_fn(x=dm.data(points, size), **params)),
                                   sync=True), repeats)
        held = client.persist(dm.data(points, size))
        client.wait_for_workers(args.workers)
        dask.distributed.wait(held)
        rows[f"dask.distributed, {args.workers} worker processes, data held by workers"] = \
            best(lambda: client.compute(list(xp_fn(x=held, **params)), sync=True), repeats)
    gigabytes = 8 * points / 1e9
    print(f"{points:,} points ({gigabytes:.2f} GB), chunks of {size:,}, best of {repeats}")
    for name, seconds in rows.items():
        print(f"  {name:<68} {seconds:7.2f} s {gigabytes / seconds:7.3f} GB/s")
    (HERE / "dask_mixture.json").write_text(json.dumps(
        {"points": points, "chunk": size, "workers": args.workers,
         "seconds": rows, "GB/s": {k: gigabytes / s for k, s in rows.items()}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
