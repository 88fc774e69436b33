"""Big and deep graphs: every walk is iterative, so size and depth never meet Python's
recursion limit (which these tests keep at its default)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import sympy as sp
from conftest import assert_close

import graphc as gc


@pytest.fixture(autouse=True)
def default_recursion_limit():
    """Run with Python's default limit, and make sure graphc does not raise it."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
        assert sys.getrecursionlimit() == 1000, "graphc changed the recursion limit"
    finally:
        sys.setrecursionlimit(before)


def _chain_reference(lines: int, x: float) -> tuple[float, float]:
    y, dy = x, 1.0
    for _ in range(1, lines):
        y, dy = math.sin(y) * 0.001 + y * 0.9999, dy * (math.cos(y) * 0.001 + 0.9999)
    return y, dy


@pytest.mark.slow
def test_a_100000_node_chain():
    lines = 25_000
    text = "y0 = x\n" + "\n".join(f"y{i} = sin(y{i - 1}) * 0.001 + y{i - 1} * 0.9999"
                                  for i in range(1, lines))
    g = gc.parse(text)
    assert len(g.nx) >= 100_000
    assert g.inputs == ["x"] and g.outputs == [f"y{lines - 1}"]
    fn = gc.compile(g)
    value, grads = fn(x=0.3)
    want_value, want_grad = _chain_reference(lines, 0.3)
    assert_close(value, want_value, rtol=1e-12)
    assert_close(grads["x"], want_grad, rtol=1e-9)
    assert_close(g.evaluate(x=0.3)[g.outputs[0]], want_value, rtol=1e-12)
    assert str(g).count("\n") >= lines - 1  # the text printer walks it too


def test_150_nested_parentheses(mode: str):
    g = gc.parse("y = " + "(" * 150 + "a + 1" + ")" * 150 + " * 2")
    value, grads = gc.compile(g, mode=mode)(a=1.5)
    assert float(value) == 5.0 and float(grads["a"]) == 2.0


def test_150_nested_calls(mode: str):
    g = gc.parse("y = " + "sin(" * 150 + "a" + ")" * 150)
    value, grads = gc.compile(g, mode=mode)(a=np.array([0.5, -1.0]))
    want, dwant = np.array([0.5, -1.0]), np.ones(2)
    for _ in range(150):
        want, dwant = np.sin(want), dwant * np.cos(want)
    assert_close(value, want, rtol=1e-12)
    assert_close(grads["a"], dwant, rtol=1e-10)


def test_a_long_flat_sum():
    g = gc.parse("y = " + " + ".join(f"a * {k}" for k in range(1, 1001)))
    value, grads = gc.compile(g)(a=2.0)
    assert float(value) == 2.0 * 500500 and float(grads["a"]) == 500500.0


def test_text_too_deep_for_python_s_parser_is_a_parse_error():
    with pytest.raises(gc.ParseError, match="too deeply"):
        gc.parse("y = " + " + ".join(["a"] * 50_000))


@pytest.mark.slow  # a big graph
def test_a_deep_sympy_expression():
    x = sp.Symbol("x")
    expr, depth = x, 1000
    for _ in range(depth):
        expr = sp.sin(expr) * sp.Rational(1, 2) + x
    g = gc.from_sympy(expr, name="y")
    assert g.inputs == ["x"]
    value, grads = gc.compile(g)(x=0.3)
    want, dwant = 0.3, 1.0
    for _ in range(depth):
        want, dwant = math.sin(want) * 0.5 + 0.3, math.cos(want) * 0.5 * dwant + 1.0
    assert_close(value, want, rtol=1e-12)
    assert_close(grads["x"], dwant, rtol=1e-9)


@pytest.mark.slow  # a big graph
def test_a_deep_python_front_end_expression():
    a = gc.input("a")
    e = a
    for _ in range(5000):
        e = gc.tanh(e) + a * 0.001
    g = gc.graph(y=e)
    value, grads = gc.compile(g)(a=0.2)
    want, dwant = 0.2, 1.0
    for _ in range(5000):
        want, dwant = math.tanh(want) + 0.2 * 0.001, (1 - math.tanh(want) ** 2) * dwant + 0.001
    assert_close(value, want, rtol=1e-12)
    assert_close(grads["a"], dwant, rtol=1e-9)
