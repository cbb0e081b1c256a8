"""The moderator's prompt: the conversation, the answers kept from the layer just finished, and the
question the SMoA moderator answers: is another round of revision worth its cost?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from smoa_services.ensemble.decision import DECISION_FIELDS

# Short on purpose, as the judge's: said once, in the system message.
SYSTEM = (
    "You moderate assistants who revise their best answers in rounds. Stop when an answer is correct and "
    "complete, or the answers agree and another round would only repeat them; continue when they are "
    "wrong, incomplete or contradict each other. Reply with one JSON object only."
)

REPLY_FORMAT = f"{{{DECISION_FIELDS}}}"


def moderator_messages(
    conversation: Sequence[Mapping[str, str]], kept: Sequence[str], layer: int, max_layers: int
) -> list[dict[str, str]]:
    history = "\n".join(f"<{m['role']}>\n{m['content'].strip()}\n</{m['role']}>" for m in conversation)
    answers = "\n".join(
        f'<answer number="{i}">\n{text.strip() or "(empty answer)"}\n</answer>'
        for i, text in enumerate(kept, 1)
    )
    round_over = f"Best answers after round {layer} of at most {max_layers}:"
    user = f"{history}\n\n{round_over}\n{answers}\n\nJSON: {REPLY_FORMAT}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
