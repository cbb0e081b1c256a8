"""The committed generated code is what protos/ generates today."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_generated_code_has_not_drifted() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "protos" / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_enums_follow_buf_style() -> None:
    from smoa.v1 import common_pb2, orchestrator_pb2, proposer_pb2

    for enum in [
        *common_pb2.DESCRIPTOR.enum_types_by_name.values(),
        *orchestrator_pb2.DESCRIPTOR.enum_types_by_name.values(),
        *proposer_pb2.DESCRIPTOR.enum_types_by_name.values(),
    ]:
        assert enum.values[0].number == 0
        assert enum.values[0].name.endswith("_UNSPECIFIED"), enum.name
