"""The .gc text front end: Python syntax parsed with ``ast`` against a whitelist.

User text is never evaluated. Each statement is an assignment ``name = expr``, a
lambda op ``f = lambda x, y: expr`` or a declaration ``W: [3, 2]``. Reassigning a name
makes a new version (SSA): ``x = sin(x)`` twice gives nodes ``x_1`` and ``x_2``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import cast

from ..errors import ParseError
from ..files import read_text
from ..ir.collector import paused_gc
from ..ir.graph import Graph
from ..ir.text import suffixed
from ..ops import OPS, Op
from .text_expr import Scope, dim_name, dimension_names, error, where
from .text_lambda import lambda_op


def _shape(node: ast.expr) -> tuple | None:
    """A declared shape; None for `any` (an input of any shape, as if undeclared)."""
    if isinstance(node, ast.Name) and node.id in ("any", "scalar"):
        return None if node.id == "any" else ()
    if isinstance(node, (ast.List, ast.Tuple)):
        dims: list[int | str] = []
        for e in node.elts:
            if isinstance(e, ast.Constant) and type(e.value) is int and e.value >= 0:
                dims.append(e.value)
            elif (name := dim_name(e)) is not None:
                dims.append(name)
            else:
                raise error(ParseError, "a dimension is a non-negative integer, a name, or "
                            "a name plus or minus an integer or times one (L - 2, 2 * N)", e)
        return tuple(dims)
    raise error(ParseError, "a declaration is `name: scalar`, `name: [dim, ...]`, "
                "`name: any`, or integers: `name: int`, `name: int[dim, ...]`", node)


def _declared(node: ast.expr) -> tuple[tuple | None, bool]:
    """A declaration's shape, and whether it declares integers: `i: int` (a scalar),
    `labels: int[N]`."""
    if isinstance(node, ast.Name) and node.id == "int":
        return (), True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
            node.value.id == "int":
        dims = node.slice
        return _shape(dims if isinstance(dims, ast.Tuple) else ast.List([dims])), True
    return _shape(node), False


class _Parser:
    def __init__(self) -> None:
        self.g = Graph()
        self.lambdas: dict[str, Op] = {}
        self.scope = Scope(self.g, {}, self.lambdas, open_inputs=True)
        self.versions: dict[str, int] = {}  # base name -> its last version's suffix
        self.depths: dict[str, int] = {}  # lambda -> its formula's depth (LAMBDA_DEPTH)

    def _version(self, base: str) -> str:
        """``base_1``, ``base_2``, ...: counting on from the last version, so that n
        reassignments cost n, not n**2."""
        has, reserved = self.g.has, self.g.reserved
        name, self.versions[base] = suffixed(base, lambda n: has(n) or n in reserved,
                                             self.versions.get(base, 0))
        return name

    def statement(self, stmt: ast.stmt) -> str | None:
        """Handle one line; the node it assigns, if any."""
        if isinstance(stmt, ast.AnnAssign):
            self._declare(stmt)
            return None
        if isinstance(stmt, ast.AugAssign):
            stmt = self._augmented(stmt)
        if not isinstance(stmt, ast.Assign):
            what = "a bare expression computes nothing; assign it: name = ..." \
                if isinstance(stmt, ast.Expr) else \
                f"{type(stmt).__name__} statements are not allowed in graphc text"
            raise error(ParseError, what, stmt)
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple) and \
                self.scope.gives_several(stmt.value):
            return self._unpacked(stmt.targets[0], cast(ast.Call, stmt.value))
        if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
            raise error(ParseError, "assign to exactly one plain name (several names take "
                        "the arrays of split, array_split or unstack)", stmt.targets[0])
        target = self._target(stmt.targets[0])
        self._not_a_dimension(target, stmt.targets[0], "assigned")
        if isinstance(stmt.value, ast.Lambda):
            if target in self.scope.names:
                raise error(ParseError, f"{target} is already a value", stmt.targets[0])
            if target in OPS:  # its nodes would be taken for graphc's (alias, input too)
                raise error(ParseError, f"{target} is a graphc function; give the lambda "
                            "a name of its own", stmt.targets[0])
            self.lambdas[target] = lambda_op(target, stmt.value, self.lambdas, self.depths,
                                             self.scope.lines)
            self.g.ops[target] = self.lambdas[target]
            return None
        return self._bind(target, self.scope.expr(stmt.value), stmt.value)

    def _target(self, node: ast.expr) -> str:
        if not isinstance(node, ast.Name):
            raise error(ParseError, "assign to plain names", node)
        if node.id in self.lambdas:
            raise error(ParseError, f"{node.id} names a function; choose another name", node)
        return node.id

    def _bind(self, target: str, node: str, value: ast.expr) -> str:
        """Name ``target`` the node computing ``value`` (a new version of a name in use)."""
        name = self._version(target) if target in self.g.nx else target
        d = self.g.attrs(node)
        if d["temp"] and d["op"] != "const":
            self.g.rename(node, name)
        else:
            self.g.add("alias", (node,), name=name, pos=where(value))
        self.scope.names[target] = name
        self.scope.lines.setdefault(target, value.lineno)
        return name

    def _unpacked(self, targets: ast.Tuple, value: ast.Call) -> str:
        """``a, b = split(x, 2)``: each name one of the arrays the call gives."""
        names = [self._target(t) for t in targets.elts]
        if len(set(names)) < len(names):
            raise error(ParseError, "a name is assigned twice in one line", targets)
        nodes = self.scope.pieces(value, len(names))
        return [self._bind(t, n, value) for t, n in zip(names, nodes)][-1]

    def _augmented(self, stmt: ast.AugAssign) -> ast.Assign:
        """``c += x`` is ``c = c + (x)``, micrograd's spelling, for every operator;
        c must have a value already, as in Python."""
        target = stmt.target
        if not isinstance(target, ast.Name):
            raise error(ParseError, "assign to exactly one plain name", target)
        if target.id not in self.scope.names and target.id not in self.lambdas:
            raise error(ParseError, f"name {target.id!r} is not defined: an augmented "
                        f"assignment updates a value; give it one first: {target.id} = ...",
                        target)
        left = ast.copy_location(ast.Name(target.id, ast.Load()), target)
        value = ast.copy_location(ast.BinOp(left, stmt.op, stmt.value), stmt)
        return ast.copy_location(ast.Assign([target], value), stmt)

    def _declare(self, stmt: ast.AnnAssign) -> None:
        if not isinstance(stmt.target, ast.Name) or stmt.value is not None:
            raise error(ParseError, "a declaration is `name: scalar` or `name: [dim, ...]` "
                        "on a line of its own", stmt)
        name = stmt.target.id
        if name in self.lambdas:
            raise error(ParseError, f"{name} names a function; choose another name",
                        stmt.target)
        if name in self.scope.names:
            raise error(ParseError, f"{name} is declared after its first use; declare "
                        "inputs before using them", stmt)
        self._not_a_dimension(name, stmt.target, "declared as an input")
        shape, integer = _declared(stmt.annotation)
        for dim in dimension_names(shape or ()):
            if dim in self.scope.names or dim in self.lambdas:
                line = self.scope.lines.get(dim)
                raise error(ParseError, f"{dim} is a value already" + (
                    f" (line {line})" if line else "") + ": a dimension's name, used as a "
                    "value, is that size; name the dimension or the value otherwise",
                    stmt.annotation)
            self.scope.dims.setdefault(dim, (name, stmt.lineno))
        self.scope.names[name] = self.g.add_input(name, shape or (), declared=shape is not None,
                                                  integer=integer)
        self.scope.lines[name] = stmt.lineno

    def _not_a_dimension(self, name: str, node: ast.expr, what: str) -> None:
        """A dimension's name used as a value is its size: it is not also a variable."""
        if name in self.scope.dims:
            holder, line = self.scope.dims[name]
            raise error(ParseError, f"{name} is a dimension of {holder} (line {line}), "
                        f"whose size {name} stands for as a value: it cannot also be "
                        f"{what}; rename one of them", node)


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


