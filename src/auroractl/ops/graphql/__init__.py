"""GraphQL through PostGraphile 5: the readiness check and the generated setup."""

from auroractl.ops.graphql.readiness import Finding, Manifest, Readiness, Relation, Target, check
from auroractl.ops.graphql.setup import Options, files, plan_grant, write

__all__ = [
    "Finding",
    "Manifest",
    "Options",
    "Readiness",
    "Relation",
    "Target",
    "check",
    "files",
    "plan_grant",
    "write",
]
