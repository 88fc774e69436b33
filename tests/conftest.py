"""Shared helpers: finite differences, an independent sum-to-shape, JAX on demand, the
command line in this process (``cli``) or in a new one (``run_cli``, ``run_isolated``).

The numerical helpers are written without graphc's own machinery, so that a test
comparing graphc with them compares two independent computations.

Tiers: ``pytest -m "not slow"`` (the fast tier) skips tests marked slow and draws an
eighth of each hypothesis test's examples (strategies.FAST); plain ``pytest`` (CI)
runs everything. ``--regen-golden`` rewrites tests/golden/ (test_golden.py).
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sympy as sp

from graphc.ops.table import sigmoid, softplus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODES = ("reverse", "forward")
OPTIMIZE = (True, False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden/ from the compiler (test_golden.py)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: seconds, not milliseconds (numba, subprocesses, big graphs, "
                   "many examples); `pytest -m \"not slow\"` skips them, CI runs them")
    if "not slow" in (config.getoption("markexpr") or ""):
        from hypothesis import settings
        from strategies import FAST

        settings.load_profile(FAST)  # the fast tier draws fewer hypothesis examples
        _quick_jax()


def _quick_jax() -> None:
    """The fast tier's JAX references: XLA compiles each primitive for each new shape,
    most of the tier's time; compile with fewer optimizations and keep the programs on
    disk between runs (JAX_COMPILATION_CACHE_DIR, by default ~/.cache/graphc-tests/jax)."""
    if importlib.util.find_spec("jax") is None:
        return
    import jax

    cache = os.environ.get("JAX_COMPILATION_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "graphc-tests", "jax")
    jax.config.update("jax_disable_most_optimizations", True)
    jax.config.update("jax_compilation_cache_dir", cache)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every gradient test runs in both modes."""
    return request.param


@pytest.fixture(params=OPTIMIZE, ids=["opt", "noopt"])
def optimize(request: pytest.FixtureRequest) -> bool:
    """...and both optimized and unoptimized (passes must never change a value)."""
    return request.param


@pytest.fixture(scope="session")
def jax():
    """JAX in float64, or the test is skipped when JAX is not installed."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def cross(fast: Callable[..., bool], **axes: Sequence[Any] | Mapping[str, Any]
          ) -> pytest.MarkDecorator:
    """Parametrize over every combination of ``axes`` (each a list of values, or a dict
    of test id -> value); a combination is marked slow unless ``fast(**combination)``.
    CI runs the exhaustive cross product, the fast tier the slice ``fast`` names."""
    named = [a if isinstance(a, Mapping) else _named(a) for a in axes.values()]
    params = [pytest.param(*(a[i] for a, i in zip(named, ids)), id="-".join(ids),
                           marks=() if fast(**{k: a[i] for k, a, i in zip(axes, named, ids)})
                           else pytest.mark.slow)
              for ids in itertools.product(*named)]
    return pytest.mark.parametrize(list(axes), params)


def first_of_each(cases: Iterable[str]) -> set[str]:
    """The first case of each op, an op being a case name's first word (a fast slice)."""
    first: dict[str, str] = {}
    for case in sorted(cases):
        first.setdefault(case.split()[0], case)
    return set(first.values())


def _named(values: Sequence[Any]) -> dict[str, Any]:
    """Values by test id: a type's name, a case's ``id``, else str; repeats numbered."""
    ids = [v.__name__ if isinstance(v, type) else str(getattr(v, "id", v)) for v in values]
    return {f"{i}{ids[:n].count(i)}" if ids.count(i) > 1 else i: v
            for n, (i, v) in enumerate(zip(ids, values))}


def central_diff(f: Callable[..., Any], at: Mapping[str, Any], wrt: str,
                 h: float = 1e-6) -> Any:
    """d sum(f(**at)) / d at[wrt] by central differences, in the shape of at[wrt].

    The sum makes this the gradient under a ones seed, which is graphc's convention
    for elementwise graphs applied to arrays (broadcast axes are summed as well).
    """
    x0 = np.array(at[wrt], dtype=float)
    grad = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        step = h * max(1.0, abs(float(x0[idx])))
        total = []
        for sign in (1.0, -1.0):
            x = x0.copy()
            x[idx] += sign * step
            value = x if x.shape else float(x)
            total.append(float(np.sum(f(**{**at, wrt: value}))))
        grad[idx] = (total[0] - total[1]) / (2 * step)
    return grad if x0.shape else float(grad)


