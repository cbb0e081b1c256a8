"""Every error the gateway answers, in OpenAI's shape: a refused body (bad_field.py), and the framework's
own (an unknown path, a wrong method, a body it could not validate), so no client ever reads FastAPI's."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from smoa_services.gateway.bad_field import BadField
from smoa_services.gateway.http_errors import body


def refused(e: BadField) -> JSONResponse:
    return JSONResponse(body(str(e), "invalid_request_error", e.param or None, e.code), status_code=e.status)


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_exception(http: Request, e: StarletteHTTPException) -> Response:
        """Routing's own errors (an unknown path, a wrong method)."""
        message = f"{e.detail}: {http.method} {http.url.path}"
        return JSONResponse(
            body(message, "invalid_request_error"), status_code=e.status_code, headers=e.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(http: Request, e: RequestValidationError) -> Response:
        return JSONResponse(
            body(f"invalid request: {e.errors()}"[:500], "invalid_request_error"), status_code=400
        )
