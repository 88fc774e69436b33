"""Signals during a command: SIGTERM and SIGHUP raise as Ctrl-C does, so temp files are
removed; all of them wait while outputs are renamed into place."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


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
def signals_held() -> Iterator[None]:
    """Signals wait while a set of outputs is renamed into place (all or nothing)."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)
