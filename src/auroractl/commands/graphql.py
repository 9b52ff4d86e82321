"""auroractl graphql: a PostGraphile 5 setup that isolates tenants, and its check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    from auroractl.ops.rls import RlsConfig

app = opt.group("GraphQL through PostGraphile 5: generated setup, roles, readiness check.")

SchemaOpt = Annotated[
    list[str] | None,
    typer.Option("--schema", help="Exposed schema (repeatable; default public)."),
]
RoleOpt = Annotated[
    str | None,
    typer.Option(
        "--role", help="Role PostGraphile runs as (default: [rls] app_role or application_user)."
    ),
]
AuthenticatorOpt = Annotated[
    str, typer.Option("--authenticator", help="LOGIN role PostGraphile connects as.")
]
DEFAULT_AUTHENTICATOR = "postgraphile_authenticator"


@dataclass(frozen=True)
class _Setup:
    """What every graphql command reads first: the data map's tenant key and personal
    columns, and the role."""

    schemas: tuple[str, ...]
    cfg: RlsConfig
    personal: dict[str, tuple[str, ...]]
    role: str


def _setup(schema: list[str] | None, role: str | None) -> _Setup:
    from auroractl.commands import _defaults, rls

    m = _defaults.data_map()
    cfg = rls.config(m)
    return _Setup(tuple(schema or ["public"]), cfg, m.personal_by_table(), role or cfg.app_role)


def _readiness(conn, s: _Setup, manifest=None):  # type: ignore[no-untyped-def]
    from auroractl.ops import graphql as ops

    t = s.cfg.tenancy
    target = ops.Target(s.schemas, s.role, t.column, t.setting, s.personal, manifest, t.root_table)
    return ops.check(conn, target)


@app.command()
def check(
    schema: SchemaOpt = None,
    role: RoleOpt = None,
    config_dir: Annotated[
        Path | None,
        typer.Option("--config", help="A directory `graphql config` wrote, to compare with."),
    ] = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """What PostGraphile 5 would serve, and what keeps it from isolating tenants.

    Reads every table, partition and view of the exposed schemas as the role sees them.
    Blocking (exit 1): a tenant table without forced RLS, a permissive policy that does
    not bind the tenant key to the data map's setting, a partition or a view the role can
    read around the policies, a sequence a create mutation needs, a config written for
    another setting. Warnings: personal columns served (not hidden by the generated smart
    tags), relations PostGraphile drops for want of an index, tables without a row
    identity (a UNIQUE constraint counts). Exit 2 when a --schema does not exist, 3
    without a data map.

    Example:
        auroractl graphql check --config ./graphql
    """
    from auroractl.ops import graphql as ops

    s = _setup(schema, role)
    manifest = ops.Manifest.read(config_dir) if config_dir is not None else None
    with _context.connect() as conn:
        result = _readiness(conn, s, manifest)
    output.result(result, rows=_rows(result), table=lambda: _table(result))
    if result.blocking:
        raise typer.Exit(1)


@app.command()
def config(
    output_dir: Annotated[
        Path, typer.Option("--output", "-o", help="Directory to write the setup into.")
    ],
    schema: SchemaOpt = None,
    role: RoleOpt = None,
    authenticator: AuthenticatorOpt = DEFAULT_AUTHENTICATOR,
    claim: Annotated[
        str | None,
        typer.Option("--claim", help="JWT claim carrying the tenant key (default: its column)."),
    ] = None,
    audience: Annotated[str, typer.Option("--audience", help="JWT audience.")] = "postgraphile",
    secret_env: Annotated[
        str, typer.Option("--secret-env", help="Environment variable holding the JWT secret.")
    ] = "JWT_SECRET",
    port: Annotated[int, typer.Option("--port", help="Port PostGraphile listens on.")] = 5678,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the files; write nothing.")
    ] = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Write a PostGraphile 5 setup that works as generated.

    graphile.config.mjs (verifies the JWT, runs every request as the app role and sets the
    data map's tenant setting from one claim; partitions served through their parent),
    postgraphile.tags.json5 (personal columns of the data map hidden from reads, views
    over them hidden), the pinned package.json + lockfile (PostGraphile 5.1.5, Node 22
    from the npm registry) and auroractl-graphql.json (for `graphql check --config`).
    Secrets stay in the environment. Files whose content is unchanged are not rewritten.
    Run `auroractl graphql grant` for the roles it connects as.

    Example:
        auroractl graphql config --output ./graphql --claim empresa_id
    """
    from auroractl.ops import graphql as ops

    ops.setup.check_directory(output_dir)
    s = _setup(schema, role)
    with _context.connect() as conn:
        opts = _options(conn, s, authenticator, claim, audience, secret_env, port)
        ops.readiness.require_schemas(conn, list(s.schemas))
        generated = ops.files(conn, opts, s.personal)
    written = [] if dry_run else ops.write(output_dir, generated)
    rows = [
        {"file": str(output_dir / f.name), "written": f.name in written, "bytes": len(f.text)}
        for f in generated
    ]
    run = next(f.text for f in generated if f.name == ops.readiness.MANIFEST)
    output.result(
        {"directory": str(output_dir), "dry_run": dry_run, "files": rows},
        rows=rows,
        table=lambda: _config_table(rows, run, dry_run),
    )


