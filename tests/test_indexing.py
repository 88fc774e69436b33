"""Indexing (issue 19): integer inputs, NumPy's x[key], gathers, take_along_axis and
cross_entropy with integer labels, against JAX in both modes and both dtypes."""

from __future__ import annotations

import importlib.util
import re
import sys

import numpy as np
import pytest
import sympy
from conftest import EXAMPLES, MODES, central_diff, cross, first_of_each
from hypothesis import given
from hypothesis import strategies as st
from strategies import examples

import graphc as gc

RNG = np.random.default_rng(19)
X = RNG.normal(size=(4, 3))
LABELS = np.array([2, 0, 2, 1])  # a repeated label: the scatter-add must add both

# name -> (.gc text computing E from x: [N, 3] (and labels: int[N], i: int), the same in JAX)
CASES = {
    "rows from 1": ("x[1:]", lambda x, lab, i: x[1:]),
    "a column": ("x[:, 0]", lambda x, lab, i: x[:, 0]),
    "reversed": ("x[::-1]", lambda x, lab, i: x[::-1]),
    "new axis": ("x[..., None]", lambda x, lab, i: x[..., None]),
    "negative": ("x[-1]", lambda x, lab, i: x[-1]),
    "mixed": ("x[1:, None, ::2]", lambda x, lab, i: x[1:, None, ::2]),
    "one element": ("x[2, -1]", lambda x, lab, i: x[2, -1]),
    "declared int": ("x[i]", lambda x, lab, i: x[i]),
    "int and slice": ("x[i, 1:]", lambda x, lab, i: x[i, 1:]),
    "gather rows": ("x[labels]", lambda x, lab, i: x[lab]),
    "gather columns": ("x[:, labels]", lambda x, lab, i: x[:, lab]),
    "gather then slice": ("x[labels, 1:]", lambda x, lab, i: x[lab, 1:]),
    "gather with an int": ("x[i, labels[:3]]", lambda x, lab, i: x[i, lab[:3]]),
    "gather a slice of labels": ("x[labels[::-1][1:]]", lambda x, lab, i: x[lab[::-1][1:]]),
    "take along 1": ("take_along_axis(x, labels[:, None], axis=1)",
                     lambda x, lab, i: _take(x, lab[:, None], 1)),
    "take along 0": ("take_along_axis(x, labels[None, :3], axis=0)",
                     lambda x, lab, i: _take(x, lab[None, :3], 0)),
    "take broadcast": ("take_along_axis(x, labels[None, :2], axis=1)",
                       lambda x, lab, i: _take(x, lab[None, :2], 1)),
    "gather a grid": ("x[grid]", lambda x, lab, i: x[GRID]),
    "gather a grid of columns": ("x[1:, grid, None]", lambda x, lab, i: x[1:, GRID, None]),
}
GRID = np.array([[0, 2], [2, -1]])  # a negative index counts from the end, as in NumPy
DECLARATIONS = "x: [N, 3]\nlabels: int[N]\ni: int\ngrid: int[2, 2]\n"
AT = {"labels": LABELS, "i": 1, "grid": GRID}


def _take(x, idx, axis):
    import jax.numpy as jnp
    return jnp.take_along_axis(x, idx, axis=axis)


def _graph(expr: str) -> gc.Graph:
    return gc.parse(DECLARATIONS + f"e = {expr}\ny = sum(sin(e) * e)\n")


FIRST = first_of_each(CASES)  # the fast tier's slice: one case of each kind


@cross(lambda name, dtype, optimize, mode:  # fast: each kind in f64 in both modes
       (dtype, optimize) == (np.float64, True) and name in FIRST
       or name == ("rows from 1" if optimize else "mixed"),  # forward too, f32, noopt
       name=sorted(CASES), dtype=[np.float64, np.float32],
       optimize={"opt": True, "noopt": False}, mode=MODES)
def test_indexing_matches_jax(name, dtype, jax, mode, optimize):
    import jax.numpy as jnp

    text, reference = CASES[name]
    x, i = X.astype(dtype), 1
    value, grads = gc.compile(_graph(text), mode=mode, optimize=optimize)(x=x, **AT)
    ref_value, ref = jax.value_and_grad(
        lambda x: jnp.sum(jnp.sin(reference(x, LABELS, i)) * reference(x, LABELS, i)))(x)
    assert list(grads) == ["x"]  # the integer inputs are not differentiated
    assert grads["x"].dtype == dtype and np.asarray(value).dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(value, ref_value, rtol=tol)
    np.testing.assert_allclose(grads["x"], np.asarray(ref), rtol=tol, atol=tol)


