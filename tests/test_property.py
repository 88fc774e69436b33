"""Random DAGs (shared operands, x*x, fan-out, constants, 1-4 inputs) where every method
agrees: reverse == forward == sympy.diff of the composed expression == finite
differences, on floats and on broadcasting arrays, optimized and not; the emitted module
== the interpreter; optimize() never changes a value; parse(str(g)) round-trips.

Only smooth ops on safe domains are drawn (log(u*u + 1), not log(u)), so any nan, any
RuntimeWarning or any disagreement is a bug.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import MODES, OPTIMIZE, assert_close, central_diff, spelled_out, sum_to_shape
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import SHAPES, Dag, dags, examples

import graphc as gc
from graphc.autodiff import transform as autodiff
from graphc.ir.derive import to_sympy
from graphc.optimize import passes

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

def _points(draw: st.DrawFn, names: list[str], shapes: bool) -> dict[str, object]:
    values = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)
    at: dict[str, object] = {}
    for name in names:
        shape = draw(st.sampled_from(SHAPES)) if shapes else ()
        if shape == ():
            at[name] = draw(values)
        else:
            size = int(np.prod(shape))
            at[name] = np.array(draw(st.lists(values, min_size=size, max_size=size))) \
                .reshape(shape)
    return at


@st.composite
def cases(draw: st.DrawFn, arrays: bool = False) -> tuple[Dag, gc.Graph, dict]:
    dag = draw(dags())
    g = gc.parse(dag.text())
    return dag, g, _points(draw, g.inputs, arrays)


def _reasonable(g: gc.Graph, at: dict) -> bool:
    """Values stay small enough that exp/sigmoid cannot overflow."""
    with np.errstate(all="ignore"):
        env = g.evaluate(**at)
    return all(np.all(np.isfinite(v)) and np.all(np.abs(v) < 50) for v in env.values())


def _sympy_gradients(g: gc.Graph, at: dict) -> tuple[object, dict[str, object]]:
    """The value and the gradient from sympy alone: diff of the composed expression."""
    expr = spelled_out(to_sympy(g))
    symbols = [sp.Symbol(n, real=True) for n in g.inputs]
    values = [at[n] for n in g.inputs]
    # The output's shape broadcasts the inputs it depends on (sympy may cancel one).
    out_shape = np.shape(g.evaluate(**at)[g.outputs[0]])
    value = np.broadcast_to(sp.lambdify(symbols, expr, "numpy")(*values), out_shape)
    grads = {}
    for s, name in zip(symbols, g.inputs):
        d = sp.lambdify(symbols, sp.diff(expr, s), "numpy")(*values)
        like = np.broadcast_shapes(out_shape, np.shape(at[name]))
        grads[name] = sum_to_shape(d, np.shape(at[name]), like)
    return value, grads


def _check_all_methods(g: gc.Graph, at: dict) -> None:
    value, expected = _sympy_gradients(g, at)
    scale = 1 + max(float(np.max(np.abs(v))) for v in expected.values())
    f = g.evaluate
    out = g.outputs[0]
    fd = {n: central_diff(lambda **kw: f(**kw)[out], at, n) for n in g.inputs}
    for n in g.inputs:
        assert_close(fd[n], expected[n], rtol=1e-5, atol=1e-5 * scale, what=f"fd d/d{n}")
    for mode in MODES:
        for optimize in OPTIMIZE:
            got_value, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
            what = f"{mode}, optimize={optimize}"
            assert list(grads) == g.inputs
            assert_close(got_value, value, rtol=1e-10, atol=1e-12, what=what)
            for n in g.inputs:
                assert_close(grads[n], expected[n], rtol=1e-9, atol=1e-10 * scale,
                             what=f"{what}: d/d{n}")


@examples(100)
@given(cases())
def test_every_method_agrees_on_floats(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    _check_all_methods(g, at)


@examples(100)
@given(cases(arrays=True))
def test_every_method_agrees_on_broadcast_arrays(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    _check_all_methods(g, at)
    _, grads = gc.compile(g)(**at)
    for n in g.inputs:  # a gradient has the shape of its input, broadcast axes summed
        assert np.shape(grads[n]) == np.shape(at[n])


@pytest.mark.parametrize("shapes", [((), (4,)), ((4,), ()), ((2, 1), (3,)), ((), (2, 3))])
def test_scalar_and_array_inputs_broadcast(shapes, mode: str, optimize: bool):
    g = gc.parse("u = a * b\nv = sin(u) * a + b * b\nw = v / (a * a + 1)")
    rng = np.random.default_rng(7)
    at = {n: (float(rng.normal()) if s == () else rng.normal(size=s))
          for n, s in zip("ab", shapes)}
    _, expected = _sympy_gradients(g, at)
    _, grads = gc.compile(g, mode=mode, optimize=optimize)(**at)
    for n in "ab":
        assert np.shape(grads[n]) == np.shape(at[n]), n
        assert_close(grads[n], expected[n], rtol=1e-10, atol=1e-12, what=n)
        fd = central_diff(lambda **kw: g.evaluate(**kw)["w"], at, n)
        assert_close(grads[n], fd, rtol=1e-6, atol=1e-7, what=f"fd {n}")


@examples(100)
@given(cases(arrays=True))
def test_optimize_never_changes_values(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    graphs = [g, autodiff.reverse(g), autodiff.forward(g)]
    for h in graphs:
        before = h.evaluate(**at)
        after = passes.optimize(h.copy()).evaluate(**at)
        for o in h.outputs:
            assert_close(after[o], before[o], rtol=1e-12, atol=1e-14, what=o)


@examples(100)
@given(cases(arrays=True))
def test_emitted_module_matches_the_interpreter(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    out = g.outputs[0]
    for mode in MODES:
        for optimize in OPTIMIZE:
            fn = gc.compile(g, mode=mode, optimize=optimize)
            module: dict = {}
            exec(compile(fn.source, "<emitted>", "exec"), module)  # the text itself
            args = [at[n] for n in g.inputs]
            assert_close(module["forward"](*args), g.evaluate(**at)[out], rtol=1e-12,
                         atol=1e-14)
            value, grads = module["value_and_grad"](*args)
            assert list(grads) == g.inputs
            env = fn.grad_graph.evaluate(**at)
            assert_close(value, env[fn.grad_graph.outputs[0]], rtol=1e-12, atol=1e-14)
            for n, o in zip(fn.wrt, fn.grad_graph.outputs[1:]):
                assert_close(grads[n], env[o], rtol=1e-12, atol=1e-14, what=n)


@examples(100)
@given(cases(arrays=True))
def test_text_round_trip(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    text = str(g)
    again = gc.parse(text)
    assert again.inputs == g.inputs
    assert str(again) == text, "printing a parsed print must be stable"
    assert_close(again.evaluate(**at)[again.outputs[0]], g.evaluate(**at)[g.outputs[0]],
                 rtol=1e-12, atol=1e-14)
    # The gradient graph prints as text too, and that text computes the same gradient.
    grad = gc.compile(g).grad_graph
    reparsed = gc.parse(str(grad))
    env, env2 = grad.evaluate(**at), reparsed.evaluate(**at)
    for o in grad.outputs[1:]:  # the text names each as it is shown (a_bar)
        assert_close(env2[grad.shown(o)], env[o], rtol=1e-12, atol=1e-14, what=o)


@pytest.mark.parametrize("text", ["y = a + cos(sin(tanh(exp(b))))",
                                  "y = x * 2\nW: scalar\nz = y * W"])
def test_text_round_trip_keeps_the_input_order(text: str):
    g = gc.parse(text)
    again = gc.parse(str(g))
    assert again.inputs == g.inputs
    assert gc.compile(again)(0.5, 2.0)[0] == gc.compile(g)(0.5, 2.0)[0]


@examples(100)
@given(cases(arrays=True))
def test_front_ends_agree(case):
    dag, g, at = case
    assume(_reasonable(g, at))
    py = dag.python()
    out = g.outputs[0]
    assert py.outputs == [out]
    assert set(py.inputs) <= set(g.inputs)
    sub = {n: at[n] for n in py.inputs}
    assert_close(py.evaluate(**sub)[out], g.evaluate(**at)[out], rtol=1e-12, atol=1e-14)
    _, text_grads = gc.compile(g)(**at)
    _, py_grads = gc.compile(py)(**sub)
    for n in g.inputs:  # an input only dead lines use has no path to the output
        expected = text_grads[n]
        assert_close(py_grads[n] if n in py_grads else np.zeros_like(expected), expected,
                     rtol=1e-12, atol=1e-14, what=n)
    # ... and so does sympy's: every distinct subexpression becomes a node.
    sym = gc.from_sympy(to_sympy(g), name="out")
    sub = {n: at[n] for n in sym.inputs}
    expected = g.evaluate(**at)[out]
    got = np.broadcast_to(sym.evaluate(**sub)["out"], np.shape(expected))  # sympy cancels
    assert_close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op", ["-", "/", "**"])
def test_common_subexpressions_respect_operand_order(op: str, mode: str):
    # a - b and b - a are different nodes; a + b and b + a are one.
    g = gc.parse(f"u = a {op} b\nv = b {op} a\nw = a + b\nz = b + a\n"
                 "out = u * 2 + v * 3 + w * 5 + z * 7")
    at = {"a": np.array([1.5, 2.5]), "b": np.array([0.5, 3.0])}
    a, b = at["a"], at["b"]
    f = {"-": np.subtract, "/": np.divide, "**": np.power}[op]
    expected = f(a, b) * 2 + f(b, a) * 3 + (a + b) * 12
    for optimize in OPTIMIZE:
        fn = gc.compile(g, mode=mode, optimize=optimize)
        assert_close(fn.forward(**at), expected, rtol=1e-12)
        assert_close(fn(**at)[0], expected, rtol=1e-12)
        assert_close(passes.optimize(g.copy()).evaluate(**at)["out"], expected, rtol=1e-12)
    _, expected_grads = _sympy_gradients(g, at)
    _, grads = gc.compile(g, mode=mode)(**at)
    for n in "ab":
        assert_close(grads[n], expected_grads[n], rtol=1e-12, what=n)


@examples(100)
@given(cases())
def test_the_python_float_fast_path_equals_the_general_path(case):
    """Floats take the fast path (no broadcast helpers); 0-d arrays, which
    are not floats, take the general path: both give the same numbers."""
    dag, g, at = case
    assume(_reasonable(g, at))
    module = gc.compile(g).module
    floats = [float(at[n]) for n in g.inputs]
    value, grads = module.value_and_grad(*floats)
    value0, grads0 = module.value_and_grad(*[np.asarray(x) for x in floats])
    assert_close(value, value0, rtol=1e-15, atol=0)
    for n in g.inputs:
        assert_close(grads[n], grads0[n], rtol=1e-15, atol=0, what=n)


@pytest.mark.parametrize("optimize", OPTIMIZE)
def test_an_adjoint_passed_on_whole_to_two_operands(optimize: bool):
    """p's adjoint comes from one reader (p - p contributes nothing) and is not named
    for p; the sum hands it on unchanged to both its operands. It keeps its name for
    both (it was renamed for the first, and the second read a node that was gone)."""
    g = gc.parse("p = sin(x) + cos(y)\ne = p * 2 + (p - p)")
    for mode in MODES:
        value, grads = gc.compile(g, mode=mode, optimize=optimize)(x=0.3, y=0.4)
        assert_close(value, 2 * (np.sin(0.3) + np.cos(0.4)), rtol=1e-15)
        assert_close(grads["x"], 2 * np.cos(0.3), rtol=1e-15)
        assert_close(grads["y"], -2 * np.sin(0.4), rtol=1e-15)


@pytest.mark.parametrize("text, at", [
    ("a: scalar\nb: scalar\nt = a + b\ne = cos(t) + t * 0", {"a": 0.3, "b": 0.4}),
    ("x: [3]\ny: [3]\nt = x + y\ne = sum(cos(t)) + sum(t - t)",
     {"x": np.array([0.1, 0.2, 0.3]), "y": np.array([1.0, 2.0, 3.0])}),
])
def test_two_inputs_sharing_one_adjoint(text, at):
    """t's other reader contributes nothing, so a and b share t's adjoint node: naming
    it a_bar left b pointing at its old name ("no node named 't7'")."""
    g = gc.parse(text)
    _, grads = gc.compile(g)(**at)
    for k in at:
        np.testing.assert_allclose(grads[k], central_diff(
            lambda **v: np.sum(g.evaluate(**v)["e"]), at, k), rtol=1e-6, atol=1e-9)
    assert gc.verify(g, at).ok
