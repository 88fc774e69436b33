"""Regenerate every picture the docs show, so none goes stale.

    python docs/make_pictures.py      # needs Graphviz's `dot`

Each picture is (file name, graph, render keyword arguments); the teaching guide
embeds them from docs/img/.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

import graphc as gc
from graphc.teach.render import write
from graphc.teach.steps import write_steps

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
COLAH_AT = {"a": 2, "b": 1}
TWO_LAYER_AT = {"x1": 2, "x2": 3, "w1": 0.11, "w2": 0.21, "w3": 0.12, "w4": 0.08,
                "w5": 0.14, "w6": 0.15, "y": 1}
_rng = np.random.default_rng(0)
MLP_AT = {"x": _rng.normal(size=(5, 3)), "labels": np.eye(2)[[0, 1, 1, 0, 1]],
          "W1": _rng.normal(size=(3, 4)), "b1": np.zeros(4), "W2": _rng.normal(size=(4, 2)),
          "b2": np.zeros(2)}
NEURON_AT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
CS231N_GATES = "p = x * y\nm = maximum(z, w)\ns = p + m\nf = 2 * s"  # f = 2 (xy + max(z, w))
CS231N_GATES_AT = {"x": 3, "y": -4, "z": 2, "w": -1}


def _example(name: str):
    """A module of examples/ (its NETWORK and initial parameters), with examples/ on the
    path as when it runs as a script (it imports its sibling training.py)."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def _networks() -> dict[str, tuple]:
    """The CNN and the transformer of examples/ at tensor granularity, with values."""
    cnn, tr = _example("cnn_digits"), _example("transformer")
    rng = np.random.default_rng(0)
    cnn_at = {"x": rng.uniform(size=(4, 1, 8, 8)), "labels": np.array([0, 3, 5, 9]),
              "keep": np.ones((4, 64)), "p": 0.0, **cnn.initial(rng)}
    tr_at = {"ids": rng.integers(0, 6, size=(2, 5)), "targets": rng.integers(0, 6, size=(2, 5)),
             **tr.initial(6, 4, 5, rng)}
    tall = gc.Style(direction="TB")  # a chain of layers is too wide for a page left to right
    return {"cnn_digits_values.svg": (gc.parse(cnn.NETWORK), {"at": cnn_at, "style": tall}),
            "transformer_values.svg": (gc.parse(tr.NETWORK), {"at": tr_at, "style": tall})}


def pictures() -> dict[str, gc.Graph | tuple]:
    """name -> (graph, render kwargs)."""
    colah = gc.load(ROOT / "examples" / "colah.gc")
    neuron = gc.load(ROOT / "examples" / "neuron.gc")
    two_layer = gc.load(ROOT / "examples" / "two_layer.gc")
    ladder = gc.parse("".join(f"x{i} = sin(x{i - 1}) + cos(x{i - 1})\n" for i in range(1, 4)))
    colah_grad = gc.compile(colah).grad_graph
    mlp = gc.load(ROOT / "examples" / "mlp_small.gc")
    return {
        "colah.svg": (colah, {}),
        "colah_values.svg": (colah, {"at": COLAH_AT}),
        "colah_forward_b.svg": (colah, {"at": COLAH_AT, "show": "forward", "wrt": "b"}),
        "colah_paths_b.svg": (colah, {"at": COLAH_AT, "show": "paths", "wrt": "b"}),
        "colah_gradient_graph.svg": (colah_grad, {}),
        "neuron_values.svg": (neuron, {"at": NEURON_AT}),
        "two_layer_values.svg": (two_layer, {"at": TWO_LAYER_AT}),
        "ladder3_paths.svg": (ladder, {"at": {"x0": 0.3}, "show": "paths", "wrt": "x0"}),
        "mlp_small_values.svg": (mlp, {"at": MLP_AT}),
        "cs231n_gates.svg": (gc.parse(CS231N_GATES), {"at": CS231N_GATES_AT,
                                                      "style": gc.Style(gates=True)}),
        **_networks(),
    }


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    for name, (g, kwargs) in pictures().items():
        write(gc.render(g, **kwargs), IMG / name)
        print(f"wrote docs/img/{name}")
    colah = gc.load(ROOT / "examples" / "colah.gc")
    written = write_steps(colah, COLAH_AT, ROOT / "docs" / "steps")
    print(f"wrote {len(written) - 1} frames and docs/steps/index.html")


if __name__ == "__main__":
    main()
