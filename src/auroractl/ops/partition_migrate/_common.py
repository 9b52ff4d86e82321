"""Names and rendering shared by the steps of ``partition migrate``."""

from __future__ import annotations

import hashlib
from typing import Any

from auroractl import templates
from auroractl.ops.partition_migrate.catalog import STATE_SCHEMA
from auroractl.ops.shared.shape import suffixed

T = "partition_migrate/"
FORWARD_TRIGGER = "auroractl_pm_mirror"
REVERSE_TRIGGER = "auroractl_pm_reverse"

__all__ = ["FORWARD_TRIGGER", "REVERSE_TRIGGER", "T", "function_names", "render", "suffixed"]


def render(template: str, /, **ctx: Any) -> str:
    return templates.render(T + template, **ctx)


def function_names(schema: str, table: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The forward and reverse mirror functions of one migration (in schema auroractl)."""
    tag = hashlib.sha256(f"{schema}.{table}".encode()).hexdigest()[:12]
    return (STATE_SCHEMA, f"pm_{tag}_forward"), (STATE_SCHEMA, f"pm_{tag}_reverse")
