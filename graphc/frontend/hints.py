"""The alternative an error message points to: the function or keyword a misspelt one
most likely meant, and how graphc text spells what another library writes otherwise."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable

from ..ops import FUNCTIONS

# other libraries' spellings: the word a NumPy user reaches for is not always ours
_SPELLED = {"ln": "log", "logistic": "sigmoid", "expit": "sigmoid", "dim": "axis",
            "keepdim": "keepdims"}
_OPERATORS = {"power": "x ** y"}
_MODULES = {"np", "numpy", "jnp", "jax", "math", "torch", "F", "nn", "scipy", "special"}

SYNTAX = {
    ast.IfExp: "; choose elementwise with where(condition, x, y)",
    ast.ListComp: "; write the terms out, or reduce an array: sum(x, axis=...)",
    ast.SetComp: "; write the terms out",
    ast.DictComp: "; write the terms out",
    ast.GeneratorExp: "; write the terms out, or reduce an array: sum(x, axis=...)",
    ast.Lambda: "; define it on a line of its own, f = lambda x: ..., and call f(...)",
    ast.NamedExpr: "; assign on a line of its own: name = ...",
}
"""A refused syntax's hint, appended to the refusal (``text_expr._WHAT``)."""


_PAIRWISE = {"max": "maximum", "min": "minimum", "nanmax": "fmax", "nanmin": "fmin"}


def pairwise(name: str) -> str:
    """Where a reduction's axis is given an array (``max(a, b)``, Python's builtin's
    sense): the elementwise function meant, or ""."""
    if name not in _PAIRWISE:
        return ""
    return (f"{name}(x, axis) reduces x along an axis, as NumPy's; the elementwise "
            f"{_PAIRWISE[name]} of two arrays is {_PAIRWISE[name]}(a, b)")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'softmax'?"`` for the closest choice (difflib), else ``""``."""
    choices = sorted(choices)
    if _SPELLED.get(word) in choices:
        return f"; did you mean {_SPELLED[word]!r}?"
    close = difflib.get_close_matches(word, choices, n=3)
    if not close:
        return ""
    ratio = [difflib.SequenceMatcher(None, word, c).ratio() for c in close]
    close = [c for c, r in zip(close, ratio) if r >= ratio[0] - 0.15]  # near the best
    return f"; did you mean {' or '.join(map(repr, close))}?"


def function(word: str, lambdas: Iterable[str] = ()) -> str:
    """The hint for an unknown function: an operator it is, or a name close to it."""
    if word in _OPERATORS:
        return f"; write {_OPERATORS[word]}"
    return did_you_mean(word, [*FUNCTIONS, *lambdas])


def attribute_call(owner: str, name: str) -> str:
    """Why ``owner.name(...)`` is refused, and how graphc text writes it."""
    refused = "only named functions can be called"
    if name in FUNCTIONS and owner in _MODULES:
        return f"{refused}: {owner}.{name}(...) is written {name}(...) in graphc text " \
            f"(or gc.{name}(...))"
    if name in FUNCTIONS:
        return f"{refused}, not methods: {owner}.{name}(...) is written {name}({owner}, ...)"
    return refused + (function(name) if owner in _MODULES else "")
