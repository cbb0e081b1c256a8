"""A peer's status as the orchestrator passes it on: kept, except where the peer refused the service's
own credentials, which no end caller can mend."""

from __future__ import annotations

import logging

import grpc
import pytest

from smoa_services.rpc.failure import PeerFailure


def peer_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED])
def test_a_peer_refusing_the_services_credentials_is_smoas_misconfiguration(
    code: grpc.StatusCode, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        failure = PeerFailure(
            "proposer", peer_error(code, "the bearer token is not one this service accepts")
        )
    assert failure.code == grpc.StatusCode.INTERNAL and failure.reason == "PEER_CREDENTIALS_REFUSED"
    assert "misconfigured" in str(failure) and failure.retry_after is None
    # The operator reads why; the caller is not told their key is bad.
    assert (
        "refused this service's credentials" in caplog.text and "not one this service accepts" in caplog.text
    )


def test_other_peer_statuses_are_kept() -> None:
    failure = PeerFailure("judge", peer_error(grpc.StatusCode.INVALID_ARGUMENT, "k: too large"))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.metadata["peer"] == "judge"
