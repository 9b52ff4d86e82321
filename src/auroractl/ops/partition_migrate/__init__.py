"""Online partitioning of a live table: prep, fill, verify, swap, unswap, cleanup.

``prep`` builds a partitioned twin (columns, defaults, CHECK/NOT NULL, foreign keys,
indexes, grants, policies, comments) and a mirror trigger on the original that applies
every INSERT/UPDATE/DELETE to the twin (DELETE by key + upsert, so it is idempotent
against rows ``fill`` copied). ``fill`` copies existing rows in keyset batches, each its
own short transaction committing its watermark in ``auroractl.migrations_partition_chunks``.
``swap`` renames in one short transaction and leaves a reverse mirror (new -> retired),
so ``unswap`` loses nothing and the foreign keys other tables have on the original stay
enforced. ``cleanup`` moves those onto the new table and drops the retired one after a
passing verify. ``abort``, from any phase before cleanup, leaves the table as it was.

Modules: ``catalog`` reads (facts and migration state), ``prep`` plans from facts alone,
``fill`` is the batched Job, ``verify`` compares, ``swap`` renames (and unswaps, aborts),
``follow`` carries the table's dependents, ``references`` the foreign keys onto it,
``cleanup`` drops the retired table.
"""

from auroractl.ops.partition_migrate._common import (
    FORWARD_TRIGGER,
    REVERSE_TRIGGER,
    function_names,
)
from auroractl.ops.partition_migrate.cleanup import CleanupResult, plan_cleanup
from auroractl.ops.partition_migrate.fill import (
    FillResult,
    check_batching,
    describe_fill,
    fill,
    fill_job,
)
from auroractl.ops.partition_migrate.prep import (
    BY_CHOICES,
    MAX_PARTITIONS,
    PartitionSpec,
    PrepArgs,
    PrepReport,
    check_prep_args,
    plan_prep,
    prep,
)
from auroractl.ops.partition_migrate.swap import plan_abort, plan_swap, plan_unswap
from auroractl.ops.partition_migrate.verify import Difference, VerifyResult, verify

__all__ = [
    "BY_CHOICES",
    "FORWARD_TRIGGER",
    "MAX_PARTITIONS",
    "REVERSE_TRIGGER",
    "CleanupResult",
    "Difference",
    "FillResult",
    "PartitionSpec",
    "PrepArgs",
    "PrepReport",
    "VerifyResult",
    "check_batching",
    "check_prep_args",
    "describe_fill",
    "fill",
    "fill_job",
    "function_names",
    "plan_abort",
    "plan_cleanup",
    "plan_prep",
    "plan_swap",
    "plan_unswap",
    "prep",
    "verify",
]
