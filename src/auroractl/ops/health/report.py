"""A self-contained HTML health report: inline CSS, inline SVG sparklines, no external assets."""

from __future__ import annotations

import dataclasses
import html
from typing import Any

from auroractl.ops.health.checks import tree_lines
from auroractl.ops.health.model import HealthReport, Section

COLOURS = {"OK": "#1a7f37", "WARN": "#9a6700", "CRIT": "#cf222e", "UNKNOWN": "#57606a"}

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#1f2328}
h1{font-size:1.5em}h2{font-size:1.15em;margin:0}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600;
font-size:.85em;margin-right:.5em}
section{border:1px solid #d0d7de;border-radius:6px;padding:1em;margin:1em 0}
table{border-collapse:collapse;margin-top:.6em;font-size:.9em}
td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.summary{color:#57606a;margin:.4em 0}
code{font-size:.85em;white-space:pre-wrap}.meta{color:#57606a;font-size:.85em}
svg{vertical-align:middle}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str) -> str:
    colour = COLOURS.get(status, "#57606a")
    return f'<span class="badge" style="background:{colour}">{_e(status)}</span>'


def sparkline(values: list[float], width: int = 240, height: int = 40) -> str:
    """An inline SVG polyline of the values (empty box when there are none)."""
    box = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
    box += f'<rect width="{width}" height="{height}" fill="#f6f8fa"/>'
    if values:
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        step = width / max(len(values) - 1, 1)
        points = " ".join(
            f"{i * step:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
            for i, v in enumerate(values)
        )
        box += f'<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{points}"/>'
    return box + "</svg>"


def _findings(section: Section) -> str:
    if not section.findings:
        return ""
    rows = "".join(
        f"<tr><td>{badge(f.status)}</td><td>{_e(f.object)}</td><td><code>{_e(f.message)}</code></td></tr>"
        for f in section.findings
    )
    return f"<table><tr><th>status</th><th>object</th><th>finding</th></tr>{rows}</table>"


def _table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _extra(section: Section) -> str:
    d = section.data
    if section.name == "cloudwatch":
        rows = "".join(
            f"<tr><td>{_e(s['metric'])}</td><td>{_e(s['instance'] or 'cluster')}</td>"
            f"<td>{_e(s['role'])}</td><td>{sparkline(s['values'])}</td>"
            f"<td>{_e(s['minimum'])}</td><td>{_e(s['average'])}</td><td>{_e(s['maximum'])}</td>"
            f"<td>{_e(s['unit'])}</td></tr>"
            for s in d.get("series", [])
        )
        return (
            "<table><tr><th>metric</th><th>instance</th><th>role</th><th>last hours</th>"
            f"<th>min</th><th>avg</th><th>max</th><th>unit</th></tr>{rows}</table>"
        )
    if section.name == "connections":
        return _table(d.get("by_state", []), ["state", "application", "sessions"])
    if section.name == "serverless":
        return _table(d.get("instances", []), ["instance", "role", "state", "capacity", "at"])
    if section.name == "top_queries":
        rows = [dataclasses.asdict(q) for q in d.get("by_total", [])]
        return _table(
            rows,
            [
                "calls",
                "total_ms",
                "mean_ms",
                "pct_total",
                "rows_per_call",
                "hit_pct",
                "temp_blks_written",
                "query",
            ],
        )
    if section.name == "storage":
        return _table(d.get("largest_tables", []), ["name", "bytes"])
    if section.name == "locks" and d.get("blocking_chains"):
        return "<pre>" + _e("\n".join(tree_lines(d["blocking_chains"]))) + "</pre>"
    return ""


def render(report: HealthReport) -> str:
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>auroractl health {_e(report.status)}</title><style>{CSS}</style></head><body>",
        f"<h1>{badge(report.status)}auroractl health</h1>",
        f'<p class="meta">{_e(report.target)} · checked at {_e(report.checked_at.isoformat())} · '
        f"{_e(report.meta.get('round_trips'))} SQL round trips · "
        f"{_e(report.meta.get('seconds'))} s</p>",
    ]
    for s in report.sections:
        parts.append(
            f'<section id="{_e(s.name)}"><h2>{badge(s.status)}{_e(s.title)}</h2>'
            f'<p class="summary">{_e(s.summary)}</p>{_findings(s)}{_extra(s)}</section>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)
