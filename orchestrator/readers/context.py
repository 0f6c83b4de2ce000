"""Identity of traces: stable ids, relative paths and content fingerprints."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracejury.models import Outcome, TraceRef
from tracejury.orchestrator.readers.textio import Probe, content_problem, file_stat, probed

# Whole-file hashing above this size would make the manifest stage I/O bound on huge logs;
# past it we hash the head, the tail and the size.
FULL_HASH_LIMIT = 16 * 1024 * 1024
SAMPLE_BYTES = 4 * 1024 * 1024


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EVERY_FIELD = set(TraceRef.model_fields)
_VALIDATE = TraceRef.__pydantic_validator__.validate_python


def trace_id_for(root_name: str, rel_path: str, locator: str | None) -> str:
    """Readable and filename-safe, unique through a short hash of the full key."""
    key = f"{root_name}/{rel_path}" + (f"#{locator}" if locator else "")
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    stem = rel_path.rsplit(".", 1)[0] if "." in rel_path.rsplit("/", 1)[-1] else rel_path
    readable = f"{stem}-{locator}" if locator else stem
    slug = _UNSAFE.sub("_", readable).strip("._-")[-80:] or "trace"
    return f"{slug}-{digest}"


def probe_fingerprint(probe: Probe) -> str | None:
    """`fingerprint_file` of a file discovery has just read whole; None when it did not."""
    if probe.whole and probe.st.st_size <= FULL_HASH_LIMIT:
        return hashlib.sha256(probe.head).hexdigest()
    return None


def fingerprint_file(path: Path, probe: Probe | None = None) -> str | None:
    probe = probe or probed(path)
    if probe is not None and (found := probe_fingerprint(probe)) is not None:
        return found  # discovery read it whole just now
    try:
        size = path.stat().st_size
        h = hashlib.sha256()
        with path.open("rb") as f:
            if size <= FULL_HASH_LIMIT:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
                return h.hexdigest()
            h.update(f.read(SAMPLE_BYTES))
            f.seek(max(0, size - SAMPLE_BYTES))
            h.update(f.read(SAMPLE_BYTES))
            h.update(str(size).encode())
            return "sampled:" + h.hexdigest()
    except OSError:
        return None


def fingerprint_files(paths: list[Path]) -> str | None:
    h = hashlib.sha256()
    for p in sorted(paths):
        fp = fingerprint_file(p)
        h.update(f"{p.name}:{fp}\n".encode())
    return h.hexdigest() if paths else None


def members_fingerprint(
    files: list[Path], rel: Callable[[Path], str], content_of: Collection[str], max_content: int
) -> str | None:
    """Names and sizes of a folder trace's members, plus the full content of the small status
    files named in `content_of`.

    Hashing every byte of a large trace folder would make discovery I/O bound; status files
    change whenever the run makes progress, and appends change sizes.
    """
    if not files:
        return None
    h = hashlib.sha256()
    for p in sorted(files):
        try:
            size = p.stat().st_size
        except OSError:
            continue
        h.update(f"{rel(p)}\0{size}\n".encode())
        if p.name in content_of and size < max_content:
            try:
                h.update(hashlib.sha256(p.read_bytes()).digest())
            except OSError:
                pass
    return h.hexdigest()


def _is_file(path: Path) -> bool:
    """`path.is_file()`, from discovery's probe when it has one."""
    try:
        return stat.S_ISREG(file_stat(path).st_mode)
    except OSError as e:
        if e.errno in _MISSING_ERRNOS:  # what pathlib's is_file() also takes for "no"
            return False
        raise
    except ValueError:
        return False


_MISSING_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


# Agents' workspaces: links there point anywhere, and no reader reads them.
UNREAD_FOLDERS = frozenset({"agent_outputs", "workspace", "workspaces"})


def links_out_of(files: list[Path], inside: Path) -> list[tuple[Path, str]]:
    """A folder trace's member files that are symbolic links to a place outside `inside`
    (a resolved folder), with their targets: the trace stays unread rather than read a
    file the user did not name."""
    out: list[tuple[Path, str]] = []
    for p in files:
        if UNREAD_FOLDERS.intersection(p.parts) or not p.is_symlink():
            continue
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            continue  # dangling: nothing to read
        if not target.is_relative_to(inside):
            out.append((p, str(target)))
    return out


def ref_path(ref: TraceRef) -> Path:
    """The file or folder a ref names."""
    return Path(ref.root) / ref.path


def loadable_path(ref: TraceRef) -> Path:
    """The file a ref names; ValueError with the one-line reason when it cannot be a trace."""
    path = ref_path(ref)
    problem = content_problem(path)
    if problem:
        raise ValueError(problem)
    return path