@cross(lambda name: name in FIRST, name=sorted(CASES))
def test_dot_product_test_for_every_indexing(name):
    """<J v, u> == <v, J^T u>: forward mode gives J v, reverse mode J^T u."""
    declarations = DECLARATIONS.replace("N", "4")
    shape = gc.parse(declarations + f"e = {CASES[name][0]}").shape("e")
    decl = f"u: {list(shape) if shape else 'scalar'}\n"
    g = gc.parse(decl + declarations + f"e = {CASES[name][0]}\nL = sum(e * u)\n")
    at = {"x": X, **AT, "u": RNG.normal(size=shape) if shape else 0.8}
    _, rev = gc.compile(g, wrt=["x"])(**at)
    _, fwd = gc.compile(g, wrt=["x"], mode="forward")(**at)
    v = RNG.normal(size=X.shape)
    assert np.vdot(fwd["x"], v) == pytest.approx(np.vdot(rev["x"], v), rel=1e-12)
    fd = central_diff(lambda **kw: g.evaluate(**kw)["L"], at, "x")
    np.testing.assert_allclose(rev["x"], fd, rtol=1e-6, atol=1e-8)


def test_repeated_indices_add_their_adjoints():
    g = gc.parse("x: [3]\nidx: int[4]\ny = sum(x[idx] * w)")
    _, grads = gc.compile(g, wrt=["x"])(x=np.zeros(3), idx=np.array([0, 2, 0, 0]), w=2.0)
    np.testing.assert_array_equal(grads["x"], [6.0, 0.0, 2.0])


CE = "logits: [N, 3]\nlabels: int[N]\nw: [3]\nloss = cross_entropy(logits * w, labels)\n"


@cross(lambda dtype, optimize, mode: dtype == np.float64 or optimize and mode == "reverse",
       dtype=[np.float64, np.float32], optimize={"opt": True, "noopt": False}, mode=MODES)
def test_cross_entropy_takes_integer_labels(dtype, jax, mode, optimize):
    """optax.softmax_cross_entropy_with_integer_labels, the mean over the batch; the
    same as with one-hot labels."""
    import jax.numpy as jnp

    logits, w = X.astype(dtype), np.array([1.0, -2.0, 0.5], dtype)

    def loss(logits, w):
        log_probs = jax.nn.log_softmax(logits * w)
        return -jnp.mean(jnp.take_along_axis(log_probs, LABELS[:, None], axis=1))

    value, grads = gc.compile(gc.parse(CE), mode=mode, optimize=optimize)(
        logits=logits, labels=LABELS, w=w)
    ref_value, ref = jax.value_and_grad(loss, argnums=(0, 1))(logits, w)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert grads["w"].dtype == dtype and np.asarray(value).dtype == dtype
    np.testing.assert_allclose(value, ref_value, rtol=tol)
    for name, r in zip(("logits", "w"), ref):
        np.testing.assert_allclose(grads[name], np.asarray(r), rtol=tol, atol=tol)
    one_hot = gc.parse(CE.replace("int[N]", "[N, 3]"))
    again, other = gc.compile(one_hot, wrt=["logits", "w"], mode=mode)(
        logits=logits, labels=np.eye(3, dtype=dtype)[LABELS], w=w)
    np.testing.assert_allclose(again, value, rtol=tol)
    np.testing.assert_allclose(other["logits"], grads["logits"], rtol=tol, atol=tol)


def test_cross_entropy_of_one_example_takes_an_int():
    g = gc.parse("logits: [3]\nc: int\nloss = cross_entropy(logits, c)")
    _, grads = gc.compile(g)(logits=X[0], c=2)
    probs = np.exp(X[0]) / np.exp(X[0]).sum()
    np.testing.assert_allclose(grads["logits"], probs - np.eye(3)[2], rtol=1e-12)
    with pytest.raises(gc.ShapeError, match="without the class axis"):
        gc.parse("logits: [N, 3]\nc: int[N, 3]\nloss = cross_entropy(logits, c)")


