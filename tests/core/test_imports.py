"""The import structure the layout promises: imports at module top (lazy only where an SDK
is deferred on purpose, or, in the CLI, what one command alone needs), no import cycle between our modules, and `aggregate`/`batches`
importing only the `tracejury` core."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Source folder -> the package it installs as (setup.py's package-dir mapping).
ROOTS = {
    "tracejury": REPO / "tracejury",
    "tracejury.orchestrator": REPO / "orchestrator",
    "tracejury.batches": REPO / "batches",
    "tracejury.aggregate": REPO / "aggregate",
}
# Deliberately lazy: the SDKs (and the client modules that import them) load only when their
# backend is used, DuckDB only where SQL runs (`tracejury query` and `export`); the public
# API imports each name on first use.
SDK_MODULES = {
    "duckdb",
    "openai",
    "anthropic",
    "tracejury.orchestrator.llm.openai_client",
    "tracejury.orchestrator.llm.anthropic_client",
    "tracejury.orchestrator.llm.openai_batch",
    "tracejury.orchestrator.llm.anthropic_batch",
}
LAZY_FILES = {"tracejury/__init__.py", "tracejury/models/__init__.py", "batches/__init__.py"}
# The CLI's start-up pattern (orchestrator/cli/group.py): a command module may import inside
# a function what only that command needs, so `--help` stays fast; the import must carry a
# comment, on its line or above its block of imports, saying why. `aggregate/api.py` likewise
# imports the aggregation once its validation process is started, and
# `aggregate/completeness.py` the criteria loader (yaml) for a run configured by criteria files.
LAZY_WITH_REASON = ("orchestrator/cli/", "aggregate/api.py", "aggregate/completeness.py")


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's line or above it; one comment covers a block of imports."""
    if "#" in lines[node.lineno - 1]:
        return True
    for line in reversed(lines[: node.lineno - 1]):
        above = line.strip()
        if above.startswith("#"):
            return True
        if above and not above.startswith(("from ", "import ")):
            return False
    return False


CORE = ("tracejury.orchestrator", "tracejury.batches", "tracejury.aggregate")


def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for prefix, root in ROOTS.items():
        for f in root.rglob("*.py"):
            if "__pycache__" in f.parts:
                continue
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = f
    return out


MODULES = modules()


def _is_type_checking(node: ast.stmt) -> bool:
    """An `if TYPE_CHECKING:` block, or one that imports a module only where the platform
    has it (`if sys.platform != "win32":`): both still sit at the module's top."""
    if not isinstance(node, ast.If):
        return False
    test = ast.unparse(node.test)
    return "TYPE_CHECKING" in test or "sys.platform" in test


def top_level_imports(path: Path) -> set[str]:
    """Our modules `path` imports at its top level (a `from pkg import sub` names `pkg.sub`)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            found.update(s for s in subs if s in MODULES)
            if not all(s in MODULES for s in subs):
                found.add(node.module)
    return {m for m in found if m in MODULES}


def _imported(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    return {node.module or ""}


def test_imports_sit_at_module_top() -> None:
    hidden: list[str] = []
    for path in MODULES.values():
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.splitlines()
        top = {id(n) for n in tree.body}
        top |= {id(inner) for n in tree.body if _is_type_checking(n) for inner in n.body}
        hidden += [
            f"{rel}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            and id(node) not in top
            and rel not in LAZY_FILES
            and not _imported(node) <= SDK_MODULES
            and not (rel.startswith(LAZY_WITH_REASON) and _has_reason(lines, node))
        ]
    assert len(MODULES) > 100  # the walk saw the whole package
    assert hidden == []


def test_no_import_cycle() -> None:
    graph = {name: top_level_imports(path) - {name} for name, path in MODULES.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for dep in sorted(graph[m]):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert sum(len(v) for v in graph.values()) > 300  # the edges were really read
    assert cycles == []


def test_aggregate_and_batches_import_only_the_core() -> None:
    wrong = [
        f"{name} -> {dep}"
        for name, path in MODULES.items()
        if name.startswith(("tracejury.aggregate", "tracejury.batches"))
        for dep in top_level_imports(path)
        if dep.startswith("tracejury.orchestrator")
    ]
    assert wrong == []


def test_sdks_are_imported_in_the_sdk_client_modules_only() -> None:
    importers = sorted(
        path.relative_to(REPO).as_posix()
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        and any(
            (a.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
            in ("openai", "anthropic")
            for a in node.names
        )
    )
    assert importers == [
        "orchestrator/llm/anthropic_client.py",
        "orchestrator/llm/openai_client.py",
    ]
