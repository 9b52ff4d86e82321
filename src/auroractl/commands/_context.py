"""Per-invocation state set by the root callback (global options) and helpers to use it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import config, output

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.shared.datamap import DataMap
    from auroractl.plan import Change, Outcome
    from auroractl.runner import Options


@dataclass
class Globals:
    dsn: str | None = None
    profile: str | None = None
    lock_timeout: str | None = None
    statement_timeout: str | None = None


_globals = Globals()


def configure(**values: object) -> None:
    global _globals
    _globals = Globals(**values)  # type: ignore[arg-type]


def override_lock_timeout(value: str | None) -> None:
    """A command's own --lock-timeout takes the place of the global one for its session."""
    if value is not None:
        _globals.lock_timeout = value


def settings() -> config.Settings:
    s = config.load()
    overrides = {
        k: v
        for k, v in (
            ("lock_timeout", _globals.lock_timeout),
            ("statement_timeout", _globals.statement_timeout),
        )
        if v
    }
    return replace(s, **overrides) if overrides else s


def target(s: config.Settings | None = None) -> config.Target:
    return config.resolve_target(s or settings(), _globals.dsn, _globals.profile)


@contextlib.contextmanager
def connect(
    dbname: str | None = None,
    *,
    secrets: dict[str, str] | None = None,
    connect_timeout: int | None = None,
) -> Iterator[psycopg.Connection]:
    """Connect to the resolved target (or another database on the same server);
    say so on stderr when it is the sandbox. ``secrets``, ``connect_timeout``: see
    ``db.connect``."""
    from auroractl import db

    s = settings()
    t = target(s)
    if dbname:
        t = db.with_dbname(t, dbname)
    if t.is_sandbox:
        output.info(f"No target configured: using the local sandbox ({db.endpoint(t)}).")
    if t.source == "--dsn" and "password" in db.conninfo_params(t):
        output.warn(
            "--dsn carries a password, visible to `ps` and in shell history: use "
            "PGPASSWORD, ~/.pgpass or a profile (secret_arn, iam, password_env)"
        )
    with db.connect(t, s, secrets=secrets, connect_timeout=connect_timeout) as conn:
        yield conn


def runner_options(dry_run: bool, yes: bool) -> Options:
    from auroractl import db
    from auroractl.runner import Options

    s = settings()
    return Options(
        dry_run=dry_run,
        yes=yes,
        target_label=db.describe(target(s)),
        lock_retries=s.lock_retries,
    )


def apply(
    conn: psycopg.Connection | None, change: Change, dry_run: bool, yes: bool, **kw: Any
) -> Outcome:
    """Hand a change to the runner with this invocation's options; print with
    ``output.result(outcome)``."""
    from auroractl import runner

    return runner.apply(conn, change, runner_options(dry_run, yes), **kw)


def apply_planned(
    planner: Callable[[psycopg.Connection], Change], dry_run: bool, yes: bool
) -> None:
    """The common change: planned on a connection, applied by the runner, its outcome
    printed."""
    with connect() as conn:
        output.result(apply(conn, planner(conn), dry_run, yes))


def map_path(override: str | None = None) -> Path:
    """Where this database's data map is: --map, else [map] file (relative to
    auroractl.toml), else the sandbox's own map when the target is the sandbox (written
    by `sandbox up`), else ./auroractl-map.toml."""
    from auroractl.ops.shared import datamap

    s = settings()
    section = s.section("map")
    if not override and section.get("file") is None and target(s).is_sandbox:
        from auroractl.ops import sandbox

        return sandbox.map_path(s)
    base = s.path.parent if s.path is not None else None
    return datamap.path_for(section, override, base)


def data_map() -> DataMap | None:
    """This database's reviewed data map, or None when it has none (yet)."""
    from auroractl.ops.shared import datamap

    path = map_path()
    return datamap.load(path) if path.is_file() else None


def require_data_map() -> DataMap:
    """This database's data map; Precondition naming ``auroractl map propose`` when it
    has none (a command never falls back to the demo schema's names)."""
    from auroractl.ops.shared import datamap

    return datamap.require(map_path())
