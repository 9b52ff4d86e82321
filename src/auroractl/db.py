"""Connections: one place that knows about DSNs, profiles, secrets and session settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from auroractl.config import Settings, Target
from auroractl.errors import ConnectionFailed, InvalidInput, Precondition

if TYPE_CHECKING:
    import psycopg

MAINTENANCE_OPTION = "auroractl.maintenance=on"
_DURATION = re.compile(r"^(\d+)(us|ms|s|min|h|d)?$")
_MS = {"us": 0.001, "": 1, "ms": 1, "s": 1_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
# The longest each timeout may be. PostgreSQL reads 0 (and anything under 1ms) as "no
# limit": a DDL queued that long behind a reader blocks every query queued behind it, and
# its backend stays in the lock queue after the client is gone. A lock wait is retried
# with backoff, so a minute per attempt is already long; a statement past a day is not
# maintenance (an index build on a very large table fits).
CAPS = {"lock_timeout": ("60s", 60_000), "statement_timeout": ("24h", 86_400_000)}
_SOURCES = {
    "lock_timeout": "--lock-timeout, AURORACTL_LOCK_TIMEOUT or lock_timeout in auroractl.toml",
    "statement_timeout": (
        "--statement-timeout, AURORACTL_STATEMENT_TIMEOUT or statement_timeout in auroractl.toml"
    ),
}


def check_duration(value: str, what: str) -> str:
    """Timeouts end up in libpq ``options``: accept only PostgreSQL duration syntax, and
    only a bound (not 0, at most ``CAPS``): checked before any connection is opened."""
    text = str(value).strip()  # auroractl.toml may hold a bare number
    m = _DURATION.match(text)
    if not m:
        raise InvalidInput(f"{what} {text!r} is not a duration like 2s, 500ms or 5min")
    ms = int(m[1]) * _MS[m[2] or ""]
    cap_text, cap = CAPS[what]
    if 1 <= ms <= cap:
        return text
    problem = "means no timeout at all to PostgreSQL" if ms < 1 else "is implausibly long"
    raise InvalidInput(
        f"{what} {text!r} {problem}: give one from 1ms to {cap_text} ({_SOURCES[what]})"
    )


def connect(
    target: Target,
    settings: Settings,
    *,
    autocommit: bool = True,
    secrets: Mapping[str, str] | None = None,
    connect_timeout: int | None = None,
) -> psycopg.Connection:
    """Open a connection to ``target`` with auroractl's session settings.

    Autocommit by default: reads see fresh data and hold no locks, and changes go
    through ``runner.apply``, which opens its own transactions.

    ``secrets``: custom settings (``auroractl.encryption_key``) the session gets in its
    startup packet, so that SQL reads them with ``current_setting`` and no statement
    the server may log holds them (see ``secret_options``); checked on arrival.
    """
    import psycopg

    lock = check_duration(settings.lock_timeout, "lock_timeout")
    stmt = check_duration(settings.statement_timeout, "statement_timeout")
    kwargs: dict[str, Any] = {
        "application_name": "auroractl",
        # 10 s, or longer for a Serverless v2 instance that may have to resume first.
        "connect_timeout": connect_timeout or 10,
        # UTC so that timestamptz partition bounds read and render the same everywhere.
        # auroractl.maintenance: the owner's maintenance policy of `rls enable` (tables
        # under FORCE ROW LEVEL SECURITY) lets auroractl's own work see every row.
        "options": f"-c lock_timeout={lock} -c statement_timeout={stmt} -c TimeZone=UTC "
        f"-c {MAINTENANCE_OPTION}" + secret_options(secrets or {}),
    }
    check_conninfo(target)
    kwargs.update(_credentials(target))
    try:
        conn = psycopg.connect(target.conninfo, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        if _MALFORMED.search(str(exc)):  # libpq refused a value before any network I/O
            raise _malformed(target, exc) from None
        hint = "start it with: auroractl sandbox up" if target.is_sandbox else None
        raise ConnectionFailed(
            f"cannot connect to {describe(target)}: {one_line(exc)}", hint=hint
        ) from None
    if secrets:
        try:
            _check_secrets(conn, secrets)
        except BaseException:
            conn.close()
            raise
    return conn


# What libpq and the server split ``options`` on: a backslash keeps the next byte.
_SPLIT = re.compile(r"([\\ \t\n\r\f\v])")
_SECRET_NAME = re.compile(r"^auroractl\.[a-z_]+$")
MAX_SECRET = 1024  # a startup packet is at most 10,000 bytes


def secret_options(secrets: Mapping[str, str]) -> str:
    """`` -c name=value`` for each secret, escaped the way libpq documents for
    ``options``. The startup packet is never statement-logged, and ``log_connections``
    shows only user, database and application name; a custom setting is in no
    ``pg_settings`` or ``SHOW ALL`` and no other session can read it."""
    out = []
    for name, value in secrets.items():
        if not _SECRET_NAME.match(name):
            raise ValueError(f"not an auroractl setting: {name!r}")
        if not value or "\0" in value or len(value) > MAX_SECRET:
            raise InvalidInput(f"{name} must be 1-{MAX_SECRET} characters, without NUL")
        escaped = _SPLIT.sub(r"\\\1", value)
        out.append(f" -c {name}={escaped}")
    return "".join(out)


def _check_secrets(conn: psycopg.Connection, secrets: Mapping[str, str]) -> None:
    """Each secret arrived as sent, or refuse: compared by SHA-256, so the value itself is
    never in a statement or its result. A pooler that drops ``options`` (PgBouncer's
    ``ignore_startup_parameters``) leaves it unset; a server encoding other than UTF8
    would read a non-ASCII value as other characters than the ones given."""
    import hashlib

    names = list(secrets)
    got = conn.execute(
        "SELECT encode(sha256(convert_to(current_setting(n, true), 'UTF8')), 'hex') "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS s(n, i) ORDER BY i",
        [names],
    ).fetchall()
    for name, (digest,) in zip(names, got, strict=True):
        if digest is None:
            raise Precondition(
                f"the server did not receive {name} in the connection's startup options "
                "(a connection pooler that drops them?): auroractl gives keys to the "
                "session only there, never in a statement; connect directly to the database"
            )
        if digest != hashlib.sha256(secrets[name].encode()).hexdigest():
            encoding = conn.execute("SHOW server_encoding").fetchone()[0]
            raise Precondition(
                f"{name} reached the session altered (server_encoding {encoding}): "
                "use a key of ASCII characters, like the ones `encrypt keygen` makes"
            )


# libpq's own checks of option values ('invalid integer value "x" for connection option
# "port"', 'invalid sslmode value: "x"'): input errors, not connection failures.
_MALFORMED = re.compile(r"\binvalid [\w ]*value\b|\binvalid port number\b")


def _malformed(target: Target, exc: BaseException) -> InvalidInput:
    """libpq quotes the string it could not parse: it may hold a password, so it is left out."""
    text = one_line(exc).replace(" ".join(target.conninfo.split()), "<the connection string>")
    return InvalidInput(f"malformed connection string from {target.source}: {text}")


def check_conninfo(target: Target) -> None:
    """A connection string that cannot name a server is bad input (exit 2), found before
    connecting: it must parse, and each port must be a number from 1 to 65535."""
    ports = conninfo_params(target).get("port")
    for port in (ports or "").split(","):
        if port.strip() and not (port.strip().isdigit() and 1 <= int(port) <= 65535):
            raise InvalidInput(
                f"malformed connection string from {target.source}: port {port.strip()!r} "
                "is not a number from 1 to 65535"
            )


def _credentials(target: Target) -> dict[str, Any]:
    """Password (and user) from the profile's source; libpq handles PGPASSWORD/.pgpass."""
    import os

    from auroractl import aws

    p = target.profile
    if p is None:
        return {}
    if p.password_env:
        if p.password_env not in os.environ:
            raise InvalidInput(
                f"profile {p.name!r}: environment variable {p.password_env} is unset"
            )
        return {"password": os.environ[p.password_env]}
    if p.secret_arn:
        user, password = aws.secret_credentials(p.secret_arn, p.region, p.endpoint_url)
        return {"password": password, **({"user": user} if user and not p.user else {})}
    if p.iam:
        params = conninfo_params(target)
        host, user = params.get("host"), params.get("user")
        if not host or not user:
            raise InvalidInput(f"profile {p.name!r}: iam = true needs host and user")
        port = int(params.get("port") or 5432)
        return {"password": aws.iam_token(host, port, user, p.region, p.endpoint_url)}
    return {}


