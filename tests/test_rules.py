"""Three rewrites in detail: the hand-written sigmoid, sum(x * y) as a dot product, and
scalar factors gathered before they meet an array.

Each fires where it should (and the report says so), gives the values of the same graph
with its pass switched off, of the unoptimized graph and of finite differences, and
leaves alone the graphs where it would be wrong or would cost more.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import EXAMPLES, assert_close, central_diff
from hypothesis import given
from strategies import declared_cases, examples, tame

import graphc as gc
from graphc.optimize import passes, rules

SIGMOID = "1 / (1 + exp(-z)) -> sigmoid(z)"
DOT = "sum(x * y) -> x @ y"
GATHER = "(x * s) * y -> (x * y) * s"
GATHER_DIV = "(x * s) / y -> (x / y) * s"
SUM_SPLIT = "sum((x * s) * y) -> sum(x * y) * s"

P2 = "w0: [N]\nx0: [N]\nw1: [N]\nx1: [N]\nw2: [N]\nf = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))\n"
P6 = (EXAMPLES / "mixture.gc").read_text()  # benchmark problem P6


def _values(text: str, rng: np.random.Generator, n: int = 5) -> dict[str, object]:
    """Inputs for a graph: declared shapes with N = n, undeclared ones as scalars."""
    g = gc.parse(text)
    out = {}
    for name in g.inputs:
        shape = tuple(n if isinstance(d, str) else d
                      for d in g.attrs(name)["params"]["shape"])
        out[name] = rng.uniform(0.5, 1.5, size=shape) if shape else float(rng.uniform(0.5, 1.5))
    return out


def _ops(g: gc.Graph) -> list[str]:
    return [d["op"] for _, d in g.nx.nodes(data=True)]


def check(text: str, name: str, kind: str, mode: str, fires: bool = True,
          at: dict | None = None, user_graph: bool = False) -> gc.CompiledFunction:
    """The rewrite fires (or not: in the user's graph alone, with ``user_graph``) and
    changes no value: against the graph compiled without its pass, without any pass, and
    against finite differences. Memory planning is off: the tests read the lines it
    would split (``out=``)."""
    g = gc.parse(text)
    at = at or _values(text, np.random.default_rng(0))
    rewrites = tuple(p for p in passes.PASSES if p != "memory")
    try:
        fast = gc.compile(g, mode=mode, passes=rewrites)
    except gc.GraphcError as exc:
        if mode != "forward" or "needs declared shapes" not in str(exc):
            raise
        pytest.skip("an undeclared input reaches a reduction: no stacked tangents")
    off = gc.compile(g, mode=mode, passes=tuple(p for p in rewrites if p != kind))
    plain = gc.compile(g, mode=mode, optimize=False)
    report = fast.forward_graph.meta.report if user_graph else fast.report()
    assert (report.get(name, 0) >= 1) == fires, report
    assert name not in off.report()
    value, grads = fast(**at)
    for other in (off, plain):
        v, gr = other(**at)
        assert_close(value, v, rtol=1e-12, atol=1e-14, what="value")
        for k in gr:
            assert_close(grads[k], gr[k], rtol=1e-11, atol=1e-13, what=k)
    for k in grads:
        assert_close(grads[k], central_diff(plain.forward, at, k), rtol=1e-6, atol=1e-8,
                     what=f"{k} by finite differences")
    return fast


# ---- the sigmoid ------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "z: [N]\nf = 1 / (1 + exp(-z))",
    "z: [N]\nf = 1 / (exp(-z) + 1)",
    "z: [N]\nf = 1 / (1 + exp(z))",  # sigmoid(-z)
    "z: [N]\nf = 1 / (1 + exp(z - 3))",
    "f = 1 / (1 + exp(-(a * z + b)))",  # undeclared: shapes do not matter here
    "z: [N]\nf = sum(log(1 / (1 + exp(-z))))",  # then log(sigmoid) -> -softplus
])
def test_the_sigmoid_is_recognised(text, mode):
    fn = check(text, SIGMOID, "stable", mode)
    assert "sigmoid" in _ops(fn.forward_graph) or "softplus" in _ops(fn.forward_graph)
    assert "**" not in fn.source  # no 1 / t**2 * exp(-z) in the derivative


@pytest.mark.parametrize("text", [
    "z: [N]\nf = 2 / (1 + exp(-z))",
    "z: [N]\nf = 1 / (2 + exp(-z))",
    "z: [N]\nf = 1 / (1 - exp(-z))",
    "z: [N]\nf = 1 / (1 + log(z))",
    "z: [N]\na: [N]\nf = a / (1 + exp(-z))",
    "z: [N]\na: [N]\nf = 1 / (1 + a * exp(-z))",
    "z: [N]\na: [N]\nf = 1 / (a + exp(-z))",
    "z: [N]\ne = exp(-z)\nf = 1 / (1 + e) + e",  # the exp is needed anyway: it stays one
    "z: [N]\nd = 1 + exp(-z)\nf = 1 / d + d",
])
def test_what_is_not_a_sigmoid_stays(text, mode):
    fn = check(text, SIGMOID, "stable", mode, fires=False)
    assert "sigmoid" not in _ops(fn.forward_graph)


def test_p2_gradient_is_f_times_one_minus_f_then_five_products():
    fn = gc.compile(gc.parse(P2))
    body = fn.source.split("def value_and_grad")[1].split('"""')[2].strip().splitlines()
    lines = [line.strip() for line in body if "= _inputs(" not in line]  # the input rule
    z = lines[0].split(" = ")[0]  # the sigmoid computed in z's buffer, as an expert does
    assert lines[:2] == [f"{z} = w0 * x0 + w1 * x1 + w2", f"f = _sigmoid({z}, out={z})"]
    t = lines[2].split(" = ")[0]
    assert lines[2] == f"{t} = f * (1.0 - f)"
    grads = sorted(line for line in lines[3:-1])
    assert grads == sorted([f"w0_bar = {t} * x0", f"x0_bar = {t} * w0", f"w1_bar = {t} * x1",
                            f"x1_bar = {t} * w1", f"w2_bar = {t}"])


@pytest.mark.parametrize("z", [-800.0, -400.0, -40.0, 0.0, 40.0, 400.0, 800.0])
def test_the_sigmoid_computes_the_users_numbers_and_a_finite_gradient(z):
    """The value is the user's formula bit for bit (overflowing where it overflows); the
    derivative f * (1 - f) never forms exp(-z)**2, so it is finite and warns nowhere
    the formula does not (the unrewritten derivative is nan at -800, warns at -400)."""
    zs = np.array([z, -z, 0.5])
    with np.errstate(over="ignore"):
        want = 1 / (1 + np.exp(-zs))
    fn = gc.compile(gc.parse("z: [3]\nf = 1 / (1 + exp(-z))"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if abs(z) > 700 else "error", RuntimeWarning)
        value, grads = fn(zs)
    np.testing.assert_array_equal(value, want)
    np.testing.assert_allclose(grads["z"], want * (1 - want), rtol=1e-15, atol=0)
    assert np.all(np.isfinite(grads["z"]))


def test_without_the_rewrite_the_derivative_overflows():
    """Why the rewrite is in the stable pass: what it replaces."""
    g = gc.parse("z: [1]\nf = 1 / (1 + exp(-z))")
    off = gc.compile(g, passes=tuple(p for p in passes.PASSES if p != "stable"))
    with np.errstate(all="ignore"):
        assert np.isnan(off(np.array([-800.0]))[1]["z"][0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        off(np.array([-400.0]))


# ---- sum(x * y) -> x @ y ---------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "x: [N]\ny: [N]\ne = sum(x * y)",
    "x: [N]\ny: [N]\ne = sum(x * y, axis=0)",
    "x: [N]\ny: [N]\ne = sum(x * y, axis=-1)",
    "x: [5]\ne = sum(x * x)",
    "x: [N]\ny: [N]\ne = sum(sin(x) * y) * sum(x * cos(y))",
])
def test_a_sum_of_a_product_of_vectors_is_a_dot(text, mode):
    fn = check(text, DOT, "reassociate", mode)
    assert "matmul" in _ops(fn.forward_graph)
    assert "np.sum" not in fn.source.split("def forward")[1].split("return")[0]


@pytest.mark.parametrize("text", [
    "x: [N, M]\ny: [N, M]\ne = sum(x * y)",  # not vectors
    "x: [N]\ny: [1]\ne = sum(x * y)",  # broadcast, not one shape
    "x: [N]\ny: scalar\ne = sum(x * y)",
    "x: [N]\ne = sum(x * y)",  # y undeclared: it may be an array of any shape
    "e = sum(x * y)",
    "x: [N]\ny: [N]\np = x * y\ne = sum(p) + sum(sin(p))",  # the product is made anyway
    "x: [N]\ny: [N]\ne = mean(x * y)",
    "x: [N, M]\ny: [N, M]\ne = sum(sum(x * y, axis=1))",
])
def test_other_sums_of_products_stay(text, mode):
    fn = check(text, DOT, "reassociate", mode, fires=False)
    assert "matmul" not in _ops(fn.forward_graph)


@pytest.mark.parametrize("text", [
    "x: [N]\ne = sum(x ** 2)",
    "x: [N]\ny: [N]\ne = sum(100 * (y - x**2)**2 + (1 - x)**2)",  # Rosenbrock's terms
])
def test_a_sum_of_squares_is_a_dot(text, mode):
    fn = check(text, DOT, "reassociate", mode)
    assert "np.sum" not in fn.source.split("def forward")[1].split("return")[0]


@pytest.mark.parametrize("text, name, fires", [
    ("x: [N]\ny: [N]\ne = sum(exp(x) + cos(y)**2)", "sum(a + b) -> sum(a) + sum(b)", True),
    ("x: [N]\ny: [N]\ne = sum(exp(x) - -(y * y), axis=0)",
     "sum(a + b) -> sum(a) + sum(b)", True),  # (x - -y is x + y)
    ("x: [N]\ny: [N]\ne = sum(exp(x) - (-4 * y**2), axis=0)",
     "sum(a - b) -> sum(a) - sum(b)", True),
    ("x: [N, M]\ny: [N, M]\ne = sum(mean(sigmoid(x) + abs(y), axis=1))",
     "mean(a + b) -> mean(a) + mean(b)", True),
    # terms that may cancel stay summed whole (issue 17: sum(y - x) was 0.0 in float32)
    ("x: [N]\ny: [N]\ne = sum(sin(x) + cos(y))", "sum(a + b) -> sum(a) + sum(b)", False),
    ("x: [N]\ny: [N]\ne = sum(sin(x) - cos(y), axis=0)", "sum(a - b) -> sum(a) - sum(b)",
     False),
    ("x: [N]\ny: [N]\ne = sum(exp(x) - exp(y))", "sum(a - b) -> sum(a) - sum(b)", False),
    ("x: [N, M]\ny: [N, M]\ne = sum(mean(sin(x) + y, axis=1))",
     "mean(a + b) -> mean(a) + mean(b)", False),
    ("x: [N]\ny: [1]\ne = sum(sin(x) + y)", "sum(a + b) -> sum(a) + sum(b)", False),
    ("x: [N]\ne = sum(sin(x) + y)", "sum(a + b) -> sum(a) + sum(b)", False),
    ("x: [N]\ny: [N]\np = x + y\ne = sum(p) * sum(sin(p))", "sum(a + b) -> sum(a) + sum(b)",
     False),  # the sum array is made anyway
])
def test_a_sum_of_two_arrays_is_two_sums(text, name, fires, mode):
    check(text, name, "reassociate", mode, fires=fires)


@pytest.mark.parametrize("text, fires", [
    ("x: [N]\ne = sum(sin(x + x))", True),
    ("e = sin(x + x)", False),  # x may be a float: nothing to gain
])
def test_an_array_added_to_itself_is_doubled(text, fires, mode):
    fn = check(text, "x + x -> 2 * x", "identities", mode, fires=fires)
    assert ("2.0 * x" in fn.source) == fires


@pytest.mark.parametrize("text, fires", [
    ("x: [N]\ne = sum(sin(-(3 * x)))", True),
    ("e = sin(-(3 * x))", False),
    ("x: [N]\nt = 3 * x\ne = sum(sin(-t) * cos(t))", False),  # 3 * x is made anyway
])
def test_a_sign_meets_a_constant(text, fires, mode):
    fn = check(text, "-(c * x) -> (-c) * x", "identities", mode, fires=fires, user_graph=True)
    if fires:
        assert "-3.0 * x" in fn.source.split("def forward")[1]


# ---- scalar factors gathered ---------------------------------------------------------
@pytest.mark.parametrize("text, line, name", [
    ("x: [N]\ns: scalar\nt: scalar\ne = sin(x * s * t)", "np.sin(x * (s * t))", GATHER),
    ("x: [N]\ns: scalar\nt: scalar\ne = sin(s * (t * x))", "np.sin(x * (t * s))", GATHER),
    ("x: [N]\ny: [N]\ns: scalar\ne = sin(x * s * y)", "np.sin(x * y * s)", GATHER),
    ("x: [N]\ny: [N]\ns: scalar\ne = sin(x / s * y)", "np.sin(x * y / s)", GATHER),
    ("x: [N]\ny: [N]\ns: scalar\nr: scalar\ne = sin((x / s) * (y / r))",
     "np.sin(x * y / (s * r))", GATHER),
    ("x: [N]\ny: [N]\ns: scalar\nr: scalar\ne = sin((x * s) * (y / r))",
     "np.sin(x * y * (s / r))", GATHER),
    ("x: [N]\ns: scalar\nt: scalar\ne = sin(x * s / t)", "np.sin(x * (s / t))", GATHER_DIV),
    ("x: [N]\ns: scalar\nt: scalar\ne = sin(x / s / t)", "np.sin(x / (s * t))", GATHER_DIV),
    ("x: [N]\ns: scalar\nt: scalar\ne = sin(t / (x * s))", "np.sin(t / s / x)", GATHER_DIV),
    ("x: [N]\ny: [N]\ns: scalar\ne = sin(x * s / y)", "np.sin(x / y * s)", GATHER_DIV),
    ("x: [N]\ny: [N]\ns: scalar\ne = sin(x / (y * s))", "np.sin(x / y / s)", GATHER_DIV),
    ("x: [N]\ny: [N]\ns: scalar\nr: scalar\ne = sin((x * s) / (y / r))",
     "np.sin(x / y * (s * r))", GATHER_DIV),
])
def test_scalars_meet_before_they_meet_an_array(text, line, name, mode):
    fn = check(text, name, "reassociate", mode)
    assert f"e = {line}" in fn.source.split("def forward")[1]


@pytest.mark.parametrize("text", [
    "e = sin(x * s * t)",  # undeclared: any of them may be an array at call time
    "x: [N]\ne = sin(x * s * t)",
    "x: [N]\ny: [N]\ne = sin(x * s * y)",
    # x * s is needed anyway: splitting it would compute x * y besides it
    "x: [N]\ny: [N]\nv: [N]\ns: scalar\nu = x * s\ne = sin(u * y) + sin(u * v)",
    "x: [N]\ny: [N]\ns: scalar\nu = x * s\ne = sin(u / y) + sin(u)",
    "x: [N, M]\ny: [N, M]\ns: [M]\ne = sin(x * s * y)",  # s is no scalar
])
def test_where_gathering_scalars_saves_nothing_nothing_moves(text, mode):
    fn = check(text, GATHER, "reassociate", mode, fires=False, user_graph=True)
    assert GATHER_DIV not in fn.forward_graph.meta.report
    assert "u" not in gc.parse(text).nx or "u" in fn.forward_graph.nx


def test_a_sum_takes_the_scalar_out_of_a_shared_product(mode):
    text = "x: [N]\ny: [N]\ns: scalar\nu = x * s\ne = sum(u * y) + sum(sin(u))"
    fn = check(text, SUM_SPLIT, "reassociate", mode)
    assert "e = (x @ y) * s" in fn.source or "x @ y * s" in fn.source


# ---- a common factor taken out, a shared array left whole ------------------------------
FACTOR = "s*a + s*b -> s*(a + b)"
FACTOR_SUB = "s*a - s*b -> s*(a - b)"
OUTWARD = "x * (c * y) -> (x * y) * c"


@pytest.mark.parametrize("text, name, fires", [
    ("x: [N]\ny: [N]\ne = sum(sin(3 * x + 3 * y))", FACTOR, True),
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x * s - y * s))", FACTOR_SUB, True),
    ("x: [N]\ny: [N]\ne = sum(sin(3 * x - -3 * y))", FACTOR_SUB, True),  # 3 * (x + y)
    ("x: [N]\ny: [N]\ne = sum(sin(3 * x + 2 * y))", FACTOR, False),
    ("x: [N]\ny: [N]\nu = 3 * x\ne = sum(sin(u + 3 * y) * cos(u))", FACTOR, False),  # u is shared
    ("x: [N]\ny: [M]\ne = sum(sin(3 * x)) + sum(sin(3 * y))", FACTOR, False),
])
def test_a_common_factor_is_taken_out(text, name, fires, mode):
    check(text, name, "reassociate", mode, fires=fires, user_graph=True)


