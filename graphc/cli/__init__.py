"""The ``graphc`` command: compile, eval, render, verify, demo.

Exit status: 0 success, 1 a verification disagreement, 2 bad input (reported as
``FILE:LINE:COL: error: message``, never a traceback), 130 Ctrl-C (143 SIGTERM), 141
a reader that went away (``graphc verify ... | head``). The outputs of one command
are written together or not at all (see ``files.Outputs``), so a failed or
interrupted run leaves nothing behind; ``-`` is standard input or output.

This module imports nothing heavy: ``graphc --help``, ``--version`` and a misspelt
command answer at once; a command's own modules load when it runs (``commands``).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._version import __version__
from ..errors import GraphcError
from ..files import Interrupted, signals_raise


class _Parser(argparse.ArgumentParser):
    """argparse's parser, saying "did you mean" for a misspelt command or choice (as
    Python 3.14's ``suggest_on_error`` does), with help filled in as it is printed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            import difflib

            close = difflib.get_close_matches(str(value), list(map(str, action.choices or ())),
                                              n=1)
            if not close or "meant" in exc.message:  # said already (Python 3.14)
                raise
            raise argparse.ArgumentError(action, f"{exc.message}; did you mean "
                                                 f"{close[0]!r}?") from None


def _backends() -> dict[str, Any]:
    from ..backend import BACKENDS  # the op table, sympy: loaded when asked for

    return BACKENDS


class _Backends:
    """``--backend``'s choices, looked up when a value is checked or help is printed."""

    def __contains__(self, name: object) -> bool:
        return name in _backends()

    def __iter__(self) -> Iterator[str]:
        return iter(_backends())


def _max_paths() -> str:
    from ..teach.verify import LIST_LIMIT

    return f"{LIST_LIMIT:,}"


def _paths_drawn() -> str:
    from ..teach.style import MAX_PATHS

    return str(MAX_PATHS)


_LATER: dict[str, Callable[[], str]] = {
    "{backends}": lambda: "; ".join(f"{b.name}: {b.help}" for b in _backends().values()),
    "{max_paths}": _max_paths,
    "{paths_drawn}": _paths_drawn,
}
"""Help text that needs graphc's heavy modules: filled in when the help is printed."""


class _Formatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        for key, fill in _LATER.items():
            if text and key in text:
                text = text.replace(key, fill().replace("%", "%%"))
        return text


