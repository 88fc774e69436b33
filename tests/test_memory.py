"""Memory planning (``out=`` into dead buffers): the emitted code computes bit-for-bit
what it computes without the plan, in the same dtypes, and never writes over an
input, an output or a value that is still read (directly or through a view)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import EXAMPLES, central_diff
from hypothesis import given
from strategies import declared_cases, examples, tame

import graphc as gc
from graphc.backend import memory, scheduling
from graphc.optimize import passes

WITHOUT = tuple(p for p in passes.PASSES if p != "memory")
N = 4


def _both(text: str, **kw):
    g = gc.parse(text)
    return gc.compile(g, **kw), gc.compile(g, passes=WITHOUT, **kw)


def _run_both(text: str, at: dict, **kw):
    """Planned and unplanned code agree bit for bit; where the planned code brings its
    inputs to one dtype first (``_one_dtype``), on the inputs in that dtype."""
    planned, plain = _both(text, **kw)
    args = [at[n] for n in planned.inputs]
    copies = [np.copy(a) for a in args]
    for f in ("value_and_grad", "forward"):
        _same(getattr(planned.module, f)(*args), _unplanned(planned, plain, f, args))
    for a, c in zip(args, copies):  # no input was written into
        assert np.array_equal(a, c)
    return planned


def _unplanned(planned, plain, f: str, args: list):
    """``plain``'s function ``f`` on ``args``, brought to one dtype first where
    ``planned``'s does that (``_one_dtype``)."""
    one = f"= _one_dtype({', '.join(planned.inputs)})" in \
        planned.source.split(f"def {f}(")[1].split("\n\n")[0]
    return getattr(plain.module, f)(*(memory._one_dtype(*args) if one else args))


def _same(got, want) -> None:
    """Bit-for-bit equal, with the same dtype (the plan changes where, not what)."""
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            _same(got[k], want[k])
    elif isinstance(want, tuple):
        for a, b in zip(got, want):
            _same(a, b)
    else:
        assert np.asarray(got).dtype == np.asarray(want).dtype
        assert np.array_equal(got, want, equal_nan=True)


def test_a_function_call_writes_into_its_dead_operand():
    fn = _run_both("x: [N]\ny = exp(x * 2)", {"x": np.linspace(-1, 1, 5)})
    assert re.search(r"= np\.exp\((\w+), out=\1\)", fn.source)
    assert fn.report()["buffers reused (out=)"] >= 1
    assert "out=x" not in fn.source  # an input is the caller's


def test_the_pass_is_switchable():
    planned, plain = _both("x: [N]\ny = exp(x * 2)\nz = tanh(y * y)")
    assert "out=" in planned.source
    assert "out=" not in plain.source
    assert "buffers reused (out=)" not in plain.report()


def test_a_value_read_through_a_view_is_not_overwritten():
    text = "x: [3, 4]\nt = x * 2\nu = t.T\nw = exp(t + 1)\nout = sum(w.T * u * u)"
    fn = _run_both(text, {"x": np.arange(12.0).reshape(3, 4) / 10})
    assert "out=t)" not in fn.source


def test_an_output_is_never_overwritten():
    text = "x: [N]\na = exp(x)\nb = sin(a)\nc = cos(b)\nd = c * a"
    g = gc.parse(text)
    g.outputs = ["a", "d"]
    fn = gc.compile(g, of="d")
    x = np.linspace(0, 1, N)
    value, grads = fn(x=x)
    assert np.array_equal(value, np.cos(np.sin(np.exp(x))) * np.exp(x))


def test_mixed_dtypes_never_share_a_buffer():
    """a float32 value must not receive a float64 result (it would round it)."""
    text = "a: [N]\nb: [N]\nc = exp(a * 2)\nd = exp(c * b)\ne = tanh(d * c)"
    at = {"a": np.linspace(-1, 1, N, dtype=np.float32), "b": np.linspace(0, 1, N)}
    fn = _run_both(text, at)
    value, grads = fn.module.value_and_grad(at["a"], at["b"])
    assert value.dtype == np.float64 and grads["a"].dtype == np.float64


