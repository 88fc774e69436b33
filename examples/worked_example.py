"""The lecture's worked example, computed by graphc-generated code.

A two-layer linear network: inputs x = [2, 3], hidden weights W1 = [[.11, .12],
[.21, .08]], output weights W2 = [.14, .15], target 1. The lecture computes the
prediction 0.191, the error 0.327, the delta -0.809 and one SGD step with learning
rate 0.05. Here the gradient comes from graphc; the two columns must agree.

    python examples/worked_example.py
"""

from __future__ import annotations

import numpy as np

import graphc as gc

NETWORK = """
x: [1, 2]
W1: [2, 2]
W2: [2, 1]
y: [1, 1]
h = x @ W1
prediction = h @ W2
error = mse(prediction, y)
"""

LECTURE = {"h": [0.85, 0.48], "prediction": 0.191, "error": 0.327, "delta": -0.809,
           "W1 after": [[0.12, 0.13], [0.23, 0.10]], "W2 after": [0.17, 0.17]}
DIGITS = {"h": 2, "prediction": 3, "error": 3, "delta": 3, "W1 after": 2, "W2 after": 2}
"""How many decimals the lecture shows for each quantity."""


def run(lr: float = 0.05) -> dict[str, np.ndarray]:
    """graphc's numbers for everything the lecture computes."""
    g = gc.parse(NETWORK)
    fn = gc.compile(g, wrt=["W1", "W2"])
    values = {"x": np.array([[2.0, 3.0]]), "W1": np.array([[0.11, 0.12], [0.21, 0.08]]),
              "W2": np.array([[0.14], [0.15]]), "y": np.array([[1.0]])}
    error, grads = fn(**values)
    forward = g.evaluate(**values)
    return {"h": forward["h"].ravel(), "prediction": forward["prediction"].item(),
            "error": float(error), "delta": (forward["prediction"] - values["y"]).item(),
            "W1 after": values["W1"] - lr * grads["W1"],
            "W2 after": (values["W2"] - lr * grads["W2"]).ravel()}


def main() -> None:
    ours = run()
    print(f"{'quantity':<12} {'lecture':>28} {'graphc, same rounding':>28}")
    for key, theirs in LECTURE.items():
        mine = np.round(np.asarray(ours[key], dtype=float), DIGITS[key]).tolist()
        print(f"{key:<12} {theirs!s:>28} {mine!s:>28}")
    print("\nthe lecture rounds to two or three digits; graphc's unrounded values:")
    for key, value in ours.items():
        print(f"  {key}: {np.asarray(value).tolist()}")


if __name__ == "__main__":
    main()
