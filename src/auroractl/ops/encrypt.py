"""Column encryption with pgcrypto: resumable backfill, status, finalize, rotate, keygen.

The key comes from AURORACTL_ENCRYPTION_KEY or Secrets Manager and reaches the
database only in the startup packet of the sessions that use it, as a custom setting
that SQL reads with current_setting (``ops.shared.keys``): never in a statement, a bind
parameter, argv, the ledger, logs or errors. The jobs and status therefore take
connections (or a ``connect`` callable) opened with ``keys.settings(key)``.

pgcrypto options (``OPTIONS``): ``cipher-algo=aes256`` and ``s2k-mode=1`` (salted, one
hash round). The default ``s2k-mode=3`` iterates the passphrase hash tens of thousands
of times per row: that protects low-entropy human passwords, while our key is 256
random bits, so it buys no security and costs most of the time (bench/encrypt_backfill.py).

Rows written during a backfill: a BEFORE UPDATE trigger clears the ciphertext of a row
whose plaintext changes without a new ciphertext, and the backfill ends with catch-up
passes until no row is left with plaintext but no ciphertext. Rows the application
writes after the backfill are caught by the next run (status shows them).

The table's own triggers do not fire for the batches (``Triggers``, ``check_triggers``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import AwsError, InvalidInput, NotFound, Precondition
from auroractl.ops.shared import keys
from auroractl.ops.shared.batching import check_batching, run_workers
from auroractl.ops.shared.catalog import SchemaNamed
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

OPTIONS = "cipher-algo=aes256, s2k-mode=1"
KEY_ENV = "AURORACTL_ENCRYPTION_KEY"
NEW_KEY_ENV = "AURORACTL_NEW_ENCRYPTION_KEY"
SCHEMA = "auroractl"
DECRYPT = (SCHEMA, "encrypt_try_decrypt")
INVALIDATE = (SCHEMA, "encrypt_invalidate")
INTEGER_TYPES = ("smallint", "integer", "bigint")
PH = {n: f"%({n})s" for n in ("after", "hi", "limit", "sample")}
MIN_KEY_LENGTH = 16
MAX_KEY_LENGTH = 1024


# ---------------------------------------------------------------- keys


def key_from(
    secret: str | None,
    env: str = KEY_ENV,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> str:
    """The key from Secrets Manager (SecretString, or its "key" field) or the environment."""
    if secret:
        from auroractl import aws

        sm = aws.client("secretsmanager", region, endpoint_url)
        try:
            value = sm.get_secret_value(SecretId=secret)["SecretString"]
        except Exception as exc:  # botocore errors carry no secret material
            if not aws.is_aws_error(exc):
                raise
            raise AwsError(f"cannot read secret {secret}: {_one_line(exc)}") from None
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            import json

            data = json.loads(value)
            if isinstance(data, dict) and isinstance(data.get("key"), str):
                value = data["key"]
        where = f"secret {secret}"
    else:
        value = os.environ.get(env, "")
        where = env
        if not value:
            raise InvalidInput(
                f"no encryption key: set {env} or pass a Secrets Manager ARN",
                hint="create one with: auroractl encrypt keygen --secret-name NAME",
            )
    if not MIN_KEY_LENGTH <= len(value) <= MAX_KEY_LENGTH:
        raise InvalidInput(
            f"the key from {where} must be {MIN_KEY_LENGTH}-{MAX_KEY_LENGTH} characters"
        )
    if "\0" in value:
        raise InvalidInput(f"the key from {where} holds a NUL character")
    return value


def check_new_key(key: str, new_key: str) -> None:
    """rotate's refusal, the same in a dry run and a real one."""
    if key and key == new_key:
        raise InvalidInput("the new key is the same as the current key")


@dataclass(frozen=True)
class KeygenResult:
    name: str
    arn: str
    bits: int


KEY_DESCRIPTION = "auroractl column encryption key (pgcrypto, 256 random bits, base64)"


