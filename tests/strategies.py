"""Hypothesis strategies shared by the tests, and their settings.

- ``examples(n)``: the settings of a test that draws ``n`` examples (fewer in the fast
  tier, ``pytest -m "not slow"``).
- ``dags()``: random elementwise DAGs (``Dag``: .gc text and the Python front end);
  ``declared_cases()`` declares their inputs, ``summed_text`` sums them.
- ``programs()``: random tensor programs, with the same program in JAX (below).

A ``Program`` is a few inputs (undeclared, declared, 0-d, ``(n, 1)``...) and steps that
mix elementwise ops, full and axis reductions, matmul, transposes, slices, the softmax
family, ``mse`` and ``cross_entropy``, so that one input is used inside and outside reductions
and broadcast against values of other shapes. ``text()`` writes it in graphc's
language; ``jax_fn`` computes the same thing with ``jax.numpy``. Every shape belongs to
a family that broadcasts to ``(2, C)`` (``()``, ``(1,)``, ``(C,)``, ``(1, C)``,
``(2, 1)``, ``(2, C)``), so any two values can meet in an elementwise op.

Only smooth ops on safe domains are drawn (``log(u*u + 1)``, ``u / (v*v + 1)``), so
any nan or disagreement with JAX is a bug. Written without graphc's machinery.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st

import graphc as gc

# ---- settings ---------------------------------------------------------------------------

EXPLORE = int(os.environ.get("GRAPHC_EXPLORE", "0"))
"""GRAPHC_EXPLORE=1000 runs that many fresh random examples per test to hunt for bugs;
by default each test draws a fixed (derandomized) set, so runs are repeatable."""
FAST = "fast"
"""The profile of the fast tier (``pytest -m "not slow"``, loaded by conftest.py): an
eighth of each test's examples; CI's plain ``pytest`` draws them all."""
settings.register_profile(FAST, max_examples=12)


def examples(n: int) -> settings:
    """``n`` examples (an eighth of them, at least 2, in the fast tier), no deadline."""
    fast = settings.get_current_profile_name() == FAST
    return settings(max_examples=EXPLORE or (max(2, n // 8) if fast else n),
                    derandomize=not EXPLORE, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# ---- random elementwise DAGs ----------------------------------------------------------



# name -> (.gc template, the same op through the Python front end)
UNARY = {
    "sin": ("sin({0})", gc.sin),
    "cos": ("cos({0})", gc.cos),
    "tanh": ("tanh({0})", gc.tanh),
    "sigmoid": ("sigmoid({0})", gc.sigmoid),
    "softplus": ("softplus({0})", gc.softplus),
    "neg": ("-{0}", lambda u: -u),
    "square": ("{0} * {0}", lambda u: u * u),  # one operand in both slots
    "cube": ("{0} ** 3", lambda u: u ** 3),
    "log": ("log({0} * {0} + 1)", lambda u: gc.log(u * u + 1)),
    "sqrt": ("sqrt({0} * {0} + 1)", lambda u: gc.sqrt(u * u + 1)),
    "exp": ("exp(tanh({0}))", lambda u: gc.exp(gc.tanh(u))),
}
BINARY = {
    "add": ("{0} + {1}", lambda u, v: u + v),
    "sub": ("{0} - {1}", lambda u, v: u - v),
    "mul": ("{0} * {1}", lambda u, v: u * v),
    "div": ("{0} / ({1} * {1} + 1)", lambda u, v: u / (v * v + 1)),
    "pow": ("({0} * {0} + 1) ** tanh({1})", lambda u, v: (u * u + 1) ** gc.tanh(v)),
}
CONSTANTS = (0.0, 1.0, -1.0, 0.5, 2.0, -3.25)
INPUTS = ("a", "b", "c", "d")
SHAPES = ((), (3,), (2, 1), (2, 3))


@dataclass
class Dag:
    """A random DAG as steps ``(op, operands)``; an operand is a node name or a float."""

    inputs: list[str]
    steps: list[tuple[str, tuple[str | float, ...]]]
    inline: list[bool]  # write a step used once into its consumer instead of a line

    def text(self) -> str:
        templates = [(UNARY | BINARY)[op][0] for op, _ in self.steps]
        uses: dict[str, int] = {}
        for template, (_, refs) in zip(templates, self.steps):
            for k, r in enumerate(refs):
                if isinstance(r, str):
                    uses[r] = uses.get(r, 0) + template.count("{%d}" % k)
        lines, spelled = [], {}
        for i, (template, (_, refs)) in enumerate(zip(templates, self.steps), 1):
            args = [spelled.get(r, r) if isinstance(r, str) else f"({r!r})" for r in refs]
            expr = template.format(*args)
            if self.inline[i - 1] and uses.get(f"v{i}") == 1:
                spelled[f"v{i}"] = f"({expr})"
            else:
                lines.append(f"v{i} = {expr}")
        return "\n".join(lines) + "\n"

    def python(self) -> gc.Graph:
        env = {name: gc.input(name) for name in self.inputs}
        for i, (op, refs) in enumerate(self.steps, 1):
            fn = (UNARY | BINARY)[op][1]
            env[f"v{i}"] = fn(*(env[r] if isinstance(r, str) else r for r in refs))
        return gc.graph(**{f"v{len(self.steps)}": env[f"v{len(self.steps)}"]})


@st.composite
def dags(draw: st.DrawFn, max_steps: int = 6) -> Dag:
    inputs = list(INPUTS[:draw(st.integers(1, 4))])
    nodes = list(inputs)
    steps = []
    for i in range(1, draw(st.integers(1, max_steps)) + 1):
        op = draw(st.sampled_from(sorted(UNARY | BINARY)))
        arity = 1 if op in UNARY else 2
        # Mostly nodes (fan-out and shared operands arise from repeats), some constants;
        # the first operand of the last step is the previous node, so the graph is deep.
        refs = tuple(draw(st.one_of(st.sampled_from(nodes), st.sampled_from(CONSTANTS))
                          if k else st.sampled_from(nodes)) for k in range(arity))
        if i > 1 and draw(st.booleans()):
            refs = (f"v{i - 1}",) + refs[1:]
        steps.append((op, refs))
        nodes.append(f"v{i}")
    return Dag(inputs, steps, draw(st.lists(st.booleans(), min_size=len(steps),
                                            max_size=len(steps))))


DECLARED = {"scalar": (), "[N]": (4,), "[3, N]": (3, 4)}
"""declared_cases' declarations and the shapes their values take."""


