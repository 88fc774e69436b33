"""gc.jacobian, gc.hessian, gc.hvp, gc.vjp, gc.jvp (graphc/derivatives.py) against
jax.jacfwd/jacrev, jax.hessian, jax.jvp/vjp: scalar and tensor programs, float32 and
float64, the saved module imported without graphc; forward mode over reverse mode
through the ops reverse mode introduces; bad input."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, cross, run_isolated
from hypothesis import given
from hypothesis import strategies as st
from strategies import Program, examples, programs

import graphc as gc

# name -> (declarations and y = ..., the same y in JAX: fn(jnp, *inputs in order))
PROGRAMS = {
    "mlp": ("x: [4, 3]\nW: [3, 2]\nb: [2]\ny = tanh(x @ W + b)",
            lambda jnp, x, W, b: jnp.tanh(x @ W + b)),
    "var": ("x: [5]\ny = mean((x - mean(x)) ** 2) * x",
            lambda jnp, x: jnp.mean((x - jnp.mean(x)) ** 2) * x),
    "mean keepdims": ("x: [3, 4]\ny = x - mean(x, axis=1, keepdims=True)",
                      lambda jnp, x: x - jnp.mean(x, axis=1, keepdims=True)),
    "softmax": ("z: [2, 3]\ny = softmax(z) * sum(z, axis=0)",
                lambda jnp, z: __import__("jax").nn.softmax(z) * jnp.sum(z, axis=0)),
    "slices": ("x: [6]\nw: [3]\ny = x[1:4] * w + x[:3]", lambda jnp, x, w: x[1:4] * w + x[:3]),
    "broadcast": ("a: [3, 1]\nb: [4]\ny = sin(a * b) + a", lambda jnp, a, b: jnp.sin(a * b) + a),
    "0-d": ("s: scalar\nx: [3]\ny = exp(s * x)", lambda jnp, s, x: jnp.exp(s * x)),
    "undeclared": ("y = a * b + sin(a)", lambda jnp, a, b: a * b + jnp.sin(a)),
    "scalar out": ("x: [3]\nA: [3, 3]\ny = log(sum(exp(A @ x)))",
                   lambda jnp, x, A: jnp.log(jnp.sum(jnp.exp(A @ x)))),
}
SCALAR = {  # losses, for Hessians: name -> (text with y = ..., JAX)
    "mlp": ("x: [4, 3]\nW: [3, 2]\nb: [2]\ny = sum(tanh(x @ W + b) ** 2)",
            lambda jnp, x, W, b: jnp.sum(jnp.tanh(x @ W + b) ** 2)),
    "var": ("x: [5]\ny = mean((x - mean(x)) ** 2)", lambda jnp, x: jnp.var(x)),
    "mean keepdims": ("x: [3, 4]\ny = sum((x - mean(x, axis=1, keepdims=True)) ** 3)",
                      lambda jnp, x: jnp.sum((x - jnp.mean(x, axis=1, keepdims=True)) ** 3)),
    "huber": ("p: [6]\nt: [6]\ny = huber(p * p, t)", lambda jnp, p, t: _huber(jnp, p * p, t)),
    "cross entropy": ("z: [2, 3]\nq: [2, 3]\ny = cross_entropy(z, q)",
                      lambda jnp, z, q: -jnp.sum(q * __import__("jax").nn.log_softmax(z)) / 2),
    "broadcast": ("a: [3, 1]\nb: [4]\ny = sum(sin(a * b) * a)",
                  lambda jnp, a, b: jnp.sum(jnp.sin(a * b) * a)),
    "0-d": ("s: scalar\nx: [3]\ny = sum(exp(s * x) * x)",
            lambda jnp, s, x: jnp.sum(jnp.exp(s * x) * x)),
}
DTYPES = {"f64": (np.float64, 1e-9), "f32": (np.float32, 2e-3)}


def _huber(jnp, a, b, delta=1.0):
    d = jnp.abs(a - b)
    return jnp.mean(jnp.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)))


def _values(g: gc.Graph, dtype=np.float64, seed: int = 0, shape=(2, 3)) -> dict:
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=g.shape(n) if g.attrs(n)["params"]["declared"] else shape)
            .astype(dtype) for n in g.inputs}


def _close(actual, expected, tol) -> None:
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def _jax_args(jax, at: dict):
    return [jax.numpy.asarray(v) for v in at.values()]


@cross(lambda name, mode, dtype:  # fast: each program in both modes in f64
       dtype == "f64" and (mode is not None or name == "mlp") or (name, mode) == ("var", None),
       name=list(PROGRAMS), mode=[None, "forward", "reverse"], dtype=list(DTYPES))
def test_jacobian_against_jax(jax, name, mode, dtype):
    text, fn = PROGRAMS[name]
    g = gc.parse(text)
    if name == "undeclared" and mode == "reverse":
        pytest.skip("reverse mode's stacked cotangents need declared shapes")
    dt, tol = DTYPES[dtype]
    at = _values(g, dt)
    value, jac = gc.jacobian(g, mode=mode)(**at)
    want = jax.jacrev(lambda *a: fn(jax.numpy, *a), argnums=tuple(range(len(at))))(
        *_jax_args(jax, at))
    _close(value, fn(jax.numpy, *_jax_args(jax, at)), tol)
    assert list(jac) == list(at)
    for n, w in zip(at, want):
        assert jac[n].dtype == dt
        _close(jac[n], np.asarray(w), tol)


@cross(lambda name, dtype: dtype == "f64" or name == "softmax",  # fast: each in one dtype
       name=list(PROGRAMS), dtype=list(DTYPES))
def test_vjp_and_jvp_against_jax(jax, name, dtype):
    text, fn = PROGRAMS[name]
    g = gc.parse(text)
    dt, tol = DTYPES[dtype]
    at = _values(g, dt)
    args = _jax_args(jax, at)
    value, pull = jax.vjp(lambda *a: fn(jax.numpy, *a), *args)
    rng = np.random.default_rng(1)
    y_bar = rng.normal(size=np.shape(value)).astype(dt)
    got_value, pulled = gc.vjp(g)(**at, y_bar=y_bar)
    _close(got_value, np.asarray(value), tol)
    for n, w in zip(at, pull(jax.numpy.asarray(y_bar))):
        _close(pulled[n], np.asarray(w), tol)
    x_dot = {n: rng.normal(size=np.shape(v)).astype(dt) for n, v in at.items()}
    _, want = jax.jvp(lambda *a: fn(jax.numpy, *a), tuple(args),
                      tuple(jax.numpy.asarray(x_dot[n]) for n in at))
    got_value, pushed = gc.jvp(g)(**at, x_dot=x_dot)
    _close(got_value, np.asarray(value), tol)
    _close(pushed, np.asarray(want), tol)


@cross(lambda name, dtype: (name, dtype) in (("var", "f32"), ("mean keepdims", "f64"),
                                             ("cross entropy", "f64"), ("0-d", "f64")),
       name=list(SCALAR), dtype=list(DTYPES))  # fast: four of them, f32 once
def test_hessian_and_hvp_against_jax(jax, name, dtype):
    text, fn = SCALAR[name]
    g = gc.parse(text)
    dt, tol = DTYPES[dtype]
    at = _values(g, dt)
    args = _jax_args(jax, at)
    f = lambda *a: fn(jax.numpy, *a)  # noqa: E731
    k = tuple(range(len(at)))
    value, grads, H = gc.hessian(g)(**at)
    want = jax.hessian(f, argnums=k)(*args)
    _close(value, np.asarray(f(*args)), tol)
    for i, a in enumerate(at):
        _close(grads[a], np.asarray(jax.grad(f, argnums=k)(*args)[i]), tol)
        for j, b in enumerate(at):
            assert H[a][b].shape == np.shape(at[a]) + np.shape(at[b])
            _close(H[a][b], np.asarray(want[i][j]), tol)
            flat = H[a][b].reshape(np.size(at[a]), np.size(at[b]))  # exactly symmetric
            assert np.array_equal(flat, H[b][a].reshape(np.size(at[b]), np.size(at[a])).T)
    rng = np.random.default_rng(2)
    v = {n: rng.normal(size=np.shape(x)).astype(dt) for n, x in at.items()}
    _, _, hv = gc.hvp(g)(**at, v=v)
    for a in at:  # hvp(v) == H @ v
        total = sum(H[a][b].reshape(np.size(at[a]), -1) @ v[b].reshape(-1) for b in at)
        _close(hv[a], total.reshape(np.shape(at[a])), tol)


# losses whose HVP runs one direction without a direction axis: slices (Rosenbrock),
# scalar parameters spread over an array (a mixture), and through a matmul (stacked
# locally, squeezed): name -> (text, JAX, whether the emitted hvp stacks a tangent)
ONE_DIRECTION = {
    "rosenbrock": ("x: [7]\nxs = x[:-1]\nf = sum(100 * (x[1:] - xs**2)**2 + (1 - xs)**2)",
                   lambda jnp, x: jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2
                                          + (1 - x[:-1]) ** 2), False),
    "mixture": ("x: [9]\nm: scalar\nls: scalar\nz: scalar\n"
                "f = -sum(log(sigmoid(z) * exp(-0.5 * ((x - m) / exp(ls))**2) + 0.1))",
                lambda jnp, x, m, ls, z: -jnp.sum(jnp.log(
                    __import__("jax").nn.sigmoid(z)
                    * jnp.exp(-0.5 * ((x - m) / jnp.exp(ls)) ** 2) + 0.1)), False),
    "mlp": SCALAR["mlp"] + (True,),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ONE_DIRECTION)
def test_hvp_one_direction_against_jax(jax, name, dtype):
    """gc.hvp and gc.jvp carry one direction with the values' own shapes, against
    jax.jvp(jax.grad(f)) and jax.jvp; the hvp of slices and sums lifts no tangent
    (no leading axis, no _spread/_lift), a matmul's is stacked around it alone."""
    text, fn, stacked = ONE_DIRECTION[name]
    g = gc.parse(text)
    dt, tol = DTYPES[dtype]
    at = {n: x * 0.5 for n, x in _values(g, dt).items()}
    rng = np.random.default_rng(4)
    v = {n: rng.normal(size=np.shape(x)).astype(dt) for n, x in at.items()}
    f = lambda *a: fn(jax.numpy, *a)  # noqa: E731
    args, vs = tuple(_jax_args(jax, at)), tuple(_jax_args(jax, v))
    want = jax.jvp(jax.grad(f, argnums=tuple(range(len(at)))), args, vs)[1]
    hvp = gc.hvp(g)
    value, _, hv = hvp(**at, v=v)
    _close(value, np.asarray(f(*args)), tol)
    for n, w in zip(at, want):
        assert hv[n].dtype == dt
        _close(hv[n], np.asarray(w), tol)
    jvp = gc.jvp(g)
    _close(jvp(**at, x_dot=v)[1], np.asarray(jax.jvp(f, args, vs)[1]), tol)
    assert "_spread(" not in hvp.source and "_lift(" not in hvp.source
    assert ("np.expand_dims(" in hvp.source) == stacked