INNER = "a*c - b*(u*c) -> (a - b*u)*c"
INNER_ADD = "a*c + b*(u*c) -> (a + b*u)*c"


@pytest.mark.parametrize("text, name, fires", [
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x) * y * 2 - cos(x) * (s * 2))", INNER, True),
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x) * y * -4 + cos(x) * (-4 * s))", INNER_ADD,
     True),
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x) * y * 3 - cos(x) * (s * 3))", INNER,
     False),  # 3 is no power of two: the bits would change
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x) * y * 0.5 - cos(x) * (s * 0.5))", INNER,
     False),  # a - b*u may overflow where a/2 - b*u/2 does not
    ("x: [N]\ny: [N]\ns: scalar\ne = sum(sin(x) * y * 2 - cos(x) * (s * 4))", INNER, False),
    ("x: [N]\ny: [N]\ns: scalar\nu = sin(x) * y * 2\ne = sum(u - cos(x) * (s * 2) + exp(u))",
     INNER, False),  # u is made anyway
])
def test_a_power_of_two_leaves_a_difference_for_the_sum(text, name, fires, mode):
    """The sum takes the 2 out (one pass fewer), the same bits as the original."""
    fn = check(text, name, "reassociate", mode, fires=fires, user_graph=True)
    if fires:
        at = _values(text, np.random.default_rng(1))
        off = gc.compile(gc.parse(text), mode=mode, passes=tuple(
            p for p in passes.PASSES if p not in ("reassociate", "memory")))
        assert fn.forward(**at) == off.forward(**at)


