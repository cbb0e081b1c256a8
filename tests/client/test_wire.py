"""The SDK's reading of the wire: google.rpc error details through its own mirrors (checked against the
googleapis messages the services send), and forward compatibility with a newer server."""

from __future__ import annotations

from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from smoa import Mode, Stage, StopReason, Token
from smoa.errors import STATUS_DETAILS_KEY, FieldViolation, StatusDetails, status_details
from smoa.from_wire import event, result
from smoa.v1 import orchestrator_pb2


def packed(message: object) -> any_pb2.Any:
    found = any_pb2.Any()
    found.Pack(message)  # type: ignore[arg-type]
    return found


def test_the_mirrors_read_what_googleapis_writes() -> None:
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="k", description="too big"),
            error_details_pb2.BadRequest.FieldViolation(field="messages[0].content", description="empty"),
        ]
    )
    info = error_details_pb2.ErrorInfo(
        reason="LLM_UNAVAILABLE", domain="smoa.dev", metadata={"backend": "big"}
    )
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500_000_000))
    status = status_pb2.Status(
        code=code_pb2.UNAVAILABLE,
        message="down",
        details=[packed(bad), packed(info), packed(retry), packed(duration_pb2.Duration(seconds=1))],
    )
    details = status_details([("other", "x"), (STATUS_DETAILS_KEY, status.SerializeToString())])
    assert details == StatusDetails(
        violations=[FieldViolation("k", "too big"), FieldViolation("messages[0].content", "empty")],
        reason="LLM_UNAVAILABLE",
        domain="smoa.dev",
        metadata={"backend": "big"},
        retry_after=2.5,
    )


def test_a_missing_or_broken_trailer_gives_empty_details() -> None:
    assert status_details(None) == StatusDetails()
    assert status_details([("grpc-message", "x")]) == StatusDetails()
    assert status_details([(STATUS_DETAILS_KEY, b"\xff\xff\xff")]) == StatusDetails()


def test_values_newer_than_the_client_do_not_break_it() -> None:
    response = orchestrator_pb2.GenerateResponse(text="t", stop_reason=99, mode=0)  # type: ignore[arg-type]
    converted = result(response)
    assert (converted.stop_reason, converted.mode) == (StopReason.UNSPECIFIED, Mode.SMOA)
    progress = orchestrator_pb2.GenerateStreamResponse(progress=orchestrator_pb2.Progress(stage=42))  # type: ignore[arg-type]
    assert getattr(event(progress), "stage", None) == Stage.UNSPECIFIED
    assert event(orchestrator_pb2.GenerateStreamResponse(token="a")) == Token("a")
    assert event(orchestrator_pb2.GenerateStreamResponse()) is None