def _columns_in_characters(tree: ast.AST, text: str) -> None:
    """ast counts columns in UTF-8 bytes; errors name them in characters (é is one)."""
    lines = text.splitlines()
    for node in ast.walk(tree):
        if isinstance(node, _POSITIONED) and node.lineno <= len(lines):
            line = lines[node.lineno - 1].encode()
            node.col_offset = len(line[:node.col_offset].decode(errors="ignore"))


def _build(text: str) -> Graph:
    """The graph of ``text``; its syntax tree is freed before the collector runs again."""
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
        said = str(exc.msg)  # "invalid syntax", "invalid syntax. Perhaps you forgot ..."
        raise ParseError(said if said.startswith("invalid syntax") else
                         f"invalid syntax: {said}", exc.lineno or 1, exc.offset or 1) from None
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply to parse", 1, 1) from None
    except ValueError as exc:  # e.g. a NUL byte in the text
        raise ParseError(str(exc), 1, 1) from None
    if not text.isascii():
        _columns_in_characters(tree, text)
    p = _Parser()
    p.g.reserved = _names(tree)
    p.scope.taken = {t.id for stmt in tree.body for t in _targets(stmt)}
    last = None
    for stmt in tree.body:
        last = p.statement(stmt) or last
    if last is None:
        raise ParseError("nothing is computed: write at least one line `name = expression`",
                         1, 1)
    p.g.outputs = [last]
    # -2 and -inf fold into one constant: the 2 and inf read first are read by nothing
    unread = [n for n, d in p.g.node_data().items() if d["op"] == "const" and not p.g.readers(n)]
    if unread:
        p.g.remove(unread)
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


def _targets(stmt: ast.stmt) -> list[ast.Name]:
    """What a statement assigns or declares: names there are the text's own."""
    targets = [t for e in stmt.targets for t in (e.elts if isinstance(e, ast.Tuple) else [e])] \
        if isinstance(stmt, ast.Assign) else \
        [stmt.target] if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) else []
    return [t for t in targets if isinstance(t, ast.Name)]


def load(path: str | Path) -> Graph:
    """A Graph from a .gc file."""
    return parse(read_text(path))  # regular files only, size-capped: a FIFO never blocks