def test_p6_hvp_multiplies_no_array_by_two():
    fn = gc.hvp(gc.parse(P6), wrt=["z", "m1", "m2", "ls1", "ls2"])
    assert fn.report().get(INNER, 0) == 2, fn.report()
    assert not re.search(r"np\.multiply\(\w+, 2\.0, out=", fn.source)  # a pass of its own


@pytest.mark.parametrize("text, fires", [
    ("x: [N]\ny: [N]\ne = sum(sin(x * (2 / y)))", True),
    ("x: [N]\ny: [N]\nr = 1 / y\ne = sum(sin(x * r) + cos(r * x * x))", True),
    ("x: [N]\ns: scalar\ne = sum(sin(s * (2 / x)))", False),  # s meets scalars first
    ("x: [N]\ne = sum(sin(x * (2 / y)))", False),  # y may be a float
])
def test_an_array_times_a_constant_over_an_array_is_a_quotient(text, fires, mode):
    fn = check(text, "x * (c / y) -> (x / y) * c", "identities", mode, fires=fires,
               user_graph=True)
    if fires:
        assert "/ y" in fn.source.split("def forward")[1].split("return")[0]


EARLIER = "(a * b) * c -> a * (b * c), earlier factors first"
ARRAY_FACTOR = "a*x + a*y -> a*(x + y) for arrays"
ARRAY_FACTOR_SUB = "a*x - a*y -> a*(x - y) for arrays"
PYTHAGORAS = "1 - sin(x)**2 -> cos(x)**2"
PYTHAGORAS_REGROUP = "(a - sin(x)**2) + 1 -> a + cos(x)**2"


