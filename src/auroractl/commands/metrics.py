"""auroractl metrics: the business metrics view (seed 5.1)."""

from __future__ import annotations

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Business metrics view v_metricas_negocio: create it, show today's numbers.")


@app.command()
def apply(
    dry_run: opt.DryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Create or update the business metrics view (CREATE OR REPLACE VIEW, via a plan).

    Idempotent: an up-to-date view is reported and nothing changes. Configured by
    [metrics] in auroractl.toml (schema, view, table, timezone, cohort_days); the users
    table (with criado_em and ultimo_acesso) must be named there (exit 2 without it).

    Example:
        auroractl metrics apply --dry-run
        auroractl metrics apply --yes
    """
    from dataclasses import replace

    from auroractl.commands import _defaults
    from auroractl.ops import metrics as ops

    cfg = ops.config(_context.settings().section("metrics"))
    table = _defaults.demo_default(
        cfg.table, _defaults.DEMO_USERS, "[metrics] table in auroractl.toml"
    )
    with _context.connect() as conn:
        plan = ops.plan(conn, replace(cfg, table=table))
        output.result(_context.apply(conn, plan, dry_run, yes))


@app.command()
def show(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show today's business metrics: new users, active users, hours to first access.

    Example:
        auroractl metrics show
        auroractl metrics show --format json
    """
    from auroractl.ops import metrics as ops

    cfg = ops.config(_context.settings().section("metrics"))
    with _context.connect() as conn:
        row = ops.show(conn, cfg)
    output.result(row, title=f"{cfg.schema}.{cfg.view}")
