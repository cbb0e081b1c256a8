"""LLM access: every call goes through the OpenAI SDK to an OpenAI-compatible endpoint."""

from smoa_services.llm.chat_model import ChatModel, ModelChoice
from smoa_services.llm.completion import Completion
from smoa_services.rpc.failure import LLMRejected, LLMUnavailable

__all__ = ["ChatModel", "Completion", "LLMRejected", "LLMUnavailable", "ModelChoice"]
