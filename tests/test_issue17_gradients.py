"""Regressions of issue 17 in autodiff and the graph: each failed on the code before.

- A value used inside and outside a reduction, beside inputs of other shapes: its
  contributions were added before being summed to its shape (``sum(a*b) + a``: 14, not 11).
- cross_entropy with labels [N, 1] in forward mode weighted the softmax by the labels'
  own row sums, not those of the labels broadcast over the classes.
- ``Graph.order()`` trusted a cache keyed on node and edge counts.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_close, cross
from strategies import OPTIONS

import graphc as gc

B = np.array([1.0, 2.0, 3.0, 4.0])
MIXED = [  # text, a, b, the JAX program
    ("y = sum(a * b) + a", 3.0, B, lambda jnp, a, b: jnp.sum(a * b) + a),
    ("y = sum(a * b) + sum(sin(a))", 3.0, B,
     lambda jnp, a, b: jnp.sum(a * b) + jnp.sum(jnp.sin(a))),
    ("y = mean(a * b) + mean(a)", 3.0, B, lambda jnp, a, b: jnp.mean(a * b) + jnp.mean(a)),
    ("y = sum(a * b) + a", np.array(3.0), B, lambda jnp, a, b: jnp.sum(a * b) + a),
    ("y = sum(sum(a * b) + a)", np.array([[1.0], [2.0], [3.0]]), np.arange(12.0).reshape(3, 4),
     lambda jnp, a, b: jnp.sum(a * b) + a),
    ("y = sum(mean(a * b) * a - sum(tanh(b)))", np.array([[0.5], [2.0], [-1.0]]),
     np.linspace(-1, 1, 12).reshape(3, 4),
     lambda jnp, a, b: jnp.mean(a * b) * a - jnp.sum(jnp.tanh(b))),
    ("a: scalar\ny = sum(a * b) + a", 3.0, B, lambda jnp, a, b: jnp.sum(a * b) + a),
    ("b: [4]\ny = sum(a * b) + a", 3.0, B, lambda jnp, a, b: jnp.sum(a * b) + a),
    ("y = sum(sum(a * b) * b + a * c)", 3.0, B, lambda jnp, a, b: jnp.sum(a * b) * b + a * 0.5),
    ("a: scalar\nb: [4]\ny = sum(a * b) + a", 3.0, B, lambda jnp, a, b: jnp.sum(a * b) + a),
    ("a: [3, 1]\nb: [3, 4]\ny = sum(sum(a * b) + a)", np.array([[1.0], [2.0], [3.0]]),
     np.arange(12.0).reshape(3, 4), lambda jnp, a, b: jnp.sum(a * b) + a),
]


def _jax_grads(jax, f, a, b):
    import jax.numpy as jnp

    return jax.grad(lambda a, b: jnp.sum(f(jnp, a, b)), argnums=(0, 1))(a, b)


@pytest.mark.parametrize("case", range(len(MIXED)))
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in
                                                                    o.items()))
def test_an_input_inside_and_outside_a_reduction(jax, case, options, mode):
    text, a, b, f = MIXED[case]
    g = gc.parse(text)
    at = {"a": a, "b": b} | ({"c": 0.5} if "c" in g.inputs else {})
    if mode == "forward" and not all(g.attrs(i)["params"]["declared"] for i in g.inputs):
        with pytest.raises(gc.GraphcError, match="needs declared shapes"):
            gc.compile(g, mode=mode, **options)
        return
    _, grads = gc.compile(g, mode=mode, **options)(**at)
    da, db = _jax_grads(jax, f, np.asarray(a, dtype=float), b)
    assert_close(grads["a"], np.asarray(da), what="a")
    assert_close(grads["b"], np.asarray(db), what="b")


def test_eval_prints_the_right_gradient(tmp_path, cli):
    (tmp_path / "y.gc").write_text("y = sum(a * b) + a\n")
    out = cli("eval", "y.gc", "--at", "a=3,b=2", cwd=tmp_path).stdout
    assert "dy/da = 3" in out  # b a scalar: d(a*b + a)/da = b + 1
    fn = gc.compile(gc.load(tmp_path / "y.gc"))
    assert fn(a=3.0, b=B)[1]["a"] == 11.0
    assert gc.verify(gc.load(tmp_path / "y.gc"), {"a": 3.0, "b": B}).ok


def test_the_saved_module_gives_the_right_gradient(tmp_path):
    fn = gc.compile(gc.parse("y = sum(a * b) + sum(sin(a))"))
    fn.save(tmp_path / "m.py")
    import importlib.util

    spec = importlib.util.spec_from_file_location("m17", tmp_path / "m.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _, grads = module.value_and_grad(3.0, B)
    assert grads["a"] == pytest.approx(10.0 + np.cos(3.0))


# ---- cross_entropy with labels that broadcast over the classes ---------------------
LABELS = {
    "[N, 1]": np.array([[0.3], [1.0], [0.6]]),
    "[1, C]": np.array([[0.2, 0.5, 0.1, 0.2]]),
    "[N, C]": np.array([[0.2, 0.5, 0.1, 0.2], [0, 0, 1, 0], [0.25, 0.25, 0.25, 0.25]]),
}


@pytest.mark.parametrize("labels", sorted(LABELS))
@pytest.mark.parametrize("optimize", [True, False])
def test_cross_entropy_with_broadcast_labels_matches_jax(jax, labels, mode, optimize):
    import jax.numpy as jnp

    lab = LABELS[labels]
    shape = "[3, 1]" if labels == "[N, 1]" else "[1, 4]" if labels == "[1, C]" else "[3, 4]"
    g = gc.parse(f"z: [3, 4]\nl: {shape}\nloss = cross_entropy(sin(z) * 2, l)")
    z = np.linspace(-2, 2, 12).reshape(3, 4)
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(z=z, l=lab)

    def loss(z, lab):
        return -jnp.sum(lab * jax.nn.log_softmax(jnp.sin(z) * 2, axis=-1)) / 3
    dz, dl = jax.grad(loss, argnums=(0, 1))(z, lab)
    assert value == pytest.approx(float(loss(z, lab)), rel=1e-12)
    assert_close(grads["z"], np.asarray(dz), what="z")
    assert_close(grads["l"], np.asarray(dl), what="l")
    dirs = (np.cos(np.arange(12.0)).reshape(3, 4), np.sin(np.arange(lab.size)).reshape(lab.shape))
    _, dot = jax.jvp(loss, (z, lab), dirs)
    assert float(np.sum(grads["z"] * dirs[0]) + np.sum(grads["l"] * dirs[1])) == \
        pytest.approx(float(dot), rel=1e-10)


# ---- backend="numba" with an array input no output reads ------------------------------
@pytest.mark.slow  # numba compiles the loop
def test_numba_with_an_array_input_that_reaches_no_output():
    """Regression: the forward function's loop had no body (an IndentationError)."""
    g = gc.parse("x1: scalar\nv1 = sin(x2)\nv2 = sin(x1)\n")
    value, grads = gc.compile(g, backend="numba")(x1=0.5, x2=np.ones(20_000))
    assert value == pytest.approx(np.sin(0.5))
    assert not np.any(grads["x2"]) and grads["x2"].shape == (20_000,)



