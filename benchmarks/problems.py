"""The benchmark problems of issue 5 and every contender's value-and-gradient for them.

One `Problem` per benchmark: graphc's `.gc` text, a seeded input maker, an expert's
hand-written NumPy value-and-gradient (the bar graphc has to meet) and its forward, and
one library-neutral `model(o, *inputs)` that JAX, PyTorch, HIPS autograd, PyTensor and
sympy all run with their own primitives (`o` is a small namespace per library: `o.exp`
is `jnp.exp`, `torch.exp`, `autograd.numpy.exp`, `pytensor.tensor.exp` or `sympy.exp`).

`REGISTRY[problem][contender]` is a set-up function: `setup(inputs) -> Prepared`. The
suite times the set-up (graphc's compile, JAX's first call with its jit, PyTensor's
compile, sympy's diff + cse + lambdify), then times `Prepared.run()`. A graphc variant
is one entry of `GRAPHC_VARIANTS` (a name and `gc.compile` keyword arguments); a
variant or contender whose set-up raises is reported as skipped, not as a failure.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

import graphc as gc

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import mlp  # noqa: E402 - benchmarks/mlp.py: the P4 data and hand-written backprop

# graphc variants: name -> keyword arguments of gc.compile. One line per variant.
GRAPHC_VARIANTS: dict[str, dict[str, Any]] = {
    "graphc": {},
    "graphc+blocks": {"backend": "blocks"},
    "graphc+numba": {"backend": "numba"},
}
# Per-element problems only: forward mode's one tangent sweep per input is the
# per-element gradient itself, without keeping the forward values for a way back.
ELEMENTWISE_VARIANTS: dict[str, dict[str, Any]] = {
    "graphc forward mode": {"mode": "forward"},
}

HAND = "hand-written NumPy"
HAND_PY = "hand-written Python"
JAX, TORCH, AUTOGRAD, PYTENSOR, SYMPY = ("JAX jit", "PyTorch eager", "autograd",
                                        "PyTensor", "sympy lambdify")

Inputs = dict[str, Any]
Result = tuple[Any, dict[str, Any]]


@dataclass
class Prepared:
    """A contender ready to run on one problem's inputs."""

    run: Callable[[], Any]                    # one value-and-gradient call (the timed call)
    result: Callable[[Any], Result]           # run()'s output -> (value, {input: gradient})
    make_forward: Callable[[], Callable[[], Any]] | None = None  # forward only (set up untimed)
    numpy_memory: bool = False                # allocations visible to tracemalloc
    source: str | None = None                 # graphc's emitted module
    held: Callable[[], int] = lambda: 0       # bytes kept between calls (block kernels')
    forget: Callable[[], None] = lambda: None  # drop memory kept for reuse (numba's outputs)


@dataclass
class Problem:
    key: str
    title: str
    description: str
    gc_text: str
    wrt: list[str]                            # differentiated inputs (graph input order)
    make_inputs: Callable[[], Inputs]         # name -> value, in graph input order
    hand: Callable[..., Result]               # an expert's value-and-gradient
    hand_forward: Callable[..., Any]
    model: Callable[..., Any]                 # model(o, *inputs): the same math, any library
    elementwise: bool = False                 # per-element gradient: output array, seed ones
    rtol: float = 1e-9                        # |diff| <= rtol * max(1, max |reference|)
    memory: bool = True                       # measure peak memory (tracemalloc)
    python_floats: bool = False               # inputs are Python floats (per-call latency)
    sympy_setup: Callable[[Problem, Inputs], Prepared] | None = None
    hand_name: str = HAND
    notes: list[str] = field(default_factory=list)

    @cached_property
    def input_names(self) -> list[str]:
        """The graph's inputs in graphc's order (every contender takes them so)."""
        return list(gc.parse(self.gc_text).inputs)

    @cached_property
    def argnums(self) -> tuple[int, ...]:
        return tuple(self.input_names.index(w) for w in self.wrt)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- P1 colah

P1_GC = """\
a: [N]
b: [N]
c = a + b
d = b + 1
e = c * d
"""


def p1_inputs(n: int = 1_000_000) -> Inputs:
    rng = _rng(1)
    return {"a": rng.normal(size=n), "b": rng.normal(size=n)}