@st.composite
def declared_cases(draw: st.DrawFn):
    dag = draw(dags())
    decl = {n: draw(st.sampled_from(sorted(DECLARED))) for n in dag.inputs}
    dtypes = {n: draw(st.sampled_from([np.float32, np.float64])) for n in dag.inputs}
    text = "".join(f"{n}: {d}\n" for n, d in decl.items()) + dag.text()
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    at = {n: dtypes[n](rng.uniform(-1.5, 1.5)) if DECLARED[decl[n]] == () else
          rng.uniform(-1.5, 1.5, size=DECLARED[decl[n]]).astype(dtypes[n])
          for n in dag.inputs}
    return text, at


def tame(case: tuple, dtype: type | None = None) -> tuple[gc.Graph, dict]:
    """A declared case's graph and inputs (in ``dtype``, if given); hypothesis skips
    cases with a value that is not finite or not moderate."""
    text, at = case
    g = gc.parse(text)
    assume(set(g.inputs) == set(at))
    if dtype is not None:
        at = {k: np.asarray(v, dtype=dtype) for k, v in at.items()}
    with np.errstate(all="ignore"):
        env = g.evaluate(**at)
    assume(all(np.all(np.isfinite(v)) and np.all(np.abs(v) < 50) for v in env.values()))
    return g, at


def summed_text(dag: Dag, scalars: int) -> str:
    """A random DAG over ``scalars`` declared scalars and the rest vectors, its last node
    summed plainly and as a dot with an input."""
    last = f"v{len(dag.steps)}"
    return "".join(f"{i}: scalar\n" for i in dag.inputs[:scalars]) + \
        "".join(f"{i}: [N]\n" for i in dag.inputs[scalars:]) + dag.text() + \
        f"total = sum({last}) + sum({last} * {dag.inputs[-1]})\n"


# ---- random tensor programs -------------------------------------------------------------

def family(c: int) -> tuple[tuple[int, ...], ...]:
    """The shapes a program's values take: all broadcast together to (2, c)."""
    return ((), (1,), (c,), (1, c), (2, 1), (2, c))


@dataclass
class Input:
    name: str
    shape: tuple[int, ...]  # the shape of the value passed at call time
    declared: bool
    role: str = "value"  # "value", "matrix" (a (C, C) right operand) or "labels"

    def declaration(self) -> str | None:
        if not self.declared:
            return None
        return f"{self.name}: {list(self.shape) if self.shape else 'scalar'}"


@dataclass
class Step:
    name: str
    op: str
    args: tuple[str, ...]
    shape: tuple[int, ...]


@dataclass
class Program:
    """A random tensor program: ``text()`` for graphc, ``jax_fn`` for JAX."""

    inputs: list[Input]
    steps: list[Step]
    c: int
    elastic: set[str] = field(default_factory=set)  # nodes whose shape is known at call time

    @property
    def out(self) -> str:
        return self.steps[-1].name

    def text(self) -> str:
        lines = [d for d in (i.declaration() for i in self.inputs) if d]
        for s in self.steps:
            lines.append(f"{s.name} = " + OPS[s.op].text(*s.args))
        return "\n".join(lines) + "\n"

    def jax_fn(self, jnp: Any, jax: Any) -> Callable[..., Any]:
        """The program in JAX: positional arguments in ``self.inputs``' order."""
        def f(*values: Any) -> Any:
            env = {i.name: v for i, v in zip(self.inputs, values)}
            for s in self.steps:
                env[s.name] = OPS[s.op].jax(jnp, jax, *(env[a] for a in s.args))
            return env[self.out]
        return f

    def values(self, seed: int, dtype: Any = np.float64) -> dict[str, Any]:
        """Inputs at a reproducible random point; undeclared 0-d inputs as Python floats."""
        rng = np.random.default_rng(seed)
        out: dict[str, Any] = {}
        for i in self.inputs:
            v = rng.uniform(-1.5, 1.5, size=i.shape)
            if i.role == "labels":
                v = rng.uniform(0.0, 1.0, size=i.shape)
            if not i.shape and not i.declared and dtype == np.float64:
                out[i.name] = float(v)
            else:
                out[i.name] = np.asarray(v, dtype=dtype)
        return out

    def has_elastic_tensor_op(self) -> bool:
        """An op other than an elementwise one reads a value whose shape is known only
        at call time (forward mode refuses those: it needs declared shapes)."""
        needed = {self.out}
        for s in reversed(self.steps):
            if s.name in needed:
                needed.update(s.args)
        return any(not OPS[s.op].elementwise and any(a in self.elastic for a in s.args)
                   for s in self.steps if s.name in needed)


@dataclass
class OpSpec:
    text: Callable[..., str]
    jax: Callable[..., Any]
    shape: Callable[..., tuple[int, ...] | None]  # the result's shape; None: not drawn
    arity: int = 1
    elementwise: bool = False
    full: bool = False  # a reduction to a scalar (may read an undeclared value)
    extra: str | None = None  # "matrix" or "labels": reads an input of that role
    declared: bool = False  # reads its operand's axes: never drawn on an elastic value


def _bcast(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*shapes))


def _keep_last(s: tuple[int, ...]) -> tuple[int, ...] | None:
    return s[:-1] + (1,) if s else None


def _drop_last(s: tuple[int, ...]) -> tuple[int, ...] | None:
    return s[:-1] if s else None


def _slice_last(s: tuple[int, ...]) -> tuple[int, ...] | None:
    return s[:-1] + (1,) if s and s[-1] > 1 else None


def _sm(jax: Any, name: str, x: Any, axis: int) -> Any:
    return getattr(jax.nn, name)(x, axis=axis)


def _lse(jax: Any, x: Any, keepdims: bool) -> Any:
    return jax.scipy.special.logsumexp(x, axis=-1, keepdims=keepdims)


def _unary(template: str, fn: Callable[[Any, Any], Any]) -> OpSpec:
    return OpSpec(lambda a: template.format(a), lambda jnp, jax, a: fn(jnp, a),
                  lambda s: s, elementwise=True)


def _binary(template: str, fn: Callable[[Any, Any, Any], Any]) -> OpSpec:
    return OpSpec(lambda a, b: template.format(a, b), lambda jnp, jax, a, b: fn(jnp, a, b),
                  _bcast, arity=2, elementwise=True)


