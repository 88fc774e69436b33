"""The bad-input corpus: hostile names, text, semantics, files and options, generated.

``cases()`` builds the same list on every run (a seeded generator, no clock, no
environment). Each case is a ``graphc`` command line and the files it runs on; the
checks (``problems``) hold for every case whatever graphc decides:

- the command ends within ``TIME_LIMIT`` seconds with exit status 0, 1 or 2, and no
  exception escapes ``graphc.cli.main`` (no traceback);
- an error says ``FILE:LINE:COL: error: ...`` (text errors) or ``WHERE: error: ...``;
- no raw NumPy warning reaches the user;
- a failed command leaves its folder as it found it, a successful one writes only the
  outputs it was asked for, each one whole (a module parses, a picture ends);
- an accepted ``eval`` prints the numbers JAX computes for the same program (each
  program carries its JAX twin, written alongside its text), and an accepted
  ``compile`` prints a module whose ``value_and_grad`` computes those numbers too.

``python tests/corpus.py`` runs the corpus and prints the table by family (``-v``: and
every failing case); ``python tests/corpus.py --jax`` refreshes JAX's stored numbers.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import json
import keyword
import os
import random
import re
import signal
import sys
import traceback
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TIME_LIMIT = 5.0
"""Seconds one case may take; a hang is a failure, reported as such."""

FAMILIES = ("names", "text", "semantics", "files", "options")

Twin = Callable[..., Any]  # jax.numpy function of the inputs, by name


@dataclass
class Case:
    """One command line; ``{d}`` in argv and stdin stands for the case's own folder."""

    id: str
    family: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    twin: Twin | None = None  # the program in jax.numpy, when it is accepted
    at: dict[str, Any] | None = None  # the inputs the twin is called with
    wrt: list[str] | None = None  # gradients printed (default: every name in at)
    outputs: tuple[str, ...] = ()  # files a success writes (relative to the folder)
    accept: bool | None = None  # True: must be accepted; False: must be refused
    text_error: bool = False  # an error must name FILE:LINE:COL
    stdin: str = ""
    slow: bool = False
    setup: Callable[[Path], None] | None = None  # make links, folders, FIFOs


# ---------------------------------------------------------------------------- helpers


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple, np.ndarray)):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    return repr(float(v))


def at_text(at: dict[str, Any]) -> str:
    """``{"a": 2, "b": [1, 2]}`` -> ``a=2.0,b=[1.0,2.0]``."""
    return ",".join(f"{k}={_fmt(v)}" for k, v in at.items())


def _eval_case(cid: str, family: str, text: str | bytes, at: dict[str, Any],
               twin: Twin | None, extra: tuple[str, ...] = (), **kw: Any) -> Case:
    argv = ["eval", "{d}/p.gc", "--at", at_text(at), *extra]
    return Case(cid, family, argv, {"p.gc": text}, twin=twin, at=at, **kw)


# ------------------------------------------------------------------------------ names

_OP_NAMES = ["abs", "add", "add_slice", "alias", "basis", "batch_size", "broadcast_like", "const",
             "cos", "cross_entropy", "div", "elu", "eq", "exp", "expand_dims", "from_directions",
             "ge", "gt", "heaviside", "input", "le", "leaky_relu", "lift", "log", "log_softmax",
             "logsumexp", "lt", "mT", "matmul", "maximum", "mean", "minimum", "mse", "mul", "ne",
             "neg", "ones_like", "outer", "pow", "relu", "reverse_last", "sigmoid", "sign", "sin",
             "size_ratio", "slice", "softmax", "softplus", "spread", "sqrt", "sub", "sum",
             "sum_to", "tan", "tanh", "transpose", "unslice", "where", "zeros_like"]
_OP_NAMES_FEW = ["add", "neg", "sum", "where", "gt", "sum_to", "ones_like", "mean", "relu", "exp",
                 "alias", "const", "input", "transpose", "matmul", "maximum", "lift", "basis"]
_HELPERS = ["_softmax", "_log_softmax", "_logsumexp", "_cross_entropy", "_mse", "_basis",
            "_sum_along", "_max_along", "_short_rows", "_from_directions", "_lift", "_spread",
            "_unslice", "_slice_np", "_reverse_last", "_add_slice", "_size_ratio"]
_BUILTINS = ["print", "len", "max", "min", "pow", "round", "input", "id", "type", "object",
             "float", "int", "list", "dict", "str", "range", "open", "eval", "exec", "compile",
             "globals", "locals", "vars", "getattr", "setattr", "__import__", "__builtins__",
             "__name__", "__file__", "__spec__", "__class__", "__dict__", "self", "cls", "super",
             "Exception", "isinstance", "hash", "iter", "next", "zip", "map", "filter", "any",
             "all", "bool"]
_INTERNALS = ["np", "numpy", "math", "sys", "os", "jax", "sp", "sympy", "forward",
              "value_and_grad", "grads", "grad", "value", "fn", "out", "result", "jacobian",
              "hessian", "vjp", "jvp", "hvp", "seed", "ones", "zeros", "array", "dot", "einsum",
              "float64", "float32", "inf", "nan", "e", "pi", "_", "__", "___", "_0", "__x",
              "__x__", "x__", "l", "O", "I", "match", "case", "scalar", "any"]
_SUFFIXED = ["x_bar", "x_dot", "a_bar", "b_bar", "y_bar", "y_dot", "y_1", "y_2", "a_1", "N_1",
             "e_bar", "c_dot", "x_bar_bar", "tmp_0", "t0", "t1", "v_1"]
_UNICODE = ["π", "ñ", "变量", "ℌ", "ﬁ", "x\u0304", "Δx", "αβγ", "ǅ", "x²", "ｘ", "Ω", "µ",
            "\u00b5", "ⅱ", "x\u200b", "é", "e\u0301", "𝑥", "ⅷ"]
_LONG = ["a" * 255, "v" * 5000, "x" + "_" * 100, "Long" + "0" * 300]
_KEYWORDS = list(keyword.kwlist)


def _name_cases() -> list[Case]:
    names = [*_KEYWORDS, *_OP_NAMES, *_HELPERS, *_BUILTINS, *_INTERNALS, *_SUFFIXED,
             *_UNICODE, *_LONG]
    everywhere = {*_OP_NAMES_FEW[::2], *_SUFFIXED[::2], *_UNICODE, *_LONG, *_INTERNALS[::6],
                  *_BUILTINS[::8], *_HELPERS[::8]}
    out: list[Case] = []
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            continue
        seen.add(n)
        out += _name_roles(n, f"{i:03d}", n in everywhere)
    return out


def _name_roles(n: str, tag: str, full: bool) -> list[Case]:
    import_jnp = _jnp
    cases: list[Case] = []
    # keywords cannot be names: whatever graphc says, it must say it cleanly
    op_named = n in _OP_NAMES
    jnp = import_jnp

    def mk(role: str, text: str, at: dict, twin: Twin | None, extra=(), **kw) -> None:
        cases.append(_eval_case(f"names-{tag}-{role}", "names", text, at, twin, extra, **kw))

    mk("input", f"y = {n} * 2.0 + sin({n})\n", {n: 0.5},
       lambda **v: v[n] * 2.0 + jnp().sin(v[n]))
    if n in _KEYWORDS:
        return cases
    # a user's wire named like an internal op (CS231n's `neg = -dot`) is the user's
    must = True if op_named and n not in ("input",) else None
    mk("output", f"{n} = a * b + 1\n", {"a": 1.5, "b": -0.5},
       lambda a, b: a * b + 1, accept=must)
    mk("middle", f"{n} = a * 3\ny = {n} * {n} + a\n", {"a": 0.7},
       lambda a: (a * 3) ** 2 + a, accept=must)
    if not full:
        return cases
    mk("lambda", f"{n} = lambda u: u * u + 1\ny = {n}(a) * 2\n", {"a": 1.25},
       lambda a: (a * a + 1) * 2)
    mk("param", f"f = lambda {n}: {n} * {n} - {n}\ny = f(a) + a\n", {"a": -0.5},
       lambda a: a * a - a + a)
    mk("declared", f"{n}: [3]\ny = sum({n} * {n})\n", {n: [1.0, -2.0, 0.5]},
       lambda **v: jnp().sum(v[n] * v[n]))
    cases.append(Case(f"names-{tag}-of", "names",
                      ["eval", "{d}/p.gc", "--at", at_text({"a": 2.0}), "--of", n],
                      {"p.gc": f"{n} = a * 2\ny = {n} + 1\n"}, twin=lambda a: a * 2,
                      at={"a": 2.0}))
    cases.append(Case(f"names-{tag}-wrt", "names",
                      ["eval", "{d}/p.gc", "--at", at_text({n: 3.0, "a": -1.0}), "--wrt", n],
                      {"p.gc": f"y = {n} * a + {n}\n"}, twin=lambda **v: v[n] * v["a"] + v[n],
                      at={n: 3.0, "a": -1.0}, wrt=[n]))
    cases.append(Case(f"names-{tag}-module", "names", ["compile", "{d}/p.gc"],
                      {"p.gc": f"{n} = a * b\ny = exp({n}) + {n} * a\n"},
                      twin=lambda a, b: jnp().exp(a * b) + a * b * a, at={"a": 0.3, "b": -1.2}))
    return cases