def p1_model(o, a, b):
    return (a + b) * (b + 1)


def p1_hand(a, b):
    """de/da = d, de/db = c + d; e is built in c's buffer."""
    d = b + 1.0
    c = a + b
    b_bar = c + d
    c *= d
    return c, {"a": d, "b": b_bar}


def p1_hand_forward(a, b):
    e = a + b
    e *= b + 1.0
    return e


P1_FLOAT_GC = "c = a + b\nd = b + 1\ne = c * d\n"


def p1_float_inputs() -> Inputs:
    rng = _rng(11)
    return {"a": float(rng.normal()), "b": float(rng.normal())}


def p1_float_hand(a, b):
    c = a + b
    d = b + 1.0
    return c * d, {"a": d, "b": c + d}


def p1_float_hand_forward(a, b):
    return (a + b) * (b + 1.0)


# ----------------------------------------------------------------------------- P2 neuron

P2_GC = """\
w0: [N]
x0: [N]
w1: [N]
x1: [N]
w2: [N]
f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))
"""


def p2_inputs(n: int = 1_000_000) -> Inputs:
    rng = _rng(2)
    return {k: rng.normal(size=n) for k in ["w0", "x0", "w1", "x1", "w2"]}


def p2_model(o, w0, x0, w1, x1, w2):
    return 1 / (1 + o.exp(-(w0 * x0 + w1 * x1 + w2)))


def p2_hand(w0, x0, w1, x1, w2):
    """f = sigmoid(z) in one buffer; df/dz = f (1 - f) reused for all five gradients."""
    f = w0 * x0
    tmp = w1 * x1
    f += tmp
    f += w2
    np.negative(f, out=f)
    np.exp(f, out=f)
    f += 1.0
    np.reciprocal(f, out=f)
    g = 1.0 - f
    g *= f
    return f, {"w0": np.multiply(g, x0, out=tmp), "x0": g * w0, "w1": g * x1,
               "x1": g * w1, "w2": g}


def p2_hand_forward(w0, x0, w1, x1, w2):
    f = w0 * x0
    f += w1 * x1
    f += w2
    np.negative(f, out=f)
    np.exp(f, out=f)
    f += 1.0
    return np.reciprocal(f, out=f)


# ----------------------------------------------------------------------------- P3 ladder

LADDER = 30
P3_GC = "x: [N]\n" + "x = sin(x) * cos(x) + x\n" * LADDER


def p3_inputs(n: int = 100_000) -> Inputs:
    return {"x": _rng(3).uniform(-2.0, 2.0, size=n)}


def p3_model(o, x):
    for _ in range(LADDER):
        x = o.sin(x) * o.cos(x) + x
    return x


def p3_hand(x):
    """Each rung's local derivative is cos^2 - sin^2 + 1 = 2 cos^2; per element the
    gradient is the product of the rungs' local derivatives, accumulated in the same
    sweep (no stored rungs), with the 2^30 applied once at the end (exact)."""
    s = np.empty_like(x)
    c = np.empty_like(x)
    g = None
    for k in range(LADDER):
        np.sin(x, out=s)
        np.cos(x, out=c)
        s *= c
        if k == 0:
            x = x + s
            g = c * c
        else:
            x += s
            g *= c
            g *= c
    g *= 2.0 ** LADDER
    return x, {"x": g}


def p3_hand_forward(x):
    s = np.empty_like(x)
    c = np.empty_like(x)
    for k in range(LADDER):
        np.sin(x, out=s)
        np.cos(x, out=c)
        s *= c
        if k == 0:
            x = x + s
        else:
            x += s
    return x


# ----------------------------------------------------------------------------- P4 MLP

P4_GC = (ROOT / "examples" / "mlp.gc").read_text()


def p4_inputs() -> Inputs:
    return mlp.data(batch=256, dtype=np.float32, seed=0)


def p4_model(o, x, labels, W1, b1, W2, b2, W3, b3):  # noqa: N803 - the math's names
    h1 = o.tanh(x @ W1 + b1)
    h2 = o.tanh(h1 @ W2 + b2)
    return o.cross_entropy(h2 @ W3 + b3, labels)


