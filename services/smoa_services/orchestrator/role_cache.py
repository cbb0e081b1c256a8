"""A bounded least-recently-used map of role lists, so a task description seen again costs no LLM call.
In memory and per process: replicas each warm their own, which is fine for a cache this cheap to fill."""

from __future__ import annotations

from collections import OrderedDict


class RoleCache:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int], tuple[str, ...]] = OrderedDict()

    def get(self, description: str, n: int) -> tuple[str, ...] | None:
        key = (description, n)
        roles = self._entries.get(key)
        if roles is not None:
            self._entries.move_to_end(key)
        return roles

    def put(self, description: str, n: int, roles: tuple[str, ...]) -> None:
        if self.capacity <= 0:
            return
        self._entries[(description, n)] = roles
        self._entries.move_to_end((description, n))
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