# ---- Graph.order() is never stale -----------------------------------------------------
def _topological(g: gc.Graph, order: list[str]) -> bool:
    place = {n: k for k, n in enumerate(order)}
    return sorted(order) == sorted(g.nx) and all(place[u] < place[v] for u, v in g.nx.edges)


@pytest.mark.parametrize("edit", ["edge", "edges_from", "node", "relabel", "copy"])
def test_order_follows_every_edit_of_the_networkx_graph(edit):
    """Regression: the cache was keyed on node and edge counts, so an edge removed and
    another added (same counts) left a non-topological order."""
    import networkx as nx

    g = gc.load(gc_examples() / "colah.gc")
    assert _topological(g, g.order())
    if edit == "edge":
        g.nx.remove_edge("c", "e")
        g.nx.add_edge("e", "c")
    elif edit == "edges_from":
        g.nx.remove_edges_from([("c", "e")])
        g.nx.add_edges_from([("e", "c")])
    elif edit == "node":  # one node out, one in: the same counts again
        g.nx.remove_node("c")
        g.nx.add_node("z")
        g.nx.add_edge("e", "z")
        g.nx.add_edge("a", "e")
    elif edit == "relabel":
        nx.relabel_nodes(g.nx, {"c": "zz"}, copy=False)
        g.nx.remove_edge("zz", "e")
        g.nx.add_edge("e", "zz")
    else:
        g = g.copy()
        g.order()
        g.nx.remove_edge("c", "e")
        g.nx.add_edge("e", "c")
    assert _topological(g, g.order())


