"""`provider_jobs/job_<n>.json`: one job submitted to a provider's batch API (`--batch-api`).

The record is written before anything is sent, and again with the provider's id right after
the provider accepts the job, so a run killed at any moment finds every job it started and
never submits a request twice. Its `cost_usd` (at the batch discount) is what the run has
spent through this job, for the budget and `tracejury status`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tracejury.models.common import Record, VersionedRecord, utc_now
from tracejury.models.finding import Usage

# prepared: the record and its request file exist, nothing sent (or not known to be sent);
# submitted: the provider has the job; ended: the provider finished it (completed, expired,
# cancelled, failed); collected: every result of it was recorded or handed on.
JobState = Literal["prepared", "submitted", "ended", "collected"]
ItemResult = Literal["pending", "ok", "invalid", "errored", "expired", "canceled", "missing"]
ACTIVE_STATES: frozenset[JobState] = frozenset({"prepared", "submitted", "ended"})


class JobItem(Record):
    """One request of a job: which (trace, perspective, criteria) it answers."""

    custom_id: str
    trace_id: str
    perspective: str
    criteria_hash: str
    result: ItemResult = "pending"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.trace_id, self.perspective, self.criteria_hash)


class JobCounts(Record):
    """The provider's own request counts, as last polled."""

    total: int = 0
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    canceled: int = 0
    processing: int = 0


class ProviderJob(VersionedRecord):
    job: str = Field(description="local name, job_<n>; also the request file's stem")
    uid: str = Field(description="random id sent as metadata, to find a job after a crash")
    provider: str
    model: str
    endpoint: str = Field(description="/v1/chat/completions, /v1/responses or /v1/messages")
    round: int = Field(default=0, description="0 first submission; 1 a resubmission of failures")
    state: JobState = "prepared"
    provider_id: str | None = None
    input_file_id: str | None = None
    provider_status: str | None = None
    counts: JobCounts = Field(default_factory=JobCounts)
    request_bytes: int = 0
    estimated_cost_usd: float | None = None
    cost_usd: float = Field(default=0.0, description="results collected so far, batch prices")
    usage: Usage = Field(default_factory=Usage)
    cancel_requested: bool = False
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    submitted_at: datetime | None = None
    ended_at: datetime | None = None
    collected_at: datetime | None = None
    items: list[JobItem] = Field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES
