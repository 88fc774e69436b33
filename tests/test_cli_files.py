"""Files, hangs and signals at the command line (issue 17): a failed or interrupted
command leaves nothing behind, special files are written through, inputs are read
with bounds, and Ctrl-C, a closed stdout or a reader that goes away end quietly."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli

import graphc as gc
import graphc.teach.render
import graphc.teach.steps
from graphc.files import Outputs, read_text

COLAH = EXAMPLES / "colah.gc"
render_mod = sys.modules["graphc.teach.render"]  # gc.render is the function of the same name
steps_mod = sys.modules["graphc.teach.steps"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's `dot` is not installed")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copy(COLAH, tmp_path / "colah.gc")
    return tmp_path


def clean_error(proc, *words: str) -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


def listing(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def chain(n: int) -> str:
    return "y0 = sin(x)\n" + "".join(f"y{i} = sin(y{i - 1})\n" for i in range(1, n))


# ---- compile -o: the output is never an input, special files are written through ----

def test_compile_refuses_to_overwrite_its_own_input(work, cli):
    before = (work / "colah.gc").read_bytes()
    (work / "link.gc").symlink_to("colah.gc")
    os.link(work / "colah.gc", work / "hard.gc")
    for out in ("colah.gc", "./colah.gc", str(work / "colah.gc"), "link.gc", "hard.gc"):
        proc = cli("compile", "colah.gc", "-o", out, cwd=work)
        clean_error(proc, "is the input file", out)
        assert (work / "colah.gc").read_bytes() == before
    assert (work / "link.gc").is_symlink()
    assert listing(work) == ["colah.gc", "hard.gc", "link.gc"]


def test_render_refuses_to_overwrite_its_input_too(work, cli):
    shutil.copy(work / "colah.gc", work / "g.dot")
    before = (work / "g.dot").read_bytes()
    proc = cli("render", "g.dot", "-o", "g.dot", cwd=work)
    clean_error(proc, "is the input file")
    assert (work / "g.dot").read_bytes() == before


def test_dash_o_dash_is_stdout(work, cli):
    proc = cli("compile", "colah.gc", "-o", "-", cwd=work)
    assert proc.returncode == 0 and "def value_and_grad(a, b):" in proc.stdout
    assert listing(work) == ["colah.gc"]  # no file named "-"
    proc = cli("render", "colah.gc", "-o", "-", cwd=work)
    assert proc.returncode == 0 and proc.stdout.startswith("digraph graphc {")
    assert listing(work) == ["colah.gc"]


@pytest.mark.parametrize("args", [
    ["render", "colah.gc", "--at", "a=2,b=1", "--steps", "-"],
    ["render", "colah.gc", "--at", "a=2,b=1", "--steps", "-", "-o", "-"],
    ["demo", "--outdir", "-"],
])
def test_a_folder_is_never_stdout(work, args, cli):
    """(It was an AttributeError, found by mypy: stdout has no parent folder.)"""
    proc = cli(*args, cwd=work)
    clean_error(proc, "a folder cannot be written to standard output")
    assert proc.stdout == ""
    assert listing(work) == ["colah.gc"]


def _mknod(path: Path, kind: int, device: tuple[int, int]) -> None:
    try:
        os.mknod(path, kind | 0o666, os.makedev(*device))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def test_a_character_device_is_written_through_not_replaced(work, cli):
    _mknod(work / "null", stat.S_IFCHR, (1, 3))  # the same device as /dev/null
    for command in (["compile", "colah.gc"], ["render", "colah.gc", "--at", "a=2,b=1"]):
        out = "null" if command[0] == "compile" else "null.dot"
        if command[0] == "render":
            os.symlink("null", work / "null.dot")  # a picture's suffix, a device behind it
        proc = cli(*command, "-o", out, cwd=work)
        assert proc.returncode == 0, proc.stderr
        assert stat.S_ISCHR(os.lstat(work / "null").st_mode)
    assert (work / "null.dot").is_symlink()
    assert not [p for p in listing(work) if p.endswith(".tmp")]


def test_a_block_device_is_never_written(work, cli):
    _mknod(work / "disk", stat.S_IFBLK, (7, 0))
    proc = cli("compile", "colah.gc", "-o", "disk", cwd=work)
    clean_error(proc, "block device")
    assert stat.S_ISBLK(os.lstat(work / "disk").st_mode)


def test_a_fifo_is_written_through(work, cli):
    os.mkfifo(work / "pipe")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append((work / "pipe").read_bytes()),
                              daemon=True)
    reader.start()
    proc = cli("compile", "colah.gc", "-o", "pipe", cwd=work)
    reader.join(30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(os.lstat(work / "pipe").st_mode)
    assert b"def value_and_grad(a, b):" in got[0]


@pytest.mark.slow  # a subprocess: /dev/stdout is file descriptor 1 of the process
def test_dev_stdout_writes_to_stdout(work):
    proc = run_cli("compile", "colah.gc", "-o", "/dev/stdout", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "def value_and_grad(a, b):" in proc.stdout


def test_a_symlink_gets_its_target_written(work, cli):
    (work / "real").mkdir()
    (work / "real" / "grad.py").write_text("old\n")
    os.chmod(work / "real" / "grad.py", 0o640)
    (work / "grad.py").symlink_to("real/grad.py")
    (work / "new.py").symlink_to("real/new.py")  # dangling: the target is created
    for out in ("grad.py", "new.py"):
        proc = cli("compile", "colah.gc", "-o", out, cwd=work)
        assert proc.returncode == 0, proc.stderr
        assert (work / out).is_symlink()
        assert "def value_and_grad" in (work / "real" / out).read_text()
    assert stat.S_IMODE(os.stat(work / "real" / "grad.py").st_mode) == 0o640
    assert listing(work) == ["colah.gc", "grad.py", "new.py", "real", "real/grad.py",
                             "real/new.py"]


# ---- one rule for missing folders ------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["compile", "colah.gc", "-o", "no/such/x.py"],
    ["render", "colah.gc", "--at", "a=2,b=1", "--steps", "no/such/dir"],
    ["render", "colah.gc", "-o", "no/such/x.dot"],
    ["demo", "--outdir", "no/such/dir"],
])
def test_a_missing_folder_is_refused_and_named(work, args, cli):
    proc = cli(*args, cwd=work)
    clean_error(proc, "no directory no/such")
    assert listing(work) == ["colah.gc"]


# ---- outputs of one command appear together or not at all -----------------------------

@needs_dot
def test_render_o_failing_after_the_steps_leaves_no_frames(work, cli):
    (work / "pic.svg").mkdir()  # the picture cannot be written there
    proc = cli("render", "colah.gc", "--at", "a=2,b=1", "--steps", "st", "-o", "pic.svg",
               cwd=work)
    clean_error(proc, "pic.svg")
    assert listing(work) == ["colah.gc", "pic.svg"]


def _disk_full_at(limit: int):
    def limited() -> None:  # writes past `limit` bytes fail with EFBIG, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


@pytest.mark.slow  # a subprocess: the file size limit is the process's
@needs_dot
def test_a_full_disk_leaves_no_frames_and_no_page(work):
    proc = subprocess.run([sys.executable, "-m", "graphc", "render", "colah.gc", "--at",
                           "a=2,b=1", "--steps", "st", "-o", "pic.svg"], cwd=work,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_disk_full_at(30_000))
    clean_error(proc)
    assert listing(work) == ["colah.gc"]


@needs_dot
def test_a_failure_in_the_middle_of_the_frames_leaves_nothing(work, monkeypatch, cli):
    real, calls = render_mod.pipe, []

    def flaky(dot, fmt):
        calls.append(fmt)
        if len(calls) == 5:
            raise gc.GraphcError("Graphviz's `dot` failed to draw the picture: boom")
        return real(dot, fmt)

    monkeypatch.setattr(steps_mod, "pipe", flaky)
    (work / "st").mkdir()
    (work / "st" / "mine.txt").write_text("keep")
    proc = cli("render", "colah.gc", "--at", "a=2,b=1", "--steps", "st", "-o", "p.dot",
               cwd=work)
    clean_error(proc, "boom")
    assert listing(work) == ["colah.gc", "st", "st/mine.txt"]


@needs_dot
def test_demo_writes_all_its_files_or_none(tmp_path, monkeypatch, cli):
    def broken(dot, fmt):
        raise gc.GraphcError("Graphviz's `dot` failed to draw the picture: boom")

    monkeypatch.setattr(steps_mod, "pipe", broken)  # the pictures draw, the steps fail
    proc = cli("demo", "--outdir", "d", cwd=tmp_path)
    clean_error(proc, "boom")
    assert listing(tmp_path) == []
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    proc = cli("demo", "--outdir", "d", cwd=tmp_path)
    clean_error(proc, "boom")
    assert listing(tmp_path) == ["d", "d/notes.txt"]


def test_outputs_put_in_place_together_or_not_at_all(tmp_path):
    with pytest.raises(RuntimeError), Outputs() as out:
        out.write(tmp_path / "a.txt", "one")
        out.folder(tmp_path / "new")
        out.write(tmp_path / "new" / "b.txt", "two")
        assert len(list(tmp_path.iterdir())) == 2  # a temp file and a temp folder
        raise RuntimeError
    assert listing(tmp_path) == []
    with Outputs() as out:
        out.write(tmp_path / "a.txt", "one")
        out.folder(tmp_path / "new")
        out.write(tmp_path / "new" / "b.txt", "two")
    assert listing(tmp_path) == ["a.txt", "new", "new/b.txt"]
    with pytest.raises(gc.GraphcError, match="twice"), Outputs() as out:
        out.write(tmp_path / "c.txt", "one")
        out.write(tmp_path / "c.txt", "two")
    assert listing(tmp_path) == ["a.txt", "new", "new/b.txt"]


# ---- --steps into a used folder ------------------------------------------------------

@needs_dot
def test_steps_replace_only_their_own_files(work, cli):
    (work / "long.gc").write_text(chain(6))
    proc = cli("render", "long.gc", "--at", "x=0.5", "--steps", "st", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert len(list((work / "st").glob("frame_*.svg"))) == 15
    (work / "st" / "notes.txt").write_text("mine")
    (work / "st" / "frame_notes.svg").write_text("<svg>mine</svg>")
    proc = cli("render", "colah.gc", "--at", "a=2,b=1", "--steps", "st", cwd=work)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (work / "st").iterdir())
    assert names == sorted([f"frame_{i:03d}.svg" for i in range(9)]
                           + ["index.html", "notes.txt", "frame_notes.svg"])
    assert "∂e/∂b = 5" in (work / "st" / "index.html").read_text(encoding="utf-8")


@needs_dot
@pytest.mark.parametrize("name", ["index.html", "frame_003.svg"])
def test_steps_never_replace_a_file_they_did_not_write(work, name, cli):
    (work / "st").mkdir()
    (work / "st" / name).write_text("<p>my own page</p>")
    proc = cli("render", "colah.gc", "--at", "a=2,b=1", "--steps", "st", cwd=work)
    clean_error(proc, f"st/{name}", "not written by graphc")
    assert listing(work) == ["colah.gc", "st", f"st/{name}"]
    assert (work / "st" / name).read_text() == "<p>my own page</p>"


@needs_dot
def test_frames_are_streamed_not_held(monkeypatch, tmp_path):
    """Each frame is drawn, written and dropped before the next is drawn: a 300-node
    chain has 603 frames (1.7 GB when held together)."""
    alive: list[weakref.ref] = []
    most = []

    def counting(dot, fmt):
        alive.append(weakref.ref(dot))
        most.append(sum(r() is not None for r in alive))
        return b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'

    monkeypatch.setattr(steps_mod, "pipe", counting)
    g = gc.parse(chain(20))
    n = sum(1 for _ in steps_mod.iter_frames(g, {"x": 0.5}))
    alive.clear()
    written = steps_mod.write_steps(g, {"x": 0.5}, tmp_path / "st")
    assert len(written) == n + 1 and len(alive) == n
    assert max(most) <= 2, most


# ---- signals: Ctrl-C and SIGTERM leave nothing ----------------------------------------

@pytest.mark.slow  # a subprocess: the signal goes to the process
@needs_dot
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_removes_every_temp(work, sig, code):
    (work / "long.gc").write_text(chain(60))
    (work / "st").mkdir()
    (work / "st" / "notes.txt").write_text("mine")
    before = listing(work)
    proc = subprocess.Popen([sys.executable, "-m", "graphc", "render", "long.gc", "--at",
                             "x=0.5", "--steps", "st", "-o", "p.svg"], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            p.endswith(".tmp") for p in listing(work)):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    assert any(p.endswith(".tmp") for p in listing(work))  # frames on their way
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "interrupted" in err
    assert listing(work) == before


# ---- reading inputs: regular files and -, bounded -------------------------------------

def test_a_fifo_with_no_writer_is_an_error_not_a_hang(work, cli):
    os.mkfifo(work / "in.gc")
    proc = cli("eval", "in.gc", "--at", "a=1", cwd=work, timeout=60)
    clean_error(proc, "in.gc", "FIFO")


def _memory_cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.slow  # a subprocess: the memory cap is the process's
def test_dev_zero_is_an_error_not_a_memory_hog(work):
    proc = subprocess.run([sys.executable, "-m", "graphc", "eval", "/dev/zero", "--at",
                           "a=1"], cwd=work, capture_output=True, text=True, timeout=60,
                          preexec_fn=_memory_cap)
    clean_error(proc, "/dev/zero", "not a regular file")


@pytest.mark.parametrize("path, words", [(".", "directory"), ("nothere.gc", "nothere.gc")])
def test_inputs_that_are_no_file(work, path, words, cli):
    proc = cli("eval", path, "--at", "a=1", cwd=work)
    clean_error(proc, words)


def test_a_huge_file_is_refused(work, cli):
    (work / "big.gc").write_text(("#" * 99 + "\n") * 110_000)  # 11 MB of comments
    proc = cli("eval", "big.gc", "--at", "a=1", cwd=work)
    clean_error(proc, "big.gc", "limit")
    with pytest.raises(gc.GraphcError, match="limit"):
        read_text(work / "colah.gc", limit=10)


def test_dash_reads_stdin(work, cli):
    proc = cli("eval", "-", "--at", "a=2,b=1", stdin=COLAH.read_text(), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "e = 6" in proc.stdout and "de/db = 5" in proc.stdout


# ---- hangs: path listing and Graphviz -------------------------------------------------

def ladder(k: int) -> str:
    """k diamonds in a row: 2**k paths from x to the output."""
    lines = ["y0 = sin(x)"] + [f"y{i} = sin(y{i - 1}) + cos(y{i - 1})" for i in range(1, k + 1)]
    return "\n".join(lines) + "\n"


def test_verify_with_a_huge_max_paths_counts_instead_of_listing(work, cli):
    (work / "ladder.gc").write_text(ladder(40))
    proc = cli("verify", "ladder.gc", "--at", "x=0.3", "--max-paths", str(2**41), cwd=work,
               timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert f"{2**40} paths, too many to list" in proc.stdout


def test_verify_lists_paths_up_to_the_limit():
    rep = gc.verify(gc.parse(ladder(3)), at={"x": 0.3}, max_paths=10**12)
    assert rep.ok and rep.rows[0].n_paths == 8 and len(rep.rows[0].paths) == 8


def fan(n: int) -> str:
    """Every node uses x: x's edges skip up to n ranks, each skip a node to lay out."""
    return "y0 = sin(x)\n" + "".join(f"y{i} = y{i - 1} * x\n" for i in range(1, n))


