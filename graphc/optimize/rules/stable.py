"""The stable pass: what is written by hand (``1 / (1 + exp(-z))``,
``log(sum(exp(x)))``) becomes the op that computes it without overflow."""

from __future__ import annotations

from .base import Rewrite, RuleView, op_of, rule, scalar_const


@rule("div", "stable", "1 / (1 + exp(-z)) -> sigmoid(z)")
def _sigmoid(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    """Its derivative is then f * (1 - f), with no inf * 0 for very negative z; the value
    is as written. Not when the exp or the sum is used elsewhere (it would be made twice)."""
    one, denominator = args
    if not scalar_const(g, one, 1.0) or op_of(g, denominator) != "add" \
            or g.uses.get(denominator, 1) != 1:
        return None
    for e, c in (g.args(denominator), g.args(denominator)[::-1]):
        if scalar_const(g, c, 1.0) and op_of(g, e) == "exp" and g.uses.get(e, 1) == 1:
            return ("sigmoid", (g.add("neg", g.args(e)),), {})  # 1 / (1 + exp(z)) too
    return None


@rule("log", "stable", "log(sigmoid(x)) -> -softplus(-x)")
def _log_sigmoid(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    x = args[0]
    if op_of(g, x) == "sigmoid":
        return ("neg", (g.add("softplus", (g.add("neg", g.args(x)),)),), {})
    if op_of(g, x) == "sub" and scalar_const(g, g.args(x)[0], 1.0) \
            and op_of(g, g.args(x)[1]) == "sigmoid":
        return ("neg", (g.add("softplus", g.args(g.args(x)[1])),), {})  # log(1 - sigmoid)
    return None


@rule("log", "stable", "log(sum(exp(x))) -> logsumexp(x)")
def _log_sum_exp(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    s = args[0]
    if op_of(g, s) == "sum" and op_of(g, g.args(s)[0]) == "exp":
        p = g.attrs(s)["params"]
        return ("logsumexp", g.args(g.args(s)[0]), {"axis": p["axis"],
                                                    "keepdims": p["keepdims"]})
    return None


@rule("log", "stable", "log(softmax(x)) -> log_softmax(x)")
def _log_softmax(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    if op_of(g, args[0]) == "softmax":
        return ("log_softmax", g.args(args[0]), dict(g.attrs(args[0])["params"]))
    return None


@rule("log", "stable", "log(exp(x)) -> x")
def _log_exp(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    return g.args(args[0])[0] if op_of(g, args[0]) == "exp" else None


@rule("neg", "stable", "-mean(sum(y * log_softmax(x))) -> cross_entropy(x, y)")
def _cross_entropy(g: RuleView, op: str, args: tuple, params: dict) -> Rewrite:
    m = args[0]
    if op_of(g, m) != "mean" or g.attrs(m)["params"]["axis"] not in (None, 0, -1):
        return None
    s = g.args(m)[0]
    if op_of(g, s) != "sum" or g.attrs(s)["params"]["axis"] not in (-1, 1) \
            or g.attrs(s)["params"]["keepdims"] or len(g.shape(g.args(s)[0])) != 2:
        return None
    prod = g.args(s)[0]
    if op_of(g, prod) != "mul":
        return None
    for ls, labels in (g.args(prod), g.args(prod)[::-1]):
        if op_of(g, ls) == "log_softmax" and g.attrs(ls)["params"]["axis"] in (-1, 1) \
                and g.shape(labels) == g.shape(g.args(ls)[0]):
            return ("cross_entropy", (g.args(ls)[0], labels), {})
    return None
