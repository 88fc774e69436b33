"""Text conveniences (issue 19): augmented assignment, the constants pi, e, inf and
nan, and error messages that point to the alternative."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import EXAMPLES, MODES

import graphc as gc


# ---- augmented assignment -----------------------------------------------------------------
@pytest.mark.parametrize("op, python", [
    ("+", lambda c, x: c + x), ("-", lambda c, x: c - x), ("*", lambda c, x: c * x),
    ("/", lambda c, x: c / x), ("**", lambda c, x: c ** x)])
def test_each_operator_updates_the_variable(op, python, mode):
    g = gc.parse(f"c = a * 2\nc {op}= c + b\ny = c * 1")
    a, b = 1.5, 0.75
    value, grads = gc.compile(g, mode=mode)(a=a, b=b)
    assert value == pytest.approx(python(a * 2, a * 2 + b), rel=1e-15)
    h = 1e-6
    fd = (python((a + h) * 2, (a + h) * 2 + b) - python((a - h) * 2, (a - h) * 2 + b)) / (2 * h)
    assert grads["a"] == pytest.approx(fd, rel=1e-6)


def test_micrograd_spelling_reads_as_micrograd_means_it():
    """micrograd's README: c += c + 1 is c = c + (c + 1); the right side is one operand."""
    g = gc.parse("c = a + b\nc += c + 1\nd = c * 2\nd -= d - 3")
    assert str(g).splitlines()[1:] == ["c_1 = c + (c + 1.0)", "d = c_1 * 2.0",
                                       "d_1 = d - (d - 3.0)"]
    assert g.evaluate(a=1.0, b=2.0)[g.outputs[0]] == 3.0
    again = gc.parse(str(g))
    assert again.evaluate(a=1.0, b=2.0)[again.outputs[0]] == 3.0


