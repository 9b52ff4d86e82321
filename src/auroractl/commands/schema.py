"""auroractl schema: domain schemas (seed 1.2) — split tables out of public and back."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Schema layout: split tables into domain schemas (requirements 1.2).")
split_app = opt.group(
    "Move tables into domain schemas ([schema_split.schemas]; the demo's on the sandbox) and back."
)
app.add_typer(split_app, name="split")
MOVE_COLUMNS = ("table", "kind", "from_schema", "to_schema", "state", "sequences")

RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="Application role whose search_path and grants follow the split (repeatable; "
        "default: [schema_split] app_roles, else application_user).",
        show_default=False,
    ),
]


def _config(roles: list[str] | None):
    from auroractl.commands import _defaults
    from auroractl.ops import schema as ops

    section = _context.settings().section("schema_split")
    layout = _defaults.demo_default(
        section.get("schemas"),
        _defaults.DEMO_SCHEMA_SPLIT,
        "[schema_split.schemas] (which tables go to which schema)",
        hint='auroractl.toml: [schema_split.schemas] then e.g. sales = ["orders", "invoices"]',
    )
    return ops.config(section, roles, layout)


def _report_table(report, plan) -> None:  # type: ignore[no-untyped-def]
    output.render(
        list(report.moves),
        "table",
        title=f"tables of {report.source_schema} -> domain schemas",
        columns=MOVE_COLUMNS,
    )
    if report.schemas_to_create:
        output.info(f"Schemas to create: {', '.join(report.schemas_to_create)}")
    if report.grants:
        output.render(list(report.grants), "table", title="USAGE grants")
    if report.search_paths:
        output.render(
            [
                {
                    "role": p.role,
                    "before": ", ".join(p.before),
                    "after": ", ".join(p.after),
                    "from": p.from_setting,
                    "change": p.change,
                }
                for p in report.search_paths
            ],
            "table",
            title="search_path of the application roles (in this database)",
        )
    if report.functions:
        output.render(
            list(report.functions),
            "table",
            title="functions naming moved tables in their bodies",
            columns=("function", "unqualified", "qualified", "risk"),
        )
    for note in report.notes:
        output.warn(note)
    output.info(f"Plan: {plan.summary} ({len(plan.steps)} statements)")


@split_app.command("plan")
def split_plan(role: RoleOpt = None, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show what `schema split apply` would do: moves, grants, search_path, risky functions.

    Reports functions whose bodies name moved tables (PostgreSQL binds views, triggers,
    policies and foreign keys by OID, but not function bodies) and the sequences that
    move with their tables. Configured by [schema_split] in auroractl.toml.

    Example:
        auroractl schema split plan
        auroractl schema split plan --role application_user --format json
    """
    from auroractl.ops import schema as ops

    cfg = _config(role)
    with _context.connect() as conn:
        report, plan = ops.split(conn, cfg)
    data = {**output.to_jsonable(report), "summary": plan.summary, "statements": len(plan.steps)}
    output.result(
        data,
        rows=list(report.moves),
        columns=MOVE_COLUMNS,
        table=lambda: _report_table(report, plan),
    )


@split_app.command("apply")
def split_apply(
    role: RoleOpt = None,
    prepare_only: Annotated[
        bool,
        typer.Option(
            "--prepare-only",
            help="Only create the schemas, grant USAGE and set search_path (no moves): "
            "recycle the application's connection pool, then run apply.",
        ),
    ] = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create the domain schemas, grant USAGE, set the application roles' search_path and
    move the tables (partitions with their parent), one short transaction per table.

    Each move takes ACCESS EXCLUSIVE for an instant, bounded by --lock-timeout and
    retried. Idempotent: what is in place already is skipped. Recorded for `revert`.
    ALTER ROLE ... SET search_path reaches new sessions only: with a connection pool,
    run --prepare-only first, recycle the pool, then apply.

    Example:
        auroractl schema split apply --dry-run
        auroractl schema split apply --prepare-only --yes
        auroractl --lock-timeout 1s schema split apply --yes
    """
    from auroractl.ops import schema as ops

    cfg = _config(role)
    with _context.connect() as conn:
        report, plan = ops.split(conn, cfg, prepare_only)
        for f in report.functions:
            output.warn(f"function {f.function}: {f.risk}")
        outcome = _context.apply(conn, plan, dry_run, yes)
    output.result(outcome)


@split_app.command("revert")
def split_revert(
    dry_run: opt.DryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Undo `schema split apply` exactly: tables (and partitions) back, search_path as it
    was, grants revoked, schemas it created dropped when empty.

    Example:
        auroractl schema split revert --dry-run
        auroractl schema split revert --yes
    """
    from auroractl.ops import schema as ops

    with _context.connect() as conn:
        plan = ops.revert(conn)
        outcome = _context.apply(conn, plan, dry_run, yes)
    output.result(outcome)
