"""Fused loops (``gc.compile(..., backend="numba")``): the NumPy code's values, one loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import MIXTURE_WRT, MODES, assert_mixture_agrees
from hypothesis import given
from hypothesis import strategies as st
from strategies import dags, examples, summed_text

import graphc as gc
from graphc.backend import blocks, loops

pytest.importorskip("numba")

BIG = 2 * blocks._SMALLEST + 5
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _compiled(text: str, **kwargs) -> tuple[gc.CompiledFunction, gc.CompiledFunction]:
    g = gc.parse(text)
    return gc.compile(g, **kwargs), gc.compile(g, backend="numba", **kwargs)


def _leaves(result) -> list:
    value, grads = result if isinstance(result, tuple) else (result, {})
    return [value, *grads.values()]


def _assert_close(got, want, rtol: float = 1e-12) -> None:
    """Same shapes and dtypes, NaN where NumPy has NaN, numbers equal up to rounding
    (the loop's transcendentals are the C library's, not NumPy's vectorised ones)."""
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        assert np.shape(g) == np.shape(w) and np.result_type(g) == np.result_type(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True)


def test_the_colah_loop():
    """One local per node, each output written at [i] by the line that computes it."""
    source = gc.compile(gc.load(EXAMPLES / "colah.gc"), backend="numba").source
    assert source[source.index("@numba.njit"):source.index("\n\n\ndef value_and_grad")] == (
        '@numba.njit(parallel=True, error_model="numpy")\n'
        "def _forward_loop(a, b, e_out):\n"
        '    """forward element by element: one pass over the arrays, on all cores."""\n'
        "    for i in numba.prange(a.size):\n"
        "        const = a.dtype.type(1.0)\n"  # NumPy's promotion: float32 arrays stay float32
        "        c = a[i] + b[i]\n"
        "        d = b[i] + const\n"
        "        e_out[i] = c * d")
    assert source.endswith(
        "def _value_and_grad_loop(a, b, e_out, a_bar_out, b_bar_out):\n"
        '    """value_and_grad element by element: one pass over the arrays, on all cores."""\n'
        "    for i in numba.prange(a.size):\n"
        "        const = a.dtype.type(1.0)\n"
        "        c = a[i] + b[i]\n"
        "        d = b[i] + const\n"
        "        a_bar_out[i] = d\n"
        "        e_out[i] = c * d\n"
        "        b_bar_out[i] = d + c\n")
    assert "needs NumPy and numba." in source
    fn = gc.compile(gc.load(EXAMPLES / "colah.gc"), backend="numba")
    a, b = np.linspace(-3, 3, BIG), np.linspace(1, 2, BIG)
    value, grads = fn(a, b)  # exact: additions and a product
    np.testing.assert_array_equal(value, (a + b) * (b + 1))
    np.testing.assert_array_equal(grads["a"], b + 1)
    np.testing.assert_array_equal(grads["b"], (a + b) + (b + 1))


@pytest.mark.slow  # numba compiles each loop (~1 s)
@examples(12)
@given(dag=dags(), mode=st.sampled_from(MODES), seed=st.integers(0, 2**16))
def test_loops_give_the_numpy_values(dag, mode: str, seed: int):
    """Random elementwise DAGs on big same-shaped arrays: the loop and the NumPy code
    agree to rounding, value and gradient, forward alone too."""
    plain, fused = _compiled(dag.text(), mode=mode)
    assert "= _fused(" in fused.source and "def _value_and_grad_loop(" in fused.source
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2.0, 2.0, BIG) for _ in plain.inputs]
    with np.errstate(all="ignore"):
        _assert_close(fused(*args), plain(*args), rtol=1e-9)
        _assert_close(fused.forward(*args), plain.forward(*args), rtol=1e-9)


