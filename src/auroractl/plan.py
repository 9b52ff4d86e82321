"""What a change is, as data: ops build these, ``runner.apply`` previews, confirms,
executes and records them. Three kinds, one pipeline:

- ``Plan``: static SQL statements (DDL, small DML), run with lock_timeout retries.
- ``Job``: a long change done in small committed batches, resumable after a crash
  (backfills, fills, erasures, refresh loops). Its ``preview`` Plan shows the SQL a
  batch runs; ``run`` does the work and reports progress.
- ``AwsAction``: AWS API calls (parameter groups, alarms, snapshots, teardown). Its
  preview lists each call with its request; the ledger records resource ids and region.

This module imports nothing of auroractl's, so ops can build changes without
depending on the runner, output or rich.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One statement. ``locks`` names the relations it locks, to name blockers on timeout."""

    sql: str
    params: Any = None
    autocommit: bool = False
    comment: str = ""
    locks: tuple[str, ...] = ()
    txn: str = ""  # consecutive steps with the same label share one transaction


class _Change:
    """What the three kinds share: the ledger's hash of ``fingerprint()`` and the
    head of a preview."""

    kind: str
    command: str
    summary: str

    def fingerprint(self) -> str:
        raise NotImplementedError

    def sql_hash(self) -> str:
        import hashlib

        return hashlib.sha256(self.fingerprint().encode()).hexdigest()

    def _preview_head(self) -> dict[str, Any]:
        return {"kind": self.kind, "command": self.command, "summary": self.summary}


@dataclass(frozen=True)
class Plan(_Change):
    command: str
    summary: str
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()
    kind = "sql"

    @property
    def empty(self) -> bool:
        return not self.steps

    def sql_text(self) -> str:
        return "\n\n".join(s.sql.rstrip(";") + ";" for s in self.steps)

    def fingerprint(self) -> str:
        """What the ledger hashes: the SQL text (never parameters, which may hold keys)."""
        return self.sql_text()

    def preview(self) -> dict[str, Any]:
        return {
            **self._preview_head(),
            "notes": list(self.notes),
            "steps": [
                {"sql": s.sql, "params": s.params, "autocommit": s.autocommit, "comment": s.comment}
                for s in self.steps
            ],
        }

    @property
    def size(self) -> int:
        return len(self.steps)


class Progress:
    """What a Job reports while it runs. The runner hands one to ``Job.run``; the
    default does nothing, so ops can run a job without any display."""

    def start(self, total: int | None) -> None:
        """The amount of work, once known (rows, subjects, views)."""

    def advance(self, n: int) -> None:
        """``n`` more units done."""


@dataclass(frozen=True)
class JobResult:
    """What a finished (or stopped) job did. ``payload`` is the job's own report
    (a frozen dataclass), printed by the command; ``remaining`` > 0 means run again."""

    rows: int
    payload: Any = None
    remaining: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Job(_Change):
    """A long change in small committed batches. ``prepare`` (static DDL, may be empty)
    runs first through the same retries; ``run`` does the batches and must be safe to
    interrupt and re-run. ``preview`` is what --dry-run shows and the ledger hashes."""

    command: str
    summary: str
    preview_plan: Plan
    run: Callable[[Progress], JobResult]
    prepare: Plan | None = None
    notes: tuple[str, ...] = ()
    unit: str = "rows"
    kind = "job"

    @property
    def empty(self) -> bool:
        return False

    @property
    def steps(self) -> tuple[Step, ...]:
        before = self.prepare.steps if self.prepare else ()
        return before + self.preview_plan.steps

    @property
    def size(self) -> int:
        return len(self.steps)

    def sql_text(self) -> str:
        return Plan(self.command, self.summary, self.steps).sql_text()

    def fingerprint(self) -> str:
        return self.sql_text()

    def preview(self) -> dict[str, Any]:
        return {
            **Plan(self.command, self.summary, self.steps, self.notes).preview(),
            "kind": self.kind,
            "unit": self.unit,
        }


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call: ``service.operation(**request)``. ``request`` is shown in the
    preview and hashed for the ledger, so it never holds a secret."""

    service: str
    operation: str
    request: dict[str, Any]
    resource: str  # the id of what it changes (cluster, parameter group, alarm, snapshot)
    invoke: Callable[[], Any] = field(repr=False, compare=False, default=lambda: None)

    @classmethod
    def of(cls, client: Any, operation: str, resource: str, **request: Any) -> AwsCall:
        """The call ``client.<operation>(**request)``: what is previewed is what is sent."""
        service = client.meta.service_model.service_name
        return cls(
            service, operation, request, resource, lambda: getattr(client, operation)(**request)
        )

    def describe(self) -> str:
        return f"{self.service}.{self.operation} {self.resource}"


@dataclass(frozen=True)
class AwsAction(_Change):
    command: str
    summary: str
    region: str | None
    calls: tuple[AwsCall, ...] = ()
    notes: tuple[str, ...] = ()
    kind = "aws"

    @property
    def empty(self) -> bool:
        return not self.calls

    @property
    def size(self) -> int:
        return len(self.calls)

    @property
    def resources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.resource for c in self.calls))

    def fingerprint(self) -> str:
        import json

        return json.dumps(
            [[c.service, c.operation, c.request] for c in self.calls], sort_keys=True, default=str
        )

    def preview(self) -> dict[str, Any]:
        return {
            **self._preview_head(),
            "region": self.region,
            "notes": list(self.notes),
            "calls": [
                {
                    "service": c.service,
                    "operation": c.operation,
                    "resource": c.resource,
                    "request": c.request,
                }
                for c in self.calls
            ],
        }


Change = Plan | Job | AwsAction


@dataclass(frozen=True)
class Outcome:
    """What the runner did with a change; the one thing a mutating command prints."""

    command: str
    summary: str
    status: str  # applied | dry-run | nothing-to-do | incomplete
    kind: str = "sql"
    statements: int = 0
    duration_s: float = 0.0
    lock_retries: int = 0
    ledger_id: int | str | None = None
    notes: tuple[str, ...] = ()
    rows: int | None = None
    resources: tuple[str, ...] = ()
    region: str | None = None
    preview: dict[str, Any] | None = None  # the plan, on dry-run
    result: Any = None  # a Job's own report
