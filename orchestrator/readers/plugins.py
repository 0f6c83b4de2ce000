"""Third-party readers, registered through the `tracejury.readers` entry-point group.

A package declares, in its `pyproject.toml`:

    [project.entry-points."tracejury.readers"]
    myformat = "mypkg.reader:MyReader"

The object named is a `Reader` class (instantiated with no arguments), a factory returning
one, or a reader instance. A plugin that fails to load, does not satisfy the protocol or
reuses a taken name is left out and reported (`tracejury formats` lists why); it never stops
tracejury. A reader may list `suffixes` (`(".tally",)`) that a folder walk should read besides
the usual `.json`, `.jsonl`, `.log`, …. Plugins join the detection order after the built-in specific formats and before
the generic chat and plain fallbacks, so they see the files those would otherwise claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from tracejury.orchestrator.readers.protocol import Reader

GROUP = "tracejury.readers"


@dataclass(frozen=True)
class PluginProblem:
    entry_point: str  # "name = module:attr"
    distribution: str | None
    problem: str


@dataclass(frozen=True)
class Plugin:
    reader: Reader
    distribution: str | None  # "package 1.2.0"


def _distribution(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None
    return f"{dist.metadata['Name']} {dist.version}"


def _instantiate(obj: object) -> object:
    if isinstance(obj, type):
        return obj()
    if callable(obj) and not isinstance(obj, Reader):
        return obj()
    return obj


def load_plugins(taken: set[str]) -> tuple[list[Plugin], list[PluginProblem]]:
    """The installed plugin readers whose names are not in `taken`, and the ones left out."""
    plugins: list[Plugin] = []
    problems: list[PluginProblem] = []
    try:
        eps = sorted(entry_points(group=GROUP), key=lambda e: e.name)
    except Exception as e:  # broken metadata of some unrelated distribution
        return [], [PluginProblem(GROUP, None, f"cannot list entry points ({e})")]
    names = set(taken)
    for ep in eps:
        where, dist = f"{ep.name} = {ep.value}", _distribution(ep)
        try:
            reader = _instantiate(ep.load())
        except Exception as e:  # a plugin's import error must not stop tracejury
            msg = f"{e.__class__.__name__}: {e}".splitlines()[0][:200]
            problems.append(PluginProblem(where, dist, f"failed to load ({msg})"))
            continue
        if not isinstance(reader, Reader) or getattr(reader, "kind", None) not in ("file", "dir"):
            problems.append(
                PluginProblem(
                    where, dist, "not a reader (needs name, kind file|dir, detect, discover, load)"
                )
            )
            continue
        if not isinstance(reader.name, str) or not reader.name or reader.name in names:
            problems.append(
                PluginProblem(where, dist, f"format name '{reader.name}' is already taken")
            )
            continue
        names.add(reader.name)
        plugins.append(Plugin(reader, dist))
    return plugins, problems