@pytest.mark.slow  # numba compiles each loop (~1 s)
@examples(8)
@given(dag=dags(), scalars=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_loops_with_sums(dag, scalars: int, seed: int):
    """Random DAGs over declared scalars and vectors, summed: the loop's sums agree with
    NumPy's to rounding, and are the same bits on one core as on two."""
    import numba

    scalars = min(scalars, len(dag.inputs) - 1)
    plain, fused = _compiled(summed_text(dag, scalars))
    assert "= _fused(" in fused.source and "def _value_and_grad_loop(" in fused.source
    rng = np.random.default_rng(seed)
    args = [rng.uniform(-2.0, 2.0) if k < scalars else rng.uniform(-2.0, 2.0, BIG)
            for k in range(len(plain.inputs))]
    with np.errstate(all="ignore"):
        got, want = fused(*args), plain(*args)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            alone = fused(*args)
        finally:
            numba.set_num_threads(threads)
    for g, w, a in zip(_leaves(got), _leaves(want), _leaves(alone)):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9 * BIG, equal_nan=True)
        np.testing.assert_array_equal(g, a)


ARGS = np.array([-np.inf, -800.0, -2.0, -1.0, -0.5, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 800.0,
                 np.inf, np.nan])


def _operands(op: gc.ops.Op) -> list[str]:
    """a, b as many as the op takes without defaults; a count (polygamma's n) is 1."""
    return ["1" if k in op.counts else "ab"[k]
            for k in range(op.arity - len(op.defaults))]


FUNCTIONS = sorted(set(gc.ops.FUNCTIONS) & {n for n, op in gc.ops.OPS.items()
                                            if op.elementwise})


@pytest.mark.slow  # numba compiles each loop (~1 s)
@pytest.mark.parametrize("text", [
    *(f"y = {op}({', '.join(_operands(gc.ops.OPS[op]))})" for op in FUNCTIONS),
    "y = a + b", "y = a - b", "y = -a * b", "y = a / b", "y = a ** b", "y = a ** 3",
    "y = a ** -1", "y = a ** 0.5"])
def test_every_elementwise_op_in_a_loop(text):
    """Each op, and its derivatives, at kinks, infinities, NaN and overflow, as NumPy
    computes them: the same NaNs, infinities and signed zeros."""
    plain, fused = _compiled(text)
    assert loops.loop_name("value_and_grad") in fused.source
    # a choice is a call of a helper, never a branch in the loop's body: numba's
    # parallel compiler slows superlinearly with a loop's branches
    bodies = [f.split("prange", 1)[1].split("\n\n\n")[0]
              for f in fused.source.split("@numba.njit(parallel")[1:]]
    assert bodies and not any(" if " in b or " or " in b for b in bodies), bodies
    grid = np.meshgrid(*[ARGS] * len(plain.inputs))
    args = [np.resize(x.ravel(), BIG) for x in grid]
    with np.errstate(all="ignore"):
        got, want = fused(*args), plain(*args)
    _assert_close(got, want)
    for g, w in zip(_leaves(got), _leaves(want)):
        np.testing.assert_array_equal(np.signbit(g[w == 0]), np.signbit(w[w == 0]))


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_sums_in_the_loop():
    """P6's negative log-likelihood: its seven sums are added in the loop (one partial
    per thread) and agree with NumPy's to rounding."""
    text = (EXAMPLES / "mixture.gc").read_text()
    plain, fused = _compiled(text, wrt=MIXTURE_WRT)
    assert "        t5 = 0.0\n" in fused.source and "            t5 = _sum_add(t5, " in fused.source
    at = assert_mixture_agrees(fused, plain, value_rtol=1e-11)
    at["m1"] = np.float32(-1.0)  # a NumPy scalar is a float to the loop
    np.testing.assert_allclose(fused(**at)[0], plain(**at)[0], rtol=1e-11)