def _jnp() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jnp


def _nn() -> Any:
    import jax

    return jax.nn


# ------------------------------------------------------------------------------- text

_BAD_LINES = [
    "y = (a + b", "y = ", "= a", "y == a", "y = a +* b", "  y = a", "if a: y = 1",
    "for i in a: y = i", "import os", "from os import path", "y = a if b else a",
    "y = [a]", "y = a[0]", "y = 'text'", "y = b'x'", "y = 1j", "y = a.b", "y = a.T.real",
    "y = f'{a}'", "y = a // b", "y = a % b", "y = not a", "y = ~a", "y = a < b",
    "y = a and b", "y = (z := a)", "y = *a", "y = {a}", "y = {}", "y = {1: a}",
    "y = lambda: 1", "y = lambda x: lambda z: z", "y = lambda x=1: x", "y = lambda *x: 1",
    "y = lambda x, x: x", "del a", "pass", "a, b = 1, 2", "y = z = a", "y += a",
    "y: [3] = a", "y.x = a", "y[0] = a", "async def f(): pass", "@d\ndef f(): pass",
    "global a", "y = await a", "y = yield", "y = sum(a for a in b)", "y = exp(*a)",
    "y = exp(**a)", "y = exp(a, b)", "y = exp()", "y = sum(a, axis=1.5)",
    "y = sum(a, axis='x')", "y = sum(a, foo=1)", "y = exp(x=a)", "print(a)",
    "y = __import__('os')", "y = open('f')", "y = eval('1')", "y = a.__class__",
    "y = np.exp(a)", "y = (a)(b)", "y = exp(a)(b)", "y = a @ ", "y = a ** ** b",
    "y = a ; z = ", "y = a b", "y = a\\", "y = (a,)", "y = ...", "y = None",
    "y = True + a", "y = a if a", "class C: pass", "def f(x): return x", "return a",
    "with a: pass", "try:\n  y = a\nexcept: pass", "assert a", "raise a", "y = [i for i in a]",
    "y = a @@ b", "y = a ** -", "y = exp(a,)", "y = foo(a)", "y = a(1)", "y = 2(a)",
    "y = a.T(1)", "y = a.mT.mT", "x: str", "x: [3, -1]", "x: [3.5]", "x: [a + 1]", "x: 3",
    "x: [3]\nx: [4]", "y = a\ny: [3]", "x: [3] = 1", "f = lambda u: u\nf: [3]",
    "f = lambda u: u\ny = f", "f = lambda u: u\ny = f(a, a)", "f = lambda u: v",
    "f = lambda u: sum(u)", "f = lambda u: g(u)", "f = lambda u: u\nf = lambda u: u * 2",
    "y = a\ny = lambda u: u", "f = lambda u: f(u)", "y = f(a)\nf = lambda u: u",
    "y = a\x00", "y = a \u2212 b", "y = a \u00d7 b", "y = a\u00a0+ b", "y = 😀",
    "😀 = a", "y = a # trailing", "y = a\\\n  + b", "y = (a +\n b)",
    # axes of an undeclared input (its rank is known at call time only); a dimension's name
    "y = flip(a, axis=0)", "y = fliplr(a)", "y = roll(a, 1, axis=0)", "y = sum(a, axis=1)",
    "y = cumsum(a, axis=0)", "y = sort(a)", "y = swapaxes(a, 0, 1)", "y = a[1:]",
    "y = expand_dims(a, 1)", "y = softmax(a)", "x: [T, D]\nD = a", "x: [N]\nN: scalar",
]

_GOOD_TEXTS: list[tuple[str, str | bytes, dict, Twin]] = []


def _good_texts() -> list[tuple[str, str | bytes, dict, Twin]]:
    jnp = _jnp
    base = "c = a + b\nd = b + 1\ne = c * d\n"

    def colah(a, b):
        return (a + b) * (b + 1)

    at = {"a": 2.0, "b": 1.0}
    deep = 60
    nested = "(" * deep + "a" + ")" * deep
    chain = " + ".join(["a"] * 500)
    exps = "a"
    for _ in range(40):
        exps = f"sin({exps})"

    def sins(a):
        for _ in range(40):
            a = jnp().sin(a)
        return a

    reassign = "y = a\n" + "y = y * 0.5 + a\n" * 300

    def reassigned(a):
        y = a
        for _ in range(300):
            y = y * 0.5 + a
        return y

    return [
        ("plain", base, at, colah),
        ("bom", "\ufeff" + base, at, colah),
        ("bom-bytes", b"\xef\xbb\xbf" + base.encode(), at, colah),
        ("crlf", base.replace("\n", "\r\n"), at, colah),
        ("cr", base.replace("\n", "\r"), at, colah),
        ("tabs-inside", "c = a\t+\tb\nd = b + 1\ne = c\t*\td\n", at, colah),
        ("no-newline", base.rstrip("\n"), at, colah),
        ("trailing-space", base.replace("\n", "   \n"), at, colah),
        ("blank-lines", "\n\n" + base.replace("\n", "\n\n\n"), at, colah),
        ("comments", "# c\n" + base.replace("\n", "  # note é ∂\n") + "# end\n", at, colah),
        ("shebang", "#!/usr/bin/env graphc\n" + base, at, colah),
        ("coding", "# -*- coding: utf-8 -*-\n" + base, at, colah),
        ("semicolons", "c = a + b; d = b + 1; e = c * d\n", at, colah),
        ("continuation", "c = a + \\\n    b\nd = b + 1\ne = c * d\n", at, colah),
        ("parens-multiline", "c = (a +\n  b)\nd = b + 1\ne = c * d\n", at, colah),
        ("formfeed", "\x0c" + base, at, colah),
        ("nested-60", f"y = {nested} * 2\n", {"a": 1.5}, lambda a: a * 2),
        ("chain-500", f"y = {chain}\n", {"a": 1.5}, lambda a: a * 500),
        ("sin-40", f"y = {exps}\n", {"a": 0.9}, sins),
        ("reassign-300", reassign, {"a": 0.25}, reassigned),
        ("unicode-names", "ä = a * 2\n变量 = ä + 1\n", {"a": 1.0}, lambda a: a * 2 + 1),
        ("literal-forms", "y = a * 1_000 + 0x10 + 0o7 + 0b11 + 1e-3 + .5\n", {"a": 1.0},
         lambda a: a * 1000 + 16 + 7 + 3 + 1e-3 + 0.5),
        ("tiny-literal", "y = a * 1e-320 + a\n", {"a": 3.0}, lambda a: a * 1e-320 + a),
        ("unary-chain", "y = " + "-" * 40 + "a + " + "+-" * 20 + "a\n", {"a": 2.0},
         lambda a: a + a),
    ]


def _text_cases() -> list[Case]:
    cases: list[Case] = []
    commands = (("eval", ["--at", "a=1.0,b=2.0"]), ("compile", []), ("verify",
                ["--at", "a=1.0,b=2.0"]), ("render", ["-o", "{d}/out.dot"]))
    for i, line in enumerate(_BAD_LINES):
        for j, prefix in enumerate(("", "c = a + b\n# comment\n")):
            cmd, extra = commands[(i + j) % len(commands)]
            text = prefix + line + "\n"
            outputs = ("out.dot",) if cmd == "render" else ()
            cases.append(Case(f"text-bad-{i:03d}-{j}", "text", [cmd, "{d}/p.gc", *extra],
                              {"p.gc": text}, outputs=outputs, text_error=True))
    # empty and near-empty files are refused
    for k, text in enumerate(["", "\n", "   \n\t\n", "# only a comment\n", "a: [3]\n",
                              "f = lambda u: u\n", "\ufeff", "\ufeff# c\n", "\r\n\r\n"]):
        cases.append(Case(f"text-empty-{k}", "text", ["eval", "{d}/p.gc", "--at", "a=1.0"],
                          {"p.gc": text}, accept=False))
    for name, text, at, twin in _good_texts():
        cases.append(_eval_case(f"text-good-{name}", "text", text, at, twin, accept=True))
    # bytes that are no UTF-8, or no text at all
    for k, raw in enumerate([b"y = a\xff\n", b"\xff\xfe" + "y = a\n".encode("utf-16-le"),
                             b"y = \xed\xa0\x80\n", b"\x00\x01\x02", os.urandom(0) or b"\x80",
                             "y = a\n".encode("utf-32"), b"y = a\n\x1a", b"y = 'a\xe9'\n"]):
        cases.append(Case(f"text-bytes-{k}", "text", ["eval", "{d}/p.gc", "--at", "a=1.0"],
                          {"p.gc": raw}, text_error=False))
    # sizes that stress the parser: deep, long, many lines
    big = [
        ("paren-1000", "y = " + "(" * 1000 + "a" + ")" * 1000 + "\n"),
        ("paren-100k", "y = " + "(" * 100_000 + "a" + ")" * 100_000 + "\n"),
        ("unary-5000", "y = " + "-" * 5000 + "a\n"),
        ("sin-300", "y = " + "sin(" * 300 + "a" + ")" * 300 + "\n"),
        ("sum-20000", "y = " + " + ".join(["a"] * 20_000) + "\n"),
        ("pow-chain", "y = " + " ** ".join(["a"] * 300) + "\n"),
        ("digits-5000", "y = a * " + "7" * 5000 + "\n"),
        ("digits-4301", "y = a + " + "1" * 4301 + "\n"),
        ("digits-400", "y = a + " + "9" * 400 + "\n"),
        ("float-digits", "y = a + " + "1" * 5000 + ".5\n"),
        ("long-line", "y = a" + " + 1.0" * 20_000 + "\n"),
        ("lines-3000", "y0 = a\n" + "".join(f"y{k} = y{k - 1} + a\n" for k in range(1, 3000))),
    ]
    for name, text in big:
        cases.append(Case(f"text-big-{name}", "text", ["eval", "{d}/p.gc", "--at", "a=1.0"],
                          {"p.gc": text}, slow=name in ("paren-100k", "sum-20000", "long-line")))
    return cases


