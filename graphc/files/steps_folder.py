"""The stepper's output folder: a folder used before keeps files the stepper did not
write, and loses the frames of an older graph that this run does not write again."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import GraphcError
from .writing import Outputs

_STEPS_NAME = re.compile(r"frame_\d{3,}\.svg|index\.html")
_STEPS_MARKS = (b"<title>graphc: backprop step by step</title>", b"<!-- Title: graphc Pages:")


class StepsFolder:
    """A folder of step frames, staged in ``outputs``."""

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
    """The files in ``folder`` the stepper wrote: named as it names them, with graphc's
    title in their first lines."""
    owned = set()
    for p in folder.iterdir():
        if _STEPS_NAME.fullmatch(p.name) and p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                head = f.read(4096)
            if any(mark in head for mark in _STEPS_MARKS):
                owned.add(p.name)
    return owned