def test_float32_alone_stays_float32():
    at = {"a": np.linspace(-1, 1, N, dtype=np.float32)}
    fn = _run_both("a: [N]\nc = exp(a * 2)\nd = tanh(c * c)", at)
    value, grads = fn.module.value_and_grad(at["a"])
    assert value.dtype == np.float32 and grads["a"].dtype == np.float32
    assert "out=" in fn.source


def test_matmul_never_writes_over_its_own_operand():
    text = "x: [4, 4]\nW: [4, 4]\nh = tanh(x @ W)\ny = sum(tanh(h @ W))"
    rng = np.random.default_rng(0)
    fn = _run_both(text, {"x": rng.normal(size=(4, 4)), "W": rng.normal(size=(4, 4))})
    for line in fn.source.splitlines():
        if "np.matmul(" in line:
            target = line.split("out=")[1].rstrip(")")
            operands = line.split("np.matmul(")[1].split("out=")[0]
            assert target not in re.findall(r"\w+", operands), line


def test_undeclared_shapes_are_not_planned():
    """Python floats have no buffer: only declared, non-scalar values are planned."""
    fn = gc.compile(gc.parse("y = exp(x * 2)\nz = tanh(y * y)"))
    assert "out=" not in fn.source
    assert float(fn(x=0.5)[0]) == pytest.approx(np.tanh(np.exp(1.0) ** 2))


@examples(100)
@given(declared_cases())
def test_planned_code_equals_unplanned_code_bit_for_bit(case):
    _, at = tame(case)
    with np.errstate(all="ignore"):
        _run_both(case[0], at)
        _run_both(case[0], at, mode="forward")


def test_a_ladder_keeps_a_few_arrays_in_either_mode():
    """Forward mode computes each rung's tangent while its sin and cos are still fresh,
    so the buffers go round. In reverse mode the gradient is the product of the rungs'
    local derivatives, 2 c*c each (the forward values grouped and factored); folded in
    the order the forward sweep makes them (regroup.py), each rung's c goes into the
    running product while it is fresh: four arrays, as hand-written, not one per rung."""
    import tracemalloc

    rungs, n = 20, 10_000
    text = "x: [N]\n" + "x = sin(x) * cos(x) + x\n" * rungs
    x = np.linspace(-2, 2, n)
    peaks = {}
    for mode in ("forward", "reverse"):
        f = gc.compile(gc.parse(text), mode=mode).module.value_and_grad
        f(x)
        tracemalloc.start()
        f(x)
        peaks[mode] = tracemalloc.get_traced_memory()[1] / x.nbytes
        tracemalloc.stop()
    assert peaks["forward"] <= 10, peaks  # five buffers and the temporaries of a line
    assert peaks["reverse"] <= 5, peaks  # x, sin, cos and the running product


@examples(100)
@given(declared_cases())
def test_the_schedule_is_a_topological_order(case):
    text, _ = case
    g = gc.compile(gc.parse(text)).grad_graph
    nodes = [n for n in g.order() if g.attrs(n)["op"] not in ("input", "const")]
    order, deferred = scheduling.schedule(g, nodes)
    assert deferred <= set(nodes)
    assert sorted(order) == sorted(nodes)
    position = {n: i for i, n in enumerate(order)}
    for n in order:
        assert all(position[a] < position[n] for a in g.args(n) if a in position)


@examples(100)
@given(declared_cases())
def test_reductions_early_is_a_topological_order(case):
    text, _ = case
    g = gc.compile(gc.parse(text)).grad_graph
    nodes = [n for n in g.order() if g.attrs(n)["op"] not in ("input", "const")]
    order = scheduling.reductions_early(g, scheduling.depth_first(g, nodes))
    assert sorted(order) == sorted(nodes)
    position = {n: i for i, n in enumerate(order)}
    for n in order:
        assert all(position[a] < position[n] for a in g.args(n) if a in position)


