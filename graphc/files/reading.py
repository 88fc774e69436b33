"""Reading an input: a regular file (or ``-``, standard input) up to a size cap, so a
FIFO with no writer, a device or ``/dev/zero`` is an error, never a hang."""

from __future__ import annotations

import os
import stat
import sys
from typing import IO, Any

from ..errors import GraphcError

MAX_INPUT_BYTES = 10 * 2**20
"""A .gc file larger than this is refused (graphs that big are built in Python)."""


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
            raise GraphcError(f"cannot read {path}: {kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise GraphcError(f"cannot read {path}: {st.st_size:,} bytes is over the "
                              f"{limit:,}-byte limit for a graph file")
        return _decode(path, _read_capped(os.fdopen(fd, "rb", closefd=False), path, limit))
    finally:
        os.close(fd)


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


_KINDS = {"d": "a directory", "p": "a FIFO", "c": "a character device", "b": "a block device",
          "s": "a socket"}


def kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    return _KINDS.get(stat.filemode(mode)[0], "not a regular file")
