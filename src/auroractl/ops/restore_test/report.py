"""Evidence files for a restore test: Markdown or HTML (for the auditor's folder)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from auroractl.errors import InvalidInput

if TYPE_CHECKING:
    from auroractl.ops.restore_test.model import RestoreTestReport


def summary(report: RestoreTestReport) -> dict[str, object]:
    """The headline figures, in display order."""
    return {
        "outcome": report.outcome,
        "backend": report.backend,
        "source": report.source,
        "restored": report.restored,
        "restore from": report.restore_from,
        "requested at": report.requested_at.isoformat(timespec="seconds"),
        "restore point": report.restore_point.isoformat(timespec="seconds")
        if report.restore_point
        else None,
        "newest data": report.newest_data.isoformat(timespec="seconds")
        if report.newest_data
        else None,
        "RTO (s)": report.rto_s,
        "RPO (s)": report.rpo_s,
        **{k.replace("_s", " (s)"): v for k, v in report.timings.items()},
        "checks": f"{sum(c.status == 'pass' for c in report.checks)} passed, "
        f"{sum(c.status == 'warn' for c in report.checks)} warnings, "
        f"{len(report.failed_checks)} failed",
        **(
            {"erasures re-applied": report.erasures_reapplied}
            if report.erasures_reapplied is not None
            else {}
        ),
        "torn down": "no (--keep)" if report.kept else "yes",
        **({"error": report.error} if report.error else {}),
        **({"ledger id": report.id} if report.id is not None else {}),
    }


def markdown(report: RestoreTestReport) -> str:
    lines = [f"# Restore test: {report.outcome.upper()}", "", "| | |", "| --- | --- |"]
    for key, value in summary(report).items():
        lines.append(f"| {key} | {_md(value)} |")
    lines += ["", "## Checks", "", "| check | result | detail |", "| --- | --- | --- |"]
    for c in report.checks:
        lines.append(f"| {_md(c.name)} | {c.status} | {_md(c.detail)} |")
    for note in report.notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def html_page(report: RestoreTestReport) -> str:
    e = html.escape
    head = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e('' if v is None else str(v))}</td></tr>"
        for k, v in summary(report).items()
    )
    rows = "".join(
        f'<tr class="{e(c.status)}"><td>{e(c.name)}</td><td>{e(c.status)}</td>'
        f"<td>{e(c.detail)}</td></tr>"
        for c in report.checks
    )
    notes = "".join(f"<p>Note: {e(n)}</p>" for n in report.notes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Restore test {e(report.outcome)}</title><style>"
        "body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        "table{border-collapse:collapse}.fail{background:#fdd}.warn{background:#ffd}</style>"
        f"</head><body><h1>Restore test: {e(report.outcome.upper())}</h1><table>{head}</table>"
        f"<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>detail</th></tr>{rows}"
        f"</table>{notes}</body></html>\n"
    )


def write(report: RestoreTestReport, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        text = markdown(report)
    elif suffix in (".html", ".htm"):
        text = html_page(report)
    else:
        raise InvalidInput(f"--report {path}: use a .md or .html file name")
    path.write_text(text, encoding="utf-8")


def check_path(path: Path) -> None:
    """Fail on a bad report name before the restore test runs, not after."""
    if path.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
        raise InvalidInput(f"--report {path}: use a .md or .html file name")
    if not path.parent.exists():
        raise InvalidInput(f"--report {path}: directory {path.parent} does not exist")