# -------------------------------------------------------------------------- semantics


def _semantic_cases() -> list[Case]:
    jnp, nn = _jnp, _nn
    cases: list[Case] = []

    def ev(cid: str, text: str, at: dict, twin: Twin | None = None, extra=(), **kw) -> None:
        cases.append(_eval_case(f"sem-{cid}", "semantics", text, at, twin, extra, **kw))

    # values at the edges: kinks, zeros, infinities (graphc documents JAX's conventions)
    for x in (0.0, -0.0, 1e-300, -2.0, 1e300, float("inf"), float("-inf"), float("nan")):
        k = _fmt(x).replace("'", "")
        ev(f"relu-{k}", "y = relu(x)\n", {"x": x}, lambda x: nn().relu(x))
        ev(f"abs-{k}", "y = abs(x)\n", {"x": x}, lambda x: jnp().where(x >= 0, x, -x))
        ev(f"sigmoid-{k}", "y = sigmoid(x)\n", {"x": x}, lambda x: nn().sigmoid(x))
        ev(f"tanh-{k}", "y = tanh(x)\n", {"x": x}, lambda x: jnp().tanh(x))
        ev(f"softplus-{k}", "y = softplus(x)\n", {"x": x}, lambda x: nn().softplus(x))
        if x == x:  # at nan JAX's maximum passes 0 gradient, NumPy-minded graphc nan
            ev(f"max-{k}", "y = maximum(x, 1.0)\n", {"x": x}, lambda x: jnp().maximum(x, 1.0))
        ev(f"leaky-{k}", "y = leaky_relu(x, 0.1)\n", {"x": x}, lambda x: nn().leaky_relu(x, 0.1))
        ev(f"sqrt-{k}", "y = sqrt(x)\n", {"x": x}, lambda x: jnp().sqrt(x))
        ev(f"log-{k}", "y = log(x)\n", {"x": x}, lambda x: jnp().log(x))
        ev(f"div-{k}", "y = 1 / x\n", {"x": x}, lambda x: 1 / x)
        ev(f"square-{k}", "y = x * x\n", {"x": x}, lambda x: x * x)
        ev(f"cube-{k}", "y = x ** 3\n", {"x": x}, lambda x: x ** 3)
    ev("max-tie", "y = maximum(x, 2.0 * z) + minimum(x, z + 1.0)\n", {"x": 2.0, "z": 1.0},
       lambda x, z: jnp().maximum(x, 2.0 * z) + jnp().minimum(x, z + 1.0))
    # constants that NumPy makes inf or nan (item 4: they must compile and compute)
    consts = {"inf": ("1e999", float("inf")), "ninf": ("-1e999", float("-inf")),
              "nan": ("1e999 - 1e999", float("nan")), "bigint": ("10 ** 400", None),
              "pow1024": ("2 ** 1024", float("inf")), "pow10": ("10 ** 10 ** 10", float("inf")),
              "div0": ("1 / 0", float("inf")), "zeropow": ("0 ** -1", float("inf")),
              "cuberoot": ("(-8) ** (1 / 3)", float("nan")), "sqrtm1": ("(-1) ** 0.5",
                                                                          float("nan")),
              "zerozero": ("0 ** 0", 1.0), "ndiv0": ("-1 / 0", float("-inf")),
              "zdiv0": ("0 / 0", float("nan")), "huge-mul": ("1e308 * 10", float("inf"))}
    for k, (expr, val) in consts.items():
        if val is None:
            ev(f"const-{k}", f"y = x + {expr}\n", {"x": 1.0})
            continue
        ev(f"const-{k}", f"y = x * 0.5 + {expr}\n", {"x": 1.0},
           lambda x, val=val: x * 0.5 + val, accept=True)
        ev(f"const-mul-{k}", f"y = x * ({expr})\n", {"x": 2.0}, lambda x, val=val: x * val,
           accept=True)
    # shapes that do not fit, axes that do not exist, ops used wrongly
    bad = {
        "add-mismatch": ("x: [3]\nz: [4]\ny = sum(x + z)\n", {"x": [1, 2, 3], "z": [1, 2, 3, 4]}),
        "matmul-mismatch": ("A: [2, 3]\nB: [2, 3]\ny = sum(A @ B)\n",
                            {"A": np.ones((2, 3)), "B": np.ones((2, 3))}),
        "matmul-scalars": ("y = a @ b\n", {"a": 1.0, "b": 2.0}),
        "axis-2": ("x: [3]\ny = sum(sum(x, axis=2))\n", {"x": [1, 2, 3]}),
        "axis-neg3": ("x: [2, 3]\ny = sum(mean(x, axis=-3))\n", {"x": np.ones((2, 3))}),
        "axis-dup": ("x: [2, 3]\ny = sum(x, axis=(0, 0))\n", {"x": np.ones((2, 3))}),
        "axis-none-kw": ("x: [3]\ny = sum(x, axis=None)\n", {"x": [1, 2, 3]}),
        "keepdims-none": ("x: [3]\ny = sum(sum(x, keepdims=None))\n", {"x": [1, 2, 3]}),
        "softmax-axis5": ("x: [3]\ny = sum(softmax(x, axis=5))\n", {"x": [1, 2, 3]}),
        "transpose-1d": ("x: [3]\ny = sum(x.T * x)\n", {"x": [1, 2, 3]}),
        "transpose-0d": ("y = a.T * 2\n", {"a": 1.0}),
        "mse-mismatch": ("p: [3]\nt: [4]\ny = mse(p, t)\n", {"p": [1, 2, 3], "t": [1, 2, 3, 4]}),
        "ce-1d": ("l: [3]\nt: [3]\ny = cross_entropy(l, t)\n", {"l": [1, 2, 3], "t": [0, 1, 0]}),
        "ce-mismatch": ("l: [2, 3]\nt: [2, 4]\ny = cross_entropy(l, t)\n",
                        {"l": np.ones((2, 3)), "t": np.ones((2, 4))}),
        "dim-bound-twice": ("x: [N]\nz: [N]\ny = sum(x * z)\n", {"x": [1, 2], "z": [1, 2, 3]}),
        "declared-wrong-shape": ("x: [3]\ny = sum(x)\n", {"x": [1, 2]}),
        "declared-scalar-array": ("x: scalar\ny = x * 2\n", {"x": [1, 2]}),
        "declared-2d-given-1d": ("x: [2, 2]\ny = sum(x)\n", {"x": [1, 2, 3, 4]}),
        "undeclared-vs-declared": ("x: [3]\ny = sum(x * u)\n", {"x": [1, 2, 3], "u": [1, 2]}),
        "undeclared-pair": ("y = sum(u * v)\n", {"u": [1, 2, 3], "v": [1, 2]}),
        "missing-input": ("y = a * b\n", {"a": 1.0}),
        "extra-input": ("y = a * 2\n", {"a": 1.0, "zz": 2.0}),
        "reverse-last": ("x: [3]\ny = sum(reverse_last(x))\n", {"x": [1, 2, 3]}),
        "lift": ("y = lift(a) * 2\n", {"a": 1.0}),
        "expand-dims": ("x: [3]\ny = sum(expand_dims(x))\n", {"x": [1, 2, 3]}),
        "slice-none": ("x: [3]\ny = sum(slice(x, axis=None))\n", {"x": [1, 2, 3]}),
        "batch-size": ("x: [3]\ny = batch_size(x) * 2\n", {"x": [1, 2, 3]}),
        "basis": ("x: [3]\ny = sum(basis(x))\n", {"x": [1, 2, 3]}),
        "spread": ("x: [3]\ny = sum(spread(x, x))\n", {"x": [1, 2, 3]}),
        "unslice": ("x: [3]\ny = sum(unslice(x, x))\n", {"x": [1, 2, 3]}),
        "sum-to": ("x: [3]\ny = sum(sum_to(x, a))\n", {"x": [1, 2, 3], "a": 1.0}),
        "size-ratio": ("x: [3]\ny = size_ratio(x, a)\n", {"x": [1, 2, 3], "a": 1.0}),
        "from-directions": ("x: [3]\ny = sum(from_directions(x, x))\n", {"x": [1, 2, 3]}),
        "outer": ("x: [3]\ny = sum(outer(x, x))\n", {"x": [1, 2, 3]}),
        "mT-1d": ("x: [3]\ny = sum(mT(x))\n", {"x": [1, 2, 3]}),
        "zero-dim-mean": ("x: [0]\ny = mean(x)\n", {"x": []}),
        "zero-dim-softmax": ("x: [0]\ny = sum(softmax(x))\n", {"x": []}),
        "zero-dim-logsumexp": ("x: [0]\ny = logsumexp(x)\n", {"x": []}),
        "zero-dim-ce": ("l: [0, 3]\nt: [0, 3]\ny = cross_entropy(l, t)\n",
                        {"l": np.ones((0, 3)), "t": np.ones((0, 3))}),
        "zero-dim-matmul": ("A: [2, 0]\nB: [0, 2]\ny = sum(A @ B)\n",
                            {"A": np.ones((2, 0)), "B": np.ones((0, 2))}),
        "lambda-chain-30": ("f0 = lambda u: u * 0.5\n" + "".join(
            f"f{k} = lambda u: f{k - 1}(u) + f{k - 1}(u)\n" for k in range(1, 31))
            + "y = f30(a)\n", {"a": 1.0}),
        "lambda-deep-150": ("f = lambda u: " + "sin(" * 150 + "u" + ")" * 150 + "\ny = f(a)\n",
                            {"a": 0.5}),
        "lambdas-2000": ("f0 = lambda u: u + 1\n" + "".join(
            f"f{k} = lambda u: f{k - 1}(u)\n" for k in range(1, 2000)) + "y = f1999(a)\n",
            {"a": 0.5}),
    }
    for k, (text, at) in bad.items():
        ev(k, text, at)
        ev(f"{k}-fwd", text, at, extra=("--mode", "forward"))
    # the same programs with twins: declared, undeclared, 0-d and (n, 1) inputs
    twins: dict[str, tuple[str, dict, Twin]] = {
        "zero-dim-sum": ("x: [0]\ny = sum(x * x)\n", {"x": []}, lambda x: jnp().sum(x * x)),
        "zero-dim-elementwise": ("y = sin(x)\n", {"x": []}, lambda x: jnp().sin(x)),
        "ce-n1": ("l: [2, 1]\nt: [2, 1]\ny = cross_entropy(l, t)\n",
                  {"l": [[0.3], [1.2]], "t": [[1.0], [1.0]]},
                  lambda l, t: -jnp().sum(t * nn().log_softmax(l, -1)) / 2),  # noqa: E741
        "ce-labels-n1": ("l: [2, 3]\nt: [2, 1]\ny = cross_entropy(l, t)\n",
                         {"l": [[0.3, -1, 2], [1.2, 0.5, 0]], "t": [[1.0], [0.0]]},
                         lambda l, t: -jnp().sum(t * nn().log_softmax(l, -1)) / 2),  # noqa: E741
        "ce": ("l: [2, 3]\nt: [2, 3]\ny = cross_entropy(l, t)\n",
               {"l": [[0.3, -1, 2], [1.2, 0.5, 0]], "t": [[0.0, 1, 0], [1, 0, 0]]},
               lambda l, t: -jnp().sum(t * nn().log_softmax(l, -1)) / 2),  # noqa: E741
        "mse": ("p: [3]\nt: [3]\ny = mse(p, t)\n", {"p": [1, 2, 3], "t": [0.5, 2, 4]},
                lambda p, t: jnp().mean((p - t) ** 2) / 2),
        "sum-plus-scalar": ("y = sum(a * b) + a\n", {"a": 3.0, "b": [1, 2, 3, 4]},
                            lambda a, b: jnp().sum(a * b) + a),
        "sum-plus-sin": ("y = sum(a * b) + sum(sin(a))\n", {"a": 3.0, "b": [1, 2, 3, 4]},
                         lambda a, b: jnp().sum(a * b) + jnp().sin(a)),
        "mean-plus-mean": ("y = mean(a * b) + mean(a)\n", {"a": 3.0, "b": [1, 2, 3, 4]},
                           lambda a, b: jnp().mean(a * b) + a),
        "col-row": ("y = sum(a * b) + sum(a)\n", {"a": [[1.0], [2.0], [3.0]], "b": [1, 2, 3, 4]},
                    lambda a, b: jnp().sum(a * b) + jnp().sum(a)),
        "zero-d-beside": ("x: [3]\ns: scalar\ny = sum(x * s) + s\n", {"x": [1, 2, 3], "s": 2.0},
                          lambda x, s: jnp().sum(x * s) + s),
        "sub-precision": ("x: [3]\nz: [3]\ny = sum(z - x)\n",
                          {"x": [1e4, 1e4, 1e4], "z": [1e4 + 2e-4, 1e4, 1e4]},
                          lambda x, z: jnp().sum(z - x)),
        "sqrt-squared-lambda": ("f = lambda x: sqrt(x) ** 2\ny = f(a)\n", {"a": -2.0},
                                lambda a: jnp().sqrt(a) ** 2),
        "exp-log-lambda": ("f = lambda x: exp(log(x))\ny = f(a)\n", {"a": -2.0},
                           lambda a: jnp().exp(jnp().log(a))),
        "x2-over-x-lambda": ("f = lambda x: x ** 2 / x\ny = f(a)\n", {"a": 0.0},
                             lambda a: a ** 2 / a),
        "div-zero-w": ("y = w / 0\n", {"w": 1.0}, lambda w: w / 0.0),
        "self-reassign": ("y = y + 1\ny = y * y\n", {"y": 2.0}, lambda y: (y + 1) ** 2),
        "reassign-input": ("a = a * 2\nb = a + a\n", {"a": 1.5}, lambda a: 4 * a),
        "shadow-version": ("y = a\ny = y * 2\ny_1 = 5.0 * a\nz = y + y_1\n", {"a": 1.0},
                           lambda a: 2 * a + 5 * a),
        "matmul": ("A: [2, 3]\nB: [3, 2]\ny = sum(tanh(A @ B))\n",
                   {"A": [[1, 2, 3], [0, -1, 0.5]], "B": [[0.1, 0.2], [0.3, -0.4], [0.5, 0]]},
                   lambda A, B: jnp().sum(jnp().tanh(A @ B))),
        "matvec": ("A: [2, 3]\nv: [3]\ny = sum(A @ v)\n", {"A": [[1, 2, 3], [0, -1, 0.5]],
                                                          "v": [1, 2, 3]},
                   lambda A, v: jnp().sum(A @ v)),
        "softmax": ("x: [2, 3]\ny = sum(softmax(x) * x)\n", {"x": [[1, 2, 3], [0, -1, 0.5]]},
                    lambda x: jnp().sum(nn().softmax(x, -1) * x)),
        "logsumexp": ("x: [2, 3]\ny = sum(logsumexp(x))\n", {"x": [[1, 2, 3], [0, -1, 0.5]]},
                      lambda x: jnp().sum(nn().logsumexp(x, -1) if hasattr(nn(), "logsumexp")
                                          else _lse(x))),
        "log-softmax-axis0": ("x: [2, 3]\ny = sum(log_softmax(x, axis=0) * x)\n",
                              {"x": [[1, 2, 3], [0, -1, 0.5]]},
                              lambda x: jnp().sum(nn().log_softmax(x, 0) * x)),
        "mean-axis": ("x: [2, 3]\ny = sum(mean(x, axis=1) ** 2)\n",
                      {"x": [[1, 2, 3], [0, -1, 0.5]]},
                      lambda x: jnp().sum(jnp().mean(x, 1) ** 2)),
        "elementwise-array": ("y = a * sin(b)\n", {"a": 2.0, "b": [0.1, 0.2, 0.3]},
                              lambda a, b: a * jnp().sin(b)),
        "inf-input": ("y = exp(-a) * a\n", {"a": float("inf")}, lambda a: jnp().exp(-a) * a),
    }
    for k, (text, at, twin) in twins.items():
        ev(k, text, at, twin)
        ev(f"{k}-fwd", text, at, twin, extra=("--mode", "forward"))
    cases += _random_programs()
    return cases


