"""auroractl lgpd: personal-data map, erasure (forget), access export, request register."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt
from auroractl.errors import CheckFailed, InvalidInput

app = opt.group("LGPD: personal-data map, erasure (forget), access export and request register.")

RequestedAtOpt = Annotated[
    str | None,
    typer.Option(
        "--requested-at",
        help="When the subject made the request (ISO date/time, UTC); starts the 15-day "
        "Art. 19 clock. Default: now.",
        show_default=False,
    ),
]


SubjectOpt = Annotated[
    str | None,
    typer.Option(
        "--subject",
        help="The data subject table (schema.table) of the data map; default: [lgpd] subject, "
        "else the map's default subject.",
        show_default=False,
    ),
]


def _erasure_map(conn, subject: str | None):  # type: ignore[no-untyped-def]
    """The data map resolved for one subject table against the catalog."""
    from auroractl.ops import lgpd as ops

    cfg = ops.LgpdConfig.from_section(_context.settings().section("lgpd"))
    m = _context.require_data_map()
    return ops.resolve(conn, m, ops.choose_subject(m, subject or cfg.subject)), m


def erasure_log(spec: str | None = None):  # type: ignore[no-untyped-def]
    """The erasure log: ``spec`` (--log), else ``[lgpd] erasure_log`` (a directory relative
    to auroractl.toml), else None; S3 in the target profile's region and endpoint."""
    from auroractl.ops import lgpd as ops
    from auroractl.ops.lgpd import erasure_log as elog

    s = _context.settings()
    spec = spec or ops.LgpdConfig.from_section(s.section("lgpd")).erasure_log
    if spec is None:
        return None
    p = _context.target(s).profile
    base = s.path.parent if s.path is not None else None
    return elog.open_log(spec, base, p.region if p else None, p.endpoint_url if p else None)


def _require_current(conn, m, error=None) -> None:  # type: ignore[no-untyped-def]
    """A map that disagrees with the catalog (a personal column it misses, a rule a
    constraint rejects, an unlisted reference) would erase or export too little: refuse
    before any subject (Precondition; ``error`` for another class)."""
    from auroractl.errors import Precondition
    from auroractl.ops.datamap import check as map_check

    report = map_check.check(conn, m)
    if not report.ok:
        f = report.findings[0]
        raise (error or Precondition)(
            f"the data map {report.map} is stale ({len(report.findings)} finding(s); first: "
            f"{f.kind} {f.table}.{f.column}: {f.detail})",
            hint="run: auroractl map check, then update and review the map",
        )


def _requested_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--requested-at {value!r} is not an ISO date or date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
        raise InvalidInput("--requested-at is in the future")
    return when


@app.command("map")
def map_(
    subject: SubjectOpt = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Also compare the data map with the catalog (as `auroractl map check`); "
            "exit 1 on any drift.",
        ),
    ] = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Show what erasing one data subject does, table by table, from the data map.

    The subject's own row, the rows that reference it, the rows it references that no
    other subject shares, and the audit log and webhook events, each with the rule that
    applies. Personal columns and rules are declared in the data map
    (auroractl map propose, then review it).

    Example:
        auroractl lgpd map
        auroractl lgpd map --subject shop.people --check --format json
    """
    from auroractl.ops.lgpd import map as ops

    with _context.connect() as conn:
        em, m = _erasure_map(conn, subject)
        entries = ops.describe_map(em)
        output.result(entries, title=f"What erasing one {em.subject.label} does")
        if check:
            _require_current(conn, m, CheckFailed)


def _read_ids(ids: list[str] | None, from_file: Path | None) -> list[str]:
    out = list(ids or [])
    if from_file is not None:
        try:
            text = sys.stdin.read() if str(from_file) == "-" else from_file.read_text()
        except OSError as exc:
            raise InvalidInput(f"cannot read {from_file}: {exc.strerror}") from None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    if not out:
        raise InvalidInput("give subject ids (lgpd forget 123 456) or --from-file ids.txt")
    return list(dict.fromkeys(out))


@app.command()
def forget(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Subject ids (the subject table's key).")
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option("--from-file", help="File with one id per line (# comments; - for stdin)."),
    ] = None,
    subject: SubjectOpt = None,
    requested_at: RequestedAtOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Erase data subjects (LGPD article 18) as the data map says, and scrub the logs.

    One transaction per subject: the rows that reference it and the rows it references
    (no other subject sharing them), then its own row, each column per its rule in the
    data map; personal values in audit.audit_log and undelivered webhook_events; a
    receipt in auroractl.lgpd_requests (tables, columns, row counts, never a value).
    Refuses while the map is missing or stale against the catalog (auroractl map check).
    Re-running is safe. With many ids one failure never undoes the others; the exit
    code is non-zero when any failed. --dry-run shows the statements and, per subject,
    the rows they would change.

    With [lgpd] erasure_log set, each erasure is also appended to that log (S3 or a
    directory, outside the database) for `lgpd reapply` after a restore. Exit 9: erased in
    the database but its log entry could not be written; run the same command again
    once the log is reachable, it writes the missing entries.

    Example:
        auroractl lgpd forget 123 --dry-run
        auroractl lgpd forget 123 --yes
        auroractl lgpd forget --from-file ids.txt --yes --format json
    """
    from auroractl.ops import lgpd as ops
    from auroractl.ops.lgpd import forget as lgpd_forget

    when = _requested_at(requested_at)
    raw = _read_ids(ids, from_file)
    log = erasure_log()
    with _context.connect() as conn:
        em, m = _erasure_map(conn, subject)
        ops.require_erasing(em)
        if len(raw) == 1:
            em.parse_id(raw[0])  # a malformed single id: exit 2 before anything else
        _require_current(conn, m)
        notes = lgpd_forget.estimate(conn, em, raw) if dry_run else ()
        if dry_run and log is not None:
            log.salt(create=False)  # unreachable: say so now, not after erasing
            notes += (f"each erasure is appended to the erasure log {log.uri}",)
        job = lgpd_forget.forget_job(conn, em, raw, when, notes, log)
        outcome = _context.apply(conn, job, dry_run, yes)
    output.result(outcome)
    if outcome.result is not None:
        _report(outcome.result, log.uri if log else None)


