"""Where the runner records each change: one row per applied (or failed) change.

Database changes, and AWS changes made while connected, go to
``auroractl.operations`` on the target. AWS changes made without a database
connection (a paused cluster must not be woken to record a snapshot) go to a local
JSON-lines file. Neither ever holds a secret: the SQL is hashed, parameters are not
stored, AWS requests are reduced to resource ids and region.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from auroractl import templates
from auroractl.errors import AuroraCtlError

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Entry:
    command: str
    summary: str
    kind: str  # sql | job | aws
    sha256: str
    statements: int
    duration_ms: int
    outcome: str  # applied | failed
    error: str | None = None
    rows: int | None = None
    resources: tuple[str, ...] = ()
    region: str | None = None


def _warn(message: str) -> None:
    # Imported here: ops read the local ledger (history --local) and never import output.
    from auroractl import output

    output.warn(message)


class Ledger(Protocol):
    def record(self, entry: Entry) -> int | str | None: ...


def _who() -> dict[str, str | None]:
    import getpass
    import socket

    from auroractl import __version__

    try:
        os_user = getpass.getuser()
    except Exception:  # no passwd entry (containers): the ledger still gets a row
        os_user = None
    return {"os_user": os_user, "client_host": socket.gethostname(), "version": __version__}


class DatabaseLedger:
    """``auroractl.operations``; a ledger that cannot be written never hides the outcome."""

    def __init__(self, conn: psycopg.Connection | None) -> None:
        self.conn = conn

    def record(self, entry: Entry) -> int | None:
        import psycopg

        conn = self.conn
        if conn is None or conn.closed or conn.broken:
            return None
        try:
            from auroractl.ops.shared import state

            state.ensure(conn)
            row = conn.execute(
                templates.load("runner/record.sql"),
                {
                    **dataclasses.asdict(entry),
                    "resources": list(entry.resources) or None,
                    **_who(),
                },
            ).fetchone()
            return row[0] if row else None
        except (psycopg.Error, AuroraCtlError) as exc:
            _warn(f"ledger not written: {' '.join(str(exc).split())[:200]}")
            return None


def ledger_file() -> Path:
    """$AURORACTL_LEDGER_FILE, else $XDG_STATE_HOME/auroractl/operations.jsonl."""
    explicit = os.environ.get("AURORACTL_LEDGER_FILE")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "auroractl" / "operations.jsonl"


class FileLedger:
    """Local JSON lines, for changes made without a database connection."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or ledger_file()

    def record(self, entry: Entry) -> str | None:
        import datetime as dt

        row = {
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            **dataclasses.asdict(entry),
            "resources": list(entry.resources),
            **_who(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
            with self.path.open(encoding="utf-8") as f:
                n = sum(1 for _ in f)
        except OSError as exc:
            _warn(f"ledger not written: {exc}")
            return None
        return f"local#{n}"


def read_file(
    limit: int = 20, command: str | None = None, path: Path | None = None
) -> list[dict[str, object]]:
    """The local ledger's rows, newest first (an absent file: none)."""
    from auroractl.errors import InvalidInput

    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    path = path or ledger_file()
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for i, row in enumerate(rows, 1):
        row["id"] = f"local#{i}"
    if command:
        rows = [r for r in rows if str(r.get("command", "")).startswith(command)]
    return rows[::-1][:limit]