def _lse(x: Any) -> Any:
    import jax.scipy.special as jsp

    return jsp.logsumexp(x, axis=-1)


# A typed random-program generator: every program is written twice, in graphc text and in
# jax.numpy, from the same tree; inputs mix undeclared scalars and arrays, declared
# matrices, 0-d and (n, 1) shapes; domains are kept safe so that the numbers are finite.

_UNARY = {
    "sin": lambda t: (f"sin({t[0]})", lambda v: _jnp().sin(t[1](v))),
    "cos": lambda t: (f"cos({t[0]})", lambda v: _jnp().cos(t[1](v))),
    "tanh": lambda t: (f"tanh({t[0]})", lambda v: _jnp().tanh(t[1](v))),
    "sigmoid": lambda t: (f"sigmoid({t[0]})", lambda v: _nn().sigmoid(t[1](v))),
    "softplus": lambda t: (f"softplus({t[0]})", lambda v: _nn().softplus(t[1](v))),
    "relu": lambda t: (f"relu({t[0]})", lambda v: _nn().relu(t[1](v))),
    "abs": lambda t: (f"abs({t[0]})", lambda v: _jnp().abs(t[1](v))),
    "neg": lambda t: (f"-({t[0]})", lambda v: -t[1](v)),
    "exp": lambda t: (f"exp(tanh({t[0]}))", lambda v: _jnp().exp(_jnp().tanh(t[1](v)))),
    "log": lambda t: (f"log(abs({t[0]}) + 0.5)", lambda v: _jnp().log(_jnp().abs(t[1](v)) + 0.5)),
    "sqrt": lambda t: (f"sqrt(({t[0]}) * ({t[0]}) + 0.25)",
                       lambda v: _jnp().sqrt(t[1](v) * t[1](v) + 0.25)),
    "tan": lambda t: (f"tan(tanh({t[0]}))", lambda v: _jnp().tan(_jnp().tanh(t[1](v)))),
    "square": lambda t: (f"({t[0]}) ** 2", lambda v: t[1](v) ** 2),
    "cube": lambda t: (f"({t[0]}) ** 3", lambda v: t[1](v) ** 3),
    "rsqrt": lambda t: (f"(({t[0]}) * ({t[0]}) + 1) ** -0.5", lambda v: (t[1](v) ** 2 + 1) ** -0.5),
    "leaky": lambda t: (f"leaky_relu({t[0]}, 0.1)", lambda v: _nn().leaky_relu(t[1](v), 0.1)),
    "elu": lambda t: (f"elu({t[0]}, 1.0)", lambda v: _nn().elu(t[1](v), 1.0)),
    "scale": lambda t: (f"({t[0]}) * 0.5", lambda v: t[1](v) * 0.5),
}
_BINARY = {
    "add": lambda a, b: (f"({a[0]}) + ({b[0]})", lambda v: a[1](v) + b[1](v)),
    "sub": lambda a, b: (f"({a[0]}) - ({b[0]})", lambda v: a[1](v) - b[1](v)),
    "mul": lambda a, b: (f"({a[0]}) * ({b[0]})", lambda v: a[1](v) * b[1](v)),
    "div": lambda a, b: (f"({a[0]}) / (({b[0]}) * ({b[0]}) + 1)",
                         lambda v: a[1](v) / (b[1](v) * b[1](v) + 1)),
    "max": lambda a, b: (f"maximum({a[0]}, {b[0]})", lambda v: _jnp().maximum(a[1](v), b[1](v))),
    "min": lambda a, b: (f"minimum({a[0]}, {b[0]})", lambda v: _jnp().minimum(a[1](v), b[1](v))),
}