OPS: dict[str, OpSpec] = {
    "sin": _unary("sin({0})", lambda jnp, a: jnp.sin(a)),
    "tanh": _unary("tanh({0})", lambda jnp, a: jnp.tanh(a)),
    "exp": _unary("exp(tanh({0}))", lambda jnp, a: jnp.exp(jnp.tanh(a))),
    "square": _unary("{0} * {0}", lambda jnp, a: a * a),
    "neg": _unary("-{0}", lambda jnp, a: -a),
    "log": _unary("log({0} * {0} + 1)", lambda jnp, a: jnp.log(a * a + 1)),
    "sigmoid": _unary("sigmoid({0})", lambda jnp, a: 1 / (1 + jnp.exp(-a))),
    "scale": _unary("2.5 * {0} - 1", lambda jnp, a: 2.5 * a - 1),
    "add": _binary("{0} + {1}", lambda jnp, a, b: a + b),
    "sub": _binary("{0} - {1}", lambda jnp, a, b: a - b),
    "mul": _binary("{0} * {1}", lambda jnp, a, b: a * b),
    "div": _binary("{0} / ({1} * {1} + 1)", lambda jnp, a, b: a / (b * b + 1)),
    "maximum": _binary("maximum({0}, {1})", lambda jnp, a, b: jnp.maximum(a, b)),
    "minimum": _binary("minimum({0}, {1})", lambda jnp, a, b: jnp.minimum(a, b)),
    "mse": OpSpec(lambda a, b: f"mse({a}, {b})",
                  lambda jnp, jax, a, b: jnp.mean((a - b) ** 2) / 2, lambda s, t: (),
                  arity=2, full=True),
    "sum": OpSpec(lambda a: f"sum({a})", lambda jnp, jax, a: jnp.sum(a), lambda s: (),
                  full=True),
    "mean": OpSpec(lambda a: f"mean({a})", lambda jnp, jax, a: jnp.mean(a), lambda s: (),
                   full=True),
    "sum0": OpSpec(lambda a: f"sum({a}, axis=0)", lambda jnp, jax, a: jnp.sum(a, axis=0),
                   lambda s: s[1:] if s else None),
    "mean0k": OpSpec(lambda a: f"mean({a}, axis=0, keepdims=True)",
                     lambda jnp, jax, a: jnp.mean(a, axis=0, keepdims=True),
                     lambda s: (1,) + s[1:] if s else None),
    "sum_lastk": OpSpec(lambda a: f"sum({a}, axis=-1, keepdims=True)",
                        lambda jnp, jax, a: jnp.sum(a, axis=-1, keepdims=True), _keep_last),
    "mean_last": OpSpec(lambda a: f"mean({a}, axis=-1)",
                        lambda jnp, jax, a: jnp.mean(a, axis=-1), _drop_last),
    "softmax": OpSpec(lambda a: f"softmax({a})", lambda jnp, jax, a: _sm(jax, "softmax", a, -1),
                      lambda s: s if s else None),
    "softmax0": OpSpec(lambda a: f"softmax({a}, axis=0)",
                       lambda jnp, jax, a: _sm(jax, "softmax", a, 0),
                       lambda s: s if len(s) == 2 else None),
    "log_softmax": OpSpec(lambda a: f"log_softmax({a})",
                          lambda jnp, jax, a: _sm(jax, "log_softmax", a, -1),
                          lambda s: s if s else None),
    "logsumexp": OpSpec(lambda a: f"logsumexp({a})",
                        lambda jnp, jax, a: _lse(jax, a, False), _drop_last),
    "logsumexpk": OpSpec(lambda a: f"logsumexp({a}, keepdims=True)",
                         lambda jnp, jax, a: _lse(jax, a, True), _keep_last),
    "slice_last": OpSpec(lambda a: f"slice({a}, stop=1, axis=-1)",
                         lambda jnp, jax, a: a[..., :1], _slice_last),
    "slice_end": OpSpec(lambda a: f"slice({a}, start=-1, axis=-1)",
                        lambda jnp, jax, a: a[..., -1:], _slice_last),
    "slice_row": OpSpec(lambda a: f"slice({a}, start=1)", lambda jnp, jax, a: a[1:],
                        lambda s: (1,) + s[1:] if len(s) == 2 and s[0] == 2 else None),
    "matmul": OpSpec(lambda a, m: f"{a} @ {m}", lambda jnp, jax, a, m: a @ m,
                     lambda s: s if s and s[-1] > 1 else None, arity=2, extra="matrix"),
    "matmul_t": OpSpec(lambda a, m: f"({m} @ {a}.T).T", lambda jnp, jax, a, m: (m @ a.T).T,
                       lambda s: s if len(s) == 2 and s[-1] > 1 else None, arity=2,
                       extra="matrix"),
    "xent": OpSpec(lambda a, lab: f"cross_entropy({a}, {lab})",
                   lambda jnp, jax, a, lab: -jnp.sum(lab * _sm(jax, "log_softmax", a, -1))
                   / a.shape[0], lambda s: () if len(s) == 2 and s[-1] > 1 else None,
                   arity=2, extra="labels"),
}
# ---- reductions (graphc/ops/reductions.py) ----
OPS.update({
    "max_last": OpSpec(lambda a: f"max({a}, axis=-1)", lambda jnp, jax, a: jnp.max(a, axis=-1),
                       _drop_last),
    "min0k": OpSpec(lambda a: f"min({a}, axis=0, keepdims=True)",
                    lambda jnp, jax, a: jnp.min(a, axis=0, keepdims=True),
                    lambda s: (1,) + s[1:] if s else None),
    "prod_lastk": OpSpec(lambda a: f"prod({a}, axis=-1, keepdims=True)",
                         lambda jnp, jax, a: jnp.prod(a, axis=-1, keepdims=True), _keep_last),
    "var": OpSpec(lambda a: f"var({a})", lambda jnp, jax, a: jnp.var(a), lambda s: (),
                  full=True),
    "std_last": OpSpec(lambda a: f"std({a}, axis=-1, ddof=1)",  # not of one element: nan
                       lambda jnp, jax, a: jnp.std(a, axis=-1, ddof=1),
                       lambda s: s[:-1] if s and s[-1] > 1 else None),
    "cumsum_last": OpSpec(lambda a: f"cumsum({a}, axis=-1)",
                          lambda jnp, jax, a: jnp.cumsum(a, axis=-1), lambda s: s if s else None),
    "cumprod_last": OpSpec(lambda a: f"cumprod({a}, axis=-1)",
                           lambda jnp, jax, a: jnp.cumprod(a, axis=-1),
                           lambda s: s if s else None),
    "norm_last": OpSpec(lambda a: f"norm({a}, axis=-1)",
                        lambda jnp, jax, a: jnp.linalg.norm(a, axis=-1), _drop_last),
})
# choices (tests/test_choices.py): a comparison chooses, clip, a stopped gradient, %
OPS.update({
    "where": _binary("where({0} > {1}, {0} * {1}, {1} - {0})",
                     lambda jnp, a, b: jnp.where(a > b, a * b, b - a)),
    "clip": _binary("clip({0}, {1} - 0.5, 0.5)", lambda jnp, a, b: jnp.clip(a, b - 0.5, 0.5)),
    "stop_gradient": OpSpec(lambda a: f"stop_gradient({a}) * {a}",
                            lambda jnp, jax, a: jax.lax.stop_gradient(a) * a, lambda s: s,
                            elementwise=True),
    "mod": _binary("{0} % ({1} * {1} + 0.5)", lambda jnp, a, b: jnp.mod(a, b * b + 0.5)),
})
# issue 19's elementwise functions (graphc/ops/elementwise.py), on safe domains
OPS.update({
    "arctan": _unary("arctan({0})", lambda jnp, a: jnp.arctan(a)),
    "log1p": _unary("log1p({0} * {0})", lambda jnp, a: jnp.log1p(a * a)),
    "erf": OpSpec(lambda a: f"erf({a})", lambda jnp, jax, a: jax.scipy.special.erf(a),
                  lambda s: s, elementwise=True),
    "silu": OpSpec(lambda a: f"silu({a})", lambda jnp, jax, a: jax.nn.silu(a), lambda s: s,
                   elementwise=True),
    "gelu": OpSpec(lambda a: f"gelu({a})", lambda jnp, jax, a: jax.nn.gelu(a), lambda s: s,
                   elementwise=True),
    "logaddexp": _binary("logaddexp({0}, {1})", lambda jnp, a, b: jnp.logaddexp(a, b)),
    "arctan2": _binary("arctan2({0}, {1} * {1} + 1)",
                       lambda jnp, a, b: jnp.arctan2(a, b * b + 1)),
    "hypot": _binary("hypot({0}, {1} * {1} + 1)", lambda jnp, a, b: jnp.hypot(a, b * b + 1)),
})
# ---- shape ops (graphc/ops/shaping.py); the axes swapped twice are x again, shaped so
OPS.update({
    "expand0": OpSpec(lambda a: f"expand_dims({a}, 0)",
                      lambda jnp, jax, a: jnp.expand_dims(a, 0),
                      lambda s: (1,) + s if len(s) == 1 else None),
    "squeeze0": OpSpec(lambda a: f"squeeze({a}, 0)", lambda jnp, jax, a: jnp.squeeze(a, 0),
                       lambda s: s[1:] if len(s) == 2 and s[0] == 1 else None),
    "swap_twice": OpSpec(lambda a: f"swapaxes({a}, 0, -1).mT",
                         lambda jnp, jax, a: jnp.swapaxes(a, 0, -1).mT,
                         lambda s: s if len(s) == 2 else None),
    "move_transposed": OpSpec(lambda a: f"moveaxis(transpose({a}, (1, 0)), 0, -1)",
                              lambda jnp, jax, a: jnp.moveaxis(jnp.transpose(a, (1, 0)), 0, -1),
                              lambda s: s if len(s) == 2 else None),
})


