"""graphc against hand-written NumPy, JAX, PyTorch, autograd, PyTensor and sympy.

Per problem (benchmarks/problems.py) every contender is set up (its set-up timed: graphc's
compile, JAX's first call with its jit, PyTensor's compile, sympy's diff + cse +
lambdify), checked against the hand-written NumPy value and gradient, then its
value-and-gradient and its forward are timed in interleaved repetitions (round-robin
over all contenders in each repetition, after a warm-up call each). Then gc.compile is
timed on random scalar DAGs of 1k, 10k and 100k nodes. Writes docs/benchmarks.md and
benchmarks/results.json.

    python benchmarks/suite.py [--repeats 15] [--problems P1,P2] [--quick]

--quick (3 repetitions, short measurements, DAGs of 1k and 10k nodes) writes nothing
unless --out or --json is given.
"""

from __future__ import annotations

import argparse
import contextlib
import gc as pygc
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import before  # noqa: E402
import problems as pb  # noqa: E402
from compile_time import random_dag_text  # noqa: E402

import graphc as gc  # noqa: E402

PEERS = [pb.JAX, pb.TORCH, pb.AUTOGRAD, pb.PYTENSOR]
FUSION_TARGETS = {"P1", "P2", "P4", "P6"}   # graphc faster than every peer
WITHIN_TARGETS = {"P3", "P5"}               # graphc within 1.5x of the fastest peer
MEMORY_SLACK = 4096  # bytes: Python objects, not arrays, when peaks are compared


class SetupTimeout(BaseException):
    """A time limit hit; a BaseException so that libraries' `except Exception` let it by."""


@contextlib.contextmanager
def time_limit(seconds: float, what: str = "set-up"):
    """Raise SetupTimeout in the main thread after `seconds` (Unix; no limit elsewhere)."""
    if not hasattr(signal, "setitimer") or seconds <= 0:
        yield
        return

    def handler(signum, frame):
        raise SetupTimeout(f"{what} took longer than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)  # again every second until done
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ----------------------------------------------------------------------------- measuring

def max_abs_diff(a: Any, b: Any) -> float:
    a64 = np.asarray(a, dtype=np.float64)
    b64 = np.asarray(b, dtype=np.float64)
    if a64.shape != b64.shape:
        raise ValueError(f"shape {a64.shape}, expected {b64.shape}")
    return float(np.max(np.abs(a64 - b64))) if a64.size else 0.0


def scale(x: Any) -> float:
    x = np.asarray(x, dtype=np.float64)
    return max(1.0, float(np.max(np.abs(x)))) if x.size else 1.0


def check(problem: pb.Problem, result: pb.Result, ref: pb.Result) -> dict[str, Any]:
    """Max |difference| of the value and of every gradient against the reference."""
    value, grads = result
    ref_value, ref_grads = ref
    if set(grads) != set(ref_grads):
        raise ValueError(f"gradients for {sorted(grads)}, expected {sorted(ref_grads)}")
    dv = max_abs_diff(value, ref_value)
    dg = max(max_abs_diff(grads[k], ref_grads[k]) for k in ref_grads)
    gscale = max(scale(g) for g in ref_grads.values())
    ok = dv <= problem.rtol * scale(ref_value) and dg <= problem.rtol * gscale
    return {"value_diff": dv, "grad_diff": dg, "grad_scale": gscale, "ok": bool(ok)}


def calls_per_sample(fn, min_time: float) -> int:
    """How many back-to-back calls last about min_time (grown like timeit's autorange)."""
    number = 1
    while True:
        dt = sample(fn, number) * number
        if dt >= min_time / 4 or number >= 10**7:
            return max(1, math.ceil(number * min_time / max(dt, 1e-9)))
        number *= 4


def sample(fn, number: int) -> float:
    t = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t) / number


def speed_probe() -> float:
    """Seconds for np.add of two 1M float64 arrays into a buffer (best of 5 x 10): a
    yardstick of the machine's speed at the moment, recorded with every problem."""
    a, b = np.ones(1_000_000), np.ones(1_000_000)
    out = np.empty_like(a)
    return min(sample(lambda: np.add(a, b, out=out), 10) for _ in range(5))


