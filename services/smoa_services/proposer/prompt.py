"""The proposer's prompt: its role as the system prompt and, from layer 2 on, the previous layer's kept
answers with an instruction to synthesize a better one (the MoA aggregate-and-synthesize step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_ROLE = "You are a helpful, accurate assistant."

SYNTHESIZE = (
    "You are given several responses to the latest user message, written by other assistants. "
    "Evaluate them critically: some may be wrong, incomplete or biased, and agreeing with each other does "
    "not make them right. Use what is correct and useful in them, fix what is not, and write one answer "
    "that is better than each of them. Do not copy a response, do not mention that you were given "
    "responses, and answer the user directly."
)


def references_block(references: Sequence[str]) -> str:
    # Numbered and fenced by tags so a response that itself contains headings or numbered lists cannot
    # blur where one reference ends and the next begins.
    body = "\n".join(
        f'<response number="{i}">\n{text.strip()}\n</response>' for i, text in enumerate(references, 1)
    )
    return f"{SYNTHESIZE}\n\nResponses:\n{body}"


def proposer_messages(
    conversation: Sequence[Mapping[str, str]], role: str, references: Sequence[str], form: str = ""
) -> list[dict[str, str]]:
    """One system message (role, then the references, then the conversation's own leading system
    messages, then what form the answer must take), then the rest of the conversation. Merged into one
    because many chat templates accept a single system message, and only at the start."""
    parts = [role.strip() or DEFAULT_ROLE]
    if references:
        parts.append(references_block(references))
    rest = list(conversation)
    while rest and rest[0]["role"] == "system":
        parts.append(rest.pop(0)["content"])
    if form:
        parts.append(form)
    return [{"role": "system", "content": "\n\n".join(parts)}, *({**m} for m in rest)]
