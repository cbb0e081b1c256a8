"""A small Dockerfile reader: instructions (continuations joined, comments dropped), their --flags and
arguments, global ARG substitution, and stages. Enough for our own Dockerfile; heredocs are refused."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    value: str  # the rest of the instruction, continuation lines joined
    line: int  # where it starts (1-based)

    def is_exec_form(self) -> bool:
        return self.value.lstrip().startswith("[")

    def words(self) -> list[str]:
        """Arguments: the JSON array of the exec form, else shell-style words."""
        if self.is_exec_form():
            parsed = json.loads(self.value)
            assert isinstance(parsed, list) and all(isinstance(w, str) for w in parsed), self
            return list(parsed)
        return shlex.split(self.value)

    def flags(self) -> dict[str, str]:
        """Leading --name=value options (COPY --from=..., RUN --mount=..., FROM --platform=...)."""
        return dict(w[2:].partition("=")[::2] for w in self._split()[0])

    def mounts(self) -> list[dict[str, str]]:
        """RUN --mount=k=v,k=v options, each as a dict."""
        found = []
        for word in self._split()[0]:
            if word.startswith("--mount="):
                found.append(dict(part.partition("=")[::2] for part in word[len("--mount=") :].split(",")))
        return found

    def arguments(self) -> list[str]:
        """The words after the leading --flags."""
        return self._split()[1]

    def _split(self) -> tuple[list[str], list[str]]:
        words = shlex.split(self.value) if not self.is_exec_form() else self.words()
        flags = []
        while words and words[0].startswith("--"):
            flags.append(words.pop(0))
        return flags, words


@dataclass
class Stage:
    image: str  # the FROM image, global ARGs substituted
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # comments (parser directives included) and blank lines; also inside continuations
        if not pending:
            start = number
        continued = stripped.endswith("\\")
        pending.append(stripped[:-1].strip() if continued else stripped)
        if not continued:
            keyword, _, value = " ".join(p for p in pending if p).partition(" ")
            if "<<" in value and keyword.upper() in {"RUN", "COPY"}:
                raise ValueError(f"line {start}: heredocs are not supported by this reader")
            instructions.append(Instruction(keyword.upper(), value.strip(), start))
            pending = []
    if pending:
        raise ValueError(f"line {start}: the last instruction ends with a continuation")
    return instructions


def substitute(value: str, variables: dict[str, str]) -> str:
    """${NAME} and $NAME replaced by the variable's value (unknown names are left as they are)."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), value)


def global_args(instructions: list[Instruction]) -> dict[str, str]:
    """ARGs declared before the first FROM, with their defaults."""
    found: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, default = instruction.value.partition("=")
            found[name.strip()] = default.strip().strip('"')
    return found


def stages(instructions: list[Instruction]) -> list[Stage]:
    variables = global_args(instructions)
    result: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            words = instruction.arguments()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(substitute(words[0], variables), name))
        elif result:
            result[-1].instructions.append(instruction)
    return result
