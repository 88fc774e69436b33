"""Black–Scholes prices and Greeks of an array of European calls (examples/black_scholes.gc).

One reverse-mode gradient gives delta, vega, rho and theta together (the price is
elementwise, so each option's gradient is its own). Gamma is a second derivative: the
gradient is itself a graph (``fn.grad_graph``), one of whose outputs is delta, so
differentiating that graph again by S gives gamma.

    python examples/black_scholes.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import graphc as gc

GRAPH = gc.load(Path(__file__).with_name("black_scholes.gc"))


def greeks(S, K, T, r, sigma, mode: str = "reverse") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The call prices and their Greeks, each an array with one entry per option
    (``mode``: how the first derivatives are computed; the second is reverse mode)."""
    at = {"S": S, "K": K, "T": T, "r": r, "sigma": sigma}
    fn = gc.compile(GRAPH, mode=mode)
    price, grads = fn(**at)
    delta = fn.grad_graph.outputs[1 + GRAPH.inputs.index("S")]  # after the price
    _, second = gc.compile(fn.grad_graph, of=delta, wrt="S")(**at)
    return price, {"delta": grads["S"], "gamma": second["S"], "vega": grads["sigma"],
                   "rho": grads["r"], "theta": -grads["T"]}


def main() -> None:
    S = np.array([100.0, 90.0, 110.0, 100.0])
    at = {"S": S, "K": np.array([100.0, 100.0, 95.0, 120.0]),
          "T": np.array([1.0, 0.5, 2.0, 0.25]), "r": np.array([0.05, 0.01, 0.03, 0.02]),
          "sigma": np.array([0.2, 0.3, 0.25, 0.4])}
    price, g = greeks(**at)
    print("    S      K     T     r  sigma |    price   delta   gamma     vega     rho   theta")
    for i in range(len(S)):
        print(f"{S[i]:5.0f} {at['K'][i]:6.0f} {at['T'][i]:5.2f} {at['r'][i]:5.2f} "
              f"{at['sigma'][i]:6.2f} | {price[i]:8.4f} {g['delta'][i]:7.4f} "
              f"{g['gamma'][i]:7.4f} {g['vega'][i]:8.4f} {g['rho'][i]:7.3f} "
              f"{g['theta'][i]:7.3f}")


if __name__ == "__main__":
    main()
