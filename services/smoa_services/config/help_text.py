"""A setting's help, as its dataclass field carries it: the flag's help and the README's wording."""


def help_text(text: str) -> dict[str, str]:
    return {"help": text}