# contexts: input name -> (declaration or None, the shape of its value). An undeclared
# input is a scalar to the parser (tensor ops see shape ()) and an array at run time.
_CONTEXTS = {
    "undeclared": {"a": (None, ()), "b": (None, (4,)), "c": (None, ())},
    "declared": {"X": ("[2, 3]", (2, 3)), "v": ("[3]", (3,)), "s": ("scalar", ()),
                 "a": (None, ())},
    "column": {"p": (None, (3, 1)), "q": (None, (4,)), "a": (None, ())},
    "matrix": {"A": ("[2, 3]", (2, 3)), "W": ("[3, 2]", (3, 2)), "u": (None, ()),
               "r": ("[2]", (2,))},
    "mixed": {"X": ("[2, 3]", (2, 3)), "b": (None, (3,)), "k": (None, (2, 1)),
              "s": ("scalar", ())},
}


def _typed(decl: str | None, shape: tuple) -> tuple:
    return shape if decl else ()


class _Gen:
    def __init__(self, rng: random.Random, inputs: dict[str, tuple[str | None, tuple]]):
        self.rng, self.inputs = rng, inputs
        self.used: list[str] = []

    def leaf(self, shape: tuple, exact: bool = False) -> tuple[str, Callable]:
        """An input (or a number) whose shape broadcasts to ``shape``; with ``exact``, one
        the parser sees as ``shape`` itself (tensor ops check shapes at parse time)."""
        typed = {n: _typed(*d) for n, d in self.inputs.items()}
        fits = [n for n, s in typed.items()
                if s == shape or s == () or (len(s) <= len(shape) and _broadcasts(s, shape))]
        exact_fits = [n for n in fits if typed[n] == shape]
        if exact and shape or exact_fits and self.rng.random() < 0.6:
            n = self.rng.choice(exact_fits)
        elif fits and self.rng.random() < 0.9:
            n = self.rng.choice(fits)
        else:
            c = round(self.rng.uniform(-2, 2), 2) or 1.5
            return (f"({c})" if c < 0 else str(c)), (lambda v, c=c: c)
        if n not in self.used:
            self.used.append(n)
        return n, (lambda v, n=n: v[n])

    def expr(self, shape: tuple, depth: int, exact: bool = False) -> tuple[str, Callable]:
        r = self.rng.random()
        if depth <= 0 or r < 0.15:
            return self.leaf(shape, exact)
        if r < 0.45:
            return self.rng.choice(list(_UNARY.values()))(self.expr(shape, depth - 1, exact))
        if r < 0.75:
            return self.rng.choice(list(_BINARY.values()))(self.expr(shape, depth - 1, exact),
                                                            self.expr(shape, depth - 1))
        return self.reduction(shape, depth)

    def reduction(self, shape: tuple, depth: int) -> tuple[str, Callable]:
        jnp = _jnp
        shapes = sorted({_typed(*d) for d in self.inputs.values()})
        bigger = [s for s in shapes if len(s) == len(shape) + 1
                  and (not shape or s[1:] == shape or s[:-1] == shape)]
        if shape == () and self.rng.random() < 0.7:
            inner_shape = self.rng.choice(shapes)
            t = self.expr(inner_shape, depth - 1, True)
            kind = self.rng.choice(["sum", "mean", "sum", "logsumexp", "mse"])
            if kind == "logsumexp" and inner_shape == ():
                kind = "sum"
            if kind == "sum":
                return f"sum({t[0]})", lambda v: jnp().sum(t[1](v))
            if kind == "mean":
                return f"mean({t[0]})", lambda v: jnp().mean(t[1](v))
            if kind == "mse":
                u = self.expr(inner_shape, depth - 1, True)
                return (f"mse({t[0]}, {u[0]})",
                        lambda v: jnp().mean((t[1](v) - u[1](v)) ** 2) / 2)
            if inner_shape == ():  # logsumexp of an undeclared input: not a tensor op here
                return f"sum({t[0]})", lambda v: jnp().sum(t[1](v))
            if len(inner_shape) == 1:
                return f"logsumexp({t[0]})", lambda v: _lse(t[1](v))
            return f"sum(logsumexp({t[0]}))", lambda v: jnp().sum(_lse(t[1](v)))
        if bigger:
            s = self.rng.choice(bigger)
            axis = 0 if s[1:] == shape else len(s) - 1
            t = self.expr(s, depth - 1, True)
            kind = self.rng.choice(["sum", "mean"])
            f = jnp().sum if kind == "sum" else jnp().mean
            return (f"{kind}({t[0]}, axis={axis})", lambda v: f(t[1](v), axis=axis))
        if shape and self.rng.random() < 0.5:
            t = self.expr(shape, depth - 1, True)
            kind = self.rng.choice(["softmax", "log_softmax"])
            f = getattr(_nn(), kind)
            return f"{kind}({t[0]})", lambda v: f(t[1](v), axis=-1)
        if len(shape) == 2 and shape[::-1] in shapes:
            t = self.expr(shape[::-1], depth - 1, True)
            return f"({t[0]}).T", lambda v: t[1](v).T
        mats = {s for s in shapes if len(s) == 2}
        for m in sorted(mats):
            for k in sorted(mats):
                if len(shape) == 2 and m[0] == shape[0] and k == (m[1], shape[1]):
                    a, b = self.expr(m, depth - 1, True), self.expr(k, depth - 1, True)
                    return f"({a[0]}) @ ({b[0]})", lambda v, a=a, b=b: a[1](v) @ b[1](v)
        return self.leaf(shape, True)


def _broadcasts(small: tuple, big: tuple) -> bool:
    return all(x in (1, y) for x, y in zip(small[::-1], big[::-1]))


