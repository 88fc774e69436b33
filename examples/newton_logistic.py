"""Newton's method for L2-regularized logistic regression with the generated Hessian.

The loss is a .gc graph; ``gc.hessian`` compiles its value, gradient and Hessian with
respect to the weights into one NumPy function (forward mode over the reverse-mode
gradient), and each Newton step solves H d = g. A handful of steps reach the optimum
to machine precision, where gradient descent would need thousands.

    python examples/newton_logistic.py
"""

from __future__ import annotations

import numpy as np

import graphc as gc

LOSS = gc.parse("""
X: [N, D]
y: [N]
w: [D]
z = X @ w
L = mean(softplus(z) - y * z) + 0.005 * sum(w * w)
""")
"""The mean logistic loss of labels y in {0, 1}, plus (lambda / 2) |w|^2, lambda 0.01."""


def data(n: int = 200, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points X and labels y drawn from a logistic model with random true weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))  # noqa: N806 - the math's name
    p = 1 / (1 + np.exp(-X @ rng.normal(size=d)))
    return X, (rng.uniform(size=n) < p).astype(float)


def newton(X: np.ndarray, y: np.ndarray, steps: int = 20, tol: float = 1e-12
           ) -> tuple[np.ndarray, list[float]]:
    """The weights at the optimum and the gradient's norm before each step."""
    fn = gc.hessian(LOSS, wrt="w")
    w = np.zeros(X.shape[1])
    norms = []
    for _ in range(steps):
        _, grads, H = fn(X=X, y=y, w=w)
        norms.append(float(np.linalg.norm(grads["w"])))
        if norms[-1] < tol:
            break
        w = w - np.linalg.solve(H["w"]["w"], grads["w"])
    return w, norms


def main() -> None:
    X, y = data()  # noqa: N806
    w, norms = newton(X, y)
    for k, n in enumerate(norms):
        print(f"step {k}: |gradient| = {n:.3e}")
    print("weights:", np.round(w, 6))


if __name__ == "__main__":
    main()
