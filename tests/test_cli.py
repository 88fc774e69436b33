"""``graphc`` run as a user runs it: exit codes, messages, atomic output. In this process
(the ``cli`` fixture), but for ``python -m graphc`` and the console script themselves."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli

import graphc as gc

COLAH = EXAMPLES / "colah.gc"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory with colah.gc and two bad files in it."""
    shutil.copy(COLAH, tmp_path / "colah.gc")
    (tmp_path / "bad.gc").write_text("c = a + b\nd = foo(c)\n")
    (tmp_path / "syntax.gc").write_text("c = a + b\n\ne = c * (d +\n")
    return tmp_path


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("emitted_cli", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _assert_usage_error(proc, where: str = "") -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    assert re.search(r"^\S+: error: .+", proc.stderr, re.M), proc.stderr
    assert where in proc.stderr


def test_compile_writes_a_module(work: Path):
    proc = run_cli("compile", "colah.gc", "-o", "out.py", cwd=work)  # python -m graphc
    assert proc.returncode == 0, proc.stderr
    out = work / "out.py"
    assert out.read_text() == gc.compile(gc.load(COLAH)).source
    value, grads = _load(out).value_and_grad(2.0, 1.0)
    assert (float(value), float(grads["a"]), float(grads["b"])) == (6.0, 2.0, 5.0)
    assert sorted(p.name for p in work.iterdir()) == ["bad.gc", "colah.gc", "out.py",
                                                      "syntax.gc"]


def test_compile_with_a_backend(work: Path, cli):
    """--backend blocks emits what gc.compile emits with it; --backend takes only the
    registry's names; the old --blocks and --fuse flags are gone."""
    proc = cli("compile", "colah.gc", "--backend", "blocks", cwd=work)
    assert proc.returncode == 0, proc.stderr
    want = gc.compile(gc.load(COLAH), backend="blocks").source
    assert proc.stdout == want and "_in_blocks(" in want
    for args in (["--backend", "jax"], ["--backend", "numexpr"], ["--blocks"],
                 ["--fuse", "numba"]):
        assert cli("compile", "colah.gc", *args, cwd=work).returncode == 2


def test_compile_to_stdout_with_options(work: Path, cli):
    proc = cli("compile", "colah.gc", "--wrt", "b", "--of", "e", "--mode", "forward",
                   cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == gc.compile(gc.load(COLAH), wrt="b", mode="forward").source
    assert "def value_and_grad(a, b):" in proc.stdout


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_eval_prints_values_and_gradients(work: Path, mode: str, cli):
    proc = cli("eval", "colah.gc", "--at", "a=2,b=1", "--mode", mode, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["e = 6", "de/da = 2", "de/db = 5"]


def test_eval_of_and_arrays(work: Path, cli):
    proc = cli("eval", "colah.gc", "--at", "a=[2,0],b=1", "--of", "c", cwd=work)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("c = [3") and lines[2] == "dc/db = 2"


@pytest.mark.parametrize("name", ["ℌ", "ﬁ", "ｘ", "µ", "e\u0301", "ⅷ"])
def test_names_on_the_command_line_are_read_as_the_text_reads_them(
        work: Path, name: str, cli):
    """Found by the corpus: Python reads identifiers NFKC-normalized (ℌ is H), so the
    text's input was H while --at ℌ=3 was 'unexpected input'; --of and --wrt alike."""
    (work / "u.gc").write_text(f"{name} = a * 2\ny = {name} * b\n")
    proc = cli("eval", "u.gc", "--at", "a=3,b=2", "--of", name, "--wrt", "a", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].endswith("/da = 2")
    (work / "v.gc").write_text(f"y = {name} * b\n")
    proc = cli("eval", "v.gc", "--at", f"{name}=3,b=2", "--wrt", name, cwd=work)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "y = 6" and len(lines) == 2 and lines[1].endswith(" = 2")


@pytest.mark.parametrize(("name", "where", "command"), [
    ("bad.gc", "bad.gc:2:5: error: ", ["compile"]),
    ("syntax.gc", "syntax.gc:3:", ["eval", "--at", "a=1,b=2"]),
])
def test_a_bad_file_is_reported_with_its_position(work: Path, name, where, command, cli):
    proc = cli(command[0], name, *command[1:], cwd=work)
    _assert_usage_error(proc, where)
    assert proc.stdout == ""


@pytest.mark.parametrize(("name", "message"), [
    ("bad.gc", "bad.gc:2:5: error: unknown function 'foo'; did you mean 'floor'?"),
    ("syntax.gc", "syntax.gc:3:9: error: invalid syntax: '(' was never closed"),
])
def test_the_message_says_what_and_where(work: Path, name, message, cli):
    for command in (["compile", name], ["eval", name, "--at", "a=1,b=2"]):
        proc = cli(*command, cwd=work)
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.strip() == message


def test_a_failed_compile_leaves_nothing_behind(work: Path, cli):
    before = sorted(p.name for p in work.iterdir())
    proc = cli("compile", "bad.gc", "-o", "new.py", cwd=work)
    _assert_usage_error(proc, "bad.gc:2:5")
    assert sorted(p.name for p in work.iterdir()) == before  # no new.py, no temp file


def test_a_failed_compile_does_not_clobber_an_existing_file(work: Path, cli):
    (work / "keep.py").write_text("# precious\n")
    before = sorted(p.name for p in work.iterdir())
    proc = cli("compile", "bad.gc", "-o", "keep.py", cwd=work)
    _assert_usage_error(proc)
    assert (work / "keep.py").read_text() == "# precious\n"
    assert sorted(p.name for p in work.iterdir()) == before


def test_an_unwritable_output_is_an_error_not_a_traceback(work: Path, cli):
    proc = cli("compile", "colah.gc", "-o", str(work / "no" / "such" / "dir.py"),
                   cwd=work)
    _assert_usage_error(proc)
    assert not (work / "no").exists()


@pytest.mark.parametrize(("at", "words"), [
    ("a=", "colah.gc: error: --at: a has no value"),
    ("a=x", "'x'"),
    ("a", "name=value"),
    ("=2", "name=value"),
    ("a=2,a=3", "twice"),
    ("a=2", "missing input b"),
    ("c=1,a=2,b=1", "unexpected input 'c'"),
    ("a=[1,,2],b=1", "[1,,2]"),
    ("a={},b=1", "{}"),
    ("", "no values"),
])
def test_bad_at_values(work: Path, at: str, words: str, cli):
    proc = cli("eval", "colah.gc", "--at", at, cwd=work)
    _assert_usage_error(proc, words)
    assert proc.stderr.startswith("colah.gc: error: ") and proc.stdout == ""


@pytest.mark.parametrize("at", ["a=true,b=1", "a=null,b=1", 'a="2",b=1'])
def test_non_numbers_in_at_are_rejected(work: Path, at: str, cli):
    _assert_usage_error(cli("eval", "colah.gc", "--at", at, cwd=work))


def test_at_values_that_do_not_broadcast(work: Path, cli):
    _assert_usage_error(cli("eval", "colah.gc", "--at", "a=[1,2],b=[1,2,3]", cwd=work))


@pytest.mark.parametrize(("args", "words"), [
    (["--of", "zz"], "of='zz'"),
    (["--wrt", "zz"], "wrt='zz'"),
    (["--wrt", "c"], "not an input"),
])
def test_bad_names(work: Path, args: list[str], words: str, cli):
    _assert_usage_error(cli("eval", "colah.gc", "--at", "a=2,b=1", *args, cwd=work), words)


def test_a_missing_file(work: Path, cli):
    _assert_usage_error(cli("eval", "nope.gc", "--at", "a=1", cwd=work), "nope.gc")


def test_usage_errors_from_argparse_exit_2(work: Path, cli):
    proc = cli("eval", "colah.gc", cwd=work)  # --at is required
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = cli("compile", "colah.gc", "--mode", "sideways", cwd=work)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_demo(tmp_path: Path, cli):
    proc = cli("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "e = (a + b) * (b + 1)" in proc.stdout
    modules = list(tmp_path.rglob("colah_grad.py"))
    assert len(modules) == 1
    value, grads = _load(modules[0]).value_and_grad(2.0, 1.0)
    assert (float(value), float(grads["a"]), float(grads["b"])) == (6.0, 2.0, 5.0)


def test_version(tmp_path: Path, cli):
    """``graphc --version`` says the one version graphc/_version.py writes."""
    proc = cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == f"graphc {gc.__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", gc.__version__)


@pytest.mark.slow
def test_console_script_is_installed(work: Path):
    exe = shutil.which("graphc")
    if exe is None:
        pytest.skip("the graphc console script is not on PATH")
    import subprocess

    proc = subprocess.run([exe, "eval", "colah.gc", "--at", "a=2,b=1"], cwd=work,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.splitlines()[0] == "e = 6"
