"""How the orchestrator's failures reach the caller: a rich grpc.Status naming what failed."""

from __future__ import annotations

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from smoa_services.llm import LLMRejected, LLMUnavailable
from smoa_services.llm_status import llm_failure_status
from smoa_services.orchestrator.ports import PeerDeadlineExceeded, PeerFailed, PeerUnavailable
from smoa_services.status import InvalidArgument, invalid_argument, unavailable


def _plain(code: int, message: str) -> grpc.Status:
    return rpc_status.to_status(status_pb2.Status(code=code, message=message))


def status_of(error: Exception) -> grpc.Status | None:
    """The status for a failure the orchestrator understands; None for anything else (a bug: let grpc
    report it as UNKNOWN with the traceback in the logs)."""
    if isinstance(error, InvalidArgument):
        return invalid_argument(error.violations)
    if isinstance(error, PeerUnavailable):
        return unavailable("PEER_UNAVAILABLE", str(error), peer=error.peer)
    if isinstance(error, LLMUnavailable | LLMRejected):
        return llm_failure_status(error)
    if isinstance(error, PeerDeadlineExceeded):
        return _plain(code_pb2.DEADLINE_EXCEEDED, str(error))
    if isinstance(error, PeerFailed):
        return _plain(code_pb2.INTERNAL, str(error))
    return None
