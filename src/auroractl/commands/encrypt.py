"""auroractl encrypt: pgcrypto column encryption with resumable, online batch jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.encrypt import Target
    from auroractl.plan import Job, Outcome

app = opt.group(
    "Encrypt a column with pgcrypto online: backfill, status, finalize, rotate, keygen."
)

ColumnOpt = Annotated[str | None, typer.Option("--column", "-c", help="Plaintext column.")]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target-column", help="bytea column for the ciphertext (default <column>_encrypted)."
    ),
]
FireTriggersOpt = Annotated[
    bool,
    typer.Option(
        "--fire-triggers",
        help="Fire the table's own triggers for every row written (default: they do not fire).",
    ),
]
KeySecretOpt = Annotated[
    str | None,
    typer.Option(
        "--key-secret",
        help="Secrets Manager ARN/name holding the key (default: $AURORACTL_ENCRYPTION_KEY).",
    ),
]


def _aws() -> tuple[str | None, str | None]:
    t = _context.target()
    return (t.profile.region, t.profile.endpoint_url) if t.profile else (None, None)


def _key(secret: str | None, env: str | None = None) -> str:
    from auroractl.ops import encrypt as ops

    region, endpoint = _aws()
    return ops.key_from(secret, env or ops.KEY_ENV, region, endpoint)


def _keyed(key: str, new_key: str | None = None) -> Callable[[], psycopg.Connection]:
    """Opens sessions that carry the key(s) in their startup packet (ops.shared.keys),
    where the jobs' batches and status run: the key is in no statement."""
    from auroractl import db
    from auroractl.ops.shared import keys

    s = _context.settings()
    t = _context.target(s)
    secrets = keys.settings(key, new_key)
    return lambda: db.connect(t, s, secrets=secrets)


def _names(table_arg: str | None, table: str | None, column: str | None) -> tuple[str, str]:
    """The table and column to work on: both given (on the sandbox, the demo's)."""
    from auroractl.commands import _defaults

    demo_table, demo_column = _defaults.DEMO_ENCRYPTED
    return (
        _defaults.table(table_arg, table, demo_table),
        _defaults.demo_default(column, demo_column, "--column"),
    )


def _command(verb: str, table: str, column: str) -> str:
    return f"encrypt {verb} --table {table} --column {column}"


def _apply_job(
    make_job: Callable[[psycopg.Connection, Target], Job],
    name: str,
    column: str,
    target_column: str | None,
    dry_run: bool,
    yes: bool,
) -> tuple[Outcome, Target]:
    """backfill / finalize / rotate: the column resolved, its job run (or previewed) and
    the outcome printed."""
    from auroractl.ops import encrypt as ops

    with _context.connect() as conn:
        t = ops.resolve(conn, name, column, target_column)
        outcome = _context.apply(conn, make_job(conn, t), dry_run, yes)
    output.result(outcome)
    return outcome, t


@app.command()
def backfill(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    column: ColumnOpt = None,
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: opt.BatchOpt = 1000,
    sleep_ms: opt.SleepOpt = 0,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Parallel workers over disjoint key ranges.")
    ] = 1,
    fire_triggers: FireTriggersOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Encrypt a column into a bytea twin in small keyset batches; resumable after kill -9.

    Adds the target column if missing, then encrypts rows whose ciphertext is NULL with
    pgp_sym_encrypt(..., 'cipher-algo=aes256, s2k-mode=1'), each batch one statement and
    one short transaction. A trigger clears the ciphertext of rows whose plaintext changes
    meanwhile, and catch-up passes run until none is left. Exit 1 when rows locked by
    writers are left: run it again.

    The table's own triggers (last_update stamps, audit) do not fire for these writes:
    each batch sets session_replication_role = replica for its transaction, which needs
    rds_superuser on Aurora (GRANT SET ON PARAMETER elsewhere); --fire-triggers fires them.

    Example:
        AURORACTL_ENCRYPTION_KEY=... auroractl encrypt backfill usuarios \\
            --column documento_identidade --batch-size 2000 --jobs 2 --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, sleep_ms, jobs)
    name, column = _names(table_arg, table, column)
    key = "" if dry_run else _key(key_secret)

    def job(conn: psycopg.Connection, t: Target) -> Job:
        triggers = ops.check_triggers(conn, t, t.target, "backfill", fire_triggers)
        prepare = ops.plan_prepare(conn, t, _command("backfill", name, column))
        return ops.backfill_job(
            _keyed(key),
            t,
            prepare,
            batch_size=batch_size,
            sleep_ms=sleep_ms,
            jobs=jobs,
            triggers=triggers,
        )

    outcome, _ = _apply_job(job, name, column, target_column, dry_run, yes)
    if outcome.status == "incomplete":
        r = outcome.result
        output.warn(f"{r.remaining:,} row(s) still locked by writers: run backfill again")
        raise typer.Exit(1)


