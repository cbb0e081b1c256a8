"""The moderator's prompt: the conversation, the answers kept from the layer just finished, and the
question the SMoA moderator answers: is another round of revision worth its cost?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SYSTEM = (
    "You are the moderator of a panel of assistants that answer a user in rounds, each round revising "
    "the best answers of the previous one. After each round you decide whether to stop, because an "
    "answer is already correct and complete, or to continue, because another round is likely to make "
    "the answer clearly better. Reply with a single JSON object and nothing else."
)

REPLY_FORMAT = '{"decision": "stop" or "continue", "reason": "<one sentence>"}'


def moderator_messages(
    conversation: Sequence[Mapping[str, str]], kept: Sequence[str], layer: int, max_layers: int
) -> list[dict[str, str]]:
    history = "\n".join(f"<{m['role']}>\n{m['content'].strip()}\n</{m['role']}>" for m in conversation)
    answers = "\n".join(
        f'<answer number="{i}">\n{text.strip() or "(empty answer)"}\n</answer>'
        for i, text in enumerate(kept, 1)
    )
    user = (
        f"The conversation:\n{history}\n\n"
        f"Round {layer} of at most {max_layers} has finished. The best answers to the latest user "
        f"message so far:\n{answers}\n\n"
        "Stop when an answer is correct, complete and clear, or when the answers agree and another round "
        "would only repeat them. Continue when they are wrong, incomplete, or contradict each other. "
        f"Reply with only this JSON object:\n{REPLY_FORMAT}"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
