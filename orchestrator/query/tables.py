"""One run directory as SQL: the views `findings`, `facts`, `traces`, `steps`, `issues`
and `records`, each with a `run` column, over one or several run directories.

Our files are read with the columns their pydantic models define (`schema.py`); the
derived tables (traces, steps, records) are cached in `<run>/query/` as parquet, keyed on
the manifest they came from.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tracejury.aggregate.api import load_summary
from tracejury.errors import ConfigError
from tracejury.files import atomic_write_text, read_model
from tracejury.models import Facts, Finding, Manifest, TraceRef
from tracejury.models.summary import Issue
from tracejury.orchestrator.query.derived import RECORD_COLUMNS, STEP_COLUMNS, write_derived
from tracejury.orchestrator.query.schema import columns_literal, ident, literal, model_columns
from tracejury.rundir import RunDir

if TYPE_CHECKING:
    import duckdb

VIEWS = ("findings", "facts", "traces", "steps", "issues", "records")
CACHE_VERSION = 1
TRACE_COLUMNS = {
    k: v for k, v in model_columns(TraceRef).items() if k not in ("metadata", "warnings")
} | {"warnings": "JSON", "metadata": "JSON"}


def _read_json(path: Path, columns: dict[str, str]) -> str:
    return (
        f"read_json({literal(str(path))}, format='newline_delimited', "
        f"columns={columns_literal(columns)}, ignore_errors=true, maximum_object_size=67108864)"
    )


def _empty(columns: dict[str, str]) -> str:
    cols = ", ".join(f"NULL::{t} AS {ident(k)}" for k, t in columns.items())
    return f"(SELECT {cols} WHERE false)"


def _findings_sql(rd: RunDir) -> str:
    cols = model_columns(Finding)
    if not rd.findings.is_file():
        return f"SELECT * FROM {_empty(cols)}"
    # One row per (trace, perspective, criteria hash), as aggregation counts them: the
    # newest ok line, else the newest analysis error.
    return (
        f"SELECT * FROM {_read_json(rd.findings, cols)} WHERE trace_id IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY trace_id, perspective, criteria_hash "
        "ORDER BY (status = 'ok') DESC, created_at DESC) = 1"
    )


def _facts_sql(rd: RunDir) -> str:
    fields = model_columns(Facts)
    if not rd.facts.is_file():
        return f"SELECT * FROM {_empty({'trace_id': 'VARCHAR', **fields})}"
    src = _read_json(rd.facts, {"trace_id": "VARCHAR", "facts": "JSON"})
    cols = ", ".join(
        f"(facts->{literal('$.' + k)})::JSON AS {ident(k)}"
        if t == "JSON"
        else f"TRY_CAST(facts->>{literal('$.' + k)} AS {t}) AS {ident(k)}"
        for k, t in fields.items()
    )
    return f"SELECT trace_id, {cols} FROM {src} WHERE trace_id IS NOT NULL"


def _stamp(rd: RunDir) -> str:
    st = rd.manifest.stat()
    return f"{CACHE_VERSION}:{st.st_mtime_ns}:{st.st_size}"


def _write_rows(path: Path, write: Callable[[TextIO], Any]) -> None:
    with path.open("w", encoding="utf-8") as f:
        write(f)


def derived_tables(
    con: duckdb.DuckDBPyConnection, rd: RunDir, problems: list[str] | None = None
) -> dict[str, Path]:
    """traces/steps/records parquet files of `rd`, computed now unless cached for its
    manifest. A run directory we cannot write to gets them in a temporary folder."""
    if not rd.manifest.is_file():
        raise ConfigError(f"{rd.manifest}: not found; is {rd.path} a tracejury run directory?")
    cache = rd.path / "query"
    names = {n: cache / f"{n}.parquet" for n in ("traces", "steps", "records")}
    stamp_file = cache / "stamp.txt"
    stamp = _stamp(rd)
    try:
        if stamp_file.read_text() == stamp and all(p.is_file() for p in names.values()):
            return names
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        probe = cache
    except OSError:
        probe = Path(tempfile.mkdtemp(prefix="tracejury-query-"))
        names = {n: probe / f"{n}.parquet" for n in names}
    manifest = read_model(rd.manifest, Manifest)
    with tempfile.TemporaryDirectory(prefix="tracejury-rows-") as tmp:
        t, s, r = (Path(tmp) / f"{n}.jsonl" for n in ("traces", "steps", "records"))
        with t.open("w", encoding="utf-8") as f:
            for ref in manifest.traces:
                f.write(ref.model_dump_json() + "\n")
        with s.open("w", encoding="utf-8") as so, r.open("w", encoding="utf-8") as ro:
            found = write_derived(manifest, so, ro)
        if problems is not None:
            problems.extend(found)
        for name, src, cols in (
            ("traces", t, TRACE_COLUMNS),
            ("steps", s, STEP_COLUMNS),
            ("records", r, RECORD_COLUMNS),
        ):
            part = names[name].with_name(f".{name}.{os.getpid()}.parquet")
            con.execute(
                f"COPY (SELECT * FROM {_read_json(src, cols)}) TO {literal(str(part))} "
                "(FORMAT parquet)"
            )
            os.replace(part, names[name])
    if probe == cache:
        atomic_write_text(stamp_file, stamp)
    return names


def _issues_sql(con: duckdb.DuckDBPyConnection, rd: RunDir, n: int) -> str:
    cols = model_columns(Issue)
    issues = load_summary(rd.path).issues
    if not issues:
        return f"SELECT * FROM {_empty(cols)}"
    rows = [json.dumps(i.model_dump(mode="json")) for i in issues]
    tmp = Path(tempfile.mkdtemp(prefix="tracejury-issues-")) / "issues.jsonl"
    tmp.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = f"_issues_{n}"
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {_read_json(tmp, cols)}")
    tmp.unlink()
    tmp.parent.rmdir()
    return f"SELECT * FROM {table}"


def run_label(path: Path, all_paths: Iterable[Path]) -> str:
    """A run's `run` value: its folder name, or its path when two runs share a name."""
    names = [p.name for p in all_paths]
    return path.name if names.count(path.name) == 1 else str(path)


def create_views(
    con: duckdb.DuckDBPyConnection, run_dirs: list[Path], problems: list[str] | None = None
) -> None:
    """The six views over every run in `run_dirs`, each with the `run` column first."""
    parts: dict[str, list[str]] = {v: [] for v in VIEWS}
    for n, path in enumerate(run_dirs):
        rd = RunDir(path)
        if not rd.path.is_dir():
            raise ConfigError(f"{rd.path}: run directory not found")
        run = literal(run_label(path, run_dirs))
        derived = derived_tables(con, rd, problems)
        sources = {
            "findings": _findings_sql(rd),
            "facts": _facts_sql(rd),
            "issues": _issues_sql(con, rd, n),
            "traces": f"SELECT * FROM read_parquet({literal(str(derived['traces']))})",
            "steps": (
                "SELECT * EXCLUDE (ts), to_timestamp(ts) AS timestamp "
                f"FROM read_parquet({literal(str(derived['steps']))})"
            ),
            "records": (
                'SELECT * EXCLUDE (start, "end"), to_timestamp(start) AS start_timestamp, '
                f'to_timestamp("end") AS end_timestamp FROM read_parquet({literal(str(derived["records"]))})'
            ),
        }
        for view, sql in sources.items():
            parts[view].append(f"SELECT {run} AS run, * FROM ({sql})")
    for view, selects in parts.items():
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS " + " UNION ALL BY NAME ".join(selects))
