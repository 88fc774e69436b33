"""The .gc text front end: Python syntax parsed with ``ast`` against a whitelist.

User text is never evaluated. Each statement is an assignment ``name = expr``, a
lambda op ``f = lambda x, y: expr`` or a declaration ``W: [3, 2]``. Reassigning a name
makes a new version (SSA): ``x = sin(x)`` twice gives nodes ``x_1`` and ``x_2``.
"""

from __future__ import annotations

import ast
import math
import re
import sys
from pathlib import Path
from typing import Any

from ..errors import GraphcError, ParseError, UnknownOpError
from ..files import read_text
from ..ir.derive import to_sympy
from ..ir.graph import Graph, paused_gc
from ..ops import OPS, Op
from ..ops.shapes import format_shape

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
           ast.MatMult: "matmul"}
_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
            ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_CALLABLE = {name for name, op in OPS.items() if op.arity > 0 and op.name != "alias"}
_WHAT = {ast.Subscript: "subscripts", ast.Compare: "comparisons", ast.BoolOp: "and/or",
         ast.IfExp: "conditional expressions", ast.ListComp: "comprehensions",
         ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
         ast.GeneratorExp: "comprehensions", ast.Lambda: "lambdas inside expressions",
         ast.JoinedStr: "strings", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
         ast.Set: "sets", ast.Starred: "starred arguments", ast.Await: "await",
         ast.NamedExpr: "assignment expressions"}


