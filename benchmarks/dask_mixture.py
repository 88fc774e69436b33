"""Throughput (GB/s of float64 data) of the Gaussian-mixture NLL and its gradient
(benchmark P6): the NumPy module on data in memory against backend="array_api" on
NumPy arrays and on dask arrays, threaded and on a dask.distributed LocalCluster of
worker processes (examples/dask_mixture.py), with the data generated chunk by chunk
where it is computed or already held by the workers. Each time is the best of a few
runs, on data that fits in memory; the run that does not fit is the example's own
(``python examples/dask_mixture.py --points 5e9 --chunk 1e7 --workers 8``).

    python benchmarks/dask_mixture.py [--points 2e7] [--chunk 2e6] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
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


def main(argv: list[str] | None = None) -> None:
    import dask
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=float, default=2e7)
    parser.add_argument("--chunk", type=float, default=2e6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
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
