"""Declarative partitions: status, create (draining DEFAULT), ensure ahead, detach.

Strategy and key are read from the catalog. A new partition is built as a standalone
table and ATTACHed (SHARE UPDATE EXCLUSIVE on the parent) instead of
``CREATE TABLE ... PARTITION OF`` (ACCESS EXCLUSIVE on the parent), so inserts into
the parent's other partitions never wait on us.

Modules: ``model`` (bounds and periods as data), ``catalog`` (reads), ``status``,
``naming`` (new partitions named like their siblings), ``siblings`` (what new partitions
copy from the newest one), ``create``, ``ensure`` (per table), ``retention`` (detach).
"""

from auroractl.ops.partition.catalog import parent, range_parents
from auroractl.ops.partition.create import plan_create, validate_create
from auroractl.ops.partition.ensure import (
    DEFAULT_MAX_NEW,
    EnsureFailed,
    EnsureRun,
    TableOutcome,
    TablePlan,
    check_args,
    command_line,
    dry_run_report,
    failure_of,
    outcome,
    plan_ensure,
    plan_table,
    preview,
    run_report,
    try_plan_table,
)
from auroractl.ops.partition.model import (
    INTEGER_TYPES,
    STRATEGIES,
    TEMPORAL_TYPES,
    EnsureReport,
    NewPartition,
    Parent,
    PartitionInfo,
    PartitionStatus,
    add_period,
    as_date,
    check_year,
    interval_of,
    parse_month,
    partition_info,
    period_start,
)
from auroractl.ops.partition.naming import Naming, naming_from_config
from auroractl.ops.partition.retention import Retention, parse_retention, plan_detach
from auroractl.ops.partition.status import status

__all__ = [
    "DEFAULT_MAX_NEW",
    "INTEGER_TYPES",
    "STRATEGIES",
    "TEMPORAL_TYPES",
    "EnsureFailed",
    "EnsureReport",
    "EnsureRun",
    "Naming",
    "NewPartition",
    "Parent",
    "PartitionInfo",
    "PartitionStatus",
    "Retention",
    "TableOutcome",
    "TablePlan",
    "add_period",
    "as_date",
    "check_args",
    "check_year",
    "command_line",
    "dry_run_report",
    "failure_of",
    "interval_of",
    "naming_from_config",
    "outcome",
    "parent",
    "parse_month",
    "parse_retention",
    "partition_info",
    "period_start",
    "plan_create",
    "plan_detach",
    "plan_ensure",
    "plan_table",
    "preview",
    "range_parents",
    "run_report",
    "status",
    "try_plan_table",
    "validate_create",
]
