"""`GET /v1/models` and `GET /v1/models/{id}`: the modes, as OpenAI lists models."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from smoa_services.gateway.bad_field import UnknownModel
from smoa_services.gateway.chat_request import MODES
from smoa_services.gateway.error_responses import refused

router = APIRouter()


@router.get("/v1/models")
async def models() -> dict[str, Any]:
    return {"object": "list", "data": [_model(name) for name in MODES]}


@router.get("/v1/models/{model:path}")
async def model(model: str) -> Response:
    if model.partition(":")[0] not in MODES:
        return refused(UnknownModel(f"the model {model[:40]!r} does not exist: one of {', '.join(MODES)}"))
    return JSONResponse(_model(model))


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "smoa"}