@app.command()
def status(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    column: ColumnOpt = None,
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    sample: Annotated[
        int | None, typer.Option("--sample", help="Check N random rows only.")
    ] = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Count rows plaintext-only, encrypted-only, both, and mismatched (decrypt != plaintext).

    Exit 1 when any ciphertext does not decrypt to its plaintext (or not at all).

    Example:
        auroractl encrypt status usuarios --column documento_identidade --sample 10000
    """
    from auroractl.ops import encrypt as ops

    name, column = _names(table_arg, table, column)
    with _context.connect() as conn:
        t = ops.resolve(conn, name, column, target_column)
        st = ops.status(conn, t, sample) if t.target_type is None else None
    if st is None:  # the ciphertexts are checked in a session that has the key
        with _keyed(_key(key_secret))() as conn:
            st = ops.status(conn, t, sample)
    listing = output.to_jsonable(st) | {"problems": st.problems}
    output.result(
        st,
        table=lambda: output.pairs(listing, "table"),
        rows=[{"key": k, "value": v} for k, v in listing.items()],
    )
    if st.problems:
        raise typer.Exit(1)


@app.command()
def finalize(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    column: ColumnOpt = None,
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: opt.BatchOpt = 1000,
    fire_triggers: FireTriggersOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """NULL the plaintext only where the ciphertext decrypts to exactly it; report the rest.

    Never loses data: a row without ciphertext, or whose ciphertext does not match, keeps
    its plaintext and is reported (exit 1). The table's own triggers do not fire (see
    backfill); --fire-triggers fires them.

    Example:
        auroractl encrypt finalize usuarios --column documento_identidade --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, 0, 1)
    name, column = _names(table_arg, table, column)
    key = "" if dry_run else _key(key_secret)

    def job(conn: psycopg.Connection, t: Target) -> Job:
        command = _command("finalize", name, column)
        triggers = ops.check_triggers(conn, t, t.column, "finalize", fire_triggers)
        return ops.finalize_job(_keyed(key), t, command, batch_size=batch_size, triggers=triggers)

    outcome, t = _apply_job(job, name, column, target_column, dry_run, yes)
    r = outcome.result
    if r is not None and r.refused:
        output.warn(
            f"{r.refused:,} row(s) kept their plaintext (no or mismatching ciphertext), "
            f"e.g. {t.pk} in ({', '.join(r.refused_keys)}): run backfill, then finalize again"
        )
        raise typer.Exit(1)


@app.command()
def rotate(
    new_key_secret: Annotated[
        str | None,
        typer.Option(
            "--new-key-secret",
            help="Secrets Manager ARN of the new key (default: $AURORACTL_NEW_ENCRYPTION_KEY).",
        ),
    ] = None,
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    column: ColumnOpt = None,
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: opt.BatchOpt = 1000,
    sleep_ms: opt.SleepOpt = 0,
    fire_triggers: FireTriggersOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Re-encrypt the ciphertext column under a new key, in batches; resumable.

    Rows already under the new key do not open with the old one and are left alone.
    The table's own triggers do not fire (see backfill); --fire-triggers fires them.

    Example:
        auroractl encrypt rotate usuarios --column documento_identidade \\
            --key-secret arn:...:old --new-key-secret arn:...:new --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, sleep_ms, 1)
    name, column = _names(table_arg, table, column)
    key, new_key = _rotate_keys(key_secret, new_key_secret, dry_run)

    def job(conn: psycopg.Connection, t: Target) -> Job:
        command = _command("rotate", name, column)
        triggers = ops.check_triggers(conn, t, t.target, "rotate", fire_triggers)
        return ops.rotate_job(
            _keyed(key, new_key),
            t,
            command,
            batch_size=batch_size,
            sleep_ms=sleep_ms,
            triggers=triggers,
        )

    _apply_job(job, name, column, target_column, dry_run, yes)


def _rotate_keys(
    key_secret: str | None, new_key_secret: str | None, dry_run: bool
) -> tuple[str, str]:
    """Both keys, refused as equal before any connection. A dry run needs no key: it
    reads them, and refuses the same way, only when both are configured."""
    import os

    from auroractl.ops import encrypt as ops

    given = (key_secret or os.environ.get(ops.KEY_ENV)) and (
        new_key_secret or os.environ.get(ops.NEW_KEY_ENV)
    )
    if dry_run and not given:
        return "", ""
    key = _key(key_secret)
    new_key = _key(new_key_secret, ops.NEW_KEY_ENV)
    ops.check_new_key(key, new_key)
    return key, new_key


@app.command()
def keygen(
    secret_name: Annotated[str, typer.Option("--secret-name", help="Name of the new secret.")],
    dry_run: opt.AwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create a random 256-bit key in AWS Secrets Manager (never printed).

    A change like any other (--dry-run, --yes, a ledger row); it never overwrites an
    existing secret (exit 3).

    Example:
        auroractl encrypt keygen --secret-name prod/auroractl/documento-key --yes
    """
    from dataclasses import replace

    from auroractl.ops import encrypt as ops

    region, endpoint = _aws()
    outcome = _context.apply(None, ops.keygen_action(secret_name, region, endpoint), dry_run, yes)
    made = ops.key_secret(secret_name, region, endpoint) if outcome.status == "applied" else None
    output.result(replace(outcome, result=made))
