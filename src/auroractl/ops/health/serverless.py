"""The "serverless" section of ``auroractl health``: the Serverless v2 range and whether
the cluster is paused, read from AWS only (ops.shared.serverless), and the report health
gives for a paused cluster without connecting to it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from auroractl.ops.health.model import (
    EXIT_CODES,
    OK,
    SECTIONS,
    TITLES,
    UNKNOWN,
    HealthReport,
    Section,
    worst,
)

NAME = "serverless"
AWS_SECTIONS = ("serverless", "cloudwatch")  # what health reports without connecting


def lookup(
    rds: Any, cw: Any, cluster_id: str, now: dt.datetime | None = None
) -> tuple[Any, Section]:
    """(the pause state or None, the section). An AWS failure is UNKNOWN, never a crash:
    health then connects as it always did."""
    from auroractl import aws
    from auroractl.errors import AuroraCtlError
    from auroractl.ops.shared import serverless

    try:
        state = serverless.pause_state(rds, cw, cluster_id, now)
    except Exception as exc:  # AWS errors, credentials: report, never crash health
        if not (isinstance(exc, AuroraCtlError) or aws.is_aws_error(exc)):
            raise
        text = " ".join(str(exc).split())[:300]
        return None, Section(NAME, TITLES[NAME], UNKNOWN, f"could not check: {text}")
    data = {
        "paused": state.paused,
        "scaling": dataclasses.asdict(state.scaling) if state.scaling else None,
        "instances": [dataclasses.asdict(i) for i in state.instances],
    }
    return state, Section(NAME, TITLES[NAME], OK, state.summary(), data=data)


def woken(section: Section) -> Section:
    """The section when --wake connected to a paused cluster."""
    return dataclasses.replace(
        section, summary=f"{section.summary} (this check resumed it: --wake)"
    )


def paused_report(
    target: str,
    only: Iterable[str],
    section: Section,
    limits: Mapping[str, float],
    cloudwatch: Callable[[Mapping[str, float], dt.datetime], Section | None] | None,
) -> HealthReport:
    """The report of a paused cluster: its AWS-side sections only, no connection made."""
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    names = [n for n in SECTIONS if n in set(only)]
    sections = [section]
    if "cloudwatch" in names and cloudwatch is not None:
        cw_section = cloudwatch(limits, now)
        if cw_section is not None:
            sections.append(cw_section)
    why = "the cluster is paused: connecting would resume it (auroractl health --wake checks it)"
    skipped = [f"{n}: {why}" for n in names if n not in AWS_SECTIONS]
    status = worst(s.status for s in sections)
    return HealthReport(
        status,
        EXIT_CODES[status],
        now,
        target,
        tuple(sections),
        {
            "schema_version": 1,
            "round_trips": 0,
            "seconds": round(time.monotonic() - started, 3),
            "paused": True,
            "skipped": skipped,
        },
    )