def _random_programs(n: int = 90) -> list[Case]:
    rng = random.Random(17)
    cases = []
    for i in range(n):
        ctx_name = list(_CONTEXTS)[i % len(_CONTEXTS)]
        inputs = _CONTEXTS[ctx_name]
        gen = _Gen(rng, inputs)
        lines, env = [], {}
        t1 = gen.expr(rng.choice(sorted({_typed(*d) for d in inputs.values()})), 3)
        t2 = gen.reduction((), 3) if rng.random() < 0.8 else gen.expr((), 3)
        # summed: an undeclared input may make t2 an array at call time, and a
        # gradient of an array output is refused (gc.jacobian, gc.vjp), not summed
        body = f"h = {t1[0]}\ny = sum(sum(h) * 0.5 + {t2[0]})\n"
        if not gen.used:
            continue
        for name in gen.used:
            decl, shape = inputs[name]
            if decl:
                lines.append(f"{name}: {decl}")
            env[name] = np.round([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(shape)))],
                                 3).reshape(shape) if shape else round(rng.uniform(-1.5, 1.5), 3)
        text = "\n".join(lines + [body])
        order = gen.used  # declared ones first in the text; first use otherwise
        declared = [n for n in order if inputs[n][0]]
        order = declared + [n for n in order if n not in declared]
        at = {n: env[n] for n in order}
        f1, f2 = t1[1], t2[1]

        def twin(*, f1=f1, f2=f2, **v):
            return _jnp().sum(_jnp().sum(f1(v)) * 0.5 + f2(v))

        for mode in ("reverse", "forward"):
            # forward mode may refuse tensor ops over undeclared inputs (documented)
            cases.append(_eval_case(f"sem-random-{ctx_name}-{i:03d}-{mode}", "semantics",
                                    text, at, twin, ("--mode", mode),
                                    accept=True if mode == "reverse" else None))
    return cases


# ------------------------------------------------------------------------------ files

_COLAH = "c = a + b\nd = b + 1\ne = c * d\n"


def _file_cases() -> list[Case]:
    cases: list[Case] = []
    at = ["--at", "a=2.0,b=1.0"]

    def fc(cid: str, argv: list[str], files: dict | None = None, **kw: Any) -> None:
        kw.setdefault("text_error", False)
        cases.append(Case(f"files-{cid}", "files", argv,
                          {"p.gc": _COLAH} if files is None else files, **kw))

    def mkdir(*names: str) -> Callable[[Path], None]:
        return lambda d: [(d / n).mkdir(parents=True) for n in names] and None

    def link(target: str, name: str) -> Callable[[Path], None]:
        return lambda d: os.symlink(target, d / name)

    for cmd in ("eval", "compile", "verify", "render"):
        extra = at if cmd in ("eval", "verify") else (["-o", "{d}/o.dot"] if cmd == "render"
                                                      else [])
        fc(f"missing-{cmd}", [cmd, "{d}/nope.gc", *extra], accept=False)
        fc(f"dir-{cmd}", [cmd, "{d}/sub", *extra], setup=mkdir("sub"), accept=False)
        fc(f"empty-name-{cmd}", [cmd, "", *extra], accept=False)
        fc(f"newline-name-{cmd}", [cmd, "{d}/p\n.gc", *extra], accept=False)
        fc(f"dangling-{cmd}", [cmd, "{d}/l.gc", *extra], setup=link("{d}/nowhere", "l.gc"),
           accept=False)
        fc(f"symlink-in-{cmd}", [cmd, "{d}/l.gc", *extra],
           setup=lambda d: os.symlink(d / "p.gc", d / "l.gc"),
           outputs=("o.dot",) if cmd == "render" else ())
        fc(f"binary-{cmd}", [cmd, "{d}/p.gc", *extra], {"p.gc": bytes(range(256))})
        fc(f"latin1-{cmd}", [cmd, "{d}/p.gc", *extra], {"p.gc": "é = a\n".encode("latin-1")})
    outs = {"compile": (["compile", "{d}/p.gc"], "o.py"),
            "render": (["render", "{d}/p.gc", "--at", "a=2.0,b=1.0"], "o.dot")}
    for cmd, (argv, out) in outs.items():
        suffix = Path(out).suffix
        fc(f"{cmd}-ok", [*argv, "-o", "{d}/" + out], outputs=(out,), accept=True)
        fc(f"{cmd}-over-existing", [*argv, "-o", "{d}/" + out], outputs=(out,),
           files={"p.gc": _COLAH, out: "old contents\n"}, accept=True)
        fc(f"{cmd}-missing-dir", [*argv, "-o", "{d}/no/such/" + out], accept=False)
        fc(f"{cmd}-onto-dir", [*argv, "-o", "{d}/sub"], setup=mkdir("sub"), accept=False)
        fc(f"{cmd}-onto-input", [*argv, "-o", "{d}/p.gc"], accept=False)
        fc(f"{cmd}-onto-input-relative", [*argv, "-o", "p.gc"], accept=False)
        fc(f"{cmd}-onto-input-dotted", [*argv, "-o", "{d}/./p.gc"], accept=False)
        fc(f"{cmd}-under-file", [*argv, "-o", "{d}/p.gc/" + out], accept=False)
        fc(f"{cmd}-empty-output", [*argv, "-o", ""])
        fc(f"{cmd}-dangling-link", [*argv, "-o", "{d}/l" + suffix],
           setup=link("{d}/target" + suffix, "l" + suffix), outputs=("target" + suffix,
                                                                   "l" + suffix))
        fc(f"{cmd}-bad-source", [*argv[:1], "{d}/p.gc", *argv[2:], "-o", "{d}/" + out],
           files={"p.gc": "y = a +\n"}, accept=False, text_error=True)
        fc(f"{cmd}-bad-source-existing", [*argv[:1], "{d}/p.gc", *argv[2:],
                                          "-o", "{d}/" + out],
           files={"p.gc": "y = foo(a)\n", out: "keep me\n"}, accept=False, text_error=True)
        fc(f"{cmd}-long-name", [*argv, "-o", "{d}/" + "n" * 300 + suffix], accept=False)
    for ext in ("txt", "", "SVG", "dot.gz", "svg/"):
        fc(f"render-ext-{ext or 'none'}", ["render", "{d}/p.gc", "-o", "{d}/o." + ext],
           outputs=("o." + ext.strip("/"),))
    fc("render-no-output", ["render", "{d}/p.gc"], accept=False)
    fc("render-svg", ["render", "{d}/p.gc", "-o", "{d}/o.svg"], outputs=("o.svg",), slow=True)
    st = ["render", "{d}/p.gc", "--at", "a=2.0,b=1.0", "--steps"]
    fc("steps-missing-dir", [*st, "{d}/no/such"], slow=True)
    fc("steps-onto-file", [*st, "{d}/p.gc"], accept=False)
    fc("steps-bad-output", [*st, "{d}/s", "-o", "{d}/no/o.dot"], accept=False, slow=True)
    fc("steps-no-at", ["render", "{d}/p.gc", "--steps", "{d}/s"], accept=False)
    fc("demo-onto-file", ["demo", "--outdir", "{d}/p.gc"], accept=False)
    fc("demo-under-file", ["demo", "--outdir", "{d}/p.gc/x"], accept=False)
    fc("stdin-dash", ["eval", "-", *at], files={}, stdin=_COLAH)
    fc("fifo", ["eval", "{d}/f.gc", *at], files={},
       setup=lambda d: os.mkfifo(d / "f.gc"), slow=True)
    fc("huge-file", ["eval", "{d}/p.gc", *at], {"p.gc": "# " + "x" * 20_000_000 + "\n" + _COLAH},
       slow=True)
    return cases


# ---------------------------------------------------------------------------- options