@pytest.mark.parametrize("text, name, fires", [
    ("x: [N]\ny: [N]\nz: [N]\ne = sum(sin(x * y + x * z))", ARRAY_FACTOR, True),
    ("x: [N]\ny: [N]\ne = sum(sin(x * y + x))", ARRAY_FACTOR, True),
    ("x: [N]\ny: [N]\nz: [N]\ne = sum(sin(x * y - z * x))", ARRAY_FACTOR_SUB, True),
    ("x: [N]\ny: [N]\nz: [N]\ne = sum(sin(x * y + y * z))", ARRAY_FACTOR, True),
    ("x: [N]\ny: [N]\nz: [N]\nu = x * y\ne = sum(sin(u + x * z) * u)", ARRAY_FACTOR, False),
    ("x: [N]\ny: [3, N]\nz: [N]\ne = sum(sin(x * y + x * z))", ARRAY_FACTOR, False),
    ("e = sin(x * y + x * z)", ARRAY_FACTOR, False),  # undeclared: any shapes
])
def test_a_common_array_factor_is_taken_out(text, name, fires, mode):
    check(text, name, "reassociate", mode, fires=fires, user_graph=True)


POWER = "(x * s) ** k -> x ** k * s ** k"


@pytest.mark.parametrize("text, fires", [
    ("x: [N]\ns: scalar\ne = sum(exp(-0.5 * ((x - 1) / s) ** 2))", True),
    ("x: [N]\ns: scalar\ne = sum(exp((s * x) ** 3))", True),
    ("x: [N]\ns: scalar\ne = sum(exp((x * s) ** -1))", True),
    ("x: [N]\ns: scalar\ne = sum(sqrt((x * s) ** 2 + 1))", True),
    ("x: [N]\ns: scalar\ne = sum(exp((x * s) ** 0.5))", False),  # not an integer power
    ("x: [N]\ns: scalar\nu = x * s\ne = sum(exp(u ** 2) + u)", False),  # u is read twice
    ("x: [N]\ny: [N]\ne = sum(exp((x * y) ** 2))", False),  # no scalar
    ("s: scalar\ne = exp((x * s) ** 2)", False),  # undeclared x: maybe a float
])
def test_a_scalar_leaves_an_integer_power(text, fires, mode):
    check(text, POWER, "reassociate", mode, fires=fires, user_graph=True)


