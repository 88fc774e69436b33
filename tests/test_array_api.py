"""backend="array_api": the NumPy backend's numbers on every array library installed
(NumPy through array_api_compat, array_api_strict, PyTorch, JAX, dask.array; CuPy where
a GPU is), on the random programs of tests/strategies.py and the benchmark problems;
dtypes kept; dask left lazy; the module imports array_api_compat only; an op the
standard cannot spell refused at compile time, naming it."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import cross
from hypothesis import given
from strategies import Program, examples, programs

import graphc as gc

pytest.importorskip("array_api_compat")
ROOT = Path(__file__).resolve().parent.parent
MIXTURE = (ROOT / "examples" / "mixture.gc").read_text()


def _numpy(a):
    return np.asarray(a)


def _strict(a):
    import array_api_strict
    return array_api_strict.asarray(np.asarray(a))


def _torch(a):
    import torch
    return torch.asarray(np.asarray(a))


def _jax(a):
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax.numpy.asarray(np.asarray(a))


def _dask(a):
    import dask.array as da
    a = np.asarray(a)
    return da.from_array(a, chunks=max(1, a.shape[0] // 2) if a.ndim else ())


LIBRARIES = {"numpy": ("numpy", _numpy), "array_api_strict": ("array_api_strict", _strict),
             "torch": ("torch", _torch), "jax": ("jax", _jax), "dask": ("dask.array", _dask)}
"""A library (the module that must be installed) and how an array becomes one of it."""


@pytest.fixture(scope="module", params=list(LIBRARIES))
def library(request: pytest.FixtureRequest):
    module, convert = LIBRARIES[request.param]
    pytest.importorskip(module)
    return request.param, convert


def _computed(value):
    """A value as NumPy: dask's computed, others converted."""
    if hasattr(value, "compute"):
        value = value.compute()
    return np.asarray(value)


def _compare(fn, ref, values: dict, convert, rtol: float = 1e-9, atol: float = 1e-11,
             what: str = "") -> None:
    """fn (backend="array_api") on the library's arrays == ref (the NumPy backend)."""
    want_value, want = ref(**values)
    value, grads = fn(**{k: convert(v) for k, v in values.items()})
    np.testing.assert_allclose(_computed(value), want_value, rtol=rtol, atol=atol, err_msg=what)
    assert set(grads) == set(want), what
    for k, w in want.items():
        got = _computed(grads[k])
        assert got.shape == np.shape(w), f"d/d{k}: shape\n{what}"
        np.testing.assert_allclose(got, w, rtol=rtol, atol=atol, err_msg=f"d/d{k}: {what}")


def _summed(p: Program) -> gc.Graph:
    """The program with its output summed: a scalar, so every program compiles."""
    return gc.parse(p.text() + f"total_ = sum({p.out})\n")


def _random_program(p: Program, mode: str, library) -> None:
    name, convert = library
    g = _summed(p)
    try:
        ref = gc.compile(g, mode=mode)
    except gc.GraphcError as exc:  # forward mode refuses shapes known only at call time
        assert mode == "forward" and "declared shapes" in str(exc)
        return
    try:
        fn = gc.compile(g, mode=mode, backend="array_api")
    except gc.GraphcError as exc:  # an op the standard cannot spell: refused, named
        assert "has no Array-API spelling" in str(exc) and "op '" in str(exc)
        return
    if name == "torch" and "::-1" in fn.source:
        return  # torch indexes with no negative step (a ValueError, documented)
    values = {k: np.asarray(v, dtype=float) for k, v in p.values(0).items()}
    try:
        _compare(fn, ref, values, convert, what=f"{name} {mode}\n{p.text()}")
    except NotImplementedError as exc:  # no scatter-add in the standard (or dask's nd
        # fancy indexing): refused, said, never a wrong number
        assert "needs backend='numpy'" in str(exc) or (
            name == "dask" and "fancy indexing" in str(exc)), exc


@examples(40)
@given(p=programs())
def test_random_programs_match_the_numpy_backend(library, p: Program):
    _random_program(p, "reverse", library)


@examples(24)
@given(p=programs(free=False))
def test_random_programs_in_forward_mode_match(library, p: Program):
    _random_program(p, "forward", library)


@pytest.mark.slow
@examples(300)
@given(p=programs(max_steps=8))
def test_random_programs_match_the_numpy_backend_many(library, p: Program):
    _random_program(p, "reverse", library)


