"""LLM access: every call goes through the OpenAI SDK to an OpenAI-compatible endpoint."""

from smoa_services.failure import LLMRejected, LLMUnavailable
from smoa_services.llm.chat_model import ChatModel, ModelChoice
from smoa_services.llm.completion import Completion

__all__ = ["ChatModel", "Completion", "LLMRejected", "LLMUnavailable", "ModelChoice"]