def test_the_ladders_gradient_is_a_product_of_squared_cosines():
    """x_bar = (x1_bar * c) * c - (x1_bar * s) * s + x1_bar per rung becomes
    x1_bar * (c*c - s*s + 1) (factored, forward values grouped), then by the
    Pythagorean identity x1_bar * (2 * c*c), and the 2s of all rungs meet: 2**3 * the
    product of the squared cosines, which is the square of the cosines' product (one
    pass per rung, and one for the square)."""
    text = "x: [N]\n" + "x = sin(x) * cos(x) + x\n" * 3
    for mode in ("reverse", "forward"):
        fn = check(text, EARLIER, "reassociate", mode)
        report = fn.report()
        assert report[ARRAY_FACTOR] >= 2 and report[ARRAY_FACTOR_SUB] >= 2
        assert report[PYTHAGORAS] == 3 and report[PYTHAGORAS_REGROUP] == 3
        body = fn.source.split("def value_and_grad")[1]
        assert body.count("np.sin(") == 3 and "8.0" in body and " - " not in body
        # per rung s*c and a cosine into the product; then its square, and by 8.0
        assert body.count(" * ") + body.count("np.multiply") == 3 + 2 + 1 + 1


REGROUP = "sums and products regrouped"
RUNGS = "x: [N]\nu = sin(x)\nv = sin(u)\nw = sin(v)\n"  # made in the order u, v, w


