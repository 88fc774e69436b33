"""The ``graphc`` command: compile, eval, render, verify, demo.

Exit status: 0 success, 1 a verification disagreement, 2 bad input (reported as
``FILE:LINE:COL: error: message``, never a traceback), 130 Ctrl-C (143 SIGTERM), 141
a reader that went away (``graphc verify ... | head``). The outputs of one command
are written together or not at all (see ``files.Outputs``), so a failed or
interrupted run leaves nothing behind.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import sys
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import derivatives
from ._version import __version__
from .backend import BACKENDS
from .compiler import compile as compile_graph
from .errors import GraphcError
from .files import Interrupted, Outputs, read_text, signals_raise
from .frontend.text_format import load, parse
from .ir.graph import Graph
from .teach.export import STEP_FILES, steps_file
from .teach.render import MAX_PATHS, drawable, drawn, pipe, render
from .teach.steps import write_steps
from .teach.style import Style
from .teach.verify import LIST_LIMIT, verify


def parse_at(text: str, g: Graph | None = None) -> dict[str, Any]:
    """``a=2,b=1`` or ``x=[1,2,3],b=0.5`` -> values; a clear error for anything else.
    The integer inputs of ``g`` (``labels: int[N]``) get integers."""
    values: dict[str, Any] = {}
    for item in _split_top(text):
        name, eq, raw = item.partition("=")
        name, raw = as_python_reads(name.strip()), raw.strip()
        if not eq or not name:
            raise GraphcError(f"--at: expected name=value, got {item.strip()!r}")
        if not raw:
            raise GraphcError(f"--at: {name} has no value")
        if name in values:
            raise GraphcError(f"--at: {name} is given twice")
        values[name] = _number_or_array(name, raw)
    if not values:
        raise GraphcError("--at: no values given (e.g. --at a=2,b=1)")
    ints = [n for n in g.inputs if n in values and g.integer(n)] if g is not None else []
    for name in ints:
        whole = np.asarray(values[name])
        if not np.all(np.isfinite(whole) & (whole == np.round(whole))):
            raise GraphcError(f"--at: {name} is declared int, got {values[name]}")
        values[name] = whole.astype(np.int64)
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
    try:
        return np.asarray(_numbers(ast.parse(raw, mode="eval").body), dtype=float)
    except (SyntaxError, ValueError):  # not numbers and lists of them, or ragged lists
        raise GraphcError(f"--at: {name}={raw!r} is not a number or a [list] of numbers"
                         ) from None


def _numbers(node: ast.expr) -> Any:
    """A number, or nested lists of them, spelled as a scalar --at value may be (.5,
    1e3, -inf, nan): read from the syntax tree, never evaluated."""
    if isinstance(node, ast.List):
        return [_numbers(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _numbers(node.operand)
        if not isinstance(value, list):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id.lower() in ("nan", "inf", "infinity"):
        return float(node.id)
    raise ValueError("not a number")


def format_value(x: Any) -> str:
    """4-6 significant digits for scalars, NumPy's own printing for arrays; no -0."""
    if np.ndim(x) == 0:
        return f"{float(x) + 0.0:.6g}"
    return np.array2string(np.asarray(x) + 0.0, precision=6, separator=", ")


def _load(path: str) -> Graph:
    """The graph in ``path``: a regular file, or ``-`` for standard input."""
    return parse(read_text(path, stdin=True)) if path == "-" else load(path)


def _stdout() -> TextIO:
    """Standard output, or a clear error when the command was started with it closed."""
    if sys.stdout is None:
        raise GraphcError("standard output is closed: nowhere to print (use -o FILE "
                          "where the command has one)")
    return sys.stdout


