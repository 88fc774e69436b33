"""The command line as people expect it, run as they run it (a new process each: the
slow tier): ``-`` for standard input and output, ``--json``, "did you mean", a fast
``--help``, shell completion, nothing printed by a command that fails. And the Python
API's conventions: keyword-only options, ``inspect.signature``, a warning category."""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import EXAMPLES

import graphc as gc
from graphc.teach import render as render_mod

ROOT = Path(__file__).resolve().parent.parent
COLAH = (EXAMPLES / "colah.gc").read_text()
HEAVY = ("sympy", "numpy", "networkx", "graphviz")


def graphc(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """``python -m graphc ARGS`` with ``stdin`` as standard input."""
    return subprocess.run([sys.executable, "-m", "graphc", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_compile_reads_standard_input_and_writes_standard_output():
    want = gc.compile(gc.parse(COLAH)).source
    assert graphc("compile", "-", stdin=COLAH).stdout == want
    proc = graphc("compile", "-", "-o", "-", "--wrt", "b", stdin=COLAH)
    assert proc.returncode == 0 and proc.stdout == gc.compile(gc.parse(COLAH), wrt="b").source


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_writes_any_format_to_standard_output():
    svg = graphc("render", "-", "-o", "-", "--format", "svg", "--at", "a=2,b=1", stdin=COLAH)
    assert svg.returncode == 0, svg.stderr
    assert svg.stdout.startswith("<?xml") and "</svg>" in svg.stdout and "∂e/∂c" in svg.stdout
    png = subprocess.run([sys.executable, "-m", "graphc", "render", "-", "-o", "-", "--format",
                          "png"], input=COLAH.encode(), capture_output=True, timeout=120)
    assert png.returncode == 0 and png.stdout.startswith(b"\x89PNG\r\n\x1a\n")
    dot = graphc("render", "-", "-o", "-", stdin=COLAH)  # DOT text unless --format says
    assert dot.stdout.startswith("digraph graphc {")


@pytest.mark.slow
def test_eval_json_is_one_object_with_every_number():
    proc = graphc("eval", "-", "--at", "a=2,b=1", "--json", "--hessian",
                  stdin="a: scalar\nb: scalar\n" + COLAH)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "of": "e", "value": 6.0, "gradients": {"a": 2.0, "b": 5.0},
        "hessian": {"a": {"a": 0.0, "b": 1.0}, "b": {"a": 1.0, "b": 2.0}}}
    arrays = graphc("eval", "-", "--at", "a=[1,2],b=1", "--json", stdin=COLAH)
    assert json.loads(arrays.stdout)["gradients"] == {"a": [2.0, 2.0], "b": 9.0}


@pytest.mark.slow
def test_verify_json_says_ok_and_every_method():
    proc = graphc("verify", "-", "--at", "a=2,b=1", "--json", stdin=COLAH)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["of"] == "e"
    (a, b) = report["rows"]
    assert (b["input"], b["n_paths"], b["reverse"], b["forward"], b["path_sum"]) == \
        ("b", 2, 5.0, 5.0, 5.0)
    assert abs(b["finite_difference"] - 5.0) < 1e-6 and b["disagree"] == []
    assert [p["factors"] for p in b["paths"]] == [["1", "d"], ["1", "c"]]


@pytest.mark.slow
def test_a_failed_command_prints_nothing():
    """The Hessian of a non-scalar fails after the value and gradients are known: none
    of them is printed, in either format."""
    text = "x: [3]\ny = x * x\n"
    for json_flag in ((), ("--json",)):
        proc = graphc("eval", "-", "--at", "x=[1,2,3]", "--hessian", *json_flag, stdin=text)
        assert proc.returncode == 2 and proc.stdout == "", proc
        assert proc.stderr.startswith("<stdin>: error: a Hessian of y")


@pytest.mark.slow
def test_did_you_mean():
    proc = graphc("compil", "-")
    assert proc.returncode == 2 and "did you mean 'compile'?" in proc.stderr
    proc = graphc("compile", "-", "--backend", "numpi", stdin=COLAH)
    assert proc.returncode == 2 and "did you mean 'numpy'?" in proc.stderr
    proc = graphc("eval", "-", "--at", "a=1", stdin="y = exq(a)\n")
    assert proc.returncode == 2, proc
    assert proc.stderr == "<stdin>:1:5: error: unknown function 'exq'; did you mean 'exp'?\n"


@pytest.mark.slow
@pytest.mark.parametrize("text, message", [
    ("c = a +\n", "<stdin>:1:8: error: invalid syntax\n"),
    ("c = (a\n", "<stdin>:1:5: error: invalid syntax: '(' was never closed\n")])
def test_a_syntax_error_is_said_once(text, message):
    proc = graphc("compile", "-", stdin=text)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["compil"], ["eval", "--help"],
                                  ["render", "--help"]])