def paired(times: list[float], reference: list[float]) -> float:
    """Median over repetitions of time / reference time in the same repetition: robust to
    the machine's speed drifting between repetitions (it does, on a shared host)."""
    return statistics.median(t / r for t, r in zip(times, reference))


def peak_memory(fn) -> int:
    """Peak bytes allocated (NumPy reports its buffers to tracemalloc) during one call,
    above what was allocated before it; the call's outputs are alive at the end."""
    pygc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del out
    finally:
        tracemalloc.stop()
    return int(peak)


class CpuMonitor:
    """CPU used by other processes (and stolen by the hypervisor) while we measure, in
    CPUs on average: the check that the machine was quiet. Linux only, else None."""

    def __init__(self):
        self.start = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / tick  # user nice system irq softirq
        t = os.times()
        return busy, v[7] / tick, t.user + t.system, time.perf_counter()

    def stop(self) -> dict[str, float] | None:
        end = self._read()
        if self.start is None or end is None:
            return None
        wall = max(end[3] - self.start[3], 1e-9)
        other = (end[0] - self.start[0]) - (end[2] - self.start[2])
        return {"other_cpus": max(0.0, other / wall),
                "steal_cpus": (end[1] - self.start[1]) / wall, "wall_s": wall}


QUIET_CPUS = 0.2  # other processes' CPU use under which the machine counts as quiet


def wait_quiet(max_wait: float, threshold: float = QUIET_CPUS, step: float = 0.5) -> float:
    """Wait (up to max_wait s) until other processes use under `threshold` CPUs over a
    `step`-second window; returns the seconds waited."""
    start = time.perf_counter()
    while True:
        m = CpuMonitor()
        time.sleep(step)
        load = m.stop()
        if load is None or load["other_cpus"] < threshold:
            return time.perf_counter() - start
        if time.perf_counter() - start > max_wait:
            return time.perf_counter() - start


# ----------------------------------------------------------------------------- a problem

