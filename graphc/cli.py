"""The ``graphc`` command: compile, eval, render, verify, demo.

Exit status: 0 success, 1 a verification disagreement, 2 bad input (reported as
``FILE:LINE:COL: error: message``, never a traceback). Output files are written
atomically, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .compile import compile as compile_graph
from .compile import write_atomic
from .errors import GraphcError
from .parse import load
from .render import drawn, render
from .steps import write_steps
from .verify import verify


class UsageError(GraphcError):
    """A command-line value that cannot be used (bad --at, unknown output type)."""


def parse_at(text: str) -> dict[str, Any]:
    """``a=2,b=1`` or ``x=[1,2,3],b=0.5`` -> values; a clear error for anything else."""
    values: dict[str, Any] = {}
    for item in _split_top(text):
        name, eq, raw = item.partition("=")
        name, raw = as_python_reads(name.strip()), raw.strip()
        if not eq or not name:
            raise UsageError(f"--at: expected name=value, got {item.strip()!r}")
        if not raw:
            raise UsageError(f"--at: {name} has no value")
        if name in values:
            raise UsageError(f"--at: {name} is given twice")
        values[name] = _number_or_array(name, raw)
    if not values:
        raise UsageError("--at: no values given (e.g. --at a=2,b=1)")
    return values


def as_python_reads(name: str) -> str:
    """A name as Python (and so the .gc parser) reads it: NFKC-normalized, so that
    ``--at ℌ=1`` names the input the text spells ``ℌ`` and the parser calls ``H``."""
    return unicodedata.normalize("NFKC", name)


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _number_or_array(name: str, raw: str) -> Any:
    try:
        return float(raw)
    except ValueError:
        pass
    bad = UsageError(f"--at: {name}={raw!r} is not a number or a [list] of numbers")
    try:
        loaded = _numbers(ast.parse(raw.strip(), mode="eval").body)
        return np.asarray(loaded, dtype=float)
    except (SyntaxError, ValueError):  # not numbers and lists of them, or ragged lists
        raise bad from None


def _numbers(node: ast.expr) -> Any:
    """A number, or nested lists of them, spelled as a scalar --at value may be (.5,
    1e3, -inf, nan): read from the syntax tree, never evaluated."""
    if isinstance(node, ast.List):
        return [_numbers(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _numbers(node.operand)
        if not isinstance(value, list):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id.lower() in ("nan", "inf", "infinity"):
        return float(node.id)
    raise ValueError("not a number")


def format_value(x: Any) -> str:
    """4-6 significant digits for scalars, NumPy's own printing for arrays."""
    if np.ndim(x) == 0:
        return f"{float(x):.6g}"
    return np.array2string(np.asarray(x), precision=6, separator=", ")


