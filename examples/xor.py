"""XOR learned by a 2-layer MLP, trained with graphc-generated gradients.

No single perceptron computes XOR (the lecture's point); two layers do.

    python examples/xor.py
"""

from __future__ import annotations

import numpy as np

import graphc as gc

NETWORK = """
x: [4, 2]
y: [4, 1]
W1: [2, 8]
b1: [8]
W2: [8, 1]
b2: [1]
h = tanh(x @ W1 + b1)
p = sigmoid(h @ W2 + b2)
loss = mse(p, y)
"""
X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def train(steps: int = 2000, lr: float = 2.0, seed: int = 0) -> tuple[dict, list[float]]:
    """Full-batch gradient descent; returns the parameters and the loss curve."""
    g = gc.parse(NETWORK)
    fn = gc.compile(g, wrt=["W1", "b1", "W2", "b2"])
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(size=(2, 8)), "b1": np.zeros(8),
              "W2": rng.normal(size=(8, 1)), "b2": np.zeros(1)}
    losses = []
    for _ in range(steps):
        loss, grads = fn(x=X, y=Y, **params)
        losses.append(float(loss))
        for k in params:
            params[k] -= lr * grads[k]
    return params, losses


def predict(params: dict) -> np.ndarray:
    g = gc.parse(NETWORK)
    return g.evaluate(x=X, y=Y, **params)["p"]


def main() -> None:
    params, losses = train()
    p = predict(params)
    print(f"loss: {losses[0]:.4f} -> {losses[-1]:.6f}")
    for xi, pi, yi in zip(X, p.ravel(), Y.ravel()):
        print(f"  {xi.astype(int).tolist()} -> {pi:.3f} (target {yi:.0f})")
    print("accuracy:", float(np.mean((p > 0.5) == (Y > 0.5))))


if __name__ == "__main__":
    main()
