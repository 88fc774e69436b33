"""verify at a kink (issue 22, item 5): the report names the kink, its one-sided
derivatives and the JAX convention graphc follows; the finite differences' tolerance is
scaled to their own error, so a point where they are merely inexact is no false alarm."""

from __future__ import annotations

import numpy as np
import pytest

import graphc as gc

KINKS = [  # graph, point, the node and operand whose derivative jumps, the boundary
    ("out = relu(x)", {"x": 0.0}, "out", "x", "x = 0"),
    ("out = abs(x)", {"x": 0.0}, "out", "x", "x = 0"),
    ("out = maximum(x, y)", {"x": 1.5, "y": 1.5}, "out", "x", "x = y"),
    ("out = clip(x, -1.0, 2.0)", {"x": 2.0}, "out", "x", "max(-1, x) = 2"),
    ("out = leaky_relu(x, 0.1)", {"x": 0.0}, "out", "x", "x = 0"),
]


def _jax_sides(jax, text: str, at: dict, operand: str) -> tuple[float, float, float]:
    """JAX's derivative of ``out = op(...)`` at the point and just either side of it."""
    jnp = jax.numpy
    fns = {"relu": jax.nn.relu, "abs": jnp.abs, "maximum": jnp.maximum, "clip": jnp.clip,
           "leaky_relu": jax.nn.leaky_relu}

    def f(v):
        return eval(text.removeprefix("out = "), {}, {**fns, **at, operand: v})  # noqa: S307
    grad = jax.grad(f)
    return tuple(float(grad(at[operand] + d)) for d in (0.0, -1e-3, 1e-3))


@pytest.mark.parametrize(("text", "at", "node", "operand", "where"), KINKS,
                         ids=[k[0] for k in KINKS])
def test_a_kink_is_named_with_its_sides_and_jax_s_choice(jax, text, at, node, operand, where):
    rep = gc.verify(gc.parse(text), at=at)
    kinks = [k for k in rep.kinks if (k.node, k.operand) == (node, operand)]
    assert len(kinks) == 1, rep.kinks
    (kink,) = kinks
    here, below, above = _jax_sides(jax, text, at, operand)
    assert kink.where == where
    assert sorted(float(s) for s in kink.sides) == sorted([below, above])
    assert float(kink.value) == here  # graphc's is JAX's
    assert f"kink: {node} = " in str(rep) and f"graphc follows JAX's ∂{node}/∂{operand}" in str(rep)


def test_relu_at_zero_still_disagrees_but_says_why():
    rep = gc.verify(gc.parse("out = relu(x)"), at={"x": 0.0})
    text = str(rep)
    assert not rep.ok and rep.rows[0].disagree == ["finite difference"]
    assert ("kink: out = relu(x) at x = 0: the one-sided derivatives ∂out/∂x are 0 and 1; "
            "graphc follows JAX's ∂out/∂x = 0") in text
    assert "METHODS DISAGREE (at a kink: see above)" in text


def test_a_smooth_square_of_a_kink_is_no_false_alarm():
    # relu(t)² is differentiable at t = 0 (derivative 0); central differences are off by O(h)
    rep = gc.verify(gc.parse("h = relu(w * x + b)\nf = h * h"), at={"w": 1, "x": 2, "b": -2})
    assert rep.ok, str(rep)
    assert [r.reverse for r in rep.rows] == [0, 0, 0]
    assert rep.rows[0].finite_difference == pytest.approx(1.2e-5, rel=0.01)
    assert [(k.node, k.where) for k in rep.kinks] == [("h", "t2 = 0")]


def test_rounding_in_a_large_function_is_no_false_alarm():
    # f ~ 1e8: rounding alone moves central differences by ~eps·1e8/h ~ 4e-3
    rep = gc.verify(gc.parse("f = 1e8 + 0.001 * x"), at={"x": 1.0})
    assert rep.ok, str(rep)


def test_away_from_a_kink_nothing_is_said_and_errors_are_still_caught(monkeypatch):
    rep = gc.verify(gc.parse("out = relu(x) * abs(x)"), at={"x": np.array([0.5, -2.0])})
    assert rep.ok and rep.kinks == [] and "kink" not in str(rep)
    gv = __import__("graphc.teach.verify", fromlist=["_finite_difference"])
    monkeypatch.setattr(gv, "_finite_difference", lambda g, env, x, out: 0.5 * env[x])
    rep = gc.verify(gc.parse("out = x * x"), at={"x": 3.0})  # 1.5, not 6: a wrong number
    assert not rep.ok and rep.rows[0].disagree == ["finite difference"]


def test_a_kink_in_one_element_of_an_array_is_found():
    rep = gc.verify(gc.parse("x: [3]\nout = sum(relu(x))"), at={"x": np.array([1.0, 0.0, -1.0])})
    assert [(k.node, k.where, k.sides, k.value) for k in rep.kinks] == [
        ("t1", "x = 0", ("0", "1"), "0")]


def test_a_cone_is_named_a_kink_without_one_sided_values(jax):
    """hypot(x, x) at 0 is √2·|x|: its rule's ``y ≠ 0`` branch is 0/0 there, so the
    derivative has no one-sided value, only JAX's choice, which graphc takes; the
    finite differences' 0 disagrees and the report says why (once a bare disagreement)."""
    rep = gc.verify(gc.parse("out = hypot(x, x)"), at={"x": 0.0})
    assert not rep.ok and rep.rows[0].disagree == ["finite difference"]
    assert [(k.node, k.where, k.sides) for k in rep.kinks] == [("out", "out = 0", ())]
    jnp = jax.numpy
    assert float(rep.kinks[0].value) * 2 == float(jax.grad(lambda v: jnp.hypot(v, v))(0.0))
    assert "∂out/∂x has no value there" in str(rep)
    assert "METHODS DISAGREE (at a kink: see above)" in str(rep)
    # an equality that holds on a region is no boundary: fmax's y = fmax(x, y) for y > x
    assert gc.verify(gc.parse("out = fmax(x, y) + hypot(x, y)"), at={"x": 1.0, "y": 2.0}
                     ).kinks == []