# ---- products (graphc/ops/products.py) with the (C, C) matrix, and sort (sorting.py) ----
def _product(template: str, fn: Callable[..., Any], rank: int | None = None) -> OpSpec:
    return OpSpec(lambda a, m: template.format(a, m), lambda jnp, jax, a, m: fn(jnp, a, m),
                  lambda s: s if s and s[-1] > 1 and rank in (None, len(s)) else None,
                  arity=2, extra="matrix", declared=True)


OPS.update({
    "dot": _product("dot({0}, {1})", lambda jnp, a, m: jnp.dot(a, m)),
    "inner": _product("inner({0}, {1})", lambda jnp, a, m: jnp.inner(a, m)),
    "tensordot": _product("tensordot({0}, {1}, axes=1)",
                          lambda jnp, a, m: jnp.tensordot(a, m, axes=1)),
    "einsum": _product("einsum('ij,kj->ik', {0}, {1})",
                       lambda jnp, a, m: jnp.einsum("ij,kj->ik", a, m), rank=2),
    "sort": OpSpec(lambda a: f"sort({a})", lambda jnp, jax, a: jnp.sort(a),
                   lambda s: s if s else None),
})
TENSOR_OPS = [k for k, v in OPS.items() if not v.elementwise]
ELEMENTWISE_OPS = [k for k, v in OPS.items() if v.elementwise]
BIG_OPS = [k for k in OPS if OPS[k].extra is None and "slice" not in k
           and not k.startswith("cumprod")]
"""Ops drawn for big arrays (backend="numba" or "blocks"): no (C, C) matrix, and no
running product of 8,192 elements, whose huge values ``sin`` of it reads to the last
bit (JAX's scan rounds them otherwise: sin(cumprod(sort(x))) differed by 2)."""

# ---- indexing (issue 19): NumPy's subscripts, on values whose axes are known
INDEXING = {
    "index_reversed": OpSpec(lambda a: f"{a}[::-1]", lambda jnp, jax, a: a[::-1],
                             lambda s: s if s else None, declared=True),
    "index_first": OpSpec(lambda a: f"{a}[0]", lambda jnp, jax, a: a[0],
                          lambda s: s[1:] if s else None, declared=True),
    "index_new_axis": OpSpec(lambda a: f"{a}[None]", lambda jnp, jax, a: a[None],
                             lambda s: (1,) + s, declared=True),
    "index_last_reversed": OpSpec(lambda a: f"{a}[..., ::-1]",
                                  lambda jnp, jax, a: a[..., ::-1],
                                  lambda s: s if s else None, declared=True),
}
OPS.update(INDEXING)
TENSOR_OPS += list(INDEXING)


