"""auroractl config: show where commands connect and with which settings."""

from __future__ import annotations

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Show the resolved target and settings.")


@app.command()
def show(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Print the resolved target (password masked), its source and the session settings.

    Example:
        auroractl --profile prod config show --format json
    """
    from auroractl import db

    s = _context.settings()
    t = _context.target(s)
    data = {
        "source": t.source,
        "config_file": str(s.path) if s.path else None,
        **{f"conn.{k}": v for k, v in db.masked(t).items()},
        "cluster_id": t.cluster_id,
        "region": t.profile.region if t.profile else None,
        "lock_timeout": s.lock_timeout,
        "statement_timeout": s.statement_timeout,
        "lock_retries": s.lock_retries,
        "profiles": sorted(s.profiles),
    }
    output.result(data, rows=pair_rows(data))


def pair_rows(data: dict) -> list[dict]:
    """Key/value rows, values shown verbatim (lists as JSON)."""
    import json

    return [
        {"key": k, "value": v if isinstance(v, str | None) else json.dumps(output.to_jsonable(v))}
        for k, v in data.items()
    ]