@pytest.mark.parametrize("text, fires", [
    (RUNGS + "e = sum(sin(w * v * u))", True),
    (RUNGS + "e = sum(sin(w**2 + (v**2 + u**2)))", True),
    (RUNGS + "e = sum(sin(w + (v + u)))", False),  # terms that may cancel: kept as written
    (RUNGS + "e = sum(sin((w * v) * (w * v) * u))", True),  # w*v is read twice: an operand
    (RUNGS + "e = sum(sin(u * v * w))", False),  # in order already
    (RUNGS + "p = w * v\ne = sum(sin(p * u) * p)", False),  # p is read twice
    (RUNGS + "y: [3, N]\ne = sum(sin(w * v * y))", False),  # broadcasting
    (RUNGS + "e = sum(sin(w * v * y))", False),  # undeclared y: any shape
    ("u = sin(x)\nv = sin(u)\nw = sin(v)\ne = w * v * u", False),  # undeclared: floats
])
def test_a_chain_of_arrays_is_folded_in_the_order_its_operands_are_made(text, fires, mode):
    check(text, REGROUP, "reassociate", mode, fires=fires, user_graph=True)


def test_the_ladders_product_starts_from_the_first_rung():
    """Its local derivatives come from the output back; folded from the first rung's,
    each cosine goes into the running product while it is fresh."""
    text = "x: [N]\n" + "x = sin(x) * cos(x) + x\n" * 4
    fn = check(text, REGROUP, "reassociate", "reverse")
    g = fn.grad_graph
    square = g.args(g.outputs[1])[1]  # x_bar = 16.0 * product**2
    assert g.attrs(square)["op"] == "mul" and g.args(square)[0] == g.args(square)[1]
    product, factors = g.args(square)[0], []
    while g.attrs(product)["op"] == "mul":
        product, last = g.args(product)
        factors.append(last)
    factors.append(product)
    assert all(g.attrs(c)["op"] == "cos" for c in factors), factors
    assert [g.args(c)[0] for c in reversed(factors)] == ["x", "x_1", "x_2", "x_3"]


SQUARES = "x*x*y*y -> (x*y)**2"


@pytest.mark.parametrize("text, fires, multiplications", [
    (RUNGS + "e = sum(sin(u * v * u * v))", True, 2),  # (u*v)**2
    (RUNGS + "e = sum(sin(w * u * v * u * w * v))", True, 3),  # (u*v*w)**2
    (RUNGS + "e = sum(sin(u * u * v * u * v * w))", True, 4),  # (u*v)**2 * u * w
    (RUNGS + "e = sum(sin(u * u * v))", False, 2),  # one pair: nothing to gain
    (RUNGS + "e = sum(sin(u + u + v + v))", False, 1),  # sums are not products: 2.0 * u
    ("u = sin(x)\nv = sin(u)\ne = u * v * u * v", False, 3),  # undeclared: floats
])
def test_repeated_factors_of_a_product_are_gathered_into_a_square(text, fires,
                                                                   multiplications, mode):
    fn = check(text, SQUARES, "reassociate", mode, fires=fires)
    if mode == "reverse":
        body = fn.source.split("def forward")[1].split("def value_and_grad")[0]
        body = body.split("= _inputs(")[-1]  # the NumPy path (floats have one of their own)
        assert body.count(" * ") == multiplications, body


@pytest.mark.parametrize("text, name, fires", [
    ("x: [N]\ne = sum(sin(1 - sin(x)**2))", PYTHAGORAS, True),
    ("x: [N]\ne = sum(sin(1 - cos(x) * cos(x)))", PYTHAGORAS, True),
    ("x: [N]\ne = sum(sin(cos(x)**2 - sin(x)**2 + 1))", PYTHAGORAS_REGROUP, True),
    ("x: [N]\ne = sum(sin(1 - sin(x) * sin(2 * x)))", PYTHAGORAS, False),
    ("x: [N]\ne = sum(sin(2 - sin(x)**2))", PYTHAGORAS, False),
    ("e = sin(1 - sin(x)**2)", PYTHAGORAS, False),  # undeclared: nothing to save on a float
])
def test_the_pythagorean_identity(text, name, fires, mode):
    check(text, name, "identities", mode, fires=fires, user_graph=True)


def test_a_shared_scaled_array_is_not_split():
    """x * (200 * t) with 200 * t used elsewhere: the product reads the array that is made
    anyway, instead of making t * x and scaling it by 200 (a pass more)."""
    text = "x: [N]\nt: [N]\nu = 200 * t\ne = sum(sin(x * u) + cos(u))"
    fn = check(text, OUTWARD, "reassociate", "reverse", fires=False, user_graph=True)
    assert "u = 200.0 * t" in fn.source.split("def forward")[1]
    assert "x * u" in fn.source.split("def forward")[1]