class _Completion(argparse.Action):
    """``--print-completion SHELL``: the shell's completion script (by shtab), printed."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        try:
            import shtab
        except ImportError:
            parser.error("shell completion needs shtab: pip install shtab")
        for action in _actions(parser):  # complete file and folder names where they go
            if hasattr(action, "paths"):
                action.complete = getattr(shtab, action.paths)  # type: ignore[attr-defined]
        print(shtab.complete(parser, shell=values), end="")
        parser.exit()


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)


def _paths(action: argparse.Action, kind: str = "FILE") -> None:
    """Mark ``action`` as taking a file (``FILE``) or folder (``DIRECTORY``) name."""
    action.paths = kind  # type: ignore[attr-defined]


def _common(p: argparse.ArgumentParser, modes: bool = True) -> None:
    _paths(p.add_argument("file", help="a .gc graph file; - reads standard input"))
    p.add_argument("--of", help="the output node (default: the last assigned name)")
    if modes:
        p.add_argument("--wrt", help="inputs to differentiate, comma-separated (default: all)")
        p.add_argument("--mode", choices=("reverse", "forward"),
                       help="reverse (the default; a Jacobian's: chosen by the sizes) or forward")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="graphc", description="Compile computational graphs to NumPy gradient code.")
    parser.add_argument("--version", action="version", version=f"graphc {__version__}")
    parser.add_argument("--print-completion", choices=("bash", "zsh", "tcsh"),
                        action=_Completion, help="print a shell completion script "
                        "(needs shtab): eval \"$(graphc --print-completion bash)\"")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compile", help="emit a standalone NumPy module")
    _common(p)
    _paths(p.add_argument("-o", "--output", help="write the module here (default, or -: "
                                                 "standard output)"))
    p.add_argument("--backend", choices=_Backends(), default="numpy", metavar="NAME",
                   help="how the module computes: {backends}")
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
    p.add_argument("--json", action="store_true", help="print one JSON object: of, value, "
                   "gradients (and hessian); arrays as nested lists, nan and inf as "
                   "NaN and Infinity (as Python's json reads them)")
    p = sub.add_parser("render", help="draw the graph (svg, png, pdf or dot)")
    _common(p, modes=False)
    p.add_argument("--at", help="input values, e.g. a=2,b=1: show values and adjoints")
    _paths(p.add_argument("-o", "--output", help="the picture: OUT.svg, .png, .pdf or .dot; "
                                                 "- for standard output (DOT text unless "
                                                 "--format says)"))
    p.add_argument("--format", choices=("svg", "png", "pdf", "dot"),
                   help="the picture's format (default: -o's suffix)")
    p.add_argument("--show", choices=("reverse", "forward", "paths"), default="reverse",
                   help="adjoints (default), tangents d node/d WRT, or the paths from WRT")
    p.add_argument("--wrt", help="the input for --show forward/paths")
    _paths(p.add_argument("--steps", metavar="DIR", help="also write one frame per backprop "
                          "step and DIR/index.html; or all steps to one STEPS.gif (animated) "
                          "or STEPS.pdf (a page each)"), "DIRECTORY")
    p.add_argument("--limit", type=int, help="draw only the N nodes nearest the output")
    p.add_argument("--max-paths", type=int,
                   help="--show paths lists this many paths (default {paths_drawn})")
    look = p.add_argument_group("slides")
    look.add_argument("--slide", action="store_true",
                      help="projector preset: larger fonts, compact labels, the direction "
                      "that fits 16:9, PNG at 144 dpi")
    look.add_argument("--font-scale", type=float, help="multiply every font, e.g. 1.5")
    look.add_argument("--direction", choices=("LR", "TB", "auto"),
                      help="left to right, top down, or the one a slide shows larger "
                      "(--slide's default)")
    look.add_argument("--theme", choices=("light", "dark"))
    look.add_argument("--legend", action=argparse.BooleanOptionalAction,
                      help="say what colours and edge labels mean (default: on)")
    look.add_argument("--hide-constants", action="store_true",
                      help="no constant nodes (their values stay in the ops' text)")
    look.add_argument("--dpi", type=float, help="PNG resolution (default 96)")
    look.add_argument("--gates", action="store_true", help="note CS231n's patterns beside "
                      "the nodes: add distributes, mul swaps, max routes, fork adds")
    p.add_argument("--wrong-order", action="store_true", help="with --at and -o: the "
                   "right adjoints beside what a naive backward computes (= instead of "
                   "+=; depth first, each node once), wrong numbers marked")
    _paths(p.add_argument("--exercise", metavar="OUT.html", help="also write a page that "
                          "asks a student for the hidden numbers"))
    p.add_argument("--hide", choices=("adjoints", "derivatives"), default="adjoints",
                   help="what --exercise asks for (default: adjoints)")
    p = sub.add_parser("verify", help="path sums vs reverse vs forward vs finite differences")
    _common(p)
    p.add_argument("--at", required=True, help="input values, e.g. a=2,b=1")
    p.add_argument("--max-paths", type=int, default=1000,
                   help="enumerate paths up to this many (default 1000, at most "
                        "{max_paths}); count always")
    p.add_argument("--json", action="store_true", help="print the report as one JSON "
                   "object: ok, and a row per input with every method's derivative")
    p = sub.add_parser("demo", help="the main job on a bundled example")
    _paths(p.add_argument("--outdir", default="graphc-demo", help="where files go"),
           "DIRECTORY")
    return parser


def _where(args: argparse.Namespace) -> str:
    where = getattr(args, "file", None) or "graphc"
    return "<stdin>" if where == "-" else where


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
                from .commands import run

                status = run(args)
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
