"""Every public elementwise op, table-driven, each sampled on its own domain.

For each op: the NumPy template (the compiled forward) == the op's sympy formula,
lambdified here independently == the interpreter == JAX; the gradient in both modes,
optimized and not, == central differences == sympy.diff of the formula == jax.grad.
Kinks follow JAX exactly, second derivatives come from differentiating the gradient
graph again, and log/sqrt of negatives are NumPy's nan with a warning.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from conftest import MODES, assert_close, central_diff, cross, spelled_out

import graphc as gc
from graphc.autodiff.transform import reverse
from graphc.ir.derive import to_sympy
from graphc.ops import OPS, Trait

X, Y = sp.symbols("x y", real=True)


@dataclass(frozen=True)
class Case:
    """One op under test: .gc text over inputs x (and y), and where to sample it."""

    op: str
    text: str
    domains: tuple[tuple[float, float], ...]
    jax: Callable  # (jnp, jax.nn) -> a function of the inputs
    params: tuple[float, ...] = ()  # constant operands after the inputs (alpha)
    avoid: Callable[..., np.ndarray] | None = field(default=None)  # kinks for FD
    leading: tuple[int, ...] = ()  # constant operands before the inputs (polygamma's n)

    @property
    def id(self) -> str:
        given = self.leading + self.params
        return self.op + ("_" + "_".join(map(str, given)) if given else "")

    @property
    def inputs(self) -> tuple[str, ...]:
        return ("x", "y")[:len(self.domains)]

    def sample(self, n: int = 9, seed: int = 0) -> dict[str, np.ndarray]:
        """n points per input inside the op's domain, away from kinks."""
        rng = np.random.default_rng(seed)
        chosen: dict[str, list[float]] = {k: [] for k in self.inputs}
        while len(chosen["x"]) < n:
            point = [rng.uniform(lo, hi) for lo, hi in self.domains]
            if self.avoid is not None and self.avoid(*point):
                continue
            for k, v in zip(self.inputs, point):
                chosen[k].append(v)
        return {k: np.array(v) for k, v in chosen.items()}

    def sympy_formula(self) -> sp.Expr:
        """The op table's formula, with sigmoid/softplus spelled out in exp and log."""
        symbols = (X, Y)[:len(self.domains)]
        params = [sp.Float(p) for p in self.params]
        lead = [sp.Integer(n) for n in self.leading]
        return spelled_out(OPS[self.op].formula(*lead, *symbols, *params))


def _near(*points: float) -> Callable[..., bool]:
    return lambda x, *rest: any(abs(x - p) < 0.05 for p in points)


def _tie(x: float, y: float) -> bool:
    return abs(x - y) < 0.05


def _step(x: float, y: float) -> bool:
    """x % y and x // y jump where x / y is an integer."""
    return abs(x / y - round(x / y)) < 0.05


WIDE = (-3.0, 3.0)
POSITIVE = (0.1, 5.0)


def _special(name: str) -> Callable:
    import jax.scipy.special

    return getattr(jax.scipy.special, name)


def _off_grid(step: float, offset: float = 0.0) -> Callable[..., bool]:
    """Away from the jumps of floor/ceil (integers) or round (half-integers)."""
    return lambda x, *rest: abs((x - offset) / step - np.round((x - offset) / step)) < 0.05


