"""One job's request file, written line by line as requests are built, until the next line
would pass the provider's per-batch limits (request count, bytes)."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from tracejury.models import JobItem, ProviderJob
from tracejury.orchestrator.llm.batch.protocol import BatchLimits
from tracejury.orchestrator.llm.batch.store import JobStore

FLUSH_BYTES = 1 << 20


def encode_line(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class JobWriter:
    def __init__(
        self,
        store: JobStore,
        *,
        provider: str,
        model: str,
        endpoint: str,
        round_: int,
        limits: BatchLimits,
        max_requests: int,
    ) -> None:
        self.store = store
        self.provider, self.model, self.endpoint, self.round = provider, model, endpoint, round_
        self.limits = limits
        self.max_requests = min(max_requests, limits.max_requests)
        self.name, self._fd = store.open_requests()
        self.items: list[JobItem] = []
        self.bytes = 0
        self.estimated: float | None = 0.0
        self._buf = bytearray()

    def fits(self, size: int) -> bool:
        return len(self.items) < self.max_requests and self.bytes + size <= self.limits.max_bytes

    def add(self, item: JobItem, data: bytes, estimate: float | None) -> None:
        self.items.append(item)
        self.bytes += len(data)
        self._buf += data
        if self.estimated is not None:
            self.estimated = None if estimate is None else self.estimated + estimate
        if len(self._buf) >= FLUSH_BYTES:
            self._write()

    def _write(self) -> None:
        view = memoryview(self._buf)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._buf = bytearray()

    def finish(self) -> ProviderJob:
        """Blocking: the file synced and closed, then the record (state `prepared`) saved."""
        self._write()
        os.fsync(self._fd)
        os.close(self._fd)
        job = ProviderJob(
            job=self.name,
            uid=secrets.token_hex(12),
            provider=self.provider,
            model=self.model,
            endpoint=self.endpoint,
            round=self.round,
            request_bytes=self.bytes,
            estimated_cost_usd=None if self.estimated is None else round(self.estimated, 6),
            items=self.items,
        )
        self.store.save(job)
        return job

    def abandon(self) -> None:
        os.close(self._fd)
        self.store.requests_path(self.name).unlink(missing_ok=True)
