"""The judge's anonymized, shuffled prompt, without a network."""

from smoa_services.judge.prompt import judge_messages, labels, shuffled_order

CONVERSATION = [{"role": "user", "content": "Pick a prime."}]


def test_shuffle_is_deterministic_per_seed_and_pass() -> None:
    assert shuffled_order(6, 42, 0) == shuffled_order(6, 42, 0)
    assert sorted(shuffled_order(6, 42, 0)) == list(range(6))


def test_shuffle_differs_across_seeds_and_passes() -> None:
    by_seed = {tuple(shuffled_order(6, seed, 0)) for seed in range(8)}
    by_pass = {tuple(shuffled_order(6, 42, p)) for p in range(8)}
    assert len(by_seed) > 1 and len(by_pass) > 1


def test_seed_and_pass_streams_do_not_collide() -> None:
    assert shuffled_order(8, 1, 0) != shuffled_order(8, 0, 1)


def test_candidates_are_labelled_in_the_order_shown() -> None:
    user = judge_messages(CONVERSATION, ["Seven.", "Nine."], decide=False)[1]["content"]
    assert '<response label="1">\nSeven.\n</response>' in user
    assert '<response label="2">\nNine.\n</response>' in user
    assert '{"scores": {"1": <score>, "2": <score>}}' in user
    assert "decision" not in user


def test_fused_prompt_asks_for_a_decision() -> None:
    user = judge_messages(CONVERSATION, ["Seven."], decide=True)[1]["content"]
    assert '"decision": "stop" or "continue"' in user


def test_empty_candidate_is_shown_as_such() -> None:
    user = judge_messages(CONVERSATION, [""], decide=False)[1]["content"]
    assert "(empty response)" in user


def test_labels_are_plain_numbers() -> None:
    assert labels(3) == ["1", "2", "3"]