@pytest.mark.slow  # numba compiles each loop (~1 s)
@pytest.mark.parametrize("text", ["x: [N]\ns = sum(x + 1)", "s = sum(a + b)"])
def test_a_sum_of_one_line(text):
    """x + 1 is read by the sum and by the loop's graph around it: printed, it is never
    folded as if the sum were its only reader."""
    plain, fused = _compiled(text)
    assert loops.loop_name("value_and_grad") in fused.source
    args = [np.linspace(-1, 1 + k, BIG) for k in range(len(plain.inputs))]
    _assert_close(fused(*args), plain(*args))


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_declared_scalars_reach_the_loop():
    plain, fused = _compiled("w: scalar\nk: scalar\ny = maximum(w * x, k) + exp(x) / w")
    x = np.linspace(-2, 2, BIG)
    assert "_fusable((x,), (w, k))" in fused.source
    for w, k in [(2.0, 0.5), (np.float64(-1.5), 0), (np.array(3.0), np.int64(1))]:
        _assert_close(fused(w=w, k=k, x=x), plain(w=w, k=k, x=x))


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_only_big_float64_arrays_and_real_scalars_take_the_loop():
    """Anything else runs the NumPy code (the same result as the numpy backend)."""
    plain, fused = _compiled("s: scalar\ny = a * b + s")
    module = fused.module
    big = np.ones(BIG)
    assert module._fusable((big, big), (2.0,))
    assert module._fusable((big, big), (np.float32(2.0),))
    assert not module._fusable((big, big.astype(np.float32)), (2.0,))  # float32
    assert not module._fusable((big, big), (2j,))  # a complex scalar
    assert not module._fusable((big, big), (np.ones(3),))  # not a scalar
    assert not module._fusable((big, big[:-1]), (2.0,))  # broadcasting
    assert not module._fusable((big[:100], big[:100]), (2.0,))  # too small to pay
    assert not module._fusable((big[::2], big[::2]), (2.0,))  # not contiguous
    for a, b, s in [(big.astype(np.float32), big.astype(np.float32), 1.0),
                    (big[::2], big[::2], 1.0), (np.arange(BIG) * 1.0, big, 1.0)]:
        got, want = module.value_and_grad(s, a, b), plain.module.value_and_grad(s, a, b)
        for g, w in zip(_leaves(got), _leaves(want)):
            assert np.result_type(g) == np.result_type(w)
            np.testing.assert_array_equal(g, w)
    for a, b, s in [(big, big, 2j), (np.arange(BIG), big, 1.0)]:
        # the modules apply fn()'s input rule: no complex numbers, no integer arrays
        for m in (module, plain.module):
            with pytest.raises(TypeError, match="'[sa]'"):
                m.value_and_grad(s, a, b)


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_outputs_that_are_inputs_numbers_or_shared():
    """Outputs no line computes are written too; none shares memory with an input."""
    for text in ["y = a", "y = a + 2 * b", "y = 3.0 + 0 * a", "y = sin(a + b)",
                 "a_out = a * b\ny = a_out + a", "w: scalar\ny = w * a"]:
        plain, fused = _compiled(text)
        args = {i: (0.5 if i == "w" else np.linspace(-1.0, 1.0, BIG) + k)
                for k, i in enumerate(plain.inputs)}
        got = fused(**args)
        _assert_close(got, plain(**args))
        assert all(not np.shares_memory(v, x) for v in _leaves(got) for x in args.values())


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_names_cannot_change_the_loop():
    """Inputs named like the loop's index, its module, helpers or loops are renamed."""
    text = "y = i * numba + _fused * _fusable + _value_and_grad_loop * i_out"
    plain, fused = _compiled(text)
    args = [np.full(BIG, float(k)) for k in range(1, 7)]
    _assert_close(fused(*args), plain(*args))
    assert "def value_and_grad(i, numba_1, _fused_1, _fusable_1, " \
        "_value_and_grad_loop_1, i_out)" in fused.source
    assert "def _value_and_grad_loop(\n    i_1, numba_1, _fused_1, " in fused.source
    assert "    for i in numba.prange(i_1.size):\n" in fused.source
    text = "k: [N]\nparts: [N]\n_CHUNK: [N]\ny = sum(k * parts) + sum(_CHUNK * k)"
    plain, fused = _compiled(text)  # the names of a loop with sums
    args = [np.linspace(0.0, 1.0, BIG) + j for j in range(3)]
    _assert_close(fused(*args), plain(*args), rtol=1e-9)
    assert "    for k_1 in numba.prange(parts_1.shape[1]):\n" in fused.source


