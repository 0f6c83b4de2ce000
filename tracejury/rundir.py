"""The layout of one run directory: every file an analysis writes lives under it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tracejury.natural import natural_sorted

DEFAULT_RUNS_ROOT = Path("tracejury-runs")


# Written into every run directory, so a scan of a tree that holds run directories (an
# --out inside the traces folder) does not read our own files as traces.
RUN_MARKER = ".tracejury-run"


def is_run_dir(path: Path) -> bool:
    """A tracejury run directory: its marker, or (older runs) a manifest beside findings."""
    return (path / RUN_MARKER).exists() or (
        (path / "findings.jsonl").exists() and (path / "manifest.json").exists()
    )


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def manifest(self) -> Path:
        return self.path / "manifest.json"

    @property
    def batches_dir(self) -> Path:
        return self.path / "batches"

    def batch(self, n: int) -> Path:
        return self.batches_dir / f"batch_{n}.json"

    @property
    def findings(self) -> Path:
        return self.path / "findings.jsonl"

    @property
    def facts(self) -> Path:
        return self.path / "facts.jsonl"

    @property
    def status(self) -> Path:
        return self.path / "status.json"

    @property
    def config(self) -> Path:
        return self.path / "run.json"

    @property
    def fingerprint(self) -> Path:
        return self.path / "fingerprint.json"

    @property
    def spend(self) -> Path:
        return self.path / "spend.jsonl"

    @property
    def summary_json(self) -> Path:
        return self.path / "analysis_summary.json"

    @property
    def summary_md(self) -> Path:
        return self.path / "SUMMARY.md"

    @property
    def summary_html(self) -> Path:
        return self.path / "summary.html"

    @property
    def reports_dir(self) -> Path:
        return self.path / "reports"

    @property
    def claims_dir(self) -> Path:
        """`claims/<unit>.json`: which process holds which batch (`orchestrator.run.claims`)."""
        return self.path / "claims"

    @property
    def provider_jobs_dir(self) -> Path:
        """`--batch-api`: one record (and request file) per job sent to a provider."""
        return self.path / "provider_jobs"

    @property
    def problems(self) -> Path:
        return self.path / "problems.jsonl"

    def batch_files(self) -> list[Path]:
        return natural_sorted(self.batches_dir.glob("batch_*.json"))


def new_run_dir(root: Path = DEFAULT_RUNS_ROOT) -> RunDir:
    """A fresh, unique directory: parallel runs started in the same second never collide."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        name = stamp if n == 0 else f"{stamp}-{n}"
        try:
            (root / name).mkdir()  # atomic: exactly one process wins a name
            return RunDir(root / name)
        except FileExistsError:
            continue
    name = f"{stamp}-{os.getpid()}"
    (root / name).mkdir()
    return RunDir(root / name)


def shown_path(path: str | Path) -> str:
    """A path as the user would type it here: relative under the working directory."""
    rel = os.path.relpath(path)
    return Path(path).as_posix() if rel.startswith("..") else rel