def test_p5_gradient_reuses_the_scaled_adjoint_and_factors_its_sign():
    """Rosenbrock: xs_bar = -2 (xs * t1_bar + (1 - xs)) with t1_bar = 200 t1 made once,
    as an expert writes it, not -400 (xs * t1) - 2 (1 - xs)."""
    text = ("x: [N]\nxs = slice(x, stop=-1)\nxn = slice(x, start=1)\n"
            "f = sum(100 * (xn - xs**2)**2 + (1 - xs)**2)\n")
    fn = check(text, FACTOR, "reassociate", "reverse")
    body = fn.source.split("def value_and_grad")[1]
    assert "-400" not in body and "200.0 * t1" in body and "-2.0" in body
    assert body.count("* xs") == 1


def test_p6_gradient_touches_each_array_once_and_sums_by_dots():
    wrt = ["z", "m1", "m2", "ls1", "ls2"]
    g = gc.parse(P6)
    fn = gc.compile(g, wrt=wrt)
    off = gc.compile(g, wrt=wrt, passes=tuple(p for p in passes.PASSES if p != "reassociate"))
    body = fn.source.split("def value_and_grad")[1]
    grad = "\n".join(line for line in body.splitlines() if "nll = " not in line)
    # six reductions over the points, each a dot or a plain sum, never a sum of a product
    assert grad.count(" @ ") + grad.count("np.sum(") == 6 and grad.count(" @ ") >= 4
    assert not re.search(r"np\.sum\([^)]*[*/]", grad)
    assert "np.divide(1.0" not in grad  # d log p = 1 / p: quotients, no array of 1 / p

    def array_ops(c: gc.CompiledFunction) -> int:  # elementwise passes over an array
        gg = c.grad_graph
        return sum(1 for n in gg.nx if gg.shape(n) != () and gg.op(n).elementwise)
    assert array_ops(fn) <= array_ops(off) - 10, (array_ops(fn), array_ops(off))
    gg = fn.grad_graph  # no array times a scalar goes on to meet another factor
    for n in gg.nx:
        if gg.attrs(n)["op"] in ("mul", "div") and gg.shape(n) != ():
            for a in gg.args(n):
                assert rules.reassociate.scaled(gg, a) is None or gg.n_readers(a) > 1, (n, a)
    rng = np.random.default_rng(6)
    at = {"x": np.concatenate([rng.normal(-1, 0.5, 30), rng.normal(2, 1, 70)]),
          "z": -0.5, "m1": -0.8, "m2": 1.7, "ls1": np.log(0.6), "ls2": np.log(1.2)}
    (v1, g1), (v2, g2) = fn(**at), gc.compile(g, wrt=wrt, optimize=False)(**at)
    assert_close(v1, v2, rtol=1e-12)
    for k in wrt:
        assert_close(g1[k], g2[k], rtol=1e-10, what=k)
        assert_close(g1[k], central_diff(fn.forward, at, k), rtol=1e-6, atol=1e-7, what=k)


# ---- products and quotients drawn at random: optimized == unoptimized ------------------
def _random_product(rng: np.random.Generator) -> str:
    """A random tree of *, / and sin over two vectors and two scalars, with a shared node."""
    leaves = ["x", "y", "s", "t", "2.0"]
    nodes = ["x", "y", "s", "t"]
    lines = []
    for i in range(6):
        a, b = (rng.choice(nodes + leaves) for _ in range(2))
        op = rng.choice(["*", "/", "/ input", "* /"])
        if op == "/ input":  # inputs are drawn from [0.5, 1.5]: safe to divide by
            expr = f"{a} / {rng.choice(['x', 'y', 's', 't'])}"
        elif op == "* /":
            expr = f"{a} * {b} / {rng.choice(['x', 'y', 's', 't'])}"
        else:
            expr = f"{a} / ({b} * {b} + 1)" if op == "/" else f"{a} * {b}"
        if rng.random() < 0.3:
            expr = f"sin({expr})"
        lines.append(f"v{i} = {expr}")
        nodes.append(f"v{i}")
    last = " + ".join(f"sum(v{i} * x)" if rng.random() < 0.5 else f"sum(sin(v{i}))"
                      for i in range(3, 6))
    return "x: [N]\ny: [N]\ns: scalar\nt: scalar\n" + "\n".join(lines) + f"\ne = {last}\n"


@pytest.mark.parametrize("seed", [pytest.param(k, marks=[pytest.mark.slow] if k >= 15 else [])
                                  for k in range(60)])  # the fast tier: 15 seeds
