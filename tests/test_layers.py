"""The folder tree is the architecture: the import graph of the package is acyclic and
every import points down the layers (docs/design.md draws them).

Imports inside functions count; imports under ``if TYPE_CHECKING:`` do not (they never
run: annotations only)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import types
from pathlib import Path

import networkx as nx
import pytest

import graphc as gc
from graphc.frontend import functions
from graphc.ops import FUNCTIONS

PACKAGE = Path(gc.__file__).parent

LAYERS = {
    "graphc.errors": 0, "graphc._version": 0,
    "graphc.files": 1,
    "graphc.ops": 2,
    "graphc.ir": 3,
    "graphc.frontend": 4, "graphc.autodiff": 4, "graphc.optimize": 4, "graphc.backend": 4,
    "graphc.compiler": 5,
    "graphc.derivatives": 6,
    "graphc.teach": 7,
    "graphc.cli": 8,
    "graphc.__main__": 9, "graphc": 9,
}
"""Each module's layer, by its top-level part: a module imports only from lower layers
and from its own part. The four parts of layer 4 never import each other."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    """Every import statement that can run, at any depth, but none under TYPE_CHECKING."""
    found: list[ast.ImportFrom | ast.Import] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The graphc modules an import statement loads (a package, or a module in it)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "graphc"]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "graphc":
        return []
    names = [f"{target}.{a.name}" for a in node.names]
    return [n if n in MODULES else target for n in names]


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")
           if "examples" not in p.relative_to(PACKAGE).parts}  # not the checkout's path


def import_graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in MODULES.items():
        g.add_node(name)
        tree = ast.parse(path.read_text(), str(path))
        for node in _runtime_imports(tree):
            for target in _resolve(name, path.name == "__init__.py", node):
                if target != name:
                    g.add_edge(name, target)
    return g


def _part(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def test_the_import_graph_has_no_cycle():
    g = import_graph()
    assert g.number_of_edges() > 40
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], f"import cycles: {cycles[:3]}"


def test_every_import_points_down_the_layers():
    bad = []
    for a, b in import_graph().edges:
        pa, pb = _part(a), _part(b)
        if pa != pb and not LAYERS[pb] < LAYERS[pa]:
            bad.append(f"{a} -> {b}")
    assert bad == []


def test_every_module_has_a_layer():
    assert {_part(m) for m in MODULES} <= set(LAYERS)


def test_the_check_sees_a_back_edge(tmp_path):
    """The layer check is not vacuous: an import of the teaching layer from the IR is
    flagged."""
    tree = ast.parse("def f():\n    from ..teach import render\n")
    (node,) = _runtime_imports(tree)
    (target,) = _resolve("graphc.ir.graph", False, node)
    assert target == "graphc.teach.render"
    assert not LAYERS[_part(target)] < LAYERS[_part("graphc.ir.graph")]


def test_type_checking_imports_are_not_edges():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from .graph import Graph\n")
    assert [type(n) for n in _runtime_imports(tree)] == [ast.ImportFrom]  # the typing one


def test_the_function_handles_are_the_op_tables_public_functions():
    body = ast.parse(Path(functions.__file__).read_text()).body
    handles = [n for n in body if isinstance(n, (ast.Assign, ast.AnnAssign))
               and isinstance(n.value, ast.Call) and getattr(n.value.func, "id", "") == "function"]
    assert all(isinstance(n, ast.AnnAssign) for n in handles)  # each with its signature
    spelled = {n.target.id for n in handles}
    assert spelled == set(FUNCTIONS)
    assert set(FUNCTIONS) <= set(gc.__all__)
    for name in FUNCTIONS:
        assert getattr(gc, name).__name__ == name


def test_all_is_a_literal_list_of_what_the_package_defines():
    tree = ast.parse(Path(gc.__file__).read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.Assign)
               and any(getattr(t, "id", None) == "__all__" for t in n.targets)]
    assert ast.literal_eval(node.value) == gc.__all__
    assert all(hasattr(gc, name) for name in gc.__all__)
    assert len(set(gc.__all__)) == len(gc.__all__)


@pytest.mark.parametrize("name", ["compile", "graph", "parse", "render", "verify", "load"])
def test_no_public_function_is_also_a_submodule(name):
    """``import graphc.render`` must not give a function, nor ``gc.render`` a module."""
    submodules = {m.name for m in pkgutil.iter_modules([str(PACKAGE)])}
    assert name not in submodules
    assert callable(getattr(gc, name))


def test_subpackages_shadow_none_of_their_modules():
    """A subpackage exports no function under the name of one of its modules."""
    for path in PACKAGE.rglob("__init__.py"):
        package = importlib.import_module(_module_name(path))
        for m in pkgutil.iter_modules([str(path.parent)]):
            assert isinstance(getattr(package, m.name, types), types.ModuleType), m.name


def test_the_package_is_typed():
    assert (PACKAGE / "py.typed").exists()
