"""`graphc render`, `graphc verify` and `graphc demo` run as a user runs them (in this
process: the ``cli`` fixture)."""

from __future__ import annotations

import re
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest

import graphc as gc
from graphc.cli.values import parse_at

ROOT = Path(__file__).resolve().parent.parent
COLAH = str(ROOT / "examples" / "colah.gc")
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's `dot` is not installed")


def assert_clean_error(proc, file: str) -> None:
    """Exit 2, one ``FILE: error:`` or ``FILE:LINE:COL: error:`` line, no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert re.match(rf"{re.escape(file)}(:\d+:\d+)?: error: \S", proc.stderr), proc.stderr


# ---- render ------------------------------------------------------------------------

@needs_dot
def test_render_svg(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "-o", "out.svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / "out.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "∂e/∂b = 5" in svg
    assert "out.svg" in proc.stderr  # says where the file went


def test_render_dot_needs_no_graphviz(tmp_path, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("render", COLAH, "--at", "a=2,b=1", "-o", "out.dot", cwd=tmp_path,
               path=str(empty))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "out.dot").read_text(encoding="utf-8")
    assert text.startswith("digraph") and "∂e/∂c = d" in text and "∂e/∂b = 5" in text


def test_render_without_at_draws_symbols_only(tmp_path, cli):
    proc = cli("render", "examples/colah.gc", "-o", str(tmp_path / "g.dot"), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert "∂e/∂c = d" in text and "∂e/∂b" not in text


def test_render_paths_picture(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--show", "paths", "--wrt", "b",
               "-o", "p.dot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "p.dot").read_text(encoding="utf-8")
    assert "b → c → e" in text and "b → d → e" in text and "= ∂e/∂b = 5" in text


@needs_dot
def test_render_steps(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--steps", "steps", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "steps").iterdir())
    assert names == [f"frame_{i:03d}.svg" for i in range(9)] + ["index.html"]
    html = (tmp_path / "steps" / "index.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 9



@needs_dot
def test_render_exercise(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--exercise", "ex.html", "--hide",
               "derivatives", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "ex.html").read_text(encoding="utf-8")
    assert page.count("<tr data-want=") == 5 and "∂e/∂c = ?" in page
    proc = cli("render", COLAH, "--exercise", "again.html", cwd=tmp_path)
    assert proc.returncode != 0 and "--exercise needs input values" in proc.stderr
    assert not (tmp_path / "again.html").exists()
    for extra in (["--steps", "steps"], ["--exercise", "again.html"]):
        proc = cli("render", COLAH, "--at", "a=2,b=1", "--show", "forward", "-o", "f.svg",
                   *extra, cwd=tmp_path)
        assert proc.returncode != 0 and "--show forward draws one picture" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex.html"]

TENSOR = "x: [3]\nW: [3, 3]\ny: [3]\nh = tanh(W @ x)\nloss = sum((h - y) ** 2)\n"
TENSOR_AT = "x=[1,2,3],W=[[1,0,0],[0,2,0],[0,0,1]],y=[0,1,0]"


def test_render_paths_picture_of_a_tensor_graph(tmp_path, cli):
    """Paths through a matrix product are drawn with their symbolic factors; there is
    no scalar path sum to give."""
    (tmp_path / "t.gc").write_text(TENSOR)
    proc = cli("render", "t.gc", "--at", TENSOR_AT, "--show", "paths", "--wrt", "x",
               "-o", "p.dot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    dot = (tmp_path / "p.dot").read_text(encoding="utf-8")
    assert "path 1: x → " in dot and "W.T @" in dot
    assert "no scalar path sum" in dot and "sum over" not in dot


@needs_dot
def test_render_steps_of_a_tensor_graph(tmp_path, cli):
    """A matrix product's local derivative is a Jacobian, not a number: its step shows
    the rule, and each adjoint once complete, as reverse mode computes it."""
    text, at = TENSOR, TENSOR_AT
    (tmp_path / "t.gc").write_text(text)
    proc = cli("render", "t.gc", "--at", at, "--steps", "steps", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "steps" / "index.html").read_text(encoding="utf-8")
    done = re.search(r"done: ∂loss/∂x = \[([^\]]*)\]", html)[1]
    values = gc.parse(text).bind((), parse_at(at))
    _, grads = gc.compile(gc.parse(text))(**values)
    np.testing.assert_allclose([float(v.replace("&#45;", "-")) for v in done.split(",")],
                               grads["x"], rtol=1e-3)


def test_render_without_output_is_a_usage_error(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("output", ["out.txt", "missing/out.svg"])
def test_a_bad_picture_path_writes_no_steps_either(tmp_path, output, cli):
    proc = cli("render", COLAH, "--at", "a=2,b=1", "--steps", "steps", "-o", output,
               cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert output in proc.stderr and ".tmp" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_into_a_file_writes_nothing(tmp_path, cli):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "steps").write_text("a file where the steps would go")
    proc = cli("demo", "--outdir", "d", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "is a file" in proc.stderr
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["steps"]


def test_render_unknown_suffix(tmp_path, cli):
    proc = cli("render", COLAH, "-o", "out.txt", cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert list(tmp_path.iterdir()) == []


def test_render_svg_without_graphviz_is_a_clear_error(tmp_path, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("render", COLAH, "--at", "a=2,b=1", "-o", "out.svg", "--steps", "st",
               cwd=tmp_path, path=str(empty))
    assert_clean_error(proc, COLAH)
    assert "dot" in proc.stderr and "Graphviz" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


# ---- bad --at ----------------------------------------------------------------------

BAD_AT = {"a=": "no value", "a=x": "not a number", "z=1": "unexpected input 'z'",
          "a": "name=value", "a=2": "missing input b"}


@pytest.mark.parametrize("command, at", [("verify", at) for at in sorted(BAD_AT)]
                      + [("render", at) for at in ("a=", "a=x", "z=1")])
def test_bad_at_exits_2_with_a_clear_message(tmp_path, command, at, cli):
    out = ["-o", "out.dot"] if command == "render" else []
    proc = cli(command, COLAH, "--at", at, *out, cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert BAD_AT[at] in proc.stderr
    assert list(tmp_path.iterdir()) == []  # a failed render leaves no file


@pytest.mark.parametrize("at, message", [
    ("a=", "no value"), ("a=x", "not a number"), ("a", "name=value"), ("=1", "name=value"),
    ("", "no values"), (" , ", "no values"), ("a=2,b=1,a=3", "twice"),
    ("a=[1,2,b=1", "not a number"), ("a=[1,\"x\"]", "not a number"),
    ("a=[True]", "not a number"), ("a=[[1],[2,3]]", "not a number"),
    ("a=[__import__('os')]", "not a number"), ("a=[1+2]", "not a number"),
])
def test_parse_at_rejects(at, message):
    with pytest.raises(gc.GraphcError, match=message):
        parse_at(at)


def test_parse_at_reads_numbers_and_lists():
    got = parse_at("a=2, b=-1.5e-3,x=[[1,2],[3,4]]")
    assert got["a"] == 2.0 and got["b"] == -1.5e-3
    assert got["x"].shape == (2, 2) and got["x"].tolist() == [[1, 2], [3, 4]]
    # list elements are spelled as scalars may be
    got = parse_at("y=[.5, 1., -inf, +2, 1_000, 1e3],z=[nan]")
    assert got["y"].tolist() == [0.5, 1.0, -np.inf, 2.0, 1000.0, 1000.0]
    assert np.isnan(got["z"]).all()


def test_the_mean_of_an_empty_batch_is_nan_as_in_numpy(tmp_path, cli):
    """Issue 17: NumPy's mean of nothing is nan (with its warning), not an error; its
    gradient is an empty array."""
    (tmp_path / "e.gc").write_text("x: [N]\ns = mean(x)\n")
    proc = cli("eval", "e.gc", "--at", "x=[]", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "s = nan" in proc.stdout and "ds/dx = []" in proc.stdout


def test_empty_at_exits_2_for_verify(tmp_path, cli):
    proc = cli("verify", COLAH, "--at", "", cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert "no values" in proc.stderr


def test_empty_at_exits_2_for_render(tmp_path, cli):
    proc = cli("render", COLAH, "--at", "", "-o", "out.dot", cwd=tmp_path)
    assert_clean_error(proc, COLAH)
    assert list(tmp_path.iterdir()) == []


# ---- verify ------------------------------------------------------------------------

def test_verify_colah_prints_the_table(tmp_path, cli):
    proc = cli("verify", COLAH, "--at", "a=2,b=1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    head = next(line for line in lines if line.startswith("input"))
    assert re.split(r"\s{2,}", head) == ["input", "paths", "path sum", "reverse", "forward",
                                         "finite diff", "sympy.diff", "agree"]
    rows = {line.split()[0]: line.split() for line in lines
            if re.match(r"[ab]\s+\d", line)}
    assert rows["a"][:6] == ["a", "1", "2", "2", "2", "2"]
    assert rows["b"][:6] == ["b", "2", "5", "5", "5", "5"]
    assert "b -> c -> e" in proc.stdout and "b -> d -> e" in proc.stdout
    assert "all methods agree" in proc.stdout


def test_verify_arrays(tmp_path, cli):
    proc = cli("verify", COLAH, "--at", "a=[1,2,3],b=1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "[2, 2, 2]" in proc.stdout and "15" in proc.stdout


def test_verify_disagreement_exits_1(tmp_path, cli):
    # relu at its kink: the derivative convention says 0, central differences 0.5
    (tmp_path / "kink.gc").write_text("e = relu(a)\n", encoding="utf-8")
    proc = cli("verify", "kink.gc", "--at", "a=0", cwd=tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "NO: finite difference" in proc.stdout
    assert "METHODS DISAGREE" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_verify_parse_error_has_line_and_column(tmp_path, cli):
    (tmp_path / "bad.gc").write_text("c = a + b\nd = import\n", encoding="utf-8")
    proc = cli("verify", "bad.gc", "--at", "a=1,b=1", cwd=tmp_path)
    assert proc.returncode == 2
    assert re.match(r"bad\.gc:2:\d+: error: ", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr


# ---- demo --------------------------------------------------------------------------

@needs_dot
def test_demo_writes_module_pictures_and_steps(tmp_path, cli):
    proc = cli("demo", "--outdir", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    for name in ("colah.svg", "colah_values.svg", "colah_paths_b.svg",
                 "colah_forward_b.svg"):
        assert (out / name).read_bytes().lstrip().startswith(b"<?xml"), name
        assert f"out/{name}" in proc.stdout  # says where the files went
    assert (out / "steps" / "index.html").exists()
    assert len(list((out / "steps").glob("frame_*.svg"))) == 9
    assert "all methods agree" in proc.stdout
    module = runpy.run_path(str(out / "colah_grad.py"))
    value, grads = module["value_and_grad"](2.0, 1.0)
    assert value == 6.0 and grads == {"a": 2.0, "b": 5.0}


def test_demo_without_graphviz_writes_dot_text(tmp_path, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = cli("demo", "--outdir", "out", cwd=tmp_path, path=str(empty))
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["colah.dot", "colah_forward_b.dot", "colah_grad.py",
                     "colah_paths_b.dot", "colah_values.dot"]
    assert "dot" in proc.stdout and "not installed" in proc.stdout