@pytest.mark.parametrize("text", [
    "x: [N, 3]\nw: [3]\ny = sum(x @ w)\n",  # not elementwise
])
def test_what_the_loop_cannot_run_stays_numpy(text):
    assert gc.compile(gc.parse(text), backend="numba").source == gc.compile(gc.parse(text)).source


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_a_loop_reuses_its_outputs_memory_once_they_are_dropped():
    """Outputs still held are never written again; once all of a call's are dropped,
    the next call of that shape writes into their memory (no fresh pages)."""
    fn = gc.compile(gc.parse("e = (a + b) * (b + 1)"), backend="numba")
    a, b = np.linspace(-1.0, 1.0, BIG), np.linspace(0.5, 2.0, BIG)
    want = gc.compile(gc.parse("e = (a + b) * (b + 1)"))(a, b)

    def address(out):
        return out[1]["b"].__array_interface__["data"][0]

    first = fn(a, b)
    kept = first[1]["a"]  # one output alive keeps the others' memory too
    del first
    second = fn(a, b)
    assert not np.shares_memory(kept, second[1]["a"])
    np.testing.assert_array_equal(kept, want[1]["a"])
    seen = address(second)
    del second
    third = fn(a, b)
    assert address(third) == seen  # nothing held the second call's: reused
    _assert_close(third, want)
    store = fn.module._LAST[fn.module._value_and_grad_loop]
    for k in range(4):  # a loop that holds the last outputs while it makes the next
        third = fn(a, b)
        if k == 0:
            blocks = [id(x) for x in store]
    assert len(blocks) == 2 and [id(x) for x in store] == blocks  # no new array
    assert any(third[0].base is x for x in store)
    _assert_close(third, want)
    smaller = fn(a[:-1], b[:-1])  # another shape: new memory
    assert not np.shares_memory(smaller[0], third[0])
    _assert_close(smaller, gc.compile(gc.parse("e = (a + b) * (b + 1)"))(a[:-1], b[:-1]))
    np.testing.assert_array_equal(kept, want[1]["a"])


def test_numba_not_installed_is_a_clear_error(monkeypatch):
    g = gc.parse("y = a * b")
    import importlib.util
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(gc.GraphcError, match=r"needs numba, which is not installed"):
        gc.compile(g, backend="numba")


