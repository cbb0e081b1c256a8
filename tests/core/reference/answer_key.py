"""``answer_key``: the final answer a response commits to, canonicalized."""

import re
import unicodedata

from tests.core.reference.normalization import normalize

# ASCII digits only (not \d): the Rust matches ASCII digits, while Python's \d would take any Nd.
NUMBER = re.compile(r"[-+]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:/[0-9]+)?")
# The phrase is r"\banswer\s*(?:is\b|:)" with Unicode word boundaries; Python's \b counts every
# str.isalnum character (e.g. "²", "½", "①") as a word character, which Unicode regexes do not, so the
# boundaries are checked by hand with is_word_char.
ANSWER_PHRASE = re.compile(r"answer\s*(is|:)", re.IGNORECASE)
CHOICE_AFTER_PHRASE = re.compile(r"\s*\(?([A-J])\)?(?=$|\s|[.,;:)])")
# Inside \boxed{} the whole content must be the choice: bare, or wrapped in both parentheses.
CHOICE = re.compile(r"([A-J])|\(([A-J])\)")
BOXED = "\\boxed{"


def answer_key(text: str) -> str | None:
    boxed = last_boxed_content(text)
    # A box that holds nothing usable commits to nothing: fall through to the later rules.
    key = canonical_boxed(boxed) if boxed is not None else None
    if key is not None:
        return key
    phrase_answer = answer_after_last_phrase(text)
    if phrase_answer is not None:
        return phrase_answer
    numbers = NUMBER.findall(text)
    return canonical_number(numbers[-1]) if numbers else None


def last_boxed_content(text: str) -> str | None:
    # The last \boxed{ whose braces close wins; an unclosed one is skipped in favour of earlier ones.
    start = text.rfind(BOXED)
    while start != -1:
        content_start = start + len(BOXED)
        depth = 1
        for i in range(content_start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[content_start:i]
        start = text.rfind(BOXED, 0, start)
    return None


def canonical_boxed(content: str) -> str | None:
    stripped = content.strip()
    if NUMBER.fullmatch(stripped):
        return canonical_number(stripped)
    choice = CHOICE.fullmatch(stripped)
    if choice:
        return choice.group(1) or choice.group(2)
    return normalize(content) or None


def is_word_char(ch: str) -> bool:
    """Unicode regex word character (UTS #18): letters, marks, decimal digits, connectors."""
    category = unicodedata.category(ch)
    return category[0] in ("L", "M") or category in ("Nd", "Nl", "Pc")


def last_phrase_end(text: str) -> int | None:
    end = None
    for match in ANSWER_PHRASE.finditer(text):
        start = match.start()
        if start > 0 and is_word_char(text[start - 1]):
            continue
        if match.group(1) != ":" and match.end() < len(text) and is_word_char(text[match.end()]):
            continue
        end = match.end()
    return end


def answer_after_last_phrase(text: str) -> str | None:
    end = last_phrase_end(text)
    if end is None:
        return None
    # Only the first sentence after the phrase counts. A final "." needs no special case: the choice
    # pattern accepts it as a terminator and normalize drops it.
    sentence = text[end:].split("\n", 1)[0].split(". ", 1)[0]
    choice = CHOICE_AFTER_PHRASE.match(sentence)
    if choice:
        return choice.group(1)
    number = NUMBER.search(sentence)
    if number:
        return canonical_number(number.group())
    return normalize(sentence) or None


def canonical_number(number: str) -> str:
    negative = number.startswith("-")
    unsigned = number.lstrip("+-")
    if "/" in unsigned:
        numerator, denominator = unsigned.split("/")
        return canonical_decimal(negative, numerator) + "/" + canonical_decimal(False, denominator)
    return canonical_decimal(negative, unsigned)


def canonical_decimal(negative: bool, digits: str) -> str:
    integer, _, fraction = digits.replace(",", "").partition(".")
    integer = integer.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    body = f"{integer}.{fraction}" if fraction else integer
    return "-" + body if negative and body != "0" else body