def _option_cases() -> list[Case]:
    cases: list[Case] = []

    def oc(cid: str, argv: list[str], files: dict | None = None, **kw: Any) -> None:
        kw.setdefault("text_error", False)
        cases.append(Case(f"opt-{cid}", "options", argv,
                          {"p.gc": _COLAH} if files is None else files, **kw))

    def colah(a, b):
        return (a + b) * (b + 1)

    bad_at = ["", "a", "a=", "=1", "a=1,a=2", "a=x", "a=[1,2", "a=[[1],[2,3]]", "a=0x10",
              "a=1_0", "a=[[]]", "a=True", "a=1;b=2", "a=__import__('os')", "a=(1,2)",
              "a={1}", "a=1,,b=2", "a=1,b=2,c=3", "b=1", "a=[1,2],b=[1,2,3]", "a==1,b=2",
              "a=1,b=2,", ",a=1,b=2", "a=1 b=2", "a=1,b=[", "a=1,b=]", "a=1,b=[]]",
              "a=1,b=" + "[" * 200 + "1" + "]" * 200, "a=1,b=" + "[" * 2000 + "1" + "]" * 2000,
              "a=1,b=1e999999", "a=1,b=-nan", "a=1,b=infinity", "a=1,b=nan()",
              "a=1,b=1" + "0" * 5000, "a=1,b=\u0661", "a=1,b=1e", "a=1,b=--1",
              "a=1,b=[1,[2]]", "a=1,b=[1,None]", "a=1,b=\"1\"", "a=1,b=1j", "a=1,b=" + "9" * 400,
              "a=1,b=[" + ",".join(["1"] * 5000) + "]", "a=1,b=[1,2]\n", "a=1,\tb=2",
              " a = 1 , b = 2 ", "A=1,b=2", "a=1,b=2,a=3", "a=1,b=0.5e-320"]
    for i, s in enumerate(bad_at):
        for cmd in ("eval", "verify"):
            oc(f"at-{i:02d}-{cmd}", [cmd, "{d}/p.gc", "--at", s])
    # --at values that are fine: the numbers must be JAX's
    good_at = {"sci": {"a": 2e-3, "b": 1e3}, "neg": {"a": -2.0, "b": -1.0},
               "ints": {"a": 2, "b": 1}, "arr": {"a": [1.0, 2.0], "b": [0.5, -1.0]},
               "bcast": {"a": [[1.0], [2.0]], "b": [0.5, -1.0, 3.0]},
               "empty": {"a": [], "b": 1.0}, "inf": {"a": float("inf"), "b": 1.0},
               "huge": {"a": 1e300, "b": 1e300}}
    for k, at in good_at.items():
        for mode in ("reverse", "forward"):
            oc(f"at-good-{k}-{mode}", ["eval", "{d}/p.gc", "--at", at_text(at), "--mode", mode],
               twin=colah, at=at)
    wrts = ["", ",", "a,", ",a", "a,a", "zz", "a b", "1", "c", "e", "a,zz", "A", "b,a",
            " a", "a\n", "\u0430"]
    ofs = ["", "zz", "a", "c", "d", "e", "e_1", " e", "E", "c,d", "lambda", "1"]
    at = ["--at", "a=2.0,b=1.0"]
    for i, w in enumerate(wrts):
        oc(f"wrt-{i:02d}-eval", ["eval", "{d}/p.gc", *at, "--wrt", w])
        oc(f"wrt-{i:02d}-compile", ["compile", "{d}/p.gc", "--wrt", w])
        oc(f"wrt-{i:02d}-verify", ["verify", "{d}/p.gc", *at, "--wrt", w])
        oc(f"wrt-{i:02d}-render", ["render", "{d}/p.gc", *at, "--show", "paths", "--wrt", w,
                                   "-o", "{d}/o.dot"], outputs=("o.dot",))
    for i, o in enumerate(ofs):
        oc(f"of-{i:02d}-eval", ["eval", "{d}/p.gc", *at, "--of", o])
        oc(f"of-{i:02d}-compile", ["compile", "{d}/p.gc", "--of", o])
        oc(f"of-{i:02d}-render", ["render", "{d}/p.gc", "--of", o, "-o", "{d}/o.dot"],
           outputs=("o.dot",))
    for m in ("", "Reverse", "backward", "forward ", "jacobian"):
        oc(f"mode-{m.strip() or 'empty'}-{len(m)}", ["eval", "{d}/p.gc", *at, "--mode", m])
    for f in ("", "numba ", "cython", "none", "Numpy"):
        oc(f"backend-{f.strip() or 'empty'}-{len(f)}", ["compile", "{d}/p.gc", "--backend", f])
    for s in ("", "values", "paths", "forward"):
        oc(f"show-{s or 'empty'}", ["render", "{d}/p.gc", *at, "--show", s, "-o", "{d}/o.dot"],
           outputs=("o.dot",))
    for lim in ("0", "-1", "1", "2", "999999999999999999999", "x", "1.5", ""):
        oc(f"limit-{lim[:6] or 'empty'}", ["render", "{d}/p.gc", *at, "--limit", lim,
                                          "-o", "{d}/o.dot"], outputs=("o.dot",))
    for mp in ("0", "-1", "1", "99999999999999999999999", "x"):
        oc(f"maxpaths-{mp[:6]}", ["verify", "{d}/p.gc", *at, "--max-paths", mp])
    # --max-paths above the path count of a wide graph (2^12 paths)
    wide = "x0 = a\n" + "".join(f"x{k} = x{k - 1} * a + x{k - 1}\n" for k in range(1, 13))
    oc("maxpaths-2to12", ["verify", "{d}/p.gc", "--at", "a=0.01", "--max-paths",
                          str(2 ** 41)], {"p.gc": wide})
    usage = [[], ["nope"], ["--help"], ["eval"], ["eval", "{d}/p.gc"], ["compile", "--wrt"],
             ["eval", "{d}/p.gc", "--at"], ["compile", "{d}/p.gc", "--bogus"],
             ["compile", "{d}/p.gc", "{d}/p.gc"], ["demo", "--outdir"], ["render", "--help"],
             ["compile", "{d}/p.gc", "--mode", "forward", "--wrt", "b"],
             ["render", "{d}/p.gc", "--show", "paths", "-o", "{d}/o.dot"],
             ["render", "{d}/p.gc", "--show", "forward", "--at", "a=1,b=2", "-o", "{d}/o.dot"],
             ["verify", "{d}/p.gc", "--at", "a=1,b=2", "--mode", "forward"],
             ["eval", "{d}/p.gc", "--at", "a=1,b=2", "--at", "a=3,b=4"]]
    for i, argv in enumerate(usage):
        outputs = ("o.dot",) if "{d}/o.dot" in argv else ()
        oc(f"usage-{i:02d}", argv, outputs=outputs)
    return cases


# ------------------------------------------------------------------------------- list

KNOWN_BUGS: dict[str, str] = {}
"""Cases that fail because of a bug found but not fixed yet: id -> the bug. Each is an
xfail(strict=True), so the entry must go when the fix lands. (Empty: every bug the
corpus found, issue 17's list included, is fixed, each with its own regression test.)"""


def cases() -> list[Case]:
    """Every case, in a fixed order (ids are unique)."""
    every = [*_name_cases(), *_text_cases(), *_semantic_cases(), *_file_cases(),
             *_option_cases()]
    ids = [c.id for c in every]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    return every


# ----------------------------------------------------------------------------- runner


@dataclass
class Outcome:
    code: Any
    out: str
    err: str
    crash: str = ""  # a traceback that escaped main
    timed_out: bool = False
    raw_warnings: list[str] = field(default_factory=list)
    before: dict[str, bytes | None] = field(default_factory=dict)
    after: dict[str, bytes | None] = field(default_factory=dict)
    folder: Path | None = None


class _Timeout(BaseException):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _snapshot(d: Path) -> dict[str, bytes | None]:
    """Every entry under d: file -> bytes (a link -> its target), folder -> None."""
    seen: dict[str, bytes | None] = {}
    for root, dirs, files in os.walk(d):
        for name in dirs + files:
            p = Path(root, name)
            rel = str(p.relative_to(d))
            if p.is_symlink():
                seen[rel] = b"->" + os.readlink(p).encode()
            elif p.is_dir():
                seen[rel + "/"] = None
            elif p.is_file():
                seen[rel] = p.read_bytes()
            else:
                seen[rel] = b"<special>"
    return seen


def run(case: Case, folder: Path) -> Outcome:
    """Run one case in ``folder`` (made here), as ``graphc`` would run it."""
    from graphc.cli import main

    folder.mkdir(parents=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    if case.setup:
        case.setup(folder)
    d = str(folder)
    argv = [a.replace("{d}", d) for a in case.argv]
    before = _snapshot(folder)
    out, err = io.StringIO(), io.StringIO()
    crash, timed_out, code = "", False, None
    cwd = os.getcwd()
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(case.stdin.replace("{d}", d).encode()))
    try:
        os.chdir(folder)
        with warnings.catch_warnings(record=True) as caught, \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("always")
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT * (3 if case.slow else 1))
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _Timeout:
        timed_out = True
    except BaseException:  # anything that escapes is what a user would see as a traceback
        crash = traceback.format_exc()
        caught = []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        sys.stdin = old_stdin
        os.chdir(cwd)
    # NumPy's own words ("overflow encountered in multiply"), pointing into graphc's code
    raw = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
           for w in (caught if not timed_out and not crash else [])
           if issubclass(w.category, RuntimeWarning) and "encountered" in str(w.message)]
    return Outcome(code, out.getvalue(), err.getvalue(), crash, timed_out, raw, before,
                   _snapshot(folder), folder)


_ERROR_LINE = re.compile(r"^(?P<where>.+?)(?::(?P<line>\d+):(?P<col>\d+))?: error: \S", re.M)


