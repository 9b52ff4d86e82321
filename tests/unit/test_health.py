"""health without a database: thresholds, --only, status arithmetic, tree, HTML report."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops import health
from auroractl.ops.health import checks as health_checks
from auroractl.ops.health import cloudwatch as health_cloudwatch
from auroractl.ops.health import report as health_report


def test_thresholds_overlay_defaults_and_reject_unknown_or_bad_values():
    th = health.thresholds({"sequence_warn_pct": 70, "unused_index_min_mb": 0.5})
    assert th["sequence_warn_pct"] == 70 and th["unused_index_min_mb"] == 0.5
    assert th["sequence_crit_pct"] == health.DEFAULTS["sequence_crit_pct"]
    with pytest.raises(InvalidInput, match="unknown"):
        health.thresholds({"sequence_warn": 70})
    for bad in ("80", -1, True):
        with pytest.raises(InvalidInput, match="must be a number"):
            health.thresholds({"sequence_warn_pct": bad})


def test_parse_only():
    assert health.parse_only(None) == health.SECTIONS
    assert health.parse_only("locks, connections,locks") == ("locks", "connections")
    assert health.parse_only("top-queries") == ("top_queries",)
    with pytest.raises(InvalidInput, match="bogus"):
        health.parse_only("locks,bogus")


def test_worst_status_and_exit_codes():
    assert health.worst([]) == "OK"
    assert health.worst(["OK", "UNKNOWN"]) == "UNKNOWN"
    assert health.worst(["UNKNOWN", "WARN"]) == "WARN"
    assert health.worst(["WARN", "CRIT", "UNKNOWN"]) == "CRIT"
    assert health.EXIT_CODES == {"OK": 0, "WARN": 1, "CRIT": 2, "UNKNOWN": 3}


def test_blocking_tree_nests_chains_and_survives_cycles():
    sessions = {p: {"state": "active", "query": f"q{p}", "query_seconds": 1.0} for p in (1, 2, 3)}
    tree = health_checks._tree(sessions, {1: [2], 2: [3]})
    assert tree[0]["pid"] == 1
    assert tree[0]["blocks"][0]["pid"] == 2
    assert tree[0]["blocks"][0]["blocks"][0]["pid"] == 3
    lines = health_checks.tree_lines(tree)
    assert lines[0].startswith("pid 1") and "└── pid 3" in lines[2]
    cycle = health_checks._tree(sessions, {1: [2], 2: [1]})  # a deadlock being detected
    assert cycle and len(health_checks.tree_lines(cycle)) <= 3


def _report(*sections: health.Section) -> health.HealthReport:
    status = health.worst(s.status for s in sections)
    return health.HealthReport(
        status,
        health.EXIT_CODES[status],
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "t (<host>)",
        sections,
        {"round_trips": 11, "seconds": 0.1},
    )


def test_html_report_escapes_and_draws_sparklines():
    cw = health.Section(
        "cloudwatch",
        "CloudWatch",
        "WARN",
        "1 series",
        (health.Finding("WARN", "pinned <script>", "w1"),),
        data={
            "series": [
                {
                    "metric": "ACUUtilization",
                    "instance": "w1",
                    "role": "WRITER",
                    "unit": "Percent",
                    "minimum": 1,
                    "average": 2,
                    "maximum": 3,
                    "values": [1.0, 3.0, 2.0],
                }
            ]
        },
    )
    text = health_report.render(_report(cw))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<polyline" in text and "&lt;host&gt;" in text
    assert health_report.sparkline([]).count("<polyline") == 0


def test_cloudwatch_section_without_the_module_is_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "auroractl.ops.shared.cloudwatch", None)  # import fails
    sec = health_cloudwatch.section("c1", "us-east-1", None, health.DEFAULTS)
    assert sec.status == "UNKNOWN"
    assert "could not check" in sec.summary


def test_the_health_package_has_no_import_cycle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("auroractl")
    modules = sorted(m for m in graph.modules if m.startswith("auroractl.ops.health"))
    assert len(modules) >= 5
    for a in modules:
        for b in modules:
            if a < b and graph.find_shortest_chain(a, b) and graph.find_shortest_chain(b, a):
                pytest.fail(f"import cycle between {a} and {b}")
    # model is the leaf every other module of the package builds on
    assert not graph.find_modules_directly_imported_by("auroractl.ops.health.model") & set(modules)