def _pos(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1


def _error(cls: type[GraphcError], message: str, node: ast.AST) -> GraphcError:
    return cls(message, *_pos(node))


class _Scope:
    """Builds one graph: the whole text, or one lambda's body."""

    def __init__(self, g: Graph, names: dict[str, str], lambdas: dict[str, Op],
                 open_inputs: bool, outer: dict[str, int] | None = None):
        self.g, self.names, self.lambdas, self.open_inputs = g, names, lambdas, open_inputs
        # variable -> the line that made it one: from there on it shadows a function of
        # its name, as in Python (a lambda's body sees the text's variables too)
        self.lines: dict[str, int] = dict.fromkeys(names, 0) if outer is None else \
            {**outer, **dict.fromkeys(names, 0)}
        # A lambda's body computes each distinct subexpression once: `f(x) + f(x)` calls
        # f once, so a chain of lambdas that each call the last one twice costs its
        # length, not 2**length. (The text's own lines keep every node: each may be named.)
        self.shared: dict[tuple, str] | None = None if open_inputs else {}

    def expr(self, root: ast.expr) -> str:
        """The node computing ``root``; operands left to right, without recursion."""
        done: dict[int, str] = {}
        stack: list[tuple[ast.expr, list[ast.expr] | None]] = [(root, None)]
        while stack:
            node, kids = stack.pop()
            if kids is None:
                kids = self._operands(node)
                if kids:  # visit again once the operands are done
                    stack.append((node, kids))
                    stack.extend([(k, None) for k in reversed(kids)])
                    continue
            done[id(node)] = self._make(node, [done[id(k)] for k in kids])
        return done[id(root)]

    def _operands(self, node: ast.expr) -> list[ast.expr]:
        if isinstance(node, (ast.Name, ast.Constant)):
            return []
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise _error(ParseError, f"operator {_SYMBOLS.get(type(node.op), '?')} is "
                             "not supported (use + - * / ** @)", node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise _error(ParseError, "only unary - and + are supported", node)
            return [node.operand]
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise _error(ParseError, f"attribute access .{node.attr} is not allowed "
                             "(only .T, the transpose)", node)
            return [node.value]
        if isinstance(node, ast.Call):
            return self._call_operands(node)
        what = _WHAT.get(type(node), type(node).__name__)
        raise _error(ParseError, f"{what} are not allowed in graphc text", node)

    def _call_operands(self, node: ast.Call) -> list[ast.expr]:
        name = _callee(node)
        op = self._function(node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise _error(ParseError, "starred arguments are not allowed", node)
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in op.params:
                raise _error(ParseError, f"{name}() takes no keyword "
                             f"{kw.arg or '**'!s}", kw if kw.arg else node)
        low, high = op.arity - len(op.defaults), op.arity
        if not low <= len(node.args) <= high:
            count = str(high) if low == high else f"{low} to {high}"
            raise _error(ParseError, f"{name}() takes {count} argument"
                         f"{'s' if high != 1 else ''}, got {len(node.args)}", node)
        return list(node.args)

    def _function(self, node: ast.Call) -> Op:
        name = _callee(node)
        if isinstance(node.func, ast.Attribute):  # gc.sum(x): graphc's, whatever the names
            if name in _CALLABLE:
                return OPS[name]
            raise _error(UnknownOpError, f"graphc has no function {name!r}", node)
        if name in self.lines:
            line = self.lines[name]
            where = f" (assigned on line {line})" if line else ""
            raise _error(ParseError, f"{name} is a variable now{where}, not a function"
                         + (f"; graphc's {name} is still gc.{name}(...)"
                            if name in _CALLABLE else ""), node)
        if name in self.lambdas:
            return self.lambdas[name]
        if name in _CALLABLE:
            return OPS[name]
        raise _error(UnknownOpError, f"unknown function {name!r}", node)

    def _make(self, node: ast.expr, operands: list[str]) -> str:
        if self.shared is None or not operands:
            return self._located(node, operands)
        what = ast.dump(node.func) if isinstance(node, ast.Call) else \
            type(getattr(node, "op", node))  # BinOp, UnaryOp; else .T
        key = (what, tuple(operands), tuple(ast.dump(k) for k in getattr(node, "keywords", ())))
        if key not in self.shared:
            self.shared[key] = self._located(node, operands)
        return self.shared[key]

    def _located(self, node: ast.expr, operands: list[str]) -> str:
        try:
            return self._make_node(node, operands)
        except GraphcError as exc:
            if exc.line is None:
                raise type(exc)(exc.message, *_pos(node)) from None
            raise

    def _make_node(self, node: ast.expr, operands: list[str]) -> str:
        g = self.g
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return g.const(_number(node))
        pos = _pos(node)
        if isinstance(node, ast.BinOp):
            return g.add(_BINOPS[type(node.op)], operands, pos=pos)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return operands[0]
            if g.is_const(operands[0]):
                return g.const(-g.attrs(operands[0])["params"]["value"])
            return g.add("neg", operands, pos=pos)
        if isinstance(node, ast.Call):
            return self._call(node, operands, pos)
        return g.add("transpose", operands, pos=pos)  # x.T, the one attribute allowed

    def _call(self, node: ast.Call, operands: list[str], pos: tuple[int, int]) -> str:
        g = self.g
        op = self._function(node)
        operands += [g.const(v) for v in op.defaults[len(operands) - op.arity:]] \
            if len(operands) < op.arity else []
        params = {kw.arg: _literal(kw.value) for kw in node.keywords
                  if kw.arg is not None}  # (a **mapping was refused with the operands)
        _check_params(op, params, node)
        if op.name in _INTERNAL_RULES:
            rule, what = _INTERNAL_RULES[op.name]
            if not rule(len(g.shape(operands[0])), {**op.params, **params}):
                raise _error(ParseError, f"{op.name}(x, ...) needs {what}; x is "
                             f"{format_shape(g.shape(operands[0]))}", node)
        try:
            return g.add(op.name, operands, params, pos=pos)
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
            # an internal op's shape rule, given parameters it cannot work with
            given = ", ".join(f"{k}={v!r}" for k, v in {**op.params, **params}.items())
            raise _error(ParseError, f"{op.name}() cannot take {given or 'no parameters'} "
                         f"({exc})", node) from None

    def _name(self, node: ast.Name) -> str:
        name = node.id
        if name in self.names:
            return self.names[name]
        if name in self.lambdas:
            raise _error(ParseError, f"{name} is a function; call it: {name}(...)", node)
        if not self.open_inputs:
            raise _error(ParseError, f"{name!r} is not a parameter of this lambda", node)
        self.names[name] = self.g.add_input(name)
        self.lines[name] = node.lineno
        return self.names[name]


def _axes_fit(ndim: int, axis: int | tuple) -> bool:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return all(-ndim - len(axes) <= a < ndim + len(axes) for a in axes)


# Internal ops that read their operand's rank: (rule on rank and params, what it needs)
_INTERNAL_RULES = {
    "batch_size": (lambda ndim, p: ndim >= 1, "an x with a declared first axis"),
    "reverse_last": (lambda ndim, p: 0 <= p["k"] <= ndim, "0 <= k <= x's rank"),
    "expand_dims": (lambda ndim, p: _axes_fit(ndim, p["axis"]), "axes within the result's rank"),
    "lift": (lambda ndim, p: p["ndim"] >= ndim - 1, "ndim >= x's rank - 1"),
}


def _check_params(op: Op, params: dict[str, Any], node: ast.Call) -> None:
    """Keyword values of the kind the op's defaults have: True/False where the default
    is one, an integer where it is one; an internal op's parameter without a default
    (``reverse_last(x, k=1)``, ``lift(x, ndim=3)``, ``expand_dims(x, axis=0)``) is
    required."""
    for k, default in op.params.items():
        value = params.get(k, default)
        if isinstance(default, bool):
            ok, want = isinstance(value, bool), "True or False"
        elif isinstance(default, int):  # softmax(x, axis=(0, 1)) too
            ok = type(value) is int or k == "axis" and isinstance(value, tuple)
            want = "an integer"
        elif value is None:
            ok, want = op.public or k in ("start", "stop"), "an integer"
        elif isinstance(value, bool):  # a public op's shape rule says what is wrong
            ok, want = op.public, "an integer"
        else:
            ok, want = True, ""
        if not ok:
            what = f"got {value!r}" if k in params else "it is required"
            raise _error(ParseError, f"{op.name}(): {k} must be {want} ({what})", node)


def _callee(node: ast.Call) -> str:
    """The name a call calls: ``f(x)``, or ``gc.f(x)``, graphc's own ``f`` whatever
    the text's variables are named (how printed text calls a function it shadows)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
            func.value.id == "gc":
        return func.attr
    raise _error(ParseError, "only named functions can be called", node)


def _number(node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        what = {str: "strings are", bytes: "bytes are", complex: "complex numbers are"}.get(
            type(value), f"the constant {value!r} is")
        raise _error(ParseError, f"{what} not allowed in graphc text", node)
    try:
        return float(value)
    except OverflowError:  # an integer literal past float's range, as 1e999 is
        return math.inf


def _literal(node: ast.expr) -> Any:
    """A keyword argument's value: None, an int, or a tuple of ints (axis=...)."""
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (int, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, ast.Tuple):
        return tuple(_literal(e) for e in node.elts)
    raise _error(ParseError, "a keyword argument must be an integer, a tuple of integers, "
                 "True/False or None", node)


def _shape(node: ast.expr) -> tuple | None:
    """A declared shape; None for `any` (an input of any shape, as if undeclared)."""
    if isinstance(node, ast.Name) and node.id == "any":
        return None
    if isinstance(node, ast.Name) and node.id == "scalar":
        return ()
    if isinstance(node, (ast.List, ast.Tuple)):
        dims: list[int | str] = []
        for e in node.elts:
            if isinstance(e, ast.Constant) and type(e.value) is int and e.value >= 0:
                dims.append(e.value)
            elif isinstance(e, ast.Name):
                dims.append(e.id)
            else:
                raise _error(ParseError, "a dimension is a non-negative integer or a name", e)
        return tuple(dims)
    raise _error(ParseError, "a declaration is `name: scalar`, `name: [dim, ...]` or "
                 "`name: any`", node)


class _Parser:
    def __init__(self) -> None:
        self.g = Graph()
        self.lambdas: dict[str, Op] = {}
        self.scope = _Scope(self.g, {}, self.lambdas, open_inputs=True)
        self.versions: dict[str, int] = {}  # base name -> its last version's suffix
        self.depths: dict[str, int] = {}  # lambda -> its formula's depth (LAMBDA_DEPTH)

    def _version(self, base: str) -> str:
        """A new version of ``base``: ``base_1``, ``base_2``, ... (as ``Graph.fresh``),
        counting on from the last one, so that n reassignments cost n, not n**2."""
        has, reserved = self.g.has, self.g.reserved
        k, name = self.versions.get(base, 0), base
        while has(name) or name in reserved:
            k += 1
            name = f"{base}_{k}"
        self.versions[base] = k
        return name

    def statement(self, stmt: ast.stmt) -> str | None:
        """Handle one line; the node it assigns, if any."""
        if isinstance(stmt, ast.AnnAssign):
            self._declare(stmt)
            return None
        if not isinstance(stmt, ast.Assign):
            what = "a bare expression computes nothing; assign it: name = ..." \
                if isinstance(stmt, ast.Expr) else \
                f"{type(stmt).__name__} statements are not allowed in graphc text"
            raise _error(ParseError, what, stmt)
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            raise _error(ParseError, "assign to exactly one plain name", stmt.targets[0])
        target = stmt.targets[0].id
        if target in self.lambdas:
            raise _error(ParseError, f"{target} names a function; choose another name",
                         stmt.targets[0])
        if isinstance(stmt.value, ast.Lambda):
            if target in self.scope.names:
                raise _error(ParseError, f"{target} is already a value", stmt.targets[0])
            if target in OPS:  # its nodes would be taken for graphc's (alias, input too)
                raise _error(ParseError, f"{target} is a graphc function; give the lambda "
                             "a name of its own", stmt.targets[0])
            self.lambdas[target] = _lambda_op(target, stmt.value, self.lambdas, self.depths,
                                              self.scope.lines)
            self.g.ops[target] = self.lambdas[target]
            return None
        node = self.scope.expr(stmt.value)
        name = self._version(target) if target in self.g.nx else target
        d = self.g.attrs(node)
        if d["temp"] and d["op"] != "const":
            self.g.rename(node, name)
        else:
            self.g.add("alias", (node,), name=name, pos=_pos(stmt.value))
        self.scope.names[target] = name
        self.scope.lines.setdefault(target, stmt.lineno)
        return name

    def _declare(self, stmt: ast.AnnAssign) -> None:
        if not isinstance(stmt.target, ast.Name) or stmt.value is not None:
            raise _error(ParseError, "a declaration is `name: scalar` or `name: [dim, ...]` "
                         "on a line of its own", stmt)
        name = stmt.target.id
        if name in self.lambdas:
            raise _error(ParseError, f"{name} names a function; choose another name",
                         stmt.target)
        if name in self.scope.names:
            raise _error(ParseError, f"{name} is declared after its first use; declare "
                         "inputs before using them", stmt)
        shape = _shape(stmt.annotation)
        self.scope.names[name] = self.g.add_input(name, shape or (), declared=shape is not None)
        self.scope.lines[name] = stmt.lineno


LAMBDA_DEPTH = 120
"""How many ops deep a lambda's formula may be, the lambdas it calls written out.
sympy differentiates and prints a formula by recursion, several Python frames per
level, so much deeper ones would reach Python's recursion limit; Python's own parser
takes at most 200 nested parentheses in one expression."""


def _depth(body: Graph, depths: dict[str, int]) -> int:
    """How deep the body's formula is: a call of another lambda counts its depth, plus
    one for the call (derivatives go through each body in turn, a level each)."""
    at: dict[str, int] = {}
    for n in body.order():
        d = body.attrs(n)
        own = 0 if d["op"] in ("input", "const", "alias") else depths.get(d["op"], 0) + 1
        at[n] = own + max((at[a] for a in d["args"]), default=0)
    return at[body.outputs[0]]


def _lambda_op(name: str, node: ast.Lambda, lambdas: dict[str, Op],
               depths: dict[str, int], outer: dict[str, int]) -> Op:
    a = node.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs:
        raise _error(ParseError, "a lambda takes plain positional parameters only", node)
    params = [p.arg for p in a.args]
    if not params or len(set(params)) != len(params):
        raise _error(ParseError, "a lambda needs distinct parameters", node)
    body = Graph()
    body.ops.update(lambdas)
    names = {p: body.add_input(p) for p in params}
    scope = _Scope(body, names, lambdas, open_inputs=False, outer=outer)
    result = scope.expr(node.body)
    if not body.attrs(result)["temp"] or body.is_const(result):
        result = body.add("alias", (result,))
    body.outputs = [result]
    depths[name] = _depth(body, depths)
    if depths[name] > LAMBDA_DEPTH:
        raise _error(ParseError, f"lambda {name} is {depths[name]} ops deep, counting the "
                     f"lambdas it calls; the limit is {LAMBDA_DEPTH}: compute part of it on "
                     "lines of its own", node)
    for n in body.order():
        op = body.op(n)
        if op.name not in ("input", "const", "alias") and not op.elementwise:
            raise _error(ParseError, f"lambda {name}: {op.name} is not elementwise; "
                         "lambda bodies use elementwise functions only", node)
    expr = to_sympy(body)
    symbols = [s for p in params for s in expr.free_symbols if s.name == p]
    by_name = {s.name: s for s in symbols}

    def formula(*xs: Any) -> Any:
        return expr.xreplace({by_name[p]: x for p, x in zip(params, xs) if p in by_name})

    def fn(*xs: Any) -> Any:
        return body.run(dict(zip(params, xs)))[result]

    return Op(name, len(params), "", fn, formula=formula, body=body,
              source=ast.unparse(node), slot_prec=(0,) * len(params))


def parse(text: str) -> Graph:
    """A Graph from .gc text; the output is the last assigned name.

    >>> parse("c = a + b\\nd = b + 1\\ne = c * d").inputs
    ['a', 'b']
    """
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", 1, 1)
    with paused_gc():  # the syntax tree alone is millions of objects for a big text
        return _build(text)


_POSITIONED = (ast.expr, ast.stmt, ast.excepthandler, ast.arg, ast.keyword, ast.alias,
               ast.pattern)
"""The syntax nodes that carry a line and column."""


def _columns_in_characters(tree: ast.AST, text: str) -> None:
    """ast counts columns in UTF-8 bytes; errors name them in characters (é is one)."""
    lines = text.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, _POSITIONED) and node.lineno <= len(lines):
            line = lines[node.lineno - 1].encode()
            node.col_offset = len(line[:node.col_offset].decode(errors="ignore"))


def _build(text: str) -> Graph:
    """The graph of ``text``; its syntax tree is freed on return, before the collector
    runs again (which then need not scan it)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        huge = _HUGE_INT.search(text) if "integer string conversion" in str(exc.msg) else None
        if huge:  # Python's own limit on decimal digits (a guard against slow conversions)
            line = text.count("\n", 0, huge.start()) + 1
            col = huge.start() - text.rfind("\n", 0, huge.start())
            raise ParseError(f"an integer literal of {len(huge[0].replace('_', '')):,} digits: "
                             f"Python reads at most {sys.get_int_max_str_digits():,}; write "
                             "it as a float (1e999 is infinity)", line, col) from None
        raise ParseError(f"invalid syntax: {exc.msg}", exc.lineno or 1, exc.offset or 1) \
            from None
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply to parse", 1, 1) from None
    except ValueError as exc:  # e.g. a NUL byte in the text
        raise ParseError(str(exc), 1, 1) from None
    if not text.isascii():
        _columns_in_characters(tree, text)
    p = _Parser()
    p.g.reserved = _names(tree)
    last = None
    for stmt in tree.body:
        last = p.statement(stmt) or last
    if last is None:
        raise ParseError("nothing is computed: write at least one line `name = expression`",
                         1, 1)
    p.g.outputs = [last]
    return p.g


_HUGE_INT = re.compile(r"(?<![\w.])[0-9](?:_?[0-9]){%d,}(?![\w.])"
                       % (sys.get_int_max_str_digits() or 10**9))


def _names(tree: ast.AST) -> set[str]:
    """The ids of all ``ast.Name`` nodes: ``ast.walk``'s answer without its generators."""
    names: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node) is ast.Name:
            names.add(node.id)
            continue
        for field in getattr(node, "_fields", ()):  # lists may hold str or None too
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(value)
            elif isinstance(value, ast.AST):
                stack.append(value)
    return names


def load(path: str | Path) -> Graph:
    """A Graph from a .gc file."""
    try:
        text = read_text(path)  # regular files only, size-capped: a FIFO never blocks
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphcError(f"cannot read {path}: {exc}") from None
    return parse(text)
