"""The run directory's `provider_jobs/`: one `job_<n>.json` record (`ProviderJob`) and one
`job_<n>.requests.jsonl` (the requests exactly as sent) per job, plus the `CANCEL` marker
`tracejury cancel` leaves for a run that is still going.

Order of writes, so a kill at any moment loses nothing and sends nothing twice: the request
file is written and synced, then the record (state `prepared`), then the job is sent and the
record rewritten with the provider's id. A request file without a record is a job never
sent; a `prepared` record may have been sent (the provider is asked before sending again).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from tracejury.files import write_model
from tracejury.models import JobItem, ProviderJob

_RECORD = re.compile(r"\Ajob_(\d+)\.json\Z")
CANCEL_MARKER = "CANCEL"


def custom_id(key: tuple[str, str, str], round_: int) -> str:
    """The id a request travels under: fixed by its (trace, perspective, criteria) and the
    round, within both providers' rules (Anthropic: `^[a-zA-Z0-9_-]{1,64}$`)."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:40]
    return f"tj{round_}-{digest}"


class JobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []

    def requests_path(self, job: ProviderJob | str) -> Path:
        name = job if isinstance(job, str) else job.job
        return self.folder / f"{name}.requests.jsonl"

    def record_path(self, job: ProviderJob | str) -> Path:
        name = job if isinstance(job, str) else job.job
        return self.folder / f"{name}.json"

    def jobs(self) -> list[ProviderJob]:
        """Every job record, oldest first; an unreadable one is listed in `problems`."""
        found: list[tuple[int, ProviderJob]] = []
        self.problems = []
        if not self.folder.is_dir():
            return []
        for path in self.folder.iterdir():
            m = _RECORD.match(path.name)
            if m is None:
                continue
            try:
                found.append((int(m.group(1)), ProviderJob.model_validate_json(path.read_bytes())))
            except (OSError, ValidationError, ValueError) as e:
                self.problems.append(f"{path}: unreadable job record ({e.__class__.__name__})")
        return [job for _, job in sorted(found, key=lambda t: t[0])]

    def save(self, job: ProviderJob) -> None:
        write_model(self.record_path(job), job)

    def open_requests(self) -> tuple[str, int]:
        """A new job name and the open descriptor of its (new, empty) request file. The
        exclusive create is what allots the name, so two processes never share one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in self.folder.iterdir() if (m := _NAME.match(p.name))]
        n = max(taken, default=0) + 1
        while True:
            name = f"job_{n:04d}"
            try:
                fd = os.open(self.requests_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                n += 1
                continue
            return name, fd

    def driver_lock(self) -> FileLock:
        """Held by the one process that builds, sends and collects this run's jobs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.folder / ".driver.lock"))

    def cancel_requested(self) -> bool:
        return (self.folder / CANCEL_MARKER).exists()

    def request_cancel(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / CANCEL_MARKER).write_text("cancel requested by `tracejury cancel`\n")

    def clear_cancel(self) -> None:
        (self.folder / CANCEL_MARKER).unlink(missing_ok=True)


_NAME = re.compile(r"\Ajob_(\d+)\.")


def covered_keys(jobs: list[ProviderJob]) -> Iterator[tuple[str, str, str]]:
    """Keys not to be sent again: some job not yet collected will answer them, or a
    collected job's answer for them was handed on to be recorded."""
    for job in jobs:
        if job.active:
            yield from (item.key for item in job.items)
        else:
            yield from (item.key for item in job.items if item.result in ("ok", "invalid"))


def failed_rounds(jobs: list[ProviderJob]) -> dict[tuple[str, str, str], int]:
    """How many collected jobs failed each key (errored, expired, missing; a job the user
    cancelled does not count): one failure is resubmitted, a second goes live."""
    counts: dict[tuple[str, str, str], int] = {}
    for job in jobs:
        if job.state != "collected" or job.cancel_requested:
            continue
        for item in job.items:
            if item.result in ("errored", "expired", "missing", "canceled"):
                counts[item.key] = counts.get(item.key, 0) + 1
    return counts


def new_item(key: tuple[str, str, str], round_: int) -> JobItem:
    trace_id, perspective, criteria_hash = key
    return JobItem(
        custom_id=custom_id(key, round_),
        trace_id=trace_id,
        perspective=perspective,
        criteria_hash=criteria_hash,
    )