@pytest.mark.parametrize("text, words", [
    pytest.param(chain(render_mod.DRAW_LIMIT), f"{render_mod.DRAW_LIMIT + 1} nodes:",
                 marks=pytest.mark.slow),  # 5001 nodes to parse
    (fan(110), "111 nodes and"),
])
def test_render_of_a_big_graph_is_refused_without_limit(work, text, words, cli):
    (work / "big.gc").write_text(text)
    start = time.monotonic()
    proc = cli("render", "big.gc", "-o", "big.svg", cwd=work)
    clean_error(proc, words, "--limit")
    proc = cli("render", "big.gc", "--at", "x=1", "--steps", "st", cwd=work)
    clean_error(proc, "--limit")
    assert time.monotonic() - start < 30
    assert listing(work) == ["big.gc", "colah.gc"]
    with pytest.raises(gc.GraphcError, match="--limit"):
        gc.render(gc.parse(text), path=work / "big.png")
    proc = cli("render", "big.gc", "-o", "big.dot", cwd=work)  # DOT text needs no layout
    assert proc.returncode == 0, proc.stderr


@needs_dot
def test_a_slow_graphviz_is_stopped(work, monkeypatch, cli):
    monkeypatch.setattr(render_mod, "DOT_TIMEOUT", 1e-3)
    proc = cli("render", "colah.gc", "-o", "c.svg", cwd=work)
    clean_error(proc, "did not finish", "--limit")
    assert listing(work) == ["colah.gc"]