def test_forward_mode_over_reverse_mode_through_sum_to_and_broadcast_like(jax):
    """The gradient graph of var and a mean with keepdims reads broadcast_like and
    sum_to; forward mode through them gives the Hessian times v."""
    for name in ("var", "mean keepdims", "mlp", "cross entropy"):
        text, fn = SCALAR[name]
        g = gc.parse(text)
        w = g.inputs[0]
        again = gc.compile(g, wrt=[w]).grad_graph.copy()
        again.add_input("v", g.shape(w), declared=True)
        again.add("sum", (again.add("mul", (again.outputs[1], "v")),), name="h")
        at = _values(g)
        v = np.random.default_rng(3).normal(size=g.shape(w))
        _, got = gc.compile(again, of="h", wrt=[w], mode="forward")(**at, v=v)
        x, *rest = _jax_args(jax, at)
        want = jax.jvp(jax.grad(lambda x, fn=fn, rest=rest: fn(jax.numpy, x, *rest)), (x,),
                       (jax.numpy.asarray(v),))[1]
        _close(got[w], np.asarray(want), 1e-9)


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert np.array_equal(a, b)


def test_saved_modules_run_without_graphc(tmp_path):
    g, s = gc.parse(PROGRAMS["mlp"][0]), gc.parse(SCALAR["mlp"][0])
    at = _values(g)
    ones = {k: np.ones(np.shape(x)) for k, x in at.items()}
    made = {"jacobian": (gc.jacobian(g), {}), "vjp": (gc.vjp(g), {"y_bar": np.ones((4, 2))}),
            "jvp": (gc.jvp(g), {"x_dot": ones}), "hessian": (gc.hessian(s), {}),
            "hvp": (gc.hvp(s), {"v": ones})}
    for name, (fn, extra) in made.items():
        fn.save(tmp_path / f"{name}_mod.py")
        with open(tmp_path / f"{name}_in.pkl", "wb") as f:
            pickle.dump({**at, **extra}, f)
        script = (f"import pickle, sys\nsys.path.insert(0, '.')\nfrom {name}_mod import {name}\n"
                  f"got = {name}(**pickle.load(open('{name}_in.pkl', 'rb')))\n"
                  f"pickle.dump(got, open('{name}_out.pkl', 'wb'))\n"
                  "assert 'graphc' not in sys.modules\n")
        result = run_isolated(script, tmp_path)
        assert result.returncode == 0, result.stderr
        with open(tmp_path / f"{name}_out.pkl", "rb") as f:
            _same(pickle.load(f), fn(**at, **extra))
        assert f"def {name}(" in fn.source


