"""`--batch-api` through the library entry point against the in-process fake provider:
one finding per pair at the batch price, failures resubmitted once then analyzed live,
invalid answers re-asked live, and a re-run that adopts the jobs it finds."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from by_outcome_factory import make_by_outcome_tree
from fakeprovider import FakeProviderConfig, RunningFakeProvider, serve

from tracejury.errors import ConfigError, ExitCode
from tracejury.files import write_model
from tracejury.jsonl import iter_jsonl_models
from tracejury.models import Finding, ProviderJob
from tracejury.orchestrator.llm.batch.store import JobStore
from tracejury.orchestrator.llm.pricing import PriceTable
from tracejury.orchestrator.pipeline import make_manifest, run_analysis_async
from tracejury.orchestrator.results import RunResult
from tracejury.orchestrator.run.batch_stage import BatchRunStage
from tracejury.orchestrator.run.group_commit import GroupCommit, Queued

pytestmark = pytest.mark.anyio
N = 8


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEJURY_BATCH_POLL", "0.02,0.1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    make_by_outcome_tree(tmp_path / "traces", n=N, with_bad_files=False)
    make_manifest([tmp_path / "traces"], tmp_path / "run", display="none")
    return tmp_path / "run"


async def batch_run(run: Path, fp: RunningFakeProvider, **kw: object) -> RunResult:
    return await run_analysis_async(
        run,
        backend="openai",
        base_url=fp.openai_base_url,
        batch_api=True,
        display="none",
        **kw,  # type: ignore[arg-type]
    )


def findings(run: Path) -> list[Finding]:
    out = [f for _, f in iter_jsonl_models(run / "findings.jsonl", Finding)]
    assert all(isinstance(f, Finding) for f in out)
    return out  # type: ignore[return-value]


def live_requests(fp: RunningFakeProvider) -> int:
    return sum(1 for r in fp.requests if r["path"] == "/v1/chat/completions")


async def test_every_pair_answered_once_at_the_batch_price(run_dir: Path) -> None:
    async with serve(FakeProviderConfig(batch_processing_s=0.05)) as fp:
        result = await batch_run(run_dir, fp)
    assert result.exit_code == ExitCode.OK, result.message
    found = findings(run_dir)
    assert len(found) == len({f.key for f in found}) == N
    assert {f.status for f in found} == {"ok"}
    prices = PriceTable.builtin()
    for f in found:
        full = prices.cost("gpt-5.4-mini", f.usage)
        assert full is not None and f.usage.cost_usd == pytest.approx(full / 2)
    assert live_requests(fp) == 0
    jobs = JobStore(run_dir / "provider_jobs").jobs()
    assert len(jobs) == 1 and jobs[0].state == "collected" and jobs[0].provider_id
    assert jobs[0].cost_usd == pytest.approx(sum(f.usage.cost_usd or 0 for f in found))
    assert set(fp.provider.batches.submitted.values()) == {1}


async def test_failed_items_go_again_once_then_live(run_dir: Path) -> None:
    # Every item of the first two batches errors: resubmitted once, then analyzed live.
    config = FakeProviderConfig(batch_processing_s=0.02, batch_item_script=["500"] * (2 * N))
    async with serve(config) as fp:
        result = await batch_run(run_dir, fp)
    assert result.exit_code == ExitCode.OK, result.message
    found = findings(run_dir)
    assert len(found) == len({f.key for f in found}) == N
    assert {f.status for f in found} == {"ok"}
    sent = fp.provider.batches.submitted
    assert fp.provider.batches.created == 2 and len(sent) == 2 * N  # tj0-… and tj1-… ids
    assert set(sent.values()) == {1}
    assert live_requests(fp) == N
    rounds = sorted(j.round for j in JobStore(run_dir / "provider_jobs").jobs())
    assert rounds == [0, 1]


async def test_an_invalid_answer_is_asked_again_live(run_dir: Path) -> None:
    config = FakeProviderConfig(batch_processing_s=0.02, batch_item_script=["invalid"])
    async with serve(config) as fp:
        result = await batch_run(run_dir, fp)
    assert result.exit_code == ExitCode.OK, result.message
    found = findings(run_dir)
    assert len(found) == N and {f.status for f in found} == {"ok"}
    assert sorted(f.attempts for f in found) == [1] * (N - 1) + [2]
    assert live_requests(fp) == 1
    assert fp.provider.batches.created == 1


async def test_a_rerun_adopts_jobs_it_finds(run_dir: Path) -> None:
    async with serve(FakeProviderConfig(batch_processing_s=30)) as fp:
        first = await batch_run(run_dir, fp, timeout=0.5)
        assert first.exit_code == ExitCode.STOPPED
        store = JobStore(run_dir / "provider_jobs")
        (job,) = store.jobs()
        assert job.state == "submitted" and not findings(run_dir)
        # As if killed between sending the job and saving its id: the id is not on disk.
        write_model(
            store.record_path(job),
            job.model_copy(update={"state": "prepared", "provider_id": None}),
        )
        fp.provider.reconfigure({"batch_processing_s": 0.0})
        for sent in fp.provider.batches.batches.values():
            sent.process_s = 0.0  # (it keeps the 30 s it was sent with: done now instead)
        second = await batch_run(run_dir, fp)
    assert second.exit_code == ExitCode.OK, second.message
    assert len(findings(run_dir)) == N
    assert fp.provider.batches.created == 1  # found at the provider, never sent again
    assert set(fp.provider.batches.submitted.values()) == {1}
    assert store.jobs()[0].provider_id == job.provider_id


async def test_the_dry_run_estimate_is_at_the_batch_price(run_dir: Path) -> None:
    live, batch = [
        await run_analysis_async(
            run_dir,
            backend="openai",
            base_url="http://127.0.0.1:9/v1",
            dry_run=True,
            batch_api=flag,
            display="none",
        )
        for flag in (False, True)
    ]
    assert live.estimate is not None and batch.estimate is not None
    assert live.estimate.cost_usd and live.estimate.cost_usd_max
    assert batch.estimate.cost_usd == pytest.approx(live.estimate.cost_usd / 2, rel=1e-3)
    assert batch.estimate.cost_usd_max == pytest.approx(live.estimate.cost_usd_max / 2, rel=1e-3)
    assert any("--batch-api: batch prices (50%" in n for n in batch.estimate.notes)


async def test_a_second_process_on_the_same_batch_run_is_refused(run_dir: Path) -> None:
    held = JobStore(run_dir / "provider_jobs").driver_lock()
    async with serve(FakeProviderConfig()) as fp:
        with held, pytest.raises(ConfigError, match="another process is already running"):
            await batch_run(run_dir, fp)  # as if another process drove this run's jobs
    assert fp.provider.batches.created == 0 and not findings(run_dir)


async def test_a_job_is_marked_collected_only_once_its_findings_are_on_disk(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A job marked collected is never read again: had its findings still been queued for
    # the group commit, a SIGKILL then lost them for good (the e2e kill test exited 3).
    commit = GroupCommit._commit

    async def slow_commit(self: GroupCommit, batch: list[Queued]) -> None:
        await anyio.sleep(0.2)  # a sync that takes a while: the window the kill hit
        await commit(self, batch)

    monkeypatch.setattr(GroupCommit, "_commit", slow_commit)
    on_disk_when_collected: list[bool] = []
    save = BatchRunStage.save

    def checked_save(self: BatchRunStage, job: ProviderJob) -> None:
        if job.state == "collected":
            path = run_dir / "findings.jsonl"
            keys = {f.key for f in findings(run_dir)} if path.exists() else set()
            on_disk_when_collected.append(all(i.key in keys for i in job.items if i.result == "ok"))
        save(self, job)

    monkeypatch.setattr(BatchRunStage, "save", checked_save)
    async with serve(FakeProviderConfig(batch_processing_s=0.02)) as fp:
        result = await batch_run(run_dir, fp)
    assert result.exit_code == ExitCode.OK, result.message
    assert on_disk_when_collected == [True]
    assert len(findings(run_dir)) == N
