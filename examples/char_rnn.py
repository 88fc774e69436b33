"""A character-level RNN (Karpathy's min-char-rnn) trained with integer labels.

The characters are integer inputs, ``ids: int[T]`` and ``targets: int[T]``: the input
layer is a gather, ``Wxh[ids[t]]`` (the one-hot vector times Wxh, without the one-hot
vector), and each step's loss is ``cross_entropy(logits, targets[t])`` with a class
index. The network is unrolled over T steps with the Python front end; graphc
compiles its gradient (backpropagation through time) once, and Adagrad trains it.

    python examples/char_rnn.py
"""

from __future__ import annotations

import numpy as np

import graphc as gc

TEXT = "hello graphc, hello gradients. "


def _params(vocab: int, hidden: int) -> dict[str, gc.Expr]:
    return {"Wxh": gc.input("Wxh", shape=(vocab, hidden)),
            "Whh": gc.input("Whh", shape=(hidden, hidden)), "bh": gc.input("bh", shape=(hidden,)),
            "Why": gc.input("Why", shape=(hidden, vocab)), "by": gc.input("by", shape=(vocab,))}


def _cell(p: dict[str, gc.Expr], char: gc.Expr, h: gc.Expr) -> tuple[gc.Expr, gc.Expr]:
    """One step: the next hidden state and the logits of the next character."""
    h = gc.tanh(p["Wxh"][char] + h @ p["Whh"] + p["bh"])
    return h, h @ p["Why"] + p["by"]


def network(steps: int, vocab: int, hidden: int) -> gc.Graph:
    """The mean loss of ``steps`` characters, each predicting the next."""
    ids = gc.input("ids", shape=(steps,), dtype=int)
    targets = gc.input("targets", shape=(steps,), dtype=int)
    h = gc.input("h0", shape=(hidden,))
    p = _params(vocab, hidden)
    loss: gc.Expr | float = 0.0
    for t in range(steps):
        h, logits = _cell(p, ids[t], h)
        loss = loss + gc.cross_entropy(logits, targets[t])
    return gc.graph(loss=loss / steps)


PARAMS = ("Wxh", "Whh", "bh", "Why", "by")


def train(iterations: int = 400, steps: int = 10, hidden: int = 24, lr: float = 0.1,
          seed: int = 0) -> tuple[dict, list[float], str]:
    """Adagrad over windows of the text; the parameters, the loss curve and a sample."""
    chars = sorted(set(TEXT))
    code = np.array([chars.index(c) for c in TEXT])
    vocab = len(chars)
    fn = gc.compile(network(steps, vocab, hidden), wrt=list(PARAMS))
    rng = np.random.default_rng(seed)
    params = {"Wxh": rng.normal(scale=0.1, size=(vocab, hidden)),
              "Whh": rng.normal(scale=0.1, size=(hidden, hidden)), "bh": np.zeros(hidden),
              "Why": rng.normal(scale=0.1, size=(hidden, vocab)), "by": np.zeros(vocab)}
    memory = {k: np.full_like(v, 1e-8) for k, v in params.items()}
    losses = []
    for it in range(iterations):
        start = (it * steps) % (len(code) - steps - 1)
        window = code[start:start + steps + 1]
        loss, grads = fn(ids=window[:-1], targets=window[1:], h0=np.zeros(hidden), **params)
        losses.append(float(loss))
        for k in PARAMS:
            g = np.clip(grads[k], -5, 5)
            memory[k] += g * g
            params[k] -= lr * g / np.sqrt(memory[k])
    return params, losses, sample(params, chars, "h", len(TEXT))


def sample(params: dict, chars: list[str], first: str, n: int) -> str:
    """The most likely next character, n times over, from ``first``."""
    h = np.zeros(len(params["bh"]))
    h_next, logits = _cell(_params(len(chars), len(h)), gc.input("c", dtype=int),
                           gc.input("h", shape=(len(h),)))
    step = gc.graph(h_next=h_next, logits=logits)
    out = [first]
    for _ in range(n - 1):
        values = step.evaluate(c=chars.index(out[-1]), h=h, **params)
        h = values["h_next"]
        out.append(chars[int(np.argmax(values["logits"]))])
    return "".join(out)


if __name__ == "__main__":
    _, curve, text = train()
    print(f"loss {curve[0]:.3f} -> {np.mean(curve[-20:]):.3f}")
    print(f"sample: {text!r}")
