"""The emitted module of each benchmark problem (benchmarks/problems.py), for each
backend, compared verbatim with a golden file in tests/golden/, and colah's example: a
change to the emitted code shows as a diff that a reviewer reads. After an intended
change, regenerate them and read the diff:

    pytest tests/test_golden.py --regen-golden
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

import graphc as gc

sys.path.insert(0, str(ROOT / "benchmarks"))
try:
    from problems import PROBLEMS
finally:
    sys.path.pop(0)

GOLDEN = Path(__file__).parent / "golden"
REGEN = "pytest tests/test_golden.py --regen-golden"
BACKENDS = ("numpy", "numba", "blocks")
CASES = [(key, backend, "reverse") for key in PROBLEMS for backend in BACKENDS] + \
    [(key, "numpy", "forward") for key in PROBLEMS]
COLAH = "colah_grad.py"
"""examples/colah.gc compiled with the defaults (test_colah.py reads it too)."""
EXAMPLE_SOURCES = {
    "attention_grad.py": lambda: gc.compile(gc.load(EXAMPLES / "attention.gc")),
    "huber_grad.py": lambda: gc.compile(gc.load(EXAMPLES / "huber.gc")),
    "black_scholes_grad.py": lambda: gc.compile(gc.load(EXAMPLES / "black_scholes.gc")),
    "newton_logistic_hessian.py": lambda: gc.hessian(_newton_loss(), wrt="w"),
    "attention_vjp.py": lambda: gc.vjp(gc.load(EXAMPLES / "attention.gc"), of="out",
                                       wrt="Wq,Wk,Wv"),
}
"""The array language (where, a causal mask, erf, integer-free reductions) and the
derivatives beyond the gradient, emitted from the examples users start from."""


def _newton_loss() -> gc.Graph:
    sys.path.insert(0, str(ROOT))
    try:
        from examples.newton_logistic import LOSS
    finally:
        sys.path.pop(0)
    return LOSS


def compile_for(g: gc.Graph, backend: str, mode: str, **kwargs) -> gc.CompiledFunction:
    """``gc.compile`` for a backend by name."""
    return gc.compile(g, mode=mode, backend=backend, **kwargs)


def golden_name(key: str, backend: str, mode: str) -> str:
    return f"{key.lower().replace('-', '_')}_{backend}" + \
        ("_forward" if mode == "forward" else "") + ".py"


def check(name: str, source: str, config: pytest.Config) -> None:
    """``source`` is the golden file ``name``, or becomes it with --regen-golden."""
    path = GOLDEN / name
    if config.getoption("--regen-golden"):
        if not path.exists() or path.read_text(encoding="utf-8") != source:
            path.write_text(source, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file tests/golden/{name}; write it with: {REGEN}")
    golden = path.read_text(encoding="utf-8")
    if source != golden:
        diff = list(difflib.unified_diff(golden.splitlines(), source.splitlines(),
                                         f"golden/{name}", "emitted", lineterm="", n=2))
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        pytest.fail(f"the emitted module differs from tests/golden/{name}:\n{shown}\n"
                    f"If the change is intended, regenerate and read the diff: {REGEN}")


@pytest.mark.parametrize("key, backend, mode", CASES,
                         ids=[golden_name(*case)[:-3] for case in CASES])
def test_emitted_module_matches_its_golden_file(key: str, backend: str, mode: str,
                                                request: pytest.FixtureRequest):
    if backend == "numba":
        pytest.importorskip("numba")  # gc.compile loads the module, which imports numba
    problem = PROBLEMS[key]
    fn = compile_for(gc.parse(problem.gc_text), backend, mode, wrt=problem.wrt)
    check(golden_name(key, backend, mode), fn.source, request.config)


def test_emitted_colah_module_matches_the_golden_file(request: pytest.FixtureRequest):
    check(COLAH, gc.compile(gc.load(EXAMPLES / "colah.gc")).source, request.config)


@pytest.mark.parametrize("name", sorted(EXAMPLE_SOURCES))
def test_emitted_example_modules_match_their_golden_files(name: str,
                                                          request: pytest.FixtureRequest):
    check(name, EXAMPLE_SOURCES[name]().source, request.config)


def test_every_golden_file_is_checked():
    """A golden file no test compares (a problem renamed or removed) is stale."""
    names = {golden_name(*case) for case in CASES} | {COLAH} | set(EXAMPLE_SOURCES)
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(names)
