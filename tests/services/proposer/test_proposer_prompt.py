"""The proposer's prompt, without a network."""

from smoa_services.proposer.prompt import DEFAULT_ROLE, SYNTHESIZE, proposer_messages

USER = {"role": "user", "content": "Why is the sky blue?"}


def test_role_is_the_system_prompt_without_references() -> None:
    messages = proposer_messages([USER], "You are a physicist.", [])
    assert messages == [{"role": "system", "content": "You are a physicist."}, USER]


def test_empty_role_means_a_plain_assistant() -> None:
    assert proposer_messages([USER], "  ", [])[0]["content"] == DEFAULT_ROLE


def test_references_are_listed_after_the_synthesis_instruction() -> None:
    system = proposer_messages([USER], "You are a physicist.", ["Rayleigh scattering.", "Dust."])[0]
    assert system["role"] == "system"
    content = system["content"]
    assert content.startswith("You are a physicist.")
    assert SYNTHESIZE in content
    assert content.index(SYNTHESIZE) < content.index("Rayleigh scattering.") < content.index("Dust.")
    assert '<response number="1">\nRayleigh scattering.\n</response>' in content
    assert '<response number="2">\nDust.\n</response>' in content


def test_leading_system_messages_of_the_conversation_merge_into_one() -> None:
    conversation = [{"role": "system", "content": "Answer in French."}, USER]
    messages = proposer_messages(conversation, "You are a physicist.", ["Rayleigh."])
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"].endswith("Answer in French.")


def test_later_turns_are_kept_in_order() -> None:
    conversation = [
        USER,
        {"role": "assistant", "content": "Scattering."},
        {"role": "user", "content": "More?"},
    ]
    assert proposer_messages(conversation, "", [])[1:] == conversation
