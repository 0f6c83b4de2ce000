"""Prove every manifest trace was analyzed once per perspective.

One streaming pass over findings.jsonl builds a compact index: per (trace, perspective,
criteria hash) a `KeyState`, per perspective its current criteria hash. Completeness is
then counted against the manifest, exactly: each expected trace is analyzed, an error or
missing; findings for traces outside the manifest are extra; surplus lines are duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracejury.aggregate.dedupe import KeyState
from tracejury.aggregate.inputs import TraceInfo
from tracejury.aggregate.rows import KeptFinding
from tracejury.aggregate.scan_lines import (
    FindingLine,
    finding_line,
    line_of_finding,
    model_line,
)
from tracejury.errors import TracejuryError
from tracejury.jsonl import BadLine, raw_lines
from tracejury.models import Finding
from tracejury.models.summary import Completeness, InvalidLine, LaneCompleteness

MAX_LISTED = 200  # trace ids listed per kind per perspective; the counts stay exact
MAX_INVALID = 1000  # invalid lines listed; the total stays exact
_NEVER = float("-inf")


@dataclass(slots=True)
class Lane:
    """One perspective of the analysis: a (perspective, criteria) pair."""

    perspective: str
    criteria: str
    hashes: dict[str, float] = field(default_factory=dict)  # criteria hash -> newest created_at
    hash_lines: dict[str, int] = field(default_factory=dict)
    current_hash: str | None = None

    @property
    def label(self) -> str:
        return (
            self.perspective
            if self.criteria in ("", self.perspective)
            else f"{self.perspective} ({self.criteria})"
        )


@dataclass
class FindingsIndex:
    """The compact result of the findings scan."""

    n_manifest: int
    trace_ids: list[str]  # index -> trace id; manifest traces first, then extras
    trace_index: dict[str, int]
    lanes: list[Lane] = field(default_factory=list)
    lane_index: dict[tuple[str, str], int] = field(default_factory=dict)
    hashes: dict[str, int] = field(default_factory=dict)  # criteria hash -> small int
    # (lane, hash id) -> trace index -> its KeyState: a key is (trace, perspective, criteria
    # hash); a (lane, hash)'s traces in one dict, looked up by an int, 100,000s of times
    states: dict[tuple[int, int], dict[int, KeyState]] = field(default_factory=dict)
    valid_lines: int = 0
    invalid: list[InvalidLine] = field(default_factory=list)
    invalid_total: int = 0
    self_checked: set[int] = field(default_factory=set)  # lines the model read here
    last_line: int = 0

    def lane_for(self, perspective: str, criteria: str) -> int:
        k = (perspective, criteria)
        idx = self.lane_index.get(k)
        if idx is None:
            idx = len(self.lanes)
            self.lanes.append(Lane(perspective, criteria))
            self.lane_index[k] = idx
        return idx

    def trace_for(self, trace_id: str) -> int:
        idx = self.trace_index.get(trace_id)
        if idx is None:
            idx = len(self.trace_ids)
            self.trace_ids.append(trace_id)
            self.trace_index[trace_id] = idx
        return idx

    def current_hash_id(self, lane_idx: int) -> int | None:
        h = self.lanes[lane_idx].current_hash
        return self.hashes.get(h) if h is not None else None

    def current_states(self, lane_idx: int) -> dict[int, KeyState]:
        """trace index -> the KeyState of the lane's key under its current hash."""
        h = self.current_hash_id(lane_idx)
        return self.states.get((lane_idx, h), {}) if h is not None else {}

    def kept(self) -> dict[int, list[tuple[int, KeptFinding]]]:
        """manifest trace index -> [(lane, the kept line's fields)] under current hashes,
        in lane order."""
        out: dict[int, list[tuple[int, KeptFinding]]] = defaultdict(list)
        n = self.n_manifest
        for lane in range(len(self.lanes)):  # lane by lane: each trace's list in lane order
            for t, st in self.current_states(lane).items():
                if t < n:
                    # the ok line if any, else the error line (100,000s of keys: no property call)
                    row = st.ok_row if st.ok_offset >= 0 else st.err_row
                    if row is not None:
                        out[t].append((lane, row))
        return out


