"""auroractl rls: tenant isolation with fail-closed row level security policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    from auroractl.ops.shared.datamap import DataMap
    from auroractl.plan import Plan

app = opt.group("Tenant isolation with row level security (enable, status, verify, disable).")


def config(m: DataMap | None = None):  # type: ignore[no-untyped-def]
    """[rls]: the application role, and the tenant key (``_tenancy``); ``m``: the data
    map when the caller has loaded it already."""
    from auroractl.ops import rls as ops

    section = _context.settings().section("rls")
    role = ops.app_role(section)
    return ops.RlsConfig(_tenancy(section, m), role)


def _tenancy(section: dict, m: DataMap | None):  # type: ignore[no-untyped-def]
    """[rls] column when set (an explicit override), else the data map's tenant key;
    refused without either."""
    from auroractl.commands import _defaults
    from auroractl.errors import Precondition
    from auroractl.ops import rls as ops

    override = ops.tenancy_from_section(section)
    if override is not None:
        m = m or _context.data_map()
        key = m.tenant if m is not None else None
        if key is not None and key.column != override.column:
            output.warn(f"[rls] column {override.column} overrides the data map's {key.column}")
        return override
    m = m or _defaults.data_map(alternative="[rls] column")
    if m.tenant is None:
        raise Precondition(
            f"the data map {m.path} has no [[tenant]]: declare the tenant key there, "
            "or set [rls] column"
        )
    return ops.Tenancy.of(m.tenant)


def _change(
    planner: Callable[..., Plan],
    tables: list[str] | None,
    all_tables: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """enable / disable: the tables named (or --all) under [rls], planned and applied."""
    cfg = config()
    _context.apply_planned(lambda conn: planner(conn, cfg, tables, all_tables), dry_run, yes)


@app.command()
def enable(
    tables_arg: opt.TablesArg = None,
    table: opt.TablesOpt = None,
    all_tables: opt.AllOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Enable + FORCE fail-closed tenant policies (USING and WITH CHECK) on tenant tables.

    The tenant key (column, setting, type, root) is the data map's, or [rls] column's
    (exit 3 without either). Creates the application role ([rls] app_role, default
    application_user: NOLOGIN, no BYPASSRLS) if missing and grants it DML on the tables.
    The tenant column may be integer, bigint, uuid or text (read per table from the
    catalog); with the setting unset, empty or not a key of that type the role sees no
    rows and can write none. A second policy lets the table owner see
    every row only in auroractl maintenance sessions. Idempotent; warns when no index
    leads with the tenant column; exit 3 when no table has the tenant column.

    Example:
        auroractl rls enable --all --dry-run
        auroractl rls enable alunos escolas --yes
    """
    from auroractl.ops import rls as ops

    _change(ops.plan_enable, opt.tables_given(tables_arg, table), all_tables, dry_run, yes)


@app.command()
def disable(
    tables_arg: opt.TablesArg = None,
    table: opt.TablesOpt = None,
    all_tables: opt.AllOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Drop auroractl's policies and turn row level security off (every tenant sees all).

    Example:
        auroractl rls disable alunos --yes
    """
    from auroractl.ops import rls as ops

    _change(ops.plan_disable, opt.tables_given(tables_arg, table), all_tables, dry_run, yes)


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Coverage of every table with a tenant column; exit 1 when any is uncovered or a
    foreign key crosses tenants, 3 when no table has the tenant column.

    Lists RLS enabled/forced, policies, whether an index leads with the tenant column,
    the roles that bypass RLS (superusers, BYPASSRLS, owners of unforced tables), and
    the foreign keys between tenant tables that leave the tenant column out (foreign-key
    checks bypass RLS: `rls fix-references` scopes them to the tenant).

    Example:
        auroractl rls status --format json
    """
    from auroractl.ops import rls as ops

    cfg = config()
    with _context.connect() as conn:
        st = ops.status(conn, cfg)
    output.result(st, rows=_status_rows(st), table=lambda: _status_table(st))
    problems = _status_problems(st)
    for problem in problems:
        output.error(problem)
    if problems:
        raise typer.Exit(1)


def _status_problems(st) -> list[str]:  # type: ignore[no-untyped-def]
    """What makes status exit 1, each one line."""
    out = []
    if st.app_role_bypasses:
        out.append(f"application role {st.app_role} bypasses RLS")
    elif st.uncovered:
        out.append(f"{len(st.uncovered)} tenant table(s) not covered: {', '.join(st.uncovered)}")
    if st.cross_tenant_refs:
        names = ", ".join(f"{r.table}.{r.constraint}" for r in st.cross_tenant_refs)
        out.append(
            f"{len(st.cross_tenant_refs)} foreign key(s) cross tenants: {names} "
            "(auroractl rls fix-references --all --dry-run)"
        )
    return out


def _status_rows(st) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {
            "table": c.table,
            "covered": "yes" if c.covered else "NO",
            "enabled": c.rls_enabled,
            "forced": c.rls_forced,
            "policies": ", ".join(c.policies),
            "tenant index": c.tenant_index,
            "key type": c.key_type,
            "bypassed by": ", ".join(c.bypass),
            "note": c.note,
        }
        for c in st.tables
    ]