def _problems():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from problems import PROBLEMS
    return PROBLEMS


@cross(lambda name, key: name != "dask" or key != "P4",  # dask's graph of P4: 3 s
       name=list(LIBRARIES), key=["P1", "P2", "P3", "P4", "P5", "P6"])
def test_benchmark_problems_match_the_numpy_backend(name, key):
    """The benchmark problems (P4: an MLP in float32) on each library, on a slice of
    their data."""
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    problem = _problems()[key]
    g = gc.parse(problem.gc_text)
    fn, ref = (gc.compile(g, wrt=problem.wrt, backend=b) for b in ("array_api", "numpy"))
    values = {k: v[:300] if np.ndim(v) == 1 and key != "P4" or k in ("x", "labels") else v
              for k, v in problem.make_inputs().items()}  # P4's batch: 300 rows
    float32 = key == "P4"
    _compare(fn, ref, values, convert, rtol=1e-4 if float32 else 1e-9,
             atol=1e-5 if float32 else 1e-9, what=key)


@pytest.mark.parametrize("name", ["torch", "jax", "array_api_strict"])
def test_float32_stays_float32(name):
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    fn = gc.compile(gc.parse(MIXTURE), backend="array_api")
    values = _problems()["P6"].make_inputs()
    value, grads = fn(**{k: convert(np.asarray(v, dtype=np.float32)[:100] if np.ndim(v)
                                     else np.asarray(v, dtype=np.float32))
                         for k, v in values.items()})
    assert all("float32" in str(a.dtype) for a in (value, *grads.values())), \
        [a.dtype for a in (value, *grads.values())]


def test_python_numbers_alone_compute_as_numpy_float64():
    """Every argument a Python number: no library to take a namespace from, so NumPy's
    (graphc's rule: numbers are NumPy's float64), as the NumPy backend computes; once
    array_api_compat's raw TypeError."""
    g = gc.parse("y = sin(a) * b + a ** 2\n")
    value, grads = gc.compile(g, backend="array_api")(a=1.5, b=-2.0)
    want, wgrads = gc.compile(g)(a=1.5, b=-2.0)
    assert value == want and grads == wgrads
    assert np.asarray(value).dtype == np.float64


def test_dask_stays_lazy_until_computed():
    """fn() builds dask's graph and computes nothing: the data's chunks are made only
    by compute(), whose numbers are the NumPy backend's."""
    da = pytest.importorskip("dask.array")
    made = []

    def chunk(block_id=None):  # a chunk of data, counted as it is made
        made.append(block_id)
        return np.random.default_rng(block_id[0]).normal(1.0, 1.5, 1000)

    x = da.map_blocks(chunk, chunks=((1000,) * 8,), dtype=float, meta=np.array((), float))
    params = {"z": 0.2, "m1": -0.5, "m2": 1.5, "ls1": -0.3, "ls2": 0.1}
    g = gc.parse(MIXTURE)
    fn = gc.compile(g, backend="array_api")
    value, grads = fn(x=x, **params)  # Python floats: no namespace of their own
    assert not made, "fn() computed chunks of the data"
    assert all(hasattr(a, "dask") for a in (value, *grads.values()))
    import dask
    value, grads = dask.compute(value, grads)
    assert sorted(b[0] for b in made) == list(range(8))  # each chunk, made once
    want_value, want = gc.compile(g)(x=np.concatenate([chunk((k,)) for k in range(8)]),
                                     **params)
    np.testing.assert_allclose(value, want_value, rtol=1e-10)
    for k, w in want.items():
        np.testing.assert_allclose(grads[k], w, rtol=1e-9, atol=1e-12)


