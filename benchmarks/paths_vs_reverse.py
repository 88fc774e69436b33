"""Why reverse mode: a ladder of k diamonds has 2**k paths from input to output.

For growing k this measures the number of paths (counted by dynamic programming), the
time to enumerate them and sum their products (only while that is feasible), the
time to count them, and the time of one reverse-mode gradient, then writes a table
(docs/paths_vs_reverse.md) and, when matplotlib is installed (the `plot` extra), a
log-scale plot (docs/img/paths_vs_reverse.svg).

    python benchmarks/paths_vs_reverse.py
"""

from __future__ import annotations

import time
from pathlib import Path

import graphc as gc
from graphc.ir.derive import edge_values, local_derivatives
from graphc.teach.verify import count_paths, enumerate_paths

DOCS = Path(__file__).resolve().parent.parent / "docs"
ENUMERATE_UP_TO = 16  # 2**16 = 65,536 paths; beyond that enumeration takes minutes


def ladder(k: int) -> gc.Graph:
    """x_i = sin(x_{i-1}) + cos(x_{i-1}), k times: two branches per rung."""
    return gc.parse("".join(f"x{i} = sin(x{i - 1}) + cos(x{i - 1})\n"
                            for i in range(1, k + 1)))


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(k: int) -> dict:
    g = ladder(k)
    out = g.outputs[0]
    at = {"x0": 0.3}
    env = g.bind((), at)
    symbolic = local_derivatives(g)
    numeric = edge_values(g, env)
    edges = set(symbolic)
    fn = gc.compile(g)
    row = {"k": k, "paths": count_paths(g, "x0", out, edges),
           "count_s": best_of(lambda: count_paths(g, "x0", out, edges)),
           "reverse_s": best_of(lambda: fn(x0=0.3), repeat=20), "enumerate_s": None}
    if k <= ENUMERATE_UP_TO:
        row["enumerate_s"] = best_of(
            lambda: sum(p.value for p in enumerate_paths(g, "x0", out, edges, symbolic,
                                                         numeric)), repeat=1)
    t = time.perf_counter()
    rep = gc.verify(g, at=at)
    row["verify_s"], row["ok"] = time.perf_counter() - t, rep.ok
    return row


def main() -> None:
    rows = []
    for k in (1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 30, 40):
        r = measure(k)
        rows.append(r)
        print(f"k={k:>2}: {r['paths']:>16,} paths, reverse {1e6 * r['reverse_s']:.0f} us, "
              f"verify {r['verify_s']:.2f} s ok={r['ok']}", flush=True)

    def secs(x: float | None) -> str:
        return "-" if x is None else f"{x:.2e}"

    table = "\n".join(
        f"| {r['k']} | {r['paths']:,} | {secs(r['enumerate_s'])} | {secs(r['count_s'])} | "
        f"{secs(r['reverse_s'])} | {r['verify_s']:.2f} | {'yes' if r['ok'] else 'NO'} |"
        for r in rows)
    (DOCS / "paths_vs_reverse.md").write_text(
        "# Path sums vs reverse mode\n\n"
        "A ladder of k diamonds (`x_i = sin(x_{i-1}) + cos(x_{i-1})`) has 2^k paths from "
        "x0 to the output. Summing the product of local derivatives over every path takes "
        "time proportional to the number of paths; reverse mode takes time proportional "
        "to the number of edges. Times in seconds, best of several runs, from "
        "`python benchmarks/paths_vs_reverse.py`.\n\n"
        "| k | paths | enumerate all paths s | count paths (DP) s | reverse-mode gradient s "
        "| gc.verify s | verify ok |\n|---:|---:|---:|---:|---:|---:|:---:|\n"
        f"{table}\n\n![paths vs reverse](img/paths_vs_reverse.svg)\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[plot]'): table only")
        return
    fig, ax = plt.subplots(figsize=(6.4, 4))
    enum = [r for r in rows if r["enumerate_s"] is not None]
    ax.semilogy([r["k"] for r in rows], [r["paths"] for r in rows], "k:", label="number of paths")
    ax.semilogy([r["k"] for r in enum], [r["enumerate_s"] for r in enum], "o-",
                label="enumerate paths (s)")
    ax.semilogy([r["k"] for r in rows], [r["reverse_s"] for r in rows], "s-",
                label="reverse mode (s)")
    ax.set_xlabel("k (diamonds in the ladder)")
    ax.set_title("Path sums grow as 2^k; reverse mode grows as k")
    ax.legend()
    fig.tight_layout()
    fig.savefig(DOCS / "img" / "paths_vs_reverse.svg")
    print("wrote docs/paths_vs_reverse.md and docs/img/paths_vs_reverse.svg")


if __name__ == "__main__":
    main()
