"""A file read again when it changes: credentials are rotated by replacing the files that hold them (a
mounted Kubernetes Secret is swapped atomically), and a service must take the new ones without a
restart. The file's mtime is looked at no more than once a second; while it is being rewritten
(unreadable, or not yet parseable) the value read last stays. The first read is not forgiven: a service
whose file is missing or wrong at start fails then, loudly."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

CHECK_SECONDS = 1.0


class WatchedFile(Generic[T]):
    def __init__(self, path: str, parse: Callable[[str], T]):
        self.path = path
        self.parse = parse
        self._stamp = os.stat(path).st_mtime_ns
        self._value = parse(Path(path).read_text())
        self._checked = time.monotonic()

    def value(self) -> T:
        now = time.monotonic()
        if now - self._checked >= CHECK_SECONDS:
            self._checked = now
            with contextlib.suppress(OSError, ValueError):
                stamp = os.stat(self.path).st_mtime_ns
                if stamp != self._stamp:
                    self._value, self._stamp = self.parse(Path(self.path).read_text()), stamp
        return self._value
