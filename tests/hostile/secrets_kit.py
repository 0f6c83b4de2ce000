"""Planted secrets for the hostile suite: every kind the registry knows, raw and encoded,
split across lines and as PEM blocks, written into every format tracejury reads."""

from __future__ import annotations

import base64
import json
import shutil
import urllib.parse
from pathlib import Path

from tracejury.orchestrator.analysis.redact_patterns import PATTERNS

REPO = Path(__file__).resolve().parents[2]
OPENAI = "sk-proj-Qm7Rt2Wx9Zk4Lp8Nv3Bc6Hd1Fg5Js0Ty"
ANTHROPIC = "sk-ant-api03-Vb8Nm2Qw4Er6Ty7Ui9Op1As3Df5Gh7Jk"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY"
PEM = PATTERNS[0].samples[0].splitlines()


def _kinds() -> list[tuple[str, str]]:
    """(name, line) of each registry sample, one line each (PEM is planted apart)."""
    out = []
    for p in PATTERNS:
        for i, s in enumerate(p.samples):
            if "PRIVATE KEY" not in s:
                out.append((f"{p.kind}#{i}", s))
    return out


KIND_LINES = _kinds()
ENCODED = {
    "json_escaped": json.dumps(OPENAI)[1:-1].replace("p", "\\u0070"),
    "url_encoded": urllib.parse.quote(f"OPENAI_API_KEY={OPENAI}", safe=""),
    "base64": base64.b64encode(f"ANTHROPIC_API_KEY={ANTHROPIC}\n".encode()).decode(),
    "basic_auth": "Authorization: Basic " + base64.b64encode(f"me:{OPENAI}".encode()).decode(),
}
SPLIT = [f"export OPENAI_API_KEY={OPENAI[:16]}", f"{OPENAI[16:]}  # wrapped by the terminal"]
BARE_AWS = f"aws configure: secret is {AWS_SECRET}"


def payload_lines() -> list[str]:
    """Every planted line, in the order they are written."""
    lines = [f"log {line}" for _, line in KIND_LINES]
    lines += [f"sent {v} to the server" for v in ENCODED.values()]
    lines += SPLIT + [BARE_AWS] + PEM
    return lines


def needles() -> dict[str, str]:
    """name -> a substring that must appear nowhere tracejury writes or sends."""
    out: dict[str, str] = {}
    for name, line in KIND_LINES:
        out[name] = _core(line)
    out["openai"] = OPENAI[8:]
    out["anthropic"] = ANTHROPIC[13:]
    for k, v in ENCODED.items():
        out[k] = v.removeprefix("Authorization: Basic ")
    out["split_head"] = OPENAI[8:16]
    out["split_tail"] = OPENAI[16:]
    out["bare_aws"] = AWS_SECRET
    out["pem_body_1"] = PEM[1]
    out["pem_body_2"] = PEM[2]
    return out


def _core(sample: str) -> str:
    for marker in ("S3cr3tPW", "hunter22", "hunter2", "s3cretpw", "8f2b1c9d0e7a", "t0k3n9"):
        if marker in sample:
            return marker
    if "AccountKey=" in sample:
        return "bXlrZXkxMjM0NTY3ODkw"
    if '"password"' in sample:
        return "s3cr3t!"
    if "Bearer abc" in sample:
        return "1234567890ghijklmnop"
    return sample


def leaks(data: str | bytes) -> list[str]:
    """Names of the needles found in `data`."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [name for name, n in needles().items() if n in text]


def plant_everywhere(root: Path) -> dict[str, Path]:
    """One trace per format we read, each holding every planted line; format -> path."""
    lines = payload_lines()
    root.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    # A plain text log: one line per planted line.
    (root / "plain.log").write_text("\n".join(["starting deploy", *lines, "done"]) + "\n")
    made["plain"] = root / "plain.log"
    # A generic JSONL stream: one event per line.
    with (root / "events.jsonl").open("w") as f:
        for ln in lines:
            f.write(json.dumps({"type": "log", "content": ln}) + "\n")
    made["plain_jsonl"] = root / "events.jsonl"
    # A chat transcript document: the lines as one tool output, then one per message.
    doc = {
        "messages": [
            {"role": "user", "content": "deploy the service"},
            {"role": "tool", "content": "\n".join(lines)},
            *({"role": "assistant", "content": ln} for ln in lines),
        ]
    }
    (root / "chat.json").write_text(json.dumps(doc))
    made["chat"] = root / "chat.json"
    # The agent-work event stream: events appended to the example's.
    ev = root / "agent-work"
    ev.mkdir()
    src = (REPO / "examples/agent-work/agent-work-stream.jsonl").read_text().splitlines()
    first = json.loads(src[0])
    extra = [
        json.dumps(
            {
                **{k: first[k] for k in ("attempt_id", "session_id", "task_id", "executor")},
                "timestamp": "2026-02-09T15:00:00Z",
                "event_type": "tool_result",
                "data": {"tool_name": "Bash", "result": "success", "result_data": ln},
            }
        )
        for ln in lines
    ]
    (ev / "agent-work-stream.jsonl").write_text("\n".join(src + extra) + "\n")
    made["event_stream"] = ev / "agent-work-stream.jsonl"
    # A by-outcome tree of Terminal-Bench-like trials: one trial gets the lines.
    bo = root / "by-outcome"
    shutil.copytree(REPO / "examples/by-outcome", bo)
    trial = bo / "failed/stats-fix__trial003.json"
    tdoc = json.loads(trial.read_text())
    tdoc["messages"] += [{"role": "assistant", "content": ln} for ln in lines]
    trial.write_text(json.dumps(tdoc))
    made["by_outcome"] = trial
    # A MassGen log: events of one agent and its massgen.log.
    mg = root / "massgen"
    shutil.copytree(REPO / "examples/massgen_logs", mg, symlinks=True)
    att = next(mg.rglob("attempt_1"))
    with (att / "events.jsonl").open("a") as f:
        for ln in lines:
            f.write(
                json.dumps(
                    {
                        "timestamp": "2025-11-06T09:13:00.000001Z",
                        "event_type": "thinking",
                        "agent_id": "agent_a",
                        "round_number": 0,
                        "data": {"content": ln},
                    }
                )
                + "\n"
            )
    with (att / "massgen.log").open("a") as f:
        f.write("\n".join(lines) + "\n")
    made["massgen"] = att
    return made
