"""A self-contained HTML page for ``capacity show --report``: inline CSS and one inline
SVG chart of ServerlessDatabaseCapacity over time per instance, with the range drawn."""

from __future__ import annotations

import html
from typing import Any

from auroractl.ops.capacity.model import CapacityReport, CapacityStats

COLOURS = ("#0969da", "#8250df", "#1a7f37", "#bf8700", "#cf222e", "#57606a")
CSS = (
    "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;"
    "color:#1f2328}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}"
    "td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left}th{background:#f6f8fa}"
    ".meta{color:#57606a;font-size:.85em}"
)
MAX_POINTS = 1500  # per line: a 14-day minute series is thinned to its per-slot maximum


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _thin(s: CapacityStats) -> list[tuple[float, float]]:
    """(epoch seconds, ACU) keeping each slot's maximum, so that peaks stay visible."""
    points = [(t.timestamp(), v) for t, v in zip(s.timestamps, s.values, strict=True)]
    if len(points) <= MAX_POINTS:
        return points
    size = len(points) / MAX_POINTS
    out = []
    for k in range(MAX_POINTS):
        chunk = points[int(k * size) : int((k + 1) * size)] or points[-1:]
        out.append(max(chunk, key=lambda p: p[1]))
    return out


def chart(r: CapacityReport, width: int = 900, height: int = 260) -> str:
    """Capacity over time, one line per instance; dashed lines at MinCapacity / MaxCapacity."""
    lines = [(s, _thin(s)) for s in r.instances if s.points]
    top = max([r.scaling.max_capacity if r.scaling else 1.0] + [v for _, p in lines for _, v in p])
    times = [t for _, p in lines for t, _ in p]
    t0, t1 = (min(times), max(times)) if times else (0.0, 1.0)
    span = (t1 - t0) or 1.0
    pad = 30

    def xy(t: float, v: float) -> str:
        x = pad + (t - t0) / span * (width - 2 * pad)
        y = height - pad - v / top * (height - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
        f'<rect width="{width}" height="{height}" fill="#f6f8fa"/>',
    ]
    if r.scaling:
        for label, v in (("max", r.scaling.max_capacity), ("min", r.scaling.min_capacity)):
            y = xy(t0, v).split(",")[1]
            svg.append(
                f'<line x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}" stroke="#cf222e" '
                f'stroke-dasharray="4 3"/><text x="2" y="{y}" font-size="10">{label} {v:g}</text>'
            )
    for i, (s, points) in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(xy(t, v) for t, v in points)
        svg.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{path}">'
            f"<title>{_e(s.instance)}</title></polyline>"
        )
    svg.append("</svg>")
    return "".join(svg)


def render(r: CapacityReport) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.instance)}</td><td>{_e(s.role)}</td><td>{_e(s.p50)}</td>"
        f"<td>{_e(s.p95)}</td><td>{_e(s.maximum)}</td><td>{s.share_at_max:.1%}</td>"
        f"<td>{s.share_at_min:.1%}</td><td>{s.share_paused:.1%}</td></tr>"
        for s in r.instances
    )
    rec = r.recommendation
    advice = (
        f"<p>Recommended: MinCapacity {rec.min_capacity:g}, MaxCapacity {rec.max_capacity:g} "
        f"({rec.monthly_difference_usd:+,.2f} USD/month)</p><ul>"
        + "".join(f"<li>{_e(x)}</li>" for x in (*rec.reasons, *rec.consequences))
        + "</ul>"
        if rec
        else ""
    )
    scale = r.scaling.describe() if r.scaling else "not Serverless v2"
    return "\n".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f"<title>auroractl capacity {_e(r.cluster_id)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>auroractl capacity: {_e(r.cluster_id)}</h1>",
            f'<p class="meta">{_e(scale)} · {r.days:g} days at {r.period_s} s · prices '
            f"{_e(r.prices.region)}, {_e(r.prices.as_of)}</p>",
            chart(r),
            "<table><tr><th>instance</th><th>role</th><th>p50</th><th>p95</th><th>max</th>"
            f"<th>at max</th><th>at min</th><th>paused</th></tr>{rows}</table>",
            advice,
            f"<p>{_e(r.io.advice)}</p>" if r.io else "",
            "</body></html>",
        ]
    )