def test_bad_arguments_are_input_errors():
    g = gc.parse(PROGRAMS["mlp"][0])
    at = _values(g)
    with pytest.raises(gc.InputError, match="y_bar"):
        gc.vjp(g)(**at, y_bar=np.ones((4, 3)))
    with pytest.raises(gc.InputError, match="missing argument y_bar"):
        gc.vjp(g)(**at)
    with pytest.raises(gc.InputError, match=r"x_dot\['W'\] has shape"):
        gc.jvp(g)(**at, x_dot={"x": np.ones((4, 3)), "W": np.ones(2), "b": np.ones(2)})
    with pytest.raises(gc.InputError, match="x_dot: missing b"):
        gc.jvp(g)(**at, x_dot={"x": np.ones((4, 3)), "W": np.ones((3, 2))})
    s = gc.parse(SCALAR["mlp"][0])
    with pytest.raises(gc.InputError, match="v: expected a dict"):
        gc.hvp(s)(**at, v=np.ones(3))
    u = gc.parse("y = a * b")  # undeclared: the cotangent is checked against the value
    with pytest.raises(gc.InputError, match="y_bar has shape"):
        gc.vjp(u)(a=np.ones(3), b=np.ones(3), y_bar=np.ones((2, 3)))
    with pytest.raises(gc.InputError, match=r"x_dot\['a'\] has shape"):
        gc.jvp(u)(a=np.ones(3), b=2.0, x_dot={"a": np.ones(4), "b": 1.0})
    with pytest.raises(gc.GraphcError, match=r"needs declared shapes.*mode='forward'"):
        gc.jacobian(u, mode="reverse")  # stacked cotangents through sum_to
    with pytest.raises(gc.GraphcError, match="known only at call time"):
        gc.hessian(u)


