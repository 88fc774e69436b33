"""The emitted module stands alone: run in a fresh interpreter where ``import graphc``
fails, it computes what the interpreter computes. And no name a user picks (np,
forward, grads, builtins, keywords, spaces, look-alike Unicode) changes its numbers."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, MODES, assert_close, cross, run_isolated

import graphc as gc

RUNNER = """
import json, sys
try:
    import graphc  # noqa: F401
except ImportError:
    print("graphc is not importable here", file=sys.stderr)
else:
    raise SystemExit("graphc is importable: the test would prove nothing")
import numpy as np
import {module} as m
assert not any(name.split(".")[0] == "graphc" for name in sys.modules), "imported graphc"
calls = json.loads(sys.argv[1] if len(sys.argv) > 1 else {calls!r})
out = []
for args in calls:
    args = [np.array(a) if isinstance(a, list) else a for a in args]
    value, grads = m.value_and_grad(*args)
    fwd = m.forward(*args)
    def enc(x):
        return np.asarray(x, dtype=float).tolist()
    out.append({{"forward": enc(fwd), "value": enc(value),
                 "grads": {{k: enc(v) for k, v in grads.items()}}}})
print(json.dumps(out))
"""


def _jsonable(x):
    return x.tolist() if isinstance(x, np.ndarray) else x


def run_standalone(fn: gc.CompiledFunction, calls: list[list], tmp_path: Path) -> list[dict]:
    """Save ``fn``'s module, run it under ``python -S`` without graphc, decode results."""
    fn.save(tmp_path / "emitted.py")
    calls_json = json.dumps([[_jsonable(v) for v in args] for args in calls])
    script = RUNNER.format(module="emitted", calls=calls_json)
    proc = run_isolated(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "graphc is not importable here" in proc.stderr
    return json.loads(proc.stdout)


def _interpreter(g: gc.Graph, fn: gc.CompiledFunction, args: list) -> dict:
    env = fn.grad_graph.evaluate(*args)
    outs = fn.grad_graph.outputs
    return {"forward": g.evaluate(*args)[fn.of], "value": env[outs[0]],
            "grads": dict(zip(fn.wrt, (env[o] for o in outs[1:])))}


def _assert_same(got: dict, want: dict) -> None:
    assert_close(got["forward"], np.asarray(want["forward"], dtype=float), rtol=1e-12)
    assert_close(got["value"], np.asarray(want["value"], dtype=float), rtol=1e-12)
    assert list(got["grads"]) == list(want["grads"])
    for k, v in want["grads"].items():
        assert_close(got["grads"][k], np.asarray(v, dtype=float), rtol=1e-12, what=k)


def test_the_isolated_interpreter_cannot_import_graphc(tmp_path: Path):
    proc = run_isolated("import graphc", cwd=tmp_path)
    assert proc.returncode != 0 and "No module named 'graphc'" in proc.stderr
    proc = run_isolated("import numpy; print(numpy.ones(2).sum())", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "2.0"


@pytest.mark.parametrize("mode", MODES)
def test_colah_module_runs_without_graphc(mode: str, tmp_path: Path):
    g = gc.load(EXAMPLES / "colah.gc")
    fn = gc.compile(g, mode=mode)
    calls = [[2.0, 1.0], [np.array([2.0, 0.0, -1.5]), 1.0], [np.array([[1.0], [2.0]]),
                                                               np.array([0.5, 1.5, 2.5])]]
    results = run_standalone(fn, calls, tmp_path)
    assert results[0] == {"forward": 6.0, "value": 6.0, "grads": {"a": 2.0, "b": 5.0}}
    for got, args in zip(results, calls):
        _assert_same(got, _interpreter(g, fn, args))


EVERY_OP = """
u = exp(sin(a) * 0.5) + log(b * b + 1) + sqrt(c * c + 2) + abs(a - b)
v = cos(u) * tan(c * 0.3) + tanh(a * b) - sigmoid(c) + softplus(-a)
w = relu(v) + leaky_relu(v - 1, 0.2) + elu(u - 3, 0.7) + leaky_relu(b) + elu(c)
f = lambda p, q: p * sigmoid(q) + maximum(p, q)
out = maximum(w, a) * minimum(u, c) / (1 + v * v) + f(a, w) ** 2 - -w
"""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("optimize", [True, False], ids=["opt", "noopt"])
def test_module_with_every_op_runs_without_graphc(mode: str, optimize: bool,
                                                   tmp_path: Path):
    g = gc.parse(EVERY_OP)
    assert g.inputs == ["a", "b", "c"]
    fn = gc.compile(g, mode=mode, optimize=optimize)
    rng = np.random.default_rng(0)
    calls = [[0.3, -0.7, 1.1], [rng.normal(size=4), 0.25, rng.normal(size=4)],
             [rng.normal(size=(2, 1)), rng.normal(size=3), -0.4]]
    for got, args in zip(run_standalone(fn, calls, tmp_path), calls):
        _assert_same(got, _interpreter(g, fn, args))


# ---- names: the user's names reach the module only as safe identifiers or reprs ------
TRICKY = ["np", "forward", "grads", "value_and_grad", "_sum_to", "_broadcast_like", "sum",
          "print", "__import__", "lambda", "None", "def", "float", "__builtins__",
          "__class__", "my var", "a-b", "1x", "ﬁ", "fi", "é", "Ⅸ", "IX", "x_bar", "e",
          "t1", "out_bar", "ones_like", "m", "json", "sys"]


def _tricky_graph(names: list[str]) -> tuple[gc.Graph, dict[str, float], dict[str, float]]:
    """out = sum_k (k+1) sin(x_k) + x_0 * x_1, with known value and gradient."""
    xs = [gc.input(n) for n in names]
    out = xs[0] * xs[1]
    for k, x in enumerate(xs):
        out = out + (k + 1) * gc.sin(x)
    g = gc.graph(out=out)
    at = {n: 0.1 + 0.05 * k for k, n in enumerate(names)}
    v = list(at.values())
    grads = {n: (k + 1) * math.cos(v[k]) for k, n in enumerate(names)}
    grads[names[0]] += v[1]
    grads[names[1]] += v[0]
    value = v[0] * v[1] + sum((k + 1) * math.sin(x) for k, x in enumerate(v))
    return g, at, {"value": value, **grads}


@pytest.mark.parametrize("mode", MODES)
def test_tricky_input_names_give_the_right_numbers(mode: str, tmp_path: Path):
    g, at, expected = _tricky_graph(TRICKY)
    assert g.inputs == TRICKY
    fn = gc.compile(g, mode=mode)
    value, grads = fn(**at)
    assert list(grads) == TRICKY
    assert_close(value, expected["value"], rtol=1e-12)
    for n in TRICKY:
        assert_close(grads[n], expected[n], rtol=1e-12, what=n)
    assert_close(fn.forward(*at.values()), expected["value"], rtol=1e-12)
    (got,) = run_standalone(fn, [list(at.values())], tmp_path)
    assert_close(got["value"], expected["value"], rtol=1e-12)
    assert got["grads"] == {n: pytest.approx(expected[n], rel=1e-12) for n in TRICKY}


def test_nfkc_look_alikes_stay_distinct():
    # Python folds the identifier ﬁ into fi: two inputs must not become one variable.
    g, at, expected = _tricky_graph(["ﬁ", "fi"])
    _, grads = gc.compile(g)(**at)
    assert set(grads) == {"ﬁ", "fi"}
    assert_close([grads["ﬁ"], grads["fi"]], [expected["ﬁ"], expected["fi"]], rtol=1e-12)
    src = gc.compile(g).source
    compile(src, "<emitted>", "exec")  # valid Python whatever the names


def test_input_named_self(mode: str):
    g, at, expected = _tricky_graph(["self", "other"])
    value, grads = gc.compile(g, mode=mode)(**at)
    assert_close(value, expected["value"], rtol=1e-12)
    assert_close(grads["self"], expected["self"], rtol=1e-12)


def test_evaluate_an_input_named_self():
    g, at, expected = _tricky_graph(["self", "other"])
    assert_close(g.evaluate(**at)["out"], expected["value"], rtol=1e-12)


def test_generated_names_never_capture_an_input():
    # The Python front end names temporaries t1, t2, ...: an input called t1 must stay
    # an input, not silently become the temporary.
    a, t1 = gc.inputs("a t1")
    g = gc.graph(out=gc.sin(a) * 2 + t1)
    assert g.inputs == ["a", "t1"]
    assert_close(g.evaluate(a=1.0, t1=100.0)["out"], 2 * math.sin(1.0) + 100.0)
    _, grads = gc.compile(g)(a=1.0, t1=100.0)
    assert float(grads["t1"]) == 1.0


def test_an_output_may_not_take_an_input_s_name():
    a, b = gc.inputs("a b")
    with pytest.raises(gc.GraphcError, match="'a'"):
        gc.graph(a=b + 1, c=a * 2)
    g = gc.graph(a=a, c=a * 2)  # an input as its own output is fine
    assert g.outputs == ["a", "c"] and g.inputs == ["a"]


def test_tricky_names_in_text(mode: str, tmp_path: Path):
    text = ("value_and_grad = np * forward + grads\n"
            "print = sum * value_and_grad + __import__\n"
            "_sum_to = print * print\n")
    g = gc.parse(text)
    assert g.inputs == ["np", "forward", "grads", "sum", "__import__"]
    fn = gc.compile(g, mode=mode)
    at = [0.5, 2.0, -1.0, 3.0, 0.25]
    np_, fw, gr, sm, imp = at
    vag = np_ * fw + gr
    pr = sm * vag + imp
    expected_grads = {"np": 2 * pr * sm * fw, "forward": 2 * pr * sm * np_,
                      "grads": 2 * pr * sm, "sum": 2 * pr * vag, "__import__": 2 * pr}
    value, grads = fn(*at)
    assert_close(value, pr * pr)
    assert {k: float(v) for k, v in grads.items()} == pytest.approx(expected_grads)
    (got,) = run_standalone(fn, [at], tmp_path)
    assert got["value"] == pytest.approx(pr * pr)
    assert got["grads"] == pytest.approx(expected_grads)


def test_lambda_ops_with_reserved_names(tmp_path: Path):
    g = gc.parse("np = lambda x: x * 2\n_sum_to = lambda x, y: x * y\n"
                 "out = np(a) + _sum_to(a, forward)")
    fn = gc.compile(g)
    value, grads = fn(a=1.5, forward=4.0)
    assert float(value) == 9.0
    assert {k: float(v) for k, v in grads.items()} == {"a": 6.0, "forward": 1.5}
    (got,) = run_standalone(fn, [[1.5, 4.0]], tmp_path)
    assert got == {"forward": 9.0, "value": 9.0, "grads": {"a": 6.0, "forward": 1.5}}


@pytest.mark.parametrize("text", ["y = x * 1e400", "y = x + 1e400", "y = x * -1e400",
                                  "y = x + (1e400 - 1e400)", "y = 1e400",
                                  "y = exp(x) * 0 + 1e400 * x"])
def test_infinite_constants_emit_valid_code(text: str, mode: str, tmp_path: Path):
    g = gc.parse(text)
    fn = gc.compile(g, mode=mode)
    compile(fn.source, "<emitted>", "exec")
    at = [2.0] if g.inputs else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grads = fn(*at)
        want = _interpreter(g, fn, at)
    assert_close(value, want["value"])
    for k in grads:
        assert_close(grads[k], want["grads"][k])
    (got,) = run_standalone(fn, [at], tmp_path)
    _assert_same(got, want)


@pytest.mark.parametrize(("text", "expected"), [
    # sympy alone would absorb x + oo into oo and say the derivative is 0
    ("y = x + 1e400", 1.0),
    ("y = x - 1e400", 1.0),
    ("y = x * 1e400", math.inf),
    ("y = x + (1e400 - 1e400)", 1.0),
])
def test_infinite_constants_keep_their_derivatives(text: str, expected: float, mode: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, grads = gc.compile(gc.parse(text), mode=mode)(x=2.0)
    assert float(grads["x"]) == expected


def test_infinite_constant_derivatives_are_jax_s(jax):
    for fn, expected in [(lambda x: x + math.inf, 1.0), (lambda x: x - math.inf, 1.0),
                         (lambda x: x * math.inf, math.inf), (lambda x: x + math.nan, 1.0)]:
        assert float(jax.grad(fn)(2.0)) == expected


def test_saved_module_called_with_python_floats_follows_numpy():
    """Python floats take a fast path of Python arithmetic, but where that raises or
    turns complex the module gives NumPy's answer, as fn(...) does (issue 17)."""
    fn = gc.compile(gc.parse("out = 1 / x + y ** 0.5"))
    assert "Python floats follow Python's arithmetic" not in fn.source
    module: dict = {}
    exec(compile(fn.source, "<emitted>", "exec"), module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grads = module["value_and_grad"](0.0, 1.0)
        assert value == math.inf and grads["x"] == -math.inf and grads["y"] == 0.5
        value, grads = module["value_and_grad"](1.0, -1.0)
        want_value, want_grads = fn(x=1.0, y=-1.0)
    assert np.isnan(value) and np.isnan(want_value)
    assert not np.iscomplexobj(grads["y"]) and np.isnan(grads["y"])


def test_python_floats_take_a_path_without_broadcast_helpers(monkeypatch):
    import importlib

    compile_mod = importlib.import_module("graphc.compiler")
    text = "c = a + b\nd = b + 1\ne = c * d\n"
    source = gc.compile(gc.parse(text)).source
    test = "if a.__class__ is float and b.__class__ is float:"
    source = source.split("def value_and_grad")[1]
    fast = source.split(test)[1].split("\n    a, b = _inputs(")[0]  # inlined: no call
    assert "_sum_to(" not in fast and "_broadcast_like(" not in fast
    assert "return e, {'a': a_bar, 'b': b_bar}" in fast and "(a, b)" not in fast
    # big graphs skip it (it would double the emitting), declared inputs need none
    monkeypatch.setattr(compile_mod, "FLOATS_LIMIT", 3)
    assert "# Python floats" not in gc.compile(gc.parse(text)).source
    assert "# Python floats" not in gc.compile(gc.parse("a: scalar\nb: scalar\n" + text)).source


def test_helpers_ship_the_source_read_at_import(monkeypatch):
    """The helpers' source is read once, when graphc is imported, so files edited under
    a running process cannot change what a module ships."""
    import importlib.util
    import inspect

    import numpy as np

    def stale(obj):
        raise AssertionError("read the source again")

    monkeypatch.setattr(inspect, "getsource", stale)
    text = "x: [N]\ny = sum(sigmoid(slice(x, stop=-1)) * slice(x, start=1)) + logsumexp(x)\n"
    loop = [{"backend": "numba"}] if importlib.util.find_spec("numba") else []
    for kwargs in ({}, {"backend": "blocks"}, *loop):
        fn = gc.compile(gc.parse(text), **kwargs)
        assert "def _sigmoid(" in fn.source
        assert np.isfinite(fn(np.linspace(-1.0, 1.0, 50))[0])


@pytest.mark.parametrize("text", ["e = sum(sin(a * s))",
                                  "x: [5]\nw: scalar\ne = sum(exp(x * w) + w)"])
def test_python_floats_beside_float32_arrays_are_weak_in_process_too(text):
    """fn(...) and the saved module give the same float32 numbers: a Python float next
    to float32 arrays does not make them float64 (NumPy treats it as weak)."""
    fn = gc.compile(gc.parse(text))
    array, scalar = fn.inputs
    at = {array: np.linspace(0, 1, 5, dtype=np.float32), scalar: 0.1}
    got, module = fn(**at), fn.module.value_and_grad(**at)
    assert np.asarray(got[0]).dtype == np.float32
    assert got[0] == module[0]
    for k in got[1]:
        assert np.asarray(got[1][k]).dtype == np.float32
        np.testing.assert_array_equal(got[1][k], module[1][k])


# ---- the saved module computes what fn() computes, bit for bit (issue 17) -----------
# Each program runs as fn(...) and as the module fn.save() wrote, imported afresh, on
# the same inputs: Python floats (where Python's arithmetic raises or turns complex),
# ints, NumPy scalars, 0-d and broadcast arrays, float32, and inputs fn() refuses.
EDGES = [
    "y = (a - b) ** 1.5",
    "y = abs((a - b) ** 1.5) + 1",  # abs would hide a complex number from a final check
    "y = x ** 3",
    "y = sum(x ** 3)",
    "y = x ** -2",
    "y = 1 / x + log(x)",
    "y = a ** b",
    "y = exp(a * b) * a",
    "y = x / (x - 1) + sqrt(x)",
    "y = x + (-8) ** (1 / 3)",
    "y = x * (-1) ** 0.5",
    "y = x + 10 ** 10 ** 10",
    "y = x * 2 ** 1024",
    "y = x + 1 / 0",
    "y = x + 0 ** -1",
    "y = x * (0 * 1e999)",
    "f = lambda p: p ** 0.5 + p ** 2\ny = f(x) * x",
    "y = maximum(a, b) ** 2.5 - minimum(a, b) / b",
    "y = relu(x) ** 0.5 + tanh(x) * sigmoid(x) + softplus(x)",
    "x: [N]\ny = sum(softmax(x)) + logsumexp(x) + mean(x * x) + sum(x ** 0.5)",
    "y = where((a < b) & ~(a == 0), a % b, a // b) + clip(a, -1, b) * stop_gradient(b)",
]
PROGRAMS = {f"edge{k}": text for k, text in enumerate(EDGES)} | {"every_op": EVERY_OP} | {
    p.stem: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.gc"))}
FLOATS = [0.3, -0.7, 1.1, 2.0, 0.0, -1.0, 1e200, -1e200, 1e-200, 3e6, math.inf, math.nan]


def _saved(fn: gc.CompiledFunction, tmp_path: Path, name: str):
    """fn's module as a user gets it: saved, then imported from the file, afresh."""
    import importlib.util

    path = tmp_path / f"{name}.py"
    fn.save(path)
    spec = importlib.util.spec_from_file_location(f"saved_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _identical(got, want, what: str = "") -> None:
    """Equal to the bit (nan equal to nan, -0.0 not 0.0), of the same type and dtype."""
    assert type(got) is type(want), f"{what}: {type(got)} vs {type(want)}"
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            _identical(g, w, f"{what}[{k}]")
        return
    if isinstance(want, dict):
        assert list(got) == list(want), what
        for k in want:
            _identical(got[k], want[k], f"{what}[{k!r}]")
        return
    if isinstance(want, str):  # an error's message
        assert got == want, what
        return
    assert np.asarray(got).dtype == np.asarray(want).dtype, what
    assert not np.iscomplexobj(got), f"{what}: complex {got}"
    np.testing.assert_array_equal(got, want, err_msg=what, strict=True)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=what)


def _outcome(call, *args):
    """What a call returns, or the text of the error it raises."""
    try:
        return call(*args)
    except gc.InputError as exc:
        return ("refused", str(exc))
    except (TypeError, ValueError) as exc:  # the module's side of fn()'s InputError
        return ("refused", str(exc))


def _compiled(g: gc.Graph, **options) -> gc.CompiledFunction:
    try:
        return gc.compile(g, **options)
    except gc.GraphcError as exc:
        if "needs declared shapes" in str(exc):  # forward mode through a reduction
            pytest.skip(str(exc))
        raise


def _same_both_ways(fn: gc.CompiledFunction, module, args: list) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _identical(_outcome(module.value_and_grad, *args), _outcome(fn, *args), f"{args}")
        _identical(_outcome(module.forward, *args), _outcome(fn.forward, *args), f"{args}")


def _calls(g: gc.Graph, rng: np.random.Generator) -> list[list]:
    """Input sets for g: declared shapes get arrays of those shapes (N = 3)."""
    declared = [g.attrs(i)["params"]["shape"] if g.attrs(i)["params"]["declared"] else None
                for i in g.inputs]
    n = len(g.inputs)
    if any(s not in (None, ()) for s in declared):
        def arrays(dtype=np.float64, scale=1.0):
            return [np.asarray(rng.normal(size=tuple(3 if isinstance(d, str) else d
                                                     for d in s or ())) * scale, dtype=dtype)
                    if s not in (None, ()) else rng.normal() for s in declared]
        big = arrays(scale=1e200)
        ints = [np.ones(np.shape(v), dtype=int) if np.ndim(v) else v for v in arrays()]
        return [arrays(), arrays(np.float32), big, ints,
                [np.float64(v) if np.ndim(v) == 0 else v for v in arrays()]]
    picks = [[FLOATS[(k + j) % len(FLOATS)] for j in range(n)] for k in range(len(FLOATS))]
    calls = picks + [[np.float64(v) for v in p] for p in picks[:6]]
    calls += [[np.array(v) for v in p] for p in picks[:6]]
    calls += [[2] * n, [0] * n, [-1] * n, [10**400] + [1.0] * (n - 1)]
    calls += [[np.array([0.3, -0.7, 1e200, 0.0, -2.0])] + [0.5] * (n - 1),
              [rng.normal(size=(2, 1))] + [rng.normal(size=3) for _ in range(n - 1)],
              [np.linspace(-1, 1, 4, dtype=np.float32)] + [0.25] * (n - 1),
              [np.array([3_000_000, 2])] + [1.0] * (n - 1),  # an integer array: refused
              [True] + [1.0] * (n - 1), [1 + 2j] + [1.0] * (n - 1)]
    return calls


@cross(lambda name, optimize: optimize or name == "every_op",  # fast: unoptimized once
       name=sorted(PROGRAMS), optimize={"opt": True, "noopt": False})
def test_the_saved_module_computes_what_fn_computes(name: str, optimize: bool, mode: str,
                                                     tmp_path: Path):
    g = gc.parse(PROGRAMS[name])
    if (mode == "forward" or not optimize) and name == "mlp":
        pytest.skip("784 x 256 weights: too many directions for forward mode, too slow")
    fn = _compiled(g, mode=mode, optimize=optimize)
    module = _saved(fn, tmp_path, name)
    for args in _calls(g, np.random.default_rng(0)):
        _same_both_ways(fn, module, args)


@pytest.mark.parametrize("name", [n for n in sorted(PROGRAMS) if n.startswith("edge")]
                         + ["every_op"])
def test_python_floats_get_numpy_s_answer(name: str, mode: str):
    """Python floats take the fast path, but the numbers are NumPy's float64 ones: never
    an exception or a complex number where NumPy gives inf or nan."""
    g = gc.parse(PROGRAMS[name])
    if any(g.attrs(i)["params"]["declared"] for i in g.inputs):
        pytest.skip("declared arrays take no floats")
    module = _compiled(g, mode=mode).module
    n = len(g.inputs)
    for k in range(len(FLOATS)):
        floats = [FLOATS[(k + j) % len(FLOATS)] for j in range(n)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = module.value_and_grad(*floats)
            want = module.value_and_grad(*[np.float64(v) for v in floats])
            got_forward = module.forward(*floats)
        for a, b in [(got[0], want[0]), (got_forward, want[0])] + [
                (got[1][i], want[1][i]) for i in want[1]]:
            assert not isinstance(a, complex) and not np.iscomplexobj(a), (floats, a)
            np.testing.assert_array_equal(np.float64(a), np.float64(b), err_msg=str(floats))


def test_issue_17_python_float_cases():
    """The reported cases: complex numbers and OverflowError from Python floats."""
    fn = gc.compile(gc.parse("y = (a - b) ** 1.5"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grads = fn.module.value_and_grad(1.0, 2.0)
        assert np.isnan(value) and np.isnan(grads["a"]) and np.isnan(grads["b"])
        value, grads = gc.compile(gc.parse("y = x ** 3")).module.value_and_grad(1e200)
        assert value == math.inf and grads["x"] == math.inf
    module = gc.compile(gc.parse("y = sum(x ** 3)")).module
    with pytest.raises(TypeError, match="not a float dtype"):
        module.value_and_grad(np.array([3_000_000, 2]))  # int64 would wrap around
    assert module.value_and_grad(3e6)[0] == 2.7e19


@pytest.mark.parametrize("text", ["y = x + (-8)**(1/3)", "y = x * (-1)**0.5",
                                  "y = x + 10**10**10", "y = x * 2**1024", "y = x + 1/0",
                                  "y = x + 0**-1", "y = x * (1e999 - 1e999)"])
@pytest.mark.parametrize("optimize", [True, False], ids=["opt", "noopt"])
def test_constants_are_numpy_float64_s(text: str, optimize: bool, mode: str):
    """Constant arithmetic gives NumPy's float64 answer (nan, inf) at compile time and
    in the module, on floats and arrays: no complex number, no exception (issue 17)."""
    g = gc.parse(text)
    fn = gc.compile(g, mode=mode, optimize=optimize)
    for x in (2.0, np.float64(2.0), np.array([2.0, -3.0])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            value, grads = fn(x)
            want = g.evaluate(x)["y"]
            forward = fn.forward(x)
        assert not np.iscomplexobj(value) and not np.iscomplexobj(grads["x"])
        np.testing.assert_array_equal(value, want)
        np.testing.assert_array_equal(forward, want)


@pytest.mark.parametrize("name", ["every_op", "edge0", "edge2", "edge4", "edge9", "edge16",
                                  "edge19", "mixture", "mlp_small", "neuron"])
def test_the_saved_module_computes_what_fn_computes_in_blocks(name: str, tmp_path: Path):
    g = gc.parse(PROGRAMS[name])
    fn = gc.compile(g, backend="blocks")
    module = _saved(fn, tmp_path, name)
    for args in _calls(g, np.random.default_rng(1)):
        _same_both_ways(fn, module, args)


def _random_programs():
    from hypothesis import given
    from hypothesis import strategies as st
    from strategies import dags, examples

    values = st.sampled_from(FLOATS + [-2.5, 0.5, 1e-300, 7e153])

    @st.composite
    def programs(draw):
        dag = draw(dags())
        g = gc.parse(dag.text())
        floats = [draw(values) for _ in g.inputs]
        return g, floats, draw(st.sampled_from(["reverse", "forward"]))

    @examples(60)
    @given(programs())
    def check(case):
        import tempfile

        g, floats, mode = case
        fn = gc.compile(g, mode=mode)
        with tempfile.TemporaryDirectory() as tmp:
            module = _saved(fn, Path(tmp), "random")
        arrays = [np.array([v, -v, 0.5]) for v in floats]
        for args in (floats, [np.float64(v) for v in floats], [np.array(v) for v in floats],
                     arrays, arrays[:1] + floats[1:]):
            _same_both_ways(fn, module, args)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got, want = module.value_and_grad(*floats), fn(*[np.float64(v) for v in floats])
        for a, b in [(got[0], want[0])] + [(got[1][k], want[1][k]) for k in want[1]]:
            assert not isinstance(a, complex)
            np.testing.assert_array_equal(np.float64(a), np.float64(b), err_msg=str(floats))

    return check


def test_random_programs_compute_the_same_both_ways():
    """Random scalar DAGs (strategies.dags), at values that overflow, divide by zero or
    take a power of a negative number: the module as saved equals fn(), and Python
    floats equal np.float64's (NumPy's) answer."""
    _random_programs()()


@pytest.mark.parametrize("options", [{"backend": "blocks"}, {}])
def test_constants_of_big_array_code_are_numpy_float64_s(options: dict):
    """Block kernels print constants as the function does: 1 / 0 is inf, not an error."""
    g = gc.parse("x: [N]\ny = sum(x * (1 / 0) + sin(x) * 2 ** 1024)")
    x = np.linspace(0.1, 1.0, 300_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for optimize in (True, False):
            value, grads = gc.compile(g, optimize=optimize, **options)(x)
            assert value == math.inf and np.all(grads["x"] == math.inf)
