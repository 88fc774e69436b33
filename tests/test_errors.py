"""Every bad input gets the right GraphcError subclass, with line and column when it
comes from text, and a message that says what went wrong and where."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from conftest import EXAMPLES, MODES

import graphc as gc

# (text, error class, line, column, words the message must contain)
BAD_TEXT = [
    ("y = (a +", gc.ParseError, 1, 5, ["never closed"]),
    ("c = a + b\ne = c *\n", gc.ParseError, 2, 8, ["invalid syntax"]),
    ("y = a\n  z = b", gc.ParseError, 2, 2, ["indent"]),
    ("c = a + b\nd = b + 1\ne = foo(c) * d", gc.UnknownOpError, 3, 5, ["foo"]),
    ("y = print(a)", gc.UnknownOpError, 1, 5, ["print"]),
    ("y = getattr(a, b)", gc.UnknownOpError, 1, 5, ["getattr"]),
    ("y = a.b", gc.ParseError, 1, 5, [".b", "only .T"]),
    ("c = a\ny = c.real", gc.ParseError, 2, 5, [".real"]),
    ("y = a[0]", gc.ShapeError, 1, 5, ["indexing a needs its shape: declare it"]),
    ("y = 'hi'", gc.ParseError, 1, 5, ["strings are not allowed"]),
    ("y = a * f'{a}'", gc.ParseError, 1, 9, ["string"]),
    ("y = b'x'", gc.ParseError, 1, 5, ["bytes"]),
    ("import os", gc.ParseError, 1, 1, ["Import"]),
    ("y = a\nfrom os import path", gc.ParseError, 2, 1, ["ImportFrom"]),
    ('y = __import__("os")', gc.UnknownOpError, 1, 5, ["__import__"]),
    ('y = __import__("os").system("true")', gc.ParseError, 1, 5, ["named functions"]),
    ("y = a.__class__", gc.ParseError, 1, 5, ["__class__"]),
    ("y = a.__class__.__bases__", gc.ParseError, 1, 5, ["__bases__"]),
    ("y = (1).__add__(a)", gc.ParseError, 1, 5, ["named functions"]),
    ("y = [x for x in a]", gc.ParseError, 1, 5, ["comprehension"]),
    ("y = sum(x for x in a)", gc.ParseError, 1, 8, ["comprehension"]),
    ("y = {k: a for k in b}", gc.ParseError, 1, 5, ["comprehension"]),
    ("y = (lambda q: q)(a)", gc.ParseError, 1, 5, ["named functions"]),
    ("y = a + (lambda q: q)", gc.ParseError, 1, 10, ["lambda"]),
    ("", gc.ParseError, 1, 1, ["nothing is computed"]),
    ("# only\n# comments\n", gc.ParseError, 1, 1, ["nothing is computed"]),
    ("  \n\n", gc.ParseError, 1, 1, ["nothing is computed"]),
    ("y = a if b else a", gc.ParseError, 1, 5, ["conditional"]),
    ("y = a in b", gc.ParseError, 1, 5, ["comparisons: < <= > >= == !="]),
    ("y = a and b", gc.ParseError, 1, 5, ["and/or"]),
    ("y = a << b", gc.ParseError, 1, 5, ["<<"]),
    ("y = not a", gc.ParseError, 1, 5, ["use ~"]),
    ("y = 1j * a", gc.ParseError, 1, 5, ["complex"]),
    ("y = True * a", gc.ParseError, 1, 5, ["the constant True is not allowed"]),
    ("y = ...", gc.ParseError, 1, 5, ["the constant Ellipsis is not allowed"]),
    ("y = exp(a, b)", gc.ParseError, 1, 5, ["exp()", "1 argument"]),
    ("y = exp(a, axis=1)", gc.ParseError, 1, 12, ["axis"]),
    ("é = 1\ny = é + foo(a)", gc.UnknownOpError, 2, 9, ["foo"]),  # columns in characters
    ("y = 変数 + 値 + (1 >> 2)", gc.ParseError, 1, 15, [">>"]),
    ("f = lambda u: u * u\nf: scalar\ny = f(a)", gc.ParseError, 2, 1, ["f names a function"]),
    ("a, b = c, d", gc.ParseError, 1, 1, ["one plain name"]),
    ("y = z = a", gc.ParseError, 1, 1, ["one plain name"]),
    ("y += a", gc.ParseError, 1, 1, ["name 'y' is not defined", "y = ..."]),
    ("y = a\nexp(y)", gc.ParseError, 2, 1, ["bare expression"]),
    ("for i in a: pass", gc.ParseError, 1, 1, ["For"]),
    ("def f(x): return x", gc.ParseError, 1, 1, ["FunctionDef"]),
    ("y = a\ndel y", gc.ParseError, 2, 1, ["Delete"]),
    ("exp = a\ny = exp(a)", gc.ParseError, 2, 5, ["exp is a variable now", "line 1",
                                                 "gc.exp(...)"]),
    ("y = a\nexp: [3]\nz = exp(y)", gc.ParseError, 3, 5,
     ["exp is a variable now (assigned on line 2)"]),
    ("x = a\nf = lambda u: x(u)", gc.ParseError, 2, 15, ["x is a variable now"]),
    ("exp = lambda u: u\ny = exp(a)", gc.ParseError, 1, 1, ["graphc function"]),
    ("y = gc.nosuch(a)", gc.UnknownOpError, 1, 5, ["nosuch"]),
    ("y = np.exp(a)", gc.ParseError, 1, 5, ["named functions"]),
    ("f = lambda x: x\ny = f", gc.ParseError, 2, 5, ["f is a function"]),
    ("f = lambda x: q * x\ny = f(a)", gc.ParseError, 1, 15, ["'q'"]),
    ("f = lambda x, x: x", gc.ParseError, 1, 5, ["distinct"]),
    ("y = {a}", gc.ParseError, 1, 5, ["set"]),
    ("y = a\x00", gc.ParseError, 1, 1, ["null"]),
    ("y = a\nb: [3]\nz = y + b\nb: [4]", gc.ParseError, 4, 1, ["declared after"]),
    # issue 17: internal ops without their parameters were tracebacks
    ("y = reverse_last(x)", gc.ParseError, 1, 5, ["reverse_last()", "k", "required"]),
    ("y = lift(x)", gc.ParseError, 1, 5, ["lift()", "ndim", "required"]),
    ("y = expand_dims(x)", gc.ShapeError, 1, 5, ["expand_dims(", "axis", "required"]),
    ("y = slice(x, axis=None)", gc.ParseError, 1, 5, ["slice()", "axis", "None"]),
    ("y = sum(x, keepdims=None)", gc.ParseError, 1, 5, ["keepdims", "True or False"]),
    ("y = batch_size(x)", gc.ParseError, 1, 5, ["batch_size", "first axis"]),
    ("x: [3]\ny = reverse_last(x, k=5)", gc.ParseError, 2, 5, ["0 <= k", "[3]"]),
    ("x: [3]\ny = reverse_last(x, k=True)", gc.ParseError, 2, 5, ["integer"]),
    ("x: [3]\ny = expand_dims(x, axis=5)", gc.ShapeError, 2, 5, ["axis 5", "out of range"]),
    ("a = 1\ny = x * " + "9" * 5000, gc.ParseError, 2, 9, ["5,000 digits", "4,300"]),
    ("x: [1_" + "0" * 4400 + "]", gc.ParseError, 1, 5, ["4,401 digits"]),
]


@pytest.mark.parametrize(("text", "cls", "line", "col", "words"), BAD_TEXT,
                         ids=[repr(b[0])[1:-1][:40] for b in BAD_TEXT])
def test_bad_text(text, cls, line, col, words):
    with pytest.raises(cls) as info:
        gc.parse(text)
    err = info.value
    assert type(err) is cls
    assert (err.line, err.col) == (line, col)
    assert str(err).startswith(f"line {line}, column {col}: ")
    for w in words:
        assert w in err.message, f"{err.message!r} should mention {w!r}"


def test_errors_are_graphc_errors():
    for cls in (gc.ParseError, gc.CycleError, gc.UndefinedNameError, gc.UnknownOpError,
                gc.ShapeError, gc.InputError):
        assert issubclass(cls, gc.GraphcError)


def test_bad_file_reports_its_position(tmp_path):
    path = tmp_path / "bad.gc"
    path.write_text("c = a + b\nd = foo(c)\n")
    with pytest.raises(gc.UnknownOpError) as info:
        gc.load(path)
    assert (info.value.line, info.value.col) == (2, 5)
    with pytest.raises(gc.GraphcError, match="cannot read"):
        gc.load(tmp_path / "missing.gc")


@pytest.mark.parametrize("text", [123, None, b"y = a"])
def test_parse_wants_text(text):
    with pytest.raises(gc.ParseError, match="expected text"):
        gc.parse(text)


# ---- SSA: reassigning a name makes a new version ------------------------------------
def test_reassignment_makes_versions(mode: str):
    g = gc.parse("x = x + 1\nx = x + 1")
    assert g.inputs == ["x"]
    assert g.outputs == ["x_2"] and "x_1" in g.nx
    env = g.evaluate(x=1.0)
    assert (env["x"], env["x_1"], env["x_2"]) == (1.0, 2.0, 3.0)
    value, grads = gc.compile(g, mode=mode)(x=1.0)
    assert float(value) == 3.0 and float(grads["x"]) == 1.0


def test_reassignment_uses_the_latest_version(mode: str):
    g = gc.parse("y = a * 2\nz = y * y\ny = y + z\nout = y * a")
    # y_1 = 2a + 4a^2, out = (2a + 4a^2) * a = 2a^2 + 4a^3
    value, grads = gc.compile(g, mode=mode)(a=1.5)
    assert float(value) == pytest.approx(2 * 1.5**2 + 4 * 1.5**3)
    assert float(grads["a"]) == pytest.approx(4 * 1.5 + 12 * 1.5**2)
    assert gc.compile(g, of="z")(a=1.5)[0] == pytest.approx(9.0)


# ---- names a caller asks for -------------------------------------------------------
@pytest.mark.parametrize(("kw", "cls", "words"), [
    ({"of": "zz"}, gc.UndefinedNameError, ["of='zz'", "a, b, c, d, e"]),
    ({"wrt": "c"}, gc.UndefinedNameError, ["wrt='c'", "not an input"]),
    ({"wrt": "zz"}, gc.UndefinedNameError, ["wrt='zz'", "inputs: a, b"]),
    ({"wrt": ["a", "zz"]}, gc.UndefinedNameError, ["'zz'"]),
    ({"wrt": "a,a"}, gc.UndefinedNameError, ["twice"]),
    ({"mode": "sideways"}, gc.GraphcError, ["sideways"]),
    ({"wrt": 5}, gc.GraphcError, ["wrt=5", "list of names"]),
])
def test_bad_compile_arguments(kw, cls, words):
    g = gc.load(EXAMPLES / "colah.gc")
    with pytest.raises(cls) as info:
        gc.compile(g, **kw)
    for w in words:
        assert w in str(info.value)


def test_wrt_subsets():
    g = gc.load(EXAMPLES / "colah.gc")
    assert gc.compile(g, wrt="a, b")(a=2.0, b=1.0)[1].keys() == {"a", "b"}
    assert gc.compile(g, wrt=[])(a=2.0, b=1.0)[1] == {}


# ---- call time: missing, extra and ill-typed inputs ---------------------------------
BAD_CALLS = [
    ((), {"a": 2.0}, ["missing", "b"]),
    ((), {"a": 2.0, "b": 1.0, "c": 3.0}, ["unexpected", "'c'"]),
    ((2.0, 1.0, 3.0), {}, ["3 positional", "2 inputs"]),
    ((2.0,), {"a": 1.0, "b": 1.0}, ["'a'", "twice"]),
    ((), {"a": "2", "b": 1.0}, ["'a'", "str"]),
    ((), {"a": None, "b": 1.0}, ["'a'", "NoneType"]),
    ((), {"a": True, "b": 1.0}, ["'a'", "bool"]),
    ((), {"a": np.True_, "b": 1.0}, ["'a'", "bool"]),
    ((), {"a": np.array([True, False]), "b": 1.0}, ["'a'", "bool"]),
    ((), {"a": 1 + 2j, "b": 1.0}, ["'a'", "complex"]),
    ((), {"a": np.array([1 + 2j]), "b": 1.0}, ["'a'", "complex"]),
    ((), {"a": np.array([1, 2]), "b": 1.0}, ["'a'", "int64", "astype(float)"]),
    ((), {"a": np.array(["x"]), "b": 1.0}, ["'a'"]),
    ((), {"a": object(), "b": 1.0}, ["'a'"]),
    ((), {"a": {}, "b": 1.0}, ["'a'"]),
    ((), {"a": np.array([1.0], dtype=object), "b": 1.0}, ["'a'", "object"]),
]


@pytest.mark.parametrize(("args", "kwargs", "words"), BAD_CALLS,
                         ids=[str(i) for i in range(len(BAD_CALLS))])
@pytest.mark.parametrize("call", ["compiled", "forward", "evaluate"])
def test_bad_inputs_at_call_time(args, kwargs, words, call, mode):
    g = gc.load(EXAMPLES / "colah.gc")
    fn = gc.compile(g, mode=mode)
    target = {"compiled": fn, "forward": fn.forward, "evaluate": g.evaluate}[call]
    with pytest.raises(gc.InputError) as info:
        target(*args, **kwargs)
    for w in words:
        assert w in str(info.value), f"{info.value} should mention {w}"


@pytest.mark.parametrize("value", [2, np.int64(2), np.float32(2.0), np.array(2.0),
                                   [2.0, 2.0], np.float64(2.0)])
def test_numbers_that_are_fine(value):
    fn = gc.compile(gc.load(EXAMPLES / "colah.gc"))
    result, grads = fn(a=value, b=1.0)
    assert np.all(np.asarray(result) == 6.0) and np.all(np.asarray(grads["a"]) == 2.0)
    assert np.shape(grads["a"]) == np.shape(value)


def test_inputs_that_do_not_broadcast():
    fn = gc.compile(gc.load(EXAMPLES / "colah.gc"))
    with pytest.raises((gc.InputError, gc.ShapeError), match="a"):
        fn(a=np.ones(2), b=np.ones(3))


@pytest.mark.parametrize(("text", "shapes", "want"), [
    ("y = sum(a.T * b)", ((3, 1), (4, 1)), {"a": 4.0, "b": 3.0}),
    ("y = sum(sum(a) * b)", ((4, 1), (2, 1)), {"a": 2.0, "b": 4.0}),
])
def test_inputs_that_meet_in_no_elementwise_op_need_not_broadcast(text, shapes, want):
    """Undeclared inputs were refused unless they broadcast together as given, though
    a.T (1, 3) * b (4, 1) is what NumPy and JAX compute."""
    at = dict(zip("ab", (np.ones(s) for s in shapes)))
    _, grads = gc.compile(gc.parse(text))(**at)
    for name, value in want.items():
        np.testing.assert_array_equal(grads[name], np.full(at[name].shape, value))


def test_an_int_too_large_for_a_float():
    fn = gc.compile(gc.load(EXAMPLES / "colah.gc"))
    with pytest.raises(gc.InputError):
        fn(a=10**400, b=1.0)


# ---- the Python front end ----------------------------------------------------------
def test_python_front_end_errors():
    a, b = gc.inputs("a b")
    with pytest.raises(gc.InputError, match="non-empty"):
        gc.input("")
    with pytest.raises(gc.InputError):
        gc.input(3)
    with pytest.raises(gc.GraphcError, match="exp"):
        gc.exp(a, b)
    with pytest.raises(gc.GraphcError, match="alpha"):
        gc.relu(a, alpha=3)
    with pytest.raises(gc.GraphcError, match="truth value"):
        bool(a)
    with pytest.raises(gc.GraphcError, match="at least one"):
        gc.graph()
    with pytest.raises(gc.InputError, match="str"):
        _ = a + "s"
    with pytest.raises(gc.InputError, match="complex"):
        _ = a + 1j
    with pytest.raises(gc.InputError, match="ndarray"):
        _ = a + np.array([1.0, 2.0])


# ---- cycles ------------------------------------------------------------------------
def test_a_cycle_is_named():
    g = gc.load(EXAMPLES / "colah.gc")
    g.nx.add_edge("e", "c")
    for action in (g.order, lambda: gc.compile(g), lambda: g.evaluate(a=1.0, b=2.0)):
        with pytest.raises(gc.CycleError) as info:
            action()
        message = str(info.value)
        assert "cycle" in message
        assert "c -> e -> c" in message or "e -> c -> e" in message


def test_a_longer_cycle_is_named():
    g = gc.parse("p = a + 1\nq = p * 2\nr = q - a\ns = r * r")
    g.nx.add_edge("r", "p")
    with pytest.raises(gc.CycleError) as info:
        gc.compile(g)
    cycle = str(info.value).split(": ", 1)[1].split(" -> ")
    assert cycle[0] == cycle[-1] and set(cycle) == {"p", "q", "r"}


def test_a_self_loop_is_a_cycle():
    g = gc.load(EXAMPLES / "colah.gc")
    g.nx.add_edge("d", "d")
    with pytest.raises(gc.CycleError, match="d -> d"):
        g.order()


@pytest.mark.parametrize("mode", MODES)
def test_errors_leave_the_graph_usable(mode: str):
    g = gc.load(EXAMPLES / "colah.gc")
    with pytest.raises(gc.UndefinedNameError):
        gc.compile(g, of="zz", mode=mode)
    assert float(gc.compile(g, mode=mode)(a=2.0, b=1.0)[0]) == 6.0


@pytest.mark.parametrize("call, words", [
    (lambda: gc.input("q", shape=(True,)), ["q", "dimension", "True"]),
    (lambda: gc.input("q", shape=(3, -1)), ["q", "dimension", "-1"]),
    (lambda: gc.verify(gc.parse("e = a * b"), [1, 2]), ["mapping", "list"]),
    (lambda: gc.render(gc.parse("e = a * b"), {"a": 1, "b": 2}, wrt="zz"), ["wrt", "reverse"]),
    (lambda: gc.render(gc.parse("e = a * b"), {"a": 1, "b": 2}, limit="2"), ["limit='2'"]),
])
def test_api_misuse_is_a_graphc_error(call, words):
    with pytest.raises(gc.GraphcError) as info:
        call()
    for w in words:
        assert w in str(info.value), w


def test_a_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.gc"
    path.write_bytes("\ufeffe = (a + b) * (b + 1)\n".encode())
    assert gc.compile(gc.load(path))(a=2.0, b=1.0)[0] == 6.0


@pytest.mark.parametrize("call", [
    lambda x: np.sum(x), lambda x: np.mean(gc.sin(x)), lambda x: np.exp(x),
    lambda x: np.maximum(x, 0.0)])
def test_numpy_functions_on_a_symbolic_value_are_refused(call):
    """NumPy took an Expr for a one-element object array: np.sum(x) returned x and
    np.mean(sin(x)) sin(x) / 1, silently."""
    with pytest.raises(gc.GraphcError, match="symbolic, not an array"):
        call(gc.input("x", shape=(3,)))


def test_python_abs_and_numpy_scalars_build_nodes():
    x = gc.input("x", shape=(3,))
    g = gc.graph(e=gc.sum(abs(x) * np.float64(2.0) + np.float32(1.0) / (x * x)))
    at = np.array([-1.0, 2.0, -3.0])
    np.testing.assert_allclose(gc.compile(g)(x=at)[1]["x"], 2 * np.sign(at) - 2 / at**3)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_derivative_that_is_not_real_is_nan_as_in_numpy_and_jax(mode):
    """d (-2)**a / da = (-2)**a * log(-2): NumPy's log(-2.0) is nan, and JAX's gradient
    is nan; graphc refused to compile."""
    fn = gc.compile(gc.parse("e = (-2.0) ** a"), mode=mode)
    with np.errstate(invalid="ignore"):
        value, grads = fn(a=np.array([2.0, 1.5]))
    np.testing.assert_array_equal(value, [4.0, np.nan])
    assert np.isnan(grads["a"]).all()


def test_an_integer_past_floats_range_is_infinite_as_1e999_is():
    g = gc.parse("y = a * " + "9" * 400)
    assert gc.compile(g)(a=1.0)[0] == np.inf


# ---- issue 17: sizes that hung or hit the recursion limit ---------------------------
def _parse_seconds(text: str) -> float:
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        gc.parse(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow  # 10,000 lines, timed
def test_reassignments_cost_linear_time():
    """Each new version of y looked for a free name from y_1 on: n reassignments made
    n**2 / 2 probes (20,000 lines took 58 s, 100,000 never ended)."""
    small, big = (("y = x\n" + "y = y * 1.0 + 1\n" * (n - 1)) for n in (1000, 10_000))
    assert _parse_seconds(big) < 30 * _parse_seconds(small)  # 10x the lines
    g = gc.parse(big)
    assert g.outputs == ["y_9999"]
    assert gc.compile(g)(x=0.0)[0] == 9999


@pytest.mark.slow
def test_100000_reassignments_parse_and_compile():
    lines = 100_000
    g = gc.parse("y = x\n" + "y = y * 1.0 + 1.0\n" * (lines - 1))
    value, grads = gc.compile(g)(x=0.5)
    assert value == lines - 0.5 and grads["x"] == 1.0


def _doubling_chain(depth: int, twice: str) -> str:
    return "f0 = lambda x: sin(x)\n" + "".join(
        f"f{k} = lambda x: {twice.format(f'f{k - 1}(x)')}\n" for k in range(1, depth)) + \
        f"y = f{depth - 1}(a) * b\n"


@pytest.mark.parametrize("twice", ["({0} + {0}) * 0.5", "{0} * {0} / {0}"])
def test_a_lambda_calling_the_last_one_twice_computes_it_once(twice, mode):
    """30 lambdas, each calling the one before twice: 2**30 calls in the interpreter
    and in the emitted module, which never returned."""
    g = gc.parse(_doubling_chain(30, twice))
    body = g.ops["f29"].body
    assert [body.attrs(n)["op"] for n in body.order()].count("f28") == 1
    value, grads = gc.compile(g, mode=mode)(a=0.5, b=2.0)
    assert value == pytest.approx(2 * np.sin(0.5))
    assert grads["a"] == pytest.approx(2 * np.cos(0.5))
    assert grads["b"] == pytest.approx(np.sin(0.5))
    assert g.evaluate(a=0.5, b=2.0)["y"] == pytest.approx(2 * np.sin(0.5))


def test_a_lambda_as_deep_as_the_limit_works(mode):
    from graphc.frontend.text_lambda import LAMBDA_DEPTH

    depth = LAMBDA_DEPTH
    g = gc.parse("f = lambda x: " + "sin(" * depth + "x" + ")" * depth + "\ny = f(a)")
    want, slope = 0.5, 1.0
    for _ in range(depth):
        want, slope = np.sin(want), slope * np.cos(want)
    value, grads = gc.compile(g, mode=mode)(a=0.5)
    assert value == pytest.approx(want) and grads["a"] == pytest.approx(slope)


@pytest.mark.parametrize(("text", "line", "col"), [
    ("f = lambda x: " + "sin(" * 150 + "x" + ")" * 150 + "\ny = f(a)", 1, 5),
    ("f0 = lambda x: sin(x)\n" + "".join(f"f{k} = lambda x: sin(f{k - 1}(x))\n"
                                         for k in range(1, 2000)) + "y = f1999(a)", 61, 7),
    ("f0 = lambda x: sin(x)\n" + "".join(f"f{k} = lambda x: f{k - 1}(f{k - 1}(x))\n"
                                         for k in range(1, 30)) + "y = f29(a)", 7, 6),
    # a call is a level of its own: derivatives pass through each body in turn
    ("f0 = lambda u: u + 1\n" + "".join(f"f{k} = lambda u: f{k - 1}(u)\n"
                                        for k in range(1, 2000)) + "y = f1999(a)", 121, 8),
])
def test_a_lambda_too_deep_is_a_parse_error(text, line, col):
    """These raised RecursionError (from sympy, the interpreter's calls, or derivatives
    through nested bodies)."""
    with pytest.raises(gc.ParseError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == (line, col)
    assert "ops deep" in info.value.message and "limit is" in info.value.message


# ---- issue 17: names a user picks are the user's ------------------------------------
STAGED_NEURON = """\
dot = w0 * x0 + w1 * x1 + w2
neg = -dot
exp = gc.exp(neg)
add = exp + 1
f = 1 / add
"""


def test_a_wire_may_be_named_like_a_function(mode):
    """CS231n's staged sigmoid neuron names its wires neg, exp, add: refused before."""
    g = gc.parse(STAGED_NEURON)
    at = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    value, grads = gc.compile(g, mode=mode)(**at)
    assert value == pytest.approx(0.7310585786)
    assert grads["w0"] == pytest.approx(-0.196611933) and grads["x0"] == pytest.approx(0.39322386)
    assert gc.parse(str(g)).evaluate(**at)["f"] == pytest.approx(0.7310585786)


def test_a_variable_shadows_a_function_from_its_line_on():
    g = gc.parse("y = sum(x)\nsum = y + b\nwhere = sum * 2\nc = gc.sum(where * x)\n"
                 "f = lambda sum: sum * 3\nout = f(c)")
    x = np.array([1.0, 2.0])  # out = 3 * sum(2 * (S + b) * x) = 6 (S + b) S, S = sum(x)
    value, grads = gc.compile(g)(x=x, b=0.5)
    assert value == pytest.approx(6 * 3.5 * 3)
    np.testing.assert_allclose(grads["x"], 6 * (2 * 3 + 0.5) * np.ones(2))
    with pytest.raises(gc.ParseError) as info:
        gc.parse("sum = a + b\nc = sum * 2\nd = sum(x)")
    assert (info.value.line, info.value.col) == (3, 5)
    assert "sum is a variable now (assigned on line 1)" in info.value.message
    g = gc.parse("mean: [3]\nmax = gc.mean(mean)")  # inputs may be named so too
    assert g.inputs == ["mean"] and g.evaluate(mean=np.arange(3.0))["max"] == 1.0


def _same_values(g: gc.Graph, at: dict) -> None:
    text = str(g)
    again = gc.parse(text)
    want, got = g.evaluate(**at), again.evaluate(**at)
    out = g.outputs[0]
    np.testing.assert_allclose(got[again.outputs[0]], want[out], err_msg=text)


