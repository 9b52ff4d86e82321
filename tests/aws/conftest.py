"""moto as a real HTTP server; boto3 reaches it through endpoint_url (never patched)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AURORACTL_AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


@pytest.fixture(autouse=True)
def ledger_file(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """AWS changes made without a database connection are recorded here, never in the
    developer's own ~/.local/state."""
    path = tmp_path / "state" / "operations.jsonl"
    monkeypatch.setenv("AURORACTL_LEDGER_FILE", str(path))
    return path


def ledger_rows(path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
