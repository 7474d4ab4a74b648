"""The engines a query runs on, each with two threads: PostgreSQL (a heap table or a
tsparquet measurement table, chosen by search_path) and DuckDB over exported Parquet.

A query is timed from sending it until its whole result is in the client's memory in the
driver's own form (libpq's result for PostgreSQL, an Arrow table for DuckDB), as TSBS's
query runner times it. Turning the rows into Python values is the client's work, not the
engine's, and for a query returning many rows it is most of what this client waits for:
that time is reported apart."""

import datetime as dt
import decimal
import time

import duckdb
import psycopg


class Postgres:
    def __init__(self, dsn, schema, name):
        self.name = name
        self.conn = psycopg.connect(dsn, autocommit=True)
        # A leader and one parallel worker: two threads, like the other engines.
        self.conn.execute("SET max_parallel_workers_per_gather = 1")
        self.conn.execute("SET TimeZone = 'UTC'")
        self.conn.execute(f"SET search_path = {schema}, public")

    def run(self, sql):
        """(seconds until libpq holds the whole result, seconds until its rows are Python
        values, the rows): psycopg converts values on fetch."""
        started = time.perf_counter()
        cursor = self.conn.execute(sql)
        received = time.perf_counter() - started
        rows = cursor.fetchall()
        return received, time.perf_counter() - started, rows


class StoredResult(Postgres):
    """PostgreSQL sending a copy of a query's result kept in a table of its own (a plain
    sequential scan): about the least time a query served by PostgreSQL takes to deliver
    those rows to this client. Its tables are dropped with `close`."""

    def __init__(self, dsn):
        super().__init__(dsn, "heap", "stored result (PostgreSQL)")
        # One process reads the table, so the rows come in the order they were stored.
        self.conn.execute("SET max_parallel_workers_per_gather = 0")
        self.conn.execute("DROP SCHEMA IF EXISTS bench_result CASCADE")
        self.conn.execute("CREATE SCHEMA bench_result")
        self.tables = {}

    def run(self, sql):
        table = self.tables.get(sql)
        if table is None:
            table = self.tables[sql] = f"bench_result.r{len(self.tables)}"
            # A new table returns its rows in the order they were inserted: the query's.
            self.conn.execute(f"CREATE TABLE {table} AS {sql}")
            self.conn.execute(f"VACUUM ANALYZE {table}")
        return super().run(f"SELECT * FROM {table}")

    def close(self):
        self.conn.execute("DROP SCHEMA bench_result CASCADE")


class DuckDB:
    def __init__(self, parquet_glob):
        self.name = "DuckDB (Parquet export)"
        self.conn = duckdb.connect()
        self.conn.execute("SET threads = 2")
        self.conn.execute("SET TimeZone = 'UTC'")
        self.conn.execute(
            "CREATE VIEW cpu AS SELECT * EXCLUDE (time), time::TIMESTAMPTZ AS time "
            f"FROM read_parquet('{parquet_glob}')"
        )

    def run(self, sql):
        """As `Postgres.run`, from two runs: DuckDB runs a query as its result is fetched,
        so the first is timed until the result is an Arrow table."""
        started = time.perf_counter()
        self.conn.sql(sql).to_arrow_table()
        received = time.perf_counter() - started
        started = time.perf_counter()
        rows = self.conn.execute(sql).fetchall()
        return received, time.perf_counter() - started, rows


def normalise(value):
    """A value comparable across engines: numbers to 9 significant digits, times in UTC."""
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return float(f"{float(value):.9g}")
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    return value


def comparable(rows, ordered):
    rows = [tuple(normalise(v) for v in row) for row in rows]
    return rows if ordered else sorted(rows, key=repr)