NAMED_LIKE_OPS = [
    ("neg = -a\nadd = neg + b\nmul = add * a\nsum = mul / b\nexp = gc.exp(sum)\n"
     "where = exp - neg", {"a": 0.3, "b": 1.5}),
    ("x: [3]\nsum = x * 2\nexp = gc.exp(sum)\nwhere = gc.sum(exp * x) + gc.mean(sum)\n"
     "mean = where * where", {"x": np.array([0.1, 0.2, 0.3])}),
    ("x: [2, 3]\nsum_to = x * b\nones_like = gc.relu(sum_to - 0.5)\n"
     "broadcast_like = gc.softmax(ones_like)\nwhere = gc.sum(broadcast_like * x)\n"
     "gt = gc.maximum(where, b)", {"x": np.arange(6.0).reshape(2, 3) / 6, "b": 0.7}),
    ("abs = gc.abs(a - b)\nsign = abs * a\nheaviside = gc.sigmoid(sign)\nlog = gc.log(heaviside)",
     {"a": -0.4, "b": 0.9}),
]


@pytest.mark.parametrize(("text", "at"), NAMED_LIKE_OPS, ids=range(len(NAMED_LIKE_OPS)))
def test_printed_text_parses_back_where_names_are_op_names(text, at, mode):
    """Gradient graphs are made of internal ops (sum_to, where, ...): printed text calls
    a function some variable shadows as gc.<name>(...)."""
    g = gc.parse(text)
    _same_values(g, at)
    try:
        fn = gc.compile(g, mode=mode)
    except gc.GraphcError:  # forward mode wants declared shapes for some ops
        return
    grad = fn.grad_graph
    again = gc.parse(str(grad))
    want, got = grad.evaluate(**at), again.evaluate(**at)
    for out in grad.outputs:  # the text names each as it is shown (a_bar)
        np.testing.assert_allclose(got[grad.shown(out)], want[out], err_msg=str(grad))
    value, grads = fn(**at)
    np.testing.assert_allclose(want[grad.outputs[0]], value)


def test_builder_and_sympy_names_print_as_text_that_parses():
    """str(g) printed names as they were: "a-b" read back as a - b, "a b" did not parse."""
    import sympy as sp

    weird = ["a-b", "lambda", "a_b", "ﬁ", "1x", "__debug__", "x.y", "a{b}", "😀", "None"]
    handles = [gc.input(n) for n in weird]
    total = handles[0]
    for k, h in enumerate(handles[1:], 2):
        total = total * 0.5 + h * k
    g = gc.graph(**{"y-1": gc.exp(total * 0.01)})
    at = {n: 0.1 * (k + 1) for k, n in enumerate(weird)}
    text = str(g)
    again = gc.parse(text)
    assert len(again.inputs) == len(weird) and len(set(again.inputs)) == len(weird)
    got = again.evaluate(*at.values())[again.outputs[0]]
    assert got == pytest.approx(g.evaluate(**at)["y-1"])
    e = gc.from_sympy(sp.Symbol("a b") * 2 + sp.Symbol("if") * sp.Symbol("a.b"), name="e")
    again = gc.parse(str(e))
    assert again.evaluate(1.0, 2.0, 3.0)["e"] == e.evaluate(1.0, 2.0, 3.0)["e"]


def test_a_name_that_is_not_text_is_refused():
    with pytest.raises(gc.InputError, match="not valid text"):
        gc.input("a\ud800")
    with pytest.raises(gc.InputError, match="not valid text"):
        gc.graph(**{"y\udc00": gc.input("a")})