def test_matmul_and_declared_inputs_update_too():
    g = gc.parse("x: [3]\nW: [3, 3]\nx @= W\nx += 1\ny = sum(x)")
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=3), rng.normal(size=(3, 3))
    value, grads = gc.compile(g)(x=x, W=w)
    assert value == pytest.approx(np.sum(x @ w + 1), rel=1e-14)
    np.testing.assert_allclose(grads["x"], w.sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("text, where, words", [
    ("c += 1", (1, 1), ["name 'c' is not defined", "c = ..."]),
    ("a = x\nb += a", (2, 1), ["name 'b' is not defined"]),
    ("a = x\na[0] += 1", (2, 1), ["one plain name"]),
    ("f = lambda u: u\nf += 1", (2, 1), ["f names a function"]),
    ("a = x\na <<= 2", (2, 1), ["operator <<"]),
    ("a: [3]\nb: [4]\na += b", (3, 1), ["[3]", "[4]"]),
])
def test_augmented_assignment_errors_have_a_place(text, where, words):
    with pytest.raises(gc.GraphcError) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == where
    for w in words:
        assert w in str(info.value), w


# ---- named constants ----------------------------------------------------------------------
@pytest.mark.parametrize("text, inputs, at, want", [
    ("y = 2 * pi * r", ["r"], {"r": 0.5}, math.pi),
    ("y = x * e", ["x"], {"x": 2.0}, 2 * math.e),
    ("y = maximum(x, -inf) + minimum(x, inf)", ["x"], {"x": 0.25}, 0.5),
    ("y = x + nan", ["x"], {"x": 1.0}, math.nan),
    ("f = lambda u: u * pi + e\ny = f(x)", ["x"], {"x": 1.0}, math.pi + math.e),
    # names the text gives a meaning are the text's: assigned, declared, a parameter
    ("e = x * 2\ny = e * pi", ["x"], {"x": 1.0}, 2 * math.pi),
    ("y = e * 2\ne = y + 1", ["e"], {"e": 0.5}, 2.0),  # used before its assignment: input
    ("e: scalar\ny = x * e", ["e", "x"], {"e": 0.5, "x": 2.0}, 1.0),
    ("pi: any\ny = pi * 2", ["pi"], {"pi": 3.0}, 6.0),
    ("f = lambda e: e * 2\ny = f(x)", ["x"], {"x": 0.5}, 1.0),
    ("inf = x + 1\ny = inf * 2", ["x"], {"x": 0.5}, 3.0),
])
@pytest.mark.filterwarnings("ignore:invalid value")  # str(g) spells nan 1e999 - 1e999
def test_constants_are_numpys_where_the_text_gives_the_name_no_meaning(text, inputs, at, want):
    g = gc.parse(text)
    assert g.inputs == inputs
    value = g.evaluate(**at)[g.outputs[0]]
    assert value == pytest.approx(want, rel=1e-15, nan_ok=True)
    again = gc.parse(str(g))
    assert again.inputs == inputs
    assert again.evaluate(**at)[again.outputs[0]] == pytest.approx(want, rel=1e-15,
                                                                   nan_ok=True)


def test_colah_keeps_e_as_its_output():
    g = gc.load(EXAMPLES / "colah.gc")
    assert g.inputs == ["a", "b"] and g.outputs == ["e"]
    assert gc.compile(g)(a=2.0, b=1.0) == (6.0, {"a": 2.0, "b": 5.0})


@pytest.mark.parametrize("mode", MODES)
def test_a_constant_differentiates_as_a_number(mode):
    value, grads = gc.compile(gc.parse("y = pi * r ** 2"), mode=mode)(r=2.0)
    assert value == pytest.approx(4 * math.pi) and grads["r"] == pytest.approx(4 * math.pi)


def test_a_value_for_a_constant_says_how_to_make_it_an_input():
    fn = gc.compile(gc.parse("y = x * e"))
    with pytest.raises(gc.InputError, match=r"unexpected input 'e'.*declare `e: scalar`"):
        fn(x=1.0, e=0.5)


def test_inputs_named_like_constants_print_declared_and_read_back():
    e, x = gc.inputs("e x")
    g = gc.graph(y=e * x + 1)
    text = str(g)
    assert "e: any" in text
    assert gc.parse(text).inputs == ["e", "x"]
    assert gc.parse(text).evaluate(e=2.0, x=3.0)["y"] == 7.0


def test_the_command_line_says_so_too(tmp_path, cli):
    (tmp_path / "p.gc").write_text("y = x * e\n")
    out = cli("eval", "p.gc", "--at", "x=1,e=2", cwd=tmp_path)
    assert out.returncode == 2 and "declare `e: scalar`" in out.stderr
    out = cli("eval", "p.gc", "--at", "x=2", cwd=tmp_path)
    assert out.returncode == 0 and str(round(2 * math.e, 6))[:6] in out.stdout


# ---- messages that point to the alternative ----------------------------------------------
@pytest.mark.parametrize("text, cls, where, words", [
    ("y = softmx(x)", gc.UnknownOpError, (1, 5), ["unknown function 'softmx'",
                                                   "did you mean 'softmax'?"]),
    ("y = ln(x)", gc.UnknownOpError, (1, 5), ["did you mean 'log'?"]),
    ("y = expit(x)", gc.UnknownOpError, (1, 5), ["did you mean 'sigmoid'?"]),
    ("y = power(x, 2)", gc.UnknownOpError, (1, 5), ["write x ** y"]),
    ("y = gc.tahn(x)", gc.UnknownOpError, (1, 5), ["no function 'tahn'", "'tanh'"]),
    ("sq = lambda u: u * u\ny = sqq(x)", gc.UnknownOpError, (2, 5), ["did you mean 'sq'?"]),
    ("y = foo(x)", gc.UnknownOpError, (1, 5), ["unknown function 'foo'"]),
    ("f = lambda rate: rat * 2", gc.ParseError, (1, 18), ["not a parameter",
                                                            "did you mean 'rate'?"]),
    ("y = sum(x, axes=0)", gc.ParseError, (1, 12), ["no keyword axes", "did you mean 'axis'?"]),
    ("y = softmax(x, dim=0)", gc.ParseError, (1, 16), ["did you mean 'axis'?"]),
    ("y = sum(x, keepdim=True)", gc.ParseError, (1, 12), ["did you mean 'keepdims'?"]),
    ("y = np.exp(x)", gc.ParseError, (1, 5), ["np.exp(...) is written exp(...)"]),
    ("y = torch.tanhh(x)", gc.ParseError, (1, 5), ["named functions", "'tanh'"]),
    ("y = x.sum()", gc.ParseError, (1, 5), ["x.sum(...) is written sum(x, ...)"]),
    ("y = x.foo()", gc.ParseError, (1, 5), ["only named functions can be called"]),
    ("y = a if b else c", gc.ParseError, (1, 5), ["where(condition, x, y)"]),
    ("y = sum([u for u in x])", gc.ParseError, (1, 9), ["write the terms out"]),
    ("y = (lambda u: u)(x) + (lambda v: v)", gc.ParseError, (1, 5), ["named functions"]),
    ("y = x + (lambda v: v)", gc.ParseError, (1, 10), ["a line of its own"]),
    ("y = (z := x) + 1", gc.ParseError, (1, 6), ["assign on a line of its own"]),
])
def test_messages_point_to_the_alternative(text, cls, where, words):
    with pytest.raises(cls) as info:
        gc.parse(text)
    assert type(info.value) is cls and (info.value.line, info.value.col) == where
    for w in words:
        assert w in str(info.value), w


def test_the_builder_suggests_the_keyword_too():
    x = gc.input("x", shape=(3,))
    with pytest.raises(gc.GraphcError, match="no keyword axes; did you mean 'axis'"):
        gc.sum(x, axes=0)


# ---- NumPy's positional axis ------------------------------------------------------------------
_AXIS_NEXT = ["sum", "mean", "max", "min", "prod", "var", "std", "argmax", "cumsum", "flip",
              "sort", "softmax", "log_softmax", "logsumexp", "nanmax", "nansum", "ptp", "average"]


@pytest.mark.parametrize("name", _AXIS_NEXT)
def test_the_axis_may_come_by_position_as_in_numpy(name):
    """np.sum(x, 0) and jax.nn.softmax(x, 0): the axis is the argument after the array;
    it reads as axis=0, in text and in gc.<name>, and prints back by keyword."""
    text = gc.parse(f"x: [3, 4]\ny = {name}(x, 0)")
    keyword = gc.parse(f"x: [3, 4]\ny = {name}(x, axis=0)")
    assert str(text) == str(keyword) and f"{name}(x, axis=0)" in str(text)
    x = gc.input("x", shape=(3, 4))
    assert str(gc.graph(y=getattr(gc, name)(x, 0))) == str(keyword)
    at = {"x": np.random.default_rng(1).normal(size=(3, 4))}
    np.testing.assert_array_equal(text.evaluate(**at)["y"], keyword.evaluate(**at)["y"])


def test_a_second_axis_by_position_or_twice_is_refused_where_written():
    with pytest.raises(gc.ParseError, match=r"line 2, column 5: sum\(\) takes at most 2"):
        gc.parse("x: [3, 4]\ny = sum(x, 0, 1)")
    with pytest.raises(gc.ParseError, match="got axis twice"):
        gc.parse("x: [3, 4]\ny = sum(x, 0, axis=1)")


@pytest.mark.parametrize("name, meant", [("max", "maximum"), ("min", "minimum"),
                                         ("nanmax", "fmax")])
def test_a_reduction_given_an_array_for_its_axis_points_to_the_elementwise_function(name, meant):
    """Python's max(a, b) is elementwise; NumPy's max(x, 1) reduces: an array where the
    axis goes is the first one meant, so the error names it (text: where it is written)."""
    with pytest.raises(gc.ParseError, match=rf"line 3, column {len(name) + 9}: .*{meant}\(a, b\)"):
        gc.parse(f"x: [3, 4]\nz: [3, 4]\ny = {name}(x, z)")
    x, z = gc.input("x", shape=(3, 4)), gc.input("z", shape=(3, 4))
    with pytest.raises(gc.GraphcError, match=rf"{meant}\(a, b\)"):
        getattr(gc, name)(x, z)
    assert "axis=-1" in str(gc.parse(f"x: [3, 4]\ny = {name}(x, -1)"))