def p4_hand_forward(x, labels, W1, b1, W2, b2, W3, b3):  # noqa: N803
    h1 = np.tanh(x @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    s = np.exp(shifted).sum(axis=1, keepdims=True)
    return -np.sum(labels * (shifted - np.log(s))) / x.shape[0]


# ----------------------------------------------------------------------------- P5 Rosenbrock

P5_GC = """\
x: [N]
xs = slice(x, stop=-1)
xn = slice(x, start=1)
f = sum(100 * (xn - xs**2)**2 + (1 - xs)**2)
"""


def p5_inputs(n: int = 1_000_000) -> Inputs:
    return {"x": _rng(5).uniform(-2.0, 2.0, size=n)}


def p5_model(o, x):
    xs, xn = x[:-1], x[1:]
    return o.sum(100 * (xn - xs**2) ** 2 + (1 - xs) ** 2)


def p5_hand(x):
    """t = x[1:] - x[:-1]^2, u = 1 - x[:-1]; the value by two BLAS dots; the gradient
    in one buffer: 200 t into grad[1:], then grad[:-1] += -2 (200 t x[:-1] + u)."""
    xs, xn = x[:-1], x[1:]
    t = xs * xs
    np.subtract(xn, t, out=t)
    u = 1.0 - xs
    value = 100.0 * np.dot(t, t) + np.dot(u, u)
    grad = np.empty_like(x)
    gn = grad[1:]
    np.multiply(t, 200.0, out=gn)
    grad[0] = 0.0
    np.multiply(gn, xs, out=t)
    t += u
    t *= -2.0
    grad[:-1] += t
    return value, {"x": grad}


def p5_hand_forward(x):
    xs = x[:-1]
    t = xs * xs
    np.subtract(x[1:], t, out=t)
    u = 1.0 - xs
    return 100.0 * np.dot(t, t) + np.dot(u, u)


def p5_sympy(problem: Problem, inputs: Inputs) -> Prepared:
    """sympy differentiates one term g(u, v) = 100 (v - u^2)^2 + (1 - u)^2 of the sum;
    NumPy evaluates the lambdified term on x[:-1], x[1:] and assembles the gradient."""
    import sympy as sp

    u, v = sp.symbols("u v")
    term = 100 * (v - u**2) ** 2 + (1 - u) ** 2
    f = sp.lambdify([u, v], [term, sp.diff(term, u), sp.diff(term, v)], modules="numpy",
                    cse=True)
    x = inputs["x"]

    def run():
        t, gu, gv = f(x[:-1], x[1:])
        grad = np.zeros_like(x)
        grad[:-1] = gu
        grad[1:] += gv
        return t.sum(), {"x": grad}

    def make_forward():
        fwd = sp.lambdify([u, v], term, modules="numpy")
        return lambda: fwd(x[:-1], x[1:]).sum()

    return Prepared(run, lambda out: out, make_forward, numpy_memory=True)


# ----------------------------------------------------------------------------- P6 mixture

P6_PARAMS = ["z", "m1", "m2", "ls1", "ls2"]
P6_GC = (ROOT / "examples" / "mixture.gc").read_text()


def p6_inputs(n: int = 1_000_000) -> Inputs:
    """Data from 0.3 N(-1, 0.5^2) + 0.7 N(2, 1); parameters near but not at the truth."""
    rng = _rng(6)
    first = rng.random(n) < 0.3
    x = np.where(first, rng.normal(-1.0, 0.5, n), rng.normal(2.0, 1.0, n))
    return {"x": x, "z": np.float64(-0.5), "m1": np.float64(-0.8), "m2": np.float64(1.7),
            "ls1": np.float64(math.log(0.6)), "ls2": np.float64(math.log(1.2))}


def p6_model(o, x, z, m1, m2, ls1, ls2):
    w = o.sigmoid(z)
    s1 = o.exp(ls1)
    s2 = o.exp(ls2)
    u1 = (x - m1) / s1
    u2 = (x - m2) / s2
    p = w * o.exp(-0.5 * u1**2) / s1 + (1 - w) * o.exp(-0.5 * u2**2) / s2
    return -o.sum(o.log(p))


def p6_hand(x, z, m1, m2, ls1, ls2):
    """Responsibilities r_k = w_k phi_k / p: dL/dz = n w - sum r1, dL/dm_k = -sum(r_k u_k)
    / s_k, dL/dls_k = sum r_k - sum r_k u_k^2 (BLAS dots); four n-arrays in all."""
    w = 1.0 / (1.0 + math.exp(-z))
    s1, s2 = math.exp(ls1), math.exp(ls2)
    u1 = x - m1
    u1 *= 1.0 / s1
    u2 = x - m2
    u2 *= 1.0 / s2
    a1 = np.square(u1)
    a1 *= -0.5
    np.exp(a1, out=a1)
    a1 *= w / s1
    p = np.square(u2)
    p *= -0.5
    np.exp(p, out=p)
    p *= (1.0 - w) / s2
    p += a1
    r1 = np.divide(a1, p, out=a1)
    np.log(p, out=p)
    nll = -p.sum()
    r2 = np.subtract(1.0, r1, out=p)
    sr1 = r1.sum()
    r1 *= u1
    r2 *= u2
    grads = {"z": x.size * w - sr1,
             "m1": -r1.sum() / s1, "m2": -r2.sum() / s2,
             "ls1": sr1 - np.dot(r1, u1), "ls2": (x.size - sr1) - np.dot(r2, u2)}
    return nll, grads


def p6_hand_forward(x, z, m1, m2, ls1, ls2):
    w = 1.0 / (1.0 + math.exp(-z))
    s1, s2 = math.exp(ls1), math.exp(ls2)
    a1 = x - m1
    a1 *= 1.0 / s1
    np.square(a1, out=a1)
    a1 *= -0.5
    np.exp(a1, out=a1)
    a1 *= w / s1
    a2 = x - m2
    a2 *= 1.0 / s2
    np.square(a2, out=a2)
    a2 *= -0.5
    np.exp(a2, out=a2)
    a2 *= (1.0 - w) / s2
    a1 += a2
    np.log(a1, out=a1)
    return -a1.sum()


def p6_sympy(problem: Problem, inputs: Inputs) -> Prepared:
    """sympy differentiates one point's term -log p(x); NumPy sums the lambdified term
    and its five derivatives over the points."""
    import sympy as sp

    syms = sp.symbols("x z m1 m2 ls1 ls2", real=True)
    o = _sympy_ops()
    term = -sp.log(_p6_density(o, *syms))
    params = syms[1:]
    f = sp.lambdify(syms, [term, *(sp.diff(term, s) for s in params)], modules="numpy",
                    cse=True)
    args = list(inputs.values())

    def run():
        outs = f(*args)
        return outs[0].sum(), {name: d.sum() for name, d in zip(P6_PARAMS, outs[1:])}

    def make_forward():
        fwd = sp.lambdify(syms, term, modules="numpy")
        return lambda: fwd(*args).sum()

    return Prepared(run, lambda out: out, make_forward, numpy_memory=True)


def _p6_density(o, x, z, m1, m2, ls1, ls2):
    w = o.sigmoid(z)
    s1 = o.exp(ls1)
    s2 = o.exp(ls2)
    u1 = (x - m1) / s1
    u2 = (x - m2) / s2
    return w * o.exp(-0.5 * u1**2) / s1 + (1 - w) * o.exp(-0.5 * u2**2) / s2


# ----------------------------------------------------------------------------- the problems

PROBLEMS: dict[str, Problem] = {p.key: p for p in [
    Problem(
        "P1", "colah e = (a+b)*(b+1), arrays of 1,000,000",
        "Per-element value and gradient (seed ones) of colah's graph.",
        P1_GC, ["a", "b"], p1_inputs, p1_hand, p1_hand_forward, p1_model,
        elementwise=True),
    Problem(
        "P1-float", "colah e = (a+b)*(b+1) on Python floats",
        "Per-call latency on two Python floats.",
        P1_FLOAT_GC, ["a", "b"], p1_float_inputs, p1_float_hand, p1_float_hand_forward,
        p1_model, memory=False, python_floats=True, hand_name=HAND_PY),
    Problem(
        "P2", "sigmoid neuron 1/(1+exp(-(w0*x0+w1*x1+w2))), five arrays of 1,000,000",
        "Per-element value and gradient with respect to all five inputs.",
        P2_GC, ["w0", "x0", "w1", "x1", "w2"], p2_inputs, p2_hand, p2_hand_forward,
        p2_model, elementwise=True),
    Problem(
        "P3", f"ladder x = sin(x)*cos(x) + x, {LADDER} rungs, 100,000 elements",
        "Per-element value and gradient through the whole ladder.",
        P3_GC, ["x"], p3_inputs, p3_hand, p3_hand_forward, p3_model, elementwise=True,
        rtol=1e-8,
        notes=["sympy: `diff` of the nested expression grows about 3x per rung (on this "
               "machine diff + lambdify take 6 s for 10 rungs, 67 s for 12), so 30 rungs hit the "
               "set-up time limit."]),
    Problem(
        "P4", "MLP 784-256-128-10 tanh, softmax cross-entropy, batch 256, float32",
        "Loss and gradient with respect to all weights and biases (`examples/mlp.gc`; "
        "hand-written = `benchmarks/mlp.py`).",
        P4_GC, ["W1", "b1", "W2", "b2", "W3", "b3"], p4_inputs, mlp.hand_value_and_grad,
        p4_hand_forward, p4_model, rtol=2e-3, memory=False),
    Problem(
        "P5", "Rosenbrock sum(100*(x[1:]-x[:-1]^2)^2 + (1-x[:-1])^2), 1,000,000",
        "Value and full gradient of the chained Rosenbrock function.",
        P5_GC, ["x"], p5_inputs, p5_hand, p5_hand_forward, p5_model, rtol=1e-9,
        sympy_setup=p5_sympy),
    Problem(
        "P6", "2-component 1-D Gaussian mixture NLL, 1,000,000 points, 5 parameters",
        "-sum log(w N(x; m1, s1) + (1-w) N(x; m2, s2)) with w = sigmoid(z), s_k = "
        "exp(ls_k), up to the constant n log sqrt(2 pi); gradient with respect to z, m1, "
        "m2, ls1, ls2.",
        P6_GC, P6_PARAMS, p6_inputs, p6_hand, p6_hand_forward, p6_model, rtol=1e-9,
        sympy_setup=p6_sympy),
]}


# ----------------------------------------------------------------------------- contenders

def setup_graphc(problem: Problem, kwargs: dict[str, Any], inputs: Inputs) -> Prepared:
    fn = gc.compile(gc.parse(problem.gc_text), wrt=problem.wrt, **kwargs)
    # numba compiles a loop at its first call, as JAX's jit: part of the set-up
    return _prepared(fn.module, fn.source, inputs, warm=kwargs.get("backend") == "numba")


def setup_emitted(source: str, inputs: Inputs) -> Prepared:
    """A module graphc emitted elsewhere (an earlier commit's: benchmarks/before.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "emitted.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"emitted_{id(source)}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return _prepared(module, source, inputs, warm=True)


def _prepared(module: Any, source: str, inputs: Inputs, warm: bool) -> Prepared:
    if list(module.value_and_grad.__code__.co_varnames[:len(inputs)]) != list(inputs):
        raise RuntimeError("graphc's input order differs from the problem's")
    vg, fwd = module.value_and_grad, module.forward
    args = tuple(inputs.values())
    if warm:
        vg(*args)
        fwd(*args)

    def held() -> int:
        """Bytes of the arrays a block kernel keeps between calls, in every thread that
        runs blocks (as many as the caller's set of them)."""
        kept = getattr(module, "_KEPT", None)
        if kept is None:
            return 0
        mine = vars(kept).items()  # this thread's only: the store is thread-local
        threads = module._cores() if hasattr(module, "_in_blocks") else 1
        return threads * sum(a.nbytes for slot, a in mine
                             if slot.startswith("_value_and_grad_block."))

    def forget() -> None:
        """A numba loop's next call makes its outputs anew (``_outputs``), which the
        peak of that call then counts, rather than reusing the last call's memory."""
        getattr(module, "_LAST", {}).clear()

    return Prepared(lambda: vg(*args), lambda out: out, lambda: lambda: fwd(*args),
                    numpy_memory=True, source=source, held=held, forget=forget)


def setup_hand(problem: Problem, inputs: Inputs) -> Prepared:
    args = tuple(inputs.values())
    vg, fwd = problem.hand, problem.hand_forward
    return Prepared(lambda: vg(*args), lambda out: out, lambda: lambda: fwd(*args),
                    numpy_memory=True)


def _jax_ops():
    import jax
    import jax.numpy as jnp

    def cross_entropy(logits, labels):
        return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=-1)) / logits.shape[0]

    return SimpleNamespace(exp=jnp.exp, log=jnp.log, sin=jnp.sin, cos=jnp.cos,
                           tanh=jnp.tanh, sum=jnp.sum, sigmoid=jax.nn.sigmoid,
                           cross_entropy=cross_entropy)


