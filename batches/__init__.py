"""Manifest builder and batch planner. Imports only the shared models in `tracejury`."""

from tracejury.batches.manifest import build_manifest, read_manifest, write_manifest
from tracejury.batches.planner import (
    default_agent_count,
    plan_batches,
    plan_changes,
    read_batch,
    read_plan,
    write_batches,
)

__all__ = [
    "build_manifest",
    "default_agent_count",
    "plan_batches",
    "plan_changes",
    "read_batch",
    "read_manifest",
    "read_plan",
    "write_batches",
    "write_manifest",
]