def _cmd_compile(args: argparse.Namespace) -> int:
    if args.output in (None, "-"):
        _stdout()
    g = _load(args.file)
    if args.derivative is None:
        fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode or "reverse",
                           backend=args.backend)
    elif args.backend != "numpy":
        raise GraphcError(f"--{args.derivative} is emitted for the numpy backend only")
    else:  # gc.jacobian, gc.hessian...: a module defining a function of that name
        made = getattr(derivatives, args.derivative)
        fn = made(g, wrt=args.wrt, of=args.of, **(
            {"mode": args.mode} if args.derivative == "jacobian" else {}))
    if args.output and args.output != "-":
        with Outputs([args.file]) as out:
            out.write(args.output, fn.source)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        _stdout().write(fn.source)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    stdout = _stdout()
    g = _load(args.file)
    fn = compile_graph(g, wrt=args.wrt, of=args.of, mode=args.mode or "reverse")
    value, grads = fn(**parse_at(args.at, g))
    print(f"{fn.of} = {format_value(value)}", file=stdout)
    for name, grad in grads.items():
        print(f"d{fn.of}/d{name} = {format_value(grad)}", file=stdout)
    if args.hessian:  # forward over reverse (gc.hessian)
        _, _, H = derivatives.hessian(g, wrt=args.wrt, of=args.of)(**parse_at(args.at, g))
        for a, row in H.items():
            for b, block in row.items():
                print(f"d2{fn.of}/d{a}d{b} = {format_value(block)}", file=stdout)
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    if not args.output and not args.steps:
        raise GraphcError("render: give -o OUT.(svg|png|pdf|dot) and/or --steps DIR")
    if args.output == "-":  # DOT text; pipe it into `dot -Tpng` for a picture
        _stdout()
    with Outputs([args.file]) as out:
        if args.output and args.output != "-":
            out.target(args.output)  # a bad -o is an error before anything is drawn
        g = _load(args.file)
        at = parse_at(args.at, g) if args.at is not None else None
        if args.steps and at is None:
            raise GraphcError("--steps needs input values: --at a=2,b=1")
        if args.steps or Path(args.output or "").suffix.lower() in (".svg", ".png", ".pdf"):
            drawable(g, args.limit)
        style = _style(args)
        dot = render(g, at, of=args.of, show=args.show, wrt=args.wrt, limit=args.limit,
                     style=style, max_paths=args.max_paths)
        if args.output:
            out.write(args.output, dot.source if args.output == "-"
                      else drawn(dot, args.output, style.dpi))
        if args.steps and at is not None and Path(args.steps).suffix.lower() in STEP_FILES:
            out.write(args.steps, steps_file(g, at, Path(args.steps).suffix, of=args.of,
                                             limit=args.limit, style=style))
            written = [Path(args.steps)]
        elif args.steps and at is not None:  # (checked above: steps need values)
            written = write_steps(g, at, args.steps, of=args.of, limit=args.limit,
                                  outputs=out, style=style)
    if args.steps and len(written) == 1:
        print(f"wrote {written[0]}", file=sys.stderr)
    elif args.steps:
        print(f"wrote {len(written) - 1} frames and {written[-1]}", file=sys.stderr)
    if args.output and args.output != "-":
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _style(args: argparse.Namespace) -> Style:
    """--slide's preset (or the plain look) with the flags given on top of it."""
    given = {k: v for k, v in (("font_scale", args.font_scale), ("direction", args.direction),
                               ("theme", args.theme), ("legend", args.legend),
                               ("dpi", args.dpi)) if v is not None}
    if args.hide_constants:
        given["constants"] = False
    return Style.slide(**given) if args.slide else Style(**given)


def _cmd_verify(args: argparse.Namespace) -> int:
    stdout = _stdout()
    g = _load(args.file)
    rep = verify(g, parse_at(args.at, g), of=args.of, wrt=args.wrt, max_paths=args.max_paths)
    print(rep, file=stdout)
    return 0 if rep.ok else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from importlib.resources import files

    stdout = _stdout()
    g = load(str(files("graphc.examples").joinpath("colah.gc")))
    at = {"a": 2.0, "b": 1.0}
    fn = compile_graph(g)
    rep = verify(g, at)
    pictures = {"colah": render(g), "colah_values": render(g, at),
                "colah_paths_b": render(g, at, show="paths", wrt="b"),
                "colah_forward_b": render(g, at, show="forward", wrt="b")}
    out = Path(args.outdir)
    fmt = "svg" if shutil.which("dot") else "dot"
    written = [out / "colah_grad.py", *(out / f"{name}.{fmt}" for name in pictures)]
    with Outputs() as outputs:  # everything staged, then put in place together
        outputs.folder(out)
        outputs.write(written[0], fn.source)
        for path, dot in zip(written[1:], pictures.values()):
            outputs.write(path, dot.source if fmt == "dot" else pipe(dot, fmt))
        if fmt == "svg":
            written.append(write_steps(g, at, out / "steps", outputs=outputs)[-1])
    print("graphc demo: colah's graph e = (a + b) * (b + 1) at a = 2, b = 1\n", g, rep,
          "\nwrote:", *(f"  {p}" for p in written), sep="\n", file=stdout)
    if fmt == "dot":
        print("(Graphviz's `dot` is not installed: pictures written as .dot text)",
              file=stdout)
    return 0 if rep.ok else 1