def _status_table(st) -> None:  # type: ignore[no-untyped-def]
    output.render(
        _status_rows(st),
        "table",
        title=f"RLS on {st.column} (setting {st.setting}, role {st.app_role})",
    )
    output.info("Roles that bypass RLS everywhere: " + (", ".join(st.bypass_roles) or "none"))
    if st.cross_tenant_refs:
        output.render(
            [
                {
                    "table": r.table,
                    "foreign key": r.constraint,
                    "columns": ", ".join(r.columns),
                    "references": f"{r.referenced_table} ({', '.join(r.referenced_columns)})",
                    "on delete": r.on_delete,
                }
                for r in st.cross_tenant_refs
            ],
            "table",
            title=f"Foreign keys that cross tenants (without {st.column})",
        )
    if not st.app_role_exists:
        output.warn(f"application role {st.app_role} does not exist")


@app.command("fix-references")
def fix_references(
    constraint: Annotated[
        list[str] | None,
        typer.Option(
            "--constraint",
            "-c",
            help="A foreign key rls status lists, NAME or TABLE.NAME (repeatable).",
        ),
    ] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Every foreign key that crosses tenants.")
    ] = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Scope foreign keys between tenant tables to the tenant, online; exit 3 when existing
    rows already cross tenants (nothing changed).

    A foreign key such as alunos (escola_id) -> escolas (id) is checked without row
    security, so a row can point at another tenant's row. It is replaced by (tenant
    column, escola_id) -> escolas (tenant column, id): a unique key on the referenced
    table built CONCURRENTLY (per partition, then attached, on a partitioned table), the
    new key added NOT VALID and validated without blocking writes (per partition first on
    a partitioned table), the same ON DELETE / ON UPDATE actions, then the old key dropped
    (kept when the tenant column is nullable). Every DDL runs under lock_timeout. A second
    run has nothing to do.

    Example:
        auroractl rls fix-references --all --dry-run
        auroractl rls fix-references --constraint alunos_escola_id_fkey --yes
    """
    from auroractl.ops import rls as ops

    cfg = config()
    _context.apply_planned(
        lambda conn: ops.plan_fix_references(conn, cfg, constraint, all_refs), dry_run, yes
    )


@app.command()
def verify(
    tables_arg: opt.TablesArg = None,
    tenants: Annotated[
        str | None,
        typer.Option("--tenants", help="Comma-separated tenant keys, e.g. 1,2,3 (must exist)."),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            help="Verify N random tenants ([rls] root, else the tenant tables' keys; default 3).",
        ),
    ] = None,
    table: opt.TablesOpt = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Prove isolation as the application role; every change is rolled back; exit 1 on a leak.

    For each tenant and tenant table (default: all): only the tenant's rows are visible;
    with the setting unset, empty or garbage no row is visible; INSERT/UPDATE into another
    tenant is rejected; UPDATE cannot reach other tenants' rows.

    Example:
        auroractl rls verify --sample 3
        auroractl rls verify alunos --tenants 1,2 --format json
    """
    from auroractl.ops import rls as ops

    ids = _tenant_ids(tenants, sample)
    cfg = config()
    with _context.connect() as conn:
        if not ids:
            ids = ops.tenants_sample(conn, cfg, 3 if sample is None else sample)
        report = ops.verify(conn, cfg, ids, opt.tables_given(tables_arg, table))
    output.result(report, rows=_matrix(report), table=lambda: _verify_table(report))
    if report.leaks:
        output.error(f"{len(report.leaks)} leak(s) found")
        raise typer.Exit(1)
    if report.errors:
        output.error(f"{len(report.errors)} check(s) could not run")
        raise typer.Exit(1)


def _tenant_ids(tenants: str | None, sample: int | None) -> list[str]:
    from auroractl.errors import InvalidInput

    if tenants is not None and sample is not None:
        raise InvalidInput("give --tenants or --sample, not both")
    if sample is not None and sample < 1:
        raise InvalidInput(f"--sample must be at least 1, not {sample}")
    ids = list(dict.fromkeys(x.strip() for x in (tenants or "").split(",") if x.strip()))
    if tenants is not None and not ids:
        raise InvalidInput(f"--tenants {tenants!r} names no tenant: give keys like 1,2,3")
    return ids


def _matrix(report) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """One row per table, one column per check: its worst result over the tenants."""
    matrix: dict[str, dict[str, str]] = {}
    rank = {"LEAK": 3, "error": 2, "ok": 1, "n/a": 0}
    for c in report.checks:
        row = matrix.setdefault(c.table, {"table": c.table})
        cur = row.get(c.check)
        if cur is None or rank[c.result] > rank[cur]:
            row[c.check] = c.result
    return list(matrix.values())


def _verify_table(report) -> None:  # type: ignore[no-untyped-def]
    output.render(
        _matrix(report),
        "table",
        title=f"RLS verify as {report.app_role}, tenants {', '.join(map(str, report.tenants))}",
    )
    for c in report.leaks + report.errors:
        output.info(f"{c.result}: {c.table} tenant {c.tenant} {c.check}: {c.detail}")