@st.composite
def programs(draw: st.DrawFn, c: int = 3, max_steps: int = 6, ops: list[str] | None = None,
             free: bool = True, declared: bool = True) -> Program:
    """A random tensor program over ``family(c)`` shapes; ``free``/``declared``: whether
    undeclared/declared inputs may be drawn."""
    ops = list(OPS) if ops is None else ops
    shapes = family(c)
    kinds = [k for k, on in (("free", free), ("declared", declared)) if on]
    inputs = [Input(f"x{k}", draw(st.sampled_from(shapes)),
                    draw(st.sampled_from(kinds)) == "declared")
              for k in range(draw(st.integers(1, 4)))]
    nodes: dict[str, tuple[int, ...]] = {i.name: i.shape for i in inputs}
    # the shape graphc sees when it compiles: an undeclared input is a scalar there, so a
    # value it broadcasts (elastic) may have more axes when called; an op is drawn only
    # where both shapes allow it (NumPy, JAX and graphc then read the axes alike)
    static = {i.name: i.shape if i.declared else () for i in inputs}
    elastic = {i.name for i in inputs if not i.declared}
    extras: dict[str, Input] = {}
    steps: list[Step] = []
    for k in range(draw(st.integers(min(3, max_steps), max_steps))):
        names = list(nodes)
        # the newest value often, but any earlier one (inputs included) as often, so
        # that values are used inside and outside reductions
        first = draw(st.sampled_from([names[-1], *names]))
        choices = []
        for op in ops:
            spec = OPS[op]
            if spec.declared and first in elastic:
                continue
            if any(spec.extra == "matrix" and s[-1:] != (c,) or
                   spec.extra == "labels" and s != (2, c)
                   for s in (nodes[first], static[first])):
                continue
            if spec.arity == 1 or spec.extra:
                shape = spec.shape(nodes[first])
                if shape is not None and shape in shapes \
                        and spec.shape(static[first]) is not None:
                    choices.append(op)
            else:
                choices.append(op)
        tensor = [op for op in choices if not OPS[op].elementwise]
        if tensor and draw(st.booleans()):  # as many tensor ops as elementwise ones
            along = [op for op in tensor if not OPS[op].full]  # not only sum(x), mean(x)
            choices = along if along and draw(st.booleans()) else tensor
        op = draw(st.sampled_from(choices))
        spec = OPS[op]
        args: tuple[str, ...] = (first,)
        fixed = spec.shape(static[first]) if spec.arity == 1 or spec.extra else None
        if spec.extra == "matrix":
            if "matrix" not in extras:
                extras["matrix"] = Input("M", (c, c), True, "matrix")
            args += ("M",)
            shape = spec.shape(nodes[first])
        elif spec.extra == "labels":
            if "labels" not in extras:
                extras["labels"] = Input("L", draw(st.sampled_from([(2, c), (2, 1), (1, c)])),
                                         True, "labels")
            args += ("L",)
            shape = ()
        elif spec.arity == 2:
            # not a value against itself: mse(x, x) and x - x are 0 exactly, where norm
            # and std have a nan gradient (JAX's too), off the safe domain
            second = draw(st.sampled_from([n for n in names if n != first] or names))
            args += (second,)
            shape = spec.shape(nodes[first], nodes[second])
            fixed = spec.shape(static[first], static[second])
        else:
            shape = spec.shape(nodes[first])
        name = f"v{k + 1}"
        steps.append(Step(name, op, args, shape))
        nodes[name], static[name] = shape, fixed
        if any(a in elastic for a in args) and not spec.full and op != "xent":
            elastic.add(name)
    # the output adds up every value nothing reads (so no step is dead, no input
    # unused) and, drawn, some inputs themselves (used inside a reduction and outside)
    read = {a for s in steps for a in s.args}
    ends = [s.name for s in steps if s.name not in read]
    ends += [i.name for i in inputs if i.name not in read or draw(st.booleans())]
    total = ends[0]
    for k, e in enumerate(ends[1:], len(steps) + 1):
        steps.append(Step(f"v{k}", "add", (total, e), _bcast(nodes[total], nodes[e])))
        nodes[steps[-1].name] = steps[-1].shape
        static[steps[-1].name] = _bcast(static[total], static[e])
        if total in elastic or e in elastic:
            elastic.add(steps[-1].name)
        total = steps[-1].name
    used = {a for s in steps for a in s.args}
    return Program([i for i in inputs if i.name in used] + list(extras.values()), steps, c,
                   elastic)


# ---- losses (graphc/ops/losses.py): optax's formulas, reduced by the mean as mse is
def _huber(jnp: Any, a: Any, b: Any, delta: float = 0.5) -> Any:
    quadratic = jnp.minimum(jnp.abs(a - b), delta)
    return jnp.mean(0.5 * quadratic ** 2 + delta * (jnp.abs(a - b) - quadratic))


LOSSES = {
    "bce": OpSpec(lambda a, b: f"binary_cross_entropy({a}, {b})",
                  lambda jnp, jax, a, b: jnp.mean(-b * jax.nn.log_sigmoid(a)
                                                  - (1 - b) * jax.nn.log_sigmoid(-a)),
                  lambda s, t: (), arity=2, full=True),
    "huber": OpSpec(lambda a, b: f"huber({a}, {b}, delta=0.5)",
                    lambda jnp, jax, a, b: _huber(jnp, a, b), lambda s, t: (), arity=2,
                    full=True),
}
OPS.update(LOSSES)
TENSOR_OPS += list(LOSSES)
BIG_OPS += list(LOSSES)


# ---- arrays (graphc/ops/arrays.py): rearrangements that keep to family(c)'s shapes
ARRAYS = {
    "roll": OpSpec(lambda a: f"roll({a}, 1, axis=-1)",
                   lambda jnp, jax, a: jnp.roll(a, 1, axis=-1), lambda s: s if s else None,
                   declared=True),
    "tile_rows": OpSpec(lambda a: f"tile({a}, (2, 1))", lambda jnp, jax, a: jnp.tile(a, (2, 1)),
                        lambda s: (2,) + s[-1:] if s and s[:-1] in ((), (1,)) else None,
                        declared=True),
    "concatenate_rows": OpSpec(lambda a: f"concatenate([{a}, 2 * {a}], axis=0)",
                               lambda jnp, jax, a: jnp.concatenate([a, 2 * a], axis=0),
                               lambda s: (2,) + s[1:] if len(s) == 2 and s[0] == 1 else None,
                               declared=True),
    "stack_rows": OpSpec(lambda a: f"stack([{a}, sin({a})])",
                         lambda jnp, jax, a: jnp.stack([a, jnp.sin(a)]),
                         lambda s: (2,) + s if len(s) == 1 else None, declared=True),
    "triangles": OpSpec(lambda a: f"triu({a}, 1) + tril({a}, -1)",
                        lambda jnp, jax, a: jnp.triu(a, 1) + jnp.tril(a, -1),
                        lambda s: s if len(s) == 2 else None, declared=True),
    "trace": OpSpec(lambda a: f"trace({a}, 1)", lambda jnp, jax, a: jnp.trace(a, 1),
                    lambda s: () if len(s) == 2 else None, declared=True),
}
OPS.update(ARRAYS)
TENSOR_OPS += list(ARRAYS)