def with_dbname(target: Target, dbname: str) -> Target:
    """The same server and credentials, another database (e.g. where pg_cron lives)."""
    from dataclasses import replace

    from psycopg.conninfo import make_conninfo

    return replace(target, conninfo=make_conninfo(target.conninfo, dbname=dbname))


def conninfo_params(target: Target) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return {k: str(v) for k, v in conninfo_to_dict(target.conninfo).items()}
    except Exception as exc:
        raise _malformed(target, exc) from None


def describe(target: Target) -> str:
    """source (host:port/dbname as user); the password is never included."""
    return f"{target.source} ({endpoint(target)})"


def endpoint(target: Target) -> str:
    """host:port/dbname as user."""
    import os

    params = conninfo_params(target)
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or "(default db)"
    user = params.get("user") or os.environ.get("PGUSER")
    who = f" as {user}" if user else ""
    return f"{host}:{port}/{dbname}{who}"


def masked(target: Target) -> dict[str, str]:
    """Resolved connection parameters for display, password masked."""
    params = conninfo_params(target)
    if "password" in params:
        params["password"] = "****"
    p = target.profile
    if p and (p.secret_arn or p.iam or p.password_env):
        params["password"] = (
            f"(Secrets Manager {p.secret_arn})"
            if p.secret_arn
            else "(IAM auth token)"
            if p.iam
            else f"(from ${p.password_env})"
        )
    return params


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]
