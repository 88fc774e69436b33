"""The docs as a site and as examples: ``mkdocs build --strict`` (every page in the nav,
every link and picture found, the API reference rendered from the docstrings), and the
``>>>`` examples in graphc's docstrings run as doctests (``--doctest-modules``)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent


def modules() -> list[str]:
    """Every module of the package but ``__main__`` (which runs the command line)."""
    return sorted(m.name for m in pkgutil.walk_packages(gc.__path__, "graphc.")
                  if not m.name.endswith("__main__") and ".examples" not in m.name)


def test_the_docstrings_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples load examples/colah.gc
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS)
    for name in modules():
        for test in finder.find(importlib.import_module(name), name):
            runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0
    assert attempted >= 20  # the examples are found: a finder that saw none fails here


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    for package in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(package)
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("graphc.compile", "graphc.CompiledFunction", "graphc.GraphcWarning",
                 "graphc.verify", "Compile <code>g</code> into NumPy code"):
        assert name in api, name
    for page in ("language", "teaching", "ops", "derivatives", "design"):
        assert (tmp_path / page / "index.html").exists(), page
    assert (tmp_path / "img" / "colah_values.svg").exists()
