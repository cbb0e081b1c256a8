"""A request body the gateway refuses, and how OpenAI would say so."""

from __future__ import annotations


class BadField(ValueError):
    """A body the gateway refuses: OpenAI's error shape names the field in `param`, as the client named it;
    `code` is OpenAI's machine-readable one where it has one."""

    status = 400

    def __init__(self, param: str, message: str, code: str | None = None):
        super().__init__(message)
        self.param = param
        self.code = code


class UnknownModel(BadField):
    """OpenAI answers a model it does not serve with 404 `model_not_found`."""

    status = 404

    def __init__(self, message: str):
        super().__init__("model", message, "model_not_found")