# ---- the rest of NumPy's elementwise functions (graphc/ops/numpy_more.py), kept off the
# kinks where a drawn value could sit (cbrt and fmod's y away from 0)
MORE_ELEMENTWISE = {
    "cbrt": _unary("cbrt({0} * {0} + 0.5)", lambda jnp, a: jnp.cbrt(a * a + 0.5)),
    "float_power": _binary("float_power({0} * {0} + 1, {1})",
                           lambda jnp, a, b: jnp.float_power(a * a + 1, b)),
    "fmod": _binary("fmod({0}, {1} * {1} + 0.5)", lambda jnp, a, b: jnp.fmod(a, b * b + 0.5)),
    "copysign": _binary("copysign({0} * {0} + 1, {1})",
                        lambda jnp, a, b: jnp.copysign(a * a + 1, b)),
    "heaviside": _binary("heaviside({0}, 0.5) * {1}",
                         lambda jnp, a, b: jnp.heaviside(a, 0.5) * b),
    "logaddexp2": _binary("logaddexp2({0}, {1})", lambda jnp, a, b: jnp.logaddexp2(a, b)),
    "rint_trunc": _binary("rint({0}) * {1} + trunc({1}) * {0}",
                          lambda jnp, a, b: jnp.rint(a) * b + jnp.trunc(b) * a),
    "full_like": _binary("full_like({0}, 2.0) * {1} + ones_like({1}) * {0}",
                         lambda jnp, a, b: jnp.full_like(a, 2.0) * b + jnp.ones_like(b) * a),
    "nan_to_num": _unary("nan_to_num({0})", lambda jnp, a: jnp.nan_to_num(a)),
    "select": _binary("select([{0} > 0.5, {1} < 0], [{0} * {1}, {1}], {0})",
                      lambda jnp, a, b: jnp.select([a > 0.5, b < 0], [a * b, b], a)),
}
OPS.update(MORE_ELEMENTWISE)
ELEMENTWISE_OPS += list(MORE_ELEMENTWISE)
BIG_OPS += list(MORE_ELEMENTWISE)


# ---- structural functions and vector products (graphc/ops/assembling.py, vectors.py),
# each drawn where its result keeps to family(c)'s shapes
STRUCTURAL = {
    "vstack_rows": OpSpec(lambda a: f"vstack([{a}, sin({a})])",
                          lambda jnp, jax, a: jnp.vstack([a, jnp.sin(a)]),
                          lambda s: (2,) + (s[-1:] or (1,)) if len(s) <= 1 or s[0] == 1
                          else None, declared=True),
    "append_rows": OpSpec(lambda a: f"append({a}, 2 * {a}, axis=0)",
                          lambda jnp, jax, a: jnp.append(a, 2 * a, axis=0),
                          lambda s: (2,) + s[1:] if len(s) == 2 and s[0] == 1 else None,
                          declared=True),
    "atleast_2d": OpSpec(lambda a: f"atleast_2d({a})", lambda jnp, jax, a: jnp.atleast_2d(a),
                         lambda s: (1,) + s if len(s) == 1 and s != (1,) else
                         s if len(s) == 2 else None, declared=True),
    "rot180": OpSpec(lambda a: f"rot90({a}, 2)", lambda jnp, jax, a: jnp.rot90(a, 2),
                     lambda s: s if len(s) == 2 else None, declared=True),
    "rollaxis_twice": OpSpec(lambda a: f"rollaxis(rollaxis({a}, 1), 1)",
                             lambda jnp, jax, a: jnp.rollaxis(jnp.rollaxis(a, 1), 1),
                             lambda s: s if len(s) == 2 else None, declared=True),
    "diagonal_diagflat": OpSpec(lambda a: f"diagonal(diagflat({a}), 0)",
                                lambda jnp, jax, a: jnp.diagonal(jnp.diagflat(a), 0),
                                lambda s: s if len(s) == 1 else None, declared=True),
    "vecdot": OpSpec(lambda a: f"vecdot({a}, cos({a}))",
                     lambda jnp, jax, a: jnp.vecdot(a, jnp.cos(a)),
                     lambda s: s[:-1] if s and s[:-1] in ((), (1,)) else None, declared=True),
    "cross": OpSpec(lambda a: f"cross({a}, sin({a}) + 1)",
                    lambda jnp, jax, a: jnp.cross(a, jnp.sin(a) + 1),
                    lambda s: s if s and s[-1] == 3 else None, declared=True),
    "convolve_same": OpSpec(lambda a: f"convolve({a}, cos({a}), 'same')",
                            lambda jnp, jax, a: jnp.convolve(a, jnp.cos(a), "same"),
                            lambda s: s if len(s) == 1 else None, declared=True),
}
OPS.update(STRUCTURAL)
TENSOR_OPS += list(STRUCTURAL)
# ---- summaries (graphc/ops/summaries.py, nanreductions.py, quantiles.py): along the
# last axis, kept as a 1-axis
SUMMARIES = {
    "diff_prepend": OpSpec(lambda a: f"diff({a}, prepend=0.5)",
                           lambda jnp, jax, a: jnp.diff(a, prepend=0.5),
                           lambda s: s if s else None, declared=True),
    "ptp_last": OpSpec(lambda a: f"ptp({a}, axis=-1, keepdims=True)",
                       lambda jnp, jax, a: jnp.ptp(a, axis=-1, keepdims=True), _keep_last,
                       declared=True),
    "average_weighted": OpSpec(lambda a: f"average({a}, axis=-1, weights=exp({a}), keepdims=True)",
                               lambda jnp, jax, a: jnp.average(a, axis=-1, weights=jnp.exp(a),
                                                               keepdims=True),
                               _keep_last, declared=True),
    "trapezoid_x": OpSpec(lambda a: f"expand_dims(trapezoid({a}, x=cumsum(exp({a}), axis=-1)), -1)",
                          lambda jnp, jax, a: jnp.expand_dims(
                              jnp.trapezoid(a, jnp.cumsum(jnp.exp(a), axis=-1)), -1),
                          _keep_last, declared=True),
    "nanmean_last": OpSpec(lambda a: f"nanmean({a}, axis=-1, keepdims=True)",
                           lambda jnp, jax, a: jnp.nanmean(a, axis=-1, keepdims=True), _keep_last,
                           declared=True),
    "nanmax_last": OpSpec(lambda a: f"nanmax({a}, axis=-1, keepdims=True)",
                          lambda jnp, jax, a: jnp.nanmax(a, axis=-1, keepdims=True), _keep_last,
                          declared=True),
    "nanprod_last": OpSpec(lambda a: f"nanprod({a}, axis=-1, keepdims=True)",
                           lambda jnp, jax, a: jnp.nanprod(a, axis=-1, keepdims=True), _keep_last,
                           declared=True),
    "nanvar_last": OpSpec(lambda a: f"nanvar({a}, axis=-1, keepdims=True)",
                          lambda jnp, jax, a: jnp.nanvar(a, axis=-1, keepdims=True), _keep_last,
                          declared=True),
    "quantile_last": OpSpec(lambda a: f"quantile({a}, 0.3, axis=-1, keepdims=True)",
                            lambda jnp, jax, a: jnp.quantile(a, 0.3, axis=-1, keepdims=True),
                            _keep_last, declared=True),
    "median_last": OpSpec(lambda a: f"median({a}, axis=-1, keepdims=True)",
                          lambda jnp, jax, a: jnp.median(a, axis=-1, keepdims=True), _keep_last,
                          declared=True),
}
OPS.update(SUMMARIES)
TENSOR_OPS += list(SUMMARIES)


