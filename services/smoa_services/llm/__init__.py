"""LLM access: every call goes through the OpenAI SDK to an OpenAI-compatible endpoint."""

from smoa_services.llm.chat_model import ChatModel, Completion, LLMRejected, LLMUnavailable, ModelChoice

__all__ = ["ChatModel", "Completion", "LLMRejected", "LLMUnavailable", "ModelChoice"]