@pytest.mark.slow  # numba compiles the loop in new Python processes
def test_cli_compile_backend_numba(tmp_path):
    """``graphc compile --backend numba`` writes a module whose loop runs standalone."""
    out = tmp_path / "colah_grad.py"
    done = subprocess.run([sys.executable, "-m", "graphc", "compile",
                           str(EXAMPLES / "colah.gc"), "--backend", "numba", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    check = ("import numpy as np, colah_grad as m\n"
             "a = np.linspace(0, 1, 100_000)\n"
             "e, g = m.value_and_grad(a, a)\n"
             "assert np.array_equal(e, (a + a) * (a + 1)) and np.array_equal(g['a'], a + 1)\n"
             "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_a_comparison_output_stays_numpy():
    """NumPy makes a bool array of it; the loop's arrays are float64."""
    g = gc.parse("a: [N]\nb: [N]\ny = a * b")
    g.outputs = [g.add("gt", ("a", "b"))]
    fn = gc.compile(g, backend="numba", of=g.outputs[0])
    assert "_fused(" not in fn.source
    x = np.linspace(0.0, 1.0, BIG)
    assert fn(x, 1 - x)[0].dtype == bool


@pytest.mark.slow  # numba compiles the loop in new Python processes
def test_loops_called_from_many_threads():
    """numba's workqueue threads (its fallback when neither TBB nor OpenMP is there)
    abort the process when two loops run at once: the module runs one at a time."""
    script = ("import threading, numpy as np, graphc as gc\n"
              "fn = gc.compile(gc.parse('y = sin(a) * b + exp(-a * a)'), backend='numba')\n"
              "a = np.linspace(-1, 1, 100_000)\n"
              "want = fn(a, a + 1)[0]\n"
              "def work():\n"
              "    for _ in range(50):\n"
              "        assert np.array_equal(fn(a, a + 1)[0], want)\n"
              "threads = [threading.Thread(target=work) for _ in range(4)]\n"
              "[t.start() for t in threads]\n"
              "[t.join() for t in threads]\n"
              "import numba\n"
              "print(numba.threading_layer())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NUMBA_THREADING_LAYER": "workqueue"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "workqueue\n"


@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_lambdas_are_inlined_in_the_loop():
    """numba cannot call the module's NumPy functions of the lambdas: their bodies,
    nested ones too, are printed into the loop."""
    text = ("f = lambda u, v: u * exp(-v * v) + maximum(u, v)\n"
            "h = lambda w: f(w, 2 * w) ** 2 + 1\n"
            "y = h(x) + f(x, z) * z\n")
    plain, fused = _compiled(text)
    loop = fused.source[fused.source.index("def _value_and_grad_loop"):]
    assert "_libm_exp(" in loop and "f(" not in loop and "h(" not in loop
    rng = np.random.default_rng(3)
    x, z = rng.uniform(-2, 2, BIG), rng.uniform(-2, 2, BIG)
    _assert_close(fused(x, z), plain(x, z))
    _assert_close(fused.forward(x, z), plain.forward(x, z))


@pytest.mark.parametrize("text", [
    # Rosenbrock (P5): x[1:] and x[:-1]
    "x: [N]\nxs = slice(x, stop=-1)\nxn = slice(x, start=1)\n"
    "f = sum(100 * (xn - xs**2)**2 + (1 - xs)**2)\n",
    # a second difference: three shifts, and a shift of a shift
    "x: [N]\nd = slice(x, start=2) - 2 * slice(x, start=1, stop=-1) + slice(x, stop=-2)\n"
    "q = slice(slice(x, start=1), stop=-1)\nf = sum(d * d) + sum(q * exp(q))\n",
    # a scalar, two vectors, an elementwise output beside a sum of slices
    "w: scalar\nx: [N]\nz: [N]\ny = sum(exp(w * slice(x, start=3)) * slice(z, stop=-3))"
    " + sum(sin(x) * z)\n",
])
@pytest.mark.slow  # numba compiles each loop (~1 s)
def test_slices_in_the_loop(text):
    """Slices of vectors read the loop's inputs at other indices; their adjoints pick
    what lies in range: the NumPy code's numbers, the arrays to the bit."""
    plain, fused = _compiled(text)
    loop = fused.source[fused.source.index("def _value_and_grad_loop"):]
    assert "_m1 = " in loop or "_p1 = " in loop or "x[min(i + 3, x.size - 1)]" in loop
    rng = np.random.default_rng(4)
    at = {i: 0.7 if i == "w" else rng.uniform(-2, 2, BIG) for i in plain.inputs}
    (value, grads), (want, wgrads) = fused(**at), plain(**at)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    for name in grads:
        np.testing.assert_allclose(grads[name], wgrads[name], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fused.forward(**at), want, rtol=1e-12)


@pytest.mark.parametrize("text", [
    "x: [N, 3]\ny = sum(slice(x, start=1) * slice(x, stop=-1))\n",  # rows: flattened
    "x: [N]\ny = sum(slice(x, stop=5))\n",  # a fixed length
    "x: [N]\ny = sum(slice(x, start=-3))\n",
])
def test_slices_the_loop_does_not_take(text):
    assert gc.compile(gc.parse(text), backend="numba").source == gc.compile(gc.parse(text)).source
