"""`tracejury inspect`: traces, formats and facts, for people and for programs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracejury.orchestrator.cli.main import main

FACT_KEYS = {
    "duration_s", "cost_usd", "input_tokens", "output_tokens", "cached_input_tokens",
    "tool_calls", "tool_failures", "steps", "winner", "enforcement_retries",
    "repeated_commands", "errors",
}  # fmt: skip


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def chat_jsonl(n_repeats: int = 3) -> str:
    lines = [{"role": "user", "content": "Deploy the service"}]
    for _ in range(n_repeats):
        lines.append(
            {"role": "assistant", "content": "Trying the deploy again with the same settings."}
        )
        lines.append({"type": "error", "content": "ConnectionError: refused by 10.1.2.3:443"})
    return "\n".join(json.dumps(x) for x in lines) + "\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    (root / "passed").mkdir(parents=True)
    (root / "failed").mkdir()
    (root / "passed" / "deploy__1.jsonl").write_text(chat_jsonl(1))
    (root / "failed" / "deploy__2.jsonl").write_text(chat_jsonl(3))
    (root / "failed" / "empty__3.jsonl").write_text("")
    (root / "failed" / "blob__4.json").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    return root


def test_json_lists_every_readable_trace_with_its_facts(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(["inspect", str(folder), "--json"], capsys)
    assert rc == 0
    items = json.loads(out)
    by_name = {i["trial_name"]: i for i in items}
    assert len(items) == 2 and set(by_name) == {"deploy__1", "deploy__2"}
    for item in items:
        assert {"trace_id", "trial_name", "source_format", "outcome", "facts"} <= set(item)
        assert set(item["facts"]) >= FACT_KEYS
    failed = by_name["deploy__2"]
    assert failed["outcome"] == "failed" and by_name["deploy__1"]["outcome"] == "passed"
    facts = failed["facts"]
    assert facts["steps"] == 7
    assert facts["cost_usd"] is None and facts["duration_s"] is None  # the trace does not say
    assert facts["errors"][0]["signature"] == "ConnectionError: refused by <ip>"
    assert facts["errors"][0]["count"] == 3
    assert facts["errors"][0]["example"] == "ConnectionError: refused by 10.1.2.3:443"
    # One line per unreadable file, naming it and the problem; the others carried on.
    lines = err.strip().splitlines()
    assert any("empty__3.jsonl" in ln and "empty file" in ln for ln in lines)
    assert any("blob__4.json" in ln and "binary" in ln for ln in lines)
    assert len(lines) == 2


def test_json_with_digest(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(
        ["inspect", str(folder / "failed" / "deploy__2.jsonl"), "--json", "--digest",
         "--max-trace-tokens", "600"],
        capsys,
    )  # fmt: skip
    assert rc == 0
    [item] = json.loads(out)
    d = item["digest"]
    assert d["tokens"] <= 600
    assert "⟪TRACE BEGIN" in d["text"] and d["text"].rstrip().endswith("⟪TRACE END⟫")
    assert "ConnectionError: refused by 10.1.2.3:443" in d["text"]


def test_table_and_digest_for_people(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(["inspect", str(folder), "--digest"], capsys)
    assert rc == 0
    assert "2 trace(s)" in out
    assert "deploy__1" in out and "deploy__2" in out
    assert "ConnectionError" in out
    assert out.count("⟪TRACE END⟫") == 2
    assert "empty__3.jsonl" in err


def test_repeated_commands_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    msgs = [{"role": "user", "content": "build it"}]
    for i in range(4):
        call = {
            "id": f"c{i}",
            "function": {"name": "bash", "arguments": json.dumps({"command": "make   all"})},
        }
        msgs.append({"role": "assistant", "content": None, "tool_calls": [call]})
        msgs.append({"role": "tool", "tool_call_id": f"c{i}", "content": "make: *** [all] Error 2"})
    p = tmp_path / "build.json"
    p.write_text(json.dumps({"messages": msgs}))
    rc, out, _ = run(["inspect", str(p), "--json"], capsys)
    assert rc == 0
    [item] = json.loads(out)
    reps = item["facts"]["repeated_commands"]
    assert [(r["command"], r["count"]) for r in reps] == [("make all", 4)]
    assert item["facts"]["tool_calls"] == 4


def test_bad_arguments_are_one_line_config_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run(["inspect", str(tmp_path / "missing")], capsys)
    assert rc == 1 and "missing" in err and "path not found" in err
    rc, _, err = run(["inspect", str(tmp_path), "--format", "nope"], capsys)
    assert rc == 1 and "--format" in err and "'nope' is not one of 'massgen'" in err
    rc, _, err = run(["inspect", str(tmp_path), "--max-trace-tokens", "10"], capsys)
    assert rc == 1 and "--max-trace-tokens" in err


def test_empty_folder_prints_an_empty_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run(["inspect", str(tmp_path), "--json"], capsys)
    assert rc == 0 and json.loads(out) == [] and "no traces found" in err


def test_corpus_inspect_json(corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(
        ["inspect", str(corpus_dir / "mast"), str(corpus_dir / "inspect_ai"), "--json"], capsys
    )
    assert rc == 0, err
    items = json.loads(out)
    assert len(items) == 14  # 4 MAST records and 10 Inspect samples
    assert all(set(i["facts"]) >= FACT_KEYS for i in items)
