"""A package's names imported from their modules on first use (PEP 562): the one
`__getattr__` and `__dir__` of `tracejury.models`, `tracejury.batches` and
`tracejury.aggregate`, so a command (or the aggregate's validation process) loads only what
it uses. (`tracejury/__init__.py` keeps its own: `import
tracejury` loads no other module of ours.)"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Getattr = Callable[[str], Any]
Dir = Callable[[], list[str]]


def lazy_names(
    package: str,
    sources: Mapping[str, tuple[str, ...]],
    namespace: dict[str, Any],
    public: Iterable[str],
) -> tuple[Getattr, Dir]:
    """The package's `__getattr__` and `__dir__`. `sources`: module -> the names it holds;
    `namespace`: the package's globals(); `public`: its `__all__`."""
    where = {name: module for module, names in sources.items() for name in names}
    listed = list(public)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *listed})

    return __getattr__, __dir__
