"""The numba loops' transcendentals vectorised with glibc's libmvec (loops._vector_math):
within 4 ulp of NumPy's; GRAPHC_LIBMVEC=0 keeps the C library's scalar functions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.backend import blocks

pytest.importorskip("numba")
pytestmark = pytest.mark.slow

N = 2 * blocks._SMALLEST + 5
TEXT = "x: [N]\ny = sin(x) + cos(x) + exp(x) + log(x) + tan(x) + x ** 2.5\n"
FUNCTIONS = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log, "tan": np.tan}
ROOT = Path(__file__).resolve().parents[1]


def _vector_calls(module) -> set[str]:
    """The libmvec functions the value-and-gradient loop calls (4 or 8 lanes: _ZGV...)."""
    asm = "".join(module._value_and_grad_loop.inspect_asm().values())
    return set(re.findall(r"_ZGV\w+", asm))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_within_4_ulp(name):
    """A loop's sin, cos, ... and their derivatives against NumPy's on one array, the
    loop vectorised where glibc has libmvec."""
    x = np.random.default_rng(0).uniform(0.1, 3.0, N)
    fn = gc.compile(gc.parse(f"x: [N]\ny = {name}(x)\n"), backend="numba")
    value, grads = fn.module.value_and_grad(x)
    if fn.module._VECTOR_MATH == ["libmvec"]:
        assert any(name in call for call in _vector_calls(fn.module))
    np.testing.assert_array_max_ulp(value, FUNCTIONS[name](x), maxulp=4)
    want, _ = gc.compile(gc.parse(f"x: [N]\ny = {name}(x)\n")).module.value_and_grad(x)
    np.testing.assert_array_max_ulp(value, want, maxulp=4)
    np.testing.assert_allclose(grads["x"], gc.compile(gc.parse(
        f"x: [N]\ny = {name}(x)\n")).module.value_and_grad(x)[1]["x"], rtol=4e-15)


def test_libmvec_is_used_where_glibc_has_it():
    """On x86-64 glibc with LLVM 20 (llvmlite 0.47, numba 0.65) the loop calls libmvec,
    and agrees with NumPy; a later LLVM (llvmlite 0.50: LLVM 22) takes the option but
    does not vectorise with it, so the helper keeps the scalar functions there."""
    import llvmlite.binding as llvm
    if sys.platform != "linux" or os.environ.get("GRAPHC_LIBMVEC") == "0":
        pytest.skip("libmvec is glibc's")
    x = np.random.default_rng(1).uniform(0.1, 3.0, N)
    fn = gc.compile(gc.parse(TEXT), backend="numba")
    value, grads = fn.module.value_and_grad(x)
    if llvm.llvm_version_info[0] > 20:
        assert fn.module._VECTOR_MATH == ["scalar"] and not _vector_calls(fn.module)
        return
    assert fn.module._VECTOR_MATH == ["libmvec"]
    assert {"sin", "cos", "exp", "log", "tan", "pow"} <= {
        call.split("_")[-1] for call in _vector_calls(fn.module)}
    want, wgrads = gc.compile(gc.parse(TEXT)).module.value_and_grad(x)
    for got, expected in ((value, want), (grads["x"], wgrads["x"])):  # a few ulps of the terms
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14 * np.abs(expected).max())


def test_switched_off_the_scalar_functions_run():
    """GRAPHC_LIBMVEC=0: no vector calls, NumPy's sin and cos to the bit (glibc's
    scalar ones are correctly rounded here), as before."""
    code = ("import re, numpy as np, graphc as gc\n"
            f"fn = gc.compile(gc.parse({TEXT!r}), backend='numba')\n"
            f"x = np.linspace(0.1, 3.0, {N})\n"
            "v, g = fn.module.value_and_grad(x)\n"
            "asm = ''.join(fn.module._value_and_grad_loop.inspect_asm().values())\n"
            "print(fn.module._VECTOR_MATH, re.findall(r'_ZGV\\w+', asm))\n"
            "f = gc.compile(gc.parse('x: [N]\\ny = sin(x) * cos(x)\\n'), backend='numba')\n"
            "y, _ = f.module.value_and_grad(x)\n"
            "print(np.array_equal(y, np.sin(x) * np.cos(x)))\n")
    env = {**os.environ, "GRAPHC_LIBMVEC": "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=600, check=True).stdout.split("\n")
    assert out[:2] == ["['scalar'] []", "True"]
