"""`.dockerignore` matching as Docker does it: patterns relative to the context root, `*` and `?` within
one path element, `**` across any number of them, a path excluded when it or a parent directory matches,
the last matching pattern deciding (`!` re-includes)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class DockerIgnore:
    rules: tuple[tuple[bool, re.Pattern[str], str], ...]  # (re-include?, regex, the pattern as written)

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = line.lstrip("!").strip().strip("/")
            rules.append((negated, _regex(pattern), pattern))
        return cls(tuple(rules))

    def patterns(self) -> list[str]:
        return [pattern for _, _, pattern in self.rules]

    def excludes(self, relative: str) -> bool:
        """Whether the path (relative to the context, `/`-separated) is left out of the build context."""
        parts = relative.strip("/").split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negated, regex, _ in self.rules:
            if any(regex.match(prefix) for prefix in prefixes):
                excluded = not negated
        return excluded
