"""Names in the emitted code: the graph's own where it has them, temporaries numbered
t1, t2, ... as printed (the graph's counter leaves gaps where the optimizer removed
nodes), and no name a user gives confused with a generated one."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from conftest import ROOT, assert_close, central_diff

import graphc as gc
from graphc.autodiff import transform as autodiff

sys.path.insert(0, str(ROOT / "benchmarks"))
try:
    from problems import PROBLEMS
finally:
    sys.path.pop(0)

GOLDEN = ROOT / "tests" / "golden"


def _numbers(source: str) -> dict[str, list[int]]:
    """Each emitted function's (and kernel's) temporaries' numbers, made-from names
    (``t2_bar``) included."""
    found = {}
    for chunk in re.split(r"(?m)^(?=def )", source):
        if re.match(r"def _?(forward|value_and_grad)(_block|_loop)?\(", chunk):
            found[chunk[4:chunk.index("(")]] = sorted(
                {int(k) for k in re.findall(r"\bt([0-9]+)(?:_\w+)?\b", chunk)})
    return found


def _assert_gapless(source: str, users: set[int] = frozenset()) -> None:
    """Each function's temporaries take the smallest numbers the ``users``' own
    names (t1, t3, ...) leave free."""
    for function, numbers in _numbers(source).items():
        generated = [k for k in numbers if k not in users]
        free = [k for k in range(1, len(numbers) + len(users) + 1) if k not in users]
        assert generated == free[:len(generated)], (function, numbers)


@pytest.mark.parametrize("key", ["P3", "P6"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_temporaries_are_numbered_without_gaps(key, mode):
    """P3 (a chain of 30 steps) and P6 (the mixture) leave hundreds of the graph's
    temporaries unprinted: the printed ones are t1..tk in each function."""
    problem = PROBLEMS[key]
    source = gc.compile(gc.parse(problem.gc_text), wrt=problem.wrt, mode=mode).source
    numbers = _numbers(source)
    assert len(numbers["value_and_grad"]) > 10
    _assert_gapless(source)
    body = source.split("def value_and_grad")[1]
    # numbered in the order they first appear, a name made from one (t3_dot) included
    first = list(dict.fromkeys(int(k) for k in re.findall(r"\bt([0-9]+)(?:_\w+)?\b", body)))
    assert first == sorted(first) and first[:3] == [1, 2, 3]


def test_every_golden_module_is_numbered_without_gaps():
    """Every backend's functions and kernels, each numbered from t1 (the goldens are
    the emitted modules: test_golden.py)."""
    for path in sorted(GOLDEN.glob("*.py")):
        _assert_gapless(path.read_text(encoding="utf-8"))


COLLIDING = """
t1 = a_bar * x
x_bar = sin(t1) * x
t3 = x_bar * x_bar
e = t3 * t1 + exp(x) * cos(a_bar * x)
"""
"""User names that look generated: a node t1 and t3, a node x_bar (x is an input),
an input a_bar (a is none)."""


def test_user_names_that_look_generated_stay_and_temporaries_skip_them(mode, optimize):
    g = gc.parse(COLLIDING)
    assert g.inputs == ["a_bar", "x"]
    at = {"a_bar": 0.7, "x": -1.3}
    fn = gc.compile(g, mode=mode, optimize=optimize)
    value, grads = fn(**at)
    assert_close(value, g.evaluate(**at)["e"], rtol=1e-12)
    for k in at:
        assert_close(grads[k], central_diff(lambda **v: g.evaluate(**v)["e"], at, k),
                     rtol=1e-6, atol=1e-9)
    for function in ("forward", "value_and_grad"):
        body = fn.source.split(f"def {function}(")[1].split("\ndef ")[0]
        for name in ("t1", "x_bar", "t3", "e"):  # the user's lines, under their names
            assert re.search(rf"(?m)^    {name} = ", body), (function, name)
        assert body.startswith("a_bar, x):")
        _assert_gapless(f"def {function}(" + body, users={1, 3})
    # the gradient of the input a_bar is not the node x_bar, nor named like it
    assert "{'a_bar': " in fn.source and "'x': " in fn.source


def test_an_input_named_like_a_temporary_in_a_built_graph():
    """The Python front end's own temporaries are t1, t2, ...: an input t2 and a
    node t4 keep their names, and the printed temporaries skip them."""
    a, t2 = gc.inputs("a t2")
    t4 = gc.sin(a) * t2
    g = gc.graph(out=gc.exp(t4 * a) + gc.cos(t2) * t4)
    g_named = gc.graph(t4=t4, out=gc.exp(t4 * a) + gc.cos(t2) * t4)
    at = {"a": 0.4, "t2": 1.1}
    for graph, users in ((g, {2}), (g_named, {2, 4})):
        fn = gc.compile(graph, of="out")
        _, grads = fn(**at)
        for k in at:
            assert_close(grads[k], central_diff(fn.forward, at, k), rtol=1e-6, atol=1e-9)
        assert "def value_and_grad(a, t2):" in fn.source
        _assert_gapless(fn.source, users)
    assert re.search(r"(?m)^    t4 = ", gc.compile(g_named, of="out").source)


@pytest.mark.parametrize("text", [
    "a: scalar\nb: scalar\nt = a + b\ne = cos(t) + t * 0",
    "x: [3]\ny: [3]\nt = x + y\ne = sum(cos(t)) + sum(t - t)",
    "e = (a + b) * (b + 1)",
    "x: [2, 3]\nw: [3]\ne = sum(tanh(x * w) * x) + sum(w * w)",
])
def test_every_name_autodiff_hands_out_is_a_node_of_its_graph(text, mode):
    """The 'no node named t7' family: autodiff names adjoints (x_bar, ...) as it builds;
    every node it records, hands out as an output or reads stays a node of the graph,
    and compiling the gradient again, of any such node, works."""
    g = gc.parse(text)
    h = autodiff.reverse(g) if mode == "reverse" else autodiff.forward(g)
    recorded = list(h.meta.adjoints.values()) + [
        t for tangents in h.meta.tangents.values() for t in tangents.values()]
    for n in [*recorded, *h.outputs, *(a for v in h.order() for a in h.args(v))]:
        assert h.has(n), n
    at = {i: np.full(g.shape(i) or (), 0.3 + k) for k, i in enumerate(g.inputs)}
    values = h.evaluate(**at)
    for w, grad in zip(h.meta.wrt, h.outputs[1:]):
        _, grads = gc.compile(g)(**at)
        assert_close(values[grad], grads[w], rtol=1e-12)
        if mode == "reverse":  # a gradient differentiated again (forward's stacked
            _, second = gc.vjp(h, of=grad, wrt=[w])(  # tangents refuse)
                **at, y_bar=np.ones(np.shape(values[grad])))
            assert np.shape(second[w]) == np.shape(at[w])


def test_autodiff_shows_the_nodes_it_names_without_renaming_them():
    """A node autodiff made before it knew it was an adjoint keeps its identity (its
    generated name) and is shown as a_bar: in text, in pictures, in the emitted code,
    and as the ``of`` that differentiates it again."""
    g = gc.parse("a: scalar\nb: scalar\nt = a + b\ne = cos(t) + t * 0")
    h = autodiff.reverse(g)
    grad_a, grad_b = h.outputs[1:]
    assert (h.shown(grad_a), h.shown(grad_b)) == ("a_bar", "b_bar")
    assert h.attrs(grad_a)["op"] == "mul" and grad_a != "a_bar"  # made as a temporary
    assert h.meta.adjoints["a"] == h.meta.adjoints["t"] == grad_a  # one node, held twice
    assert "a_bar = e_bar * -sin(t)\nb_bar = a_bar\n" in str(h)
    assert "<b>a_bar</b>" in gc.render(h).source and f"<b>{grad_a}</b>" not in \
        gc.render(h).source
    source = gc.compile(h, of="a_bar", wrt=["a"]).source
    assert "def value_and_grad(a, b):" in source and re.search(r"(?m)^    a_bar = ", source)
    at = {"a": 0.3, "b": 0.4}
    _, second = gc.compile(h, of="a_bar", wrt=["a", "b"])(**at)
    assert_close(second["a"], -np.cos(0.7), rtol=1e-12)
    assert_close(second["b"], -np.cos(0.7), rtol=1e-12)
    with pytest.raises(gc.UndefinedNameError, match="c_bar"):
        gc.compile(h, of="c_bar")
