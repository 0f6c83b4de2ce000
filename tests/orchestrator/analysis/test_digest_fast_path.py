"""The fast paths of facts + digest give exactly what the reference path gives.

The reference path is today's code with every shortcut turned off: every text through
`redact_full` (no prefilter), every digest plan redacted and measured (no line-count bound),
every step through the generic `FactsBuilder.add` and `DigestCollector.add` (no bulk path).
Compared on the digest benchmark's generated log, on a log full of secret shapes, on the
bundled examples and (slow) on the corpus: equal facts, equal digest text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from bench_scripts import load_bench

from tracejury.models import TraceRef
from tracejury.orchestrator.analysis import redact as redact_mod
from tracejury.orchestrator.analysis.digest import build as build_mod
from tracejury.orchestrator.analysis.digest import facts_and_digest
from tracejury.orchestrator.analysis.digest.collect import DigestCollector, Stub
from tracejury.orchestrator.analysis.digest.render import StubLines, stub_lines
from tracejury.orchestrator.analysis.facts import FactsBuilder
from tracejury.orchestrator.analysis.redact_patterns import PATTERNS
from tracejury.orchestrator.readers import discover, load_trace
from tracejury.orchestrator.readers.model import Step

REPO = Path(__file__).resolve().parents[3]


def _bench() -> Any:
    return load_bench("bench_digest")


def _result(path: Path, budget: int, refs: list[TraceRef] | None = None) -> list[tuple[Any, ...]]:
    if refs is None:
        refs, _ = discover([path])
    out = []
    for ref in refs:
        if ref.read_error:
            out.append((ref.trace_id, ref.read_error))
            continue
        facts, d = facts_and_digest(load_trace(ref), budget)
        out.append(
            (
                ref.trace_id,
                facts.model_dump(),
                d.text,
                d.tokens,
                d.truncated,
                d.steps_total,
                d.steps_shown,
                d.notes,
            )
        )
    return out


def _generic_add(fb: FactsBuilder, dc: DigestCollector, step: Step) -> None:
    """`build.add_step` without its bulk paths: every step through the generic ones."""
    fb.add(step)
    dc.add(step, fb.last_hits)


def _both(
    path: Path, budget: int, refs: list[TraceRef] | None = None
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(fast, reference) results of every trace under `path`, or of `refs` when given
    (what `discover` found there: the same for both paths, so it is looked for once)."""
    fast = _result(path, budget, refs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(redact_mod, "may_hold_secret", lambda text: True)
        mp.setattr(build_mod, "surely_over", lambda text, max_tokens: False)
        mp.setattr(build_mod, "add_step", _generic_add)
        ref = _result(path, budget, refs)
    return fast, ref


def _secret_log(path: Path, n: int, seed: int) -> None:
    """An event log whose texts are full of secret shapes: raw, cut, wrapped across lines
    and across steps, escaped, next to ordinary output."""
    rng = random.Random(seed)
    samples = [s for p in PATTERNS for s in p.samples]
    base = {"attempt_id": "ve-sec-1", "session_id": "s1", "task_id": "t1", "executor": "CODEX"}
    with path.open("w") as f:

        def ev(k: int, et: str, data: dict[str, Any]) -> None:
            ts = f"2026-02-09T14:{k // 60 % 60:02d}:{k % 60:02d}Z"
            f.write(json.dumps({"timestamp": ts, **base, "event_type": et, "data": data}) + "\n")

        ev(0, "session_start", {"prompt": "deploy it", "prompt_type": "initial"})
        for i in range(1, n):
            s = rng.choice(samples)
            cut = rng.randrange(1, len(s))
            text = rng.choice(
                [
                    f"using {s} now",
                    f"{s[:cut]}\n{s[cut:]}",
                    f"export KEY={s[:cut]}",  # the rest starts the next step
                    s[cut:] + " done",
                    json.dumps(s)[1:-1].replace("k", "\\u006b"),
                    ("x" * 60 + "\n") * rng.randrange(1, 30) + f"line {i}",
                    "Traceback (most recent call last):\nValueError: bad " + s[:cut],
                ]
            )
            if i % 3 == 0:
                ev(i, "tool_call", {"tool_name": "Bash", "tool_id": f"c{i}",
                                    "tool_params": {"command": f"echo {s}"}})  # fmt: skip
            elif i % 3 == 1:
                status = "error" if i % 7 == 0 else "success"
                ev(i, "tool_result", {"tool_name": "Bash", "tool_id": f"c{i - 1}",
                                      "result": status, "result_data": text})  # fmt: skip
            else:
                ev(i, "agent_thinking", {"thinking": text})
        ev(n, "session_end", {"completion_status": "failed", "cost_usd": 1.5})


@pytest.mark.parametrize("budget", [12_000, 600])
def test_bench_log_facts_and_digest_match_the_reference(tmp_path: Path, budget: int) -> None:
    path = tmp_path / "agent-work-stream.jsonl"
    lines = _bench().generate(path, 700_000)
    fast, ref = _both(path, budget)
    assert len(fast) == 1 and fast[0][1]["steps"] == lines
    assert fast == ref


@pytest.mark.parametrize("budget", [12_000, 1500])
def test_secret_shaped_log_matches_the_reference(tmp_path: Path, budget: int) -> None:
    path = tmp_path / "secrets.jsonl"
    _secret_log(path, 1500, seed=budget)
    fast, ref = _both(path, budget)
    assert len(fast) == 1 and fast[0][1]["steps"] == 1501
    assert fast == ref
    assert "[REDACTED:" in fast[0][2]


def test_examples_match_the_reference() -> None:
    fast, ref = _both(REPO / "examples", 12_000)
    assert len(fast) > 10
    assert fast == ref


@pytest.mark.slow
def test_corpus_matches_the_reference(corpus_dir: Path) -> None:
    refs, _ = discover([corpus_dir])  # (discovery redacts nothing: found once for all four)
    for budget in (12_000, 3000):
        fast, ref = _both(corpus_dir, budget, refs)
        assert len(fast) > 50
        assert fast == ref


def test_stub_lines_rendered_once_equal_stub_lines_of_every_stretch() -> None:
    rng = random.Random(3)
    kinds = ["thinking", "tool_call Bash", "tool_result Bash"]
    stubs = []
    for i in range(400):
        k = rng.choice(kinds) if rng.random() < 0.5 else (stubs[-1].kind if stubs else kinds[0])
        stubs.append(Stub(i, rng.choice(["agent", None]) if rng.random() < 0.1 else "agent", k,
                          rng.random() < 0.05, f"gist {i} sk-proj-{i:030d}"))  # fmt: skip
    cached = StubLines(stubs)
    checked = 0
    for _ in range(300):
        a = rng.randrange(0, len(stubs))
        b = rng.randrange(a, len(stubs) + 1)
        for level in (1, 2):
            assert cached.lines(a, b, level) == stub_lines(stubs[a:b], level)
            checked += 1
    assert checked == 600


def _edge_log(path: Path, ended: bool) -> int:
    """Bulk lines at their edges: malformed JSON, a huge line, an event type's name inside
    a payload, escapes, CRLF line ends, a secret in a bulk line's text, results whose text
    opens like a failure or holds an exception, calls with and without ids, steps with
    usage, and a half-written last line. Returns the number of complete event lines."""
    base = {"attempt_id": "ve-edge-1", "session_id": "s1", "task_id": "t1", "executor": "CODEX"}
    secret = "sk-proj-" + "Q9w8E7r6T5y4U3i2O1p0" * 2
    rows: list[bytes] = []

    def ev(k: int, et: str, data: dict[str, Any], end: bytes = b"\n", **extra: Any) -> None:
        ts = f"2026-02-09T14:{k // 60 % 60:02d}:{k % 60:02d}Z"
        obj = {"timestamp": ts, **base, "event_type": et, "data": data, **extra}
        rows.append(json.dumps(obj).encode() + end)

    ev(0, "session_start", {"prompt": "fix it", "prompt_type": "initial"})
    for i in range(1, 400):
        r = i % 12
        if r == 0:
            ev(i, "agent_thinking", {"thinking": f'the "event_type": "tool_result" key, step {i}'})
        elif r == 1:
            ev(i, "tool_call", {"tool_name": "Bash", "tool_id": f"c{i}",
                                "tool_params": {"command": f"cat f{i % 5}.py"}})  # fmt: skip
        elif r == 2:
            ev(i, "tool_result", {"tool_name": "Bash", "tool_id": f"c{i - 1}",
                                  "result": "success", "result_data": f"token {secret} ok"})  # fmt: skip
        elif r == 3:
            rows.append(b'{"timestamp": "2026-02-09T14:00:00Z", "attempt_id": "ve-edge-1", '
                        b'"event_type": "agent_thinking", "data": {"thinking": "cut\n')  # fmt: skip
        elif r == 4:
            ev(i, "agent_thinking", {"thinking": "caf\u00e9 \\u0041 \t tab"}, end=b"\r\n")
        elif r == 5:
            ev(i, "tool_result", {"tool_name": "Bash", "result": "success",
                                  "result_data": f"ok\nValueError: bad value {i % 3}"})  # fmt: skip
        elif r == 6:
            ev(i, "tool_result", {"tool_name": "Bash", "tool_id": f"c{i}", "result": "success",
                                  "result_data": "ran\nTraceback (most recent call last):\n  x\n"
                                                 f"KeyError: 'k{i % 3}'"})  # fmt: skip
        elif r == 7:
            ev(i, "agent_thinking", {"thinking": "x" * 300_000 + f" {secret}"})
        elif r == 8:
            ev(i, "agent_output", {"output": f"stdout line {i}", "stream_type": "stdout"})
        elif r == 9:
            ev(i, "tool_result", {"tool_name": "Read", "tool_id": f"r{i}", "result": "success",
                                  "result_data": {"lines": [1, 2, i]}, "duration_ms": 12})  # fmt: skip
        elif r == 10:
            ev(i, "tool_call", {"tool_name": "Edit", "tool_params": {"path": f"a{i}.py"}})
        else:
            ev(i, "tool_result", {"tool_name": "Bash", "result": "error",
                                  "error_message": f"exit code {i % 4 + 1}"})  # fmt: skip
    if ended:
        ev(400, "session_end", {"completion_status": "failed", "cost_usd": 1.5})
    else:  # a failed result, then the agent acts again: the run did not end on it
        ev(400, "tool_result", {"tool_name": "Bash", "result": "error", "error_message": "no"})
        ev(401, "tool_call", {"tool_name": "Bash", "tool_params": {"command": "ls"}})
    half = (
        b'{"timestamp": "2026-02-09T14:09:00Z", "attempt_id": "ve-edge-1", "event_type": "agent_th'
    )
    path.write_bytes(b"".join(rows) + half)
    return sum(1 for r in rows if r.rstrip().endswith(b"}"))


@pytest.mark.parametrize(("budget", "ended"), [(12_000, True), (800, True), (12_000, False)])
def test_edge_case_log_matches_the_reference(tmp_path: Path, budget: int, ended: bool) -> None:
    path = tmp_path / "edges.jsonl"
    complete = _edge_log(path, ended)
    fast, ref = _both(path, budget)
    assert len(fast) == 1 and fast[0][1]["steps"] == complete
    assert fast == ref
    assert "Q9w8E7r6T5y4U3i2O1p0" not in fast[0][2]