def test_second_order_through_gathers_matches_jax(jax):
    """The gradient is a graph with unindex/untake nodes: printed as text, read back and
    differentiated again in both modes, it gives JAX's Hessian-vector product."""
    import jax.numpy as jnp

    text = DECLARATIONS + ("a = x[labels, 1:] * x[::-1][i, 1:]\n"
                           "b = take_along_axis(x, labels[:, None], axis=1)\n"
                           "y = sum(sin(a)) + sum(b * b * b) + cross_entropy(x * x, labels)\n")
    grad_graph = gc.compile(gc.parse(text), wrt=["x"]).grad_graph
    g2 = gc.parse("v: [N, 3]\n" + str(grad_graph) + "\nh = sum(x_bar * v)")
    v = RNG.normal(size=X.shape)

    def f(x):
        a = x[LABELS, 1:] * x[::-1][1, 1:]
        b = jnp.take_along_axis(x, LABELS[:, None], axis=1)
        log_probs = jax.nn.log_softmax(x * x)
        ce = -jnp.mean(jnp.take_along_axis(log_probs, LABELS[:, None], axis=1))
        return jnp.sum(jnp.sin(a)) + jnp.sum(b * b * b) + ce

    hvp = jax.grad(lambda x: jnp.vdot(jax.grad(f)(x), v))(X)
    for mode in MODES:
        _, second = gc.compile(g2, of="h", wrt=["x"], mode=mode)(x=X, **AT, v=v)
        np.testing.assert_allclose(second["x"], np.asarray(hvp), rtol=1e-10, atol=1e-12)


def test_subscripts_print_back_and_the_builder_builds_the_same():
    text = DECLARATIONS + ("a = x[1:, None, ::-2]\nb = x[..., 0]\nc = (x + 1.0)[labels, i]\n"
                           "d = take_along_axis(x, labels[:, None])\n"
                           "y = sum(a) + sum(b) + sum(c) + sum(d) + sum(x[-2:])\n")
    g = gc.parse(text)
    again = gc.parse(str(g))
    assert str(again) == str(g)
    assert "(x + 1.0)[labels, i]" in str(g) and "x[1:, None, ::-2]" in str(g)
    x = gc.input("x", shape=("N", 3))
    labels = gc.input("labels", shape=("N",), dtype=int)
    i = gc.input("i", dtype=int)
    built = gc.graph(y=gc.sum(x[1:, None, ::-2]) + gc.sum(x[..., 0]) + gc.sum((x + 1.0)[
        labels, i]) + gc.sum(gc.take_along_axis(x, labels[:, None])) + gc.sum(x[-2:]))
    at = {"x": X, **AT, "i": -1}
    for other in (again, built):
        given = {k: v for k, v in at.items() if k in other.inputs}
        assert other.evaluate(**given)["y"] == g.evaluate(**at)["y"]
    assert built.inputs == ["x", "labels", "i"] and again.inputs == g.inputs
    source = gc.compile(g).source
    assert "x[1:, None, ::-2]" in source and "np.take_along_axis(x, labels[:, None]" in source


def test_symbolic_dims_through_slices():
    g = gc.parse("x: [N, 3]\na = x[1:]\nb = x[:-1]\nc = a - b\nd = x[::-1]\ne = x[::2]")
    assert g.shape("c") == ("N-1", 3) and g.shape("d") == ("N", 3)
    assert g.shape("e") == ("len(N[::2])", 3)
    values = g.evaluate(x=X)
    assert values["e"].shape == (2, 3)


def test_integer_inputs_are_checked_and_never_differentiated():
    g = gc.parse("x: [N, 3]\nlabels: int[N]\ni: int\ny = sum(x[i] * x[labels])")
    fn = gc.compile(g)
    assert fn.wrt == ["x"]
    with pytest.raises(gc.GraphcError, match="labels is an integer input"):
        gc.compile(g, wrt=["x", "labels"])
    with pytest.raises(gc.InputError, match="declared int"):
        fn(x=X, labels=LABELS.astype(float), i=1)
    with pytest.raises(gc.InputError, match="declared int"):
        fn(x=X, labels=LABELS, i=1.0)
    with pytest.raises(gc.InputError, match="N is 4 elsewhere, 3 here"):
        fn(x=X, labels=LABELS[:3], i=1)
    for call in (fn, g.evaluate, fn.forward):
        with pytest.raises(gc.InputError, match="out of range"):
            call(x=X, labels=LABELS, i=4)
        with pytest.raises(gc.InputError, match="out of range"):
            call(x=X, labels=np.array([0, 1, 7, 0]), i=0)
    assert fn(x=X, labels=LABELS, i=-4)[0] == fn(x=X, labels=LABELS, i=0)[0]
    rep = gc.verify(g, at={"x": X, "labels": LABELS, "i": 1})
    assert rep.ok and [r.input for r in rep.rows] == ["x"]
    dot = gc.render(g, at={"x": X, "labels": LABELS, "i": 1}).source
    assert "x[i]" in dot and "x[labels]" in dot
    assert re.search(r"x_bar \+= t\d+_bar put back where taken", dot)  # the edge's rule