def setup_jax(problem: Problem, inputs: Inputs) -> Prepared:
    """jax.jit(jax.value_and_grad(f, argnums)); per-element problems return the output
    array as aux of the summed output. The first call (trace + XLA compile) is set-up."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    o = _jax_ops()
    f = partial(problem.model, o)
    args = [v if problem.python_floats else jnp.asarray(v) for v in inputs.values()]
    if problem.elementwise:
        def summed(*a):
            out = f(*a)
            return jnp.sum(out), out

        vg = jax.jit(jax.value_and_grad(summed, argnums=problem.argnums, has_aux=True))

        def result(out):
            (_, value), grads = out
            return np.asarray(value), _named(problem, [np.asarray(g) for g in grads])
    else:
        vg = jax.jit(jax.value_and_grad(f, argnums=problem.argnums))

        def result(out):
            value, grads = out
            return np.asarray(value), _named(problem, [np.asarray(g) for g in grads])

    def run():
        return jax.block_until_ready(vg(*args))

    def make_forward():
        fwd = jax.jit(f)
        jax.block_until_ready(fwd(*args))
        return lambda: jax.block_until_ready(fwd(*args))

    run()
    return Prepared(run, result, make_forward)


def _torch_ops():
    import torch
    import torch.nn.functional as F  # noqa: N812

    return SimpleNamespace(exp=torch.exp, log=torch.log, sin=torch.sin, cos=torch.cos,
                           tanh=torch.tanh, sum=torch.sum, sigmoid=torch.sigmoid,
                           cross_entropy=F.cross_entropy)  # probability targets, mean


def setup_torch(problem: Problem, inputs: Inputs) -> Prepared:
    """Fresh leaf tensors per call (torch.from_numpy, zero-copy), forward, .backward(),
    read .grad. Per-element problems back-propagate out.sum()."""
    import torch

    o = _torch_ops()
    wrt = set(problem.wrt)
    names = list(inputs)
    if problem.python_floats:
        def leaves():
            return [torch.tensor(v, dtype=torch.float64, requires_grad=n in wrt)
                    for n, v in inputs.items()]
    else:
        arrays = [np.asarray(v) for v in inputs.values()]

        def leaves():
            return [torch.from_numpy(a).requires_grad_() if n in wrt else torch.from_numpy(a)
                    for n, a in zip(names, arrays)]

    def run():
        ts = leaves()
        out = problem.model(o, *ts)
        (out.sum() if problem.elementwise else out).backward()
        return out.detach(), [ts[i].grad for i in problem.argnums]

    def result(out):
        value, grads = out
        return value.numpy(), _named(problem, [g.numpy() for g in grads])

    def make_forward():
        def fwd():
            with torch.no_grad():
                return problem.model(o, *leaves())
        return fwd

    return Prepared(run, result, make_forward)


def _autograd_ops():
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    def cross_entropy(logits, labels):
        logp = logits - logsumexp(logits, axis=-1, keepdims=True)
        return -anp.sum(labels * logp) / logits.shape[0]

    return SimpleNamespace(exp=anp.exp, log=anp.log, sin=anp.sin, cos=anp.cos,
                           tanh=anp.tanh, sum=anp.sum, sigmoid=lambda z: 1 / (1 + anp.exp(-z)),
                           cross_entropy=cross_entropy)


def setup_autograd(problem: Problem, inputs: Inputs) -> Prepared:
    """autograd.value_and_grad(f, argnum); for per-element problems its own body
    (make_vjp, then the vjp of a ones seed) without value_and_grad's scalar check."""
    import autograd

    f = partial(problem.model, _autograd_ops())
    args = tuple(inputs.values())
    if problem.elementwise:
        maker = autograd.make_vjp(f, problem.argnums)

        def run():
            vjp, value = maker(*args)
            return value, vjp(np.ones_like(value))
    else:
        vg = autograd.value_and_grad(f, problem.argnums)

        def run():
            return vg(*args)

    def result(out):
        value, grads = out
        return value, _named(problem, list(grads))

    return Prepared(run, result, lambda: lambda: f(*args), numpy_memory=True)