TENSOR_PROGRAMS = [
    # an MLP with softmax cross-entropy, views (transposes) and reductions
    ("x: [5, 4]\nlabels: [5, 3]\nW1: [4, 6]\nb1: [6]\nW2: [6, 3]\nb2: [3]\n"
     "h = tanh(x @ W1 + b1)\nloss = cross_entropy(h @ W2 + b2, labels)"),
    # slices that overlap, along a later axis
    "x: [3, 7]\na = slice(x, stop=-1, axis=1)\nb = slice(x, start=1, axis=1)\n"
    "y = sum(exp(a * b) + sin(b - a)**2)",
    # a transposed view read long after its base's last direct read
    "x: [4, 4]\nt = exp(x * 0.5)\nu = t.T\nv = sin(t + 1)\nw = sum(v * u + v.T * 2)",
    # softmax, mean over an axis, a sigmoid written by hand
    "x: [4, 5]\ns = softmax(x * 2)\nm = mean(s * x, axis=0)\n"
    "y = sum(1 / (1 + exp(-m)) * m)",
    # scalars declared next to arrays, products and quotients of both
    "x: [6]\nz: scalar\nw: scalar\nu = (x - z) / exp(w)\ny = -sum(log(exp(-0.5 * u**2) + 1))",
    # Rosenbrock along a later axis: an adjoint written straight into its slice
    "x: [3, 6]\na = slice(x, stop=-1, axis=1)\nb = slice(x, start=1, axis=1)\n"
    "y = sum(100 * (b - a**2)**2 + (1 - a)**2)",
    # a slice's adjoint that is read again after the slice is placed
    "x: [7]\na = slice(x, start=2)\nt = exp(a * 3)\ny = sum(t * t) + sum(sin(t))",
]


def _tensor_inputs(text: str, dtype: type, seed: int) -> dict:
    """Inputs for a tensor program (symbolic dimensions 9), labels one-hot."""
    g = gc.parse(text)
    rng = np.random.default_rng(seed)
    at = {}
    for name in g.inputs:
        shape = tuple(9 if isinstance(d, str) else d for d in g.shape(name))
        value = rng.uniform(-1, 1, size=shape) if shape else rng.uniform(-1, 1)
        at[name] = np.asarray(value, dtype=dtype) if shape else dtype(value)
    if "labels" in at:
        at["labels"] = np.eye(3, dtype=dtype)[rng.integers(0, 3, 5)]
    return at


