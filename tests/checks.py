"""Checks shared by the op test files: each one the same assertions, parameterised by
what differs between the files (the cases, the program, the loss, the names, the
tolerances). Imported like strategies.py: ``from checks import ...``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import MODES, central_diff

import graphc as gc

# A CASES table maps a case's name to (declarations of a and b and f = ..., the same f
# in JAX: fn(jnp, a, b)); LOSS is what the files append to differentiate f.
LOSS = "\nL = sum(sin(f) * f)"


def jax_loss(cases: Mapping[str, tuple], jnp, case: str):
    """LOSS in JAX for a CASES table's case: L(a, b) = sum(sin(f) * f)."""
    fn = cases[case][1]
    return lambda a, b: jnp.sum(jnp.sin(fn(jnp, a, b)) * fn(jnp, a, b))


def values(g: gc.Graph, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    """Normal samples for each of g's inputs, of its shape and in dtype."""
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=g.shape(n)).astype(dtype) for n in g.inputs}


def check_dot_product_test(text: str, names: Sequence[str] = ("a", "b")) -> None:
    """<J v, u> == <v, J^T u> for f in text: forward mode gives J v, reverse mode J^T u;
    and J^T u is the finite differences' gradient."""
    shape = gc.parse(text).shape("f")
    g = gc.parse(f"u: {list(shape) if shape else 'scalar'}\n" + text + "\nL = sum(f * u)")
    at = values(g, seed=3)
    _, rev = gc.compile(g, wrt=list(names))(**at)
    rng = np.random.default_rng(4)
    for k in names:
        v = rng.normal(size=np.shape(at[k]))
        jv = gc.compile(g, wrt=[k], mode="forward")(**at)[1][k]
        assert np.vdot(jv, v) == pytest.approx(np.vdot(rev[k], v), rel=1e-9, abs=1e-12)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, k)
        np.testing.assert_allclose(rev[k], fd, rtol=1e-5, atol=1e-7)


def check_hessian_vector_product(jax, g2: gc.Graph, loss: Callable[..., Any],
                                 at: Mapping[str, Any], v: np.ndarray, names: Sequence[str],
                                 rtol: float, atol: float) -> None:
    """g2's h = sum(<first name>_bar * v), differentiated in both modes for names, is JAX's
    Hessian-vector product of loss (a function of names, in that order) with v."""
    import jax.numpy as jnp

    want = jax.grad(lambda *args: jnp.vdot(jax.grad(loss)(*args), v),
                    argnums=tuple(range(len(names))))(*(at[n] for n in names))
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=list(names), mode=mode)(**at, v=v)
        for name, w in zip(names, want):
            np.testing.assert_allclose(second[name], np.asarray(w), rtol=rtol, atol=atol,
                                       err_msg=f"{mode} {name}")


def check_second_order_of_case(jax, cases: Mapping[str, tuple], case: str) -> None:
    """The reverse-mode gradient graph of a CASES case, printed and parsed again,
    differentiated again in both modes: JAX's Hessian-vector product (for a and b)."""
    import jax.numpy as jnp

    g = gc.parse(cases[case][0] + LOSS)
    at = values(g, seed=5)
    v = np.random.default_rng(6).normal(size=g.shape("a"))
    grad_graph = gc.compile(g, wrt=["a", "b"]).grad_graph
    decl = f"v: {list(v.shape) if v.shape else 'scalar'}\n"
    g2 = gc.parse(decl + str(grad_graph) + "\nh = sum(a_bar * v)")
    check_hessian_vector_product(jax, g2, jax_loss(cases, jnp, case), at, v, ("a", "b"),
                                 rtol=1e-9, atol=1e-11)


def check_text_round_trip_and_verify(g: gc.Graph, at: Mapping[str, Any]) -> None:
    """g and its gradient graph print and parse back to the same text, the reparsed g
    gives the same L, and verify passes at at."""
    again = gc.parse(str(g))
    assert str(again) == str(g)
    assert again.evaluate(**at)["L"] == g.evaluate(**at)["L"]
    grads = gc.compile(g).grad_graph
    assert str(gc.parse(str(grads))) == str(grads)
    report = gc.verify(g, at)
    assert report.ok, str(report)