@pytest.mark.parametrize("text, error, line, col, words", [
    ("x: [3, 4]\ny = x[3]", gc.ShapeError, 2, 5, ["index 3 is out of range", "size 3"]),
    ("x: [3, 4]\ny = x[:, -5]", gc.ShapeError, 2, 5, ["index -5", "axis 1 of size 4"]),
    ("x: [3, 4]\ny = x[0, 0, 0]", gc.ShapeError, 2, 5, ["too many indices"]),
    ("x: [3, 4]\ny = x[..., 0, ...]", gc.ShapeError, 2, 5, ["one ellipsis"]),
    ("x: [3, 4]\ny = x[::0]", gc.ShapeError, 2, 5, ["step cannot be zero"]),
    ("x: [3, 4]\ny = x[1.5]", gc.ParseError, 2, 7, ["integer literal", "1.5"]),
    ("x: [3, 4]\ni: int\ny = x[i:]", gc.ParseError, 3, 7, ["slice bound", "expression"]),
    ("x: [3, 4]\nw: [3]\ny = x[w]", gc.ShapeError, 3, 5, ["w is not an integer array"]),
    ("x: [3, 4]\ny = x[w]", gc.ShapeError, 2, 5, ["w is not an integer array"]),
    ("x: [3, 4]\nj: int[2]\ny = x[j, :, j]", gc.ShapeError, 3, 5, ["too many indices"]),
    ("x: [3]\nj: int[2]\ny = x * j", gc.ShapeError, 3, 5, ["j holds integers"]),
    ("x: [3, 4]\nj: int[3]\ny = take_along_axis(x, j)", gc.ShapeError, 3, 5,
     ["x's 2 dimensions"]),
    ("x: [3, 4]\nj: int[3, 2]\ny = take_along_axis(x, j, axis=2)", gc.ShapeError, 3, 5,
     ["out of range"]),
    ("x: [3, 4]\ny = x['a']", gc.ParseError, 2, 7, ["integer literal", "'a'"]),
    ("x: [3, 4]\ny = x[*i]", gc.ParseError, 2, 7, ["starred"]),
    ("i: int[]\ny = i", gc.ParseError, 1, 8, ["invalid syntax"]),
])
def test_bad_indexing_is_an_error_with_line_and_column(text, error, line, col, words):
    with pytest.raises(error) as info:
        gc.parse(text)
    assert (info.value.line, info.value.col) == (line, col), str(info.value)
    for w in words:
        assert w in str(info.value)


def test_builder_refuses_what_it_cannot_index_with():
    x = gc.input("x", shape=(3,))
    with pytest.raises(gc.InputError, match="an index is an integer"):
        x[1.5]
    with pytest.raises(gc.InputError, match="slice bounds"):
        x[0.5:]
    with pytest.raises(gc.InputError, match="dtype is float or int"):
        gc.input("y", dtype=str)
    with pytest.raises(gc.GraphcError, match="cannot be iterated"):
        list(x)
    w = gc.input("w", shape=(3,))
    with pytest.raises(gc.ShapeError, match="w is not an integer array"):
        gc.graph(y=gc.sum(x[w]))


