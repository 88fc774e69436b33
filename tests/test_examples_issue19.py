"""The issue-19 examples run and compute the right numbers: Black–Scholes prices and
Greeks with erf (examples/black_scholes.py) against the closed forms and JAX, and the
causal attention block (examples/attention.gc) against JAX, drawn at tensor
granularity. examples/huber.gc and examples/char_rnn.py have theirs in
test_choices.py and test_indexing.py."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import graphc as gc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OPTIONS = {"S": np.array([100.0, 90.0, 110.0, 100.0, 50.0]),
           "K": np.array([100.0, 100.0, 95.0, 120.0, 60.0]),
           "T": np.array([1.0, 0.5, 2.0, 0.25, 3.0]),
           "r": np.array([0.05, 0.01, 0.03, 0.02, 0.0]),
           "sigma": np.array([0.2, 0.3, 0.25, 0.4, 0.6])}


@pytest.fixture(scope="module")
def black_scholes():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import black_scholes
    finally:
        sys.path.pop(0)
    return black_scholes


# ---- Black–Scholes ---------------------------------------------------------------------
def test_black_scholes_greeks_match_the_closed_forms(black_scholes, mode):
    from scipy.stats import norm

    S, K, T, r, sigma = OPTIONS.values()  # noqa: N806
    price, greeks = black_scholes.greeks(**OPTIONS, mode=mode)
    sd = sigma * np.sqrt(T)
    d1 = (np.log(S / K) + (r + sigma ** 2 / 2) * T) / sd
    d2 = d1 - sd
    discounted = K * np.exp(-r * T)
    want = {"delta": norm.cdf(d1), "gamma": norm.pdf(d1) / (S * sd),
            "vega": S * norm.pdf(d1) * np.sqrt(T), "rho": T * discounted * norm.cdf(d2),
            "theta": -S * norm.pdf(d1) * sigma / (2 * np.sqrt(T))
            - r * discounted * norm.cdf(d2)}
    np.testing.assert_allclose(price, S * norm.cdf(d1) - discounted * norm.cdf(d2),
                               rtol=1e-10)
    assert set(greeks) == set(want)
    for name, value in want.items():
        np.testing.assert_allclose(greeks[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


def test_black_scholes_greeks_match_jax(black_scholes, jax):
    import jax.numpy as jnp
    from jax.scipy.special import erf

    def call(S, K, T, r, sigma):  # noqa: N803
        def phi(x):
            return 0.5 * (1 + erf(x / jnp.sqrt(2.0)))
        d1 = (jnp.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * jnp.sqrt(T))
        d2 = d1 - sigma * jnp.sqrt(T)
        return S * phi(d1) - K * jnp.exp(-r * T) * phi(d2)

    def both(*at):  # jitted as one: JAX compiles once
        return (jax.vmap(jax.grad(call, argnums=(0, 1, 2, 3, 4)))(*at),
                jax.vmap(jax.grad(jax.grad(call)))(*at))
    first, gamma = jax.jit(both)(*OPTIONS.values())
    price, greeks = black_scholes.greeks(**OPTIONS)
    np.testing.assert_allclose(price, jax.vmap(call)(*OPTIONS.values()), rtol=1e-13)
    for name, want in [("delta", first[0]), ("theta", -first[2]), ("rho", first[3]),
                       ("vega", first[4]), ("gamma", gamma)]:
        np.testing.assert_allclose(greeks[name], want, rtol=1e-12, err_msg=name)


def test_black_scholes_readme_command(cli):
    proc = cli("eval", EXAMPLES / "black_scholes.gc", "--at", "S=100,K=100,T=1,r=0.05,sigma=0.2",
               cwd=EXAMPLES)
    assert proc.returncode == 0, proc.stderr
    assert {"C = 10.4506", "dC/dS = 0.636831", "dC/dsigma = 37.524"} <= set(
        proc.stdout.splitlines())


def test_black_scholes_script_prints_its_table(black_scholes, capsys):
    black_scholes.main()
    lines = capsys.readouterr().out.splitlines()
    assert "gamma" in lines[0] and len(lines) == 5
    assert "10.4506  0.6368  0.0188  37.5240  53.232  -6.414" in lines[1]  # Hull's ATM call


# ---- attention with a causal mask --------------------------------------------------------
def _block_values(T: int = 6, D: int = 8) -> dict[str, np.ndarray]:  # noqa: N803
    rng = np.random.default_rng(19)
    return {"x": rng.normal(size=(T, D)), "target": rng.normal(size=(T, D)),
            "gain": 1 + 0.1 * rng.normal(size=D), "bias": 0.1 * rng.normal(size=D),
            "Wq": rng.normal(size=(D, D)), "Wk": rng.normal(size=(D, D)),
            "Wv": rng.normal(size=(D, D))}


@pytest.fixture(scope="module")
def jax_block(jax):
    """The block's loss and gradient by JAX, computed once (jitted: a compile, not one
    per op)."""
    import jax.numpy as jnp

    def loss(x, target, gain, bias, Wq, Wk, Wv):  # noqa: N803
        mu = x.mean(-1, keepdims=True)
        variance = ((x - mu) ** 2).mean(-1, keepdims=True)
        h = (x - mu) / jnp.sqrt(variance + 1e-5) * gain + bias
        scores = (h @ Wq) @ (h @ Wk).T / jnp.sqrt(8.0)
        T = x.shape[0]  # noqa: N806
        masked = jnp.where(jnp.tril(jnp.ones((T, T))) > 0, scores, -jnp.inf)
        out = x + jax.nn.softmax(masked, axis=-1) @ (h @ Wv)
        return jnp.mean((out - target) ** 2) / 2
    return jax.jit(jax.value_and_grad(loss, argnums=tuple(range(7))))(*_block_values().values())


MASKS = ["tril(ones((T, T))) > 0", "arange(T)[:, None] >= arange(T)"]


@pytest.mark.parametrize("mask", MASKS, ids=["tril", "arange"])
def test_attention_gradient_matches_jax(jax_block, mode, optimize, mask):
    values = _block_values()
    text = (EXAMPLES / "attention.gc").read_text(encoding="utf-8")
    assert MASKS[0] in text
    g = gc.parse(text.replace(f"where({MASKS[0]}", f"where({mask}"))
    value, grads = gc.compile(g, mode=mode, optimize=optimize)(**values)
    want_value, want = jax_block
    assert float(value) == pytest.approx(float(want_value), rel=1e-13)
    for name, w in zip(values, want):
        assert np.all(np.isfinite(grads[name])), name  # -inf in the mask, no nan behind
        np.testing.assert_allclose(grads[name], np.asarray(w), rtol=1e-11, atol=1e-13,
                                   err_msg=name)


def test_attention_mask_is_causal():
    """A later position changes no earlier output: where() masked it before softmax."""
    g = gc.load(EXAMPLES / "attention.gc")
    values = _block_values()
    out = g.evaluate(**values)["out"]
    values["x"][-1] += 1.0
    changed = g.evaluate(**values)["out"]
    np.testing.assert_array_equal(changed[:-1], out[:-1])
    assert not np.allclose(changed[-1], out[-1])


def test_attention_reads_back_and_draws():
    g = gc.load(EXAMPLES / "attention.gc")
    again = gc.parse(str(g))
    values = _block_values(T=3)
    assert float(gc.compile(again)(**values)[0]) == float(gc.compile(g)(**values)[0])
    source = gc.render(g).source
    # the temporaries as the pictures number them, t1 ... t14 without gaps
    assert "where(t13, scores, -inf)" in source and "softmax(masked)" in source
    assert "attn_bar += t14_bar @ v.T" in source  # each edge its vjp rule


def test_attention_readme_commands(cli, tmp_path):
    for args in (["render", EXAMPLES / "attention.gc", "-o", tmp_path / "attention.dot"],
                 ["compile", EXAMPLES / "attention.gc", "-o", tmp_path / "attention_grad.py"]):
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    assert "softmax(masked)" in (tmp_path / "attention.dot").read_text(encoding="utf-8")
    assert "np.where(" in (tmp_path / "attention_grad.py").read_text(encoding="utf-8")


def test_a_negated_constant_leaves_no_constant_behind():
    """-inf and -2 are one constant each: the inf and 2 read on the way were left in the
    graph, read by nothing, and drawn standing alone."""
    g = gc.parse("y = where(x > 0, x, -inf) + -2 * x")
    values = sorted(d["params"]["value"] for n, d in g.nx.nodes(data=True)
                    if d["op"] == "const")
    assert values == [-np.inf, -2.0, 0.0]
    assert all(g.readers(n) for n in g.nx if g.is_const(n))
    assert '"inf"' not in gc.render(g).source.replace("-inf", "")
