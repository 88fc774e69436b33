"""Expressions of .gc text: operators, names, constants and calls checked against the
op table's arities and parameters, each built into a node (``Scope.expr``)."""

from __future__ import annotations

import ast
import math
import re
from typing import Any

from ..errors import GraphcError, ParseError, UnknownOpError
from ..ir.graph import Graph
from ..ops import OPS, Op, indexing, pieces, spelled
from ..ops.shapes import format_shape
from ..ops.values import CONSTANTS
from . import hints

_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow",
           ast.MatMult: "matmul", ast.Mod: "mod", ast.FloorDiv: "floor_divide",
           ast.BitAnd: "logical_and", ast.BitOr: "logical_or", ast.BitXor: "logical_xor"}
_COMPARE = {ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge", ast.Eq: "eq",
            ast.NotEq: "ne"}
_SYMBOLS = {ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
            ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_ATTRIBUTES = {"T": "transpose", "mT": "mT"}
_CALLABLE = {name for name, op in OPS.items() if op.name not in ("alias", "input", "const")}
_WHAT = {ast.Subscript: "subscripts", ast.Compare: "comparisons", ast.BoolOp: "and/or",
         ast.IfExp: "conditional expressions", ast.ListComp: "comprehensions",
         ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
         ast.GeneratorExp: "comprehensions", ast.Lambda: "lambdas inside expressions",
         ast.JoinedStr: "strings", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
         ast.Set: "sets", ast.Starred: "starred arguments", ast.Await: "await",
         ast.NamedExpr: "assignment expressions"}


def where(node: ast.AST) -> tuple[int, int]:
    """A syntax node's line and column, both counted from 1, as errors give them."""
    return getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1


def error(cls: type[GraphcError], message: str, node: ast.AST) -> GraphcError:
    return cls(message, *where(node))


class Scope:
    """Builds one graph: the whole text, or one lambda's body."""

    def __init__(self, g: Graph, names: dict[str, str], lambdas: dict[str, Op],
                 open_inputs: bool, outer: dict[str, int] | None = None):
        self.g, self.names, self.lambdas, self.open_inputs = g, names, lambdas, open_inputs
        # variable -> the line from which it shadows a function of its name, as in Python
        self.lines: dict[str, int] = {**(outer or {}), **dict.fromkeys(names, 0)}
        # A lambda's body computes each distinct subexpression once: a chain of lambdas
        # that each call the last one twice costs its length, not 2**length.
        self.shared: dict[tuple, str] | None = None if open_inputs else {}
        # names the text assigns or declares: never the constants pi, e, inf, nan
        self.taken: set[str] = set()
        # dimension name -> (the input declaring it first, its line): its size as a value
        self.dims: dict[str, tuple[str, int]] = {}

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
            try:
                done[id(node)] = self._make(node, [done[id(k)] for k in kids])
            except GraphcError as exc:  # a shape rule's error: at the node that made it
                if exc.line is not None:
                    raise
                raise type(exc)(exc.message, *where(node)) from None
        return done[id(root)]

    def _operands(self, node: ast.expr) -> list[ast.expr]:
        if isinstance(node, (ast.Name, ast.Constant)):
            return []
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise error(ParseError, f"operator {_SYMBOLS.get(type(node.op), '?')} is "
                            "not supported (use + - * / // % ** @, and & | ^ on booleans)",
                            node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                raise error(ParseError, "not needs one truth value: use ~ on booleans "
                            "(~(x > 0))", node)
            return [node.operand]
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise error(ParseError, "in and is are not allowed in graphc text "
                                "(comparisons: < <= > >= == !=)", node)
            return [node.left, *node.comparators]
        if isinstance(node, ast.BoolOp):
            raise error(ParseError, "and/or need one truth value: use & and | on booleans, "
                        "with parentheses: (a < b) & (b < c)", node)
        if isinstance(node, ast.Attribute):
            if node.attr not in _ATTRIBUTES:
                raise error(ParseError, f"attribute access .{node.attr} is not allowed "
                            "(only .T, the transpose, and .mT, the matrices')", node)
            return [node.value]
        if self._picks(node):  # split(x, 2)[1]: one of the arrays a call gives
            return self._call_operands(node.value)  # type: ignore[attr-defined]
        if isinstance(node, ast.Subscript):
            return [node.value] + [e for e, k in _key(node) if k == indexing.ARRAY]
        if isinstance(node, ast.Call):
            return self._call_operands(node)
        what = _WHAT.get(type(node), type(node).__name__)
        raise error(ParseError, f"{what} are not allowed in graphc text"
                    + hints.SYNTAX.get(type(node), ""), node)

    def gives_several(self, node: ast.expr) -> bool:
        """Whether ``node`` calls a function giving several arrays: split(x, 2)."""
        return isinstance(node, ast.Call) and self._function(node).picked is not None

    def _picks(self, node: ast.expr) -> bool:  # split(x, 2)[1]: one of its arrays
        return isinstance(node, ast.Subscript) and self.gives_several(node.value)

    def pieces(self, call: ast.Call, names: int) -> list[str]:
        """The nodes of ``a, b = split(x, 2)``: one per array, as many as ``names``."""
        operands = [self.expr(e) for e in self._call_operands(call)]
        first = self._call(call, list(operands), where(call), 0)
        found = pieces.count(self.g, self.g.op(first), operands[0], self.g.attrs(first)["params"])
        if found != names:
            raise error(ParseError, f"{_callee(call)}(...) gives {found} arrays, "
                        f"{names} names are assigned", call)
        return [first] + [self._call(call, list(operands), where(call), k)
                          for k in range(1, found)]

    def _call_operands(self, node: ast.Call) -> list[ast.expr]:
        name = _callee(node)
        op = self._function(node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise error(ParseError, "starred arguments are not allowed", node)
        for kw in node.keywords:
            if kw.arg is not None and kw.arg == op.picked:
                raise error(ParseError, f"{name}() gives several arrays: take one as "
                            f"{name}(...)[{0}], or assign all: a, b = {name}(...)", kw)
            if kw.arg in op.keyword_operands:  # logsumexp(x, b=w): w an operand
                continue
            if kw.arg is None or kw.arg not in op.params:
                raise error(ParseError, f"{name}() takes no keyword {kw.arg or '**'!s}"
                            + hints.did_you_mean(kw.arg or "", op.params), kw if kw.arg else node)
        operands, given = _split(op, node)
        lead = len(op.leading)
        low = lead + op.given_arity - len(op.defaults)
        high = lead + op.given_arity + len(op.positional)
        if op.varargs == "after":  # index(x, i, key=...): x[i]'s index arrays follow x
            high = max(high, len(node.args))
        if not low <= len(node.args) <= high and op.varargs != "list":
            count = str(high) if low == high else f"{low} to {high}"
            unkeyed = [k for k in op.keyword_operands
                       if all(kw.arg != k for kw in node.keywords)]
            hint = f" ({', '.join(unkeyed)} by keyword: {name}(..., {unkeyed[0]}=...))" \
                if unkeyed and len(node.args) > high else ""
            raise error(ParseError, f"{name}() takes {count} argument"
                        f"{'s' if high != 1 else ''}, got {len(node.args)}{hint}", node)
        if op.varargs == "list" and (len(operands) < op.arity or
                                     len(given) > len(op.positional)):
            raise error(ParseError, f"{name}() takes a list of at least {op.arity} arrays, "
                        f"then at most {len(op.positional)} more argument(s)", node)
        for k in op.positional[:len(given)]:
            if any(kw.arg == k for kw in node.keywords):
                raise error(ParseError, f"{name}() got {k} twice", node)
        keyed = {kw.arg: kw.value for kw in node.keywords if kw.arg in op.keyword_operands}
        return operands + [keyed[k] for k in op.keyword_operands]

    def _function(self, node: ast.Call) -> Op:
        name = _callee(node)
        if isinstance(node.func, ast.Attribute):  # gc.sum(x): graphc's, whatever the names
            if name in _CALLABLE:
                _name_by_signature(name, node)
                return _spelled(name, node)
            raise error(UnknownOpError, f"graphc has no function {name!r}"
                        + hints.function(name), node)
        if name in self.lines:
            line = self.lines[name]
            where = f" (assigned on line {line})" if line else ""
            raise error(ParseError, f"{name} is a variable now{where}, not a function"
                        + (f"; graphc's {name} is still gc.{name}(...)"
                            if name in _CALLABLE else ""), node)
        if name in self.lambdas:
            return self.lambdas[name]
        if name in _CALLABLE:
            _name_by_signature(name, node)
            return _spelled(name, node)
        raise error(UnknownOpError, f"unknown function {name!r}"
                    + hints.function(name, self.lambdas), node)

    def _make(self, node: ast.expr, operands: list[str]) -> str:
        if self.shared is None or not operands:
            return self._make_node(node, operands)
        what = ast.dump(node) if self._picks(node) else \
            ast.dump(node.func) if isinstance(node, ast.Call) else \
            ast.dump(node.slice) if isinstance(node, ast.Subscript) else \
            tuple(map(type, node.ops)) if isinstance(node, ast.Compare) else \
            type(getattr(node, "op", node))  # BinOp, UnaryOp; else .T
        key = (what, tuple(operands), tuple(ast.dump(k) for k in getattr(node, "keywords", ())))
        if key not in self.shared:
            self.shared[key] = self._make_node(node, operands)
        return self.shared[key]

    def _make_node(self, node: ast.expr, operands: list[str]) -> str:
        g = self.g
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Constant):
            return g.const(_number(node))
        pos = where(node)
        if isinstance(node, ast.BinOp):
            return g.add(_BINOPS[type(node.op)], operands, pos=pos)
        if isinstance(node, ast.Compare):
            return _compare(g, node, operands, pos)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return operands[0]
            if isinstance(node.op, ast.Invert):
                return g.add("logical_not", operands, pos=pos)
            if g.is_const(operands[0]):
                return g.const(-g.attrs(operands[0])["params"]["value"])
            return g.add("neg", operands, pos=pos)
        if isinstance(node, ast.Call):
            return self._call(node, operands, pos)
        if self._picks(node):
            call = node.value  # type: ignore[attr-defined]
            piece = _index_literal(node.slice, "the array taken")  # type: ignore[attr-defined]
            return self._call(call, operands, pos, piece)
        if isinstance(node, ast.Subscript):
            op, params = indexing.subscript(tuple(k for _, k in _key(node)))
            return g.add(op, operands, params, pos=pos)
        assert isinstance(node, ast.Attribute)  # .T or .mT, the attributes allowed
        return g.add(_ATTRIBUTES[node.attr], operands, pos=pos)

    def _call(self, node: ast.Call, operands: list[str], pos: tuple[int, int],
              piece: int | None = None) -> str:
        g = self.g
        op = self._function(node)
        operands += [g.const(v) for v in op.defaults[len(operands) - op.arity:]] \
            if len(operands) < op.arity else []
        params = {kw.arg: _literal(kw.value) for kw in node.keywords
                  if kw.arg in op.params}  # (others refused already, ** too)
        params.update(zip(op.positional, map(_literal, _split(op, node)[1])))
        params.update(zip(op.leading, map(_literal, node.args)))
        _check_params(op, params, node)
        if op.picked is not None:  # which array: split(x, 2)[-1] (the shape rule checks it)
            if piece is None:
                raise error(ParseError, f"{op.name}() gives several arrays: assign them all "
                            f"(a, b = {op.name}(...)) or take one ({op.name}(...)[0])", node)
            params[op.picked] = piece
        if op.name in _INTERNAL_RULES:
            rule, what = _INTERNAL_RULES[op.name]
            if not rule(len(g.shape(operands[0])), {**op.params, **params}):
                raise error(ParseError, f"{op.name}(x, ...) needs {what}; x is "
                            f"{format_shape(g.shape(operands[0]))}", node)
        try:
            return g.add(op.name, operands, params, pos=pos)
        except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
            # an internal op's shape rule, given parameters it cannot work with
            given = ", ".join(f"{k}={v!r}" for k, v in {**op.params, **params}.items())
            raise error(ParseError, f"{op.name}() cannot take {given or 'no parameters'} "
                        f"({exc})", node) from None

    def _name(self, node: ast.Name) -> str:
        name = node.id
        if name in self.names:
            return self.names[name]
        if name in self.lambdas:
            raise error(ParseError, f"{name} is a function; call it: {name}(...)", node)
        if name in self.dims:  # x: [T, D], then D is x's size
            return self.g.add("dimension", params={"name": name}, pos=where(node))
        if name in CONSTANTS and name not in self.taken:  # pi, e, inf, nan: NumPy's
            return self.g.const(CONSTANTS[name])
        if not self.open_inputs:
            raise error(ParseError, f"{name!r} is not a parameter of this lambda"
                        + hints.did_you_mean(name, self.names), node)
        self.names[name] = self.g.add_input(name)
        self.lines[name] = node.lineno
        return self.names[name]


def dimension_names(shape: tuple) -> list[str]:
    """The names a declared shape uses (``L`` of ``L - 2`` too)."""
    return [name for d in shape if isinstance(d, str) for name in _IDENTIFIER.findall(d)]


_IDENTIFIER = re.compile(r"[^\W\d]\w*")


def _key(node: ast.Subscript) -> list[tuple[ast.expr, Any]]:
    """Each item of ``x[...]`` with its key item (``indexing``): literals are read
    here, any other expression is an index operand (``ARRAY``)."""
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    key: list[tuple[ast.expr, Any]] = []
    for item in items:
        if isinstance(item, ast.Slice):
            bounds = [_index_literal(b, "a slice bound") for b in
                      (item.lower, item.upper, item.step)]
            key.append((item, tuple(bounds)))
        elif isinstance(item, ast.Constant) and (item.value is None or item.value is Ellipsis):
            key.append((item, indexing.encode(item.value)))
        elif isinstance(item, ast.Constant) or _signed_literal(item):
            key.append((item, _index_literal(item, "an index")))
        elif isinstance(item, ast.Starred):
            raise error(ParseError, "starred indices are not allowed", item)
        else:
            key.append((item, indexing.ARRAY))
    return key


def _signed_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
        and isinstance(node.operand, ast.Constant)


def _index_literal(node: ast.expr | None, what: str) -> int | None:
    """An integer literal (or nothing, a slice's default) where only one may stand."""
    if node is None:
        return None
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    inner = node.operand if isinstance(node, ast.UnaryOp) and _signed_literal(node) else node
    if isinstance(inner, ast.Constant) and type(inner.value) is int:
        return -inner.value if negative else inner.value
    got = repr(inner.value) if isinstance(inner, ast.Constant) else \
        "an expression (the shape would depend on a value)"
    raise error(ParseError, f"{what} must be an integer literal, got {got}", node)


def _compare(g: Graph, node: ast.Compare, operands: list[str], pos: tuple[int, int]) -> str:
    """``a < b < c`` as Python means it: ``(a < b) & (b < c)``, b computed once."""
    found = [g.add(_COMPARE[type(op)], operands[i:i + 2], pos=pos)
             for i, op in enumerate(node.ops)]
    for later in found[1:]:
        found[0] = g.add("logical_and", (found[0], later), pos=pos)
    return found[0]


# Internal ops that read their operand's rank: (rule on rank and params, what it needs)
_INTERNAL_RULES = {
    "batch_size": (lambda ndim, p: ndim >= 1, "an x with a declared first axis"),
    "reverse_last": (lambda ndim, p: 0 <= p["k"] <= ndim, "0 <= k <= x's rank"),
    "lift": (lambda ndim, p: p["ndim"] >= ndim - 1, "ndim >= x's rank - 1"),
}


def _split(op: Op, node: ast.Call) -> tuple[list[ast.expr], list[ast.expr]]:
    """A call's operands given by position and the parameters given by position after
    them (after ``op.leading``'s, before them); a list's (``concatenate([a, b], 0)``)."""
    args = node.args[len(op.leading):]
    if op.varargs == "after":  # index(x, i, key=...): every argument an operand
        return list(args), []
    if op.varargs == "":
        return list(args[:op.given_arity]), list(args[op.given_arity:])
    if op.varargs == "lists":  # select([c0, c1], [a0, a1], default=0.0)
        lists = [a.elts for a in args[:2] if isinstance(a, (ast.List, ast.Tuple))]
        if len(lists) < 2 or len(lists[0]) != len(lists[1]) or not lists[0]:
            raise error(ParseError, f"{op.name}() takes two lists of one length first, as "
                        f"{op.name}([x < 0, x > 1], [a, b])", node)
        default = args[2:3] or [ast.copy_location(ast.Constant(op.defaults[0]), node)]
        return [*lists[0], *lists[1], *default], list(args[3:])
    if not args or not isinstance(args[0], (ast.List, ast.Tuple)):
        raise error(ParseError, f"{op.name}() takes a list of arrays first, as "
                    f"{op.name}([a, b])", node)
    return list(args[0].elts), list(args[1:])


def _check_params(op: Op, params: dict[str, Any], node: ast.Call) -> None:
    """Keyword values of the kind the op's defaults have; an internal op's parameter
    without a default (``lift(x, ndim=3)``) is required."""
    for k, default in op.params.items():
        value = params.get(k, default)
        want = "True or False" if isinstance(default, bool) else "an integer"
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):  # softmax(x, axis=(0, 1)) too
            ok = type(value) is int or k in ("axis", "axes") and isinstance(value, tuple)
        elif value is None:  # axis=None: every axis (prod_except of an undeclared x)
            ok = op.public or op.spelled is not None or k in ("start", "stop", "axis")
        else:  # a public op's shape rule says what else is wrong
            ok = op.public or not isinstance(value, bool)
        if not ok:
            what = f"got {value!r}" if k in params else "it is required"
            raise error(ParseError, f"{op.name}(): {k} must be {want} ({what})", node)


_ORDINALS = ("first", "second", "third")


def _name_by_signature(name: str, node: ast.Call) -> None:
    """torch's ``conv2d(x, w, b, 2)`` read as ``conv2d(x, w, bias=b, stride=2)``: the
    arguments past the operands named by the op's signature (the call rewritten once)."""
    op = OPS[name]
    first = len(op.leading) + op.given_arity
    extra = node.args[first:]
    if not op.signature or not extra:
        return
    if len(extra) > len(op.signature):
        raise error(ParseError, f"{name}() takes at most {first + len(op.signature)} "
                    f"arguments by position, got {len(node.args)}", node)
    for k, value in zip(op.signature, extra):
        if any(kw.arg == k for kw in node.keywords):
            raise error(ParseError, f"{name}() got {k} twice", value)
        if k == "axis" and not isinstance(value, (ast.Constant, ast.Tuple, ast.UnaryOp)) \
                and (meant := hints.pairwise(name)):  # max(a, b) meant maximum(a, b)
            raise error(ParseError, meant, value)
    node.keywords = [ast.keyword(arg=k, value=v) for k, v in zip(op.signature, extra)] \
        + node.keywords
    node.args = node.args[:first]


def _spelled(name: str, node: ast.Call) -> Op:
    """The op a call of the function ``name`` builds, by the arguments it is given
    (``table.spelled``); the params given before the operands are strings."""
    for i, k in enumerate(OPS[name].leading):  # einsum('ij,jk->ik', a, b)
        first = node.args[i] if len(node.args) > i else node
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            raise error(ParseError, f"{name}'s {_ORDINALS[i]} argument is its {k}, a string",
                        first)
    try:
        return spelled(name, len(node.args), [kw.arg for kw in node.keywords if kw.arg])
    except GraphcError as exc:
        raise error(ParseError, exc.message, node) from None


def _callee(node: ast.Call) -> str:
    """The name a call calls: ``f(x)``, or ``gc.f(x)`` (graphc's own ``f``, however
    the text's variables are named)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        if func.value.id == "gc":
            return func.attr
        raise error(ParseError, hints.attribute_call(func.value.id, func.attr), node)
    raise error(ParseError, "only named functions can be called", node)


def _number(node: ast.Constant) -> float:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        what = {str: "strings are", bytes: "bytes are", complex: "complex numbers are"}.get(
            type(value), f"the constant {value!r} is")
        raise error(ParseError, f"{what} not allowed in graphc text", node)
    try:
        return float(value)
    except OverflowError:  # an integer literal past float's range, as 1e999 is
        return math.inf


def dim_name(e: ast.expr) -> str | None:
    """A symbolic dimension as the shape rules write it: ``N``, ``L-2``, ``L+2``, ``2*N``
    (so that ``x: [L - 2]`` and ``slice(y, start=2)`` of ``y: [L]`` broadcast)."""
    if isinstance(e, ast.Name):
        return e.id
    if not isinstance(e, ast.BinOp) or not isinstance(e.op, (ast.Add, ast.Sub, ast.Mult)):
        return None
    name, k = (e.right, e.left) if isinstance(e.op, ast.Mult) and \
        isinstance(e.right, ast.Name) else (e.left, e.right)  # 2 * N or N * 2
    if not (isinstance(name, ast.Name) and isinstance(k, ast.Constant)
            and type(k.value) is int and k.value >= 0):
        return None
    if isinstance(e.op, ast.Mult):
        return f"{k.value}*{name.id}" if k.value != 1 else name.id
    return f"{name.id}{'+' if isinstance(e.op, ast.Add) else '-'}{k.value}" if k.value \
        else name.id


def _literal(node: ast.expr) -> Any:
    """A parameter's value: None, a number, a tuple of them (axis=...), a dimension's
    name (reshape(x, (N, -1))), or an option NumPy spells as a string or inf
    (``norm(x, ord="fro")``, ``ord=-inf``): the op's shape rule says which it takes."""
    if isinstance(node, ast.Constant) and (node.value is None or
                                           type(node.value) in (int, bool, float, str)):
        return node.value
    if isinstance(node, ast.Name) and node.id == "inf":
        return math.inf
    if isinstance(node, (ast.Name, ast.BinOp)) and (name := dim_name(node)) is not None:
        return name
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and \
            isinstance(node.operand, (ast.Constant, ast.Name)) and \
            type(_literal(node.operand)) in (int, float):
        return -_literal(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):  # tensordot's axes=([1], [0])
        return tuple(_literal(e) for e in node.elts)
    raise error(ParseError, "a parameter must be a number, a dimension's name, a tuple of "
                "them, True/False, None, or an option such as ord=inf or ord='fro'", node)
