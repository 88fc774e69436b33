"""The example of a user's typed code (tests/typing_usage.py, which CI type-checks
with mypy) also runs, so what it shows is true."""

import runpy
from pathlib import Path


def test_the_typing_example_runs():
    runpy.run_path(str(Path(__file__).with_name("typing_usage.py")), run_name="__main__")
