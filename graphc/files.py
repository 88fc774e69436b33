"""Reading inputs and writing outputs so that a failed or interrupted command leaves
nothing behind.

Inputs are regular files (or ``-``, standard input), read up to a size cap: a FIFO
with no writer, a device or ``/dev/zero`` is an error, never a hang. Outputs are
staged as temp files beside their targets and put in place together by
``Outputs.commit``; any failure, Ctrl-C or SIGTERM before that removes every temp and
replaces nothing. Special files (``/dev/null``, ``/dev/stdout``, a FIFO, ``-``) are
written through, a symlink's target is replaced rather than the link, and no block
device or input file is ever overwritten.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import GraphcError

MAX_INPUT_BYTES = 10 * 2**20
"""A .gc file larger than this is refused (graphs that big are built in Python)."""
_STEPS_NAME = re.compile(r"frame_\d{3,}\.svg|index\.html")
_STEPS_MARKS = (b"<title>graphc: backprop step by step</title>", b"<!-- Title: graphc Pages:")


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: raised where the program is, so cleanups run."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM (and SIGHUP) raise ``Interrupted`` as Ctrl-C raises KeyboardInterrupt,
    so ``finally`` blocks remove temp files; the old handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    wanted = [s for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s)]
    old = {s: signal.signal(getattr(signal, s), handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(getattr(signal, s), h)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Signals wait while a set of outputs is renamed into place (all or nothing)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP")
                                              else set())
    old = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


# ---- reading -------------------------------------------------------------------------

def read_text(path: str | os.PathLike, limit: int = MAX_INPUT_BYTES, *,
              stdin: bool = False) -> str:
    """The text of a regular file (with ``stdin=True``, ``"-"`` is standard input), at
    most ``limit`` bytes.

    >>> read_text("/dev/zero")
    Traceback (most recent call last):
    graphc.errors.GraphcError: cannot read /dev/zero: a character device, not a regular file
    """
    if stdin and str(path) == "-":
        return _decode("standard input", _read_capped(sys.stdin.buffer, "-", limit))
    try:  # O_NONBLOCK: opening a FIFO with no writer returns at once, to be refused
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise GraphcError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise GraphcError(f"cannot read {path}: {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise GraphcError(f"cannot read {path}: {st.st_size:,} bytes is over the "
                              f"{limit:,}-byte limit for a graph file")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        return _decode(path, _read_capped(f, path, limit))


def _read_capped(f: IO[bytes], path: Any, limit: int) -> bytes:
    try:
        data = f.read(limit + 1)
    except OSError as exc:
        raise GraphcError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise GraphcError(f"cannot read {path}: over the {limit:,}-byte limit for a graph file")
    return data


def _decode(path: Any, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a BOM some editors write is no text
    except UnicodeDecodeError as exc:
        raise GraphcError(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


# ---- where an output goes --------------------------------------------------------------

def _follow(path: Path) -> tuple[Path, bool]:
    """The entry ``path`` names after its symlinks, and whether to write through it
    rather than replace it (``/dev/stdout`` -> ``/proc/self/fd/1``: a stream, never a
    file to rename onto)."""
    p = Path(os.path.abspath(path))
    for _ in range(40):
        if str(p).startswith(("/proc/", "/dev/fd/")):
            return p, True
        if not p.is_symlink():
            return p, False
        target = os.readlink(p)
        p = Path(os.path.normpath(Path(os.path.realpath(p.parent)) / target))
    raise GraphcError(f"cannot write {path}: too many levels of symbolic links")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Target:
    """How one output path is written: ``replace`` (a temp renamed onto ``real``) or
    ``through`` (a special file or stdout, written at commit)."""

    def __init__(self, path: str | os.PathLike, new_dirs: dict[Path, Path] | None = None):
        self.path, self.stat = path, None
        self.real: Path | None  # None: standard output
        if str(path) == "-":
            self.how, self.real = "stdout", None
            return
        p = Path(path)
        for final, stage in (new_dirs or {}).items():  # inside a folder made by this command
            absolute = Path(os.path.abspath(p))
            if absolute.is_relative_to(final):
                self.how, self.real = "staged", stage / absolute.relative_to(final)
                return
        real, through = _follow(p)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise GraphcError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.stat, self.real = st, real
        if st is None:
            if not real.parent.is_dir():
                missing = p.parent if not p.parent.is_dir() else real.parent
                raise GraphcError(f"{path}: no directory {missing} to write it in")
            self.how = "replace"
        elif stat.S_ISDIR(st.st_mode):
            self.how = "folder"
        elif through:  # /dev/stdout, /proc/self/fd/N
            self.how = "through"
        elif stat.S_ISREG(st.st_mode):
            self.how = "replace"
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            self.how = "through"
        else:
            raise GraphcError(f"cannot write {path}: {_kind(st.st_mode)} is never "
                              "overwritten")


def writable(path: str | os.PathLike) -> Path:
    """``path``, once it is known that it can be written (its directory is there, it
    is no directory or block device): a clear error before anything is written."""
    _file(_Target(path))
    return Path(path)


def _file(t: _Target) -> _Target:
    if t.how == "folder":
        raise GraphcError(f"cannot write {t.path}: it is a directory")
    return t


# ---- writing ---------------------------------------------------------------------------

class Outputs:
    """The files one command writes, all together or none.

    Each is staged (a temp file beside its target, a temp folder for a new folder) as
    it is produced; ``commit`` renames them all into place with signals held. Leaving
    the ``with`` block by an exception or a signal removes every temp instead.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with Outputs() as out:
    ...     out.write(d / "a.txt", "one")
    ...     out.write(d / "b.txt", "two")
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt', 'b.txt']
    """

    def __init__(self, inputs: tuple[str | os.PathLike, ...] | list = ()):
        self._inputs: dict[tuple[int, int], str] = {}
        for p in inputs:
            with contextlib.suppress(OSError):
                st = os.stat(p)
                if stat.S_ISREG(st.st_mode):
                    self._inputs[(st.st_dev, st.st_ino)] = str(p)
        self._renames: list[tuple[Path, Path, int]] = []  # temp, final, mode
        self._through: list[tuple[IO[bytes], _Target]] = []
        self._dirs: dict[Path, Path] = {}  # a new folder -> its temp stage
        self._stale: list[Path] = []
        self._temps: list[Path] = []
        self._finals: set[Path] = set()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def target(self, path: str | os.PathLike) -> _Target:
        """Check that ``path`` may be written; a clear error if not."""
        t = _file(_Target(path, self._dirs))
        if t.stat is not None and (t.stat.st_dev, t.stat.st_ino) in self._inputs:
            raise GraphcError(f"{path} is the input file "
                              f"{self._inputs[(t.stat.st_dev, t.stat.st_ino)]}: not "
                              "overwritten (write the output elsewhere)")
        return t

    @contextlib.contextmanager
    def open(self, path: str | os.PathLike) -> Iterator[IO[bytes]]:
        """A binary file to stream ``path``'s contents into; staged until commit."""
        t = self.target(path)
        key = t.real or Path("-")
        if t.how != "through" and key in self._finals:
            raise GraphcError(f"{path} is written twice by one command")
        self._finals.add(key)
        if t.real is None or t.how == "through":  # standard output, or a stream
            buffer = tempfile.TemporaryFile()  # noqa: SIM115  (unnamed: gone even if killed)
            self._through.append((buffer, t))
            yield buffer
            return
        if t.how == "staged":
            with open(t.real, "xb") as f:
                yield f
            return
        with _signals_held():  # no temp is made that the list does not hold
            fd, tmp = tempfile.mkstemp(dir=t.real.parent, prefix=f".{t.real.name}.",
                                       suffix=".tmp")
            self._temps.append(Path(tmp))
        mode = (stat.S_IMODE(t.stat.st_mode) if t.stat is not None
                else 0o666 & ~_umask())  # mkstemp makes 0600; keep a replaced file's mode
        with os.fdopen(fd, "wb") as f:
            yield f
        self._renames.append((Path(tmp), t.real, mode))

    def write(self, path: str | os.PathLike, data: str | bytes) -> None:
        """Stage ``data`` (text is written as UTF-8) for ``path``."""
        with self.open(path) as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def folder(self, path: str | os.PathLike) -> bool:
        """Make sure folder ``path`` is there at commit; True if it was there before.

        A new folder is staged whole (a temp folder renamed into place); its parent
        must exist, as a file's folder must."""
        t = _Target(path, self._dirs)
        if t.real is None:
            raise GraphcError("a folder cannot be written to standard output ('-'): give "
                              "it a name")
        if t.how == "staged":  # inside a folder this command makes: new as well
            if not t.real.is_dir():
                t.real.mkdir()
            return False
        if t.stat is not None:
            if not stat.S_ISDIR(t.stat.st_mode):
                raise GraphcError(f"{path} is a file, not a directory")
            return True
        final = Path(os.path.abspath(path))
        with _signals_held():
            stage = Path(tempfile.mkdtemp(dir=t.real.parent, prefix=f".{final.name}.",
                                          suffix=".tmp"))
            self._dirs[final] = stage
        return False

    def remove(self, path: Path) -> None:
        """Delete ``path`` at commit (a stale file this program wrote before)."""
        self._stale.append(path)

    def commit(self) -> None:
        """Put every staged output in place."""
        try:
            with _signals_held():
                for tmp, final, mode in self._renames:
                    os.chmod(tmp, mode)
                    os.replace(tmp, final)
                    self._temps.remove(tmp)
                for final, stage in sorted(self._dirs.items(), key=lambda d: len(d[0].parts)):
                    os.chmod(stage, 0o777 & ~_umask())
                    os.rename(stage, final)
                self._dirs.clear()
                for p in self._stale:
                    p.unlink(missing_ok=True)
            for f, t in self._through:
                f.seek(0)
                if t.how == "stdout":
                    sys.stdout.flush()
                    shutil.copyfileobj(f, sys.stdout.buffer)
                    sys.stdout.flush()
                else:
                    with open(t.real if t.real is not None else t.path, "wb") as out:
                        shutil.copyfileobj(f, out)
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove every temp; nothing staged is put in place."""
        for f, _ in self._through:
            f.close()
        self._through.clear()
        for tmp in self._temps:
            tmp.unlink(missing_ok=True)
        self._temps.clear()
        self._renames.clear()
        for stage in self._dirs.values():
            shutil.rmtree(stage, ignore_errors=True)
        self._dirs.clear()


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``path`` completely or not at all (see ``Outputs``)."""
    with Outputs() as out:
        out.write(path, data)


