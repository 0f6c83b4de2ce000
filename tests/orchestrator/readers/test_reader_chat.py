"""Chat transcripts: Who&When, τ-bench run lists, MAST records, and the shapes around them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.mast import text_log_steps


def refs_for(path: Path, **kw: Any) -> list[Any]:
    refs, problems = discover([path], **kw)
    assert problems == []
    return refs


# --------------------------------------------------------------------------- corpus


def test_who_and_when(corpus_dir: Path) -> None:
    folder = corpus_dir / "who_and_when" / "Algorithm-Generated"
    refs = refs_for(folder)
    assert len(refs) == 126
    assert {r.source_format for r in refs} == {"chat"}
    assert {r.outcome for r in refs} == {"failed"}
    failed_runs = 0
    for ref in refs:
        doc = json.loads((Path(ref.root) / ref.path).read_text())
        trace = load_trace(ref)
        steps = list(trace.steps())
        # One step per history message, so mistake_step indexes the steps directly.
        assert len(steps) == len(doc["history"])
        assert [s.speaker for s in steps] == [m["name"] for m in doc["history"]]
        assert trace.meta["mistake_agent"] == doc["mistake_agent"]
        assert trace.meta["mistake_step"] == doc["mistake_step"]
        assert trace.meta["mistake_step_index"] == int(doc["mistake_step"])
        assert trace.meta["ground_truth"] == doc["ground_truth"]
        assert trace.meta["task"] == doc["question"]
        assert trace.meta["dataset"] == "who_and_when"
        assert ref.task_name == doc["question_ID"]
        assert trace.hints["outcome_evidence"] == "is_correct: false"
        for s, m in zip(steps, doc["history"], strict=True):
            if m["name"] == "Computer_terminal" and m["content"].startswith("exitcode: 1"):
                assert s.kind == "tool_result" and s.status == "error"
                failed_runs += 1
    assert failed_runs == 89  # terminal messages that start 'exitcode: 1' in the corpus


def test_tau_bench_outcome_follows_reward_and_steps_equal_messages(corpus_dir: Path) -> None:
    full = corpus_dir / "agentrx_tau" / "tau_dataset_full.json"
    runs = json.loads(full.read_text())
    refs = refs_for(full)
    assert len(refs) == len(runs) == 100
    assert {r.source_format for r in refs} == {"chat_runs"}
    for ref, run in zip(refs, runs, strict=True):
        assert ref.locator == str(run["task_id"])
        assert ref.outcome == ("passed" if float(run["reward"]) == 1.0 else "failed")
        trace = load_trace(ref)
        assert len(list(trace.steps())) == len(run["traj"]) == trace.meta["messages"]
        assert trace.meta["reward"] == run["reward"]
        assert trace.meta["dataset"] == "tau_bench"
        assert trace.meta["task"] == run["info"]["task"]["instruction"]
        assert trace.meta["ground_truth"] == run["info"]["task"]["actions"]


def test_tau_bench_labels_ride_on_failed_runs(corpus_dir: Path) -> None:
    folder = corpus_dir / "agentrx_tau"
    labels = {
        x["trajectory_id"]: x for x in json.loads((folder / "tau_ground_truth.json").read_text())
    }
    refs = refs_for(folder)
    # The label file itself is not a trace.
    assert not any(r.path.endswith("tau_ground_truth.json") for r in refs)
    failed = [r for r in refs if r.path.endswith("tau_dataset_failed.json")]
    assert len(failed) == 29 and {r.outcome for r in failed} == {"failed"}
    for ref in failed:
        trace = load_trace(ref)
        lab = trace.meta["labels"]
        assert lab["failures"] == labels[int(ref.locator)]["failures"]
        assert trace.meta["label_step_base"] == 1
    passed = next(r for r in refs if r.outcome == "passed")
    assert "labels" not in load_trace(passed).meta


def test_tau_tool_errors_are_failed_results(corpus_dir: Path) -> None:
    full = corpus_dir / "agentrx_tau" / "tau_dataset_full.json"
    errors = 0
    for ref in refs_for(full):
        for s in load_trace(ref).steps():
            if s.kind == "tool_result" and s.text.startswith("Error"):
                assert s.status == "error"
                errors += 1
            if s.kind == "tool_call":
                assert s.tool_name and s.tool_id and isinstance(s.args, dict)
    assert errors > 0


def test_mast_records(corpus_dir: Path) -> None:
    path = corpus_dir / "mast" / "mad_human_labelled_sample_4records.json"
    records = json.loads(path.read_text())
    refs = refs_for(path)
    assert len(refs) == 4 and {r.source_format for r in refs} == {"mast"}
    annotations = 0
    for ref, rec in zip(refs, records, strict=True):
        trace = load_trace(ref)
        steps = list(trace.steps())
        assert len(steps) >= 3
        assert trace.meta["mas_name"] == rec["mas_name"]
        assert trace.meta["dataset"] == "mast"
        assert trace.meta["task"]
        for ann in trace.meta["annotations"]:
            majority = sum(ann["votes"]) * 2 > len(ann["votes"])
            assert trace.meta["labels"][ann["code"]] == majority
            annotations += 1
        assert trace.meta["ground_truth"] == sorted(k for k, v in trace.meta["labels"].items() if v)
    assert annotations == 18 + 17 + 18 + 14  # as the four records list them
    ag2 = load_trace(refs[0])
    assert {s.speaker for s in ag2.steps()} == {"mathproxyagent", "assistant"}
    assert refs[0].outcome == "passed" and refs[1].outcome == "failed"
    mmlu = list(load_trace(refs[3]).steps())
    assert {"SimpleCoder", "SimpleTester", "SimpleReviewer"} <= {s.speaker for s in mmlu}
    assert all(s.location.startswith(f"{path.name}#") for s in mmlu)


# --------------------------------------------------------------------------- shapes


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_magentic_one_speaker_labels(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "m1.json",
        {
            "question": "Find the paper",
            "ground_truth": "42",
            "is_correct": True,
            "history": [
                {"role": "human", "content": "Find the paper"},
                {"role": "Orchestrator (thought)", "content": "Plan: search"},
                {"role": "Orchestrator (-> WebSurfer)", "content": "Search arxiv"},
                {"role": "WebSurfer", "content": "I typed 'paper' into the search box."},
                {"role": "Orchestrator (termination condition)", "content": "Done"},
            ],
        },
    )
    (ref,) = refs_for(p)
    assert ref.source_format == "chat" and ref.outcome == "passed"
    steps = list(load_trace(ref).steps())
    assert [s.speaker for s in steps] == [
        "human",
        "Orchestrator",
        "Orchestrator",
        "WebSurfer",
        "Orchestrator",
    ]
    assert [s.kind for s in steps] == ["message", "thinking", "message", "message", "message"]
    assert steps[2].text == "[to WebSurfer] Search arxiv"
    assert steps[3].agent == "WebSurfer"
    assert [s.location for s in steps] == [f"m1.json message {n}" for n in range(5)]


def test_openai_tool_calls_anthropic_blocks_and_parallel_calls(tmp_path: Path) -> None:
    msgs = [
        {"role": "system", "content": "You are a coder."},
        {"role": "user", "content": [{"type": "text", "text": "Run the tests"}]},
        {
            "role": "assistant",
            "content": "Running them.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"cmd": "pytest -q"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "bash", "content": "Error: 3 failed"},
        {"role": "tool", "tool_call_id": "c2", "name": "read_file", "content": "print(1)"},
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "shell",
                    "input": {"command": ["ls", "-la"]},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "is_error": True,
                    "content": [{"type": "text", "text": "permission denied"}],
                }
            ],
        },
        {"role": "assistant", "content": "All done."},
    ]
    (ref,) = refs_for(write(tmp_path, "conv.json", {"messages": msgs, "reward": 0}))
    assert ref.outcome == "failed"
    steps = list(load_trace(ref).steps())
    assert [s.kind for s in steps] == [
        "message",
        "message",
        "tool_call",
        "tool_call",
        "tool_result",
        "tool_result",
        "tool_call",
        "tool_result",
        "message",
    ]
    assert steps[2].command == "pytest -q" and steps[2].text.startswith("Running them.")
    assert (
        steps[3].location == steps[2].location == "conv.json message 2"
    )  # parallel calls share it
    assert steps[4].status == "error" and steps[5].status == "ok"
    assert steps[6].command == "ls -la"
    assert steps[7].status == "error" and steps[7].text == "permission denied"
    assert steps[1].text == "Run the tests"


def test_role_list_and_jsonl_transcripts(tmp_path: Path) -> None:
    (ref,) = refs_for(
        write(
            tmp_path,
            "plain-list.json",
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        )
    )
    assert ref.source_format == "chat"
    assert [s.text for s in load_trace(ref).steps()] == ["hi", "hello"]
    j = tmp_path / "chat.jsonl"
    j.write_text(
        '{"role": "user", "content": "hi"}\nnot json\n{"role": "assistant", "content": "yo"}\n'
    )
    (jref,) = refs_for(j)
    assert jref.source_format == "chat"
    steps = list(load_trace(jref).steps())
    assert [s.location for s in steps] == ["chat.jsonl:1", "chat.jsonl:2", "chat.jsonl:3"]
    assert steps[1].kind == "text"


def test_run_lists_without_ids_use_positions(tmp_path: Path) -> None:
    runs = [
        {"messages": [{"role": "user", "content": f"q{i}"}], "success": i == 1} for i in range(3)
    ]
    refs = refs_for(write(tmp_path, "runs.json", runs))
    assert [r.locator for r in refs] == ["0", "1", "2"]
    assert [r.outcome for r in refs] == ["failed", "passed", "failed"]
    dup = [
        {"task_id": 7, "trial": t, "reward": 1, "traj": [{"role": "user", "content": "x"}]}
        for t in range(2)
    ]
    refs = refs_for(write(tmp_path, "trials.json", dup))
    assert [r.locator for r in refs] == ["7_trial0", "7_trial1"]


def test_stringified_trajectories_are_decoded(tmp_path: Path) -> None:
    traj = [
        {"role": "user", "content": "hi", "index": 1},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}],
            "index": 2,
        },
    ]
    runs = [{"task_id": "0", "reward": "1.0", "traj": repr(traj)}]
    (ref,) = refs_for(write(tmp_path, "hf_export.json", runs))
    assert ref.outcome == "passed"
    steps = list(load_trace(ref).steps())
    assert [s.kind for s in steps] == ["message", "tool_call"]


def test_truncated_transcript_is_read_as_text(tmp_path: Path, corpus_dir: Path) -> None:
    src = (corpus_dir / "who_and_when" / "Algorithm-Generated" / "1.json").read_text()
    p = tmp_path / "cut.json"
    p.write_text(src[: len(src) // 2])
    (ref,) = refs_for(p)
    assert ref.read_error is None and ref.source_format == "plain"
    assert any("truncated JSON" in w for w in ref.warnings)
    steps = list(load_trace(ref).steps())
    assert steps and all(s.kind == "text" for s in steps)


def test_bad_files_never_raise(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "blob.json").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin.json").write_bytes(
        '{"history": [{"role": "user", "content": "caf\xe9"}]}'.encode("latin-1")
    )
    refs = {Path(r.path).name: r for r in refs_for(tmp_path)}
    assert refs["empty.json"].read_error == "empty file"
    assert "binary" in (refs["blob.json"].read_error or "")
    latin = refs["latin.json"]
    assert latin.read_error is None and any("latin-1" in w for w in latin.warnings)
    assert next(iter(load_trace(latin).steps())).text == "caf\u00e9"
    for force in ("chat", "chat_runs", "mast"):
        for name in ("empty.json", "blob.json", "latin.json"):
            out, _ = discover([tmp_path / name], force_format=force)
            assert len(out) == 1, (force, name)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-17 11:40:27.872 | INFO     | mod:_act:391 - Alice(SimpleCoder): to do X\ncode\n"
        "2025-01-17 11:40:30.812 | INFO     | mod:_act:85 - Bob(SimpleTester): to do Y\n",
    ],
)
def test_text_log_split(text: str) -> None:
    steps = list(text_log_steps(text, "log"))
    assert [s.speaker for s in steps] == ["SimpleCoder", "SimpleTester"]
    assert steps[0].text == "to do X\ncode" and steps[1].location == "log line 3"
    assert steps[0].timestamp is not None


def test_forcing_a_format_that_does_not_fit_says_why(tmp_path: Path, corpus_dir: Path) -> None:
    src = corpus_dir / "who_and_when" / "Algorithm-Generated" / "1.json"
    for force in ("inspect", "chat_runs", "mast", "spans", "event_stream"):
        (ref,) = discover([src], force_format=force)[0]
        assert ref.read_error and ref.source_format == force, force
    (ref,) = discover([src], force_format="chat")[0]
    assert ref.read_error is None and len(list(load_trace(ref).steps())) > 0
