"""A one-block character-level transformer trained on Shakespeare's sonnets.

Token and position embeddings, a pre-norm block (layer norm, causal single-head
attention, a residual; layer norm, a ReLU MLP, a residual) and a linear read-out, as
one .gc graph. ``gc.compile`` emits its value and gradient as NumPy; Adam trains it
on windows of ``sonnets.txt`` (public domain, shipped beside this file), the loss falls
from log(vocabulary) towards 2 nats per character, and a continuation is sampled.

    python examples/transformer.py [--steps 1500] [--plot docs/img/transformer_loss.svg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from training import Adam, pyplot

import graphc as gc

NETWORK = """
ids: int[B, T]
targets: int[B, T]
E: [V, D]
P: [T, D]
g1: [D]
n1: [D]
Wq: [D, D]
Wk: [D, D]
Wv: [D, D]
Wo: [D, D]
g2: [D]
n2: [D]
W1: [D, F]
c1: [F]
W2: [F, D]
c2: [D]
Wout: [D, V]
x = embedding(ids, E) + P
h = layer_norm(x, (D,), weight=g1, bias=n1)
a = attention(h @ Wq, h @ Wk, h @ Wv, mask=tril(ones((T, T))) > 0)
x2 = x + a @ Wo
m = layer_norm(x2, (D,), weight=g2, bias=n2)
x3 = x2 + relu(m @ W1 + c1) @ W2 + c2
logits = x3 @ Wout
loss = cross_entropy(reshape(logits, (-1, V)), reshape(targets, (-1,)))
"""
"""Each position predicts the next character from itself and the positions before it."""

TEXT = (Path(__file__).parent / "sonnets.txt").read_text()


def shapes(vocab: int, width: int, window: int) -> dict[str, tuple[int, ...]]:
    d, f = width, 2 * width
    return {"E": (vocab, d), "P": (window, d), "g1": (d,), "n1": (d,), "Wq": (d, d),
            "Wk": (d, d), "Wv": (d, d), "Wo": (d, d), "g2": (d,), "n2": (d,),
            "W1": (d, f), "c1": (f,), "W2": (f, d), "c2": (d,), "Wout": (d, vocab)}


def initial(vocab: int, width: int, window: int, rng: np.random.Generator
            ) -> dict[str, np.ndarray]:
    """Gains of one, biases of zero, matrices scaled by 1/sqrt(fan-in)."""
    params = {}
    for name, shape in shapes(vocab, width, window).items():
        if name.startswith("g"):
            params[name] = np.ones(shape)
        elif len(shape) == 1:
            params[name] = np.zeros(shape)
        else:
            params[name] = rng.normal(scale=1 / np.sqrt(shape[0]), size=shape)
    return params


def train(steps: int = 1500, batch: int = 16, window: int = 32, width: int = 48,
          lr: float = 3e-3, seed: int = 0, progress: bool = True) -> dict:
    """Adam on random windows of the text; parameters, loss curve and the alphabet."""
    from tqdm import tqdm

    chars = sorted(set(TEXT))
    code = np.array([chars.index(c) for c in TEXT])
    graph = gc.parse(NETWORK)
    names = list(shapes(len(chars), width, window))
    fn = gc.compile(graph, wrt=names)
    rng = np.random.default_rng(seed)
    params = initial(len(chars), width, window, rng)
    adam = Adam(params)
    losses = []
    bar = tqdm(range(1, steps + 1), desc="training", unit="step", disable=not progress)
    for step in bar:
        starts = rng.integers(0, len(code) - window - 1, size=batch)
        rows = code[starts[:, None] + np.arange(window + 1)]
        loss, grads = fn(ids=rows[:, :-1], targets=rows[:, 1:], **params)
        losses.append(float(loss))
        adam.update(grads, lr)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    return {"params": params, "loss": losses, "chars": chars, "graph": graph,
            "window": window}


def sample(result: dict, prompt: str, length: int = 200, temperature: float = 0.7,
           seed: int = 0) -> str:
    """Characters drawn one at a time from the model's next-character distribution."""
    chars, window, graph = result["chars"], result["window"], result["graph"]
    rng = np.random.default_rng(seed)
    text = prompt
    for _ in range(length):
        context = [chars.index(c) for c in text[-window:]]
        ids = np.zeros((1, window), dtype=int)
        ids[0, :len(context)] = context  # later positions never reach earlier ones
        logits = graph.evaluate(ids=ids, targets=ids, **result["params"])["logits"]
        z = logits[0, len(context) - 1] / temperature
        p = np.exp(z - z.max())
        text += chars[rng.choice(len(chars), p=p / p.sum())]
    return text


def plot(losses: list[float], path: str) -> None:
    smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
    fig, ax = pyplot().subplots(figsize=(6, 3.2))
    ax.plot(losses, alpha=0.3, label="each step")
    ax.plot(np.arange(19, len(losses)), smooth, label="mean of 20")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)")
    ax.legend()
    fig.suptitle("one-block character transformer on the sonnets, gradients by graphc",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--plot", default="transformer_loss.svg")
    args = parser.parse_args()
    result = train(args.steps)
    curve = result["loss"]
    print(f"loss {np.mean(curve[:20]):.3f} -> {np.mean(curve[-20:]):.3f} "
          f"(log of the alphabet: {np.log(len(result['chars'])):.3f})")
    print(sample(result, "Shall I compare thee"))
    plot(curve, args.plot)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
