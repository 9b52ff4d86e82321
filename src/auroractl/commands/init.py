"""auroractl init: install or upgrade auroractl's own tables (schema auroractl)."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt


def init(
    show_status: Annotated[
        bool,
        typer.Option("--status", help="Show the installed and latest versions; change nothing."),
    ] = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Install or upgrade auroractl's own tables (ledger, receipts, job state).

    Run once per database by a role that may create the schema auroractl (on Aurora, the
    master user). Idempotent. Other roles then need only USAGE on schema auroractl and
    SELECT, INSERT (UPDATE, DELETE for job state) on its tables. Without it, a command
    that records something installs them itself when its role may, and otherwise stops
    with exit 3 naming this command.

    Example:
        auroractl init --dry-run
        auroractl init --yes
        auroractl init --status --format json
    """
    from auroractl.ops.shared import state

    with _context.connect() as conn:
        if show_status:
            st = state.status(conn)
            output.result({**_fields(st), "current": st.current}, table=lambda: _status_text(st))
            return
        output.result(_context.apply(conn, state.plan(conn), dry_run, yes))


def _fields(st) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "installed": st.installed,
        "latest": st.latest,
        "pending": list(st.pending),
        "unversioned": st.unversioned,
        "may_install": st.may_install,
    }


def _status_text(st) -> None:  # type: ignore[no-untyped-def]
    if st.current:
        line = f"auroractl's tables: version {st.installed} (latest)"
    elif st.installed == 0 and not st.unversioned:
        line = f"auroractl's tables: not installed (latest version {st.latest})"
    else:
        found = "unversioned tables found" if st.unversioned else f"version {st.installed}"
        line = f"auroractl's tables: {found}, latest {st.latest}"
    lines = [line, *(f"pending: {f}" for f in st.pending)]
    if not st.current:
        who = "this role may" if st.may_install else "this role may not: another role must"
        lines.append(f"run `auroractl init --yes` ({who} run it)")
    for text in lines:
        output.stdout().print(text, markup=False)
