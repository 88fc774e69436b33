"""What the training examples share (digits.py, cnn_digits.py, transformer.py): Adam's
update, the curves' figure and the scripts' main. Imported as a sibling module: running
``python examples/<name>.py`` puts examples/ on the path."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np


class Adam:
    """Adam (betas 0.9 and 0.999, eps 1e-8, bias-corrected) on a dict of parameters,
    updated in place: ``Adam(params).update(grads, lr)`` once per step."""

    def __init__(self, params: dict) -> None:
        self.params = params
        self.first = {k: np.zeros_like(v) for k, v in params.items()}
        self.second = {k: np.zeros_like(v) for k, v in params.items()}
        self.step = 0

    def update(self, grads: dict, lr: float) -> None:
        self.step += 1
        first, second, step = self.first, self.second, self.step
        for k in grads:
            first[k] = 0.9 * first[k] + 0.1 * grads[k]
            second[k] = 0.999 * second[k] + 0.001 * grads[k] ** 2
            m, v = first[k] / (1 - 0.9 ** step), second[k] / (1 - 0.999 ** step)
            self.params[k] -= lr * m / (np.sqrt(v) + 1e-8)


def pyplot():
    """matplotlib's pyplot on the Agg backend: the scripts write files, never open windows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict, path: str, title: str, ylim: tuple[float, float]) -> None:
    """Per-epoch training loss (log scale) and test accuracy (within ylim), side by side."""
    fig, (ax1, ax2) = pyplot().subplots(1, 2, figsize=(9, 3.2))
    ax1.plot(history["loss"])
    ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
    ax2.plot(history["test_accuracy"])
    ax2.set(xlabel="epoch", ylabel="test accuracy", ylim=ylim)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)


def epochs_main(doc: str | None, train: Callable[[int], dict],
                plot: Callable[[dict, str], None], epochs: int, svg: str) -> None:
    """A digits script's main: train for --epochs, print the test accuracy, save the
    curves to --plot."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--plot", default=svg)
    args = parser.parse_args()
    result = train(args.epochs)
    print(f"test accuracy: {result['test_accuracy'][-1]:.4f}")
    plot(result, args.plot)
    print(f"wrote {args.plot}")