def _pytensor_ops():
    import pytensor.tensor as pt

    def cross_entropy(logits, labels):
        logp = pt.special.log_softmax(logits, axis=-1)
        return -pt.sum(labels * logp) / logits.shape[0]

    return SimpleNamespace(exp=pt.exp, log=pt.log, sin=pt.sin, cos=pt.cos, tanh=pt.tanh,
                           sum=pt.sum, sigmoid=pt.sigmoid, cross_entropy=cross_entropy)


def setup_pytensor(problem: Problem, inputs: Inputs) -> Prepared:
    """pytensor.function(inputs, [value, *pytensor.grad(cost, wrt)]) compiled once (its
    default C backend); per-element problems take the gradient of out.sum()."""
    import pytensor
    import pytensor.tensor as pt

    o = _pytensor_ops()
    arrays = [np.asarray(v) for v in inputs.values()]
    xs = [pt.tensor(name=n, dtype=str(a.dtype), shape=(None,) * a.ndim)
          for n, a in zip(inputs, arrays)]
    out = problem.model(o, *xs)
    cost = out.sum() if problem.elementwise else out
    grads = pytensor.grad(cost, [xs[i] for i in problem.argnums])
    fn = pytensor.function(xs, [out, *grads])

    def make_forward():
        fwd = pytensor.function(xs, out)
        return lambda: fwd(*arrays)

    return Prepared(lambda: fn(*arrays),
                    lambda res: (res[0], _named(problem, list(res[1:]))), make_forward)