class StepsFolder:
    """A folder of step frames: only files the stepper wrote there are replaced, and
    frames of an older graph that this run does not write again are removed."""

    def __init__(self, outputs: Outputs, path: str | os.PathLike):
        self.outputs, self.path = outputs, Path(path)
        self.names: list[str] = []
        self.owned: set[str] = set()
        if outputs.folder(path):
            self.owned = _owned(self.path)
            for name in ("index.html", "frame_000.svg"):
                self._check(name)

    def _check(self, name: str) -> None:
        p = self.path / name
        if (p.exists() or p.is_symlink()) and name not in self.owned:
            raise GraphcError(f"{p} is there already and was not written by graphc's "
                              "stepper: not replaced (give --steps an empty or new folder)")

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        self._check(name)
        self.names.append(name)
        with self.outputs.open(self.path / name) as f:
            yield f

    def write(self, name: str, data: str | bytes) -> Path:
        with self.open(name) as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return self.path / name

    def finish(self) -> None:
        """Stage the removal of frames an older run wrote that this one did not."""
        for name in sorted(self.owned - set(self.names)):
            self.outputs.remove(self.path / name)


def _owned(folder: Path) -> set[str]:
    """The files in ``folder`` the stepper wrote: named as it names them (frame_NNN.svg,
    index.html) and carrying graphc's own title, which Graphviz and the page write
    in their first lines."""
    owned = set()
    for p in folder.iterdir():
        if _STEPS_NAME.fullmatch(p.name) and _plain(p):
            with open(p, "rb") as f:
                head = f.read(4096)
            if any(mark in head for mark in _STEPS_MARKS):
                owned.add(p.name)
    return owned


def _plain(p: Path) -> bool:
    return p.is_file() and not p.is_symlink()
