"""Writing outputs all together or not at all: a failure, Ctrl-C or SIGTERM before
``Outputs.commit`` replaces nothing. Special files (``/dev/null``, a FIFO, ``-``) are
written through, a symlink's target is replaced rather than the link, and no block
device or input file is ever overwritten."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import GraphcError
from .reading import kind
from .signals import signals_held


def _follow(path: Path) -> tuple[Path, bool]:
    """``path`` after its symlinks, and whether to write through it (``/dev/stdout`` ->
    ``/proc/self/fd/1``: a stream, never a file to rename onto)."""
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

    def __init__(self, path: str | os.PathLike, new_dirs: dict[Path, Path]):
        self.path, self.stat = path, None
        self.real: Path | None  # None: standard output
        if str(path) == "-":
            self.how, self.real = "stdout", None
            return
        p = Path(path)
        absolute = Path(os.path.abspath(p))
        for final, stage in new_dirs.items():  # inside a folder made by this command
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
        elif through or stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            self.how = "through"  # also /dev/stdout, /proc/self/fd/N when regular files
        elif stat.S_ISREG(st.st_mode):
            self.how = "replace"
        else:
            raise GraphcError(f"cannot write {path}: {kind(st.st_mode)} is never "
                              "overwritten")


def writable(path: str | os.PathLike) -> Path:
    """``path``, once it is known that it can be written (its directory is there, it
    is no directory or block device): a clear error before anything is written."""
    Outputs().target(path)
    return Path(path)


class Outputs:
    """The files one command writes, all together or none: each is staged (a temp file
    or folder beside its target) as it is produced; ``commit`` renames them all into
    place with signals held. Leaving the ``with`` block by an exception or a signal
    removes every temp instead."""

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
        t = _Target(path, self._dirs)
        if t.how == "folder":
            raise GraphcError(f"cannot write {path}: it is a directory")
        source = None if t.stat is None else self._inputs.get((t.stat.st_dev, t.stat.st_ino))
        if source is not None:
            raise GraphcError(f"{path} is the input file {source}: not overwritten (write "
                              "the output elsewhere)")
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
        with signals_held():  # no temp is made that the list does not hold
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
        """Make sure folder ``path`` is there at commit (a new one is staged whole, in
        its existing parent); True if it was there before."""
        t = _Target(path, self._dirs)
        if t.real is None:
            raise GraphcError("a folder cannot be written to standard output ('-'): give "
                              "it a name")
        if t.how == "staged":  # inside a folder this command makes: new as well
            t.real.mkdir(exist_ok=True)
            return False
        if t.stat is not None:
            if not stat.S_ISDIR(t.stat.st_mode):
                raise GraphcError(f"{path} is a file, not a directory")
            return True
        final = Path(os.path.abspath(path))
        with signals_held():
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
            with signals_held():
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
                    if hasattr(sys.stdout, "buffer"):
                        shutil.copyfileobj(f, sys.stdout.buffer)
                    else:  # a text stream in place of stdout (redirect_stdout): text
                        sys.stdout.write(f.read().decode("utf-8"))
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
