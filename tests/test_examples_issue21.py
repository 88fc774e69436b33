"""The issue-21 examples train with generated code and reach their marks: the LeNet-style
CNN on the 8x8 digits (examples/cnn_digits.py) to >= 98 % test accuracy, the one-block
character transformer (examples/transformer.py) with its loss falling, and the networks
benchmark's hand-written NumPy LeNet agreeing with graphc's emitted gradient (so the
benchmark compares like with like). examples/gaussian_process.py has its test in
test_linalg.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import graphc as gc

ROOT = Path(__file__).resolve().parent.parent


def _module(folder: str, name: str):
    sys.path.insert(0, str(ROOT / folder))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


@pytest.mark.slow
def test_cnn_reaches_98_percent_on_the_digits(tmp_path):
    cnn = _module("examples", "cnn_digits")
    result = cnn.train(progress=False)
    assert result["test_accuracy"][-1] >= 0.98
    assert result["loss"][-1] < result["loss"][0] / 10
    cnn.plot(result, str(tmp_path / "curve.svg"))
    assert (tmp_path / "curve.svg").read_text().lstrip().startswith("<?xml")


def test_cnn_gradient_matches_jax(jax):
    """One minibatch's gradient of the example's network against JAX's."""
    import jax.numpy as jnp

    cnn = _module("examples", "cnn_digits")
    rng = np.random.default_rng(0)
    params = cnn.initial(rng)
    x = rng.uniform(size=(5, 1, 8, 8))
    labels = rng.integers(0, 10, size=5)
    keep = (rng.uniform(size=(5, 64)) > 0.25).astype(float)
    names = list(params)
    loss, grads = gc.compile(gc.parse(cnn.NETWORK), wrt=names)(x=x, labels=labels, keep=keep,
                                                               p=0.25, **params)

    def conv(a, k, c):
        y = jax.lax.conv_general_dilated(a, k, (1, 1), [(1, 1), (1, 1)],
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return y + c[:, None, None]

    def pool(a):
        return jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2),
                                     "VALID")

    def f(p):
        h1 = pool(jax.nn.relu(conv(x, p["K1"], p["c1"])))
        h2 = pool(jax.nn.relu(conv(h1, p["K2"], p["c2"])))
        h3 = jax.nn.relu(h2.reshape(5, 128) @ p["W3"] + p["b3"]) * keep / 0.75
        logits = h3 @ p["W4"] + p["b4"]
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(5), labels])
    want, jgrads = jax.value_and_grad(f)({k: jnp.asarray(v) for k, v in params.items()})
    np.testing.assert_allclose(loss, want, rtol=1e-10)
    for k in names:
        np.testing.assert_allclose(grads[k], jgrads[k], rtol=1e-8, atol=1e-12, err_msg=k)


@pytest.mark.slow
def test_transformer_loss_falls_and_samples_text(tmp_path):
    tr = _module("examples", "transformer")
    result = tr.train(steps=300, progress=False)
    curve = result["loss"]
    assert np.mean(curve[:10]) > np.log(len(result["chars"])) - 0.5
    assert np.mean(curve[-20:]) < np.mean(curve[:20]) - 1.0
    text = tr.sample(result, "Shall I", length=40)
    assert text.startswith("Shall I") and len(text) == 47
    assert set(text) <= set(result["chars"])
    tr.plot(curve, str(tmp_path / "loss.svg"))
    assert (tmp_path / "loss.svg").exists()


def test_transformer_gradient_matches_jax(jax):
    """The example's network at a small size: graphc's gradient is JAX's."""
    import jax.numpy as jnp

    tr = _module("examples", "transformer")
    rng = np.random.default_rng(1)
    vocab, width, window = 7, 8, 5
    params = tr.initial(vocab, width, window, rng)
    ids = rng.integers(0, vocab, size=(3, window))
    targets = rng.integers(0, vocab, size=(3, window))
    names = list(params)
    loss, grads = gc.compile(gc.parse(tr.NETWORK), wrt=names)(ids=ids, targets=targets,
                                                              **params)

    def norm(a, g, n):
        mu = a.mean(-1, keepdims=True)
        return (a - mu) / jnp.sqrt(((a - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * g + n

    def f(p):
        x = p["E"][ids] + p["P"]
        h = norm(x, p["g1"], p["n1"])
        q, k, v = h @ p["Wq"], h @ p["Wk"], h @ p["Wv"]
        s = jnp.where(jnp.tril(jnp.ones((window, window), bool)),
                      q @ jnp.swapaxes(k, -1, -2) / np.sqrt(width), -jnp.inf)
        x2 = x + jax.nn.softmax(s, axis=-1) @ v @ p["Wo"]
        m = norm(x2, p["g2"], p["n2"])
        x3 = x2 + jax.nn.relu(m @ p["W1"] + p["c1"]) @ p["W2"] + p["c2"]
        logits = (x3 @ p["Wout"]).reshape(-1, vocab)
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(logits.shape[0]),
                                                    targets.reshape(-1)])
    want, jgrads = jax.value_and_grad(f)({k: jnp.asarray(v) for k, v in params.items()})
    np.testing.assert_allclose(loss, want, rtol=1e-10)
    for k in names:
        np.testing.assert_allclose(grads[k], jgrads[k], rtol=1e-7, atol=1e-10, err_msg=k)


def test_benchmark_hand_written_lenet_matches_graphc():
    nets = _module("benchmarks", "networks")
    rng = np.random.default_rng(2)
    p = nets.parameters(nets.LENET_SHAPES, rng)
    x = rng.uniform(size=(4, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, size=4)
    value, grads = nets.lenet_numpy(x, labels, p)
    ours, our_grads = gc.compile(gc.parse(nets.LENET), wrt=list(p))(x=x, labels=labels, **p)
    assert np.asarray(ours).dtype == np.float32
    np.testing.assert_allclose(ours, value, rtol=1e-5)
    for k in p:
        np.testing.assert_allclose(our_grads[k], grads[k], rtol=1e-3, atol=1e-5, err_msg=k)