def test_help_and_version_load_nothing_heavy(args):
    """Answered from the parser alone: no sympy, NumPy or networkx is imported (each
    costs a tenth of a second or more; --help took 1.2 s with them)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "graphc", *args],
                          capture_output=True, text=True, timeout=60)
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
              if line.startswith("import time:")}
    assert "graphc" in loaded and not loaded & set(HEAVY), loaded & set(HEAVY)
    assert proc.returncode == (2 if args == ["compil"] else 0)


def _loaded_at_import(module: str) -> set[str]:
    """The modules importing ``module`` runs (its packages' ``__init__`` too), read from
    the source: imports at module level, not in functions nor under TYPE_CHECKING."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # its packages
        if parts[0] != "graphc":
            continue
        path = ROOT.joinpath(*parts)
        is_package = path.is_dir()
        source = path / "__init__.py" if is_package else path.with_suffix(".py")
        stack: list[ast.AST] = [ast.parse(source.read_text(encoding="utf-8"))]
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or (
                    isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
                continue
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = parts if is_package else parts[:-1]
                base = base[:len(base) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                todo.append(target)
                todo += [f"{target}.{a.name}" for a in node.names
                         if ROOT.joinpath(*target.split("."), a.name).is_dir()
                         or ROOT.joinpath(*target.split("."), a.name + ".py").is_file()]
            stack.extend(ast.iter_child_nodes(node))
    return seen


def test_the_parser_needs_nothing_heavy():
    """What ``graphc --help`` loads: the command line's parser and what it imports, and
    not sympy, NumPy, networkx or graphviz (the subprocess test below times it)."""
    loaded = _loaded_at_import("graphc.cli")
    assert {"graphc", "graphc.cli", "graphc.errors", "graphc.files.writing"} <= loaded
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)
    assert {"numpy", "sympy"} <= _loaded_at_import("graphc.cli.commands")  # it can fail


@pytest.mark.slow
def test_help_that_names_the_backends_fills_them_in():
    """``compile --help`` and ``verify --help`` load what they list, as they print."""
    assert "numpy: whole-array" in graphc("compile", "--help").stdout
    assert "10,000" in graphc("verify", "--help").stdout


@pytest.mark.slow
def test_importing_graphc_loads_a_name_when_it_is_used():
    script = ("import sys, graphc\n"
              "assert 'sympy' not in sys.modules\n"
              "from graphc import compile, GraphcWarning\n"
              "assert 'sympy' in sys.modules and graphc.compile is compile\n"
              "try:\n    graphc.compil\nexcept AttributeError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "module 'graphc' has no attribute 'compil'\n"
    assert set(gc.__all__) <= set(dir(gc))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_commands_options_and_backends(tmp_path):
    pytest.importorskip("shtab")
    script = graphc("--print-completion", "bash")
    assert script.returncode == 0, script.stderr
    (tmp_path / "graphc.bash").write_text(script.stdout)
    probe = """source graphc.bash
complete_() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
  _shtab_graphc; echo "${COMPREPLY[*]}"; }
complete_ graphc comp
complete_ graphc compile --back
complete_ graphc compile --backend n
"""
    done = subprocess.run(["bash", "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "LC_ALL": "C"})
    assert done.stdout.splitlines() == ["compile", "--backend", "numpy numba"], done


# ---- the Python API's conventions ------------------------------------------------------

def test_compile_options_are_keyword_only():
    """SPEC's positional ``compile(g, wrt, of, mode)``; everything after it by name."""
    g = gc.parse(COLAH)
    assert gc.compile(g, ["b"], "e", "forward").wrt == ["b"]
    with pytest.raises(TypeError, match="positional"):
        gc.compile(g, None, None, "reverse", False)  # type: ignore[misc]
    params = inspect.signature(gc.compile).parameters
    assert [p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY] == \
        ["optimize", "passes", "backend", "progress"]


def test_a_compiled_function_shows_the_graphs_inputs():
    g = gc.parse("a: scalar\nb: scalar\ne = (a + b) * (b + 1)")
    assert str(inspect.signature(gc.compile(g))) == "(a, b)"
    assert str(inspect.signature(gc.vjp(g))) == "(a, b, *, y_bar)"
    assert str(inspect.signature(gc.hvp(g))) == "(a, b, *, v)"
    fn = gc.compile(g)
    bound = inspect.signature(fn).bind(2.0, b=1.0)  # what fn() accepts
    assert float(fn(*bound.args, **bound.kwargs)[0]) == 6.0


def test_graphcs_warnings_can_be_filtered(monkeypatch):
    monkeypatch.setattr(render_mod, "BIG", 3)
    with pytest.warns(gc.GraphcWarning, match="too many to read"):
        gc.render(gc.parse(COLAH))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=gc.GraphcWarning)
        gc.render(gc.parse(COLAH))  # no error: filtered by its category


def test_every_warning_graphc_gives_is_a_graphc_warning():
    calls = []
    for path in (ROOT / "graphc").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "warnings.warn":
                category = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "category"), None)
                calls.append((path.name, category and ast.unparse(category)))
    assert len(calls) >= 2
    assert all(c == "GraphcWarning" for _, c in calls), calls