# ---- stdout: closed, or its reader gone; warnings said once -----------------------------

@pytest.mark.slow  # a subprocess: Python starts with file descriptor 1 closed
def test_a_closed_stdout_is_a_clear_error(work):
    proc = subprocess.run([sys.executable, "-m", "graphc", "eval", "colah.gc", "--at",
                           "a=2,b=1"], cwd=work, stderr=subprocess.PIPE, text=True,
                          timeout=120, preexec_fn=lambda: os.close(1))
    clean_error(proc, "standard output is closed")


@pytest.mark.slow  # a subprocess: SIGPIPE and exit 141 are the process's
def test_a_reader_that_goes_away_ends_the_command_quietly(work):
    proc = subprocess.Popen([sys.executable, "-m", "graphc", "verify", "colah.gc", "--at",
                             "a=2,b=1"], cwd=work, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # as `| head -0` does: nobody reads what verify prints
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert err == ""
    assert proc.returncode == 141


def test_eval_at_a_kink_warns_once_in_graphcs_words(work, cli):
    (work / "k.gc").write_text("y = sqrt(x) * log(x)\n")
    proc = cli("eval", "k.gc", "--at", "x=0", cwd=work)
    assert proc.returncode == 0 and "y = nan" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.fullmatch(r"k\.gc: warning: divide by zero, invalid value at the given input "
                        r"values: results may be inf or nan", lines[0])
    assert "RuntimeWarning" not in proc.stderr and "graphc_generated" not in proc.stderr
