"""Gaussian-process regression: hyperparameters fitted by the generated gradient of the
negative log marginal likelihood, matched against scikit-learn's.

The likelihood is a .gc graph through ``cholesky`` and ``solve_triangular``: with
K = s * exp(-|x - x'|^2 / (2 l^2)) + n * I and K = L L^T,

    -log p(y | X) = |L^-1 y|^2 / 2 + sum(log diag L) + N/2 log(2 pi).

Its hyperparameters are logarithms (of the signal variance s, the length scale l and
the noise variance n, in the order of scikit-learn's ``kernel.theta`` for
``ConstantKernel() * RBF() + WhiteKernel()``), so any real values are valid. graphc
compiles the value and gradient into NumPy; scipy's L-BFGS-B minimizes with them.

    python examples/gaussian_process.py
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

import graphc as gc

NLML = gc.parse("""
X: [N, D]
y: [N]
log_signal: scalar
log_length: scalar
log_noise: scalar
d2 = sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
K = exp(log_signal - 0.5 * d2 * exp(-2 * log_length)) + exp(log_noise) * eye(N)
L = cholesky(K)
alpha = solve_triangular(L, y, lower=True)
nlml = 0.5 * sum(alpha * alpha) + sum(log(diagonal(L))) + 0.5 * N * log(2 * pi)
""")
"""The negative log marginal likelihood of an RBF kernel with noise."""
THETA = ("log_signal", "log_length", "log_noise")
"""The hyperparameters, in scikit-learn's order for ConstantKernel * RBF + WhiteKernel."""


def data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of sin(x) on [0, 5] (X as a column: N points of 1 dimension)."""
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(0.0, 5.0, size=(n, 1)), axis=0)  # noqa: N806 - the math's name
    return X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=n)


def fit(X: np.ndarray, y: np.ndarray, theta0: tuple[float, ...] = (0.0, 0.0, -1.0)  # noqa: N803
        ) -> tuple[np.ndarray, float, int]:
    """The hyperparameters at the minimum, the negative log marginal likelihood there
    and how many evaluations it took."""
    fn = gc.compile(NLML, wrt=list(THETA))

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grads = fn(X=X, y=y, **dict(zip(THETA, theta)))
        return float(value), np.array([grads[k] for k in THETA])

    result = minimize(value_and_grad, np.array(theta0), jac=True, method="L-BFGS-B")
    return result.x, float(result.fun), int(result.nfev)


def sklearn_log_marginal_likelihood(X: np.ndarray, y: np.ndarray, theta: np.ndarray  # noqa: N803
                                    ) -> tuple[float, np.ndarray]:
    """scikit-learn's log marginal likelihood and its gradient at theta (no jitter: alpha=0)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel() * RBF() + WhiteKernel()
    gpr = GaussianProcessRegressor(kernel, alpha=0.0, optimizer=None).fit(X, y)
    value, grad = gpr.log_marginal_likelihood(np.asarray(theta), eval_gradient=True)
    return float(value), np.asarray(grad)


def main() -> None:
    X, y = data()  # noqa: N806
    theta, nlml, evaluations = fit(X, y)
    for name, t in zip(THETA, theta):
        print(f"{name:>10} = {t:+.4f}   ({name[4:]} = {np.exp(t):.4f})")
    print(f"negative log marginal likelihood {nlml:.6f} after {evaluations} evaluations")
    theirs, grad = sklearn_log_marginal_likelihood(X, y, theta)
    print(f"scikit-learn's log marginal likelihood there: {theirs:.6f} "
          f"(graphc's: {-nlml:.6f}); its gradient: {np.array2string(grad, precision=2)}")


if __name__ == "__main__":
    main()
