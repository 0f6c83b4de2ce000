"""Benchmark: digest a generated agent event log (JSONL) of ~1 GB; print MB/s and peak memory.

    python bench/bench_digest.py                 # 1 GB (the target: peak RSS under 300 MB)
    python bench/bench_digest.py --size-mb 200   # quicker
    python bench/bench_digest.py --keep --dir /tmp/bench   # keep the generated file

The log follows FORMATS.md §3 (one attempt of an agent-work event stream): thinking, shell
tool calls with repeated commands, outputs of all sizes (some over-long), tracebacks, rate
limit errors and a few planted secrets. It is written to a temporary directory and deleted.

Each measured phase runs in a fresh Python process, so its peak RSS is its own:
- `line count`: a plain pass over the file's lines (the floor of any streaming pass);
- `digest`: discover and load the trace through the normal reader registry, stream its steps
  once with no processing (the reader's own cost), then compute facts and digest in their
  shared single pass, as `tracejury inspect --digest` does (a trace of 64 MB or more has its
  steps read by a worker process on the other core: `readers/step_feed.py`; its peak RSS
  is printed apart).
Ratios are against the line count (and the reader-only pass), measured side by side in the
same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# (also when a test loads this file by its path: bench/ is then not on sys.path)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from installed import use_cached_bytecode  # noqa: E402

TARGET_PEAK_MB = 300.0


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


# --- generation ----------------------------------------------------------------------

COMMANDS = [
    "pip install -r requirements.txt",
    "pytest -x tests/test_api.py",
    "ls -la src",
    "git status",
    "python -m mypkg.cli --help",
]
SECRET = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


def _output(i: int) -> tuple[str, str]:
    """(result status, output text) for tool result number i."""
    if i % 97 == 0:
        return "error", (
            "Traceback (most recent call last):\n"
            f'  File "/work/src/mod_{i % 13}.py", line {i % 400}, in <module>\n'
            f"    import helper_{i % 7}\n"
            f"ModuleNotFoundError: No module named 'helper_{i % 7}'"
        )
    if i % 500 == 0:
        return "success", f"OPENAI_API_KEY={SECRET}\nexport done"
    if i % 50 == 0:
        return "success", "collected 250 items\n" + "\n".join(
            f"tests/test_api.py::test_case_{j} PASSED{' ' * (24 - len(str(j)))}[{(j + 1) * 100 // 250:3d}%]"
            for j in range(250)
        )
    return "success", _source_text(i, 80 + (i * 37) % 1500)


# What `cat`, `grep` and build tools print: every line differs from the one before, as in
# real outputs (a generator repeating one line let a gate that looks at distinct lines only
# look fast here and nowhere else: none of the corpus's 1,401 long outputs repeats its lines).
_SOURCE_LINES = (
    "def handler_{j}(request, limit={j}):",
    '    """Answer request {j} from the cache when it holds it."""',
    '    cache_key = f"item-{{request.id}}-{j}"',
    "    value = compute(request.items[{j}], retries=3)",
    "    if value is None:",
    "        raise LookupError(f'no item {j} in {{request.path}}')",
    "    return Response(status=200, body=value)  # case {j}",
    "",
)


def _source_text(i: int, n: int) -> str:
    """About n characters of source-like text, its lines numbered from i."""
    lines: list[str] = []
    size = 0
    j = i
    while size < n:
        line = _SOURCE_LINES[j % len(_SOURCE_LINES)].format(j=j)
        lines.append(line)
        size += len(line) + 1
        j += 1
    return "\n".join(lines)


def generate(path: Path, size_bytes: int) -> int:
    """Write the event log; returns the number of lines."""
    t0 = datetime(2026, 2, 9, 14, 0, 0, tzinfo=UTC)
    base = {
        "attempt_id": "ve-bench-1",
        "session_id": "session-bench",
        "task_id": "task-bench",
        "task_title": "Fix the failing API tests",
        "executor": "CODEX",
        "model": "claude-sonnet-4-5",
    }
    lines = 0
    written = 0
    i = 0

    def event(et: str, data: dict[str, object], k: int) -> str:
        ts = (t0 + timedelta(milliseconds=250 * k)).isoformat().replace("+00:00", "Z")
        return json.dumps({"timestamp": ts, **base, "event_type": et, "data": data}) + "\n"

    with path.open("w", encoding="utf-8", buffering=1 << 20) as f:
        first = event(
            "session_start",
            {"prompt": "Fix the failing tests in tests/test_api.py", "prompt_type": "initial"},
            0,
        )
        f.write(first)
        written += len(first)
        lines += 1
        while written < size_bytes:
            i += 1
            k = i * 4
            cmd = COMMANDS[i % len(COMMANDS)] if i % 3 else f"cat src/module_{i % 800}.py"
            chunk = event(
                "agent_thinking",
                {
                    "thinking": f"Step {i}: checking the result of the previous command before the next one."
                },
                k,
            )
            chunk += event(
                "tool_call",
                {"tool_name": "Bash", "tool_id": f"call_{i}", "tool_params": {"command": cmd}},
                k + 1,
            )
            status, out = _output(i)
            data: dict[str, object] = {
                "tool_name": "Bash",
                "tool_id": f"call_{i}",
                "result": status,
                "result_data": out,
            }
            if status == "error":
                data["error_message"] = out.splitlines()[-1]
            chunk += event("tool_result", data, k + 2)
            if i % 1000 == 0:
                chunk += event(
                    "error",
                    {
                        "error_message": "RateLimitError: 429 Too Many Requests, retry after 12s",
                        "error_fingerprint": "rate_limit",
                    },
                    k + 3,
                )
            if i % 20 == 0:
                chunk += event(
                    "agent_output",
                    {"output": f"Progress: {i} commands run.", "stream_type": "stdout"},
                    k + 3,
                )
            f.write(chunk)
            written += len(chunk)
            lines += chunk.count("\n")
        last = event(
            "session_end",
            {
                "completion_status": "failed",
                "duration_ms": 250 * 4 * i,
                "total_tokens": 12_500_000,
                "cost_usd": 42.5,
            },
            4 * i + 4,
        )
        f.write(last)
        lines += 1
    return lines


# --- measured phases (each in its own process) -------------------------------------------


def phase_linecount(path: Path) -> dict[str, float]:
    t = time.perf_counter()
    n = 0
    with path.open("rb", buffering=1 << 20) as f:
        for _ in f:
            n += 1
    return {"seconds": time.perf_counter() - t, "lines": n, "peak_rss_mb": peak_rss_mb()}


def phase_parse(path: Path) -> dict[str, float]:
    """The limits: every line parsed by tracejury's JSON parse (`json_fast`, msgspec), by
    orjson when it is installed, and orjson plus one Python Step per line."""
    from tracejury import json_fast
    from tracejury.orchestrator.readers.model import Step

    out: dict[str, float] = {}
    t = time.perf_counter()
    with path.open("rb", buffering=1 << 20) as f:
        for line in f:
            json_fast.loads(line)
    out["json_fast_s"] = time.perf_counter() - t
    try:
        import orjson
    except ImportError:  # optional: the limit the issue names, not a dependency
        pass
    else:
        t = time.perf_counter()
        with path.open("rb", buffering=1 << 20) as f:
            for line in f:
                orjson.loads(line)
        out["orjson_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with path.open("rb", buffering=1 << 20) as f:
            for i, line in enumerate(f):
                obj = orjson.loads(line)
                data = obj.get("data") or {}
                Step(i, "message", text=str(data)[:200], speaker=obj.get("event_type"))
        out["orjson_step_s"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def phase_digest(path: Path, max_tokens: int, force_format: str | None) -> dict[str, object]:
    from tracejury.orchestrator.analysis.digest import facts_and_digest
    from tracejury.orchestrator.readers import discover, load_trace

    rss_start = peak_rss_mb()
    t = time.perf_counter()
    refs, problems = discover([path], force_format=force_format)
    t_discover = time.perf_counter() - t
    t_reader = t_digest = cpu_self = cpu_worker = 0.0
    out: dict[str, object] = {"traces": len(refs), "problems": [p.problem for p in problems]}
    per_trace: list[dict[str, object]] = []
    for ref in refs:
        if ref.read_error:
            per_trace.append({"trace_id": ref.trace_id, "error": ref.read_error})
            continue
        trace = load_trace(ref)
        # The reader alone: what any consumer of the steps pays before doing anything.
        t = time.perf_counter()
        for _ in trace.steps():
            pass
        t_reader += time.perf_counter() - t
        # Facts and digest in their shared single pass (as `inspect --digest` and workers run).
        t = time.perf_counter()
        cpu = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        facts, digest = facts_and_digest(trace, max_tokens)
        t_digest += time.perf_counter() - t
        cpu_self += _cpu(resource.RUSAGE_SELF) - cpu[0]
        cpu_worker += _cpu(resource.RUSAGE_CHILDREN) - cpu[1]
        per_trace.append(
            {
                "trace_id": ref.trace_id,
                "format": ref.source_format,
                "steps": facts.steps,
                "digest_tokens": digest.tokens,
                "truncated": digest.truncated,
                "errors": [(e.signature, e.count) for e in facts.errors[:3]],
                "repeated": [(r.command, r.count) for r in facts.repeated_commands[:3]],
                "secret_leaked": SECRET in digest.text,
                "redactions": digest.text.count("[REDACTED:"),
            }
        )
    out.update(
        {
            "discover_s": t_discover,
            "reader_s": t_reader,
            "digest_s": t_digest,
            "digest_cpu_s": cpu_self,
            "worker_cpu_s": cpu_worker,
            "per_trace": per_trace,
            "peak_rss_mb": peak_rss_mb(),
            "worker_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            / (1024 * 1024 if sys.platform == "darwin" else 1024),
            "rss_at_start_mb": rss_start,
        }
    )
    return out


def _run_phase(args: list[str]) -> dict[str, object]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise SystemExit(f"phase {args[1]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--size-mb", type=float, default=1024.0, help="size of the generated log (default 1024)"
    )
    ap.add_argument("--max-tokens", type=int, default=12_000)
    ap.add_argument(
        "--format", dest="force_format", default=None, help="force a reader (default: detect)"
    )
    ap.add_argument(
        "--dir", type=Path, default=None, help="where to write the log (default: a temp dir)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    ap.add_argument("--phase", choices=["linecount", "parse", "digest"], help=argparse.SUPPRESS)
    ap.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.phase == "linecount":
        print(json.dumps(phase_linecount(a.file)))
        return 0
    if a.phase == "parse":
        print(json.dumps(phase_parse(a.file)))
        return 0
    if a.phase == "digest":
        print(json.dumps(phase_digest(a.file, a.max_tokens, a.force_format)))
        return 0

    print(use_cached_bytecode())
    if a.dir is not None:
        Path(a.dir).mkdir(parents=True, exist_ok=True)  # --dir names a folder to use, new or not
    workdir = Path(tempfile.mkdtemp(prefix="tracejury-bench-", dir=a.dir))
    path = workdir / "agent-work-stream.jsonl"
    try:
        t = time.perf_counter()
        lines = generate(path, int(a.size_mb * 1024 * 1024))
        gen_s = time.perf_counter() - t
        mb = path.stat().st_size / (1024 * 1024)
        print(f"generated {path.name}: {mb:,.1f} MB, {lines:,} lines in {gen_s:.1f}s")

        lc = _run_phase(["--phase", "linecount", str(path)])
        ps = _run_phase(["--phase", "parse", str(path)])
        dargs = ["--phase", "digest", str(path), "--max-tokens", str(a.max_tokens)]
        if a.force_format:
            dargs += ["--format", a.force_format]
        dg = _run_phase(dargs)

        lc_s = float(lc["seconds"])  # type: ignore[arg-type]
        disc_s, read_s, dig_s = (float(dg[k]) for k in ("discover_s", "reader_s", "digest_s"))  # type: ignore[arg-type]
        rows = [
            ("line count (plain pass)", lc_s, float(lc["peak_rss_mb"])),  # type: ignore[arg-type]
            ("parse, json_fast (msgspec)", float(ps["json_fast_s"]), float(ps["peak_rss_mb"])),  # type: ignore[arg-type]
        ]
        if "orjson_s" in ps:
            rows += [
                ("parse, orjson", float(ps["orjson_s"]), None),  # type: ignore[arg-type]
                ("orjson + one Step a line", float(ps["orjson_step_s"]), None),  # type: ignore[arg-type]
            ]
        rows += [
            ("discover (reader's scan)", disc_s, None),
            ("steps only (reader pass)", read_s, None),
            ("facts + digest (one pass)", dig_s, float(dg["peak_rss_mb"])),  # type: ignore[arg-type]
        ]
        print(f"\n{'phase':<28}{'seconds':>9}{'MB/s':>9}{'x line count':>14}{'peak RSS MB':>13}")
        for name, s, rss in rows:
            rate = mb / s if s > 0 else float("inf")
            ratio = s / lc_s if lc_s > 0 else float("inf")
            print(
                f"{name:<28}{s:>9.2f}{rate:>9.1f}{ratio:>14.1f}{(f'{rss:.0f}' if rss is not None else ''):>13}"
            )
        if read_s > 0:
            print(f"facts + digest over the reader's own pass: {dig_s / read_s:.2f}x")
        limit_name, limit_s = (
            ("orjson", float(ps["orjson_s"]))  # type: ignore[arg-type]
            if "orjson_s" in ps
            else ("json_fast", float(ps["json_fast_s"]))  # type: ignore[arg-type]
        )
        ok = mb / dig_s >= 100 or dig_s <= 2 * limit_s
        print(
            f"facts + digest: {mb / dig_s:.0f} MB/s, {dig_s / limit_s:.1f}x the {limit_name} parse "
            f"of the same file ({mb / limit_s:.0f} MB/s); target >= 100 MB/s or within 2x: "
            f"{'OK' if ok else 'NOT MET'}"
        )
        if "orjson_step_s" in ps:
            step_s = float(ps["orjson_step_s"])  # type: ignore[arg-type]
            print(f"reader pass: {read_s / step_s:.1f}x orjson + one Python step per line")
        own_cpu, worker_cpu = float(dg["digest_cpu_s"]), float(dg["worker_cpu_s"])  # type: ignore[arg-type]
        # Which process is the critical path: the step split (readers/step_feed.py) balances them.
        print(
            f"facts + digest CPU: this process {own_cpu:.2f} s, its step-reading worker "
            f"{worker_cpu:.2f} s, of {dig_s:.2f} s wall"
        )
        for tr in dg["per_trace"]:  # type: ignore[attr-defined]
            print(
                f"\ntrace {tr.get('trace_id')} [{tr.get('format')}]: {tr.get('steps'):,} steps, "
                f"digest {tr.get('digest_tokens'):,} tokens (truncated={tr.get('truncated')}), "
                f"planted secret leaked={tr.get('secret_leaked')}, redactions={tr.get('redactions')}"
            )
            print(f"  top errors: {tr.get('errors')}")
            print(f"  top repeated commands: {tr.get('repeated')}")
        peak = float(dg["peak_rss_mb"])  # type: ignore[arg-type]
        verdict = "OK" if peak < TARGET_PEAK_MB else "OVER TARGET"
        print(
            f"\npeak RSS of the digest process: {peak:.0f} MB (started at {float(dg['rss_at_start_mb']):.0f} MB "  # type: ignore[arg-type]
            f"after imports); target < {TARGET_PEAK_MB:.0f} MB: {verdict}"
        )
        worker = float(dg.get("worker_peak_rss_mb") or 0.0)  # type: ignore[arg-type]
        if worker:
            print(f"peak RSS of its step-reading worker process: {worker:.0f} MB")
        return 0 if peak < TARGET_PEAK_MB else 1
    finally:
        if a.keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