def keygen_action(name: str, region: str | None = None, endpoint_url: str | None = None):  # type: ignore[no-untyped-def]
    """The change `encrypt keygen` makes: a new Secrets Manager secret holding a random
    256-bit key (base64). The key is generated only when the call runs, so it is in no
    preview, ledger or output."""
    from auroractl import aws
    from auroractl.plan import AwsAction, AwsCall

    if not name or len(name) > 512:
        raise InvalidInput("--secret-name must be 1-512 characters")
    sm = aws.client("secretsmanager", region, endpoint_url)

    def create() -> None:
        import base64
        import secrets

        value = base64.b64encode(secrets.token_bytes(32)).decode()
        try:
            sm.create_secret(Name=name, SecretString=value, Description=KEY_DESCRIPTION)
        except Exception as exc:
            raise _keygen_error(exc, name) from None

    request = {"Name": name, "Description": KEY_DESCRIPTION, "SecretString": "(generated)"}
    call = AwsCall("secretsmanager", "create_secret", request, name, create)
    return AwsAction("encrypt keygen", f"create the key secret {name}", region, (call,))


def _keygen_error(exc: Exception, name: str) -> Exception:
    from auroractl import aws

    if aws.is_aws_error(exc) and aws.error_code(exc) == "ResourceExistsException":
        return Precondition(f"secret {name} already exists: refusing to overwrite a key")
    return aws.aws_error(exc, f"cannot create secret {name}")


def key_secret(
    name: str, region: str | None = None, endpoint_url: str | None = None
) -> KeygenResult:
    """The secret `keygen` made (its ARN), without reading the key."""
    from auroractl import aws

    sm = aws.client("secretsmanager", region, endpoint_url)
    try:
        arn = sm.describe_secret(SecretId=name)["ARN"]
    except Exception as exc:
        raise aws.aws_error(exc, f"secret {name}") from None
    return KeygenResult(name, arn, 256)


# ---------------------------------------------------------------- target


@dataclass(frozen=True)
class Target(SchemaNamed):
    schema: str
    name: str
    column: str
    target: str
    pk: str
    column_type: str
    target_type: str | None
    has_trigger: bool
    has_decrypt: bool
    has_invalidate: bool
    decrypt_outdated: bool = False  # the helper is the PARALLEL SAFE one of before
    oid: int | None = None

    @property
    def trigger(self) -> str:
        return trigger_name(self.target)

    def ctx(self, **extra: Any) -> dict[str, Any]:
        return {
            "table": self.qualified,
            "pk": self.pk,
            "column": self.column,
            "target": self.target,
            "decrypt": DECRYPT,
            "ph": PH,
            "options": OPTIONS,
            "key_setting": keys.KEY,
            "new_key_setting": keys.NEW_KEY,
            **extra,
        }


def trigger_name(target: str) -> str:
    return f"auroractl_encrypt_{target}"[:63]


def resolve(conn: psycopg.Connection, table: str, column: str, target: str | None) -> Target:
    from auroractl.ops.shared.catalog import resolve as resolve_table

    target = target or f"{column}_encrypted"
    if target == column:
        raise InvalidInput("--target-column must differ from --column")
    oid = resolve_table(conn, table).oid
    row = conn.execute(
        templates.load("encrypt/columns.sql"),
        {"oid": oid, "column": column, "target": target, "trigger": trigger_name(target)},
    ).fetchone()
    pk, pk_types, col_type, target_type, has_trig, has_dec, has_inv, schema, name, old = row
    if col_type is None:
        raise NotFound(f'column "{column}" of "{schema}.{name}" does not exist')
    if col_type not in ("text", "character varying", "character"):
        raise Precondition(
            f"{schema}.{name}.{column} is {col_type}; only text columns are encrypted"
        )
    if target_type not in (None, "bytea"):
        raise Precondition(f"{schema}.{name}.{target} exists and is {target_type}, not bytea")
    if len(pk) != 1 or pk_types[0] not in INTEGER_TYPES:
        raise Precondition(
            f"{schema}.{name} needs a single-column integer primary key for keyset batches"
        )
    return Target(
        schema,
        name,
        column,
        target,
        pk[0],
        col_type,
        target_type,
        has_trig,
        has_dec,
        has_inv,
        decrypt_outdated=old,
        oid=oid,
    )


# ---------------------------------------------------------------- the table's own triggers


