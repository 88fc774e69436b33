"""What the wheel and the sdist carry (.ci/wheel builds and installs them): every package
of the tree is named in pyproject.toml, and the version is written once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_in_the_wheel():
    """A package missing from the list is missing from the wheel: `import graphc` fails
    there while every test of the checkout passes (graphc.optimize.rules was)."""
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    here = {".".join(p.parent.relative_to(ROOT).parts)
            for p in (ROOT / "graphc").rglob("__init__.py")}
    assert here == listed - {"graphc.examples"}
    assert (ROOT / "examples" / "__init__.py").is_file()


def test_the_version_is_written_once():
    project = _pyproject()["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    source = (ROOT / "graphc" / "_version.py").read_text(encoding="utf-8")
    assert re.search(rf'^__version__ = "{re.escape(gc.__version__)}"$', source, re.M)


def test_the_licence_is_declared_and_shipped():
    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
