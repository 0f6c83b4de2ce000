"""`query`, `export_parquet` and the result formats: SQL over run directories in DuckDB."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracejury.choices import OutputFormat
from tracejury.errors import ConfigError
from tracejury.orchestrator.query.schema import literal
from tracejury.orchestrator.query.tables import VIEWS, create_views
from tracejury.safe_text import visible

if TYPE_CHECKING:
    import duckdb

CELL_CHARS = 80  # a table cell is clipped; csv, json and parquet keep every character


def connect(database: str = ":memory:", memory_limit: str = "200MB") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a bounded memory limit (it spills beyond it)."""
    # duckdb is imported here, not at module top: it costs ~100 ms and tens of MB, and only
    # `tracejury query` and `export` run SQL (`tracejury --help` must stay fast).
    import duckdb

    con = duckdb.connect(database, config={"memory_limit": memory_limit, "threads": 2})
    con.execute("SET enable_progress_bar = false")  # never draw on the user's terminal
    con.execute("SET preserve_insertion_order = false")  # every query here says its order
    return con


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    problems: list[str] = field(default_factory=list)  # traces left out of steps/records


def _sql_error(e: Exception) -> ConfigError:
    first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
    return ConfigError(f"SQL: {first}")


def open_runs(run_dirs: list[Path], problems: list[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the views over `run_dirs`."""
    if not run_dirs:
        raise ConfigError("no run directory given")
    con = connect(memory_limit="1GB")
    con.execute("SET TimeZone = 'UTC'")  # timestamps print the same on every machine
    create_views(con, [Path(p) for p in run_dirs], problems)
    return con


def query(run_dirs: list[Path] | Path | str, sql: str) -> QueryResult:
    """Run `sql` over the views findings, facts, traces, steps, issues and records of one or
    several run directories (each row carries its `run`). A bad query raises ConfigError
    with DuckDB's one-line reason."""
    import duckdb  # only to name its error class; connect() did the (lazy) import

    dirs = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(p) for p in run_dirs]
    problems: list[str] = []
    con = open_runs(dirs, problems)
    try:
        cur = con.execute(sql)
        if cur.description is None:
            return QueryResult([], [], problems)
        columns = [d[0] for d in cur.description]
        return QueryResult(columns, cur.fetchall(), problems)
    except duckdb.Error as e:
        raise _sql_error(e) from None
    finally:
        con.close()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    plain = _plain(value)
    text = plain if isinstance(plain, str) else json.dumps(plain, default=str)
    text = visible(text.replace("\n", " "))
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _csv_cell(value: Any) -> str:
    plain = _plain(value)
    if plain is None:
        return ""
    return plain if isinstance(plain, str) else json.dumps(plain, default=str)


def render(result: QueryResult, fmt: OutputFormat) -> str:
    """The result as a plain table, CSV or JSON text (parquet is `write_parquet`)."""
    if fmt == "json":
        return (
            json.dumps(
                [dict(zip(result.columns, map(_plain, r), strict=True)) for r in result.rows],
                indent=2,
                ensure_ascii=False,
                default=str,
            )
            + "\n"
        )
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(result.columns)
        for r in result.rows:
            w.writerow([_csv_cell(v) for v in r])
        return buf.getvalue()
    cells = [[_cell(v) for v in r] for r in result.rows]
    widths = [len(c) for c in result.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    n = len(result.rows)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def write_parquet(run_dirs: list[Path] | Path | str, sql: str, out: Path) -> int:
    """The query's result written to the parquet file `out`; returns its row count."""
    import duckdb  # only to name its error class

    dirs = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(p) for p in run_dirs]
    con = open_runs(dirs)
    try:
        con.execute(f"COPY ({sql}) TO {literal(str(out))} (FORMAT parquet)")
        counted = con.execute(f"SELECT count(*) FROM read_parquet({literal(str(out))})")
        return int(counted.fetchall()[0][0])
    except duckdb.Error as e:
        raise _sql_error(e) from None
    finally:
        con.close()


def export_parquet(run_dir: Path | str, out_dir: Path | str) -> list[Path]:
    """Every view of `run_dir` as `<out_dir>/<view>.parquet` (for pandas, polars and
    notebooks); returns the files written."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{out}: cannot create ({e.strerror or e})") from None
    con = open_runs([Path(run_dir)])
    written = []
    try:
        for view in VIEWS:
            path = out / f"{view}.parquet"
            con.execute(f"COPY (SELECT * FROM {view}) TO {literal(str(path))} (FORMAT parquet)")
            written.append(path)
    finally:
        con.close()
    return written