def _sympy_ops():
    import sympy as sp

    return SimpleNamespace(exp=sp.exp, log=sp.log, sin=sp.sin, cos=sp.cos, tanh=sp.tanh,
                           sigmoid=lambda z: 1 / (1 + sp.exp(-z)))


def setup_sympy(problem: Problem, inputs: Inputs) -> Prepared:
    """sympy.diff of the model's expression, cse + lambdify(modules="numpy") of the value
    and the derivatives together; set-up = diff + cse + lambdify."""
    if problem.sympy_setup is not None:
        return problem.sympy_setup(problem, inputs)
    import sympy as sp

    syms = sp.symbols(list(inputs), real=True)
    expr = problem.model(_sympy_ops(), *syms)
    derivs = [sp.diff(expr, syms[i]) for i in problem.argnums]
    f = sp.lambdify(syms, [expr, *derivs], modules="numpy", cse=True)
    args = tuple(inputs.values())

    def make_forward():
        fwd = sp.lambdify(syms, expr, modules="numpy")
        return lambda: fwd(*args)

    return Prepared(lambda: f(*args), lambda res: (res[0], _named(problem, list(res[1:]))),
                    make_forward, numpy_memory=not problem.python_floats)


def _named(problem: Problem, grads: list) -> dict[str, Any]:
    return dict(zip(problem.wrt, grads))


SYMPY_PROBLEMS = {"P1", "P1-float", "P2", "P3", "P5", "P6"}


def build_registry() -> dict[str, dict[str, Callable[[Inputs], Prepared]]]:
    """problem -> contender name -> set-up function (inputs -> Prepared). The
    hand-written reference comes first."""
    registry: dict[str, dict[str, Callable[[Inputs], Prepared]]] = {}
    for key, p in PROBLEMS.items():
        entries: dict[str, Callable[[Inputs], Prepared]] = {p.hand_name: partial(setup_hand, p)}
        variants = {**GRAPHC_VARIANTS, **(ELEMENTWISE_VARIANTS if p.elementwise else {})}
        for name, kwargs in variants.items():
            entries[name] = partial(setup_graphc, p, kwargs)
        entries[JAX] = partial(setup_jax, p)
        entries[TORCH] = partial(setup_torch, p)
        entries[AUTOGRAD] = partial(setup_autograd, p)
        if not p.python_floats:
            entries[PYTENSOR] = partial(setup_pytensor, p)
        if key in SYMPY_PROBLEMS:
            entries[SYMPY] = partial(setup_sympy, p)
        registry[key] = entries
    return registry


REGISTRY = build_registry()
