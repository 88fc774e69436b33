"""Per-call latency on Python floats (issue 24, target 2), caught by counting work, not
by timing: fn() on floats skips ``Graph.bind`` (its checks pass unchanged there), and
the module's float path skips ``_inputs``; every other call is checked as before."""

from __future__ import annotations

import numpy as np
import pytest

import graphc as gc
from graphc.ir.graph import Graph

COLAH = "c = a + b\nd = b + 1\ne = c * d"


@pytest.fixture
def binds(monkeypatch: pytest.MonkeyPatch) -> list:
    """The calls of ``Graph.bind`` from here on (each still runs)."""
    calls: list = []
    bind = Graph.bind

    def counted(self, *args, **kwargs):
        calls.append(args)
        return bind(self, *args, **kwargs)

    monkeypatch.setattr(Graph, "bind", counted)
    return calls


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_floats_skip_bind_and_give_the_checked_answer(binds: list, mode: str):
    fn = gc.compile(gc.parse(COLAH), mode=mode)
    for value, grads in (fn(a=2.0, b=1.0), fn(2.0, 1.0), fn(b=1.0, a=2.0)):
        assert (value, grads) == (6.0, {"a": 2.0, "b": 5.0})
        assert type(value) is float and type(grads["a"]) is float
    assert fn.forward(a=2.0, b=1.0) == 6.0
    assert binds == []
    value, grads = fn(a=np.float64(2.0), b=1.0)  # not exactly a float: checked
    assert len(binds) == 1 and (value, grads) == (6.0, {"a": 2.0, "b": 5.0})


def test_floats_skip_the_modules_input_rule(monkeypatch: pytest.MonkeyPatch):
    fn = gc.compile(gc.parse(COLAH))

    def refused(*args):
        raise AssertionError("_inputs ran on Python floats")

    monkeypatch.setattr(fn.module, "_inputs", refused)
    assert fn(a=2.0, b=1.0)[0] == 6.0
    assert fn.module.value_and_grad(0.5, 1.0)[0] == 3.0


def test_floats_where_python_raises_take_numpys_answer(binds: list):
    fn = gc.compile(gc.parse("y = a / b"))
    with np.errstate(divide="ignore"):
        value, grads = fn(a=1.0, b=0.0)
    assert (value, grads) == (np.inf, {"a": np.inf, "b": -np.inf})
    assert binds == []


@pytest.mark.parametrize("call, words", [
    (lambda fn: fn(a=2.0), "missing input b"),
    (lambda fn: fn(a=2.0, b=1.0, c=3.0), "unexpected input 'c'"),
    (lambda fn: fn(2.0, a=1.0), "given twice"),
    (lambda fn: fn(2.0, 1.0, 3.0), "3 positional values"),
    (lambda fn: fn(a=True, b=1.0), "expected a number"),
    (lambda fn: fn(a="2", b=1.0), "expected a number"),
    (lambda fn: fn.forward(a=2.0), "missing input b"),
])
def test_bad_calls_still_raise_input_errors(call, words: str):
    fn = gc.compile(gc.parse(COLAH))
    with pytest.raises(gc.InputError, match=words):
        call(fn)


def test_floats_for_shaped_or_integer_inputs_are_checked(binds: list):
    shaped = gc.compile(gc.parse("x: [3]\ny = sum(x * b)"))
    with pytest.raises(gc.InputError, match="shape"):
        shaped(x=1.0, b=2.0)
    labels = gc.compile(gc.parse("x: [3]\ni: int\ny = x[i]"), wrt="x")
    with pytest.raises(gc.InputError, match="int"):
        labels(x=np.ones(3), i=1.0)
    assert len(binds) == 2
    scalar = gc.compile(gc.parse("x: scalar\ny = x * x"))  # declared (): a float fits
    assert scalar(x=3.0) == (9.0, {"x": 6.0}) and len(binds) == 2


@pytest.mark.parametrize("call", [lambda fn: fn(x=2.0), lambda fn: fn(2.0)])
def test_floats_that_make_an_output_not_a_scalar_say_so_as_bound_calls_do(call):
    """The fast path shares the slow one's answer to an output that is not a scalar at
    these inputs (a ValueError from the module): graphc's InputError naming the fix."""
    fn = gc.compile(gc.parse("y = x * ones((1,))"))
    assert fn.unsummed
    with pytest.raises(gc.InputError, match="at these inputs y is not a scalar"):
        call(fn)
    with pytest.raises(gc.InputError, match="at these inputs y is not a scalar"):
        fn(x=np.float64(2.0))  # through bind: the same error
