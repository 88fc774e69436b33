"""An earlier graphc as contenders of this run: ``suite.py --before REV``.

The emitted module stands alone, so an earlier commit's graphc can compile each problem
in a process of its own (a git worktree of REV on ``PYTHONPATH``, its own
``benchmarks/problems.py`` giving its variants' keywords) and hand back the source; the
suite loads those modules beside today's and times them in the same repetitions, so a
change to graphc is measured side by side with what it replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_DUMP = """
import json, sys
sys.path.insert(0, "benchmarks")
import graphc as gc
import problems as pb
out = {}
for key in sys.argv[1:]:
    p = pb.PROBLEMS[key]
    variants = {**pb.GRAPHC_VARIANTS, **(pb.ELEMENTWISE_VARIANTS if p.elementwise else {})}
    g = gc.parse(p.gc_text)
    out[key] = {name: gc.compile(g, wrt=p.wrt, **kw).source for name, kw in variants.items()}
print(json.dumps(out))
"""


def emitted(rev: str, keys: list[str]) -> dict[str, dict[str, str]]:
    """problem key -> variant name -> the module REV's graphc emits for it."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = str(Path(tmp) / "tree")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", tree, rev],
                       check=True, capture_output=True)
        try:
            done = subprocess.run([sys.executable, "-c", _DUMP, *keys], cwd=tree,
                                  env={**os.environ, "PYTHONPATH": tree},
                                  capture_output=True, text=True, check=False)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree],
                           check=False, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"graphc at {rev} failed to compile the problems:\n{done.stderr}")
    return json.loads(done.stdout)


def short_rev(rev: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                          check=True, capture_output=True, text=True).stdout.strip()
