"""Trial folders stay in the tree (issue 15): a Terminal-Bench or Harbor trial with a member
file linked out of the folder named is not read, with the reason; nothing of the target
reaches the manifest."""

from __future__ import annotations

from pathlib import Path

from test_reader_harbor import _result, _trial
from test_reader_terminal_bench import make_run

from tracejury.orchestrator.readers import discover

PLANTED = "PLANTED-OUTSIDE-CONTENT-7f3a"


def test_trial_folders_with_a_member_linked_out_are_not_read(tmp_path: Path) -> None:
    """Terminal-Bench and Harbor trials: the same rule, before any member is read."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(PLANTED)
    run, _ = make_run(tmp_path / "tb")
    tb_trial = next(p for p in sorted(run.rglob("*.1-of-3.*")) if p.is_dir())
    (tb_trial / "sessions" / "agent.log").unlink(missing_ok=True)
    (tb_trial / "sessions" / "agent.log").symlink_to(secret)
    job = tmp_path / "job"
    job.mkdir()
    h_ok = _trial(job, "task__ok", _result("task__ok"), None)
    h_bad = _trial(job, "task__bad", _result("task__bad"), None)
    (h_bad / "trial.log").unlink()
    (h_bad / "trial.log").symlink_to(secret)

    refs, _ = discover([run, job])
    bad = {r.path.rsplit("/", 1)[-1]: r.read_error for r in refs if r.read_error}
    assert sorted(bad) == sorted([tb_trial.name, h_bad.name]), bad
    for error in bad.values():
        assert error is not None and f"is a symbolic link to {secret}" in error
        assert error.endswith("this trace is not read")
    assert any(r.path.endswith(h_ok.name) and not r.read_error for r in refs)
    assert all(PLANTED not in r.model_dump_json() for r in refs)
