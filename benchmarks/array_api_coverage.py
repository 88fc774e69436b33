"""How many random programs backend="array_api" compiles, and the first op it refuses in
the others (docs/array_api.md): hypothesis's ``programs()`` of tests/strategies.py,
derandomized, each program's output summed, reverse mode. A count, not a timing.

    PYTHONPATH=. python benchmarks/array_api_coverage.py            # 150 examples
    PYTHONPATH=. python benchmarks/array_api_coverage.py 600 8      # 600, max_steps=8
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from strategies import programs  # noqa: E402

import graphc as gc  # noqa: E402


def main(examples: int = 150, max_steps: int = 6) -> None:
    refused: collections.Counter = collections.Counter()
    compiled = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(p=programs(max_steps=max_steps))
    def run(p):
        g = gc.parse(p.text() + f"total_ = sum({p.out})\n")
        try:
            gc.compile(g, mode="reverse")
        except gc.GraphcError:
            refused["(the NumPy backend refuses it too)"] += 1
            return
        try:
            gc.compile(g, mode="reverse", backend="array_api")
            compiled.append(p)
        except gc.GraphcError as exc:
            found = re.search(r"op '(\w+)' has no Array-API spelling", str(exc))
            refused[found[1] if found else str(exc)[:80]] += 1

    run()
    print(f"of {examples} random programs (max_steps={max_steps}), {len(compiled)} compiled")
    for what, count in refused.most_common():
        print(f"{count:4d}  {what}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:3]))