def run_problem(problem: pb.Problem, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {problem.key}: {problem.title}", flush=True)
    inputs = problem.make_inputs()
    registry = pb.REGISTRY[problem.key]
    wanted = args.contenders
    rows: dict[str, dict[str, Any]] = {}
    ready: dict[str, pb.Prepared] = {}
    forwards: dict[str, Any] = {}
    ref = None
    for name, setup in registry.items():
        if wanted and name != problem.hand_name and not any(w in name for w in wanted):
            continue
        row: dict[str, Any] = {"status": "ok", "note": ""}
        rows[name] = row
        t = time.perf_counter()
        try:
            with time_limit(args.setup_timeout):
                prep = setup(inputs)
        except (Exception, SetupTimeout) as exc:  # a keyword graphc lacks, a missing library
            row.update(status="skipped", note="set-up failed: " + short(exc))
            print(f"  {name:<22} skipped ({row['note']})", flush=True)
            continue
        finally:
            if "sympy" in sys.modules:
                sys.modules["sympy"].core.cache.clear_cache()
        row["setup_s"] = time.perf_counter() - t
        try:
            res = prep.result(prep.run())
            if ref is None:
                ref = res  # the hand-written reference is the registry's first entry
            row.update(check(problem, res, ref))
        except Exception as exc:
            row.update(status="failed", note="run failed: " + short(exc))
            print(f"  {name:<22} failed ({row['note']})", flush=True)
            continue
        if not row["ok"]:
            row.update(status="mismatch", note="gradient or value differs from hand-written")
        ready[name] = prep
        if prep.make_forward is not None:
            try:
                forwards[name] = prep.make_forward()
                forwards[name]()
            except Exception as exc:
                forwards.pop(name, None)
                row["note"] += " forward failed: " + short(exc)
        if prep.source is not None:
            row["source"] = prep.source  # graphc's emitted module, kept in results.json
        print(f"  {name:<22} set-up {row['setup_s']:8.3f} s   max|dgrad| {row['grad_diff']:.2e}"
              f"   |dvalue| {row['value_diff']:.2e}   {row['status']}", flush=True)

    if problem.memory and not args.no_memory:
        for name, prep in ready.items():
            if prep.numpy_memory:
                # arrays kept between calls count as the call's own (they were made by it);
                # memory a call reuses for its outputs is forgotten, so the call makes them
                prep.forget()
                rows[name]["peak_bytes"] = peak_memory(prep.run) + prep.held()

    # interleaved timing: a warm-up call each, calls per sample, then round-robin
    entries = [(name, "vg", prep.run) for name, prep in ready.items()]
    entries += [(name, "fwd", fn) for name, fn in forwards.items()]
    for _, _, fn in entries:
        fn()
    numbers = [calls_per_sample(fn, args.min_time) for _, _, fn in entries]
    times: dict[tuple[str, str], list[float]] = {(n, k): [] for n, k, _ in entries}
    load = {"other_cpu_s": 0.0, "steal_cpu_s": 0.0, "wall_s": 0.0, "waited_s": 0.0,
            "discarded": 0, "probe_before_s": speed_probe()}
    enabled = pygc.isenabled()
    pygc.disable()
    try:
        for rep in range(args.repeats):
            order = list(zip(entries, numbers))
            shift = rep % len(order)  # rotate who goes first
            order = order[shift:] + order[:shift]
            for attempt in range(args.retries + 1):
                if args.wait_quiet > 0:
                    load["waited_s"] += wait_quiet(args.wait_quiet)
                monitor = CpuMonitor()
                got = {}
                for (name, kind, fn), number in order:
                    time.sleep(args.settle)  # let the last contender's thread pools go idle
                    fn()  # then wake this one's (untimed): samples are back-to-back calls
                    got[(name, kind)] = sample(fn, number)
                used = monitor.stop()
                busy = used is not None and used["other_cpus"] > QUIET_CPUS
                print(f"  repetition {rep + 1}/{args.repeats}"
                      + (f" (other processes {used['other_cpus']:.2f} CPUs)" if used else "")
                      + (", discarded" if busy and attempt < args.retries else ""), flush=True)
                if busy and attempt < args.retries:
                    load["discarded"] += 1
                    continue
                break
            for k, t in got.items():
                times[k].append(t)
            if used is not None:
                load["other_cpu_s"] += used["other_cpus"] * used["wall_s"]
                load["steal_cpu_s"] += used["steal_cpus"] * used["wall_s"]
                load["wall_s"] += used["wall_s"]
    finally:
        if enabled:
            pygc.enable()
    load["probe_after_s"] = speed_probe()
    for (name, kind, _), number in zip(entries, numbers):
        ts = times[(name, kind)]
        rows[name][f"{kind}_times"] = ts
        rows[name][f"{kind}_median"] = statistics.median(ts)
        rows[name][f"{kind}_min"] = min(ts)
        rows[name][f"{kind}_calls_per_sample"] = number
    hand = rows[problem.hand_name].get("vg_median")
    hand_times = rows[problem.hand_name].get("vg_times")
    for row in rows.values():
        if "vg_median" in row and hand:
            row["ratio"] = row["vg_median"] / hand
            row["ratio_paired"] = paired(row["vg_times"], hand_times)
        if "vg_median" in row and "fwd_median" in row:
            row["grad_over_fwd"] = row["vg_median"] / row["fwd_median"]
            row["grad_over_fwd_paired"] = paired(row["vg_times"], row["fwd_times"])
    ready.clear()
    forwards.clear()
    pygc.collect()
    doc = " ".join((problem.hand.__doc__ or "").split())
    return {"key": problem.key, "title": problem.title, "description": problem.description,
            "hand_doc": doc, "hand": problem.hand_name, "rtol": problem.rtol,
            "notes": problem.notes, "load": load if load["wall_s"] else None, "contenders": rows}


# ----------------------------------------------------------------------------- compile time

def run_compile_time(sizes: list[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    print("\n== compile time: random scalar DAGs", flush=True)
    out = []
    for n in sizes:
        text = random_dag_text(n)
        t = time.perf_counter()
        g = gc.parse(text)
        parse_s = time.perf_counter() - t
        row: dict[str, Any] = {"size": n, "nodes": len(g.nx), "parse_s": parse_s,
                               "variants": {}}
        for name, kwargs in pb.GRAPHC_VARIANTS.items():
            if args.contenders and not any(w in name for w in args.contenders):
                continue
            v: dict[str, Any] = {}
            if args.wait_quiet > 0:
                wait_quiet(args.wait_quiet)
            try:
                monitor = CpuMonitor()
                t = time.perf_counter()
                with time_limit(args.compile_timeout, "gc.compile"):
                    fn = gc.compile(g, **kwargs)
                v["compile_s"] = time.perf_counter() - t
                used = monitor.stop()
                v["other_cpus"] = used["other_cpus"] if used else None
                v["source_lines"] = fn.source.count("\n")
                v["us_per_node"] = 1e6 * v["compile_s"] / row["nodes"]
                print(f"  {row['nodes']:>7} nodes {name:<16} compile {v['compile_s']:.2f} s",
                      flush=True)
            except (Exception, SetupTimeout) as exc:
                v["note"] = "failed: " + short(exc)
                print(f"  {row['nodes']:>7} nodes {name:<16} {v['note']}", flush=True)
            if "compile_s" in v:  # the first call on Python floats (a lazy JIT pays here)
                try:
                    t = time.perf_counter()
                    with time_limit(args.compile_timeout, "the first call"):
                        fn.module.value_and_grad(*[0.1 * (i + 1) for i in range(len(g.inputs))])
                    v["first_call_s"] = time.perf_counter() - t
                except (Exception, SetupTimeout) as exc:
                    v["first_call_note"] = short(exc)
                del fn
            row["variants"][name] = v
        out.append(row)
        pygc.collect()
    return out


# ----------------------------------------------------------------------------- machine

def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpu": cpu, "machine": platform.machine(), "os": platform.platform(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "versions": {d: _version(d) for d in ["graphc", "numpy", "jax", "jaxlib", "torch",
                                              "autograd", "pytensor", "sympy", "numba"]},
        "env": {k: os.environ[k] for k in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                           "MKL_NUM_THREADS", "XLA_FLAGS"] if k in os.environ},
        "blas_kernels": [],
        "threads": {},
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            key = f"{pool.get('internal_api')} ({Path(pool.get('filepath', '')).name})"
            info["threads"][key] = pool.get("num_threads")
            if pool.get("architecture"):
                info["blas_kernels"].append(f"{pool.get('internal_api')} "
                                            f"{pool['architecture']}")
    with contextlib.suppress(Exception):
        import torch

        info["threads"]["torch intra-op"] = torch.get_num_threads()
        info["threads"]["torch inter-op"] = torch.get_num_interop_threads()
    with contextlib.suppress(Exception):
        import numba

        info["threads"]["numba"] = numba.get_num_threads()
    with contextlib.suppress(Exception):
        import jax

        info["jax_devices"] = [str(d) for d in jax.devices()]
    with contextlib.suppress(Exception):
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "graphc"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        info["graphc_commit"] = rev + (" + uncommitted changes in graphc/" if dirty else "")
    return info


