"""The SDK's reading of the wire: google.rpc error details through its own mirrors (checked against the
googleapis messages the services send), and forward compatibility with a newer server."""

from __future__ import annotations

from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from smoa import AgentFailure, Degradation, FailureKind, Mode, Stage, StopReason, Token
from smoa.errors import STATUS_DETAILS_KEY, FieldViolation, StatusDetails, status_details
from smoa.from_wire import event, result
from smoa.v1 import common_pb2, orchestrator_pb2


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


def test_degradations_and_lost_proposers_are_read() -> None:
    kind = orchestrator_pb2.AgentFailure
    response = orchestrator_pb2.GenerateResponse(
        text="t",
        stop_reason=common_pb2.STOP_REASON_DEADLINE,
        layers=[
            orchestrator_pb2.LayerTrace(
                layer=1,
                failures=[
                    kind(
                        id="L1-P2",
                        index=2,
                        kind=kind.KIND_CUT_OFF,
                        elapsed=duration_pb2.Duration(nanos=250_000_000),
                    ),
                    kind(id="L1-P3", index=3, kind=kind.KIND_FAILED, code="UNAVAILABLE", detail="down"),
                    kind(id="L1-P4", index=4, kind=99),  # type: ignore[arg-type]
                ],
                moderator_fallback=True,
            )
        ],
        degraded=True,
        degradations=[orchestrator_pb2.Degradation(stage="proposer", layer=1, reason="3 of 5 lost")],
    )
    converted = result(response)
    assert converted.stop_reason is StopReason.DEADLINE
    assert converted.degraded and converted.degradations == [Degradation("proposer", 1, "3 of 5 lost")]
    assert converted.layers[0].failures == [
        AgentFailure("L1-P2", 2, FailureKind.CUT_OFF, elapsed=0.25),
        AgentFailure("L1-P3", 3, FailureKind.FAILED, "UNAVAILABLE", "down"),
        AgentFailure("L1-P4", 4, FailureKind.UNSPECIFIED),
    ]
    assert converted.layers[0].moderator_fallback
    assert not result(orchestrator_pb2.GenerateResponse(text="t")).degraded
