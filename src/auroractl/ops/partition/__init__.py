"""Declarative partitions: status, create (draining DEFAULT), ensure ahead, detach.

Strategy and key are read from the catalog. A new partition is built as a standalone
table and ATTACHed (SHARE UPDATE EXCLUSIVE on the parent) instead of
``CREATE TABLE ... PARTITION OF`` (ACCESS EXCLUSIVE on the parent), so inserts into
the parent's other partitions never wait on us.

Modules: ``model`` (bounds and periods as data), ``catalog`` (reads), ``status``,
``create``, ``ensure``, ``retention`` (detach).
"""

from auroractl.ops.partition.catalog import parent, range_parents
from auroractl.ops.partition.create import plan_create, validate_create
from auroractl.ops.partition.ensure import plan_ensure
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
from auroractl.ops.partition.retention import plan_detach
from auroractl.ops.partition.status import status

__all__ = [
    "INTEGER_TYPES",
    "STRATEGIES",
    "TEMPORAL_TYPES",
    "EnsureReport",
    "NewPartition",
    "Parent",
    "PartitionInfo",
    "PartitionStatus",
    "add_period",
    "as_date",
    "check_year",
    "interval_of",
    "parent",
    "parse_month",
    "partition_info",
    "period_start",
    "plan_create",
    "plan_detach",
    "plan_ensure",
    "range_parents",
    "status",
    "validate_create",
]