# ----------------------------------------------------------------------------- report

def fmt_time(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * (1e6 if unit == 'µs' else 1e3):.2f}"


def fmt(x: float | None, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def problem_table(p: dict[str, Any]) -> str:
    rows = p["contenders"]
    hand = rows.get(p["hand"], {}).get("vg_median")
    unit = "µs" if hand is not None and hand < 1e-3 else "ms"
    head = (f"| contender | median {unit} | min {unit} | × hand-written (median) | "
            f"× hand-written (paired) | forward median {unit} | grad / forward (paired) | "
            "set-up s | max abs Δgrad | abs Δvalue | peak extra MB | status |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    lines = [head]
    for name, r in rows.items():
        if r["status"] in ("skipped", "failed"):
            lines.append(f"| {name} |" + " – |" * 10 + f" {r['note']} |")
            continue
        peak = r.get("peak_bytes")
        status = "ok" if r["status"] == "ok" else "**MISMATCH**"
        if r.get("note"):
            status += f" ({r['note'].strip()})"
        lines.append(
            f"| {name} | {fmt_time(r.get('vg_median'), unit)} | "
            f"{fmt_time(r.get('vg_min'), unit)} | {fmt(r.get('ratio'), '.2f')} | "
            f"{fmt(r.get('ratio_paired'), '.2f')} | {fmt_time(r.get('fwd_median'), unit)} | "
            f"{fmt(r.get('grad_over_fwd_paired'), '.2f')} | "
            f"{fmt(r.get('setup_s'), '.3f')} | {r['grad_diff']:.1e} | {r['value_diff']:.1e} | "
            f"{'–' if peak is None else f'{peak / 2**20:.1f}'} | {status} |")
    return "\n".join(lines)


def summary_table(results: list[dict[str, Any]]) -> str:
    canon = [*pb.GRAPHC_VARIANTS, *pb.ELEMENTWISE_VARIANTS, pb.JAX, pb.TORCH, pb.AUTOGRAD,
             pb.PYTENSOR, pb.SYMPY]
    seen = {name for p in results for name in p["contenders"]} - {pb.HAND, pb.HAND_PY}
    names = [n for n in canon if n in seen] + sorted(seen - set(canon))
    head = ("| problem | hand-written median | " + " | ".join(names) + " |\n"
            "|---|---:|" + "---:|" * len(names))
    lines = [head]
    for p in results:
        rows = p["contenders"]
        hand = rows[p["hand"]].get("vg_median")
        unit = "µs" if hand is not None and hand < 1e-3 else "ms"
        cells = []
        for name in names:
            r = rows.get(name)
            if r is None:
                cells.append("")
            elif "ratio_paired" not in r:
                cells.append("skipped")
            else:
                cells.append(f"{r['ratio_paired']:.2f}"
                             + ("" if r["status"] == "ok" else " (!)"))
        lines.append(f"| {p['key']} | {fmt_time(hand, unit)} {unit} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def before_table(results: list[dict[str, Any]], rev: str) -> str:
    names = [n for n in [*pb.GRAPHC_VARIANTS, *pb.ELEMENTWISE_VARIANTS]
             if any("vs_before" in p["contenders"].get(n, {}) for p in results)]
    lines = ["| problem | " + " | ".join(f"{n} / {n} @{rev}" for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for p in results:
        cells = [fmt(p["contenders"].get(n, {}).get("vs_before"), ".3f") for n in names]
        lines.append(f"| {p['key']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results: list[dict[str, Any]], compile_rows: list[dict[str, Any]]) -> str:
    """Issue 5's targets, evaluated on this run, one column per graphc variant."""
    variants = list(pb.GRAPHC_VARIANTS)
    lines = ["| target | " + " | ".join(variants) + " |",
             "|---|" + "---|" * len(variants)]

    def mark(ok: bool, text: str) -> str:
        return f"{'yes' if ok else '**no**'} ({text})"

    for p in results:
        rows, key = p["contenders"], p["key"]
        cells = []
        for v in variants:
            r = rows.get(v, {})
            if "ratio_paired" not in r:
                cells.append("–")
                continue
            bound = 2.0 if key == "P1-float" else 1.0
            ratio = r["ratio_paired"]
            parts = [mark(ratio <= bound, f"{ratio:.2f}× hand ≤ {bound:g}")]
            peers = {n: paired(r["vg_times"], rows[n]["vg_times"])
                     for n in PEERS if "vg_times" in rows.get(n, {})}
            if peers and key in FUSION_TARGETS | WITHIN_TARGETS:
                best = max(peers, key=peers.get)  # the fastest peer: graphc/peer largest
                limit = 1.0 if key in FUSION_TARGETS else 1.5
                ok = peers[best] < limit if limit == 1.0 else peers[best] <= limit
                parts.append(mark(ok, f"{peers[best]:.2f}× fastest peer ({best}) "
                                      f"{'<' if limit == 1.0 else '≤'} {limit:g}"))
            if "grad_over_fwd_paired" in r:
                gf = r["grad_over_fwd_paired"]
                parts.append(mark(gf <= 3.0, f"grad/fwd {gf:.2f} ≤ 3"))
            if "peak_bytes" in r and "peak_bytes" in rows[p["hand"]]:
                hand = rows[p["hand"]]["peak_bytes"]
                ratio = r["peak_bytes"] / max(1, hand)
                parts.append(mark(r["peak_bytes"] <= hand + MEMORY_SLACK,
                                  f"peak memory {ratio:.2f}× hand ≤ 1"))
            cells.append("; ".join(parts))
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    big = [r for r in compile_rows if r["size"] >= 100_000]
    if big:
        cells = []
        for v in variants:
            c = big[-1]["variants"].get(v, {})
            cells.append(mark(c["compile_s"] < 10, f"{c['compile_s']:.1f} s < 10")
                         if "compile_s" in c else f"**no** ({c.get('note', 'not run')})")
        lines.append(f"| compile {big[-1]['nodes']:,} nodes | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compile_table(rows: list[dict[str, Any]]) -> str:
    variants = list(pb.GRAPHC_VARIANTS)
    head = ("| DAG size | nodes | parse s | "
            + " | ".join(f"{v} compile s (µs/node) | {v} first call s" for v in variants)
            + " |\n|---:|---:|---:|" + "---:|---:|" * len(variants))
    lines = [head]
    for r in rows:
        cells = []
        for v in variants:
            c = r["variants"].get(v, {})
            if "compile_s" not in c:
                cells.append(f"{c.get('note', '–')} | –")
                continue
            first = (f"{c['first_call_s']:.2f}" if "first_call_s" in c
                     else c.get("first_call_note", "–"))
            cells.append(f"{c['compile_s']:.2f} ({c['us_per_node']:.0f}) | {first}")
        lines.append(f"| {r['size']:,} | {r['nodes']:,} | {r['parse_s']:.2f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    threads = ", ".join(f"{k}: {v}" for k, v in m["threads"].items()) or "unknown"
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    out = [
        "# Benchmarks: graphc against hand-written NumPy, JAX, PyTorch, autograd, "
        "PyTensor, sympy\n",
        f"Produced by `{report['command']}` ({report['date']}, {report['wall_s']:.0f} s "
        "wall). Machine-readable results: `benchmarks/results.json`.\n",
        f"- CPU: {m['cpu']} ({m['machine']}), {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable); {m['os']}",
        f"- Python {m['python']}; {versions}",
        f"- threads: {threads}; JAX/XLA: default CPU client ({', '.join(m.get('jax_devices', []))})"
        + (f"; env {m['env']}" if m["env"] else ""),
        f"- NumPy's BLAS kernels: {', '.join(m.get('blas_kernels', [])) or 'unknown'} "
        "(OpenBLAS picks them from the CPU unless OPENBLAS_CORETYPE forces a kernel)",
        f"- graphc: {m.get('graphc_commit', 'unknown')}",
        f"- load average at start: {m.get('loadavg_at_start')}; the load while each problem "
        "ran is under its table (other processes on a 2-CPU machine slow down the "
        "multi-threaded contenders most, PyTorch above all).",
        "",
        "## How it is measured\n",
        f"- Every contender of a problem runs in this one process on the same inputs. "
        f"{report['repeats']} repetitions, interleaved: each repetition runs every "
        "contender's value-and-gradient and forward once in turn (round-robin, rotating "
        "who goes first), after one warm-up call each. Before each sample the suite "
        f"pauses {report['settle']:g} s, so that no library's idle worker threads still "
        "spin while the next one runs (OpenBLAS's spin for about 0.1 s), and makes one "
        "untimed call, so that the sample measures back-to-back calls as in a training "
        "loop rather than thread pools waking up. A sample is the mean over enough "
        f"back-to-back calls to last ≥ {1e3 * report['min_time']:.0f} ms (one call for the "
        "array problems, thousands for Python floats); the tables give the median and the "
        "minimum of the samples. Python's garbage collector is off while timing. Before "
        f"each repetition the suite waits (up to {report['wait_quiet']:g} s) until other "
        f"processes use under {QUIET_CPUS} CPUs, reruns a repetition during which they "
        f"used more (at most {report['retries']} times), and records how busy the machine "
        "was while it timed (under each problem's table).",
        "- × hand-written (median) = median / hand-written median (NumPy; Python for "
        "P1-float). × hand-written (paired) = median over repetitions of time / "
        "hand-written time in the same repetition, which cancels the drift of this shared "
        "machine's speed between repetitions; the summary and the targets use it, and the "
        "peer comparisons are paired the same way. grad / forward (paired) = the same "
        "paired median of value-and-gradient time / forward time of one contender.",
        "- Set-up: graphc `gc.parse` + `gc.compile` (graphc+numba: and the first calls, "
        "where numba compiles its loops); JAX jit trace + XLA compile (the first "
        "call); PyTensor `pytensor.function` compile (C backend); sympy `diff` + `cse` + "
        "`lambdify`; zero-ish for the eager ones. Set-ups over "
        f"{report['setup_timeout']:g} s are abandoned.",
        "- Correctness: max |difference| of every gradient and of the value against "
        "hand-written NumPy; a row is flagged when it exceeds rtol · max(1, max |reference|) "
        "(rtol 1e-9, 1e-8 for the 30-rung ladder, 2e-3 for float32 P4).",
        "- Peak extra MB: `tracemalloc` peak during one value-and-gradient call above what "
        "was allocated before it (NumPy reports its buffers to tracemalloc; the returned "
        "value and gradients are included), plus the arrays graphc holds between calls "
        "(graphc+blocks' block arrays, one set per thread). Only for NumPy-based "
        "contenders (graphc+numba's loops "
        "allocate nothing but the outputs, and write into the memory of the last call's "
        "outputs once those are dropped: the measured call is made to allocate them). "
        "The target compares peaks "
        f"to within {MEMORY_SLACK // 1024} KiB: Python objects (a float, a frame) and "
        "tracemalloc's own bookkeeping move a peak by tens of bytes from call to call.",
        "- Per-element problems (P1, P2, P3) return the output array and the gradient of "
        "its sum (a seed of ones): JAX `value_and_grad(..., has_aux=True)` of "
        "`(sum(out), out)`, PyTorch `out.sum().backward()`, PyTensor `grad(out.sum())`, "
        "autograd `make_vjp` with a ones seed (the body of its `value_and_grad`).",
        "- JAX: float64 (`jax_enable_x64`) except float32 P4, inputs as `jnp` arrays, "
        "`block_until_ready` on the outputs. PyTorch: fresh leaves via `torch.from_numpy` "
        "each call (in the time), default threads. sympy: P5 and P6 differentiate one term "
        "of the sum symbolically and sum with NumPy.",
        "",
        "## Summary: time relative to hand-written (paired median)\n",
        summary_table(report["problems"]),
        "",
    ]
    if report.get("before"):
        out += [f"## Before and after: this graphc against graphc at {report['before']}\n",
                "Time of this commit's emitted module / time of the module commit "
                f"{report['before']} emits for the same variant (paired median; both are "
                "timed in the same repetitions, so under 1 is faster now).\n",
                before_table(report["problems"], report["before"]), ""]
    if report["problems"]:
        out += ["## Targets of issue 5 on this run\n",
                targets(report["problems"], report["compile_time"]), ""]
    for p in report["problems"]:
        out += [f"## {p['key']}: {p['title']}\n", p["description"], "",
                problem_table(p), ""]
        notes = ([f"{p['hand']}: {p['hand_doc']}"] if p.get("hand_doc") else []) + p["notes"]
        if p.get("load"):
            ld = p["load"]
            notes.append(f"Machine load during the timed repetitions ({ld['wall_s']:.1f} s): "
                         f"other processes {ld['other_cpu_s'] / ld['wall_s']:.2f} CPUs, "
                         f"hypervisor steal {ld['steal_cpu_s'] / ld['wall_s']:.2f} CPUs on "
                         f"average (waited {ld['waited_s']:.0f} s for quiet before "
                         f"repetitions; {ld.get('discarded', 0)} repetitions discarded and "
                         "rerun because others were busy). Speed probe (np.add of 1M "
                         f"float64 into a buffer): {1e3 * ld['probe_before_s']:.3f} ms before "
                         f"the repetitions, {1e3 * ld['probe_after_s']:.3f} ms after.")
        out += [f"- {n}" for n in notes] + ([""] if notes else [])
    if report["compile_time"]:
        out += ["## Compile time: random scalar DAGs\n",
                "`benchmarks/compile_time.py`'s `random_dag_text(n)` (random unary and "
                "binary ops on earlier nodes, fan-out, shared operands); `gc.compile` = "
                "reverse mode + passes + emitter + loading the module; each timed once, "
                f"abandoned after {report['compile_timeout']:g} s.\n",
                compile_table(report["compile_time"]), ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repetitions (default 15, 3 with --quick): on this "
                             "shared machine one repetition's ratios scatter by 5-10%%, "
                             "their median over 7 by about 3%%")
    parser.add_argument("--problems", default=None,
                        help=f"comma-separated, of {','.join(pb.PROBLEMS)},compile")
    parser.add_argument("--contenders", default=None,
                        help="comma-separated name fragments (hand-written always runs)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--min-time", type=float, default=None,
                        help="seconds per sample (default 0.02, 0.005 with --quick)")
    parser.add_argument("--setup-timeout", type=float, default=60.0,
                        help="seconds a contender's set-up may take on a problem")
    parser.add_argument("--compile-timeout", type=float, default=120.0,
                        help="seconds gc.compile may take on a random DAG")
    parser.add_argument("--compile-sizes", default=None,
                        help="DAG sizes (default 1000,10000,100000; 1000,10000 with --quick)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--wait-quiet", type=float, default=30.0,
                        help="before each repetition wait up to this many seconds for other "
                             "processes to go quiet (0: do not wait)")
    parser.add_argument("--settle", type=float, default=0.2,
                        help="seconds of sleep before each sample, so that the thread pools "
                             "of the contender before (OpenBLAS spins ~0.1 s) are idle")
    parser.add_argument("--retries", type=int, default=3,
                        help="rerun a repetition during which other processes used over "
                             f"{QUIET_CPUS} CPUs, at most this many times")
    parser.add_argument("--before", default=None, metavar="REV",
                        help="also time the modules graphc at commit REV emits for each "
                             "variant, side by side (benchmarks/before.py)")
    parser.add_argument("--out", default=None, help="markdown (default docs/benchmarks.md)")
    parser.add_argument("--json", default=None, help="json (default benchmarks/results.json)")
    args = parser.parse_args(argv)
    command = "python benchmarks/suite.py" + "".join(
        f" {a}" for a in (sys.argv[1:] if argv is None else argv))
    args.repeats = args.repeats or (3 if args.quick else 15)
    args.min_time = args.min_time or (0.005 if args.quick else 0.02)
    sizes = [int(s) for s in (args.compile_sizes or
                              ("1000,10000" if args.quick else "1000,10000,100000")).split(",")]
    keys = list(pb.PROBLEMS) + ["compile"]
    chosen = keys if args.problems is None else [k.strip() for k in args.problems.split(",")]
    unknown = set(chosen) - set(keys)
    if unknown:
        parser.error(f"unknown problem {sorted(unknown)[0]!r} (of {', '.join(keys)})")
    args.contenders = ([c.strip() for c in args.contenders.split(",")]
                       if args.contenders else None)
    write = not args.quick or args.out or args.json
    out_md = Path(args.out or ROOT / "docs" / "benchmarks.md")
    out_json = Path(args.json or HERE / "results.json")

    start = time.perf_counter()
    machine = machine_info()
    if "OPENBLAS_CORETYPE" in os.environ:
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} forces NumPy's BLAS "
              f"kernels ({', '.join(machine['blas_kernels'])}); for the CPU's own, run with "
              "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE", file=sys.stderr)
    if args.before:
        args.before = before.short_rev(args.before)
        keys_run = [k for k in keys[:-1] if k in chosen]
        for key, variants in before.emitted(args.before, keys_run).items():
            for name, source in variants.items():
                pb.REGISTRY[key][f"{name} @{args.before}"] = partial(pb.setup_emitted, source)
    results = [run_problem(pb.PROBLEMS[k], args) for k in keys[:-1] if k in chosen]
    if args.before:
        for p in results:
            rows = p["contenders"]
            for name, row in rows.items():
                old = rows.get(f"{name} @{args.before}", {})
                if "vg_times" in row and "vg_times" in old:
                    row["vs_before"] = paired(row["vg_times"], old["vg_times"])
    compile_rows = run_compile_time(sizes, args) if "compile" in chosen else []
    report = {"command": command, "date": time.strftime("%Y-%m-%d %H:%M"),
              "wall_s": time.perf_counter() - start, "repeats": args.repeats,
              "min_time": args.min_time, "setup_timeout": args.setup_timeout,
              "wait_quiet": args.wait_quiet, "retries": args.retries, "settle": args.settle,
              "compile_timeout": args.compile_timeout, "before": args.before,
              "machine": machine, "problems": results, "compile_time": compile_rows}
    text = markdown(report)
    print("\n" + text)
    if write:
        out_md.parent.mkdir(parents=True, exist_ok=True)
        out_md.write_text(text)
        out_json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {out_md} and {out_json}")
    bad = [f"{p['key']} {n}: {r['note']}" for p in results
           for n, r in p["contenders"].items() if r["status"] in ("mismatch", "failed")]
    for line in bad:
        print(f"error: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