UNIT = (-0.9, 0.9)
_ORIGIN = lambda x, y: x * x + y * y < 0.05  # noqa: E731 - arctan2 and hypot's kink
# ops/elementwise.py: NumPy's, jax.nn's and jax.scipy.special's functions
ELEMENTWISE_CASES = [
    Case("log1p", "out = log1p(x)", ((-0.9, 3.0),), lambda jnp, nn: jnp.log1p),
    Case("expm1", "out = expm1(x)", (WIDE,), lambda jnp, nn: jnp.expm1),
    Case("log2", "out = log2(x)", (POSITIVE,), lambda jnp, nn: jnp.log2),
    Case("log10", "out = log10(x)", (POSITIVE,), lambda jnp, nn: jnp.log10),
    Case("exp2", "out = exp2(x)", (WIDE,), lambda jnp, nn: jnp.exp2),
    Case("square", "out = square(x)", (WIDE,), lambda jnp, nn: jnp.square),
    Case("reciprocal", "out = reciprocal(x)", ((0.3, 3.0),), lambda jnp, nn: jnp.reciprocal),
    Case("logaddexp", "out = logaddexp(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.logaddexp),
    Case("sinh", "out = sinh(x)", (WIDE,), lambda jnp, nn: jnp.sinh),
    Case("cosh", "out = cosh(x)", (WIDE,), lambda jnp, nn: jnp.cosh),
    Case("arcsin", "out = arcsin(x)", (UNIT,), lambda jnp, nn: jnp.arcsin),
    Case("arccos", "out = arccos(x)", (UNIT,), lambda jnp, nn: jnp.arccos),
    Case("arctan", "out = arctan(x)", (WIDE,), lambda jnp, nn: jnp.arctan),
    Case("arctan2", "out = arctan2(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.arctan2,
         avoid=_ORIGIN),
    Case("arcsinh", "out = arcsinh(x)", (WIDE,), lambda jnp, nn: jnp.arcsinh),
    Case("arccosh", "out = arccosh(x)", ((1.1, 4.0),), lambda jnp, nn: jnp.arccosh),
    Case("arctanh", "out = arctanh(x)", (UNIT,), lambda jnp, nn: jnp.arctanh),
    Case("hypot", "out = hypot(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.hypot, avoid=_ORIGIN),
    Case("sign", "out = sign(x)", (WIDE,), lambda jnp, nn: jnp.sign, avoid=_near(0.0)),
    Case("floor", "out = floor(x)", (WIDE,), lambda jnp, nn: jnp.floor, avoid=_off_grid(1.0)),
    Case("ceil", "out = ceil(x)", (WIDE,), lambda jnp, nn: jnp.ceil, avoid=_off_grid(1.0)),
    Case("round", "out = round(x)", (WIDE,), lambda jnp, nn: jnp.round,
         avoid=_off_grid(1.0, 0.5)),
    Case("silu", "out = silu(x)", ((-6.0, 6.0),), lambda jnp, nn: nn.silu),
    Case("log_sigmoid", "out = log_sigmoid(x)", ((-6.0, 6.0),), lambda jnp, nn: nn.log_sigmoid),
    Case("soft_sign", "out = soft_sign(x)", (WIDE,), lambda jnp, nn: nn.soft_sign),
    Case("softsign", "out = softsign(x)", (WIDE,), lambda jnp, nn: nn.soft_sign),
    Case("erf", "out = erf(x)", (WIDE,), lambda jnp, nn: _special("erf")),
    Case("erfc", "out = erfc(x)", (WIDE,), lambda jnp, nn: _special("erfc")),
    Case("gammaln", "out = gammaln(x)", ((0.2, 6.0),), lambda jnp, nn: _special("gammaln")),
    Case("lgamma", "out = lgamma(x)", ((0.2, 6.0),), lambda jnp, nn: _special("gammaln")),
    Case("digamma", "out = digamma(x)", ((0.3, 6.0),), lambda jnp, nn: _special("digamma")),
    Case("absolute", "out = absolute(x)", (WIDE,), lambda jnp, nn: jnp.absolute,
         avoid=_near(0.0)),
    Case("fmax", "out = fmax(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.fmax, avoid=_tie),
    Case("fmin", "out = fmin(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.fmin, avoid=_tie),
    Case("sinc", "out = sinc(x)", (WIDE,), lambda jnp, nn: jnp.sinc),
    Case("deg2rad", "out = deg2rad(x)", (WIDE,), lambda jnp, nn: jnp.deg2rad),
    Case("radians", "out = radians(x)", (WIDE,), lambda jnp, nn: jnp.radians),
    Case("rad2deg", "out = rad2deg(x)", (WIDE,), lambda jnp, nn: jnp.rad2deg),
    Case("degrees", "out = degrees(x)", (WIDE,), lambda jnp, nn: jnp.degrees),
    Case("around", "out = around(x)", (WIDE,), lambda jnp, nn: jnp.round,
         avoid=_off_grid(1.0, 0.5)),
    Case("polygamma", "out = polygamma(2, x)", ((0.3, 6.0),),
         lambda jnp, nn: lambda x: _special("polygamma")(2, x), leading=(2,)),
]
CASES = [
    Case("add", "out = x + y", (WIDE, WIDE), lambda jnp, nn: lambda x, y: x + y),
    Case("sub", "out = x - y", (WIDE, WIDE), lambda jnp, nn: lambda x, y: x - y),
    Case("mul", "out = x * y", (WIDE, WIDE), lambda jnp, nn: lambda x, y: x * y),
    Case("div", "out = x / y", (WIDE, (0.5, 3.0)), lambda jnp, nn: lambda x, y: x / y),
    Case("pow", "out = x ** y", ((0.2, 3.0), (-2.0, 2.0)),
         lambda jnp, nn: lambda x, y: x ** y),
    Case("neg", "out = -x", (WIDE,), lambda jnp, nn: lambda x: -x),
    Case("exp", "out = exp(x)", (WIDE,), lambda jnp, nn: jnp.exp),
    Case("log", "out = log(x)", (POSITIVE,), lambda jnp, nn: jnp.log),
    Case("sqrt", "out = sqrt(x)", (POSITIVE,), lambda jnp, nn: jnp.sqrt),
    Case("abs", "out = abs(x)", (WIDE,), lambda jnp, nn: jnp.abs, avoid=_near(0.0)),
    Case("sin", "out = sin(x)", (WIDE,), lambda jnp, nn: jnp.sin),
    Case("cos", "out = cos(x)", (WIDE,), lambda jnp, nn: jnp.cos),
    Case("tan", "out = tan(x)", ((-1.3, 1.3),), lambda jnp, nn: jnp.tan),
    Case("tanh", "out = tanh(x)", ((-4.0, 4.0),), lambda jnp, nn: jnp.tanh),
    Case("sigmoid", "out = sigmoid(x)", ((-6.0, 6.0),), lambda jnp, nn: nn.sigmoid),
    Case("softplus", "out = softplus(x)", ((-6.0, 6.0),), lambda jnp, nn: nn.softplus),
    Case("relu", "out = relu(x)", (WIDE,), lambda jnp, nn: nn.relu, avoid=_near(0.0)),
    Case("leaky_relu", "out = leaky_relu(x)", (WIDE,), lambda jnp, nn: nn.leaky_relu,
         params=(0.01,), avoid=_near(0.0)),
    Case("leaky_relu", "out = leaky_relu(x, 0.2)", (WIDE,),
         lambda jnp, nn: lambda x: nn.leaky_relu(x, 0.2), params=(0.2,), avoid=_near(0.0)),
    Case("elu", "out = elu(x)", (WIDE,), lambda jnp, nn: nn.elu, params=(1.0,),
         avoid=_near(0.0)),
    Case("elu", "out = elu(x, 0.7)", (WIDE,), lambda jnp, nn: lambda x: nn.elu(x, 0.7),
         params=(0.7,), avoid=_near(0.0)),
    Case("maximum", "out = maximum(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.maximum,
         avoid=_tie),
    Case("minimum", "out = minimum(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.minimum,
         avoid=_tie),
    Case("clip", "out = clip(x, y, 1.5)", (WIDE, (-3.0, 1.0)),
         lambda jnp, nn: lambda x, y: jnp.clip(x, y, 1.5), params=(1.5,),
         avoid=lambda x, y: _tie(x, y) or _near(1.5)(x)),
    Case("mod", "out = x % y", (WIDE, (0.5, 3.0)), lambda jnp, nn: jnp.mod, avoid=_step),
    Case("mod", "out = x % y", (WIDE, (-3.0, -0.5)), lambda jnp, nn: jnp.mod, avoid=_step),
    Case("floor_divide", "out = x // y", (WIDE, (-3.0, 3.0)),
         lambda jnp, nn: jnp.floor_divide, avoid=lambda x, y: abs(y) < 0.5 or _step(x, y)),
    *ELEMENTWISE_CASES,
    # ops/numpy_more.py
    Case("cbrt", "out = cbrt(x)", (WIDE,), lambda jnp, nn: jnp.cbrt, avoid=_near(0.0)),
    Case("float_power", "out = float_power(x, y)", (POSITIVE, WIDE),
         lambda jnp, nn: jnp.float_power),
    Case("fmod", "out = fmod(x, y)", (WIDE, (0.5, 3.0)), lambda jnp, nn: jnp.fmod, avoid=_step),
    Case("fmod", "out = fmod(x, y)", (WIDE, (-3.0, -0.5)), lambda jnp, nn: jnp.fmod,
         avoid=_step),
    Case("copysign", "out = copysign(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.copysign,
         avoid=lambda x, y: _near(0.0)(x) or _near(0.0)(y)),
    Case("heaviside", "out = heaviside(x, y)", (WIDE, (0.0, 1.0)),
         lambda jnp, nn: jnp.heaviside, avoid=_near(0.0)),
    Case("logaddexp2", "out = logaddexp2(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.logaddexp2),
    Case("rint", "out = rint(x)", (WIDE,), lambda jnp, nn: jnp.rint, avoid=_off_grid(1.0, 0.5)),
    Case("trunc", "out = trunc(x)", (WIDE,), lambda jnp, nn: jnp.trunc, avoid=_off_grid(1.0)),
    Case("full_like", "out = full_like(x, y)", (WIDE, WIDE), lambda jnp, nn: jnp.full_like),
    Case("nan_to_num", "out = nan_to_num(x)", (WIDE,), lambda jnp, nn: jnp.nan_to_num),
    # ops/sequence.py: dropout, x * mask / (1 - p) (the mask any numbers here)
    Case("dropout", "out = dropout(x, y, 0.25)", (WIDE, WIDE),
         lambda jnp, nn: lambda x, y: x * y / 0.75, params=(0.25,)),
]
IDS = [c.id for c in CASES]


def test_the_table_covers_every_public_elementwise_op():
    public = {name for name, op in OPS.items() if op.public and op.elementwise}
    assert public == {c.op for c in CASES}, "add a Case for each new op"


def test_a_structural_op_is_one_whole_entry():
    """Adding a structural op is one entry (docs/ops.md): a public one brings its vjp (or
    its expansion, which reverse mode differentiates instead: attention, layer_norm), its
    jvp and its rule for pictures; its traits agree with its rules."""
    for name, op in OPS.items():
        if op.elementwise:
            assert op.pointwise, name
            continue
        if op.public and op.differentiable:  # (a comparison passes nothing back)
            assert (op.vjp or op.expand) and op.jvp, f"{name}: vjp (or expand) and jvp"
            # a pointwise op's local derivative is a number, drawn as one (where's)
            assert op.rules or op.pointwise, f"{name}: rules"
        if Trait.STACKING in op.traits or not op.differentiable:
            assert op.vjp is None, f"{name} has no derivative, but a vjp"
        if Trait.IDENTITY in op.traits:
            assert op.vjp and op.jvp and op.differentiable, name


@pytest.mark.parametrize("mode", MODES)
def test_gradients_through_where_take_the_branch_the_condition_picks(mode: str):
    """where's vjp and jvp: a sympy Piecewise becomes a where node, and each operand's
    derivative flows only where its branch is taken."""
    x, y = sp.symbols("x y", real=True)
    fn = gc.compile(gc.from_sympy(sp.Piecewise((x * y, x > 0), (2 * y, True)), name="e"),
                    mode=mode)
    for at, value, dx, dy in [(1.5, 4.5, 3.0, 1.5), (-1.0, 6.0, 0.0, 2.0)]:
        out, grads = fn(x=at, y=3.0)
        assert out == value and grads["x"] == dx and grads["y"] == dy


def test_the_worked_example_of_the_docs_is_the_code():
    """docs/ops.md shows flip's entry and softmax's vjp as they are in the op table."""
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "ops.md").read_text(encoding="utf-8")
    code = (root / "graphc" / "ops" / "tensor.py").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    shown = [b for b in blocks if "_register(" in b or "@vjp" in b]
    assert len(shown) == 2 and all(b.strip() in code for b in shown)


_MAXIMUM, _MINIMUM = sp.Function("maximum"), sp.Function("minimum")


def _lambdified(expr: sp.Expr, case: Case) -> Callable:
    # scipy: sympy's erf and graphc's gammaln, digamma... (ops/elementwise.py) by name;
    # a step's DiracDelta is 0 almost everywhere (sign's derivative, as JAX's)
    expr = spelled_out(expr).replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    # Max/Min as NumPy's elementwise functions: sympy 1.13.0 prints amax(asarray([x, 1.5]))
    for head, ufunc in ((sp.Max, _MAXIMUM), (sp.Min, _MINIMUM)):
        expr = expr.replace(head, lambda *args, f=ufunc: functools.reduce(f, args))
    return sp.lambdify((X, Y)[:len(case.domains)], expr,
                       modules=[{"maximum": np.maximum, "minimum": np.minimum}, "scipy", "numpy"])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_template_matches_formula_and_interpreter(case: Case):
    at = case.sample()
    g = gc.parse(case.text)
    assert g.inputs == list(case.inputs)
    expected = _lambdified(case.sympy_formula(), case)(*at.values())
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        assert_close(fn.forward(**at), expected, what=f"{case.id} template ({mode})")
        assert_close(fn(**at)[0], expected, what=f"{case.id} value_and_grad ({mode})")
    assert_close(g.evaluate(**at)["out"], expected, what=f"{case.id} interpreter")


# (2 * x - x) and (4 * x / 4) are exactly x, but as generated nodes they are inlined
# into the op's template: a missing pair of parentheses changes the value.
COMPOUNDS = {"sum": ("(2 * {0} - {0})", lambda u: 2 * u - u),
             "product": ("(4 * {0} / 4)", lambda u: 4 * u / 4)}


@cross(lambda case, compound, mode: (compound == "sum") == (mode == "reverse"),
       case=CASES, compound=list(COMPOUNDS), mode=MODES)  # fast: 2 of 4
def test_compound_operands_keep_their_parentheses(case: Case, compound: str, mode: str):
    at = case.sample(seed=4)
    value, grads = gc.compile(gc.parse(case.text), mode=mode)(**at)
    spelled, build = COMPOUNDS[compound]
    text = re.sub(r"\b([xy])\b(?!\s*=)", lambda m: spelled.format(m.group(1)), case.text)
    fn = gc.compile(gc.parse(text), mode=mode)
    value2, grads2 = fn(**at)
    assert_close(value2, value, rtol=1e-12, atol=1e-14, what=text)
    assert_close(fn.forward(**at), value, rtol=1e-12, atol=1e-14, what=text)
    for name in case.inputs:
        assert_close(grads2[name], grads[name], rtol=1e-12, atol=1e-14, what=text)
    args = [build(h) for h in gc.inputs("x y")][:len(case.inputs)]
    out = getattr(gc, case.op)(*case.leading, *args, *case.params) if case.op in gc.__all__ \
        else _python_op(case.op, args)
    fn = gc.compile(gc.graph(out=out), mode=mode)
    assert_close(fn(**at)[0], value, rtol=1e-12, atol=1e-14, what=f"{case.op} (Python)")
    assert_close(fn.forward(**at), value, rtol=1e-12, atol=1e-14, what=f"{case.op} (Python)")


def _python_op(op: str, args: list) -> gc.Expr:
    import operator

    table = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
             "div": operator.truediv, "pow": operator.pow, "neg": operator.neg,
             "mod": operator.mod, "floor_divide": operator.floordiv}
    return table[op](*args)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_template_on_python_floats(case: Case):
    at = {k: float(v[0]) for k, v in case.sample(n=1, seed=1).items()}
    expected = float(_lambdified(case.sympy_formula(), case)(*at.values()))
    fn = gc.compile(gc.parse(case.text))
    value, grads = fn(**at)
    assert np.ndim(value) == 0 and all(np.ndim(d) == 0 for d in grads.values())
    assert_close(float(value), expected, what=case.id)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_finite_differences(case: Case, mode: str, optimize: bool):
    at = case.sample()
    g = gc.parse(case.text)
    fn = gc.compile(g, mode=mode, optimize=optimize)
    _, grads = fn(**at)
    assert list(grads) == list(case.inputs)
    for name in case.inputs:
        fd = central_diff(lambda **kw: g.evaluate(**kw)["out"], at, name)
        assert_close(grads[name], fd, rtol=1e-6, atol=1e-7, what=f"d{case.id}/d{name}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_sympy_diff(case: Case, mode: str):
    at = case.sample(seed=2)
    _, grads = gc.compile(gc.parse(case.text), mode=mode)(**at)
    formula = case.sympy_formula()
    for sym, name in zip((X, Y), case.inputs):
        expected = _lambdified(sp.diff(formula, sym), case)(*at.values())
        expected = np.broadcast_to(expected, at[name].shape)
        assert_close(grads[name], expected, rtol=1e-12, atol=1e-12,
                     what=f"d{case.id}/d{name}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_and_gradient_match_jax(case: Case, mode: str, jax):
    jnp, nn = jax.numpy, jax.nn
    f = case.jax(jnp, nn)
    at = case.sample(seed=3)
    value, grads = gc.compile(gc.parse(case.text), mode=mode)(**at)
    assert_close(value, np.asarray(f(*at.values())), rtol=1e-12, what=case.id)
    argnums = tuple(range(len(case.inputs)))
    expected = jax.vmap(jax.grad(f, argnums=argnums))(*at.values())
    for name, want in zip(case.inputs, expected):
        assert_close(grads[name], np.asarray(want), rtol=1e-12, atol=1e-14,
                     what=f"d{case.id}/d{name}")


# ---- kinks: the derivative at the kink is JAX's ------------------------------------
KINKS = [
    ("out = relu(x)", {"x": 0.0}, {"x": 0.0}, lambda jnp, nn: nn.relu),
    ("out = abs(x)", {"x": 0.0}, {"x": 1.0}, lambda jnp, nn: jnp.abs),
    ("out = leaky_relu(x)", {"x": 0.0}, {"x": 1.0}, lambda jnp, nn: nn.leaky_relu),
    ("out = leaky_relu(x, 0.2)", {"x": 0.0}, {"x": 1.0},
     lambda jnp, nn: lambda x: nn.leaky_relu(x, 0.2)),
    ("out = elu(x)", {"x": 0.0}, {"x": 1.0}, lambda jnp, nn: nn.elu),
    ("out = elu(x, 0.7)", {"x": 0.0}, {"x": 0.7}, lambda jnp, nn: lambda x: nn.elu(x, 0.7)),
    ("out = maximum(x, y)", {"x": 1.5, "y": 1.5}, {"x": 0.5, "y": 0.5},
     lambda jnp, nn: jnp.maximum),
    ("out = minimum(x, y)", {"x": -1.5, "y": -1.5}, {"x": 0.5, "y": 0.5},
     lambda jnp, nn: jnp.minimum),
    # Both slots are the same node: the two halves add up.
    ("out = maximum(x, x)", {"x": 2.0}, {"x": 1.0}, lambda jnp, nn: lambda x: jnp.maximum(x, x)),
    ("out = minimum(x, x)", {"x": 2.0}, {"x": 1.0}, lambda jnp, nn: lambda x: jnp.minimum(x, x)),
    ("out = relu(x) * x", {"x": 0.0}, {"x": 0.0}, lambda jnp, nn: lambda x: nn.relu(x) * x),
]
KINK_IDS = [k[0].removeprefix("out = ") for k in KINKS]


@pytest.mark.parametrize(("text", "at", "expected", "jax_fn"), KINKS, ids=KINK_IDS)
def test_kink_derivatives(text, at, expected, jax_fn, mode: str, optimize: bool):
    _, grads = gc.compile(gc.parse(text), mode=mode, optimize=optimize)(**at)
    assert {k: float(v) for k, v in grads.items()} == expected


@pytest.mark.parametrize(("text", "at", "expected", "jax_fn"), KINKS, ids=KINK_IDS)
def test_kink_derivatives_are_jax_s(text, at, expected, jax_fn, jax):
    f = jax_fn(jax.numpy, jax.nn)
    got = jax.grad(f, argnums=tuple(range(len(at))))(*at.values())
    assert dict(zip(at, map(float, got))) == expected


def test_kinks_inside_an_array(mode: str):
    x = np.array([-1.0, 0.0, 1.0])
    g = gc.parse("r = relu(x)\na = abs(x)\nl = leaky_relu(x, 0.2)\ne = elu(x, 0.7)\n"
                 "out = r + a + l + e")
    _, grads = gc.compile(g, mode=mode)(x=x)
    relu, absolute = [0.0, 0.0, 1.0], [-1.0, 1.0, 1.0]
    leaky, elu = [0.2, 1.0, 1.0], [0.7 * np.exp(-1.0), 0.7, 1.0]
    assert_close(grads["x"], np.sum([relu, absolute, leaky, elu], axis=0))


def test_maximum_tie_inside_an_array(mode: str):
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])
    _, grads = gc.compile(gc.parse("out = maximum(x, y)"), mode=mode)(x=x, y=y)
    assert_close(grads["x"], [0.0, 0.5, 1.0])
    assert_close(grads["y"], [1.0, 0.5, 0.0])


# ---- second order: the gradient is a graph, so it can be differentiated again ------
SECOND = [
    ("out = sin(x)", (-3.0, 3.0)),
    ("out = tanh(x)", (-2.0, 2.0)),
    ("out = sigmoid(x)", (-4.0, 4.0)),
    ("out = softplus(x)", (-4.0, 4.0)),
    ("out = exp(x) * x", (-2.0, 2.0)),
    ("out = log(x)", (0.2, 4.0)),
    ("out = sqrt(x)", (0.2, 4.0)),
    ("out = x ** 3", (-2.0, 2.0)),
    ("out = tan(x)", (-1.0, 1.0)),
    ("out = x / (x * x + 1)", (-3.0, 3.0)),
]


def _second_derivative(text: str, x: np.ndarray) -> np.ndarray:
    formula = spelled_out(to_sympy(gc.parse(text)))
    return np.broadcast_to(sp.lambdify(X, sp.diff(formula, X, 2), "numpy")(x), x.shape)


@pytest.mark.parametrize(("text", "domain"), SECOND, ids=[s[0][6:] for s in SECOND])
def test_second_derivative_of_the_gradient_graph(text, domain, mode: str):
    x = np.linspace(*domain, 7)
    expected = _second_derivative(text, x)
    first = gc.compile(gc.parse(text), mode=mode).grad_graph
    assert first.outputs[0] == "out"
    # Reverse mode over the first-order graph, whichever mode built that graph.
    second = gc.compile(first, of=first.outputs[1], wrt="x")
    value, grads = second(x=x)
    assert_close(grads["x"], expected, rtol=1e-10, atol=1e-12, what=f"{text} ({mode})")
    # The first-order value it returns along the way is the first derivative.
    assert_close(value, gc.compile(gc.parse(text))(x=x)[1]["x"], rtol=1e-12)


@pytest.mark.parametrize(("text", "domain"), SECOND[:4], ids=[s[0][6:] for s in SECOND[:4]])
def test_reverse_applied_twice(text, domain):
    x = np.linspace(*domain, 5)
    once = reverse(gc.parse(text), wrt="x")
    twice = reverse(once, wrt="x", of=once.outputs[1])
    env = twice.evaluate(x=x)
    assert_close(env[twice.outputs[1]], _second_derivative(text, x), rtol=1e-10, atol=1e-12)


def test_mixed_second_derivatives():
    g = gc.parse("out = x * x * y + sin(x * y)")
    first = gc.compile(g).grad_graph
    x_bar, y_bar = first.outputs[1:]
    at = {"x": 0.7, "y": -1.3}
    _, d_dx = gc.compile(first, of=x_bar)(**at)
    _, d_dy = gc.compile(first, of=y_bar)(**at)
    f = X * X * Y + sp.sin(X * Y)
    hessian = [[float(sp.diff(f, a, b).subs({X: at["x"], Y: at["y"]})) for b in (X, Y)]
               for a in (X, Y)]
    assert_close([d_dx["x"], d_dx["y"]], hessian[0], rtol=1e-12)
    assert_close([d_dy["x"], d_dy["y"]], hessian[1], rtol=1e-12)


# ---- domains: NumPy's nan and warning, never an exception --------------------------
@pytest.mark.parametrize("text", ["out = log(x)", "out = sqrt(x)", "out = log(x) + sqrt(x)"])
@pytest.mark.parametrize("x", [-1.0, np.array([-1.0, -4.0])], ids=["float", "array"])
def test_log_and_sqrt_of_negatives_are_nan_with_a_warning(text, x, mode: str):
    g = gc.parse(text)
    fn = gc.compile(g, mode=mode)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value = fn.forward(x=x)
    assert np.all(np.isnan(value))
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value, _ = fn(x=x)
    assert np.all(np.isnan(value))
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert np.all(np.isnan(g.evaluate(x=x)["out"]))


def test_log_of_zero_is_minus_infinity_with_a_warning_on_arrays(mode: str):
    fn = gc.compile(gc.parse("out = log(x)"), mode=mode)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        value, grads = fn(x=np.array([0.0, 1.0]))
    assert value[0] == -np.inf and grads["x"][0] == np.inf
    assert_close(grads["x"][1], 1.0)


def test_division_by_zero_on_a_python_float_is_inf_with_a_warning():
    fn = gc.compile(gc.parse("out = 1 / x"))
    with pytest.warns(RuntimeWarning):
        value, grads = fn(x=0.0)
    assert value == np.inf and grads["x"] == -np.inf


def test_fractional_power_of_a_negative_python_float_is_nan():
    g = gc.parse("out = x ** 0.5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(g.evaluate(x=-1.0)["out"])
        value = gc.compile(g).forward(x=-1.0)
    assert isinstance(value, float | np.floating) and np.isnan(value)


def test_power_derivative_at_zero_base(mode: str, jax):
    # Regression: d(x**y)/dx was emitted as y*out/x, 0/0 = nan at x = 0.
    at = {"x": np.array([0.0, 0.0, 2.0]), "y": np.array([3.0, 2.0, 3.0])}
    with warnings.catch_warnings():  # d/dy = out * log(x) warns at x = 0 (see below)
        warnings.simplefilter("ignore", RuntimeWarning)
        _, grads = gc.compile(gc.parse("out = x ** y"), mode=mode)(**at)
    expected = jax.vmap(jax.grad(lambda x, y: x ** y))(at["x"], at["y"])
    assert_close(grads["x"], np.asarray(expected))
    assert_close(grads["x"], [0.0, 0.0, 12.0])


@pytest.mark.xfail(strict=True, reason="bug: d(x**y)/dy = out*log(x) is 0*(-inf) = nan at "
                   "x = 0; JAX gives 0 (0**y is constant in y for y > 0)")
def test_power_derivative_in_the_exponent_at_zero_base(jax):
    at = {"x": np.array([0.0]), "y": np.array([3.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, grads = gc.compile(gc.parse("out = x ** y"))(**at)
    expected = jax.grad(lambda x, y: x ** y, argnums=1)(0.0, 3.0)
    assert_close(grads["y"], [float(expected)])