@dataclass(frozen=True)
class Triggers:
    """The user triggers an UPDATE of the table fires, and whether the batches skip them.

    Skipped by default: a backfill, finalize or rotate is maintenance, not an application
    change, so a trigger stamping ``last_update`` must leave it alone and an audit trigger
    must not log the ciphertext churn row by row; the run is recorded once, by its ledger
    row in auroractl.operations. Each batch then runs in its own transaction with
    ``SET LOCAL session_replication_role = replica``, only in auroractl's session:
    the application's writes keep firing every trigger meanwhile. In replica mode
    foreign-key triggers do not fire either; the batches write only the ciphertext (or,
    finalize, NULL the plaintext) and never a key column, which ``check_triggers``
    makes sure of. auroractl's own invalidation trigger would not fire for these writes
    in any mode (its WHEN needs a new non-NULL plaintext).
    """

    names: tuple[str, ...] = ()  # ENABLE (origin) triggers: not fired unless --fire-triggers
    always: tuple[str, ...] = ()  # ENABLE ALWAYS: fire in any mode
    fire: bool = False

    @property
    def quiet(self) -> bool:
        """The batches run in replica mode."""
        return bool(self.names) and not self.fire

    def notes(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.quiet:
            out.append(
                f"the table's own trigger(s) {', '.join(self.names)} do not fire: each batch "
                "sets session_replication_role = replica for its transaction (--fire-triggers "
                "fires them); the run is recorded once, in auroractl.operations"
            )
        elif self.names:
            out.append(f"--fire-triggers: {', '.join(self.names)} fire for every row written")
        if self.always:
            out.append(f"ENABLE ALWAYS trigger(s) {', '.join(self.always)} fire for every row")
        return tuple(out)


NO_TRIGGERS = Triggers()


def check_triggers(
    conn: psycopg.Connection, t: Target, writes: str, verb: str, fire: bool = False
) -> Triggers:
    """The preflight of a job writing column ``writes``: the user triggers it would fire,
    and, when they are to be skipped, refused in one line before any change unless this
    role may set session_replication_role and no foreign key holds ``writes``."""
    from auroractl.ops.shared.batching import can_set_replica

    found, fks = conn.execute(
        templates.load("encrypt/triggers.sql"), {"oid": t.oid, "column": writes}
    ).fetchone()
    by_mode = {m: tuple(n for n, e in found if e == m) for m in ("O", "A", "R")}
    triggers = Triggers(by_mode["O"], by_mode["A"], fire)
    if not triggers.quiet:
        return triggers
    names = ", ".join(triggers.names)
    if by_mode["R"]:
        raise Precondition(
            f"{t.label} has ENABLE REPLICA trigger(s) {', '.join(by_mode['R'])}, which would "
            f"fire only because {verb} skips {names}: pass --fire-triggers"
        )
    if fks:
        raise Precondition(
            f"{t.label}.{writes} is in foreign key(s) {', '.join(fks)}, which {verb} would "
            f"not check while it skips the trigger(s) {names}: pass --fire-triggers"
        )
    if not can_set_replica(conn):
        role = conn.execute("SELECT quote_ident(current_user)").fetchone()[0]
        raise Precondition(
            f"{verb} would fire {t.label}'s trigger(s) {names} on every row, and {role} may "
            "not SET session_replication_role to skip them: GRANT SET ON PARAMETER "
            f"session_replication_role TO {role} (on Aurora, a member of rds_superuser may), "
            "or pass --fire-triggers to fire them"
        )
    return triggers


# ---------------------------------------------------------------- prepare


def plan_prepare(conn: psycopg.Connection, t: Target, command: str) -> Plan:
    """pgcrypto, the target column, helper functions and the invalidation trigger (the key
    is not here), in one transaction: a database where pgcrypto cannot be created is left
    as it was."""
    steps: list[Step] = []
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'").fetchone() is None:
        steps.append(
            Step(
                templates.render("encrypt/create_extension.sql.j2"),
                txn="prepare",
                comment="pgcrypto is not installed in this database",
            )
        )
    steps.extend(_helper_steps(t))
    if t.target_type is None:
        steps.append(
            Step(
                templates.render("encrypt/add_column.sql.j2", table=t.qualified, target=t.target),
                locks=(t.label,),
                txn="prepare",
                comment=f"add {t.target} bytea (no rewrite)",
            )
        )
    if not t.has_trigger:
        steps.append(
            Step(
                templates.render(
                    "encrypt/create_trigger.sql.j2",
                    trigger=t.trigger,
                    table=t.qualified,
                    column=t.column,
                    target=t.target,
                    function=INVALIDATE,
                ),
                locks=(t.label,),
                txn="prepare",
                comment="a plaintext change without a new ciphertext clears the stale ciphertext",
            )
        )
    return Plan(command, f"prepare {t.label}.{t.target}", tuple(steps))


def _helper_steps(t: Target) -> list[Step]:
    """auroractl's helper functions, when missing or outdated (CREATE OR REPLACE)."""
    if t.has_decrypt and t.has_invalidate and not t.decrypt_outdated:
        return []
    comment = (
        "replace the decrypt helper declared PARALLEL SAFE: its exception block fails "
        "in a parallel query"
        if t.decrypt_outdated
        else None
    )
    return [
        Step(templates.render("encrypt/create_schema.sql.j2", schema=SCHEMA), txn="prepare"),
        Step(
            templates.render("encrypt/try_decrypt_function.sql.j2", function=DECRYPT),
            txn="prepare",
            comment=comment,
        ),
        Step(
            templates.render("encrypt/invalidate_function.sql.j2", function=INVALIDATE),
            txn="prepare",
        ),
    ]


def _helpers_plan(t: Target, command: str) -> Plan | None:
    """finalize's and rotate's prepare: the helpers brought up to date, if they are not."""
    steps = _helper_steps(t)
    if not steps:
        return None
    return Plan(command, f"update auroractl's helpers for {t.label}", tuple(steps))


def _batch_plan(t: Target, command: str, template: str, summary: str, triggers: Triggers) -> Plan:
    """The statement(s) a job repeats per batch (each its own transaction): what --dry-run
    and the confirmation show and the ledger hashes. The key is the session's setting
    (its name only) in it."""
    from auroractl.ops.shared.batching import REPLICA

    sql = templates.render(template, **t.ctx())
    steps = [Step(sql, comment="repeated per batch, each its own transaction")]
    if triggers.quiet:
        skipped = f"in each batch's transaction: {', '.join(triggers.names)} do not fire"
        steps.insert(0, Step(REPLICA, comment=skipped))
    return Plan(command, summary, tuple(steps), triggers.notes())


def backfill_job(
    connect: Callable[[], psycopg.Connection],
    t: Target,
    prepare: Plan,
    *,
    batch_size: int = 1000,
    sleep_ms: int = 0,
    jobs: int = 1,
    triggers: Triggers = NO_TRIGGERS,
) -> Job:
    """Prepare (column, helpers, trigger), then the resumable batches over ``jobs``
    workers, each on its own ``connect()`` (opened with the key, see the module)."""
    check_batching(batch_size, sleep_ms, jobs)
    summary = (
        f"encrypt {t.label}.{t.column} into {t.target} in batches of "
        f"{batch_size:,} ({jobs} job(s)); the key is a setting of the session, not a parameter"
    )

    def run(progress: Progress) -> JobResult:
        from auroractl.ops.shared.session import maintenance

        with connect() as conn, maintenance(conn):  # every row, as the batches see them
            left = remaining(conn, t)
        progress.start(left)
        r = backfill(
            connect,
            t,
            left=left,
            batch_size=batch_size,
            sleep_ms=sleep_ms,
            jobs=jobs,
            on_progress=progress.advance,
            quiet=triggers.quiet,
        )
        return JobResult(r.encrypted, r, remaining=r.remaining)

    preview = _batch_plan(t, prepare.command, "encrypt/range_batch.sql.j2", summary, triggers)
    return Job(prepare.command, summary, preview, run, prepare=prepare, notes=preview.notes)


def _require_target(t: Target) -> None:
    if t.target_type is None or not t.has_decrypt:
        raise Precondition(
            f"{t.label}.{t.target} does not exist", hint="run encrypt backfill first"
        )


def finalize_job(
    connect: Callable[[], psycopg.Connection],
    t: Target,
    command: str,
    *,
    batch_size: int = 1000,
    triggers: Triggers = NO_TRIGGERS,
) -> Job:
    """NULL the plaintext where the ciphertext decrypts to it; refused rows are ``failed``.
    The batches run on ``connect()``, a session opened with the key."""
    check_batching(batch_size, 0, 1)
    _require_target(t)
    summary = f"NULL {t.label}.{t.column} where {t.target} decrypts to it"

    def run(progress: Progress) -> JobResult:
        with connect() as conn:
            progress.start(remaining_plain(conn, t))
            r = finalize(
                conn, t, batch_size=batch_size, on_progress=progress.advance, quiet=triggers.quiet
            )
        return JobResult(r.cleared, r, failed=r.refused)

    preview = _batch_plan(t, command, "encrypt/finalize_batch.sql.j2", summary, triggers)
    prepare = _helpers_plan(t, command)
    return Job(command, summary, preview, run, prepare=prepare, notes=preview.notes)


def rotate_job(
    connect: Callable[[], psycopg.Connection],
    t: Target,
    command: str,
    *,
    batch_size: int = 1000,
    sleep_ms: int = 0,
    triggers: Triggers = NO_TRIGGERS,
) -> Job:
    """Re-encrypt every ciphertext the old key opens under the new one; resumable. The
    batches run on ``connect()``, a session opened with both keys (``check_new_key``
    first)."""
    check_batching(batch_size, sleep_ms, 1)
    _require_target(t)
    summary = f"re-encrypt {t.label}.{t.target} under the new key"

    def run(progress: Progress) -> JobResult:
        with connect() as conn:
            r = rotate(
                conn,
                t,
                batch_size=batch_size,
                sleep_ms=sleep_ms,
                on_progress=progress.advance,
                quiet=triggers.quiet,
            )
        return JobResult(r.rotated, r)

    preview = _batch_plan(t, command, "encrypt/rotate_batch.sql.j2", summary, triggers)
    prepare = _helpers_plan(t, command)
    return Job(command, summary, preview, run, prepare=prepare, notes=preview.notes)


# ---------------------------------------------------------------- backfill


@dataclass(frozen=True)
class BackfillResult:
    table: str
    column: str
    target: str
    encrypted: int
    batches: int
    passes: int
    seconds: float
    remaining: int

    @property
    def rows_per_second(self) -> float:
        return self.encrypted / self.seconds if self.seconds else 0.0


def remaining(conn: psycopg.Connection, t: Target) -> int:
    """Rows whose plaintext has no ciphertext yet."""
    return conn.execute(templates.render("encrypt/remaining.sql.j2", **t.ctx())).fetchone()[0]


def remaining_plain(conn: psycopg.Connection, t: Target) -> int:
    """Rows that still hold plaintext (what finalize will look at)."""
    return conn.execute(templates.render("encrypt/remaining_plain.sql.j2", **t.ctx())).fetchone()[0]


def _ranges(lo: int, hi: int, jobs: int) -> list[tuple[int, int]]:
    """Disjoint (after, hi] ranges covering [lo, hi]."""
    span = hi - lo + 1
    step = -(-span // jobs)
    out = []
    after = lo - 1
    while after < hi:
        top = min(hi, after + step)
        out.append((after, top))
        after = top
    return out


def backfill(
    connect: Callable[[], psycopg.Connection],
    t: Target,
    *,
    batch_size: int = 1000,
    sleep_ms: int = 0,
    jobs: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
    max_passes: int = 20,
    quiet: bool = False,
    left: int | None = None,
) -> BackfillResult:
    """Encrypt every row with plaintext and no ciphertext; safe to kill and re-run.
    Each worker opens its session with ``connect()``, which must give it the key.
    ``quiet``: the table's own triggers do not fire (see ``Triggers``). ``left``: the
    ``remaining`` count just taken, if any (not counted again)."""
    import psycopg

    from auroractl.ops.shared.batching import batch, row_waits
    from auroractl.ops.shared.session import maintenance

    check_batching(batch_size, sleep_ms, jobs)
    started = time.monotonic()
    range_sql = templates.render("encrypt/range_batch.sql.j2", **t.ctx())
    lock = threading.Lock()
    totals = {"rows": 0, "batches": 0}

    def worker(after: int, hi: int) -> None:
        with connect() as conn, maintenance(conn), row_waits(conn) as patient:
            keys.require(conn)
            while True:
                params = {"after": after, "hi": hi, "limit": batch_size}
                try:
                    with batch(conn, quiet=quiet):
                        top, n = conn.execute(range_sql, params).fetchone()
                except psycopg.errors.LockNotAvailable:  # a writer holds a row of the range
                    with patient():
                        top, n = _skip_locked(conn, t, params, quiet)
                if top is None:
                    break
                after = top
                with lock:
                    totals["rows"] += n
                    totals["batches"] += 1
                if n:
                    on_progress(n)
                if sleep_ms:
                    time.sleep(sleep_ms / 1000)

    passes = 0
    with connect() as conn, maintenance(conn):
        left = remaining(conn, t) if left is None else left
        while left and passes < max_passes:
            passes += 1
            if passes > 1 and left <= batch_size:  # a catch-up with one batch left
                n = _sweep(conn, t, batch_size, quiet)
                totals["rows"] += n
                totals["batches"] += 1
                on_progress(n)
            else:
                lo, hi = conn.execute(
                    templates.render("encrypt/bounds.sql.j2", **t.ctx())
                ).fetchone()
                run_workers(worker, _ranges(lo, hi, max(1, jobs if passes == 1 else 1)))
            before, left = left, remaining(conn, t)
            if left and left >= before:
                time.sleep(0.2)  # only locked rows left: give their writers a moment
    return BackfillResult(
        t.label,
        t.column,
        t.target,
        totals["rows"],
        totals["batches"],
        passes,
        time.monotonic() - started,
        left,
    )


def _skip_locked(
    conn: psycopg.Connection, t: Target, params: dict[str, Any], quiet: bool
) -> tuple[int | None, int]:
    """The same keys as the range batch, rows a writer holds skipped (left to the
    catch-up pass): the last key written or, when none was, where the keys end."""
    from auroractl.ops.shared.batching import batch

    with batch(conn, quiet=quiet):
        top, n = conn.execute(
            templates.render("encrypt/batch.sql.j2", **t.ctx()), params
        ).fetchone()
    if not n:
        top = conn.execute(
            templates.render("encrypt/next_key.sql.j2", **t.ctx()), params
        ).fetchone()[0]
    return top, n


def _sweep(conn: psycopg.Connection, t: Target, batch_size: int, quiet: bool) -> int:
    """The last rows (at most one batch): one scan of the table finds them, where a walk
    over the key range would visit every row again; returns the rows written."""
    from auroractl.ops.shared.batching import batch

    keys.require(conn)
    sql = templates.render("encrypt/batch.sql.j2", **t.ctx(sweep=True))
    with batch(conn, quiet=quiet):
        return conn.execute(sql, {"limit": batch_size}).fetchone()[1]


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class EncryptStatus:
    table: str
    column: str
    target: str
    sampled: int | None
    total: int
    plaintext_only: int
    encrypted_only: int
    both: int
    mismatch: int
    undecryptable: int
    neither: int

    @property
    def problems(self) -> int:
        return self.mismatch + self.undecryptable


def status(conn: psycopg.Connection, t: Target, sample: int | None) -> EncryptStatus:
    """Counts of the column's states. Once the ciphertext column exists, ``conn`` must
    carry the key (see the module)."""
    from auroractl.ops.shared.session import maintenance

    if sample is not None and not 1 <= sample <= 10_000_000:
        raise InvalidInput(f"--sample {sample} is out of range (1-10000000)")
    if t.target_type is None:
        with maintenance(conn):
            total, plain = conn.execute(
                templates.render("encrypt/count_plain.sql.j2", **t.ctx())
            ).fetchone()
        return EncryptStatus(
            t.label, t.column, t.target, sample, total, plain, 0, 0, 0, 0, total - plain
        )
    if not t.has_decrypt:
        raise Precondition("auroractl's decrypt helper is missing", hint="run encrypt backfill")
    keys.require(conn)
    sql = templates.render("encrypt/status.sql.j2", **t.ctx(sample=bool(sample)))
    with maintenance(conn), conn.transaction():
        if t.decrypt_outdated:  # until a backfill, finalize or rotate replaces it
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        row = conn.execute(sql, {"sample": sample}).fetchone()
    total, plain, enc, both, undec, mismatch, neither = row
    return EncryptStatus(
        t.label, t.column, t.target, sample, total, plain, enc, both, mismatch, undec, neither
    )


# ---------------------------------------------------------------- finalize / rotate


@dataclass(frozen=True)
class FinalizeResult:
    table: str
    column: str
    cleared: int
    refused: int
    refused_keys: tuple[str, ...]
    seconds: float


def finalize(
    conn: psycopg.Connection,
    t: Target,
    *,
    batch_size: int = 1000,
    on_progress: Callable[[int], None] = lambda n: None,
    quiet: bool = False,
) -> FinalizeResult:
    """NULL the plaintext of rows whose ciphertext decrypts to exactly it; never loses data.
    ``conn`` carries the key."""
    from auroractl.ops.shared.session import maintenance

    check_batching(batch_size, 0, 1)
    _require_target(t)
    keys.require(conn)
    started = time.monotonic()
    sql = templates.render("encrypt/finalize_batch.sql.j2", **t.ctx())
    with maintenance(conn):
        cleared = _walk(conn, t, sql, {"limit": batch_size}, on_progress, quiet=quiet)
        refused = conn.execute(
            templates.render("encrypt/remaining_plain.sql.j2", **t.ctx())
        ).fetchone()[0]
        refused_keys = [
            r[0]
            for r in conn.execute(
                templates.render("encrypt/refused.sql.j2", **t.ctx()), {"limit": 20}
            )
        ]
    return FinalizeResult(
        t.label, t.column, cleared, refused, tuple(refused_keys), time.monotonic() - started
    )


@dataclass(frozen=True)
class RotateResult:
    table: str
    target: str
    rotated: int
    seconds: float


def rotate(
    conn: psycopg.Connection,
    t: Target,
    *,
    batch_size: int = 1000,
    sleep_ms: int = 0,
    on_progress: Callable[[int], None] = lambda n: None,
    quiet: bool = False,
) -> RotateResult:
    """Re-encrypt under the new key every ciphertext the old key opens; resumable.
    ``conn`` carries both keys."""
    from auroractl.ops.shared.session import maintenance

    check_batching(batch_size, sleep_ms, 1)
    _require_target(t)
    keys.require(conn, keys.KEY, keys.NEW_KEY)
    if keys.same(conn):
        raise InvalidInput("the new key is the same as the current key")
    started = time.monotonic()
    sql = templates.render("encrypt/rotate_batch.sql.j2", **t.ctx())
    params = {"limit": batch_size}
    with maintenance(conn):
        rotated = _walk(conn, t, sql, params, on_progress, sleep_ms, quiet=quiet)
    return RotateResult(t.label, t.target, rotated, time.monotonic() - started)


def _walk(
    conn: psycopg.Connection,
    t: Target,
    sql: str,
    params: dict[str, Any],
    on_progress: Callable[[int], None],
    sleep_ms: int = 0,
    *,
    quiet: bool = False,
) -> int:
    """Run a keyset batch statement (returning its last key and rows changed) from the
    lowest key to the end, each batch its own statement; returns the rows changed."""
    from auroractl.ops.shared.batching import batch

    after = conn.execute(templates.render("encrypt/bounds.sql.j2", **t.ctx())).fetchone()[0]
    after = after - 1 if after is not None else None
    changed = 0
    while after is not None:
        with batch(conn, quiet=quiet):
            top, n = conn.execute(sql, {**params, "after": after}).fetchone()
        changed += n
        if n:
            on_progress(n)
        after = top
        if sleep_ms:
            time.sleep(sleep_ms / 1000)
    return changed


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