def check_round_trip_of_case(cases: Mapping[str, tuple], case: str) -> None:
    """check_text_round_trip_and_verify for a CASES case with LOSS."""
    g = gc.parse(cases[case][0] + LOSS)
    check_text_round_trip_and_verify(g, values(g, seed=7))


def check_backend_matches_numpy(g: gc.Graph, program_values: Callable[..., dict], backend: str,
                                rtol_value: float, rtol: float, atol: float) -> None:
    """backend's value and gradients, in both modes and both float widths, are the NumPy
    backend's, and the gradients keep the inputs' dtype."""
    for dtype in (np.float64, np.float32):
        at = program_values(dtype)
        for mode in MODES:
            check_backend_agrees(g, at, backend, mode, rtol_value, rtol, atol)


def check_backend_agrees(g: gc.Graph, at: Mapping[str, Any], backend: str,
                         mode: str = "reverse", rtol_value: float = 1e-12, rtol: float = 1e-12,
                         atol: float = 1e-14, **compile_options: Any) -> None:
    """backend's value and gradients of g at at, in mode, are the NumPy backend's, and each
    gradient keeps its input's dtype."""
    want, wgrads = gc.compile(g, mode=mode, **compile_options)(**at)
    value, grads = gc.compile(g, mode=mode, backend=backend, **compile_options)(**at)
    np.testing.assert_allclose(value, want, rtol=rtol_value)
    for k in wgrads:
        assert grads[k].dtype == np.asarray(at[k]).dtype
        np.testing.assert_allclose(grads[k], wgrads[k], rtol=rtol, atol=atol)


def parse_error(text: str, cls: type[Exception], match: str | None = None) -> Any:
    """The cls error (matching match, a regular expression, if given) that parsing text
    raises."""
    with pytest.raises(cls, match=match) as info:
        gc.parse(text)
    return info.value


def check_value_and_gradients(jax, cases: Mapping[str, tuple], case: str, mode: str,
                              optimize: bool, dtype, arrays: bool = False) -> None:
    """A CASES case with LOSS, compiled in mode and dtype: its value and its gradients for
    a and b are JAX's (computed in float64), each of its input's shape and of dtype
    (arrays: gradients with their own .shape and .dtype, not only np.shape's)."""
    import jax.numpy as jnp

    g = gc.parse(cases[case][0] + LOSS)
    at = values(g, dtype=dtype)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    wide = {k: v.astype(np.float64) for k, v in at.items()}
    want, wants = jax.value_and_grad(jax_loss(cases, jnp, case), argnums=(0, 1))(
        wide["a"], wide["b"])
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(value, float(want), **tol)
    assert np.asarray(value).dtype == dtype
    for name, w in zip("ab", wants):
        if arrays:
            assert grads[name].shape == at[name].shape and grads[name].dtype == dtype
        assert np.shape(grads[name]) == at[name].shape
        assert np.asarray(grads[name]).dtype == dtype
        np.testing.assert_allclose(grads[name], np.asarray(w), **tol, err_msg=name)


def check_error_at(text: str, cls: type[Exception], words: str | Sequence[str], line: int,
                   col: int | None = None) -> None:
    """Parsing text raises cls at line and col (any column, if col is None), its message
    holding words (each of them, if a list)."""
    error = parse_error(text, cls)
    assert error.line == line
    assert error.col is not None if col is None else error.col == col
    for word in [words] if isinstance(words, str) else words:
        assert word in str(error), (word, str(error))


def check_saved_module(fn: Any, at: Mapping[str, Any], path: Path) -> ModuleType:
    """fn saved at path imports only numpy, and imported again, its value_and_grad gives
    exactly what fn gives at at, its forward the same value. Returns the module."""
    imports = [line for line in fn.source.splitlines() if line.startswith(("import", "from"))]
    assert imports == ["import numpy as np"]
    fn.save(path)
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    got, want = module.value_and_grad(**at), fn(**at)
    assert got[0] == want[0] and module.forward(**at) == pytest.approx(want[0], rel=1e-12)
    for k in want[1]:
        np.testing.assert_array_equal(got[1][k], want[1][k])
    return module
