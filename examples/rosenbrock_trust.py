"""scipy.optimize.minimize(method="trust-exact") on the Rosenbrock function in 10
dimensions, with the gradient and Hessian graphc generates.

``gc.compile`` gives ``jac``; ``gc.hessian`` gives ``hess`` (forward mode over the
reverse-mode gradient, exactly symmetric). The trust-region method needs both.

    python examples/rosenbrock_trust.py
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

import graphc as gc

ROSENBROCK = gc.parse("""
x: [10]
f = sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
""")


def solve(x0: np.ndarray | None = None):
    """scipy's result, from x0 (by default the origin)."""
    gradient, hessian = gc.compile(ROSENBROCK), gc.hessian(ROSENBROCK)
    x0 = np.zeros(10) if x0 is None else x0
    return minimize(lambda x: gradient.forward(x=x), x0, method="trust-exact",
                    jac=lambda x: gradient(x=x)[1]["x"],
                    hess=lambda x: hessian(x=x)[2]["x"]["x"])


def main() -> None:
    result = solve()
    print(f"{result.message} after {result.nit} iterations; f = {result.fun:.3e}")
    print("x =", np.round(result.x, 8))


if __name__ == "__main__":
    main()