@dataclass
class DiscoverContext:
    """What a reader needs to name the traces it finds under one input root."""

    root: Path
    outcome: Outcome | None = None  # forced by the by-outcome layout
    error_type: str | None = None
    force_format: str | None = None
    extra_meta: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def root_name(self) -> str:
        return self.root.name or "root"

    @functools.cached_property
    def resolved_root(self) -> Path:
        return self.root.resolve()

    @functools.cached_property
    def _root_text(self) -> str:
        # One string for every ref of this root, not a copy each (100,000 refs: 12 MB).
        return str(self.resolved_root)

    @functools.cached_property
    def _root_prefix(self) -> str:
        return str(self.root) + os.sep

    def rel_text(self, text: str) -> str | None:
        """`rel` of a path's text under the root as given (the common case); None otherwise."""
        if text.startswith(self._root_prefix) and len(text) > len(self._root_prefix):
            rest = text[len(self._root_prefix) :]
            return rest if os.sep == "/" else rest.replace(os.sep, "/")
        return None

    def rel(self, path: Path) -> str:
        # Paths found by walking the root are under it as given; resolving every file
        # (a syscall per path component) doubled discovery time on big MassGen roots.
        # The common case is a string prefix (pathlib's relative_to costs 20 us a call).
        found = self.rel_text(str(path))
        if found is not None:
            return found
        try:
            return path.relative_to(self.root).as_posix() or path.name
        except ValueError:
            pass
        try:
            return path.resolve().relative_to(self.resolved_root).as_posix() or path.name
        except ValueError:
            return path.name

    def links_problem(self, files: list[Path]) -> str | None:
        """Why a folder trace must stay unread: a member file linked out of the tree. Readers
        ask before reading any member (make_ref asks again, for those that do not)."""
        escaping = links_out_of(files, self.resolved_root)
        if not escaping:
            return None
        link, target = escaping[0]
        more = f" (and {len(escaping) - 1} more)" if len(escaping) > 1 else ""
        return (
            f"{self.rel(link)} is a symbolic link to {target}, outside the folder named{more}; "
            "this trace is not read"
        )

    def make_ref(
        self,
        path: Path,
        source_format: str,
        *,
        locator: str | None = None,
        trial_name: str | None = None,
        task_name: str | None = None,
        outcome: Outcome = "unknown",
        error_type: str | None = None,
        files: list[Path] | None = None,
        fingerprint: str | None = None,
        size_bytes: int | None = None,
        read_error: str | None = None,
        warnings: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> TraceRef:
        rel = self.rel(path)
        if files and read_error is None and (read_error := self.links_problem(files)):
            files = []
        probe = probed(path) if files is None else None
        if probe is not None:  # a file discovery has just opened (regular, its stat at hand)
            is_file = True
            members = [path]
            if size_bytes is None:
                size_bytes = probe.st.st_size
        else:
            is_file = _is_file(path)
            members = files if files is not None else ([path] if is_file else [])
        if size_bytes is None:
            size_bytes = 0
            for m in members:
                try:
                    size_bytes += file_stat(m).st_size
                except OSError:
                    pass
        if fingerprint is None and members:
            fingerprint = (
                fingerprint_file(members[0], probe)
                if len(members) == 1
                else fingerprint_files(members)
            )
            if fingerprint and locator:
                fingerprint = hashlib.sha256(f"{fingerprint}#{locator}".encode()).hexdigest()
        trial = trial_name or (path.stem if is_file else path.name)
        if locator and not trial_name:
            trial = f"{trial}#{locator}"
        # (the model's validator on a dict: what TraceRef(**fields) does, without its frame)
        ref: TraceRef = _VALIDATE(
            {
                "trace_id": trace_id_for(self.root_name, rel, locator),
                "trial_name": trial,
                "task_name": task_name or trial.rsplit("__", 1)[0],
                "outcome": self.outcome or outcome,
                "error_type": self.error_type or error_type,
                "source_format": source_format,
                "root": self._root_text,
                "path": rel,
                "locator": locator,
                "files": [rel if m is path else self.rel(m) for m in members],
                "size_bytes": size_bytes,
                "fingerprint": fingerprint,
                "read_error": read_error,
                "warnings": warnings or [],
                "metadata": {**self.extra_meta, **(metadata or {})},
            }
        )
        # Every field is given, so every ref's set of given fields is the same one: shared
        # (100,000 refs held 70 MB of equal sets). pydantic only ever adds a field's name to it.
        object.__setattr__(ref, "__pydantic_fields_set__", _EVERY_FIELD)
        return ref