def problems(case: Case, o: Outcome) -> list[str]:
    """What is wrong with this outcome: an empty list for a clean run."""
    if o.timed_out:
        return [f"no answer within {TIME_LIMIT:g} s (a hang)"]
    if o.crash:
        return ["traceback: " + o.crash.strip().splitlines()[-1]]
    found: list[str] = []
    text = o.out + o.err
    if "Traceback" in text:
        found.append("a traceback is printed")
    if o.code not in (0, 1, 2):
        found.append(f"exit status {o.code!r}")
    if o.raw_warnings:
        found.append(f"{len(o.raw_warnings)} raw warnings, e.g. {o.raw_warnings[0]}")
    if case.accept is True and o.code != 0:
        found.append("refused an input that must be accepted: " + o.err.strip()[:200])
    if case.accept is False and o.code == 0:
        found.append("accepted an input that must be refused")
    new = {k for k in o.after if k not in o.before}
    changed = {k for k in o.after if k in o.before and o.after[k] != o.before[k]}
    gone = {k for k in o.before if k not in o.after}
    failed = o.code == 2 or o.code == 1 and case.argv[:1] != ["verify"]
    if failed and (new or changed or gone):
        found.append(f"a failed command changed files: new {sorted(new)[:3]}, "
                     f"changed {sorted(changed)[:3]}, removed {sorted(gone)[:3]}")
    if o.code == 2 and "--help" not in case.argv:
        m = _ERROR_LINE.search(o.err)
        if not m and "usage:" not in o.err:
            found.append("no `WHERE: error: message` line: " + o.err.strip()[:200])
        elif m and case.text_error and o.err.startswith(str(o.folder)) \
                and "p.gc" in m["where"] and not m["line"] and "cannot read" not in o.err:
            found.append("a text error without LINE:COL: " + o.err.strip()[:200])
    if o.code == 0:
        allowed = set(case.outputs)
        extra = (new | changed | gone) - allowed
        if extra:
            found.append(f"stray files: {sorted(extra)[:3]}")
        for name in case.outputs:
            data = o.after.get(name)
            if name in new | changed and data is not None and not _whole(name, data):
                found.append(f"{name} is not whole")
        found += _numbers(case, o)
    return found


def _whole(name: str, data: bytes) -> bool:
    if name.endswith(".py"):
        try:
            ast.parse(data)
        except SyntaxError:
            return False
        return True
    if name.endswith(".dot"):
        return data.rstrip().endswith(b"}")
    if name.endswith(".svg"):
        return data.rstrip().endswith(b"</svg>")
    return True


def _numbers(case: Case, o: Outcome) -> list[str]:
    if case.twin is None or case.at is None:
        return []
    cmd = case.argv[0]
    if cmd == "eval":
        try:
            printed = parse_printed(o.out)
        except ValueError as exc:
            return [f"cannot read the printed numbers ({exc}): {o.out[:200]}"]
        value, grads = printed[0][1], dict(printed[1:])
        of = printed[0][0]
        grads = {k[len(f"d{of}/d"):]: v for k, v in grads.items()}
    elif cmd == "compile":
        value, grads = _run_module(o.out, case.at)
    else:
        return []
    want_value, want_grads = stored_jax_numbers(case)
    found = _compare("value", value, want_value)
    names = case.wrt or list(case.at)
    python_reads = {n: unicodedata.normalize("NFKC", n) for n in names}  # as the text's ℌ is H
    if sorted(grads) != sorted(python_reads.values()):
        found.append(f"gradients printed for {sorted(grads)}, expected {sorted(names)}")
    for n in names:
        if python_reads[n] in grads:
            found += _compare(f"d/d{n}", grads[python_reads[n]], want_grads[n])
    return found


def _run_module(source: str, at: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    scope: dict[str, Any] = {"__name__": "graphc_corpus_module"}
    exec(compile(source, "<emitted>", "exec"), scope)  # graphc's own output, not user text
    args = [np.asarray(v, dtype=float) if isinstance(v, list) else float(v)
            for v in at.values()]
    with np.errstate(all="ignore"):
        value, grads = scope["value_and_grad"](*args)
    # the module names gradients by the graph's names, which are the --at names
    return value, dict(grads)


def parse_printed(out: str) -> list[tuple[str, Any]]:
    """``y = 3\\ndy/da = [1., 2.]`` -> [("y", 3.0), ("dy/da", array([1., 2.]))]."""
    entries: list[list[str]] = []
    depth = 0
    for line in out.splitlines():
        if depth == 0:
            name, sep, rest = line.partition(" = ")
            if not sep:
                raise ValueError(f"unexpected line {line!r}")
            entries.append([name, rest])
        else:
            entries[-1][1] += " " + line.strip()
        depth += line.count("[") - line.count("]")
    return [(name, _read_value(raw)) for name, raw in entries]


def _read_value(raw: str) -> Any:
    raw = raw.strip()
    if "..." in raw:
        raise ValueError("summarized array")
    spelled = re.sub(r"\b(nan|inf)\b", r'"\1"', raw)
    value = ast.literal_eval(spelled.replace("-\"inf\"", "\"-inf\""))
    return np.asarray(value, dtype=float)


def jax_numbers(case: Case) -> tuple[Any, dict[str, Any]]:
    """The twin's value and gradients of sum(value) (graphc's default seed), by JAX."""
    import jax

    jnp = _jnp()
    at = {k: jnp.asarray(np.asarray(v, dtype=float)) for k, v in case.at.items()}
    names = case.wrt or list(case.at)
    twin = case.twin

    def total(*xs: Any) -> Any:
        return jnp.sum(twin(**{**at, **dict(zip(names, xs))}))

    value = twin(**at)
    grads = jax.grad(total, argnums=tuple(range(len(names))))(*[at[n] for n in names])
    return np.asarray(value), {n: np.asarray(g) for n, g in zip(names, grads)}


JAX_FILE = Path(__file__).with_name("corpus_jax.json")
"""JAX's numbers for every case with a twin, written by ``python tests/corpus.py --jax``:
JAX takes ~0.3 s a program to trace and compile, graphc ~20 ms, so the fast tests read
JAX's answers from here and a slow test checks that they are still JAX's."""

_stored: dict[str, Any] | None = None


def _key(case: Case) -> str:
    """What the twin's numbers depend on: the program and the inputs."""
    text = case.files.get("p.gc", "")
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return hashlib.sha256(repr((text, at_text(case.at or {}), case.wrt)).encode()).hexdigest()[:16]


def stored_jax_numbers(case: Case) -> tuple[Any, dict[str, Any]]:
    """JAX's numbers from JAX_FILE when it holds this very case, else from JAX now."""
    global _stored
    if _stored is None:
        _stored = json.loads(JAX_FILE.read_text()) if JAX_FILE.exists() else {}
    entry = _stored.get(case.id)
    if entry is None or entry["key"] != _key(case):
        return jax_numbers(case)
    return np.asarray(entry["value"], dtype=float), {
        n: np.asarray(g, dtype=float) for n, g in entry["grads"].items()}


def write_jax_numbers() -> int:
    """Compute JAX's numbers for every case with a twin and store them in JAX_FILE."""
    entries = {}
    for case in cases():
        if case.twin is None or case.at is None:
            continue
        value, grads = jax_numbers(case)
        entries[case.id] = {"key": _key(case), "value": value.tolist(),
                            "grads": {n: g.tolist() for n, g in grads.items()}}
    JAX_FILE.write_text(json.dumps(entries, indent=0, sort_keys=True) + "\n")
    return len(entries)


def _compare(what: str, got: Any, want: Any) -> list[str]:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape and got.size != want.size:
        return [f"{what}: shape {got.shape}, JAX {want.shape}"]
    got = got.reshape(want.shape)
    finite = np.isfinite(want)
    scale = max(1.0, float(np.max(np.abs(want[finite]), initial=0.0)))
    close = np.isclose(got, want, rtol=2e-5, atol=2e-6 * scale, equal_nan=True)
    close |= ~finite & (got == want)
    if not close.all():
        return [f"{what}: graphc {_short(got)}, JAX {_short(want)}"]
    return []


def _short(x: np.ndarray) -> str:
    return np.array2string(x, precision=5, threshold=8)


def classify(case: Case, o: Outcome, found: list[str]) -> str:
    """The table's column for one case."""
    if found:
        return "failing (known)" if case.id in KNOWN_BUGS else "failing (new)"
    if case.id in KNOWN_BUGS:
        return "passes, yet listed"
    return "accepted and right" if o.code == 0 else "clean error"


def main(argv: list[str] | None = None) -> int:
    """Run the corpus; print the table by family (and, with -v, every failing case)."""
    import tempfile

    if "--jax" in (argv or sys.argv[1:]):
        print(f"wrote JAX's numbers for {write_jax_numbers()} cases to {JAX_FILE}")
        return 0
    verbose = "-v" in (argv or sys.argv[1:])
    only = [a for a in (argv or sys.argv[1:]) if not a.startswith("-")]
    columns = ("clean error", "accepted and right", "failing (known)", "failing (new)",
               "passes, yet listed")
    table = {f: dict.fromkeys(columns, 0) for f in FAMILIES}
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases()):
            if only and not any(case.id.startswith(p) for p in only):
                continue
            o = run(case, Path(tmp) / f"c{i}")
            found = problems(case, o)
            col = classify(case, o, found)
            table[case.family][col] += 1
            if found and verbose:
                line = f"{case.id}\t{col}\t" + " | ".join(found)
                print(line[:400].replace("\n", " "), flush=True)
    print("| family | tried | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    total = dict.fromkeys(columns, 0)
    for f, row in table.items():
        print(f"| {f} | {sum(row.values())} | " + " | ".join(str(row[c]) for c in columns)
              + " |")
        for c in columns:
            total[c] += row[c]
    print(f"| all | {sum(total.values())} | " + " | ".join(str(total[c]) for c in columns)
          + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
