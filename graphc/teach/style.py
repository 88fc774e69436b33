"""How a picture looks on a slide: one small record instead of many flags, so the
picture, the step frames and the command line pass the same thing along."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import GraphcError

THEMES = {  # the colour of each kind of thing, on a light and a dark background
    "light": {"background": "#ffffff", "text": "#000000", "muted": "#666666",
              "edge": "#555555", "plain": "#ffffff", "input": "#dbeafe", "output": "#fde68a",
              "adjoint_node": "#fee2e2", "const": "#999999", "value": "#1d4ed8",
              "second": "#b91c1c", "focus": "#d62728", "unused": "#aaaaaa",
              "ask": "#b45309"},
    "dark": {"background": "#111827", "text": "#f3f4f6", "muted": "#9ca3af",
             "edge": "#9ca3af", "plain": "#1f2937", "input": "#1e3a8a", "output": "#854d0e",
             "adjoint_node": "#7f1d1d", "const": "#6b7280", "value": "#93c5fd",
             "second": "#fca5a5", "focus": "#f87171", "unused": "#4b5563",
             "ask": "#fbbf24"},
}

MAX_PATHS = 12
"""Paths a picture lists by default (``max_paths=``); it counts and sums them all (here,
not in render.py: the command line's help reads it without loading graphc's maths)."""


@dataclass(frozen=True)
class Style:
    """A picture's looks. ``font_scale`` multiplies every font; ``direction`` "LR"
    (colah's), "TB" (long chains) or "auto" (the one that fits a 16:9 slide at the larger
    scale); ``compact`` draws boxes, one-line local derivatives (``1/t3 = 1``) and
    the gradient each wire carries by its value alone (``← -3.55e-14``), closer
    together, in 3 significant digits; ``theme`` "light" or "dark"; ``legend`` says what
    the colours mean; ``constants=False`` hides constant nodes (their values stay in
    the ops' text); ``flows`` writes on each edge the gradient flowing back along it
    (CS231n's red numbers: upstream adjoint x local derivative); ``dpi`` for PNG;
    ``gates`` notes CS231n's patterns beside the nodes ("add distributes", "mul
    swaps", "max routes", "fork adds": see gates.py)."""

    font_scale: float = 1.0
    direction: str = "LR"
    theme: str = "light"
    legend: bool = True
    constants: bool = True
    flows: bool = True
    dpi: float = 96.0
    gates: bool = False
    compact: bool = False

    def __post_init__(self) -> None:
        if self.direction not in ("LR", "TB", "auto"):
            raise GraphcError(f"direction={self.direction!r}: expected 'LR', 'TB' or 'auto'")
        if self.theme not in THEMES:
            raise GraphcError(f"theme={self.theme!r}: expected 'light' or 'dark'")
        for name in ("font_scale", "dpi"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    0 < value < 10_000):
                raise GraphcError(f"{name}={value!r}: expected a positive number")

    @classmethod
    def slide(cls, **changes: object) -> Style:
        """Readable on a projector: larger fonts, compact labels, the direction that fits
        16:9 best and a 2x PNG (1920 px wide for a picture about 13 inches wide)."""
        return cls(**{"font_scale": 1.5, "dpi": 144.0, "direction": "auto", "compact": True,
                      **changes})  # type: ignore[arg-type]

    def colour(self, kind: str) -> str:
        return THEMES[self.theme][kind]

    @property
    def rankdir(self) -> str:
        """Graphviz's direction; "auto" without a layout to choose by is "LR"."""
        return "LR" if self.direction == "auto" else self.direction

    @property
    def digits(self) -> int:
        """Significant digits of the numbers on a picture."""
        return 3 if self.compact else 4

    def size(self, points: float) -> str:
        return f"{points * self.font_scale:g}"


PLAIN = Style()