@pytest.mark.parametrize("backend", ["blocks", pytest.param("numba", marks=pytest.mark.slow)])
def test_loop_backends_leave_indexing_to_numpy(backend):
    """A gather is no loop's: the backend runs the NumPy code, the same numbers."""
    if backend == "numba":
        pytest.importorskip("numba")
    gathers = gc.parse("x: [N, 3]\nlabels: int[N]\ni: int\n"
                       "y = sum(exp(x[labels] * x[i])) + sum(x[1:] * x[:-1])")
    basic = gc.parse("x: [N, 3]\ny = sum(exp(x[::-1, 0]) * x[:, 1]) + sum(x[None, 2] * x[1:])")
    big = {"x": RNG.normal(size=(50_000, 3)), "labels": RNG.integers(0, 50_000, 50_000),
           "i": 7}
    for g in (gathers, basic):
        at = {k: v for k, v in big.items() if k in g.inputs}
        plain = gc.compile(g)(**at)
        other = gc.compile(g, backend=backend)(**at)
        np.testing.assert_allclose(other[0], plain[0], rtol=1e-12)
        np.testing.assert_allclose(other[1]["x"], plain[1]["x"], rtol=1e-12)


def test_saved_module_gives_what_fn_gives(tmp_path):
    g = gc.parse(CE + "z = loss + sum(take_along_axis(logits, labels[:, None], axis=1))")
    for mode in MODES:
        fn = gc.compile(g, mode=mode)
        path = tmp_path / f"saved_{mode}.py"
        fn.save(path)
        spec = importlib.util.spec_from_file_location(f"saved_{mode}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert "import graphc" not in path.read_text()
        at = {"logits": X, "labels": LABELS, "w": np.ones(3)}
        value, grads = module.value_and_grad(**at)
        mine = fn(**at)
        assert value == mine[0]
        for k in grads:
            np.testing.assert_array_equal(grads[k], mine[1][k])
        with pytest.raises(TypeError, match="declared int"):
            module.value_and_grad(logits=X, labels=LABELS * 1.0, w=np.ones(3))
    sys.modules.pop("saved_reverse", None)


def test_logits_at_rows_and_labels_match_jax(jax, mode):
    """``logits[rows, labels]`` (rows an int input holding arange(N)): each row's logit
    of its label, JAX's gather; its adjoint a one-hot scatter."""
    import jax.numpy as jnp

    g = gc.parse("logits: [N, 3]\nrows: int[N]\nlabels: int[N]\n"
                 "loss = -mean(logits[rows, labels] - logsumexp(logits))")
    rows = np.arange(4)
    value, grads = gc.compile(g, mode=mode)(logits=X, rows=rows, labels=LABELS)

    def loss(logits):
        return -jnp.mean(logits[rows, LABELS] - jax.scipy.special.logsumexp(logits, axis=-1))

    ref_value, ref = jax.value_and_grad(loss)(X)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(grads["logits"], np.asarray(ref), rtol=1e-12, atol=1e-14)


def test_the_command_line_reads_integer_inputs(cli, tmp_path):
    path = tmp_path / "ce.gc"
    path.write_text(CE)
    ok = cli("eval", path, "--at", "logits=[[1,2,3],[0,1,0]],labels=[2,0],w=[1,1,1]",
             cwd=tmp_path)
    assert ok.returncode == 0 and "dloss/dlogits" in ok.stdout and "dloss/dlabels" not in ok.stdout
    bad = cli("verify", path, "--at", "logits=[[1,2,3],[0,1,0]],labels=[2,0.5],w=[1,1,1]",
              cwd=tmp_path)
    assert bad.returncode == 2 and "labels is declared int" in bad.stderr
    far = cli("eval", path, "--at", "logits=[[1,2,3],[0,1,0]],labels=[2,3],w=[1,1,1]",
              cwd=tmp_path)
    assert far.returncode == 2 and "out of range" in far.stderr


SHAPE = (3, 4, 2)


@st.composite
def subscripts(draw: st.DrawFn) -> tuple[str, tuple, np.ndarray | None]:
    """A random key for x of SHAPE: per axis an int, a slice with a step or all of it, or
    (once) an integer array with repeats and negative entries; new axes between; a run
    of trailing full slices as ``...``. Its text, NumPy's key, and the array."""
    texts, items, array = [], [], None
    with_array = draw(st.booleans())
    at = draw(st.integers(0, 2)) if with_array else -1
    for axis, n in enumerate(SHAPE):
        if draw(st.integers(0, 4)) == 0:
            texts.append("None")
            items.append(None)
        if axis == at:
            array = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4)))
            texts.append("j")
            items.append(array)
            continue
        kind = draw(st.sampled_from(["int", "slice", "all"] if not with_array
                                    else ["slice", "all"]))
        if kind == "int":
            k = draw(st.integers(-n, n - 1))
            texts.append(str(k))
            items.append(k)
        elif kind == "slice":
            start, stop = draw(st.integers(-n, n)), draw(st.integers(-n, n))
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            texts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
            items.append(slice(start, stop, step))
        else:
            texts.append(":")
            items.append(slice(None))
    while texts and texts[-1] == ":" and draw(st.booleans()):
        texts.pop()
        items.pop()
    if texts and draw(st.booleans()) and all(t != "..." for t in texts):
        texts.append("...")
        items.append(Ellipsis)
    return ", ".join(texts) or "()", tuple(items), array


