"""Blocked evaluation (``gc.compile(..., blocks=True)``): same values, split only when sound."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODES
from hypothesis import given, settings
from hypothesis import strategies as st
from test_property import dags

import graphc as gc
from graphc import blocks

BIG = 4 * blocks._SMALLEST + 3  # splits in blocks, the last one shorter


def _compiled(text: str, **kwargs) -> tuple[gc.CompiledFunction, gc.CompiledFunction]:
    g = gc.parse(text)
    return gc.compile(g, **kwargs), gc.compile(g, blocks=True, **kwargs)


def _assert_same(got, want) -> None:
    """Same structure, same dtypes, same numbers to the last bit."""
    if isinstance(want, (tuple, dict)):
        assert type(got) is type(want) and len(got) == len(want)
        for key in (want if isinstance(want, dict) else range(len(want))):
            _assert_same(got[key], want[key])
        return
    assert np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
    np.testing.assert_array_equal(got, want)


@settings(max_examples=30, derandomize=True, deadline=None)
@given(dag=dags(), mode=st.sampled_from(MODES), seed=st.integers(0, 2**16))
def test_blocks_give_the_unsplit_values(dag, mode: str, seed: int):
    """Random elementwise DAGs on big same-shaped arrays: split and whole agree bit for bit."""
    plain, split = _compiled(dag.text(), mode=mode)
    assert "_in_blocks(" in split.source
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2.0, 2.0, BIG) for _ in plain.inputs]
    with np.errstate(all="ignore"):
        _assert_same(split(*args), plain(*args))
        _assert_same(split.forward(*args), plain.forward(*args))


@pytest.mark.parametrize("shape, dtypes", [
    ((BIG,), ("float64", "float32")),  # mixed dtypes promote as in the whole call
    ((BIG // 7, 7), ("float32", "float32")),  # rows of a 2-D array
])
def test_blocks_keep_dtypes_and_rows(shape, dtypes):
    plain, split = _compiled("y = sigmoid(a) * b + exp(-a * a)")
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(shape).astype(d) for d in dtypes]
    _assert_same(split(*args), plain(*args))


def test_only_big_same_shaped_arrays_split():
    module = _compiled("y = a * b + 1")[1].module
    big = np.ones(BIG)
    assert module._splits(big, big)
    assert module._splits(big, np.ones(1)) is None  # broadcasting: not split
    assert module._splits(big, 2.0) is None  # a scalar operand
    assert module._splits(big[:100], big[:100]) is None  # too small to pay
    assert module._splits(np.ones((1, BIG)), np.ones((1, BIG))) is None  # one row
    assert module._splits(np.ma.ones(BIG), np.ma.ones(BIG)) is None  # subclasses stay whole
    splits = module._splits(big, big)
    assert splits[0].start == 0 and splits[-1].stop >= BIG and \
        all(s.stop == t.start for s, t in zip(splits, splits[1:]))
    # a block's own call never splits again (the pool could wait on itself)
    assert module._pool().submit(module._splits, big, big).result() is None


def test_graphs_with_other_ops_are_not_split():
    text = "x: [N]\ny = sum(x * x)\n"
    split = gc.compile(gc.parse(text), blocks=True)
    assert "_in_blocks(" not in split.source
    assert split.source == gc.compile(gc.parse(text)).source


def test_errstate_and_errors_reach_the_blocks():
    """np.errstate of the caller holds inside the pool's threads, and what a block
    raises is raised by the call."""
    _, split = _compiled("y = a / b")
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        split(np.ones(BIG), np.zeros(BIG))
    with np.errstate(divide="ignore"):
        value, _ = split(np.ones(BIG), np.zeros(BIG))
    assert np.isinf(value).all()


def test_helper_names_cannot_be_shadowed():
    """Inputs named like the shipped helpers and their imports are renamed."""
    text = "y = _splits * os + _in_blocks * contextvars"
    plain, split = _compiled(text)
    args = [np.full(BIG, float(k)) for k in range(1, 5)]
    _assert_same(split(*args), plain(*args))
    assert "def value_and_grad(_splits_1, os_1, _in_blocks_1, contextvars_1)" in split.source


def test_floats_and_kept_buffers_with_blocks():
    plain, split = _compiled("y = tanh(a) * b", keep_buffers=True)
    assert split(0.5, 2.0) == plain(0.5, 2.0)
    args = [np.linspace(-1, 1, BIG), np.linspace(2, 3, BIG)]
    for _ in range(2):  # the kept buffers of each thread, reused
        _assert_same(split(*args), plain(*args))


def test_the_blocks_example_runs():
    """examples/blocks_ladder.py asserts that whole and blocked agree, then times both."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "blocks_ladder.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "blocks:" in done.stdout and "same numbers" in done.stdout
