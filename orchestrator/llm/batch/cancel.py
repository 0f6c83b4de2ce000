"""Cancelling a run's provider jobs (`tracejury cancel --out DIR`, or Ctrl-C twice).

The `CANCEL` marker goes first, so a run still working stops sending jobs and keeps the
mark on every record it saves; then every job not yet collected is cancelled at the
provider. A `prepared` job is looked for at the provider first (a killed run may have sent
it); one the provider never had is closed here. What the provider had already answered
is still collected by the run (or by a re-run), and cancelled requests are sent again
only when the run is started again.
"""

from __future__ import annotations

from tracejury.models import utc_now
from tracejury.orchestrator.llm.batch.protocol import BatchBackend
from tracejury.orchestrator.llm.batch.store import JobStore


async def cancel_jobs(store: JobStore, backend: BatchBackend) -> int:
    """Cancel every active job; how many the provider was asked to cancel."""
    store.request_cancel()
    jobs = store.jobs()
    known = {j.provider_id for j in jobs if j.provider_id}
    asked = 0
    for job in jobs:
        if not job.active:
            continue
        job.cancel_requested = True
        provider_id = job.provider_id
        try:
            if provider_id is None:
                provider_id = await backend.find(job, known)
            if provider_id is not None and job.state != "ended":
                await backend.cancel(provider_id)
                asked += 1
        except Exception as e:  # one line in the record; the other jobs are still cancelled
            job.last_error = f"cancel failed: {e.__class__.__name__}: {e}"[:400]
        if provider_id is None:  # never sent: nothing to wait for
            job.state = "collected"
            job.collected_at = utc_now()
            for item in job.items:
                item.result = "canceled"
        elif job.provider_id is None:
            job.provider_id, job.state = provider_id, "submitted"
        store.save(job)
    return asked
