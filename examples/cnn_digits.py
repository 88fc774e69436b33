"""A LeNet-style CNN trained on scikit-learn's bundled 8x8 digits with generated gradients.

Two convolutions (3x3, "same" padding) with ReLU and 2x2 max pooling, then two dense
layers; the whole network is one .gc graph and ``gc.compile`` emits its value and
gradient as NumPy (convolutions as sliding-window views and einsum, no loop over
pixels). Adam trains it in a few seconds to about 99 % test accuracy. Needs the
`examples` extra: pip install -e ".[examples]".

    python examples/cnn_digits.py [--epochs 30] [--plot docs/img/cnn_training.svg]
"""

from __future__ import annotations

import numpy as np
from training import Adam, epochs_main, plot_history

import graphc as gc

NETWORK = """
x: [N, 1, 8, 8]
labels: int[N]
keep: [N, 64]
p: []
K1: [16, 1, 3, 3]
c1: [16]
K2: [32, 16, 3, 3]
c2: [32]
W3: [128, 64]
b3: [64]
W4: [64, 10]
b4: [10]
h1 = max_pool2d(relu(conv2d(x, K1, c1, padding=1)), 2)
h2 = max_pool2d(relu(conv2d(h1, K2, c2, padding=1)), 2)
h3 = dropout(relu(reshape(h2, (N, 128)) @ W3 + b3), keep, p)
logits = h3 @ W4 + b4
loss = cross_entropy(logits, labels)
"""
"""8x8 -> conv 16@8x8 -> pool 16@4x4 -> conv 32@4x4 -> pool 32@2x2 -> 128 -> 64 -> 10, with
dropout on the 64 hidden units: ``keep`` is the mask (drawn each step; ones and p = 0
when testing)."""


DROP = 0.25


def load(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Images scaled to [0, 1] as (N, 1, 8, 8), integer labels, a stratified 75/25 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0)[:, None]
    return tuple(train_test_split(x, digits.target, test_size=0.25, random_state=seed,
                                  stratify=digits.target))


def initial(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He-normal weights (fan-in from every axis but the first output one), zero biases."""
    shapes = {"K1": (16, 1, 3, 3), "c1": (16,), "K2": (32, 16, 3, 3), "c2": (32,),
              "W3": (128, 64), "b3": (64,), "W4": (64, 10), "b4": (10,)}
    params = {}
    for name, shape in shapes.items():
        if len(shape) == 1:
            params[name] = np.zeros(shape)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            params[name] = rng.normal(scale=np.sqrt(2 / fan_in), size=shape)
    return params


def shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by up to one pixel each way (zeros come in): augmentation."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dy, dx = rng.integers(0, 3, size=2)
    return padded[:, :, dy:dy + 8, dx:dx + 8]


def accuracy(graph: gc.Graph, params: dict, x: np.ndarray, labels: np.ndarray) -> float:
    logits = graph.evaluate(x=x, labels=labels, keep=np.ones((len(x), 64)), p=0.0,
                            **params)["logits"]
    return float(np.mean(logits.argmax(axis=1) == labels))


def train(epochs: int = 30, lr: float = 3e-3, batch: int = 32, seed: int = 0,
          progress: bool = True) -> dict:
    """Adam over minibatches; the parameters, per-epoch loss and test accuracy."""
    from tqdm import tqdm

    x_train, x_test, y_train, y_test = load(seed)
    graph = gc.parse(NETWORK)
    names = ["K1", "c1", "K2", "c2", "W3", "b3", "W4", "b4"]
    fn = gc.compile(graph, wrt=names)
    rng = np.random.default_rng(seed)
    params = initial(rng)
    adam = Adam(params)
    history: dict = {"loss": [], "test_accuracy": []}
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        rate = lr * (1 + np.cos(np.pi * epoch / epochs)) / 2  # cosine decay
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            keep = (rng.uniform(size=(len(idx), 64)) >= DROP).astype(float)
            loss, grads = fn(x=x_train[idx], labels=y_train[idx], keep=keep,
                             p=DROP, **params)
            losses.append(float(loss))
            adam.update(grads, rate)
        history["loss"].append(float(np.mean(losses)))
        history["test_accuracy"].append(accuracy(graph, params, x_test, y_test))
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                        test_acc=f"{history['test_accuracy'][-1]:.3f}")
    return {"params": params, **history}


def plot(history: dict, path: str) -> None:
    plot_history(history, path, "8x8 digits, LeNet-style CNN, gradients by graphc", (0.9, 1.0))


def main() -> None:
    epochs_main(__doc__, train, plot, epochs=30, svg="cnn_training.svg")


if __name__ == "__main__":
    main()