@pytest.mark.parametrize("text", TENSOR_PROGRAMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_planned_tensor_code_equals_unplanned_code_bit_for_bit(text, dtype, mode):
    at = _tensor_inputs(text, dtype, 3)
    if mode == "forward" and "W1" in at:
        pytest.skip("forward mode carries a tangent per weight: not what this test is about")
    fn = _run_both(text, at, mode=mode)
    assert "out=" in fn.source


@pytest.mark.parametrize("text", [
    "x: [N]\ns = sum(abs(x) + leaky_relu(x, 0.2))",
    "x: [N, 2]\ns = sum(leaky_relu(x, 0.2) - abs(x))",
    "s = sum(leaky_relu(x, 0.2) + leaky_relu(x, 0.3))",
    "x: [N]\ny = relu(x) + abs(x) + leaky_relu(x, 0.1)\ns = sum(y * y)",
])
def test_a_comparisons_bool_array_never_holds_a_float(text):
    """Two derivatives that share x >= 0: the mask is a bool array, so no float result
    (np.where(mask, 1.0, -1.0) + ...) may be written into it."""
    x = np.linspace(-1, 1, 2 * N).reshape(-1, 2) if "[N, 2]" in text \
        else np.linspace(-1, 1.1, N)
    fn = _run_both(text, {"x": x})
    _, grads = fn(x=x)
    g = gc.parse(text)
    np.testing.assert_allclose(grads["x"], central_diff(
        lambda **v: g.evaluate(**v)["s"], {"x": x}, "x"), rtol=1e-6, atol=1e-8)


def test_an_operand_that_dies_in_a_line_is_overwritten_there():
    """-0.5 * u**2 with u dead: the square goes into u, and the product after it, where
    folded the square would allocate a temporary."""
    fn = _run_both("x: [N]\nm: scalar\nu = x - m\ny = sum(exp(-0.5 * u**2))",
                   {"x": np.linspace(-1, 1, N), "m": np.float64(0.25)})
    forward = fn.source.split("def forward")[1]
    assert re.search(r"(\w+) = np\.square\(u, out=u\)\n    \w+ = np\.multiply\(-0\.5, \1, "
                     r"out=u\)", forward), forward


def test_add_slice_never_writes_over_a_buffer_its_slice_reads():
    """_add_slice copies its base into out before adding the slice: out may be the
    base itself, never the array the slice is a view of."""
    g = gc.Graph()
    x = g.add_input("x", (5,), declared=True)
    w = g.add("exp", (x,), name="w")
    base = g.add("sin", (x,), name="base")
    part = g.add("slice", (w,), {"start": 1, "stop": None, "axis": 0})
    both = g.add("add_slice", (base, part), {"start": None, "stop": -1, "axis": 0})
    square = g.add("sum", (g.add("mul", (both, both)),))
    g.add("add", (square, g.add("sum", (base,))), name="y")  # the base stays alive
    g.outputs = ["y"]
    at = np.linspace(-1, 1, 5)
    planned, plain = gc.compile(g), gc.compile(g, passes=WITHOUT)
    _same(planned.module.forward(at), plain.module.forward(at))
    _same(planned.module.value_and_grad(at), plain.module.value_and_grad(at))
    expected = np.sin(at)
    expected[:-1] += np.exp(at)[1:]
    assert planned.module.forward(at) == pytest.approx(np.sum(expected ** 2)
                                                       + np.sum(np.sin(at)), rel=1e-14)


def test_an_operand_on_the_right_of_a_minus_gets_its_own_line():
    """NumPy reuses the temporary on the left of x - y**2, not on the right: on a line of
    its own the square is overwritten by the difference."""
    fn = _run_both("x: [N]\ny = sum(exp(x - x**2))", {"x": np.linspace(-1, 1, N)})
    assert re.search(r"(\w+) = x \*\* 2\n    \w+ = np\.subtract\(x, \1, out=\1\)", fn.source)


def test_an_operand_that_dies_inside_a_dot_is_overwritten_there():
    """(t - 1) @ x with t read last there: the difference goes into t's buffer."""
    text = "x: [N]\nt = exp(x)\nu = sum(t) * sum(sin(x))\nv = u + sum((t - 1) * x)"
    fn = _run_both(text, {"x": np.linspace(-1, 1, N)})
    assert re.search(r"(\w+) = np\.subtract\(t, 1\.0, out=t\)\n    v = .*\1 @ x",
                     fn.source.split("def forward")[1])


def test_a_slice_adjoint_is_written_into_its_array_only_in_the_same_dtype():
    """The adjoint of x[2:] goes straight into an array like x when it depends on x
    alone. With z in it, it may be float64 for a float32 x, so _unslice places it (in
    an array of the adjoint's dtype)."""
    alone = _run_both("x: [6]\na = slice(x, start=2)\ny = sum(exp(a * 3))",
                      {"x": np.linspace(-1, 1, 6, dtype=np.float32)})
    body = alone.source.split("def value_and_grad")[1]
    assert "_zeros_around(" in body and "_unslice(" not in body
    text = "x: [6]\nz: [4]\na = slice(x, start=2)\ny = sum(exp(a * z))"
    at = {"x": np.linspace(-1, 1, 6, dtype=np.float32), "z": np.linspace(0, 1, 4)}
    mixed = _run_both(text, at)
    assert "_zeros_around(" not in mixed.source.split("def value_and_grad")[1]
    value, grads = mixed.module.value_and_grad(at["x"], at["z"])
    assert grads["x"].dtype == np.float64
    assert np.array_equal(grads["x"][:2], [0, 0])


P6 = "x: [N]\nz: scalar\nm: scalar\nls: scalar\nu = (x - m) / exp(ls)\n" \
    "y = -sum(log(sigmoid(z) * exp(-0.5 * u**2) + 1))"


def test_inputs_brought_to_one_dtype_let_their_values_share_buffers():
    """x - m and exp(..) * sigmoid(z) depend on different inputs; in one dtype they may
    share buffers. With every input float64 nothing is converted (the same objects go
    in); mixed ones are computed in NumPy's common dtype."""
    fn = _run_both(P6, {"x": np.linspace(-1, 1, N), "z": np.float64(0.3), "m": 0.2,
                        "ls": np.float64(-0.1)})
    assert "_one_dtype(x, z, m, ls)" in fn.source and "_one_dtype" in fn.source.split('"""')[1]
    x = np.linspace(-1, 1, N)
    assert memory._one_dtype(x, 0.2)[0] is x
    at = {"x": np.linspace(-1, 1, N, dtype=np.float32), "z": np.float64(0.3), "m": 0.2,
          "ls": np.float32(-0.1)}
    value, grads = _run_both(P6, at).module.value_and_grad(*at.values())
    assert value.dtype == np.float64 and grads["x"].dtype == np.float64
    at32 = {**at, "z": np.float32(0.3)}  # the Python float follows the arrays' float32
    value, grads = fn.module.value_and_grad(*at32.values())
    assert value.dtype == np.float32 and grads["m"].dtype == np.float32


def test_int_arrays_are_refused_as_fn_refuses_them():
    """The module applies fn()'s input rule (issue 17): Python ints are floats, integer
    arrays are refused (computed, they would wrap around in int64)."""
    fn = gc.compile(gc.parse(P6))
    value, grads = fn.module.value_and_grad(np.arange(N) * 1.0, 1, 0, 0)
    want, want_grads = fn.module.value_and_grad(np.arange(N) * 1.0, 1.0, 0.0, 0.0)
    assert value == want and np.array_equal(grads["x"], want_grads["x"])
    with pytest.raises(TypeError, match="int64 is not a float dtype"):
        fn.module.value_and_grad(np.arange(N), 1, 0, 0)
    with pytest.raises(gc.InputError, match="int64 is not a float dtype"):
        fn(np.arange(N), 1, 0, 0)


def test_a_broadcast_python_float_keeps_float32():
    """d(cos(a) + 2a)/da = 2 - sin(a): the 2.0 is broadcast (_broadcast_like) as a
    float32 array, as NumPy's float32 - Python float stays float32; planned and
    unplanned code agree on dtype and bits."""
    at = {"a": np.linspace(-1, 1, 3 * N, dtype=np.float32).reshape(3, N)}
    for mode in ("reverse", "forward"):
        fn = _run_both("a: [3, N]\nv = cos(a) + (a + a)", at, mode=mode)
        assert fn.module.value_and_grad(at["a"])[1]["a"].dtype == np.float32


MIXTURE = (EXAMPLES / "mixture.gc").read_text()
MIXTURE_WRT = ["z", "m1", "m2", "ls1", "ls2"]
MIXTURE_AT = {"x": np.linspace(-3, 3, 20_000), "z": np.float64(-0.5), "m1": np.float64(-0.8),
              "m2": np.float64(1.7), "ls1": np.float64(-0.5), "ls2": np.float64(0.2)}


def _peak(fn: gc.CompiledFunction, at: dict) -> float:
    """The peak memory of a second call of the gradient, in arrays of ``x``'s size."""
    import tracemalloc

    fn.module.value_and_grad(*at.values())
    tracemalloc.start()
    fn.module.value_and_grad(*at.values())
    peak = tracemalloc.get_traced_memory()[1] / at["x"].nbytes
    tracemalloc.stop()
    return peak


def test_cheap_arrays_are_recomputed_when_that_keeps_fewer_alive():
    """The mixture's gradient reads x - m and (x - m)**2 again at the end, for both
    components; recomputing them there (two passes each, the square written over the
    difference) instead of keeping them keeps 4 arrays of N alive, as the hand-written
    gradient does, instead of 6. Colah's a + b is read again right away: nothing is
    recomputed."""
    fn = _run_both(MIXTURE, MIXTURE_AT, wrt=MIXTURE_WRT)
    assert fn.report()["values recomputed"] == 4
    assert fn.source.count("np.square(") == 2  # each difference squared in its buffer
    assert _peak(fn, MIXTURE_AT) <= 4.1
    colah = gc.compile(gc.parse("a: [N]\nb: [N]\ne = (a + b) * (b + 1)"))
    assert "values recomputed" not in colah.report()


def test_an_hvp_sums_early_and_makes_cheap_arrays_again():
    """The mixture's hvp: the sums over a component's values and tangents (``sum(a /
    p)``, ``-sum(...)``, ``(x - m) @ a``) run as soon as what they read is made, and
    ``x - m`` and its square are made again for the adjoint sweep that reads them long
    after the forward one: 9 buffers of N and a line's temporary alive at once, where
    the depth-first walk alone kept 15. H v is still the Hessian's."""
    import tracemalloc

    g = gc.parse(MIXTURE)
    fn = gc.hvp(g, wrt=MIXTURE_WRT)
    assert fn.source.count("(x, m1, out=") == fn.source.count("(x, m2, out=") == 1
    v = {w: np.float64(0.1 * (i + 1)) for i, w in enumerate(MIXTURE_WRT)}
    args = list(MIXTURE_AT.values())
    fn.module.hvp(*args, v=v)
    tracemalloc.start()
    _, _, hv = fn.module.hvp(*args, v=v)
    peak = tracemalloc.get_traced_memory()[1] / MIXTURE_AT["x"].nbytes
    tracemalloc.stop()
    assert peak <= 10.1
    h = gc.hessian(g, wrt=MIXTURE_WRT).module.hessian(*args)[2]
    for a in MIXTURE_WRT:
        want = sum(h[a][b] * v[b] for b in MIXTURE_WRT)
        assert abs(hv[a] - want) <= 1e-9 * max(1.0, abs(want))


def test_a_shorter_call_takes_the_first_rows_of_a_kept_array():
    """A block kernel's last block is shorter: it uses the front of the block's array
    instead of trading it for a new one (and back again on the next call)."""
    from graphc.backend import memory

    big = memory._kept("test.rows", np.ones(10))
    short = memory._kept("test.rows", np.ones(4))
    assert short.shape == (4,) and np.shares_memory(short, big)
    assert memory._kept("test.rows", np.ones(10)) is big
    longer = memory._kept("test.rows", np.ones(12))
    assert longer.shape == (12,) and not np.shares_memory(longer, big)
    assert memory._kept("test.rows", np.ones((4, 3))).shape == (4, 3)  # other rows: new
    assert memory._kept("test.rows", np.ones(4, np.float32)).dtype == np.float32


@pytest.mark.parametrize("text", ["x: [N]\ne = sum(relu(x) * x + leaky_relu(x, 0.1) * sin(x))",
                                  "x: [N]\ne = sum(abs(x))"])
def test_float32_through_relu_keeps_its_dtype(text):
    """np.where(x > 0.0, 1.0, 0.0) is a float64 array: planned, it went into a float32
    buffer while the unplanned code gave float64. Times an adjoint it becomes
    np.where(x > 0.0, g, g * 0.0), float32; alone (sum(abs(x))) it is
    _choose(x >= 0.0, 1.0, -1.0, x), in x's dtype (issue 17: it was float64), in
    both codes."""
    x = np.linspace(-1, 1.1, N, dtype=np.float32)
    fn = _run_both(text, {"x": x})
    assert fn(x=x)[1]["x"].dtype == np.float32
