"""benchmarks/fusion.py (issue 24, target 5): the hand-fused P4 variants whose times
docs/performance.md reports compute P4's value and gradient, in float32."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow,  # numba compiles the kernels (a few seconds)
              pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="numba is not installed")]


@pytest.fixture(scope="module")
def fusion():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import fusion
        import mlp
    finally:
        sys.path.pop(0)
    return fusion, mlp


@pytest.mark.parametrize("tanh_loop, loss_loop", [(False, False), (False, True), (True, True)])
def test_hand_fused_p4_is_p4(fusion, tanh_loop: bool, loss_loop: bool):
    import graphc as gc
    fusion, mlp = fusion
    module = gc.compile(gc.load(ROOT / "examples" / "mlp.gc"), wrt=mlp.PARAMS).module
    v = mlp.data(batch=64, seed=1)
    want_loss, want = mlp.hand_value_and_grad(**v)
    loss, grads = fusion._fused(module, tanh_loop, loss_loop)(**v)
    assert abs(float(loss) - float(want_loss)) <= 1e-5 * abs(float(want_loss))
    assert grads.keys() == want.keys()
    for k, g in grads.items():
        assert g.dtype == np.float32 and g.shape == want[k].shape
        np.testing.assert_allclose(g, want[k], rtol=1e-4, atol=1e-6)

