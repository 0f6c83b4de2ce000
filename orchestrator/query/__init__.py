"""`tracejury query` and `tracejury export`: SQL (DuckDB) over run directories."""
