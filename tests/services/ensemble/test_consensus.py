"""The moderator's cheap agreement check, without a network."""

import pytest

from smoa_services.ensemble.consensus import agreement_of, mean_pairwise

PARIS = "The capital of France is Paris, a city on the Seine known for the Louvre and the Eiffel Tower."


def test_agreeing_answer_keys_are_consensus() -> None:
    found = agreement_of(["So the answer is 42.", "We get \\boxed{42}", "42"], threshold=0.75)
    assert found.consensus and found.agreement == 1.0 and found.reason == "answers agree on 42"


def test_a_minority_key_below_the_threshold_is_not_consensus() -> None:
    found = agreement_of(["The answer is 42.", "The answer is 42.", "The answer is 41."], threshold=0.75)
    assert not found.consensus and found.agreement == pytest.approx(2 / 3)


def test_share_at_the_threshold_is_consensus() -> None:
    texts = ["The answer is (B)."] * 3 + ["The answer is (C)."]
    assert agreement_of(texts, threshold=0.75).consensus


def test_agreement_by_keys_names_the_answers_that_hold_the_key() -> None:
    texts = ["The answer is (C).", "The answer is (B).", "So the answer is (B).", "The answer is (B)!"]
    assert agreement_of(texts, threshold=0.75).holders == (1, 2, 3)
    # Agreement by similarity has no key to hold.
    assert agreement_of([PARIS, PARIS], threshold=0.75).holders == ()


def test_near_identical_texts_without_keys_are_consensus() -> None:
    found = agreement_of([PARIS, PARIS.replace("Eiffel Tower.", "Eiffel Tower!")], threshold=0.75)
    assert found.consensus and found.reason == "answers are near-identical"
    assert found.agreement == 1.0


def test_different_texts_are_not_consensus() -> None:
    found = agreement_of([PARIS, "Lyon is the gastronomic capital, famous for its bouchons."], threshold=0.75)
    assert not found.consensus and 0.0 <= found.agreement < 0.75


def test_disagreeing_keys_veto_textual_similarity() -> None:
    derivation = "Add the two amounts, carry the one, check the units and the answer is "
    found = agreement_of([derivation + "42", derivation + "43"], threshold=0.75)
    assert not found.consensus and found.agreement == 0.5


def test_a_single_answer_is_not_consensus() -> None:
    found = agreement_of(["The answer is 42."], threshold=0.5)
    assert not found.consensus and found.agreement == 0.0


def test_empty_answers_never_agree() -> None:
    assert not agreement_of(["", ""], threshold=0.5).consensus


def test_mean_pairwise_ignores_the_diagonal() -> None:
    assert mean_pairwise([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]]) == pytest.approx(0.4)