OPTIONS: list[dict[str, Any]] = [
    {"optimize": True}, {"optimize": False}, {"backend": "blocks"}, {"backend": "numba"},
]
"""gc.compile's options, each as its keyword arguments."""


# ---- pieces (graphc/ops/pieces.py): arrays of split and unstack, ravel; family(c)'s shapes
PIECES = {
    "unstack_rows": OpSpec(lambda a: f"unstack({a})[1] * unstack({a})[0]",
                           lambda jnp, jax, a: jnp.unstack(a)[1] * jnp.unstack(a)[0],
                           lambda s: s[1:] if len(s) == 2 and s[0] == 2 else None,
                           declared=True),
    "split_rows": OpSpec(lambda a: f"split({a}, 2)[0] - split({a}, 2)[1]",
                         lambda jnp, jax, a: jnp.split(a, 2)[0] - jnp.split(a, 2)[1],
                         lambda s: (1, s[1]) if len(s) == 2 and s[0] == 2 and s[1] != 1
                         else None, declared=True),
    "ravel": OpSpec(lambda a: f"ravel({a})", lambda jnp, jax, a: jnp.ravel(a),
                    lambda s: (1,) if s == () else s[-1:] if s[:-1] in ((), (1,)) else None,
                    declared=True),
}
OPS.update(PIECES)
TENSOR_OPS += list(PIECES)


# ---- editing (graphc/ops/editing.py): resize to a fixed (2, 1); insert then delete along
# the last axis, which keeps the shape (a shifted in behind a constant)
EDITING = {
    "resize_2x1": OpSpec(lambda a: f"resize({a}, (2, 1))",
                         lambda jnp, jax, a: jnp.resize(a, (2, 1)),
                         lambda s: (2, 1), declared=True),
    "insert_delete": OpSpec(lambda a: f"delete(insert({a}, 0, values=1.5, axis=-1), -1, axis=-1)",
                            lambda jnp, jax, a: jnp.delete(jnp.insert(a, 0, 1.5, axis=-1), -1,
                                                           axis=-1),
                            lambda s: s if s else None, declared=True),
}
OPS.update(EDITING)
TENSOR_OPS += list(EDITING)


# ---- integer results as indices, correlate, vdot (issue 19's fuzzing pass): family(c)'s
# shapes; a tie of argmax/argmin (a broadcast row) picks the first, as NumPy and JAX do
PICKS = {
    "pick_argmax": OpSpec(lambda a: f"take_along_axis({a}, argmax({a}, axis=-1, keepdims=True), "
                          "axis=-1)",
                          lambda jnp, jax, a: jnp.take_along_axis(
                              a, jnp.argmax(a, axis=-1, keepdims=True), axis=-1),
                          _keep_last, declared=True),
    "rows_argmin": OpSpec(lambda a: f"{a}[arange(2), argmin({a}, axis=-1)][:, None]",
                          lambda jnp, jax, a: a[jnp.arange(2), jnp.argmin(a, axis=-1)][:, None],
                          lambda s: (2, 1) if len(s) == 2 and s[0] == 2 else None,
                          declared=True),
    "correlate_same": OpSpec(lambda a: f"correlate({a}, cos({a}), 'same')",
                             lambda jnp, jax, a: jnp.correlate(a, jnp.cos(a), "same"),
                             lambda s: s if len(s) == 1 else None, declared=True),
    "vdot": OpSpec(lambda a: f"vdot({a}, cos({a}))", lambda jnp, jax, a: jnp.vdot(a, jnp.cos(a)),
                   lambda s: () if s else None, declared=True),
}
OPS.update(PICKS)
TENSOR_OPS += list(PICKS)


# ---- convolution (graphc/ops/convolution.py, issue 21): a (2, C) value as one (1, 2, C)
# signal or one (1, 1, 2, C) image, its kernel sliced from a function of it
def _lax_conv(jax: Any, x: Any, w: Any, padding: Any) -> Any:
    k = x.ndim - 2
    layout = ("NCH", "OIH", "NCH") if k == 1 else ("NCHW", "OIHW", "NCHW")
    return jax.lax.conv_general_dilated(x, w, (1,) * k, padding, dimension_numbers=layout)


def _lax_conv_transpose(jax: Any, x: Any, w: Any) -> Any:
    """torch's conv_transpose2d (stride 1, no padding): the adjoint of the convolution."""
    size = (x.shape[0], w.shape[1]) + tuple(n + m - 1 for n, m in zip(x.shape[2:], w.shape[2:]))
    zeros = jax.numpy.zeros(size, x.dtype)
    return jax.vjp(lambda u: _lax_conv(jax, u, w, "VALID"), zeros)[1](x)[0]


def _rows_c(s: tuple[int, ...]) -> tuple[int, ...] | None:
    return s if len(s) == 2 and s[0] == 2 else None


CONVOLUTION = {
    "conv1d_same": OpSpec(lambda a: f"conv1d(expand_dims({a}, 0), expand_dims(cos({a}), 0)"
                          "[:, :, :2], padding='same')[0]",
                          lambda jnp, jax, a: _lax_conv(jax, a[None], jnp.cos(a)[None, :, :2],
                                                        "SAME")[0],
                          lambda s: (1, s[1]) if len(s) == 2 and s[0] == 2 else None,
                          declared=True),
    "conv2d_same": OpSpec(lambda a: f"conv2d(expand_dims({a}, (0, 1)), expand_dims(sin({a}), "
                          "(0, 1))[:, :, :, :1], padding='same')[0, 0]",
                          lambda jnp, jax, a: _lax_conv(jax, a[None, None],
                                                        jnp.sin(a)[None, None, :, :1],
                                                        "SAME")[0, 0],
                          _rows_c, declared=True),
    "conv_transpose2d": OpSpec(lambda a: f"conv_transpose2d(expand_dims({a}, (0, 1)), "
                               f"expand_dims(cos({a}), (0, 1))[:, :, :, :1])[0, 0, 1:]",
                               lambda jnp, jax, a: _lax_conv_transpose(
                                   jax, a[None, None], jnp.cos(a)[None, None, :, :1])[0, 0, 1:],
                               _rows_c, declared=True),
}
OPS.update(CONVOLUTION)
TENSOR_OPS += list(CONVOLUTION)
# ---- linear algebra (graphc/ops/linalg.py): on a value whose last axis is 3, the positive
# definite a a^T + 3 I of each row built in the program (well conditioned)
def _spd(a: str) -> str:
    return f"({a}[..., :, None] * {a}[..., None, :] + 3 * eye(3))"