def test_braces_in_names_render(tmp_path):
    """A name with { or } went into a str.format template: ValueError."""
    g = gc.graph(**{"y{": gc.exp(gc.input("a}"))})
    for show in ("reverse", "forward"):
        dot = gc.render(g, at={"a}": 1.0}, show=show)
        assert "a}" in dot.source and "y{" in dot.source
    gc.render(g, at={"a}": 1.0}, path=tmp_path / "braces.dot")


# ---- issue 17: tracebacks at call time ----------------------------------------------
@pytest.mark.parametrize("call", ["compiled", "forward", "evaluate"])
def test_an_undeclared_input_that_does_not_broadcast_with_a_declared_one(call):
    """NumPy's ValueError leaked: the call-time check compared undeclared inputs only
    with each other."""
    g = gc.parse("x: [3]\ny = sum(x * b)")
    fn = gc.compile(g)
    target = {"compiled": fn, "forward": fn.forward, "evaluate": g.evaluate}[call]
    with pytest.raises(gc.InputError) as info:
        target(x=np.ones(3), b=np.ones(4))
    assert "x (3,) (declared [3]), b (4,)" in str(info.value)
    assert fn(x=np.ones(3), b=np.ones((2, 1)))[0] == 6.0


def test_forward_mode_and_mean_over_an_empty_input(mode):
    """Forward mode reshaped (0, -1); mean's gradient divided by a size of 0 in Python
    floats. NumPy's mean of nothing is nan, with its RuntimeWarning."""
    x = np.zeros(0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        value, grads = gc.compile(gc.parse("x: [N]\ny = mean(x * x)"), mode=mode)(x=x)
    assert np.isnan(value) and grads["x"].shape == (0,)
    value, grads = gc.compile(gc.parse("x: [N]\ny = sum(exp(x))"), mode=mode)(x=x)
    assert value == 0.0 and grads["x"].shape == (0,)
    value, grads = gc.compile(gc.parse("x: [0]\ny = sum(x * x)"), mode=mode)(x=x)
    assert value == 0.0 and grads["x"].shape == (0,)


def test_emitted_modules_take_any_user_name(tmp_path, mode):
    """Nodes named like the module's own names (np, forward, _sum_to, ...) or ops."""
    import importlib.util

    names = ["np", "sum", "_sum_to", "value_and_grad", "forward", "neg", "where", "exp",
             "float", "math", "_broadcast_like", "x_bar", "gc", "t1", "out"]
    text = "a: [3]\nb: scalar\nnp = a * b\n" + "".join(
        f"{n} = gc.sin({p}) * 0.5 + {p} * b\n" for p, n in zip(names, names[1:]))
    g = gc.parse(text + "res = gc.sum(out * a)\n")
    at = {"a": np.array([0.1, 0.2, 0.3]), "b": 0.7}
    fn = gc.compile(g, mode=mode)
    value, grads = fn(**at)
    fn.save(tmp_path / "m.py")
    spec = importlib.util.spec_from_file_location("m", tmp_path / "m.py")
    saved = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(saved)
    value2, grads2 = saved.value_and_grad(**g.bind((), at))  # fn()'s input rule
    assert value2 == value and all(np.array_equal(grads[k], grads2[k]) for k in grads)
    _same_values(g, at)


def test_builder_outputs_named_like_functions_print_and_parse_back(mode):
    x = gc.input("x", shape=(3,))
    s = gc.sum(gc.exp(x) * x)
    g = gc.graph(exp=gc.exp(x) * 2, sum=s, where=s * gc.mean(x))
    at = {"x": np.array([0.1, 0.2, 0.3])}
    text = str(g)
    assert "gc.exp(" in text and "gc.sum(" in text, text
    again = gc.parse(text)
    np.testing.assert_allclose(again.evaluate(**at)["exp"], g.evaluate(**at)["exp"])
    fn = gc.compile(g, of="where", mode=mode)
    grad = gc.parse(str(fn.grad_graph))
    want = fn.grad_graph.evaluate(**at)
    for out in grad.outputs:
        np.testing.assert_allclose(grad.evaluate(**at)[out], want[out])
