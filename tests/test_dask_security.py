"""A TLS scheduler address without the client's certificates fails with a clear error, at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simsales.cli import main

pytest.importorskip("distributed")

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def test_a_tls_scheduler_without_client_certificates_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("CA_FILE", "CLIENT__CERT", "CLIENT__KEY"):
        monkeypatch.delenv(f"DASK_DISTRIBUTED__COMM__TLS__{name}", raising=False)
    start = time.monotonic()
    result = CliRunner().invoke(
        main, ["run", str(BASELINE), "-r", "1", "--scheduler", "tls://127.0.0.1:9"]
    )
    assert result.exit_code == 1 and time.monotonic() - start < 10
    assert "is a TLS scheduler" in result.output
    assert "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT" in result.output
    assert "Traceback" not in result.output
