"""Configuration: ``auroractl.toml`` + environment -> Settings, and target resolution.

Target precedence: --dsn > AURORACTL_DSN > --profile / AURORACTL_PROFILE / the file's
``default_profile`` > libpq PG* variables > the local sandbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from auroractl.errors import InvalidInput, NotFound

CONFIG_NAME = "auroractl.toml"
LIBPQ_TARGET_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


@dataclass(frozen=True)
class Profile:
    """A named target. Passwords are never stored here: use secret_arn, iam or password_env."""

    name: str
    dsn: str | None = None
    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    user: str | None = None
    sslmode: str | None = None
    password_env: str | None = None
    cluster_id: str | None = None
    region: str | None = None
    secret_arn: str | None = None
    iam: bool = False
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Settings:
    lock_timeout: str = "2s"
    statement_timeout: str = "30min"
    lock_retries: int = 5
    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    sandbox_dir: str | None = None
    sandbox_port: int = 54329
    path: Path | None = None
    sections: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """A raw config section (``[health]``, ``[lgpd]`` ...) for the feature that owns it."""
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Target:
    """Where commands connect. ``conninfo`` never carries a password."""

    source: str
    conninfo: str
    profile: Profile | None = None
    is_sandbox: bool = False

    @property
    def cluster_id(self) -> str | None:
        return self.profile.cluster_id if self.profile else None


def config_path(cwd: Path | None = None) -> Path | None:
    """AURORACTL_CONFIG, else ./auroractl.toml, else the user config dir."""
    explicit = os.environ.get("AURORACTL_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise NotFound(f"config file {path} (from AURORACTL_CONFIG) does not exist")
        return path
    local = (cwd or Path.cwd()) / CONFIG_NAME
    if local.is_file():
        return local
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = base / "auroractl" / CONFIG_NAME
    return user if user.is_file() else None


def load(path: Path | None = None) -> Settings:
    """Read the config file (if any) and apply AURORACTL_* environment overrides."""
    path = path if path is not None else config_path()
    data: dict[str, Any] = {}
    if path is not None:
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"cannot read {path}: {exc}") from exc
    core = data.get("auroractl", {})
    sandbox = data.get("sandbox", {})
    profiles = {name: _profile(name, body) for name, body in data.get("profiles", {}).items()}
    env = os.environ
    return Settings(
        lock_timeout=env.get("AURORACTL_LOCK_TIMEOUT", core.get("lock_timeout", "2s")),
        statement_timeout=env.get(
            "AURORACTL_STATEMENT_TIMEOUT", core.get("statement_timeout", "30min")
        ),
        lock_retries=_integer(
            env.get("AURORACTL_LOCK_RETRIES", core.get("lock_retries", 5)),
            "lock_retries (AURORACTL_LOCK_RETRIES or [auroractl] lock_retries)",
            0,
            20,
        ),
        default_profile=core.get("default_profile"),
        profiles=profiles,
        sandbox_dir=env.get("AURORACTL_SANDBOX_DIR", sandbox.get("dir")),
        sandbox_port=_integer(
            env.get("AURORACTL_SANDBOX_PORT", sandbox.get("port", 54329)),
            "the sandbox port (AURORACTL_SANDBOX_PORT or [sandbox] port)",
            1,
            65535,
        ),
        path=path,
        sections={k: v for k, v in data.items() if k not in ("auroractl", "profiles")},
    )


def _integer(value: Any, what: str, low: int, high: int) -> int:
    """A whole number from the environment or the config file, within its bounds."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{what} {text!r} is not a whole number from {low} to {high}")
    return int(text)


def _profile(name: str, body: dict[str, Any]) -> Profile:
    known = {f.name for f in fields(Profile)} - {"name"}
    unknown = set(body) - known
    if "password" in body:
        raise InvalidInput(
            f"profile {name!r} has a password in the config file; "
            "use password_env, secret_arn or iam = true instead"
        )
    if unknown:
        raise InvalidInput(f"profile {name!r} has unknown keys: {', '.join(sorted(unknown))}")
    return Profile(name=name, **body)


def resolve_target(
    settings: Settings, dsn: str | None = None, profile: str | None = None
) -> Target:
    """Apply the documented precedence and return where to connect."""
    if dsn:
        return Target(source="--dsn", conninfo=dsn)
    if os.environ.get("AURORACTL_DSN"):
        return Target(source="AURORACTL_DSN", conninfo=os.environ["AURORACTL_DSN"])
    name = profile or os.environ.get("AURORACTL_PROFILE") or settings.default_profile
    if name:
        if name not in settings.profiles:
            where = settings.path or "no auroractl.toml found"
            raise NotFound(f"profile {name!r} is not defined ({where})")
        chosen = settings.profiles[name]
        return Target(source=f"profile {name}", conninfo=profile_conninfo(chosen), profile=chosen)
    if any(os.environ.get(v) for v in LIBPQ_TARGET_VARS):
        return Target(source="PG* environment", conninfo="")
    from auroractl import sandbox

    return Target(
        source="sandbox", conninfo=sandbox.conninfo(settings.sandbox_port), is_sandbox=True
    )


def profile_conninfo(p: Profile) -> str:
    from psycopg.conninfo import make_conninfo

    parts = {
        k: v
        for k, v in {
            "host": p.host,
            "port": p.port,
            "dbname": p.dbname,
            "user": p.user,
            "sslmode": p.sslmode or ("require" if p.iam else None),
        }.items()
        if v is not None
    }
    return make_conninfo(p.dsn or "", **parts)
