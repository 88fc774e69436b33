"""An MLP trained on scikit-learn's bundled 8x8 digits with graphc-generated gradients.

The data ships inside scikit-learn (no download). Needs the `examples` extra:
pip install -e ".[examples]". Prints a progress bar while training, reports test
accuracy, and saves the loss/accuracy curves.

    python examples/digits.py [--epochs 40] [--plot docs/img/digits_training.svg]
"""

from __future__ import annotations

import numpy as np
from training import epochs_main, plot_history

import graphc as gc

NETWORK = """
x: [N, 64]
labels: [N, 10]
W1: [64, 128]
b1: [128]
W2: [128, 10]
b2: [10]
h = tanh(x @ W1 + b1)
logits = h @ W2 + b2
loss = cross_entropy(logits, labels)
"""
PARAMS = ["W1", "b1", "W2", "b2"]


def load(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Scaled digits, one-hot labels, a stratified 75/25 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data / 16.0
    y = np.eye(10)[digits.target]
    return tuple(train_test_split(x, y, test_size=0.25, random_state=seed,
                                  stratify=digits.target))


def accuracy(g: gc.Graph, params: dict, x: np.ndarray, y: np.ndarray) -> float:
    logits = g.evaluate(x=x, labels=y, **params)["logits"]
    return float(np.mean(logits.argmax(axis=1) == y.argmax(axis=1)))


def train(epochs: int = 40, lr: float = 0.1, batch: int = 32, seed: int = 0,
          progress: bool = True) -> dict:
    """Minibatch SGD; returns parameters, per-epoch loss, test accuracy."""
    from tqdm import tqdm

    x_train, x_test, y_train, y_test = load(seed)
    g = gc.parse(NETWORK)
    fn = gc.compile(g, wrt=PARAMS)
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(scale=1 / 8, size=(64, 128)), "b1": np.zeros(128),
              "W2": rng.normal(scale=1 / np.sqrt(128), size=(128, 10)), "b2": np.zeros(10)}
    history = {"loss": [], "test_accuracy": []}
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for _ in bar:
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            loss, grads = fn(x=x_train[idx], labels=y_train[idx], **params)
            losses.append(float(loss))
            for k in PARAMS:
                params[k] -= lr * grads[k]
        history["loss"].append(float(np.mean(losses)))
        history["test_accuracy"].append(accuracy(g, params, x_test, y_test))
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                        test_acc=f"{history['test_accuracy'][-1]:.3f}")
    return {"params": params, **history}


def plot(history: dict, path: str) -> None:
    plot_history(history, path, "8x8 digits, 64-128-10 tanh MLP, gradients by graphc",
                 (0.8, 1.0))


def main() -> None:
    epochs_main(__doc__, train, plot, epochs=40, svg="digits_training.svg")


if __name__ == "__main__":
    main()
