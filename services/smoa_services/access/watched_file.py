"""A file read again when it changes: credentials are rotated by replacing the files that hold them (a
mounted Kubernetes Secret is swapped atomically), and a service must take the new ones without a
restart. The files' mtimes are looked at no more than once a second; while one is being rewritten
(unreadable, or not yet parseable) the value made last stays. The first read is not forgiven: a service
whose file is missing or wrong at start fails then, loudly."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

CHECK_SECONDS = 1.0


class Watched(Generic[T]):
    """A value made from files (`load` reads them), made again when any of them changes."""

    def __init__(self, paths: Sequence[str], load: Callable[[], T]):
        self.paths = list(paths)
        self.load = load
        self._stamp = self._stamps()
        self._value = load()
        self._checked = time.monotonic()

    def _stamps(self) -> tuple[int, ...]:
        return tuple(os.stat(p).st_mtime_ns for p in self.paths)

    def value(self) -> T:
        now = time.monotonic()
        if now - self._checked >= CHECK_SECONDS:
            self._checked = now
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                stamp = self._stamps()
                if stamp != self._stamp:
                    self._value, self._stamp = self.load(), stamp
        return self._value


class WatchedFile(Watched[T]):
    """One file's text, parsed."""

    def __init__(self, path: str, parse: Callable[[str], T]):
        super().__init__([path], lambda: parse(Path(path).read_text()))