def test_random_products_keep_their_values(seed, mode):
    text = _random_product(np.random.default_rng(seed))
    g = gc.parse(text)
    at = _values(text, np.random.default_rng(seed), n=4)
    (v1, g1), (v2, g2) = gc.compile(g, mode=mode)(**at), \
        gc.compile(g, mode=mode, optimize=False)(**at)
    assert_close(v1, v2, rtol=1e-11, what=text)
    for k in g2:
        assert_close(g1[k], g2[k], rtol=1e-10, atol=1e-12, what=f"{k} of\n{text}")


# ---- random DAGs over declared arrays: every rule that needs known shapes can fire ------
@examples(100)
@given(declared_cases())
def test_rewrites_on_declared_random_dags_keep_their_values(case):
    """Factoring, regrouping, quotients and dots only fire on arrays of declared shape;
    on random DAGs of such arrays (float64 here) the optimized gradient equals the
    unoptimized one, in both modes."""
    g, at = tame(case, np.float64)
    text = case[0]
    for mode in ("reverse", "forward"):
        with np.errstate(all="ignore"):
            (v1, g1), (v2, g2) = gc.compile(g, mode=mode)(**at), \
                gc.compile(g, mode=mode, optimize=False)(**at)
        assert_close(v1, v2, rtol=1e-10, atol=1e-12, what=text)
        for k in g2:
            assert_close(g1[k], g2[k], rtol=1e-8, atol=1e-10, what=f"{k} ({mode}) of\n{text}")


def test_a_sum_of_a_long_chain_splits_without_exhausting_the_stack():
    """sum(a + b) -> sum(a) + sum(b) splits each part in turn, a call deeper: a sum of 500
    products raised RecursionError; past 100 terms the rest is summed whole."""
    text = "x: [N]\ne = sum(" + " + ".join(f"exp(x) * {i}" for i in range(1, 500)) + ")"
    fn = gc.compile(gc.parse(text))
    x = np.linspace(0.0, 1.0, 7)
    value, grads = fn(x=x)
    total = sum(range(1, 500))
    np.testing.assert_allclose(grads["x"], np.exp(x) * total, rtol=1e-12)
    assert value == pytest.approx(np.exp(x).sum() * total, rel=1e-12)
    assert fn.report()["sum(a + b) -> sum(a) + sum(b)"] >= 100


def test_a_mask_times_an_adjoint_is_a_product_and_reads_back():
    """relu's derivative times its adjoint is g * (x > 0) in g's dtype (not np.where), the
    same numbers where g is NaN or inf; a product of two masks is not printed as bool *
    bool (read back, that would be a logical and: a second-order graph met it)."""
    fn = gc.compile(gc.parse("x: [6]\ng: [6]\nL = sum(relu(x) * g)"))
    assert "np.where" not in fn.source.split("def value_and_grad")[1]
    x = np.array([1.0, -1.0, 0.0, -0.0, np.nan, 3.0], np.float32)
    g = np.array([np.nan, np.inf, np.inf, -1.0, 2.0, -2.0], np.float32)
    with np.errstate(invalid="ignore"):
        _, grads = fn(x=x, g=g)
        want = np.where(x > 0, g, g * np.float32(0.0))
    assert grads["x"].dtype == np.float32
    np.testing.assert_array_equal(grads["x"], want)
    assert np.signbit(grads["x"]).tolist() == np.signbit(want).tolist()
    first = gc.compile(gc.parse("x: [4]\ny: [4]\nL = sum(relu(x) * relu(y) * x)"))
    again = gc.parse(str(first.grad_graph)).evaluate
    at = {"x": np.array([1.0, -1.0, 2.0, 0.5]), "y": np.array([1.0, 1.0, -1.0, 3.0])}
    _, grads = first(**at)
    for name in ("x", "y"):
        np.testing.assert_array_equal(again(**at)[f"{name}_bar"], grads[name])


def test_a_printed_gradient_of_two_masks_compiles_again():
    """nanmax's gradient multiplies two choices between constants; printed and read
    back, it compiles and gives the same numbers (it was bool * bool: integer sums)."""
    g = gc.parse("x: [3, 4]\nu: [3, 1]\nL = sum(nanmax(x, axis=1, keepdims=True) * u)")
    first = gc.compile(g, wrt="x")
    again = gc.compile(gc.parse(str(first.grad_graph) + "\nh = sum(x_bar * x_bar)"), of="h",
                       wrt="u")
    x = np.array([[1.0, np.nan, 1.0, 0.0], [2.0, -1.0, np.nan, 2.0], [0.5, 0.0, 3.0, 1.0]])
    u = np.array([[1.0], [-2.0], [0.5]])
    h, grads = again(x=x, u=u)
    assert h == pytest.approx(float(np.sum(first(x=x, u=u)[1]["x"] ** 2)), rel=1e-14)
    assert np.all(np.isfinite(grads["u"]))
