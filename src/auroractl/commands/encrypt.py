"""auroractl encrypt: pgcrypto column encryption with resumable, online batch jobs."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from auroractl import output, runner
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt, group

app = group("Encrypt a column with pgcrypto online: backfill, status, finalize, rotate, keygen.")

TableOpt = Annotated[str, typer.Option("--table", "-t", help="Table (schema.name).")]
ColumnOpt = Annotated[str, typer.Option("--column", "-c", help="Plaintext column.")]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target-column", help="bytea column for the ciphertext (default <column>_encrypted)."
    ),
]
KeySecretOpt = Annotated[
    str | None,
    typer.Option(
        "--key-secret",
        help="Secrets Manager ARN/name holding the key (default: $AURORACTL_ENCRYPTION_KEY).",
    ),
]
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Rows per batch (one transaction).")]
SleepOpt = Annotated[int, typer.Option("--sleep-ms", help="Pause between batches (ms).")]


def _aws() -> tuple[str | None, str | None]:
    t = _context.target()
    return (t.profile.region, t.profile.endpoint_url) if t.profile else (None, None)


def _key(secret: str | None, env: str | None = None) -> str:
    from auroractl.ops import encrypt as ops

    region, endpoint = _aws()
    return ops.key_from(secret, env or ops.KEY_ENV, region, endpoint)


def _connector():  # type: ignore[no-untyped-def]
    from auroractl import db

    s = _context.settings()
    t = _context.target(s)
    return lambda: db.connect(t, s)


def _record(conn, plan, seconds: float, error: BaseException | None) -> int | None:  # type: ignore[no-untyped-def]

    return runner.record(conn, plan, seconds, error)


@app.command()
def backfill(
    table: TableOpt = "usuarios",
    column: ColumnOpt = "documento_identidade",
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: BatchOpt = 1000,
    sleep_ms: SleepOpt = 0,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Parallel workers over disjoint key ranges.")
    ] = 1,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Encrypt a column into a bytea twin in small keyset batches; resumable after kill -9.

    Adds the target column if missing, then encrypts rows whose ciphertext is NULL with
    pgp_sym_encrypt(..., 'cipher-algo=aes256, s2k-mode=1'), each batch one statement and
    one short transaction. A trigger clears the ciphertext of rows whose plaintext changes
    meanwhile, and catch-up passes run until none is left.

    Example:
        AURORACTL_ENCRYPTION_KEY=... auroractl encrypt backfill --table usuarios \\
            --column documento_identidade --batch-size 2000 --jobs 2 --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, sleep_ms, jobs)
    key = None if dry_run else _key(key_secret)
    command = f"encrypt backfill --table {table} --column {column}"
    with _context.connect() as conn:
        t = ops.resolve(conn, table, column, target_column)
        prep = ops.plan_prepare(conn, t, command)
        batches = ops.describe_batches(t, command, batch_size, jobs)
        opts = _context.runner_options(dry_run, yes, fmt.value)
        if dry_run:
            if not prep.empty:
                output.plan(prep, fmt.value)
            output.plan(batches, fmt.value)
            return
        runner.confirm_or_refuse(
            batches if prep.empty else replace(prep, steps=prep.steps + batches.steps), opts
        )
        runner.apply(conn, prep, replace(opts, yes=True))
        t = ops.resolve(conn, table, column, target_column)
        total = ops.remaining(conn, t)
        error: BaseException | None = None
        result = None
        try:
            with output.rows_progress(f"encrypting {t.label}.{t.column}", total) as bar:
                result = ops.backfill(
                    _connector(),
                    t,
                    key or "",
                    batch_size=batch_size,
                    sleep_ms=sleep_ms,
                    jobs=jobs,
                    on_progress=bar.advance,
                )
        except BaseException as exc:
            error = exc
            raise
        finally:
            _record(conn, batches, result.seconds if result else 0.0, error)
    if fmt == Format.json:
        output.render(result, "json")
    else:
        output.info(
            f"Done: {result.encrypted:,} row(s) encrypted in {result.seconds:.1f}s "
            f"({result.rows_per_second:,.0f} rows/s, {result.batches} batches, "
            f"{result.passes} pass(es)); {result.remaining:,} left"
        )
    if result.remaining:
        output.warn(f"{result.remaining:,} row(s) still locked by writers: run backfill again")
        raise typer.Exit(1)


@app.command()
def status(
    table: TableOpt = "usuarios",
    column: ColumnOpt = "documento_identidade",
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    sample: Annotated[
        int | None, typer.Option("--sample", help="Check N random rows only.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Count rows plaintext-only, encrypted-only, both, and mismatched (decrypt != plaintext).

    Exit 1 when any ciphertext does not decrypt to its plaintext (or not at all).

    Example:
        auroractl encrypt status --table usuarios --column documento_identidade --sample 10000
    """
    from auroractl.ops import encrypt as ops

    with _context.connect() as conn:
        t = ops.resolve(conn, table, column, target_column)
        key = _key(key_secret) if t.target_type is not None else None
        st = ops.status(conn, t, key, sample)
    if fmt == Format.json:
        output.render(st, "json")
    else:
        output.pairs(
            {k: v for k, v in output.to_jsonable(st).items()} | {"problems": st.problems},
            fmt.value,
        )
    if st.problems:
        raise typer.Exit(1)