def _cmd_compile(args: argparse.Namespace) -> int:
    g = load(args.file)
    fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode, fuse=args.fuse,
                       keep_buffers=args.keep_buffers, blocks=args.blocks)
    if args.output:
        write_atomic(args.output, fn.source)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(fn.source)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    g = load(args.file)
    fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode)
    value, grads = fn(**parse_at(args.at))
    print(f"{fn.of} = {format_value(value)}")
    for name, grad in grads.items():
        print(f"d{fn.of}/d{name} = {format_value(grad)}")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    if not args.output and not args.steps:
        raise UsageError("render: give -o OUT.(svg|png|pdf|dot) and/or --steps DIR")
    g = load(args.file)
    at = parse_at(args.at) if args.at is not None else None
    if args.steps and at is None:
        raise UsageError("--steps needs input values: --at a=2,b=1")
    dot = render(g, at, of=args.of, show=args.show, wrt=args.wrt, limit=args.limit)
    picture = drawn(dot, args.output) if args.output else None  # a bad -o writes no steps
    if args.steps:
        written = write_steps(g, at, args.steps, of=args.of, limit=args.limit)
        print(f"wrote {len(written) - 1} frames and {written[-1]}", file=sys.stderr)
    if picture is not None:
        write_atomic(args.output, picture)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    g = load(args.file)
    rep = verify(g, parse_at(args.at), of=args.of, wrt=args.wrt, max_paths=args.max_paths)
    print(rep)
    return 0 if rep.ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from importlib.resources import files

    g = load(str(files("graphc.examples").joinpath("colah.gc")))
    at = {"a": 2.0, "b": 1.0}
    fn = compile_graph(g)
    rep = verify(g, at)
    pictures = {"colah": render(g), "colah_values": render(g, at),
                "colah_paths_b": render(g, at, show="paths", wrt="b"),
                "colah_forward_b": render(g, at, show="forward", wrt="b")}
    out = Path(args.outdir)
    fmt = "svg" if shutil.which("dot") else "dot"
    for place in (out, out / "steps"):
        if place.exists() and not place.is_dir():
            raise UsageError(f"{place} is a file, not a directory")
    out.mkdir(parents=True, exist_ok=True)
    files = {out / "colah_grad.py": fn.source,
             **{out / f"{name}.{fmt}": drawn(dot, out / f"{name}.{fmt}")
                for name, dot in pictures.items()}}  # all drawn before any is written
    for path, data in files.items():
        write_atomic(path, data)
    written = list(files)
    if fmt == "svg":
        written.append(write_steps(g, at, out / "steps")[-1])
    print("graphc demo: colah's graph e = (a + b) * (b + 1) at a = 2, b = 1\n")
    print(str(g))
    print(rep)
    print("\nwrote:")
    for p in written:
        print(f"  {p}")
    if fmt == "dot":
        print("(Graphviz's `dot` is not installed: pictures written as .dot text)")
    return 0 if rep.ok else 1


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a .gc graph file")
    p.add_argument("--of", help="the output node (default: the last assigned name)")
    p.add_argument("--wrt", help="inputs to differentiate, comma-separated (default: all)")
    p.add_argument("--mode", choices=("reverse", "forward"), default="reverse")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphc", description="Compile computational graphs to NumPy gradient code.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compile", help="emit a standalone NumPy module")
    _common(p)
    p.add_argument("-o", "--output", help="write the module here (default: stdout)")
    p.add_argument("--fuse", choices=("numexpr", "numba"),
                   help="evaluate elementwise chains in one pass with numexpr, or whole "
                        "elementwise functions in one loop compiled by numba")
    p.add_argument("--keep-buffers", action="store_true",
                   help="keep the arrays of temporaries between calls")
    p.add_argument("--blocks", action="store_true",
                   help="evaluate big same-shaped arrays in blocks on all cores")
    p.set_defaults(run=_cmd_compile)
    p = sub.add_parser("eval", help="print the value and gradients at a point")
    _common(p)
    p.add_argument("--at", required=True, help="input values, e.g. a=2,b=1")
    p.set_defaults(run=_cmd_eval)
    p = sub.add_parser("render", help="draw the graph (svg, png, pdf or dot)")
    p.add_argument("file", help="a .gc graph file")
    p.add_argument("--of", help="the output node (default: the last assigned name)")
    p.add_argument("--at", help="input values, e.g. a=2,b=1: show values and adjoints")
    p.add_argument("-o", "--output", help="the picture: OUT.svg, .png, .pdf or .dot")
    p.add_argument("--show", choices=("reverse", "forward", "paths"), default="reverse",
                   help="adjoints (default), tangents d node/d WRT, or the paths from WRT")
    p.add_argument("--wrt", help="the input for --show forward/paths")
    p.add_argument("--steps", metavar="DIR",
                   help="also write one frame per backprop step and DIR/index.html")
    p.add_argument("--limit", type=int, help="draw only the N nodes nearest the output")
    p.set_defaults(run=_cmd_render)
    p = sub.add_parser("verify", help="path sums vs reverse vs forward vs finite differences")
    _common(p)
    p.add_argument("--at", required=True, help="input values, e.g. a=2,b=1")
    p.add_argument("--max-paths", type=int, default=1000,
                   help="enumerate paths up to this many (default 1000); count always")
    p.set_defaults(run=_cmd_verify)
    p = sub.add_parser("demo", help="the main job on a bundled example")
    p.add_argument("--outdir", default="graphc-demo", help="where files go")
    p.set_defaults(run=_cmd_demo)
    return parser


def _report(args: argparse.Namespace, exc: GraphcError) -> None:
    where = getattr(args, "file", None) or "graphc"
    if exc.line is not None:
        where += f":{exc.line}:{exc.col}"
    print(f"{where}: error: {exc.message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for key in ("of", "wrt"):
        if getattr(args, key, None):
            setattr(args, key, as_python_reads(getattr(args, key)))
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        with np.errstate(all="warn"):
            return run(args)
    except GraphcError as exc:
        _report(args, exc)
        return 2
    except OSError as exc:
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 2
    except ZeroDivisionError as exc:  # Python floats follow Python: an empty batch, 1 / 0.0
        _report(args, GraphcError(f"{exc} at these input values"))
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