def test_saved_module_imports_array_api_compat_only(tmp_path):
    """The module imports array_api_compat alone and says so; saved and imported, it
    gives what fn() gives."""
    fn = gc.compile(gc.parse(MIXTURE), backend="array_api")
    tree = ast.parse(fn.source)
    imported = {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for a in node.names} | {node.module for node in ast.walk(tree)
                                        if isinstance(node, ast.ImportFrom)}
    assert imported == {"array_api_compat", "array_api_compat.numpy"}  # numbers alone: _ns
    assert "np." not in fn.source and "out=" not in fn.source
    assert "imports array_api_compat only" in ast.get_docstring(tree)
    assert "    xp = _ns(x, z, m1, m2, ls1, ls2)" in fn.source
    path = tmp_path / "mixture_grad.py"
    fn.save(path)
    spec = importlib.util.spec_from_file_location("mixture_grad", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values = _problems()["P6"].make_inputs()
    values["x"] = values["x"][:50]
    got, want = module.value_and_grad(**values), fn(**values)
    assert float(got[0]) == float(want[0])
    assert all(np.array_equal(got[1][k], w) for k, w in want[1].items())


def test_numpy_backend_source_is_unchanged_by_the_seam():
    """The NumPy backend still converts inputs and plans memory (the golden files check
    its bytes): the Array-API seam leaves it alone."""
    source = gc.compile(gc.parse(MIXTURE)).source
    assert "import numpy as np" in source and "_inputs(" in source and "out=" in source
    assert "xp." not in source and "array_api_compat" not in source


WIDENED = {
    "joins": "y = sum(concatenate([a, b], axis=1) * concatenate([b, a], axis=1))"
             " + sum(stack([a, b], axis=-1) * stack([b, a], axis=-1))"
             " + sum(hstack([a, b]) * column_stack([b, a]))"
             " + sum(vstack([a, b]) * vstack([b, a])) + sum(dstack([a, b]) * dstack([b, a]))",
    "joins_1d": "y = sum(hstack([c, c * c]) * hstack([c * c, c]))"
                " + sum(vstack([c, c * c]) * vstack([c * c, c]))"
                " + sum(dstack([c, c * c]) * dstack([c * c, c]))"
                " + sum(column_stack([c, c * c]) * column_stack([c * c, c]))"
                " + sum(append(c, a) * append(c, b))",
    "constants": "y = sum(a * zeros((2, 3)) + a * ones((2, 3)) + a * full((2, 3), 3.0) + a"
                 " * eye(2, 3, k=1) + a * arange(3) + a * linspace(0, 1, 3) + a * tri(2, 3)"
                 " + zeros_like(b) + ones_like(b) * a + full_like(b, 2.0) * a)",
    "erf": "y = sum(erf(a * 3) + erfc(b * 4) + gelu(a) + gelu(b, approximate=False))",
    "nan": "y = nansum(a * b) + nanmean(a, axis=0)[1] + sum(nanmax(a * b, axis=1))"
           " + nanmin(b) + nanvar(a) + sum(nanstd(a, axis=1, ddof=1)) + nanprod(b)"
           " + sum(nanprod(a * b, axis=0)) + sum(prod(b, axis=(0, 1), keepdims=True))",
    "einsum": "y = sum(einsum('ij,kj->ik', a, b)) + einsum('ij->', a * b)",
    "more": "y = sum(cbrt(a) * logaddexp2(a, b)) + sum(outer(c, c * c)) + sum(c @ c * c)",
    # the standard indexes every axis or says ...: a slice of the first axis of a matrix
    "slices": "y = sum(a[1:] * a[1]) + sum(a[:, 1:] * b[:, :2]) + sum(a[None, 0] * c)",
}
"""Each op the Array-API backend once refused and spells now, used with its gradient."""


@cross(lambda name, case, mode: mode == "reverse" or name in ("numpy", "torch"),
       name=list(LIBRARIES), case=list(WIDENED), mode=["reverse", "forward"])
def test_widened_ops_match_the_numpy_backend(name, case, mode):
    module, convert = LIBRARIES[name]
    pytest.importorskip(module)
    g = gc.parse("a: [2, 3]\nb: [2, 3]\nc: [3]\n" + WIDENED[case])
    fn, ref = (gc.compile(g, mode=mode, backend=b) for b in ("array_api", "numpy"))
    rng = np.random.default_rng(0)
    values = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=(2, 3)) * 3,
              "c": rng.normal(size=3)}
    if case == "nan":
        values["a"][0, 1] = values["b"][1, 2] = np.nan
    if case == "erf":  # each of erf's regions: |x| < 0.47, < 4, beyond
        values["a"] = np.array([[0.1, -0.3, 0.9], [-2.5, 3.9, -1.6]])
    if "_einsum(" in fn.source and name == "array_api_strict":  # outer's tangent too
        with pytest.raises(NotImplementedError, match="has no einsum"):
            fn(**{k: convert(v) for k, v in values.items()})
        return
    _compare(fn, ref, values, convert, rtol=1e-12, atol=1e-14, what=f"{name} {case} {mode}")


