"""The version, written once: read by setuptools (pyproject.toml), ``graphc.__version__``
and ``graphc --version``."""

__version__ = "0.1.0"
