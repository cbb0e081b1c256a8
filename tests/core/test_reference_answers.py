"""Property tests: answer keys agree with the reference."""

from hypothesis import example, given
from hypothesis import strategies as st

import smoa_core_rs as core
from tests.core.reference.answer_key import answer_key
from tests.core.strategies import ALPHABET_TEXT, answer_text


@given(st.one_of(answer_text(), ALPHABET_TEXT))
@example("The answer is (C).")
@example("answer is (C)x")
def test_answer_key_matches_reference(text: str) -> None:
    assert core.answer_key(text) == answer_key(text)


@given(st.lists(answer_text(), min_size=1, max_size=5))
def test_answer_keys_is_answer_key_of_each(texts: list[str]) -> None:
    assert core.answer_keys(texts) == [core.answer_key(text) for text in texts]
