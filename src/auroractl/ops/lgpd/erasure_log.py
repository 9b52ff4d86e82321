"""The erasure log: every erasure, kept outside the database, so that a restore cannot
bring an erased subject back (``lgpd reapply`` replays it on a restored copy).

``[lgpd] erasure_log`` is an S3 URI (``s3://bucket/prefix``) or a local directory. It
holds one ``salt`` object, created once, and one object per erasure under ``erasures/``,
named by the erasure's receipt id and never overwritten (S3 ``If-None-Match: *``, a local
hard link that fails if the name exists): the subject table and key, the receipt id and
times, and HMAC-SHA-256 hashes, keyed by the salt, of the values the erasure removed from
the subject's identifying columns. Never a personal value: the hashes let a restored copy
be checked ("no erased subject is present") and are useless without the log's salt, which
never goes into the database. Whoever can read the log can test a guess against a hash,
so it is kept as tightly as the backups are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from auroractl.errors import AuroraCtlError, InvalidInput, NotLogged, Precondition

VERSION = 1
SALT = "salt"
ERASURES = "erasures"
HASH_PREFIX = "hmac-sha256:"
_S3 = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?$")


@dataclass(frozen=True)
class Entry:
    """One erasure as the log keeps it."""

    subject_table: str
    subject_id: str
    receipt_id: str
    erased_at: str  # ISO time, UTC
    requested_at: str | None = None
    identifiers: dict[str, str] = field(default_factory=dict)  # column -> salted hash
    database: str = ""  # where it was erased (for people; reapply does not filter on it)
    v: int = VERSION

    def document(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode()

    @classmethod
    def parse(cls, raw: bytes, where: str) -> Entry:
        try:
            data = json.loads(raw)
            entry = cls(
                subject_table=str(data["subject_table"]),
                subject_id=str(data["subject_id"]),
                receipt_id=str(uuid.UUID(str(data["receipt_id"]))),
                erased_at=str(data["erased_at"]),
                requested_at=data.get("requested_at"),
                identifiers={str(k): str(v) for k, v in (data.get("identifiers") or {}).items()},
                database=str(data.get("database", "")),
                v=int(data.get("v", VERSION)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Precondition(f"erasure log entry {where} is malformed") from None
        if entry.v > VERSION:
            raise Precondition(f"erasure log entry {where} is version {entry.v}: upgrade auroractl")
        return entry


def hash_value(salt: bytes, column: str, value: Any) -> str:
    """The salted hash of one identifying value (whitespace and case folded, so that a
    restored copy's spelling of the same value matches)."""
    text = " ".join(str(value).split()).casefold()
    digest = hmac.new(salt, f"{column}\0{text}".encode(), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class ErasureLog:
    """The interface both backends share."""

    uri: str

    def salt(self, create: bool) -> bytes | None:
        """The log's salt; created once (``create``), else None when the log is empty."""
        raise NotImplementedError

    def append(self, entry: Entry) -> bool:
        """Write ``entry`` once: False when an entry with its receipt id is already there."""
        raise NotImplementedError

    def entries(self) -> list[Entry]:
        """Every entry, in the order of their names."""
        raise NotImplementedError

    def _name(self, receipt_id: str) -> str:
        return f"{ERASURES}/{uuid.UUID(receipt_id)}.json"


def open_log(
    spec: str, base: Path | None = None, region: str | None = None, endpoint_url: str | None = None
) -> ErasureLog:
    """``s3://bucket/prefix`` or a directory (relative to ``base``, the config's folder)."""
    spec = spec.strip()
    if spec.startswith("s3:"):
        m = _S3.match(spec)
        if not m:
            raise InvalidInput(f"[lgpd] erasure_log {spec!r} is not an s3://bucket/prefix URI")
        return S3Log(m.group(1), (m.group(2) or "").strip("/"), region, endpoint_url)
    if not spec or "://" in spec:
        raise InvalidInput(f"[lgpd] erasure_log {spec!r}: an s3://bucket/prefix or a directory")
    path = Path(spec).expanduser()
    return LocalLog(path if path.is_absolute() else (base or Path.cwd()) / path)


# ---------------------------------------------------------------- a local directory


class LocalLog(ErasureLog):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = str(root)

    def _fail(self, what: str, exc: OSError) -> Precondition:
        return Precondition(f"erasure log {self.uri}: cannot {what}: {exc.strerror or exc}")

    def _create(self, path: Path, data: bytes) -> bool:
        """Write ``data`` under ``path`` unless it exists: a private temporary file, synced,
        then hard-linked to its name (atomic, and failing if the name is taken)."""
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def salt(self, create: bool) -> bytes | None:
        path = self.root / SALT
        try:
            if create and not path.exists():
                (self.root / ERASURES).mkdir(parents=True, exist_ok=True, mode=0o700)
                self._create(path, secrets.token_hex(32).encode())
            return bytes.fromhex(path.read_text().strip()) if path.exists() else None
        except OSError as exc:
            raise self._fail("read or create its salt", exc) from None
        except ValueError:
            raise Precondition(f"erasure log {self.uri}: its salt is malformed") from None

    def append(self, entry: Entry) -> bool:
        try:
            return self._create(self.root / self._name(entry.receipt_id), entry.document())
        except OSError as exc:
            raise NotLogged(
                f"erasure log {self.uri}: cannot write the entry of receipt "
                f"{entry.receipt_id}: {exc.strerror or exc}"
            ) from None

    def entries(self) -> list[Entry]:
        folder = self.root / ERASURES
        try:
            names = sorted(folder.glob("*.json")) if folder.is_dir() else []
            return [Entry.parse(p.read_bytes(), str(p)) for p in names]
        except OSError as exc:
            raise self._fail("read its entries", exc) from None


# ---------------------------------------------------------------- S3


class S3Log(ErasureLog):
    def __init__(
        self, bucket: str, prefix: str, region: str | None, endpoint_url: str | None
    ) -> None:
        self.bucket, self.prefix = bucket, prefix
        self.uri = f"s3://{bucket}/{prefix}".rstrip("/")
        self._where = (region, endpoint_url)
        self._client: Any = None

    @property
    def s3(self) -> Any:
        if self._client is None:
            from auroractl import aws

            self._client = aws.client("s3", *self._where)
        return self._client

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _error(self, exc: Exception, what: str, cls: type[AuroraCtlError] | None = None) -> Any:
        from auroractl import aws

        err = aws.aws_error(exc, f"erasure log {self.uri}: {what}")
        return cls(str(err)) if cls is not None and isinstance(err, AuroraCtlError) else err

    def _put_new(self, name: str, data: bytes) -> bool:
        """PutObject with If-None-Match: * — S3 refuses to replace an existing object."""
        from auroractl import aws

        try:
            self.s3.put_object(
                Bucket=self.bucket, Key=self._key(name), Body=data, IfNoneMatch="*",
                ContentType="application/json",
            )  # fmt: skip
        except Exception as exc:
            if aws.error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def _get(self, name: str) -> bytes | None:
        from auroractl import aws

        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise

    def salt(self, create: bool) -> bytes | None:
        try:
            raw = self._get(SALT)
            if raw is None and create:
                self._put_new(SALT, secrets.token_hex(32).encode())
                raw = self._get(SALT)  # ours, or the one a concurrent writer made first
        except Exception as exc:
            raise self._error(exc, "read or create its salt") from None
        try:
            return None if raw is None else bytes.fromhex(raw.decode().strip())
        except ValueError:
            raise Precondition(f"erasure log {self.uri}: its salt is malformed") from None

    def append(self, entry: Entry) -> bool:
        try:
            return self._put_new(self._name(entry.receipt_id), entry.document())
        except Exception as exc:
            what = f"cannot write the entry of receipt {entry.receipt_id}"
            raise self._error(exc, what, NotLogged) from None

    def entries(self) -> list[Entry]:
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(f"{ERASURES}/")
            )
            keys = sorted(o["Key"] for page in pages for o in page.get("Contents", ()))
            return [
                Entry.parse(self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read(),
                            f"s3://{self.bucket}/{k}")
                for k in keys if k.endswith(".json")
            ]  # fmt: skip
        except AuroraCtlError:
            raise
        except Exception as exc:
            raise self._error(exc, "cannot read its entries") from None
