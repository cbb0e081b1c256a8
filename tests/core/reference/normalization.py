"""``normalize``: NFKC, casefold, alphanumeric runs joined by single spaces."""

import unicodedata


def is_alphanumeric(ch: str) -> bool:
    # Mirrors Rust's char::is_alphanumeric (Alphabetic or Numeric) by general category rather than
    # str.isalnum, which disagrees with Rust on e.g. letter numbers and some combining marks. The two
    # still differ on Other_Alphabetic marks, so property tests draw from an alphabet without them.
    return unicodedata.category(ch)[0] in ("L", "N")


def normalize(text: str) -> str:
    # NFKC exactly once, before casefolding: the contract does not re-normalize the folded text.
    folded = unicodedata.normalize("NFKC", text).casefold()
    pieces: list[str] = []
    separator_pending = False
    for ch in folded:
        if is_alphanumeric(ch):
            if separator_pending and pieces:
                pieces.append(" ")
            pieces.append(ch)
            separator_pending = False
        else:
            separator_pending = True
    return "".join(pieces)


def tokens(text: str) -> list[str]:
    normalized = normalize(text)
    return normalized.split(" ") if normalized else []
