"""Ctrl-C during a `--batch-api` run. The first stops the run and leaves the provider's
jobs running (they are paid for and a re-run collects them); a second within `CONFIRM_S`
cancels them at the provider as well, as `tracejury cancel --out DIR` does."""

from __future__ import annotations

import signal
from contextlib import ExitStack
from typing import TYPE_CHECKING

import anyio

from tracejury.orchestrator.llm.batch.cancel import cancel_jobs
from tracejury.orchestrator.run.stage import _RunState

if TYPE_CHECKING:
    from tracejury.orchestrator.run.batch_stage import BatchRunStage

CONFIRM_S = 5.0


async def ctrl_c(stage: BatchRunStage, state: _RunState) -> None:
    with ExitStack() as stack:
        try:
            signals = stack.enter_context(anyio.open_signal_receiver(signal.SIGINT))
        except (ValueError, RuntimeError, NotImplementedError):
            return  # not the main thread: Ctrl-C is the caller's
        async for _ in signals:
            break
        state.interrupted = True
        state.stop_reason = state.stop_reason or "interrupted"
        running = sum(1 for j in stage.store.jobs() if j.active)
        stage.display.info(
            f"Ctrl-C: stopping; {running} provider batch jobs keep running and a re-run "
            f"collects them; press Ctrl-C again within {CONFIRM_S:g} s to cancel them"
        )
        with anyio.move_on_after(CONFIRM_S):
            async for _ in signals:
                with anyio.CancelScope(shield=True):
                    n = await cancel_jobs(stage.store, stage.backend)
                state.stop_reason = f"interrupted; {n} provider batch jobs cancelled"
                stage.display.info(state.stop_reason)
                break
    stage.halt()
