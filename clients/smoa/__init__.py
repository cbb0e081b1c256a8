"""smoa: Sparse Mixture-of-Agents over gRPC, from Python.

    from smoa import SmoaClient
    with SmoaClient("127.0.0.1:50051") as client:
        result = client.generate("What is 6 x 7?", n=4, k=2)
        print(result.text, result.stop_reason, result.cost.total)

What a request asks for (mode, n, k, layers, roles, models, judging, budget, ...) is a `GenerateOptions`,
given as `generate(question, options)`, as keyword arguments, or both (the keywords win).

`AsyncSmoaClient` is the asyncio twin. Results and stream events are plain Python objects; failures are
`SmoaError` subclasses carrying the service's error details. The generated contract is ``smoa.v1``.
"""

from smoa.async_client import AsyncSmoaClient
from smoa.client import SmoaClient
from smoa.connection import DEFAULT_TARGET, DEFAULT_TIMEOUT_SECONDS, TLS
from smoa.errors import (
    CancelledError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    PermissionDeniedError,
    ResourceExhaustedError,
    SmoaError,
    StatusDetails,
    UnauthenticatedError,
    UnavailableError,
)
from smoa.events import Progress, Stage, StreamEvent, Summary, Token
from smoa.health import ServingStatus
from smoa.options import GenerateOptions
from smoa.ranking import Aggregation, Selection
from smoa.request import JsonAnswer, Message, ModelSettings, Skips
from smoa.result import (
    AgentFailure,
    Candidate,
    Cost,
    Decision,
    Degradation,
    FailureKind,
    Layer,
    Mode,
    Result,
    StageCost,
    Step,
    StopReason,
    Usage,
)
from smoa.tools import Tool, ToolCall
from smoa.usage import CallerUsage

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TARGET",
    "DEFAULT_TIMEOUT_SECONDS",
    "TLS",
    "AgentFailure",
    "Aggregation",
    "AsyncSmoaClient",
    "CallerUsage",
    "CancelledError",
    "Candidate",
    "Cost",
    "DeadlineExceededError",
    "Decision",
    "Degradation",
    "FailedPreconditionError",
    "FailureKind",
    "FieldViolation",
    "GenerateOptions",
    "InvalidArgumentError",
    "JsonAnswer",
    "Layer",
    "Message",
    "Mode",
    "ModelSettings",
    "PermissionDeniedError",
    "Progress",
    "ResourceExhaustedError",
    "Result",
    "Selection",
    "ServingStatus",
    "Skips",
    "SmoaClient",
    "SmoaError",
    "Stage",
    "StageCost",
    "StatusDetails",
    "Step",
    "StopReason",
    "StreamEvent",
    "Summary",
    "Token",
    "Tool",
    "ToolCall",
    "UnauthenticatedError",
    "UnavailableError",
    "Usage",
]
