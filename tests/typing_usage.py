"""A user's code against graphc's public API: CI type-checks it with mypy, strict as
a careful user is (pyproject.toml), and tests/test_typing.py runs it. ``_refused`` holds
calls mypy must refuse: each carries a ``# type: ignore[code]``, and an ignore that is
not needed is an error (warn_unused_ignores)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import graphc as gc

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


def text_and_compile() -> None:
    g = gc.parse("e = (a + b) * (b + 1)")
    assert_type(g, gc.Graph)
    assert_type(g.inputs, list[str])
    fn = gc.compile(g, wrt=["a"], mode="forward")
    assert_type(fn, gc.CompiledFunction)
    value, grads = fn(a=2.0, b=1.0)
    assert_type(grads, dict[str, Any])
    assert float(value) == 6.0 and float(grads["a"]) == 2.0
    assert_type(fn.source, str)


def handles() -> None:
    a, b = gc.inputs("a b")
    e = gc.exp(a) + 1
    assert_type(e, gc.Expr)
    assert_type(2 * gc.tanh(a) - b ** 2 / 3, gc.Expr)
    assert_type(gc.sqrt(np.float32(2.0)) * a, gc.Expr)
    x = gc.input("x", shape=(3, "N"))
    g = gc.graph(
        e=e,
        s=gc.sum(gc.softmax(x, axis=-1), axis=(0, 1)),
        m=gc.mean(gc.slice(x, start=1, stop=None, axis=0), keepdims=True),
        k=gc.logsumexp(x, axis=0, keepdims=False),
        l=gc.leaky_relu(a, 0.1) + gc.elu(b) + gc.maximum(a, 0.0),
        c=gc.cross_entropy(x.T @ x, x.T @ x),
    )
    assert_type(g, gc.Graph)
    assert g.outputs == ["e", "s", "m", "k", "l", "c"]
    assert gc.graph(e=e).inputs == ["a"]


def teaching() -> None:
    g = gc.graph(e=(gc.inputs("a")[0] + 1) ** 2)
    dot = gc.render(g, at={"a": 2.0})
    assert "digraph" in dot.source
    report = gc.verify(g, at={"a": 2.0})
    assert_type(report.ok, bool)
    assert report.ok, report


def errors() -> None:
    try:
        gc.parse("e = a +")
    except gc.ParseError as exc:
        assert_type(exc.line, int | None)
        assert exc.line == 1


def _refused() -> None:  # never run: each is an error at run time too (sum's in graph())
    a = gc.input("a")
    gc.exp("a")  # type: ignore[arg-type]
    gc.exp(a, a)  # type: ignore[call-arg]
    gc.sum(a, axis=[0])  # type: ignore[arg-type]
    gc.softmax(a, axis=-1, keepdims=True)  # type: ignore[call-arg]
    gc.input("x", shape="N")  # type: ignore[arg-type]
    a + "b"  # type: ignore[operator]


if __name__ == "__main__":
    for check in (text_and_compile, handles, teaching, errors):
        check()
