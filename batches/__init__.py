"""Manifest builder and batch planner. Imports only the shared models in `tracejury`.

Each name is imported from its module on first use, so the manifest stage (which needs only
`batches.manifest`) does not load the planner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tracejury.lazy_names import lazy_names

if TYPE_CHECKING:  # the real names for type checkers; at run time, see __getattr__
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

# Where each name lives: imported from there on first use.
_SOURCES: dict[str, tuple[str, ...]] = {
    "tracejury.batches.manifest": ("build_manifest", "read_manifest", "write_manifest"),
    "tracejury.batches.planner": (
        "default_agent_count",
        "plan_batches",
        "plan_changes",
        "read_batch",
        "read_plan",
        "write_batches",
    ),
}
__getattr__, __dir__ = lazy_names(__name__, _SOURCES, globals(), __all__)
