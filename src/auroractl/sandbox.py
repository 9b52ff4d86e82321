"""A local PostgreSQL cluster: the sandbox target, and the test suite's throwaway server.

PostgreSQL refuses to run as root, so when we are root the server (initdb, pg_ctl)
runs as the ``postgres`` OS user and its directory is owned by that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from auroractl.errors import ConnectionFailed, Precondition

ADMIN_ROLE = "aurora_admin"  # shaped like Aurora's master user: NOSUPERUSER CREATEDB CREATEROLE
SUPERUSER = "postgres"
DBNAME = "escola"
SERVER_USER = "postgres"  # OS user that runs the server when we are root

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",  # TCP only: socket paths under temp dirs get too long
    "shared_preload_libraries": "'pg_stat_statements'",
    "track_activity_query_size": "4096",
    "log_min_duration_statement": "1000",
    "track_io_timing": "on",
    "max_connections": "100",
    "shared_buffers": "256MB",
    "max_wal_size": "4GB",
    # A throwaway cluster: durability buys nothing here and costs minutes of fsync.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def is_root() -> bool:
    return os.geteuid() == 0


def find_bindir() -> Path:
    """AURORACTL_PG_BINDIR, else pg_config --bindir, PATH, the newest /usr/lib/postgresql/*/bin."""
    install = (
        "install them, e.g. `apt-get install postgresql-15` or `brew install "
        "postgresql@15`, or point auroractl at a server with --dsn"
    )
    explicit = os.environ.get("AURORACTL_PG_BINDIR")
    if explicit:
        if (Path(explicit) / "initdb").is_file() and (Path(explicit) / "pg_ctl").is_file():
            return Path(explicit)
        raise Precondition(f"AURORACTL_PG_BINDIR={explicit} has no initdb/pg_ctl: {install}")
    pg_config = shutil.which("pg_config")
    candidates: list[Path] = []
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(out))
        except (subprocess.SubprocessError, OSError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)

    def version(p: str) -> float:
        try:
            return float(Path(p).parent.name)
        except ValueError:
            return 0.0

    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    raise Precondition(f"no PostgreSQL server binaries found (initdb, pg_ctl): {install}")


def default_dir(configured: str | None = None) -> Path:
    """The sandbox's data directory: the configured one, else a per-user default."""
    if configured:
        return Path(configured).expanduser()
    if is_root():  # /root is not traversable by the server's OS user
        return Path("/var/lib/auroractl/sandbox")
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "auroractl" / "sandbox"


def conninfo(port: int, dbname: str = DBNAME, user: str = ADMIN_ROLE) -> str:
    return f"host=127.0.0.1 port={port} dbname={dbname} user={user}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in ``root`` (data in root/data, log in root/postgres.log)."""

    root: Path
    port: int
    bindir: Path | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        if self.bindir is None:
            self.bindir = find_bindir()

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "postgres.log"

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").is_file()

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        kwargs: dict = {}
        if is_root():
            kwargs = {"user": SERVER_USER, "group": pwd.getpwnam(SERVER_USER).pw_gid, "cwd": "/tmp"}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False, **kwargs
        )

    def _prepare_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if is_root():
            pw = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)

    def init(self) -> None:
        if self.initialized:
            return
        self._prepare_root()
        res = self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if res.returncode != 0:
            raise ConnectionFailed(f"initdb failed: {' '.join(res.stderr.split())[-300:]}")
        conf = "\n".join(f"{k} = {v}" for k, v in SERVER_SETTINGS.items())
        with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            fh.write(f"\n# auroractl sandbox\nport = {self.port}\n{conf}\n")
        for extra in self._optional_preloads():
            with open(self.datadir / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
                fh.write(extra)

    def _optional_preloads(self) -> list[str]:
        """pg_cron when its package is installed (Aurora preloads it via the parameter group)."""
        libdir = (
            self._run("pg_config", "--pkglibdir").stdout.strip()
            if (self.bindir / "pg_config").exists()
            else ""
        )
        if libdir and Path(libdir, "pg_cron.so").exists():
            return [
                "shared_preload_libraries = 'pg_stat_statements,pg_cron'\n"
                f"cron.database_name = '{DBNAME}'\n"
            ]
        return []

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        return self._run("pg_ctl", "-D", str(self.datadir), "status").returncode == 0

    def check_port(self) -> None:
        """Refuse before initdb or a start when another server has the port: nothing is
        created for a cluster that could not start."""
        if not self.is_running() and port_in_use(self.port):
            raise ConnectionFailed(
                f"port {self.port} on 127.0.0.1 is already in use: set AURORACTL_SANDBOX_PORT "
                "or [sandbox] port in auroractl.toml"
            )

    def start(self) -> None:
        if self.is_running():
            return
        self.check_port()
        res = self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60", "start"
        )
        if res.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-400:] if self.logfile.exists() else ""
            raise ConnectionFailed(f"PostgreSQL did not start: {' '.join(tail.split())}")
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                self._run(
                    "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), timeout=10
                ).returncode
                == 0
            ):
                return
            time.sleep(0.2)
        raise ConnectionFailed(f"PostgreSQL on port {self.port} did not accept connections")

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def conninfo(self, dbname: str = DBNAME, user: str = ADMIN_ROLE) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"