def _report(report, log: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """The receipts on stderr (the outcome is the document); exit non-zero on failures,
    9 when an erasure is missing from the erasure log."""
    for r in report.receipts:
        if r.status == "already-forgotten":
            output.info(
                f"{r.subject_table} {r.subject_id}: already forgotten "
                f"(request {r.request_id}, {r.completed_at:%Y-%m-%d %H:%M} UTC)"
            )
            continue
        if len(report.receipts) > 20:
            continue
        output.info(
            f"{r.subject_table} {r.subject_id}: receipt {r.request_id} (auroractl.lgpd_requests)"
        )
        for table, e in r.tables.items():
            output.info(f"  {table}: {e['action']}, {e['rows']} row(s)")
        for h in r.legal_holds:
            output.info(f"  kept: {h['table']}.{h['column']} ({h['basis']})")
    for f in report.failures:
        output.error(f"{f.subject_id}: {f.message}")
    total = report.ok + report.failed
    if total > 1:
        output.info(
            f"{report.ok} of {total} subject(s) forgotten, {report.failed} failed "
            f"({report.duration_s:.2f}s)"
        )
    if log is not None and report.logged:
        output.info(f"{report.logged} erasure(s) appended to the erasure log {log}")
    _unlogged(report.unlogged, log)
    if report.failures:
        codes = {f.exit_code for f in report.failures}
        raise typer.Exit(codes.pop() if len(codes) == 1 else 1)


def _unlogged(unlogged, log: str | None) -> None:  # type: ignore[no-untyped-def]
    """Erased here, not in the log: a restore would bring these subjects back."""
    if not unlogged:
        return
    from auroractl.errors import EXIT_NOT_LOGGED

    for f in unlogged:
        output.error(f"{f.subject_id}: erased in the database, NOT in the erasure log: {f.message}")
    output.error(
        f"{len(unlogged)} erasure(s) missing from the erasure log {log}: a restore would bring "
        "those subjects back. Run the same lgpd forget again once the log is reachable: "
        "it writes the missing entries."
    )
    raise typer.Exit(EXIT_NOT_LOGGED)


LogOpt = Annotated[
    str | None,
    typer.Option(
        "--log",
        help="The erasure log (s3://bucket/prefix or a directory); default: [lgpd] erasure_log.",
        show_default=False,
    ),
]


@app.command()
def reapply(
    log_spec: LogOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Re-apply the erasures of the erasure log that this database has not recorded.

    Run it after any restore (snapshot, point in time, pg_dump): the copy holds every
    subject erased after its backup was taken. Each entry of the log whose receipt id
    is not in this database's auroractl.lgpd_requests is erased again through the data
    map, as lgpd forget does (one transaction per subject), and recorded under the same
    receipt id; a second run has nothing to do. --dry-run lists what would be
    re-applied. Refuses while the data map is missing or stale (auroractl map check).

    Example:
        auroractl lgpd reapply --dry-run
        auroractl lgpd reapply --log s3://acme-erasures/prod --yes --format json
    """
    from auroractl.errors import Precondition
    from auroractl.ops.lgpd import reapply as ops

    log = erasure_log(log_spec)
    if log is None:
        raise Precondition(
            "no erasure log: set [lgpd] erasure_log in auroractl.toml or pass --log",
            hint="lgpd forget appends every erasure to that log; reapply replays it",
        )
    m = _context.require_data_map()
    with _context.connect() as conn:
        _require_current(conn, m)
        change = ops.reapply_job(conn, ops.todo(conn, m, log))
        outcome = _context.apply(conn, change, dry_run, yes)
    output.result(outcome)
    if outcome.result is not None:
        _reapplied(outcome.result)


def _reapplied(report) -> None:  # type: ignore[no-untyped-def]
    """What was re-applied, on stderr; exit non-zero when an entry could not be."""
    output.info(
        f"{report.reapplied} erasure(s) re-applied, {report.absent} subject(s) absent from "
        f"this database (receipts written), {report.recorded} already recorded, "
        f"{report.failed} failed ({report.duration_s:.2f}s)"
    )
    for f in report.failures:
        output.error(f"{f.subject_table} {f.subject_id} (receipt {f.receipt_id}): {f.message}")
    if report.failures:
        codes = {f.exit_code for f in report.failures}
        raise typer.Exit(codes.pop() if len(codes) == 1 else 1)


def aftercare(log, m):  # type: ignore[no-untyped-def]
    """What restore-test does to its copy (``ops.restore_test.AfterRestore``): the erasure
    log re-applied through the runner (its ledger row in the copy), then the check that
    no erased subject is present. A problem is a failed check, never a crash."""
    from auroractl.errors import AuroraCtlError
    from auroractl.ops.lgpd import reapply as ops
    from auroractl.ops.restore_test.model import Aftercare
    from auroractl.ops.restore_test.verify import Check

    def run(copy) -> Aftercare:  # type: ignore[no-untyped-def]
        if m is None:
            why = "no data map: the erasure log cannot be re-applied (auroractl map propose)"
            return Aftercare(None, (Check("lgpd: erasures re-applied", "fail", why),))
        reapplied, checks = None, []
        try:
            _require_current(copy, m)
            outcome = _context.apply(copy, ops.reapply_job(copy, ops.todo(copy, m, log)),
                                     dry_run=False, yes=True)  # fmt: skip
            reapplied = outcome.result.reapplied if outcome.result else 0
            checks.append(_reapply_check(outcome.result, log.uri))
        except AuroraCtlError as exc:
            checks.append(Check("lgpd: erasures re-applied", "fail", str(exc)))
        try:
            checks.append(_absent_check(ops.check_absent(copy, m, log)))
        except AuroraCtlError as exc:
            checks.append(Check("lgpd: no erased subject present", "fail", str(exc)))
        return Aftercare(reapplied, tuple(checks))

    return run


def _reapply_check(report, uri: str):  # type: ignore[no-untyped-def]
    from auroractl.ops.restore_test.verify import Check

    name = "lgpd: erasures re-applied"
    if report is None:
        return Check(name, "pass", f"every erasure of {uri} was already recorded in the copy")
    detail = (f"{report.reapplied} re-applied, {report.absent} absent from the copy, "
              f"{report.recorded} already recorded ({uri})")  # fmt: skip
    if report.failed:
        first = report.failures[0]
        detail += f"; {report.failed} failed, first {first.subject_table} {first.subject_id}: "
        return Check(name, "fail", detail + first.message)
    return Check(name, "pass", detail)


def _absent_check(presence):  # type: ignore[no-untyped-def]
    from auroractl.ops.restore_test.verify import Check

    name = "lgpd: no erased subject present"
    if presence.present:
        more = f" (and {len(presence.present) - 3} more)" if len(presence.present) > 3 else ""
        return Check(name, "fail", "; ".join(presence.present[:3]) + more)
    return Check(name, "pass", f"{presence.checked} erased subject(s) checked: none present")


class DocumentFormat(StrEnum):
    """The export is one JSON document, whatever else is asked."""

    json = "json"


def _document_format(value: DocumentFormat) -> DocumentFormat:
    output.set_format(value.value)
    return value


DocumentFormatOpt = Annotated[
    DocumentFormat,
    typer.Option("--format", "-f", help="One JSON document.", callback=_document_format),
]


@app.command()
def export(
    subject_id: Annotated[str, typer.Argument(help="Subject id (the subject table's key).")],
    output_file: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON document here.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--key-secret",
            help="Secrets Manager ARN/name of the encryption key (else AURORACTL_ENCRYPTION_KEY).",
        ),
    ] = None,
    subject: SubjectOpt = None,
    requested_at: RequestedAtOpt = None,
    fmt: DocumentFormatOpt = DocumentFormat.json,
) -> None:
    """Everything the database holds about a subject, as one JSON document (LGPD article 18).

    The subject's row, the rows referencing it and the rows it references (from the
    data map), the map's ciphertext columns decrypted when the
    key is available (AURORACTL_ENCRYPTION_KEY or --key-secret), and the audit entries
    about those rows. A summary goes to stderr; the request is recorded in
    auroractl.lgpd_requests. With --output the document goes to that file (mode 600)
    and stdout gets the summary as a JSON document.

    Example:
        auroractl lgpd export 123 --output titular-123.json
        AURORACTL_ENCRYPTION_KEY=... auroractl lgpd export 123 --format json
    """
    from auroractl.ops.lgpd import export as lgpd_export
    from auroractl.ops.shared import keys

    when = _requested_at(requested_at)
    key = _export_key(secret)
    if output_file is not None and not output_file.parent.is_dir():
        raise InvalidInput(f"--output {output_file}: directory {output_file.parent} does not exist")
    # the key reaches the session in its startup packet (ops.shared.keys), in no statement
    with _context.connect(secrets=None if key is None else keys.settings(key)) as conn:
        em, m = _erasure_map(conn, subject)
        _require_current(conn, m)
        deliver = None if output_file is None else functools.partial(_write, output_file)
        result = lgpd_export.export(conn, em, subject_id, key is not None, when, deliver)
    summary = {
        "subject": f"{em.subject.label} {subject_id}",
        "rows": result.rows,
        "tables": len(result.document["data"]),
        "audit_entries": result.audit_entries,
        "decrypted": result.decrypted,
        "request_id": result.request_id,
        "written_to": str(output_file) if output_file else None,
    }
    output.result(result.document if output_file is None else summary)
    output.info(
        f"{summary['subject']}: {result.rows} row(s) in {summary['tables']} table(s), "
        f"{result.audit_entries} audit entr(ies), {result.decrypted} value(s) decrypted; "
        f"request {result.request_id}" + (f"; written to {output_file}" if output_file else "")
    )
    for note in result.notes:
        output.warn(note)


def _write(path: Path, document: dict) -> None:
    """The export file, readable by its owner only from the start (personal data)."""
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(output.json_text(document) + "\n")
    except OSError as exc:
        raise InvalidInput(f"--output {path}: {exc.strerror or exc}") from None


def _export_key(secret: str | None) -> str | None:
    """The encryption key when one is configured (the export then decrypts), else None."""
    import os

    from auroractl.ops.encrypt import KEY_ENV, key_from

    if not (secret or os.environ.get(KEY_ENV)):
        return None
    t = _context.target()
    return key_from(
        secret,
        region=t.profile.region if t.profile else None,
        endpoint_url=t.profile.endpoint_url if t.profile else None,
    )


@app.command()
def requests(
    status: Annotated[
        str | None, typer.Option("--status", help="open, completed or failed.")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only this subject id.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest N requests.")] = 100,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """List LGPD requests with status and the 15-day deadline (article 19); flag overdue ones.

    Example:
        auroractl lgpd requests
        auroractl lgpd requests --status failed --format json
    """
    from auroractl.ops.lgpd import export as lgpd_export

    m = _context.data_map()  # its subjects say what an id can be; none is needed
    subjects = {s.table: s.key[0] for s in m.subjects if len(s.key) == 1} if m else None
    with _context.connect() as conn:
        rows = lgpd_export.requests(conn, status, subject, limit, subjects)
    output.result(
        rows, table=lambda: output.render(_requests_view(rows), "table", title="LGPD requests")
    )
    overdue = sum(1 for r in rows if r.overdue)
    if overdue:
        output.warn(f"{overdue} request(s) past the 15-day deadline (LGPD Art. 19)")


def _requests_view(rows) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "subject": f"{r.subject_table} {r.subject_id}",
            "status": r.status,
            "requested": f"{r.requested_at:%Y-%m-%d %H:%M}",
            "due": f"{r.due_at:%Y-%m-%d}",
            "completed": f"{r.completed_at:%Y-%m-%d %H:%M}" if r.completed_at else "",
            "overdue": "OVERDUE" if r.overdue else "",
            "rows": sum(int(e.get("rows", 0)) for e in r.tables.values()),
        }
        for r in rows
    ]
