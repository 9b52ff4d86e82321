"""The real PostGraphile 5 (tools/graphql, `npm ci`) serving a directory that
`auroractl graphql config` wrote, and a GraphQL client with HS256 tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from auroractl.sandbox import free_port

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "graphql"
BIN = TOOLS / "node_modules" / ".bin"
SECRET = "test-secret-for-postgraphile-0123456789abcdef"


def require_postgraphile() -> None:
    if not (BIN / "postgraphile").exists() or not (BIN / "node").exists():
        pytest.skip(f"PostGraphile is not installed: npm ci --prefix {TOOLS} (.ci/run does)")


def token(claims: dict, secret: str = SECRET) -> str:
    """An HS256 JWT (RFC 7519), signed here so the test does not trust the server's code."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(
        json.dumps({"aud": "postgraphile", "exp": int(time.time()) + 600, **claims}).encode()
    )
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(sig)}"


class Server:
    """``npm start`` in ``directory`` (its config: the authenticator's DSN and the secret
    from the environment, the port rewritten to a free one)."""

    def __init__(self, directory: Path, database_url: str, tmp: Path) -> None:
        self.port = free_port()
        config = directory / "graphile.config.mjs"
        text = config.read_text()
        config.write_text(text.replace("port: 5678", f"port: {self.port}"))
        link = directory / "node_modules"
        if not link.exists():
            link.symlink_to(TOOLS / "node_modules")
        secret_file = tmp / "jwt-secret"
        secret_file.write_text(SECRET)
        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "DATABASE_URL": database_url,
            "JWT_SECRET_FILE": str(secret_file),
        }
        self.log = tmp / "postgraphile.log"
        self.proc = subprocess.Popen(
            [str(BIN / "postgraphile"), "-C", str(config)],
            cwd=directory,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait()

    def _wait(self) -> None:
        for _ in range(600):
            if self.proc.poll() is not None:
                raise AssertionError(f"PostGraphile exited: {self.log.read_text()}")
            if "Server listening" in self.log.read_text():
                return
            time.sleep(0.1)
        raise AssertionError(f"PostGraphile did not start: {self.log.read_text()}")

    def query(self, text: str, tok: str | None = None, variables: dict | None = None) -> dict:
        headers = {"content-type": "application/json"}
        if tok:
            headers["authorization"] = f"Bearer {tok}"
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", body, headers, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return json.loads(err.read() or b"{}") | {"status": err.code}

    def fields(self, type_name: str, input_type: bool = False) -> set[str]:
        key = "inputFields" if input_type else "fields"
        data = self.query(f'{{ __type(name: "{type_name}") {{ {key} {{ name }} }} }}')["data"]
        return {f["name"] for f in (data["__type"] or {}).get(key) or []}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