def _common(p: argparse.ArgumentParser, modes: bool = True) -> None:
    p.add_argument("file", help="a .gc graph file")
    p.add_argument("--of", type=as_python_reads,
                   help="the output node (default: the last assigned name)")
    if modes:
        p.add_argument("--wrt", type=as_python_reads,
                       help="inputs to differentiate, comma-separated (default: all)")
        p.add_argument("--mode", choices=("reverse", "forward"),
                       help="reverse (the default; a Jacobian's: chosen by the sizes) or forward")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphc", description="Compile computational graphs to NumPy gradient code.")
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compile", help="emit a standalone NumPy module")
    _common(p)
    p.add_argument("-o", "--output", help="write the module here (default: stdout)")
    p.add_argument("--backend", choices=tuple(BACKENDS), default="numpy",
                   help="how the module computes: " + "; ".join(
                       f"{b.name}: {b.help}" for b in BACKENDS.values()))
    beyond = p.add_mutually_exclusive_group()  # docs/derivatives.md
    for name, what in (("jacobian", "value and Jacobians"), ("hessian", "value, gradient, Hessian"),
                       ("hvp", "Hessian times v"), ("vjp", "y_bar pulled back"),
                       ("jvp", "J times x_dot")):
        beyond.add_argument(f"--{name}", dest="derivative", action="store_const", const=name,
                            help=f"a module defining {name}(...): {what}")
    p = sub.add_parser("eval", help="print the value and gradients at a point")
    _common(p)
    p.add_argument("--at", required=True, help="input values, e.g. a=2,b=1")
    p.add_argument("--hessian", action="store_true", help="print the Hessian's blocks too")
    p = sub.add_parser("render", help="draw the graph (svg, png, pdf or dot)")
    _common(p, modes=False)
    p.add_argument("--at", help="input values, e.g. a=2,b=1: show values and adjoints")
    p.add_argument("-o", "--output", help="the picture: OUT.svg, .png, .pdf or .dot")
    p.add_argument("--show", choices=("reverse", "forward", "paths"), default="reverse",
                   help="adjoints (default), tangents d node/d WRT, or the paths from WRT")
    p.add_argument("--wrt", type=as_python_reads, help="the input for --show forward/paths")
    p.add_argument("--steps", metavar="DIR",
                   help="also write one frame per backprop step and DIR/index.html; "
                        "or all steps to one STEPS.gif (animated) or STEPS.pdf (a page each)")
    p.add_argument("--limit", type=int, help="draw only the N nodes nearest the output")
    p.add_argument("--max-paths", type=int, default=MAX_PATHS,
                   help=f"--show paths lists this many paths (default {MAX_PATHS})")
    look = p.add_argument_group("slides")
    look.add_argument("--slide", action="store_true",
                      help="projector preset: larger fonts, PNG at 144 dpi")
    look.add_argument("--font-scale", type=float, help="multiply every font, e.g. 1.5")
    look.add_argument("--direction", choices=("LR", "TB"), help="left to right or top down")
    look.add_argument("--theme", choices=("light", "dark"))
    look.add_argument("--legend", action=argparse.BooleanOptionalAction,
                      help="say what colours and edge labels mean (default: on)")
    look.add_argument("--hide-constants", action="store_true",
                      help="no constant nodes (their values stay in the ops' text)")
    look.add_argument("--dpi", type=float, help="PNG resolution (default 96)")
    p = sub.add_parser("verify", help="path sums vs reverse vs forward vs finite differences")
    _common(p)
    p.add_argument("--at", required=True, help="input values, e.g. a=2,b=1")
    p.add_argument("--max-paths", type=int, default=1000,
                   help="enumerate paths up to this many (default 1000, at most "
                        f"{LIST_LIMIT}); count always")
    p = sub.add_parser("demo", help="the main job on a bundled example")
    p.add_argument("--outdir", default="graphc-demo", help="where files go")
    return parser


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compile": _cmd_compile, "eval": _cmd_eval, "render": _cmd_render, "verify": _cmd_verify,
    "demo": _cmd_demo}


def _where(args: argparse.Namespace) -> str:
    return getattr(args, "file", None) or "graphc"


def _report(args: argparse.Namespace, exc: GraphcError) -> None:
    where = _where(args)
    if exc.line is not None:
        where += f":{exc.line}:{exc.col}"
    print(f"{where}: error: {exc.message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with signals_raise(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)  # counted, then said once
            try:
                with np.errstate(all="warn"):
                    status = _COMMANDS[args.command](args)
                if sys.stdout is not None:
                    sys.stdout.flush()  # a reader that went away is found here, not at exit
                return status
            finally:
                _warn(args, caught)
    except GraphcError as exc:
        _report(args, exc)
        return 2
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:
        print(f"graphc: error: {exc}", file=sys.stderr)
        return 2
    except ZeroDivisionError as exc:  # Python floats follow Python: an empty batch, 1 / 0.0
        _report(args, GraphcError(f"{exc} at these input values"))
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: temps are gone by now
        signum = exc.signum if isinstance(exc, Interrupted) else 2
        print("graphc: interrupted", file=sys.stderr)
        return 128 + signum


def _reader_gone() -> int:
    """What a Unix tool does when its reader exits (``graphc verify ... | head``): stop,
    say nothing, exit 141 (128 + SIGPIPE)."""
    try:  # what is still buffered for stdout would fail again at exit: send it nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141


_NUMPY_WORDS = ("divide by zero", "invalid value", "overflow", "underflow")


def _warn(args: argparse.Namespace, caught: list[warnings.WarningMessage]) -> None:
    """Each warning once, in graphc's words: NumPy's floating-point warnings (one per
    line of the generated module) become one line that says what they mean."""
    numeric: set[str] = set()
    said: dict[str, None] = {}  # each text once, in order
    for w in caught:
        words = {k for k in _NUMPY_WORDS if k in str(w.message)}
        if words and issubclass(w.category, RuntimeWarning):
            numeric |= words
        else:
            said[str(w.message)] = None
    if numeric:
        said[", ".join(k for k in _NUMPY_WORDS if k in numeric)
             + " at the given input values: results may be inf or nan"] = None
    for text in said:
        print(f"{_where(args)}: warning: {text}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