def scan_findings(
    path: Path,
    traces: list[TraceInfo],
    on_valid: Callable[[FindingLine], None] | None = None,
    *,
    projected_through: int = 0,
    known: dict[int, BadLine] | None = None,
) -> FindingsIndex:
    """One pass, each line validated once: here by `Finding`, or (up to line
    `projected_through`) by the validation process while the projection decodes it here
    (`checked.py`). `on_valid` sees every valid line (e.g. to add up what analysis cost)."""
    ids = [t.trace_id for t in traces]
    index = FindingsIndex(
        n_manifest=len(ids), trace_ids=ids, trace_index={t: i for i, t in enumerate(ids)}
    )
    # Locals and inline lookups: this loop runs once per line (100,000s of times).
    lanes = index.lanes
    trace_index = index.trace_index
    # (perspective, criteria, criteria hash) -> its lane, hash id and tally: one lookup a line
    cells: dict[tuple[str, str, str], _Cell] = {}
    shared: dict[Any, Any] = {}  # a str (or None) -> that one object
    share = shared.setdefault
    valid = 0
    known = known or {}
    # Every line's fields: up to line `projected_through` decoded by the projection, the
    # model reading only what it does not take; the model reads every other line.
    n = 0
    for n, offset, raw in raw_lines(path):
        got = finding_line(raw) if n <= projected_through and n not in known else None
        if got is None:
            slow = model_line(n, raw, known, index.self_checked, Finding, line_of_finding)
            if isinstance(slow, BadLine):
                index.invalid_total += 1
                if len(index.invalid) < MAX_INVALID:
                    index.invalid.append(
                        InvalidLine(file=path.name, line=slow.line_no, problem=slow.problem)
                    )
                continue
            got = slow
        item, ts = got
        valid += 1
        if on_valid is not None:
            on_valid(item)
        ch = item.criteria_hash
        cell_key = (item.perspective, item.criteria, ch)
        cell = cells.get(cell_key)
        if cell is None:
            cell = cells[cell_key] = _cell(index, cell_key)
        cell.lines += 1
        if ts > cell.newest:
            cell.newest = ts
        t = trace_index.get(item.trace_id)
        if t is None:
            t = index.trace_for(item.trace_id)
        st = cell.states.get(t)
        if st is None:
            st = cell.states[t] = KeyState()
        ok = item.status == "ok"
        if st.add(offset, n, ts, ok):
            # One object per distinct text: a decoded line's strings are its own, and the
            # same categories, perspectives and wordings recur in 100,000s of rows.
            # (status, outcome and confidence are literals: one object each already)
            lane = lanes[cell.lane]
            row = KeptFinding(
                offset, ts, item.status, share(item.category, item.category),
                share(item.subcategory, item.subcategory), lane.perspective, lane.criteria, item.outcome,
                item.confidence, share(item.summary, item.summary),
                share(item.root_cause, item.root_cause), share(item.actionable, item.actionable),
            )  # fmt: skip
            if ok:
                st.ok_row = row
            else:
                st.err_row = row
    for (_, _, ch), cell in cells.items():
        lane = lanes[cell.lane]
        if cell.newest > lane.hashes.get(ch, _NEVER):
            lane.hashes[ch] = cell.newest
        lane.hash_lines[ch] = lane.hash_lines.get(ch, 0) + cell.lines
    index.valid_lines = valid
    index.last_line = n
    for lane in index.lanes:
        # The criteria a perspective was last run with is the current one; lines written
        # under an older hash are an earlier analysis (stale), not part of this one.
        if lane.hashes:
            lane.current_hash = max(lane.hashes.items(), key=lambda kv: (kv[1], kv[0]))[0]
    return index


@dataclass(slots=True)
class _Cell:
    """The lines of one (perspective, criteria, criteria hash): its lane, its keys' states
    (the index's, by trace), how many lines and the newest created_at (added to the lane
    after the scan)."""

    lane: int
    states: dict[int, KeyState]
    lines: int = 0
    newest: float = _NEVER