def test_widened_ops_keep_float32_and_the_device():
    """A constant takes the inputs' float dtype and device (torch: the input's)."""
    torch = pytest.importorskip("torch")
    g = gc.parse("a: [2, 3]\ny = sum(a * eye(2, 3) + a * arange(3) + erf(a) + nansum(a))")
    value, grads = gc.compile(g, backend="array_api")(a=torch.ones((2, 3), dtype=torch.float32))
    assert value.dtype == grads["a"].dtype == torch.float32
    source = gc.compile(g, backend="array_api").source
    assert "_eye(xp, 2, 3, dtype=_float_of(a), device=array_api_compat.device(a))" in source
    assert "_float_like(a, xp.arange(3))" in source


@pytest.mark.parametrize("text, op", [
    ("y = sum(conv2d(a[None, None], b[None, None]))", "conv2d"),
])
def test_an_op_with_no_array_api_spelling_is_refused_by_name(text, op):
    g = gc.parse("a: [2, 2]\nb: [2, 2]\n" + text)
    with pytest.raises(gc.GraphcError, match=f"op '{op}' has no Array-API spelling"):
        gc.compile(g, backend="array_api")
    gc.compile(g)  # the NumPy backend takes it




def test_cupy_on_a_gpu():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no GPU or driver: nothing to test here
        pytest.skip("no GPU")
    g = gc.parse(MIXTURE)
    fn, ref = gc.compile(g, backend="array_api"), gc.compile(g)
    values = _problems()["P6"].make_inputs()
    values["x"] = values["x"][:10_000]
    value, grads = fn(**{k: cupy.asarray(v) for k, v in values.items()})
    want_value, want = ref(**values)
    assert isinstance(value, cupy.ndarray)
    np.testing.assert_allclose(float(value), want_value, rtol=1e-9)
    for k, w in want.items():
        np.testing.assert_allclose(float(grads[k]), w, rtol=1e-8, atol=1e-10)


def _dask_mixture():
    """examples/dask_mixture.py as a module."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        return __import__("dask_mixture")
    finally:
        sys.path.remove(str(ROOT / "examples"))


@pytest.mark.parametrize("chunked", [False, True], ids=["graph", "by_chunk"])
def test_dask_mixture_example_matches_numpy(chunked):
    """examples/dask_mixture.py, small: the NLL and gradient over data generated chunk by
    chunk (dask's threaded scheduler; the cluster's worker processes in the test below),
    as one graph of whole-array operations or one task per chunk, are the NumPy module's
    over the same points."""
    pytest.importorskip("dask.array")
    example = _dask_mixture()
    value, grads, _ = example.gradient(4 * 5000, 5000, chunked=chunked)
    want_value, want = example.subsample(5000, chunks=4)
    assert value == pytest.approx(want_value, rel=1e-12)
    assert grads.keys() == want.keys()
    for k, w in want.items():
        assert grads[k] == pytest.approx(w, rel=1e-10, abs=1e-9), k


@pytest.mark.slow
@pytest.mark.parametrize("flags", [[], ["--by-chunk"]], ids=["graph", "by_chunk"])
def test_dask_mixture_example_on_a_cluster_of_worker_processes(flags):
    """The user's command, small: examples/dask_mixture.py on a dask.distributed
    LocalCluster of 2 single-threaded worker processes prints the NumPy module's NLL and
    gradient over the same points (a new process, as a user runs it, with a time limit:
    a hung cluster fails the test instead of stopping the suite)."""
    pytest.importorskip("dask.distributed")
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "dask_mixture.py"),
                          "--points", "2e5", "--chunk", "5e4", "--workers", "2", *flags],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "200,000 points (0.00 GB) on 2 workers" in run.stdout
    printed = dict(re.findall(r"(nll|d/d\w+) = (\S+?)[;,]?(?:\s|$)", run.stdout))
    want_value, want = _dask_mixture().subsample(50_000, chunks=4)
    assert float(printed.pop("nll")) == pytest.approx(want_value, rel=1e-11)
    assert {k.removeprefix("d/d"): float(v) for k, v in printed.items()} == pytest.approx(
        want, rel=1e-10)