def sum_to_shape(x: Any, shape: tuple[int, ...], like: tuple[int, ...]) -> np.ndarray:
    """``x`` broadcast to ``like`` and summed back to ``shape`` (reference for gradients)."""
    x = np.broadcast_to(np.asarray(x, dtype=float), like)
    lead = len(like) - len(shape)
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True).reshape(shape) if axes else x.reshape(shape)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-9, atol: float = 1e-12,
                 what: str = "") -> None:
    """Values agree and so do shapes (a gradient must have the shape of its input)."""
    assert np.shape(actual) == np.shape(expected), \
        f"{what}: shape {np.shape(actual)} != expected {np.shape(expected)}"
    assert not np.iscomplexobj(actual), f"{what}: complex value {actual!r}"
    assert not np.iscomplexobj(expected), f"{what}: complex reference {expected!r}"
    np.testing.assert_allclose(np.asarray(actual, dtype=float),
                               np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol, err_msg=what)


def spelled_out(expr: sp.Expr) -> sp.Expr:
    """graphc's own sympy functions written out by hand, so sympy alone can check them."""
    return (expr.replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a)))
                .replace(softplus, lambda a: sp.log(1 + sp.exp(a))))


def site_packages_without_graphc() -> str:
    """A PYTHONPATH that has NumPy but not graphc (graphc is found through a .pth hook)."""
    return str(Path(np.__file__).resolve().parent.parent)


def run_isolated(script: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``script`` with ``python -S`` (no .pth files, so no editable graphc)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = site_packages_without_graphc()
    return subprocess.run([sys.executable, "-S", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m graphc ARGS`` in a new process: only for what needs one (a signal, a
    resource limit, file descriptor 1, ``python -m`` itself); else the ``cli`` fixture."""
    return subprocess.run([sys.executable, "-m", "graphc", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


class Hung(Exception):
    """An in-process command ran past its time limit (raised by SIGALRM)."""


@pytest.fixture
def cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """``graphc ARGS`` in this process: ``graphc.cli.main``, the command's own code path,
    without a Python start per call. ``cli(*args, cwd=, path=, stdin=, timeout=)``
    returns what a subprocess would (returncode, stdout, stderr); ``path`` replaces PATH
    (to hide Graphviz), ``stdin`` is standard input's text, and a command still running
    after ``timeout`` seconds fails the test (a hang) instead of stopping the suite."""
    from graphc.cli import main

    def run(*args: str | os.PathLike, cwd: Path, path: str | None = None,
            stdin: str = "", timeout: float = 60) -> SimpleNamespace:
        def hung(signum: int, frame: Any) -> None:
            raise Hung(f"graphc {' '.join(map(str, args))}: no answer within {timeout} s")

        capsys.readouterr()
        with monkeypatch.context() as m:
            m.chdir(cwd)
            if path is not None:
                m.setenv("PATH", path)
            m.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
            old = signal.signal(signal.SIGALRM, hung)
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse's own usage errors
                code = exc.code
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run


MIXTURE_WRT = ["z", "m1", "m2", "ls1", "ls2"]
"""examples/mixture.gc (P6): the parameters its gradient is taken with respect to."""


def assert_mixture_agrees(fn: Any, plain: Any, value_rtol: float) -> dict[str, Any]:
    """``fn`` (the mixture compiled some other way) agrees with ``plain`` on 300,001
    points, value and forward to ``value_rtol``, gradient to 1e-9; returns the point."""
    x = np.random.default_rng(1).normal(0.5, 2.0, 300_001)
    at = {"x": x, "z": 0.3, "m1": -1.0, "m2": 1.5, "ls1": 0.1, "ls2": -0.2}
    (value, grads), (want, wgrads) = fn(**at), plain(**at)
    np.testing.assert_allclose(value, want, rtol=value_rtol)
    for name in MIXTURE_WRT:
        np.testing.assert_allclose(grads[name], wgrads[name], rtol=1e-9)
    np.testing.assert_allclose(fn.forward(**at), value, rtol=value_rtol)
    return at
