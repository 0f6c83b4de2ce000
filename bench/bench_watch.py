"""Benchmark: `tracejury watch` following 10,000 events per second across 100 sessions.

This process appends agent-work events to one shared stream (the seed's layout) at the
target rate for `--seconds`; `tracejury watch --json` follows it in a child process. Planted
in the traffic: error loops (the same new error 4 times), tool loops (the same call 3
times in a row) and sessions that go silent. Each planted line carries its write time, so
alert latency = alert raised_at - the triggering line's own timestamp (for a silent session:
raised_at - (its last line + --stuck-after)).

Prints events written and the rate reached, planted vs alerted, alert latency percentiles
against the 2 s target, the watcher's CPU use and its peak memory.

    python bench/bench_watch.py [--seconds 60] [--rate 10000] [--sessions 100]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

TARGET_LATENCY_S = 2.0
STUCK_AFTER = 5.0
BATCH_S = 0.01
STARTUP_S = 0.3


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _word(k: int) -> str:
    """Digits as letters: normalization folds numbers, and each plant needs its own signature."""
    return "".join("abcdefghij"[int(d)] for d in str(k))


class Traffic:
    def __init__(self, sessions: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.sessions = [f"attempt-{i:03d}" for i in range(sessions)]
        self.silent: set[str] = set()
        self.plants: list[tuple[str, str, str]] = []  # (type, session, key)
        self.queue: list[list[tuple[str, str, dict]]] = []  # planted groups still to write
        self.n = 0

    def background(self) -> tuple[str, str, dict]:
        r = self.rng
        live = [s for s in self.sessions if s not in self.silent]
        s = r.choice(live)
        x = r.random()
        if x < 0.5:
            return s, "agent_output", {"output": f"working on step {r.randint(1, 10**6)}"}
        if x < 0.7:
            return s, "agent_thinking", {"thinking": "considering the next edit"}
        if x < 0.9:
            return s, "tool_result", {"tool_name": "Read", "result": "success", "result_data": "ok"}
        return (
            s,
            "tool_call",
            {
                "tool_name": f"tool_{r.randint(0, 1999)}",
                "tool_params": {"path": f"f{r.randint(0, 10**6)}.py"},
            },
        )

    def plant(self, kind: str) -> None:
        live = [s for s in self.sessions if s not in self.silent]
        s = self.rng.choice(live)
        self.n += 1
        key = _word(self.n)
        if kind == "error_loop":
            msg = f"ValueError: plant {key} cannot parse the config"
            self.queue.append([(s, "error", {"error_message": msg})] * 4)
            self.plants.append(("error_loop", s, msg))
        elif kind == "tool_loop":
            tool = f"planted_{key}"
            self.queue.append(
                [(s, "tool_call", {"tool_name": tool, "tool_params": {"command": "make"}})] * 3
            )
            self.plants.append(("tool_loop", s, tool))
        else:  # goes silent: no planted group of it may still be waiting
            busy = {line[0] for group in self.queue for line in group}
            s = self.rng.choice([x for x in live if x not in busy])
            self.silent.add(s)
            self.plants.append(("stuck", s, s))


def write_stream(
    path: Path, args: argparse.Namespace, traffic: Traffic, last_seen: dict[str, float]
) -> int:
    per_batch = max(1, int(args.rate * BATCH_S))
    start = time.time()
    written = 0
    next_plant = start + 1.0
    plant_cycle = ["error_loop", "tool_loop", "error_loop", "tool_loop"]
    silent_every = max(1, int(args.seconds // 6))  # a few sessions go quiet during the run
    k = 0
    with path.open("a", encoding="utf-8") as f:
        while (now := time.time()) < start + args.seconds:
            if now >= next_plant:
                traffic.plant(plant_cycle[k % len(plant_cycle)])
                if k % (silent_every * 4) == 0 and now < start + args.seconds - STUCK_AFTER - 1:
                    traffic.plant("stuck")
                k += 1
                next_plant += 0.5
            ts = _ts(now)
            lines = []
            events = [traffic.background() for _ in range(per_batch)]
            if traffic.queue:  # a planted group, written in a row inside this batch
                at = traffic.rng.randrange(per_batch)
                events[at:at] = traffic.queue.pop(0)
            for s, et, data in events:
                last_seen[s] = now
                lines.append(
                    json.dumps({"timestamp": ts, "attempt_id": s, "event_type": et, "data": data})
                )
            f.write("\n".join(lines) + "\n")
            f.flush()
            written += len(lines)
            # Pace to the target rate (the watcher runs in its own process meanwhile).
            behind = start + written / args.rate - time.time()
            if behind > 0:
                time.sleep(behind)
    return written


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=10_000, help="events per second")
    ap.add_argument("--sessions", type=int, default=100)
    args = ap.parse_args()
    tracejury = Path(sys.executable).parent / "tracejury"
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "agent-work-stream.jsonl"
        stream.touch()
        # Stops 3 s after the writer (within --stuck-after, so the healthy sessions never
        # look stuck when the traffic ends).
        watch_for = args.seconds + STARTUP_S + 3
        watcher = subprocess.Popen(
            [
                str(tracejury),
                "watch",
                str(stream),
                "--json",
                "--stuck-after",
                str(STUCK_AFTER),
                "--duration",
                str(watch_for),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        alerts: list[dict] = []
        bad: list[str] = []

        def read_alerts() -> None:
            assert watcher.stdout is not None
            for line in watcher.stdout:
                try:
                    alerts.append(json.loads(line))
                except json.JSONDecodeError:
                    bad.append(line)

        reader = threading.Thread(target=read_alerts, daemon=True)  # stdout is a blocking pipe
        reader.start()
        assert watcher.stderr is not None
        watcher.stderr.readline()  # "following ...": the watcher is up
        time.sleep(STARTUP_S)
        traffic = Traffic(args.sessions)
        last_seen: dict[str, float] = {}
        t0 = time.time()
        written = write_stream(stream, args, traffic, last_seen)
        wrote_for = time.time() - t0
        _, err = watcher.communicate()
        reader.join(timeout=5)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        size_mb = stream.stat().st_size / 1e6
    if bad:
        print(f"{len(bad)} alert line(s) were not JSON, e.g. {bad[0][:300]!r}")
    if watcher.returncode != 0:
        print(err, file=sys.stderr)
        return 1
    cpu = usage.ru_utime + usage.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    found: dict[tuple[str, str, str], dict] = {}
    for a in alerts:
        if a["type"] == "error_loop":
            key = ("error_loop", a["session"], a["evidence"][-1]["text"])
        elif a["type"] == "tool_loop":
            key = ("tool_loop", a["session"], a["details"]["tool"])
        elif a["type"] == "stuck":
            key = ("stuck", a["session"], a["session"])
        else:
            continue
        found.setdefault(key, a)
    latencies: dict[str, list[float]] = {"error_loop": [], "tool_loop": [], "stuck": []}
    missed = 0
    for plant in traffic.plants:
        a = found.get(plant)
        if a is None:
            missed += 1
            continue
        if plant[0] == "stuck":
            latencies["stuck"].append(a["raised_at"] - (last_seen[plant[1]] + STUCK_AFTER))
        else:
            latencies[plant[0]].append(a["raised_at"] - a["evidence"][-1]["time"])
    for plant in traffic.plants:
        if plant not in found:
            print(f"missed: {plant}")
    matched = {id(a) for a in found.values()}
    others: dict[str, int] = {}
    for a in alerts:
        if id(a) not in matched:
            others[a["type"]] = others.get(a["type"], 0) + 1
    unplanted = sum(others.values())
    every = [x for v in latencies.values() for x in v]
    print(
        f"events written: {written} in {wrote_for:.1f} s = {written / wrote_for:,.0f}/s "
        f"(target {args.rate:,}/s) across {args.sessions} sessions, {size_mb:.0f} MB"
    )
    print(
        f"planted: {len(traffic.plants)}, alerted: {len(traffic.plants) - missed}, missed: {missed}, "
        f"other alerts: {unplanted} {others or ''}"
    )
    for kind, vals in latencies.items():
        if vals:
            print(
                f"  {kind:<11} n={len(vals):<4} p50={percentile(vals, 0.5):.3f} s  "
                f"p90={percentile(vals, 0.9):.3f} s  p99={percentile(vals, 0.99):.3f} s  max={max(vals):.3f} s"
            )
    p99 = percentile(every, 0.99)
    print(f"alert latency p99 {p99:.3f} s = {p99 / TARGET_LATENCY_S:.2f} x the 2 s target")
    print(
        f"watcher CPU: {cpu:.1f} s over {watch_for:.0f} s = "
        f"{100 * cpu / watch_for:.0f}% of one core; peak memory {peak_mb:.0f} MB"
    )
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