@examples(60)
@given(key=subscripts(), mode=st.sampled_from(MODES),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_random_subscripts_match_jax(jax, key, mode, dtype):
    import jax.numpy as jnp

    text, items, array = key
    decl = "x: [3, 4, 2]\n" + (f"j: int[{len(array)}]\n" if array is not None else "")
    g = gc.parse(decl + f"e = x[{text}]\ny = sum(sin(e) * e)\n")
    x = np.random.default_rng(len(text)).normal(size=SHAPE).astype(dtype)
    at = {"x": x} | ({"j": array} if array is not None else {})
    assert g.shape("e") == np.shape(x[items]), text
    value, grads = gc.compile(g, mode=mode)(**at)
    ref_value, ref = jax.value_and_grad(lambda x: jnp.sum(jnp.sin(x[items]) * x[items]))(x)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert grads["x"].dtype == dtype
    np.testing.assert_allclose(value, ref_value, rtol=tol, atol=tol, err_msg=text)
    np.testing.assert_allclose(grads["x"], np.asarray(ref), rtol=tol, atol=tol, err_msg=text)
    assert str(gc.parse(str(g))) == str(g)


def test_int_inputs_apart_index_like_ints(jax, mode):
    """``x[i, :, j]`` with int scalars: NumPy reads them as ints (JAX moves their no
    axes to the front): the shape is x's middle axis either way."""
    import jax.numpy as jnp

    g = gc.parse("x: [3, 4, 2]\ni: int\nj: int\ne = x[i, :, j]\nf = x[0, 1:, i]\n"
                 "y = sum(sin(e)) + sum(f * f)")
    assert g.shape("e") == (4,) and g.shape("f") == (3,)
    x = RNG.normal(size=(3, 4, 2))
    value, grads = gc.compile(g, mode=mode)(x=x, i=1, j=-1)

    def f(x):
        return jnp.sum(jnp.sin(x[1, :, -1])) + jnp.sum(x[0, 1:, 1] ** 2)

    ref_value, ref = jax.value_and_grad(f)(x)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(grads["x"], np.asarray(ref), rtol=1e-12, atol=1e-14)


@pytest.mark.slow  # an example trains for seconds
def test_the_char_rnn_learns_its_text():
    """examples/char_rnn.py: integer inputs, gathers and integer labels through 10
    unrolled steps; Adagrad drives the loss from log(vocab) towards 0."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        from char_rnn import TEXT, train
    finally:
        sys.path.pop(0)
    _, losses, text = train()
    assert losses[0] > 2.0 and np.mean(losses[-20:]) < 0.3
    assert "hello gra" in text and set(text) <= set(TEXT)


def test_the_picture_states_the_rule_of_integer_labels():
    """cross_entropy's edge says one_hot(labels), not the one-hot rule's sum(labels) - labels:
    a printed formula means what its number says."""
    g = gc.parse("z: [4, 3]\nlabels: int[4]\nloss = cross_entropy(z, labels)")
    assert g.local_derivatives()[("z", "loss")] == sympy.Symbol(
        "loss_bar * (softmax(z) - one_hot(labels)) / N")
    h = gc.parse("z: [4, 3]\nlabels: [4, 3]\nloss = cross_entropy(z, labels)")
    assert "sum(labels)" in str(h.local_derivatives()[("z", "loss")])


def test_a_slice_edge_reads_as_one_contribution():
    """x_bar += t_bar placed at [start:stop] (it read x_bar += x_bar[start:stop] += t_bar)."""
    g = gc.parse("x: [5]\ns = x[1:3]\ny = sum(s)")
    assert str(g.local_derivatives()[("x", "s")]) == "s_bar placed at [start:stop]"