def test_order_after_graph_edits_stays_a_topological_order():
    """add, rename and remove keep the cached order; an edit of g.nx between them drops
    it (e stops reading c2 and a new node t, made from e, feeds c2 instead)."""
    g = gc.parse("c = a + b\nd = b + 1\ne = c * d")
    g.order()
    g.rename("c", "c2")
    t = g.add("sin", ("e",))
    assert _topological(g, g.order())
    g.nx.remove_edge("c2", "e")
    g.nx.add_edge(t, "c2")
    assert _topological(g, g.order())
    g.nx.remove_edge(t, "c2")
    g.remove([t])
    g.rename("d", "d2")
    assert _topological(g, g.order()) and "d2" in g.order()


def gc_examples():
    from conftest import EXAMPLES

    return EXAMPLES


# ---- forward mode's unit directions take their dtype from the input's dtype alone ----
@pytest.mark.parametrize("value", [2.0, np.float64(2.0), np.array(2.0), np.float32(2.0)],
                         ids=["float", "np.float64", "0-d", "np.float32"])
def test_forward_mode_directions_have_the_input_dtype(value):
    """Regression (NumPy 1.x): _basis promoted by value, so a float64 scalar's
    directions, and its gradient, were float32."""
    fn = gc.compile(gc.parse("a: scalar\ny = sum(sin(a))"), mode="forward")
    want = np.float32 if isinstance(value, np.float32) else np.float64
    from graphc.ops.directions import _basis

    assert _basis(value).dtype == want
    assert np.asarray(fn(value)[1]["a"]).dtype == want


# ---- forward mode: stacked tangents meeting values of undeclared inputs --------------
STACKED_MEETS_FREE = [
    ("x1: scalar\nv1 = sin(x1)\nv3 = sum(v1)\ny = v3 + x0", 0.3, np.array([1.0, 2, 3]),
     lambda jnp, jax, x1, x0: jnp.sum(jnp.sin(x1)) + x0),
    ("x1: [3]\nv3 = sum(sin(x1))\ny = v3 * x0 + x1", np.array([0.1, 0.2, 0.3]),
     np.arange(6.0).reshape(2, 3), lambda jnp, jax, x1, x0: jnp.sum(jnp.sin(x1)) * x0 + x1),
    ("x1: [3]\nv3 = sum(sin(x1))\ny = v3 * x0 + x1", np.array([0.1, 0.2, 0.3]), 2.0,
     lambda jnp, jax, x1, x0: jnp.sum(jnp.sin(x1)) * x0 + x1),
    ("x1: [2, 1]\nv3 = softmax(x1, axis=0)\ny = tanh(v3 * x0) + x1", np.array([[0.1], [0.5]]),
     np.arange(6.0).reshape(2, 3),
     lambda jnp, jax, x1, x0: jnp.tanh(jax.nn.softmax(x1, axis=0) * x0) + x1),
]