def _jax_spd(jnp: Any, a: Any) -> Any:
    return a[..., :, None] * a[..., None, :] + 3 * jnp.eye(3)


def _last_is_3(s: tuple[int, ...]) -> tuple[int, ...] | None:
    return s if s[-1:] == (3,) else None


LINALG = {
    "solve_spd": OpSpec(lambda a: f"solve({_spd(a)}, {a}[..., None])[..., 0]",
                        lambda jnp, jax, a: jnp.linalg.solve(_jax_spd(jnp, a),
                                                             a[..., None])[..., 0],
                        _last_is_3, declared=True),
    "cholesky_solve": OpSpec(lambda a: f"solve_triangular(cholesky({_spd(a)}), {a}[..., None], "
                             "lower=True)[..., 0]",
                             lambda jnp, jax, a: jax.scipy.linalg.solve_triangular(
                                 jnp.linalg.cholesky(_jax_spd(jnp, a)), a[..., None],
                                 lower=True)[..., 0], _last_is_3, declared=True),
    "inv_det": OpSpec(lambda a: f"(inv({_spd(a)}) @ {a}[..., None])[..., 0] "
                      f"* det({_spd(a)})[..., None]",
                      lambda jnp, jax, a: (jnp.linalg.inv(_jax_spd(jnp, a)) @ a[..., None])[
                          ..., 0] * jnp.linalg.det(_jax_spd(jnp, a))[..., None],
                      _last_is_3, declared=True),
    "logdet_spd": OpSpec(lambda a: f"slogdet({_spd(a)})[1][..., None]",
                         lambda jnp, jax, a: jnp.linalg.slogdet(_jax_spd(jnp, a))[1][..., None],
                         lambda s: s[:-1] + (1,) if s[-1:] == (3,) else None, declared=True),
}
OPS.update(LINALG)
TENSOR_OPS += list(LINALG)
# ---- pooling and dropout (graphc/ops/pooling.py, sequence.py): a (2, c) value as a 2 x c
# image pooled along its rows to its own size, (2, 1) channel means; dropout by cos(a)**2
def _pool_jax(jax: Any, a: Any, init: float, op: Any) -> Any:
    x = a.reshape((1, 1) + a.shape)
    return jax.lax.reduce_window(x, init, op, (1, 1, 1, 3), (1, 1, 1, 1),
                                 [(0, 0), (0, 0), (0, 0), (1, 1)]).reshape(a.shape)


POOLING = {
    "max_pool2d_rows": OpSpec(
        lambda a: f"reshape(max_pool2d(reshape({a}, (1, 1, 2, -1)), (1, 3), 1, (0, 1)), (2, -1))",
        lambda jnp, jax, a: _pool_jax(jax, a, -jnp.inf, jax.lax.max),
        lambda s: s if len(s) == 2 and s[0] == 2 else None, declared=True),
    "avg_pool2d_rows": OpSpec(
        lambda a: f"reshape(avg_pool2d(reshape({a}, (1, 1, 2, -1)), (1, 3), 1, (0, 1)), (2, -1))",
        lambda jnp, jax, a: _pool_jax(jax, a, 0.0, jax.lax.add) / 3,
        lambda s: s if len(s) == 2 and s[0] == 2 else None, declared=True),
    "global_avg_pool_rows": OpSpec(
        lambda a: f"global_avg_pool(reshape({a}, (2, 1, 1, -1)))",
        lambda jnp, jax, a: jnp.mean(a, axis=-1, keepdims=True),
        lambda s: (2, 1) if len(s) == 2 and s[0] == 2 else None, declared=True),
    "dropout": OpSpec(lambda a: f"dropout({a}, cos({a}) ** 2, 0.25)",
                      lambda jnp, jax, a: a * jnp.cos(a) ** 2 / 0.75, lambda s: s,
                      elementwise=True),
}
OPS.update(POOLING)
TENSOR_OPS += [k for k, v in POOLING.items() if not v.elementwise]
ELEMENTWISE_OPS += [k for k, v in POOLING.items() if v.elementwise]
# ---- normalisation and attention (graphc/ops/normalization.py, attention.py), where the
# result keeps its operand's shape: layer_norm and rms_norm over a last axis of 3
def _normalized(jnp: Any, a: Any, axis: int, eps: float, center: bool = True) -> Any:
    centered = a - jnp.mean(a, axis=axis, keepdims=True) if center else a
    return centered / jnp.sqrt(jnp.mean(centered ** 2, axis=axis, keepdims=True) + eps)


NORMALIZATION = {
    "layer_norm_last": OpSpec(lambda a: f"layer_norm({a}, (3,))",
                              lambda jnp, jax, a: _normalized(jnp, a, -1, 1e-5),
                              lambda s: s if s and s[-1] == 3 else None, declared=True),
    "rms_norm_last": OpSpec(lambda a: f"rms_norm({a}, 3, eps=0.001)",
                            lambda jnp, jax, a: _normalized(jnp, a, -1, 1e-3, center=False),
                            lambda s: s if s and s[-1] == 3 else None, declared=True),
    "batch_norm_rows": OpSpec(lambda a: f"batch_norm({a})",
                              lambda jnp, jax, a: _normalized(jnp, a, 0, 1e-5),
                              lambda s: s if len(s) == 2 and s[0] == 2 else None,
                              declared=True),
    "attention_self": OpSpec(lambda a: f"attention({a}, {a}, {a})",
                             lambda jnp, jax, a: jax.nn.softmax(
                                 a @ a.T / jnp.sqrt(a.shape[-1]), axis=-1) @ a,
                             lambda s: s if len(s) == 2 else None, declared=True),
}
OPS.update(NORMALIZATION)
TENSOR_OPS += list(NORMALIZATION)
