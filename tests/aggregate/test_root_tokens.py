"""The root causes' token sets the validation process computes (`root_tokens.py`) are exactly
what `tokens()` gives here, and aggregation that takes them writes exactly what it writes
without them: on the golden run directories and on lines the projection cannot decode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_aggregate_golden import BUILDERS, _golden, _normalized

import tracejury.aggregate.aggregation as aggregation
import tracejury.aggregate.checked as checked
from tracejury.aggregate import normalize
from tracejury.aggregate.api import aggregate_run
from tracejury.aggregate.checked import read_root_tokens
from tracejury.aggregate.normalize import _tokens, known_tokens, tokens
from tracejury.aggregate.root_tokens import root_causes, write_root_tokens
from tracejury.aggregate.synthetic import generate
from tracejury.rundir import RunDir

ODD = [
    "",
    "   ",
    "Exit code 137 at 2025-01-15T02:00:00Z in /work/a/b.py",
    "No module named 'pandas' — ModuleNotFoundError",
    "ünïcödé 日本語 error 0xDEADBEEF a1b2c3d4e5f6g7h8i9",
    'quoted "value" and `code` and C:\\Users\\me\\f.txt',
    "lone surrogate \ud800 here",
    "line one\nline two 42",
]


def _run_with_odd_roots(root: Path) -> RunDir:
    rd = RunDir(root)
    generate(rd, traces=30, perspectives=("triage", "correctness"), tasks=4, seed=7)
    lines = rd.findings.read_text().splitlines()
    for i, text in enumerate(ODD):
        d = json.loads(lines[i])
        d["root_cause"] = text
        lines[i] = json.dumps(d)
    d = json.loads(lines[len(ODD)])
    d["root_cause"] = 5  # not a string: neither side takes it
    lines[len(ODD)] = json.dumps(d)
    lines.append("{torn")
    rd.findings.write_text("\n".join(lines) + "\n")
    return rd


def test_the_written_tokens_are_what_tokens_gives(tmp_path: Path) -> None:
    rd = _run_with_odd_roots(tmp_path / "run")
    out = tmp_path / "tokens.json"
    write_root_tokens(rd.findings, out)
    got = read_root_tokens(out)
    assert got is not None
    texts = root_causes(rd.findings)
    # msgspec does not decode a lone surrogate: that line is the model's to read
    assert {t for t in ODD if "\ud800" not in t} <= set(got) and list(got) == texts
    _tokens.cache_clear()
    assert all(got[t] == _tokens(t, False) for t in texts)
    # texts that fold alike share one set, read back as one object
    alike = [t for t in texts if "Exit code 137" in t or t.startswith("The agent")]
    assert len({id(got[t]) for t in alike}) < len(alike)


def test_root_causes_read_from_the_bytes_are_the_decoded_ones(tmp_path: Path) -> None:
    # compact lines, as ours are written: a value without an escape is read from its bytes
    rd = _run_with_odd_roots(tmp_path / "run")
    nested = {"extra": {"root_cause": "nested"}, "root_cause": "after a nested one"}
    lines = [*rd.findings.read_text().splitlines()[:-1], json.dumps(nested)]
    path = tmp_path / "compact.jsonl"
    with path.open("wb") as f:
        for line in lines:
            d = json.loads(line)
            text = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
            f.write(text.encode("utf-8", "surrogatepass") + b"\n")
        f.write(b'{"root_cause":"torn')
    decoded = [d["root_cause"] for d in map(json.loads, lines) if isinstance(d["root_cause"], str)]
    want = [t for t in dict.fromkeys(decoded) if "\ud800" not in t]
    # a nested key first gives a text the scan never asks for; the real one is folded there
    assert [t for t in root_causes(path) if t not in ("nested", "torn")] == [
        t for t in want if t != "after a nested one"
    ]


def test_unreadable_token_files_are_none(tmp_path: Path) -> None:
    assert read_root_tokens(tmp_path / "absent.json") is None
    shapes = ("{", '{"a": 1}', "[[1, []]]", '[["a", 2]]', '[["a"]]', '[["a", ["x"]]]')
    refs = ('{"texts": [["a", 1]], "sets": [[]]}', '{"texts": [["a", -1]], "sets": [["x"]]}')
    for bad in (*shapes, *refs, '{"texts": [["a", 0]]}', '{"texts": [], "sets": [], "x": 1}'):
        (tmp_path / "bad.json").write_text(bad)
        assert read_root_tokens(tmp_path / "bad.json") is None


def test_known_tokens_hold_only_inside_the_block() -> None:
    with known_tokens({"some root cause": frozenset({"x"})}):
        assert tokens("some root cause") == frozenset({"x"})
        assert tokens("some root cause", keep_placeholders=True) == frozenset({"root", "caus"})
    assert tokens("some root cause") == frozenset({"root", "caus"})
    assert not normalize._KNOWN


@pytest.fixture
def waited(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The validation process on any run, and its token sets always taken (the test waits
    for the process; a real run takes them only if they are there in time)."""
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    taken: list[int] = []
    real = checked.Checker.known_tokens

    def wait(self: checked.Checker) -> dict[str, frozenset[str]] | None:
        assert self._proc is not None
        self._proc.wait()
        got = real(self)
        taken.append(-1 if got is None else len(got))
        return got

    monkeypatch.setattr(checked.Checker, "known_tokens", wait)
    return taken


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_golden_output_with_the_tokens_taken(tmp_path: Path, name: str, waited: list[int]) -> None:
    rd = BUILDERS[name](tmp_path)
    _tokens.cache_clear()
    aggregate_run(rd.path)
    assert waited and waited[0] > 0
    assert _normalized(rd) == _golden(name)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_golden_output_with_the_tokens_arriving_while_issues_are_keyed(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polled at every trace; the first three looks find nothing, the fourth waits for the
    # process: the traces before are keyed on texts folded here, the rest on its sets.
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    monkeypatch.setattr(aggregation, "_POLL_TRACES", 1)
    looks: list[int] = []
    real = checked.Checker.known_tokens

    def late(self: checked.Checker) -> dict[str, frozenset[str]] | None:
        looks.append(len(looks))
        if len(looks) <= 3:
            return None
        assert self._proc is not None
        self._proc.wait()
        got = real(self)
        assert got
        return got

    monkeypatch.setattr(checked.Checker, "known_tokens", late)
    added: list[int] = []

    def add(known: dict[str, frozenset[str]]) -> None:
        added.append(len(known))
        normalize.add_known_tokens(known)

    monkeypatch.setattr(aggregation, "add_known_tokens", add)
    rd = BUILDERS[name](tmp_path)
    _tokens.cache_clear()
    aggregate_run(rd.path)
    assert len(looks) == 4  # taken at the fourth look, never looked for again
    assert len(added) == 1 and added[0] > 0
    assert _normalized(rd) == _golden(name)


def test_tokens_added_outside_a_block_are_not_kept() -> None:
    normalize.add_known_tokens({"some root cause": frozenset({"x"})})
    assert tokens("some root cause") == frozenset({"root", "caus"})
    with known_tokens():
        normalize.add_known_tokens({"some root cause": frozenset({"x"})})
        assert tokens("some root cause") == frozenset({"x"})
    assert not normalize._KNOWN


def test_odd_root_causes_with_and_without_the_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, waited: list[int]
) -> None:
    def outputs(rd: RunDir) -> dict[str, str]:
        _tokens.cache_clear()
        aggregate_run(rd.path, reports="all")
        return _normalized(rd)

    with_tokens = outputs(_run_with_odd_roots(tmp_path / "a" / "run"))
    assert waited and waited[0] >= len(ODD)
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 1 << 60)  # no process: folded here
    assert outputs(_run_with_odd_roots(tmp_path / "b" / "run")) == with_tokens


def test_a_failed_aggregation_ends_the_process_and_removes_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checked, "CHECK_MIN_BYTES", 0)
    started: list[checked.Checker] = []
    folders: list[Path | None] = []
    real_start = checked.Checker.start

    def start(self: checked.Checker) -> checked.Checker:
        started.append(real_start(self))
        folders.append(self._tmp)
        return self

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(checked.Checker, "start", start)
    monkeypatch.setattr(aggregation, "_summarize", boom)
    rd = _run_with_odd_roots(tmp_path / "run")
    with pytest.raises(RuntimeError):
        aggregate_run(rd.path)
    (checker,) = started
    assert checker._proc is not None and checker._proc.poll() is not None
    assert checker._tmp is None and folders[0] is not None and not folders[0].exists()