@pytest.mark.parametrize("case", range(len(STACKED_MEETS_FREE)))
def test_forward_mode_directions_meeting_an_undeclared_input(jax, case):
    """Regression: the direction-stacked tangent of x1 was not spread over the shape an
    undeclared input gave the sum's reader at call time (sum(sin(x1)) + x0 counted one
    element of x0, not three). y is not a scalar (compile refuses its gradient, a
    silent sum): its forward-mode Jacobian, whose tangents are stacked the same way."""
    import jax.numpy as jnp

    text, x1, x0, f = STACKED_MEETS_FREE[case]
    g = gc.parse(text)
    with pytest.raises(gc.InputError, match="not a scalar"):
        gc.compile(g, mode="forward")(x1=x1, x0=x0)
    _, jac = gc.jacobian(g, mode="forward")(x1=x1, x0=x0)
    want = jax.jacfwd(lambda a, b: f(jnp, jax, a, b), argnums=(0, 1))(x1, x0)
    assert_close(jac["x1"], np.asarray(want[0]), what="x1")
    assert_close(jac["x0"], np.asarray(want[1]), what="x0")


# ---- reductions along an axis of a value an undeclared input broadcast ---------------
W3 = np.array([0.1, 0.2, 0.3])
AXIS_OF_FREE = [
    ("w: [3]\ny = logsumexp(x * w)",
     lambda jnp, jax, x, w: jax.scipy.special.logsumexp(x * w, axis=-1)),
    ("w: [3]\ny = mean(x * w, axis=-1)", lambda jnp, jax, x, w: jnp.mean(x * w, axis=-1)),
    ("w: [3]\ny = sum(x * w, axis=0)", lambda jnp, jax, x, w: jnp.sum(x * w, axis=0)),
    ("w: [3]\ny = sum(mean(x * w, axis=0) * w)",
     lambda jnp, jax, x, w: jnp.sum(jnp.mean(x * w, axis=0) * w)),
    ("w: [3]\ny = sum(softmax(x * w) * w)",
     lambda jnp, jax, x, w: jnp.sum(jax.nn.softmax(x * w, axis=-1) * w)),
    ("w: [3]\ny = (x * w) @ w", lambda jnp, jax, x, w: (x * w) @ w),
    ("w: [3]\ny = sum(tanh((x * w) @ (w * w + ones)))",
     lambda jnp, jax, x, w: jnp.sum(jnp.tanh((x * w) @ (w * w + MATRIX)))),
]
MATRIX = np.arange(9.0).reshape(3, 3) / 10


@cross(lambda case, x: case == 0 or np.shape(x) == (2, 3),  # fast: each case at (2, 3)
       case=list(range(len(AXIS_OF_FREE))),
       x={"0-d": 2.0, "(2,1)": np.array([[1.0], [2.0]]), "(2,3)": np.arange(6.0).reshape(2, 3)})
def test_reductions_along_an_axis_of_an_undeclared_inputs_value(jax, case, x):
    """Regression: the adjoint of a reduction along axis -1 put the axis back where the
    static shape (3,) has it (axis 0), not where the array (2, 3) had it, and @ took
    the vector rule for what is a matrix at call time: NumPy's ValueError for
    logsumexp(x * w), mean(x * w, axis=-1), (x * w) @ m."""
    import jax.numpy as jnp

    text, f = AXIS_OF_FREE[case]
    text = text.replace("ones", "m").replace("w: [3]", "w: [3]\nm: [3, 3]")
    extra = {"m": MATRIX} if "m:" in text else {}
    text += "\nL = sum(y)"  # y is a scalar only where x is: its sum's gradient
    for optimize in (True, False):
        value, grads = gc.compile(gc.parse(text), optimize=optimize)(x=x, w=W3, **extra)
        want = jax.grad(lambda a, b: jnp.sum(f(jnp, jax, a, b)), argnums=(0, 1))(x, W3)
        assert_close(value, np.asarray(jnp.sum(f(jnp, jax, x, W3))), what="value")
        assert_close(grads["x"], np.asarray(want[0]), what="x")
        assert_close(grads["w"], np.asarray(want[1]), what="w")