@app.command()
def finalize(
    table: TableOpt = "usuarios",
    column: ColumnOpt = "documento_identidade",
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: BatchOpt = 1000,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """NULL the plaintext only where the ciphertext decrypts to exactly it; report the rest.

    Never loses data: a row without ciphertext, or whose ciphertext does not match, keeps
    its plaintext and is reported (exit 1).

    Example:
        auroractl encrypt finalize --table usuarios --column documento_identidade --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, 0, 1)
    key = None if dry_run else _key(key_secret)
    command = f"encrypt finalize --table {table} --column {column}"
    with _context.connect() as conn:
        t = ops.resolve(conn, table, column, target_column)
        plan = ops.describe_finalize(t, command)
        opts = _context.runner_options(dry_run, yes, fmt.value)
        if dry_run:
            output.plan(plan, fmt.value)
            return
        runner.confirm_or_refuse(plan, opts)
        total = ops.remaining_plain(conn, t)
        error = None
        result = None
        try:
            with output.rows_progress(f"finalizing {t.label}.{t.column}", total) as bar:
                result = ops.finalize(
                    conn, t, key or "", batch_size=batch_size, on_progress=bar.advance
                )
        except BaseException as exc:
            error = exc
            raise
        finally:
            _record(conn, plan, result.seconds if result else 0.0, error)
    if fmt == Format.json:
        output.render(result, "json")
    else:
        output.info(f"Done: plaintext cleared on {result.cleared:,} row(s)")
    if result.refused:
        output.warn(
            f"{result.refused:,} row(s) kept their plaintext (no or mismatching ciphertext), "
            f"e.g. {t.pk} in ({', '.join(result.refused_keys)}): run backfill, then finalize again"
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
    table: TableOpt = "usuarios",
    column: ColumnOpt = "documento_identidade",
    target_column: TargetOpt = None,
    key_secret: KeySecretOpt = None,
    batch_size: BatchOpt = 1000,
    sleep_ms: SleepOpt = 0,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Re-encrypt the ciphertext column under a new key, in batches; resumable.

    Rows already under the new key do not open with the old one and are left alone.

    Example:
        auroractl encrypt rotate --key-secret arn:...:old --new-key-secret arn:...:new --yes
    """
    from auroractl.ops import encrypt as ops

    ops.check_batching(batch_size, sleep_ms, 1)
    command = f"encrypt rotate --table {table} --column {column}"
    key = new_key = None
    if not dry_run:
        key = _key(key_secret)
        new_key = _key(new_key_secret, ops.NEW_KEY_ENV)
    with _context.connect() as conn:
        t = ops.resolve(conn, table, column, target_column)
        plan = ops.describe_rotate(t, command)
        opts = _context.runner_options(dry_run, yes, fmt.value)
        if dry_run:
            output.plan(plan, fmt.value)
            return
        runner.confirm_or_refuse(plan, opts)
        error = None
        result = None
        try:
            result = ops.rotate(
                conn, t, key or "", new_key or "", batch_size=batch_size, sleep_ms=sleep_ms
            )
        except BaseException as exc:
            error = exc
            raise
        finally:
            _record(conn, plan, result.seconds if result else 0.0, error)
    if fmt == Format.json:
        output.render(result, "json")
    else:
        output.info(f"Done: {result.rotated:,} row(s) re-encrypted in {result.seconds:.1f}s")


@app.command()
def keygen(
    secret_name: Annotated[str, typer.Option("--secret-name", help="Name of the new secret.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Create a random 256-bit key in AWS Secrets Manager (never printed).

    Example:
        auroractl encrypt keygen --secret-name prod/auroractl/documento-key
    """
    from auroractl.ops import encrypt as ops

    region, endpoint = _aws()
    result = ops.keygen(secret_name, region, endpoint)
    if fmt == Format.json:
        output.render(result, "json")
    else:
        output.pairs(
            {"secret": result.name, "arn": result.arn, "bits": str(result.bits)}, fmt.value
        )