def _cell(index: FindingsIndex, key: tuple[str, str, str]) -> _Cell:
    perspective, criteria, ch = key
    lane = index.lane_for(perspective, criteria)
    h = index.hashes.get(ch)
    if h is None:
        h = index.hashes[ch] = len(index.hashes)
    return _Cell(lane, index.states.setdefault((lane, h), {}))


def expected_lanes(config: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(perspective, criteria name or None for any) the run was configured to produce."""
    out: list[tuple[str, str | None]] = []
    perspectives = config.get("perspectives") or []
    if isinstance(perspectives, list) and perspectives:
        return [(str(p), None) for p in perspectives]
    names = config.get("criteria") or []
    if not names:
        return out
    # Only a run configured by criteria files reads them: yaml and the Criteria model are
    # loaded then, not by every aggregation (16 ms of its imports)
    from tracejury.criteria_loader import load_criteria

    for name in names:
        try:
            c = load_criteria(str(name))
        except (TracejuryError, OSError):
            continue  # a user criteria file since moved: its findings still count as seen
        out.append((c.perspective, c.name))
    return out


def add_configured_lanes(index: FindingsIndex, config: dict[str, Any]) -> None:
    """A configured perspective without a single finding is all missing, not absent."""
    for perspective, criteria in expected_lanes(config):
        present = any(
            lane.perspective == perspective and (criteria is None or lane.criteria == criteria)
            for lane in index.lanes
        )
        if not present:
            index.lane_for(perspective, criteria or perspective)


def compute_completeness(
    index: FindingsIndex, traces: list[TraceInfo], input_problems: list[str], traces_with_facts: int
) -> Completeness:
    n = index.n_manifest
    lanes_out: list[LaneCompleteness] = []
    per_trace_ok = [0] * n
    ids = index.trace_ids
    for lane_idx, lane in enumerate(index.lanes):
        states = index.current_states(lane_idx)
        # Plain ints in the loop: assigning to a pydantic model 100,000 times is slow.
        analyzed = errors = extra = duplicates = 0
        error_ts: list[int] = []
        extra_ts: list[int] = []
        for t, st in states.items():  # each a key with lines (no property calls, see kept())
            duplicates += st.lines - 1
            if t >= n:  # not in the manifest
                extra += 1
                extra_ts.append(t)
            elif st.ok_offset >= 0:
                analyzed += 1
                per_trace_ok[t] += 1
            else:
                errors += 1
                error_ts.append(t)
        missing = n - analyzed - errors
        missing_ids: list[str] = []
        for t in range(n) if missing else ():  # the first ones, in manifest order
            if t not in states:
                missing_ids.append(ids[t])
                if len(missing_ids) == MAX_LISTED:
                    break
        lanes_out.append(
            LaneCompleteness(
                perspective=lane.perspective,
                criteria=lane.criteria,
                criteria_hash=lane.current_hash,
                expected=n,
                analyzed=analyzed,
                errors=errors,
                missing=missing,
                extra=extra,
                duplicates=duplicates,
                stale=sum(c for hh, c in lane.hash_lines.items() if hh != lane.current_hash),
                missing_traces=missing_ids,
                error_traces=[ids[t] for t in sorted(error_ts)[:MAX_LISTED]],
                extra_traces=[ids[t] for t in sorted(extra_ts)[:MAX_LISTED]],
            )
        )
    lanes_out.sort(key=lambda lc: (lc.perspective, lc.criteria))
    n_lanes = len(lanes_out)
    return Completeness(
        traces=n,
        complete_traces=sum(1 for c in per_trace_ok if n_lanes and c == n_lanes),
        unreadable_traces=sum(1 for t in traces if t.read_error),
        expected=sum(lc.expected for lc in lanes_out),
        analyzed=sum(lc.analyzed for lc in lanes_out),
        missing=sum(lc.missing for lc in lanes_out),
        extra=sum(lc.extra for lc in lanes_out),
        errors=sum(lc.errors for lc in lanes_out),
        duplicates=sum(lc.duplicates for lc in lanes_out),
        stale=sum(lc.stale for lc in lanes_out),
        finding_lines=index.valid_lines,
        invalid_lines=list(index.invalid),
        invalid_lines_total=index.invalid_total,
        traces_with_facts=traces_with_facts,
        input_problems=input_problems,
        perspectives=lanes_out,
    )
