"""Where a batch run's time goes: tracejury's own work (building requests, validating and
recording answers) apart from the provider's (submitting, waiting). `bench/bench_batch.py`
prints these per 1,000 traces."""

from __future__ import annotations

from dataclasses import dataclass, field

# build: load, facts, digest, request lines, request files; submit: upload and create;
# poll: asking the provider; wait: sleeping between polls; collect: downloading results
# and handing them on; validate: each answer validated, grounded and queued for appending.
PHASES = ("build", "submit", "poll", "wait", "collect", "validate")


@dataclass
class Timings:
    """Seconds per phase. Concurrent tasks add up, so `build` and `validate` are CPU-ish
    time across tasks, not wall time."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + max(0.0, seconds)