def _options(conn, s: _Setup, authenticator, claim, audience, secret_env, port):  # type: ignore[no-untyped-def]
    from auroractl.errors import Precondition
    from auroractl.ops import graphql as ops
    from auroractl.ops import rls

    cfg = s.cfg
    kinds = {t.key_type for t in rls.tenant_tables(conn, cfg) if t.key_type}
    kind = cfg.tenancy.type or (kinds.pop() if len(kinds) == 1 else None)
    if kind is None:
        raise Precondition(
            f"the tenant column {cfg.column} has no single key type here: declare it "
            "in the data map's [[tenant]] type"
        )
    return ops.Options(
        s.schemas,
        s.role,
        authenticator,
        cfg.column,
        cfg.setting,
        "bigint" if kind == "integer" else kind,
        claim or cfg.column,
        audience,
        secret_env,
        port=port,
    ).validate()


@app.command()
def grant(
    schema: SchemaOpt = None,
    role: RoleOpt = None,
    authenticator: AuthenticatorOpt = DEFAULT_AUTHENTICATOR,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create the roles the generated setup connects as, with exactly the grants needed.

    The authenticator (LOGIN, NOINHERIT, no password: set one out of band or GRANT rds_iam)
    becomes a member of the app role; the app role gets USAGE on the schemas and on the
    sequences its INSERTs call, and loses direct access to tenant partitions (their rows
    are reached through the parent's policies). Table grants and policies are
    `auroractl rls enable`'s. Idempotent.

    Example:
        auroractl graphql grant --dry-run
    """
    from auroractl.ops import graphql as ops

    s = _setup(schema, role)

    def planner(conn):  # type: ignore[no-untyped-def]
        opts = _options(conn, s, authenticator, None, "postgraphile", "JWT_SECRET", 5678)
        return ops.plan_grant(conn, opts, _readiness(conn, s))

    _context.apply_planned(planner, dry_run, yes)


def _rows(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {
            "relation": f.relation,
            "finding": f.kind,
            "blocking": f.blocking,
            "message": f.message,
        }
        for f in result.findings
    ]


def _table(result) -> None:  # type: ignore[no-untyped-def]
    served = [r for r in result.relations if r.served]
    output.render(
        [
            {
                "relation": r.label,
                "kind": r.kind,
                "rls": r.rls,
                "grants": ",".join(r.privileges or ()) or "-",
                "identity": r.identity,
            }
            for r in served
        ],
        "table",
        title=f"Served by PostGraphile as {result.app_role}",
    )
    if result.findings:
        output.render(_rows(result), "table", title="Findings")
    output.info(
        f"Tenant: {result.tenant_column} through the setting {result.setting} "
        f"(set from the JWT claim by the generated config). {result.blocking} blocking."
    )
    output.info(f"Run: {result.run}")


def _config_table(rows: list[dict], manifest: str, dry_run: bool) -> None:
    import json

    output.render(rows, "table", title="Would write" if dry_run else "PostGraphile setup")
    output.info(f"Run: {json.loads(manifest)['run']}")