def test_hessian_of_a_vector_and_jacobian_off_the_path():
    g = gc.parse(PROGRAMS["mlp"][0])
    with pytest.raises(gc.GraphcError, match="not a scalar"):
        gc.hessian(g)
    with pytest.raises(gc.GraphcError, match="not a scalar"):
        gc.hvp(g)
    h = gc.parse("x: [3]\nz: [2, 2]\ny = sin(x) * 2.0")
    for mode in ("forward", "reverse"):
        _, jac = gc.jacobian(h, mode=mode)(x=np.ones(3), z=np.ones((2, 2)))
        assert jac["z"].shape == (3, 2, 2) and not jac["z"].any()
        np.testing.assert_allclose(jac["x"], np.diag(2 * np.cos(np.ones(3))))
    with pytest.raises(gc.GraphcError, match="mode="):
        gc.jacobian(h, mode="sideways")
    _, _, H = gc.hessian(gc.parse("x: [3]\ny = prod(x)"))(x=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(H["x"]["x"], [[0, 3, 2], [3, 0, 1], [2, 1, 0]])
    c = gc.parse("x: [3]\ny = sum(cumprod(x, axis=0))")  # its rule has no derivative in x
    with pytest.raises(gc.GraphcError, match="cumprod's second derivative .* not supported"):
        gc.hessian(c)
    _, jac = gc.jacobian(gc.parse("x: [3]\ny = cumprod(x, axis=0)"), mode="reverse")(
        x=np.array([1.0, 2.0, 3.0]))  # the rule is linear in the cotangent: fine
    np.testing.assert_allclose(jac["x"], [[1, 0, 0], [2, 1, 0], [6, 3, 2]])


@examples(12)
@given(p=programs(free=False), mode=st.sampled_from(["forward", "reverse"]),
       seed=st.integers(0, 2**16))
def test_random_tensor_programs_jacobian_vjp_jvp_match_jax(jax, p: Program, mode, seed):
    """Random programs of the whole tensor vocabulary (tests/strategies.py), declared
    inputs: the Jacobian in either mode, the vjp and the jvp against JAX's."""
    jnp = jax.numpy
    g = gc.parse(p.text())
    values = p.values(seed)
    args = [jnp.asarray(values[i.name]) for i in p.inputs]
    f = p.jax_fn(jnp, jax)
    k = tuple(range(len(args)))
    what = f"{mode}\n{p.text()}"
    value, jac = gc.jacobian(g, mode=mode)(**values)
    np.testing.assert_allclose(value, np.asarray(f(*args)), rtol=1e-9, atol=1e-11, err_msg=what)
    for i, want in zip(p.inputs, jax.jacrev(f, argnums=k)(*args)):
        assert jac[i.name].shape == np.shape(want), what
        np.testing.assert_allclose(jac[i.name], np.asarray(want), rtol=1e-9, atol=1e-11,
                                   err_msg=f"d/d{i.name}: {what}")
    rng = np.random.default_rng(seed)
    y_bar = rng.normal(size=np.shape(value))
    _, pulled = gc.vjp(g)(**values, y_bar=y_bar)
    for i, want in zip(p.inputs, jax.vjp(f, *args)[1](jnp.asarray(y_bar))):
        np.testing.assert_allclose(pulled[i.name], np.asarray(want), rtol=1e-9, atol=1e-11,
                                   err_msg=f"vjp {i.name}: {what}")
    x_dot = {i.name: rng.normal(size=np.shape(values[i.name])) for i in p.inputs}
    _, pushed = gc.jvp(g)(**values, x_dot=x_dot)
    want = jax.jvp(f, tuple(args), tuple(jnp.asarray(x_dot[i.name]) for i in p.inputs))[1]
    np.testing.assert_allclose(pushed, np.asarray(want), rtol=1e-9, atol=1e-11,
                               err_msg=f"jvp: {what}")


def test_no_silent_sum():
    """A non-scalar output that is not elementwise: compile names the ways out; an
    elementwise one keeps the per-element seed; a shape known at call time is checked
    then (fn() raises), and a scalar then passes."""
    with pytest.raises(gc.GraphcError, match=r"y is not a scalar \(shape \[2\]\).*matmul.*"
                       r"sum\(y\).*gc\.jacobian.*gc\.vjp"):
        gc.compile(gc.parse("x: [3]\nW: [3, 2]\ny = tanh(x @ W)"))
    for mode in ("reverse", "forward"):
        _, grads = gc.compile(gc.parse("x: [3]\ny = sin(x) * 2.0"), mode=mode)(x=np.ones(3))
        np.testing.assert_allclose(grads["x"], 2 * np.cos(np.ones(3)))
    g = gc.parse("y = sum(a * b) + a")
    fn = gc.compile(g)
    assert fn(a=3.0, b=np.ones(4))[1]["a"] == 5.0
    with pytest.raises(gc.InputError, match="y is not a scalar"):
        fn(a=np.ones((2, 1)), b=np.ones(4))
    with pytest.raises(ValueError, match=r"y is not a scalar \(shape \(2, 1\)\)"):
        fn.module.value_and_grad(np.ones((2, 1)), np.ones(4))  # the saved module's check
    # a graph elementwise in the inputs differentiated: y = x * sum(c) in x alone
    c = gc.parse("x: [3]\nc: [2]\ny = x * sum(c)")
    _, grads = gc.compile(c, wrt="x")(x=np.ones(3), c=np.ones(2))
    np.testing.assert_array_equal(grads["x"], [2.0, 2.0, 2.0])
    with pytest.raises(gc.GraphcError, match="not elementwise in x, c"):
        gc.compile(c)


def test_argument_names_taken_by_an_input():
    with pytest.raises(gc.GraphcError, match="input 'y_bar' has the name"):
        gc.vjp(gc.parse("y = y_bar * 2"))
    with pytest.raises(gc.GraphcError, match="input 'v' has the name"):
        gc.hvp(gc.parse("v: [2]\ny = sum(v * v)"))
    g = gc.parse("x: [2]\ny_bar = x * 2\ny = y_bar * x")  # a node, not an input, named y_bar
    value, pulled = gc.vjp(g)(x=np.ones(2), y_bar=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(pulled["x"], [4.0, 8.0])


@examples(8)
@given(p=programs(free=False), seed=st.integers(0, 2**16))
def test_random_tensor_programs_hessian_and_hvp_match_jax(jax, p: Program, seed):
    """The Hessian of sum(output) of random programs against jax.hessian: symmetric,
    and hvp(v) == H v. prod's and cumprod's second derivatives are refused, named."""
    jnp = jax.numpy
    g = gc.parse(p.text() + f"\nL = sum({p.out})")
    values = p.values(seed)
    args = [jnp.asarray(values[i.name]) for i in p.inputs]
    f = p.jax_fn(jnp, jax)
    names = [i.name for i in p.inputs]
    what = p.text()
    try:
        _, grads, H = gc.hessian(g)(**values)
    except gc.GraphcError as exc:
        assert "second derivative" in str(exc) and ("prod" in what), what
        return
    want = jax.hessian(lambda *a: jnp.sum(f(*a)), argnums=tuple(range(len(args))))(*args)
    rng = np.random.default_rng(seed)
    v = {n: rng.normal(size=np.shape(values[n])) for n in names}
    _, _, hv = gc.hvp(g)(**values, v=v)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            np.testing.assert_allclose(H[a][b], np.asarray(want[i][j]), rtol=1e-8, atol=1e-10,
                                       err_msg=f"H[{a}][{b}]: {what}")
        total = sum(H[a][b].reshape(np.size(values[a]), -1) @ v[b].reshape(-1) for b in names)
        np.testing.assert_allclose(hv[a], np.reshape(total, np.shape(values[a])), rtol=1e-8,
                                   atol=1e-10, err_msg=f"hvp {a}: {what}")


def test_cli_compiles_each_derivative(tmp_path, cli):
    """graphc compile FILE --jacobian | --hessian | --hvp | --vjp | --jvp prints the
    module gc.<name> emits; one at a time, numpy only; a non-scalar output's gradient
    is refused with exit status 2 and the ways out."""
    (tmp_path / "f.gc").write_text("x: [3]\nW: [3, 2]\ny = sum(tanh(x @ W) ** 2)\n")
    (tmp_path / "v.gc").write_text("x: [3]\nW: [3, 2]\ny = tanh(x @ W)\n")
    g, v = gc.load(tmp_path / "f.gc"), gc.load(tmp_path / "v.gc")
    for name in ("jacobian", "hessian", "hvp", "vjp", "jvp"):
        proc = cli("compile", "f.gc", f"--{name}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == getattr(gc, name)(g).source and f"def {name}(" in proc.stdout
    proc = cli("compile", "v.gc", "--jacobian", "--mode", "forward", "--wrt", "W", cwd=tmp_path)
    assert proc.stdout == gc.jacobian(v, wrt="W", mode="forward").source
    assert cli("compile", "f.gc", "--hvp", "--vjp", cwd=tmp_path).returncode == 2
    proc = cli("compile", "f.gc", "--hessian", "--backend", "blocks", cwd=tmp_path)
    assert proc.returncode == 2 and "numpy backend only" in proc.stderr
    proc = cli("compile", "v.gc", cwd=tmp_path)
    assert proc.returncode == 2 and "gc.jacobian" in proc.stderr


@pytest.fixture(scope="module")
def example_modules():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import newton_logistic
        import rosenbrock_trust
    finally:
        sys.path.pop(0)
    return newton_logistic, rosenbrock_trust


def test_newton_logistic_regression_converges_quadratically(example_modules, jax):
    """examples/newton_logistic.py: the generated Hessian is JAX's, and Newton's method
    reaches a gradient below 1e-12 in a handful of steps, each squaring the last."""
    newton_logistic, _ = example_modules
    X, y = newton_logistic.data()  # noqa: N806
    w, norms = newton_logistic.newton(X, y)
    assert norms[-1] < 1e-12 and len(norms) <= 8
    assert norms[-2] < 1e-4 and norms[-1] < 10 * norms[-2] ** 2  # quadratic at the end
    jnp = jax.numpy

    def loss(w):
        z = jnp.asarray(X) @ w
        return jnp.mean(jax.nn.softplus(z) - jnp.asarray(y) * z) + 0.005 * jnp.sum(w * w)
    _, _, H = gc.hessian(newton_logistic.LOSS, wrt="w")(X=X, y=y, w=w)
    np.testing.assert_allclose(H["w"]["w"], np.asarray(jax.hessian(loss)(jnp.asarray(w))),
                               rtol=1e-10, atol=1e-12)
    assert np.linalg.norm(np.asarray(jax.grad(loss)(jnp.asarray(w)))) < 1e-11


def test_rosenbrock_trust_exact_reaches_the_minimum(example_modules, capsys):
    """examples/rosenbrock_trust.py: scipy's trust-exact with graphc's jac and hess."""
    _, rosenbrock_trust = example_modules
    result = rosenbrock_trust.solve()
    assert result.success and result.fun < 1e-12
    np.testing.assert_allclose(result.x, np.ones(10), atol=1e-6)
    rosenbrock_trust.main()
    assert "x = [1. 1. 1." in capsys.readouterr().out


def test_verify_order_2_compares_the_hessian_four_ways():
    """gc.verify(g, at, order=2): forward over reverse, reverse over reverse, finite
    differences of the gradient and sympy.diff twice agree; each is there."""
    g = gc.parse("a: scalar\nb: scalar\ny = a * b ** 2 + sin(a * b)")
    rep = gc.verify(g, {"a": 0.7, "b": -1.3}, order=2)
    assert rep.ok and rep.sympy is not None and rep.reverse_over_reverse is not None
    a, b = 0.7, -1.3
    np.testing.assert_allclose(rep.forward_over_reverse["a"]["b"],
                               2 * b + np.cos(a * b) - a * b * np.sin(a * b), rtol=1e-12)
    assert "H[a][b]" in str(rep) and "all methods agree" in str(rep)
    t = gc.parse("x: [3]\nW: [3, 2]\ny = sum(tanh(x @ W) ** 2)")
    rep = gc.verify(t, {"x": np.full(3, 0.3), "W": np.arange(6.0).reshape(3, 2) / 10}, order=2)
    assert rep.ok and rep.sympy is None and rep.finite_difference["W"]["x"].shape == (3, 2, 3)
    with pytest.raises(gc.GraphcError, match="order=3"):
        gc.verify(t, {"x": np.ones(3), "W": np.ones((3, 2))}, order=3)


def test_cli_eval_prints_the_hessian(tmp_path, cli):
    (tmp_path / "f.gc").write_text("a: scalar\nb: scalar\ny = a * b ** 2\n")
    proc = cli("eval", "f.gc", "--at", "a=2,b=3", "--hessian", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for line in ("dy/da = 9", "d2y/dada = 0", "d2y/dadb = 6", "d2y/dbda = 6", "d2y/dbdb = 4"):
        assert line in proc.stdout, proc.stdout
    assert "d2y" not in cli("eval", "f.gc", "--at", "a=2,b=3", cwd=tmp_path).stdout
