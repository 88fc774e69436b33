"""Blocked evaluation (``backend="blocks"``): same values, split only when sound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import MIXTURE_WRT, MODES, assert_mixture_agrees
from hypothesis import given
from hypothesis import strategies as st
from strategies import dags, examples, summed_text

import graphc as gc
from graphc.backend import blocks

BIG = 4 * blocks._SMALLEST + 3  # splits in blocks, the last one shorter
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _compiled(text: str, **kwargs) -> tuple[gc.CompiledFunction, gc.CompiledFunction]:
    g = gc.parse(text)
    return gc.compile(g, **kwargs), gc.compile(g, backend="blocks", **kwargs)


def _assert_same(got, want) -> None:
    """Same structure, same dtypes, same numbers to the last bit."""
    if isinstance(want, (tuple, dict)):
        assert type(got) is type(want) and len(got) == len(want)
        for key in (want if isinstance(want, dict) else range(len(want))):
            _assert_same(got[key], want[key])
        return
    assert np.shape(got) == np.shape(want) and np.result_type(got) == np.result_type(want)
    np.testing.assert_array_equal(got, want)


@examples(30)
@given(dag=dags(), mode=st.sampled_from(MODES), seed=st.integers(0, 2**16),
       cores=st.sampled_from([1, 2, 3]), block=st.sampled_from([blocks._BLOCK, 5000]))
def test_blocks_give_the_unsplit_values(dag, mode: str, seed: int, cores: int, block: int):
    """Random elementwise DAGs on big same-shaped arrays: split and whole agree bit for
    bit, for any number of cores and blocks of any size (a last, shorter block too)."""
    plain, split = _compiled(dag.text(), mode=mode)
    assert "_in_blocks(" in split.source
    split.module._cores, split.module._BLOCK = (lambda: cores), block
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2.0, 2.0, BIG) for _ in plain.inputs]
    with np.errstate(all="ignore"):
        _assert_same(split(*args), plain(*args))
        _assert_same(split.forward(*args), plain.forward(*args))


def test_the_block_kernel_writes_into_the_outputs():
    """Each output is written by the line that computes it (out=), temporaries go to
    arrays kept per thread, and what no line computes is copied in."""
    source = gc.compile(gc.load(EXAMPLES / "colah.gc"), backend="blocks").source
    assert source[source.index("def _value_and_grad_block"):] == (
        "def _value_and_grad_block(a, b, e, a_bar, b_bar):\n"
        '    """value_and_grad on a block: its arrays written into e, a_bar, b_bar."""\n'
        "    c = np.add(a, b, out=_kept('_value_and_grad_block.c', a, b))\n"
        "    d = np.add(b, 1.0, out=a_bar)\n"
        "    e = np.multiply(c, d, out=e)\n"
        "    b_bar = np.add(d, c, out=b_bar)\n")
    source = gc.compile(gc.parse("y = a * b + 2 * a"), backend="blocks").source
    kernel = source[source.index("def _value_and_grad_block"):]
    assert "b_bar_out[...] = a\n" in kernel  # an input's array: copied
    assert "ones_like" not in kernel  # the seed is not made


@pytest.mark.parametrize("text", ["y = a", "y = a + 2 * b", "y = 3.0 + 0 * a", "y = a * b",
                                  "y = sin(a + b)",  # one array is two outputs
                                  "a_bar_out = a * b\ny = a_bar_out + a"])  # names taken
def test_copied_outputs(text):
    plain, split = _compiled(text)
    args = [np.linspace(-1.0, 1.0, BIG) + k for k in range(len(plain.inputs))]
    got = split(*args)
    _assert_same(got, plain(*args))
    assert all(not np.shares_memory(v, x) for v in got[1].values() for x in args)


@pytest.mark.parametrize("shape, dtypes", [
    ((BIG,), ("float64", "float32")),  # mixed dtypes promote as in the whole call
    ((BIG // 7, 7), ("float32", "float32")),  # rows of a 2-D array
])
def test_blocks_keep_dtypes_and_rows(shape, dtypes):
    plain, split = _compiled("y = sigmoid(a) * b + exp(-a * a)")
    rng = np.random.default_rng(0)
    args = [rng.standard_normal(shape).astype(d) for d in dtypes]
    _assert_same(split(*args), plain(*args))


def test_only_big_same_shaped_float_arrays_split():
    plain, split = _compiled("y = a * b + 1")
    module = split.module
    big = np.ones(BIG)
    assert module._splits(big, big)
    assert module._splits(np.ones((1, BIG)), np.ones((1, BIG)))  # flattened: rows or not
    assert not module._splits(big, np.ones(1))  # broadcasting
    assert not module._splits(big, 2.0)  # a scalar operand
    assert not module._splits(big[:100], big[:100])  # too small to pay
    assert not module._splits(np.ma.ones(BIG), np.ma.ones(BIG))  # subclasses stay whole
    assert not module._splits(big[::2], big[::2])  # not contiguous
    assert not module._splits(np.ones(BIG, int), np.ones(BIG, int))  # not floats
    for args in [(np.arange(BIG) * 1.0, np.arange(BIG) * 1.0), (big[:-1:2], big[1::2])]:
        _assert_same(module.value_and_grad(*args), plain.module.value_and_grad(*args))
    for m in (module, plain.module):  # integer arrays: refused, as fn() refuses them
        with pytest.raises(TypeError, match="not a float dtype"):
            m.value_and_grad(np.arange(BIG), np.arange(BIG))


@pytest.mark.parametrize("text", [
    "x: [N]\ny = sum(sin(x - logsumexp(x)))\n",  # an array made from a reduction
    "x: [N, 3]\ny = sum(sum(x, axis=1) ** 2)\n",  # a sum of some axes
    "x: [N, 3]\ny = sum(sum(x * x, axis=0) ** 2)\n",  # of a matrix: not every element
    "x: [N, 3]\nw: [3]\ny = sum(x @ w)\n",  # a matrix product
])
def test_graphs_with_other_ops_are_not_split(text):
    split = gc.compile(gc.parse(text), backend="blocks")
    assert "_in_blocks(" not in split.source
    assert split.source == gc.compile(gc.parse(text)).source


@examples(30)
@given(dag=dags(), scalars=st.integers(0, 3), seed=st.integers(0, 2**16),
       cores=st.sampled_from([1, 2, 3]), block=st.sampled_from([blocks._BLOCK, 5000]))
def test_blocks_with_sums(dag, scalars: int, seed: int, cores: int, block: int):
    """Random DAGs over declared scalars and vectors, summed: the blocks' sums agree
    with the whole sums to rounding, and every array to the bit."""
    scalars = min(scalars, len(dag.inputs) - 1)
    plain, split = _compiled(summed_text(dag, scalars))
    assert "_in_blocks(" in split.source
    split.module._cores, split.module._BLOCK = (lambda: cores), block
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2.0, 2.0) if k < scalars else rng.uniform(-2.0, 2.0, BIG)
            for k in range(len(plain.inputs))]
    with np.errstate(all="ignore"):
        got, want = split(*args), plain(*args)
    for g, w in zip([got[0], *got[1].values()], [want[0], *want[1].values()]):
        if np.ndim(w):
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9 * BIG, equal_nan=True)


def test_the_mixture_in_blocks():
    """P6's negative log-likelihood: scalars made once, the points in blocks returning
    their parts of seven sums, the gradient made of those."""
    text = (EXAMPLES / "mixture.gc").read_text()
    plain, split = _compiled(text, wrt=MIXTURE_WRT)
    source = split.source
    assert "return t16, t18, t19, t21, t22, t23, t24\n" in source
    assert ("= _in_blocks(\n            _value_and_grad_block, (x,), "
            "(m1, m2, t2, t3, t6, t7), None, 7)\n") in source  # no array outputs
    assert_mixture_agrees(split, plain, value_rtol=1e-12)


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
    """Inputs named like the shipped helpers, their imports or the kernels are renamed."""
    text = "y = _splits * os + _in_blocks * contextvars + _value_and_grad_block * like"
    plain, split = _compiled(text)
    args = [np.full(BIG, float(k)) for k in range(1, 7)]
    _assert_same(split(*args), plain(*args))
    assert "def value_and_grad(_splits_1, os_1, _in_blocks_1, contextvars_1, " \
        "_value_and_grad_block_1, like)" in split.source
    assert "(np.result_type(_splits_1, os_1, _in_blocks_1, " in split.source  # dtypes


def test_floats_and_repeated_calls_with_blocks():
    plain, split = _compiled("y = tanh(a) * b")
    assert split(0.5, 2.0) == plain(0.5, 2.0)
    args = [np.linspace(-1, 1, BIG), np.linspace(2, 3, BIG)]
    for _ in range(2):  # the kept buffers of each thread, reused
        _assert_same(split(*args), plain(*args))


@pytest.mark.slow  # the example in a new Python process, timed
def test_the_blocks_example_runs():
    """examples/blocks_ladder.py asserts that whole and blocked agree, then times both."""
    import subprocess
    import sys

    script = EXAMPLES / "blocks_ladder.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "blocks:" in done.stdout and "same numbers" in done.stdout


@pytest.mark.parametrize("declared", ["[N, M]", f"[2, {BIG}]"])
def test_declared_shapes_split_too(declared: str):
    """The outputs' dtypes were the result on one element, a call with a.flat[:1], which
    the declared shape refused (ValueError: shape (1,) does not match declared [N, M])."""
    whole, split = _compiled(f"a: {declared}\ny = tanh(a) * b")
    assert "_in_blocks(" in split.source
    rng = np.random.default_rng(0)
    at = {"a": rng.standard_normal((2, BIG)).astype(np.float32),
          "b": rng.standard_normal((2, BIG))}
    _assert_same(split(**at), whole(**at))
    at["b"] = at["b"].astype(np.float32)
    _assert_same(split(**at), whole(**at))

