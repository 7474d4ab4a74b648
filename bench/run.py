"""tsparquet side by side with PostgreSQL heap tables and DuckDB on TSBS cpu-only data.
Run through scripts/bench.sh, which builds and installs the extension, starts the cluster
and prepares the Python environment."""

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psycopg

import engines
import report
from tsbs_queries import METRICS, QUERY_TYPES, TAGS, Parameters

SCALES = {
    # hosts, days, parameter sets per query type, runs per parameter set, ingest rounds
    "smoke": (20, 1, 2, 5, 1),
    "standard": (200, 2, 3, 10, 3),
}
START = dt.datetime(2016, 1, 1, tzinfo=dt.timezone.utc)
BATCH_LINES = 5000
# The largest write_lp calls: one call can carry at most 1 GB of text.
LARGE_CALL_LINES = 500_000
ROOT = Path(__file__).resolve().parent


def say(message):
    print(message, flush=True)


def generate(generator, hosts, days, data_dir):
    """TSBS cpu-only data as line protocol and as CSV, generated once per scale."""
    data_dir.mkdir(parents=True, exist_ok=True)
    end = START + dt.timedelta(days=days)
    outputs = {}
    for fmt, suffix in (("influx", "lp"), ("csv", "csv")):
        path = data_dir / f"cpu.{suffix}"
        if not path.exists():
            partial = path.with_suffix(".partial")
            subprocess.run(
                [sys.executable, str(generator), "--hosts", str(hosts), "--format", fmt,
                 "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "-o", str(partial)],
                check=True,
            )
            partial.rename(path)
        outputs[suffix] = path
    return outputs, end


def timed(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def warm_median_ms(conn, sql, runs):
    """A warm-up run of `sql`, then `runs` timed runs: the warm-up's rows and the median ms."""
    rows = conn.execute(sql).fetchall()
    return rows, statistics.median(timed(lambda: conn.execute(sql).fetchall()) for _ in range(runs)) * 1000


def stored_files(conn, table, aggregate):
    """`aggregate` (`count(*)`, `sum(byte_size)`) over the stored files of measurement `table`."""
    return conn.execute(f"SELECT {aggregate} FROM tsparquet.files f, pg_foreign_table t "
                        "WHERE t.ftrelid = %s::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions)",
                        (table,)).fetchone()[0]


def copy_file(conn, statement, path):
    """Streams a file to COPY ... FROM STDIN over the connection, as a client program would."""
    with conn.cursor() as cur, cur.copy(statement) as copy, open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            copy.write(chunk)


def copy_csv(conn, table, path):
    copy_file(conn, f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)", path)


# Storage parameters of a table loaded while it is timed: autovacuum would otherwise scan it
# (and its TOAST table) while the next methods load.
NO_AUTOVACUUM = "autovacuum_enabled = off, toast.autovacuum_enabled = off"
HEAP_COLUMNS = ", ".join(
    ["time timestamptz NOT NULL"] + [f"{t} text" for t in TAGS] + [f"{m} bigint" for m in METRICS]
)


@contextlib.contextmanager
def auto_compact(conn, setting):
    """Runs the block with tsparquet.auto_compact set to `setting` ("on" or "off")."""
    conn.execute(f"SET tsparquet.auto_compact = {setting}")
    try:
        yield
    finally:
        conn.execute("RESET tsparquet.auto_compact")


def ingest(conn, files, rows, rounds):
    """Loads every engine's copy of the data, `rounds` times in turn so that every method
    meets the same noise of a shared machine. Returns (label, median seconds) per method,
    and per size of write_lp call (label, median seconds of receiving its texts alone,
    median seconds of the write_lp method). The tables of the last round stay for the
    queries."""
    lines = files["lp"].read_text().splitlines(keepends=True)
    large = min(LARGE_CALL_LINES, len(lines))
    texts = {size: ["".join(lines[i:i + size]) for i in range(0, len(lines), size)] for size in (BATCH_LINES, large)}

    def calls_of(size, sql, *args):
        """Runs `sql` with `args` and each of the texts of `size` lines, as a client sends them."""
        def call():
            for text in texts[size]:
                conn.execute(sql, (*args, text))

        return call

    def in_calls_of(size, database):
        return calls_of(size, "SELECT written FROM tsparquet.write_lp(%s, %s)", database)

    def received_in_calls_of(size):
        """The same texts sent the same way to a function that only takes them in: what
        PostgreSQL's receiving and text input of the arguments alone take."""
        return calls_of(size, "SELECT octet_length(%s::text)")

    def without_auto_compact(load):
        def run():
            with auto_compact(conn, "off"):
                load()
        return run

    def heap(schema, indexes):
        def prepare():
            conn.execute(f"CREATE SCHEMA {schema}")
            # Each method is timed alone: autovacuum of a table just loaded would otherwise
            # scan it while the next methods load (heap.cpu is vacuumed before the queries).
            conn.execute(f"CREATE TABLE {schema}.cpu ({HEAP_COLUMNS}) WITH ({NO_AUTOVACUUM})")
            for columns in indexes:
                conn.execute(f"CREATE INDEX ON {schema}.cpu ({columns})")
        return prepare, lambda: copy_csv(conn, f"{schema}.cpu", files["csv"])

    methods = [
        ("PostgreSQL COPY CSV, heap without indexes", "heap_plain", *heap("heap_plain", [])),
        ("PostgreSQL COPY CSV, heap with index on (hostname, time)", "heap_one_index",
         *heap("heap_one_index", ["hostname, time DESC"])),
        ("PostgreSQL COPY CSV, heap with 2 indexes", "heap", *heap("heap", ["hostname, time DESC", "time DESC"])),
        ("tsparquet COPY FORMAT lineprotocol", "bench_copy", lambda: None,
         lambda: copy_file(conn, "COPY bench_copy FROM STDIN WITH (FORMAT lineprotocol)", files["lp"])),
        (f"tsparquet write_lp, {BATCH_LINES}-line batches", "bench_batched", lambda: None,
         in_calls_of(BATCH_LINES, "bench_batched")),
        (f"tsparquet write_lp, {large:,}-line calls", "bench", lambda: None, in_calls_of(large, "bench")),
        # What merging small files as they are written costs a load (tsparquet.auto_compact).
        ("tsparquet COPY FORMAT lineprotocol, auto_compact off", "bench_copy_loose", lambda: None,
         without_auto_compact(lambda: copy_file(conn, "COPY bench_copy_loose FROM STDIN WITH (FORMAT lineprotocol)",
                                                files["lp"]))),
        (f"tsparquet write_lp, {BATCH_LINES}-line batches, auto_compact off", "bench_batched_loose", lambda: None,
         without_auto_compact(in_calls_of(BATCH_LINES, "bench_batched_loose"))),
    ]
    # Each beside the label of the write_lp method that sends the same texts.
    receiving = [
        (f"PostgreSQL receiving the {BATCH_LINES}-line batches alone", received_in_calls_of(BATCH_LINES),
         methods[4][0]),
        (f"PostgreSQL receiving the {large:,}-line calls alone", received_in_calls_of(large), methods[5][0]),
    ]
    seconds = {label: [] for label, *_ in methods + receiving}
    # tsparquet's files are rows of tsparquet.files, and dropping a round's tables leaves
    # their rows dead: vacuumed before each method, not by autovacuum during the next one,
    # as the heap tables are loaded with autovacuum off.
    conn.execute(f"ALTER TABLE tsparquet.files SET ({NO_AUTOVACUUM})")
    for round_number in range(1, rounds + 1):
        for label, schema, prepare, load in methods:
            say(f"ingest, round {round_number} of {rounds}: {label}")
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute("VACUUM tsparquet.files")
            prepare()
            conn.execute("CHECKPOINT")
            seconds[label].append(timed(load))
            say(f"  {seconds[label][-1]:.2f} s")
            count = conn.execute(f"SELECT count(*) FROM {schema}.cpu").fetchone()[0]
            assert count == rows, f"{schema}.cpu has {count} rows, expected {rows}"
        for label, receive, _ in receiving:
            say(f"ingest, round {round_number} of {rounds}: {label}")
            seconds[label].append(timed(receive))
            say(f"  {seconds[label][-1]:.2f} s")
    conn.execute("DROP SCHEMA heap_plain CASCADE")
    conn.execute("DROP SCHEMA heap_one_index CASCADE")
    conn.execute("DROP SCHEMA bench_copy_loose CASCADE")
    conn.execute("DROP SCHEMA bench_batched_loose CASCADE")
    conn.execute("ALTER TABLE heap.cpu RESET (autovacuum_enabled, toast.autovacuum_enabled)")
    conn.execute("VACUUM ANALYZE heap.cpu")
    conn.execute("ALTER TABLE tsparquet.files RESET (autovacuum_enabled, toast.autovacuum_enabled)")
    conn.execute("VACUUM ANALYZE tsparquet.files")
    medians = {label: statistics.median(times) for label, times in seconds.items()}
    loads = [(label, medians[label]) for label, *_ in methods]
    received = [(label, medians[label], medians[write_lp]) for label, _, write_lp in receiving]
    return loads, received


def storage(conn, export_dir, rows):
    parquet = stored_files(conn, "bench.cpu", "sum(byte_size)")
    heap = conn.execute("SELECT pg_total_relation_size('heap.cpu')").fetchone()[0]
    heap_table = conn.execute("SELECT pg_relation_size('heap.cpu')").fetchone()[0]
    duck_file = export_dir.parent / "duckdb-export.parquet"
    duck = duckdb.connect()
    duck.execute(
        f"COPY (SELECT * FROM read_parquet('{export_dir}/*.parquet') ORDER BY hostname, time) "
        f"TO '{duck_file}' (FORMAT parquet, COMPRESSION zstd)"
    )
    duck_size = duck_file.stat().st_size
    return [
        ("tsparquet (Parquet in tsparquet.files, compacted)", parquet),
        ("PostgreSQL heap table alone", heap_table),
        ("PostgreSQL heap table with its 2 indexes", heap),
        ("DuckDB Parquet export (zstd, sorted by hostname, time)", duck_size),
    ]


def queries(dsn, export_dir, hosts, end, params_per_type, runs):
    runners = [
        engines.Postgres(dsn, "heap", "PostgreSQL heap"),
        engines.Postgres(dsn, "bench", "tsparquet"),
        engines.DuckDB(f"{export_dir}/*.parquet"),
        engines.StoredResult(dsn),
    ]
    timings = {}
    converted = {}
    mismatches = []
    for query_type, (make_sql, ordered) in QUERY_TYPES.items():
        parameters = Parameters(seed=123, hosts=hosts, start=START, end=end)
        sqls = [make_sql(parameters) for _ in range(params_per_type)]
        for runner in runners:
            timings[(query_type, runner.name)] = []
            converted[(query_type, runner.name)] = []
        for sql in sqls:
            reference = None
            for runner in runners:
                runner.run(sql)  # warm the cache
                for _ in range(runs):
                    received, as_python, rows = runner.run(sql)
                    timings[(query_type, runner.name)].append(received)
                    converted[(query_type, runner.name)].append(as_python)
                result = engines.comparable(rows, ordered)
                if reference is None:
                    reference = (runner.name, result)
                elif result != reference[1]:
                    mismatches.append(f"{query_type}: {runner.name} differs from {reference[0]} ({len(result)} vs {len(reference[1])} rows)\n{sql}")
        medians = {runner.name: statistics.median(timings[(query_type, runner.name)]) * 1000 for runner in runners}
        say(f"query {query_type}: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in medians.items()))
    runners[-1].close()
    return [r.name for r in runners], timings, converted, mismatches


# Six hours of 10 s flushes, as a Telegraf agent writes them.
SMALL_FILE_WRITES = 2160
SMALL_FILE_QUERIES = {
    "one host's last hour, avg per minute":
        "SELECT date_trunc('minute', time) AS minute, avg(usage_user) FROM {t} WHERE hostname = 'host_7' "
        "AND time >= '2016-01-01 05:00+00' AND time < '2016-01-01 06:00+00' GROUP BY 1 ORDER BY 1",
    "max per host over the six hours": "SELECT hostname, max(usage_user) FROM {t} GROUP BY 1 ORDER BY 1",
    "latest point per host (DISTINCT ON)":
        "SELECT DISTINCT ON (hostname) hostname, time, usage_user FROM {t} ORDER BY hostname, time DESC",
}


def small_files(conn, lp_file, runs):
    """What many small files cost queries, and what merging them as they are written costs
    the writes: the first six hours of the data written as an agent flushes it, a write_lp
    call per 10 s interval, once with tsparquet.auto_compact off and once on; queried as
    written, after tsparquet.compact, and as a heap table with the benchmark's indexes.
    Returns a row (label, seconds of the writes, file count) per way of writing and a row
    (label, median ms of each) per query."""
    for schema in ("small_files", "small_files_auto"):
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.execute("DROP TABLE IF EXISTS heap.small_files")
    flushes = []
    with open(lp_file) as lines:
        for line in lines:
            stamp = line.rsplit(" ", 1)[1]
            if not flushes or flushes[-1][0] != stamp:
                if len(flushes) == SMALL_FILE_WRITES:
                    break
                flushes.append((stamp, []))
            flushes[-1][1].append(line)
    writes = []
    for schema, setting in (("small_files", "off"), ("small_files_auto", "on")):
        with auto_compact(conn, setting):
            started = time.perf_counter()
            for _, lines in flushes:
                conn.execute("SELECT tsparquet.write_lp(%s, %s)", (schema, "".join(lines)))
            seconds = time.perf_counter() - started
        writes.append((f"auto_compact {setting}", seconds, stored_files(conn, f"{schema}.cpu", "count(*)")))
    conn.execute("CREATE TABLE heap.small_files AS SELECT * FROM small_files.cpu")
    conn.execute("CREATE INDEX ON heap.small_files (hostname, time DESC)")
    conn.execute("CREATE INDEX ON heap.small_files (time DESC)")
    conn.execute("VACUUM ANALYZE heap.small_files")

    def median_ms(table):
        return [warm_median_ms(conn, sql.format(t=table), runs)[1] for sql in SMALL_FILE_QUERIES.values()]

    as_written = median_ms("small_files.cpu")
    merged_on_write = median_ms("small_files_auto.cpu")
    conn.execute("SELECT tsparquet.compact('small_files.cpu')")
    compacted = median_ms("small_files.cpu")
    heap = median_ms("heap.small_files")
    for schema in ("small_files", "small_files_auto"):
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
    conn.execute("DROP TABLE heap.small_files")
    return writes, list(zip(SMALL_FILE_QUERIES, as_written, merged_on_write, compacted, heap))


# Queries whose aggregate PostgreSQL computes itself, over the whole table or most of it.
PARALLEL_QUERIES = {
    "correlation per host, whole table": "SELECT hostname, corr(usage_user, usage_system) FROM cpu GROUP BY hostname",
    "count where two fields differ by much": "SELECT count(*) FROM cpu "
                                             "WHERE greatest(usage_user, usage_system) - least(usage_user, usage_system) > 50",
    "max with FILTER per host, last 36 h": "SELECT hostname, max(usage_user) FILTER (WHERE abs(usage_system - 50) < 10) "
                                           "FROM cpu WHERE time >= '2016-01-01 12:00+00' GROUP BY hostname",
}


def parallel_scans(dsn, runs, rounds=2):
    """What a parallel worker brings to queries PostgreSQL finishes itself: each query on
    tsparquet and on the heap table, in one process and with one worker, in turn, for
    `rounds` rounds. Returns a row (label, [medians in ms per round] for each of
    tsparquet/heap without/with a worker) per query, and the queries whose rows differed."""
    # Each statement planned anew: a cached plan would keep the worker count it was made with.
    conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
    conn.execute("SET TimeZone = 'UTC'")
    rows = []
    differing = []
    for label, sql in PARALLEL_QUERIES.items():
        medians = {}
        results = set()
        for _ in range(rounds):
            for schema in ("bench", "heap"):
                for workers in (0, 1):
                    conn.execute(f"SET search_path = {schema}, public")
                    conn.execute(f"SET max_parallel_workers_per_gather = {workers}")
                    result, ms = warm_median_ms(conn, sql, runs)
                    results.add(tuple(engines.comparable(result, ordered=False)))
                    medians.setdefault((schema, workers), []).append(ms)
        if len(results) != 1:
            differing.append(label)
        rows.append((label, [medians[key] for key in (("bench", 0), ("bench", 1), ("heap", 0), ("heap", 1))]))
    conn.close()
    return rows, differing


def milliseconds(timings):
    """The median milliseconds of each (query type, engine)."""
    return {key: statistics.median(seconds) * 1000 for key, seconds in timings.items()}


def latency_rows(timings, names, spread):
    """A row per query type: each engine's median (and p95, with `spread`), then
    tsparquet's speed-up over the heap table and over DuckDB."""
    medians = milliseconds(timings)
    rows = []
    for query_type in QUERY_TYPES:
        cells = [query_type]
        for name in names:
            cell = f"{medians[(query_type, name)]:.1f}"
            if spread:
                cell += f" / {percentile([t * 1000 for t in timings[(query_type, name)]], 95):.1f}"
            cells.append(cell)
        ours = medians[(query_type, names[1])]
        cells += [f"{medians[(query_type, names[0])] / ours:.3g}x", f"{medians[(query_type, names[2])] / ours:.3g}x"]
        rows.append(cells)
    return rows


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=SCALES, default="smoke")
    parser.add_argument("--only", choices=["ingest", "query", "storage", "small-files", "parallel"])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--generator", required=True, type=Path)
    parser.add_argument("--export-dir", required=True, type=Path)
    parser.add_argument("--settings", default="")
    args = parser.parse_args()

    hosts, days, params_per_type, runs, rounds = SCALES[args.scale]
    rows = hosts * days * 8640
    files, end = generate(args.generator, hosts, days, ROOT / "data" / args.scale)
    conn = psycopg.connect(args.dsn, autocommit=True)
    # psycopg drives libpq in non-blocking mode, where libpq moves the unsent rest of its
    # output buffer to the front after every partial send: sending one 170 MB write_lp
    # argument costs the client seconds of memmove. Blocking mode sends it at socket speed,
    # so the large calls measure the server, as COPY's 1 MB chunks do.
    conn.pgconn.nonblocking = 0
    sections = []
    today = dt.date.today().isoformat()
    # A run of one section is reported apart from a whole run of the same day.
    stem = f"{today}-{args.scale}{'-' + args.only if args.only else ''}"
    summary = []

    # Loaded at this scale: both tables exist and hold this scale's rows.
    loaded = conn.execute("SELECT to_regclass('bench.cpu') IS NOT NULL AND to_regclass('heap.cpu') IS NOT NULL").fetchone()[0] \
        and conn.execute("SELECT count(*) FROM heap.cpu").fetchone()[0] == rows
    if args.only in (None, "ingest") or not loaded:
        results, received = ingest(conn, files, rows, rounds)
        one_index = dict(results)["PostgreSQL COPY CSV, heap with index on (hostname, time)"]
        two_indexes = dict(results)["PostgreSQL COPY CSV, heap with 2 indexes"]
        table_rows = [(label, f"{rows / s:,.0f}", f"{s:.2f}", f"{one_index / s:.2f}x", f"{two_indexes / s:.2f}x")
                      for label, s in results]
        sections.append(f"## Ingest\n\nAll from a client over loopback (psycopg), into the same cluster; {rounds} round(s) of every method in turn, "
                        "median seconds.\n\n"
                        + report.table(["method", "rows/s", "seconds", "vs heap COPY, (hostname, time) index",
                                        "vs heap COPY, 2 indexes"], table_rows)
                        + "\n\nPostgreSQL's own part of the write_lp calls: the same texts sent the same way to "
                        "`SELECT octet_length($1::text)`, which only receives them.\n\n"
                        + report.table(["texts", "seconds", "write_lp seconds", "share of write_lp's time"],
                                       [(label, f"{s:.2f}", f"{w:.2f}", f"{s / w:.0%}") for label, s, w in received]))
        for label, s, w in received:
            summary.append(f"ingest: {label}: {s:.2f} s of write_lp's {w:.2f} s")
        for label, s in results[3:]:
            summary.append(f"ingest: {label} {rows / s:,.0f} rows/s = {one_index / s:.2f}x heap COPY with the (hostname, time) index")

    bytes_before = stored_files(conn, "bench.cpu", "sum(byte_size)")
    started = time.perf_counter()
    files_before, files_after = conn.execute("SELECT * FROM tsparquet.compact('bench.cpu')").fetchone()
    compaction_seconds = time.perf_counter() - started
    bytes_after = stored_files(conn, "bench.cpu", "sum(byte_size)")
    sections.append(
        "## Compaction\n\n`SELECT tsparquet.compact('bench.cpu')` after loading, before the queries: "
        "each day's files merged into one.\n\n"
        + report.table(["files before", "files after", "seconds", "rows/s", "bytes per row before", "bytes per row after"],
                       [(f"{files_before}", f"{files_after}", f"{compaction_seconds:.2f}", f"{rows / compaction_seconds:,.0f}",
                         f"{bytes_before / rows:.2f}", f"{bytes_after / rows:.2f}")]))
    summary.append(f"compaction: {files_before} files into {files_after} in {compaction_seconds:.2f} s")

    if args.export_dir.exists():
        shutil.rmtree(args.export_dir)
    conn.execute("SELECT tsparquet.export('bench.cpu', %s)", (str(args.export_dir),))

    if args.only in (None, "storage"):
        sizes = storage(conn, args.export_dir, rows)
        sections.append("## Storage\n\n" + report.table(["what", "bytes", "bytes per row"], [(l, f"{b:,}", f"{b / rows:.2f}") for l, b in sizes]))
        summary.append(f"storage: tsparquet {sizes[0][1] / rows:.2f} bytes/row, heap with indexes {sizes[2][1] / rows:.2f} bytes/row")

    if args.only in (None, "small-files"):
        writes, rows_ms = small_files(conn, files["lp"], runs)
        (_, off_s, off_files), (_, on_s, on_files) = writes
        sections.append(
            f"## Many small files\n\nThe first {SMALL_FILE_WRITES:,} intervals of the data (six hours) written as an agent "
            "flushes them, one `write_lp` call per 10 s interval: with `tsparquet.auto_compact` off, then on (the default). "
            "The table written with it off is then compacted with `tsparquet.compact`; the same rows are also in a heap "
            "table indexed on (hostname, time) and (time).\n\n"
            + report.table(["writes", "seconds for all writes", "files"],
                           [(label, f"{s:.2f}", f"{n:,}") for label, s, n in writes])
            + f"\n\nQueries, median of {runs} runs after a warm-up run, ms:\n\n"
            + report.table(["query", f"auto_compact off ({off_files:,} files)", f"auto_compact on ({on_files:,} files)",
                            "compacted by hand", "heap"],
                           [(label, f"{a:.1f}", f"{b:.1f}", f"{c:.1f}", f"{d:.1f}") for label, a, b, c, d in rows_ms]))
        summary.append(
            f"small files: writes {off_s:.2f} s ({off_files} files) with auto_compact off, {on_s:.2f} s ({on_files} files) on; "
            + ", ".join(f"{a:.1f} / {b:.1f} / {c:.1f} ms" for _, a, b, c, _ in rows_ms))

    failed = False
    if args.only in (None, "parallel"):
        parallel_rows, differing = parallel_scans(args.dsn, runs)
        both = lambda values: " / ".join(f"{v:.1f}" for v in values)
        sections.append(
            "## Parallel scans\n\nQueries whose aggregate PostgreSQL computes itself, in one process "
            "(`max_parallel_workers_per_gather = 0`) and with one worker (`= 1`), on tsparquet and on the heap table, "
            f"in turn; medians of {runs} runs after a warm-up run, in each of two rounds, ms.\n\n"
            + report.table(["query", "tsparquet, one process", "tsparquet, a worker", "heap, one process", "heap, a worker",
                            "tsparquet: worker speed-up", "tsparquet vs heap, with a worker"],
                           [(label, both(m[0]), both(m[1]), both(m[2]), both(m[3]),
                             f"{statistics.median(m[0]) / statistics.median(m[1]):.2f}x",
                             f"{statistics.median(m[3]) / statistics.median(m[1]):.2f}x")
                            for label, m in parallel_rows])
            + ("\n\nEvery setting returned the same rows on both tables." if not differing
               else "\n\nROWS DIFFERED: " + ", ".join(differing)))
        summary.append("parallel: " + ", ".join(f"{statistics.median(m[0]) / statistics.median(m[1]):.2f}x" for _, m in parallel_rows))
        failed = bool(differing)

    if args.only in (None, "query"):
        names, timings, converted, mismatches = queries(args.dsn, args.export_dir, hosts, end, params_per_type, runs)
        chart_name = f"{stem}.png"
        report.chart(ROOT / "results" / chart_name, list(QUERY_TYPES), names[:3], milliseconds(timings))
        ratios = ["tsparquet speed-up vs heap", "tsparquet vs DuckDB (>1: faster)"]
        header = ["query type"] + [f"{n} median / p95 ms" for n in names] + ratios
        agreement = "All engines returned the same rows for every query." if not mismatches else "MISMATCHES:\n\n```\n" + "\n\n".join(mismatches) + "\n```"
        sections.append(
            f"## Queries\n\n{params_per_type} parameter sets per query type, {runs} timed runs each after a warm-up run (hot cache), "
            "two threads per engine, latency measured at the client until the whole result has arrived (before converting it to Python values). "
            "The stored result column is no engine but an approximate floor: PostgreSQL sending a copy of the heap table's result, "
            "kept in a table of its own (`SELECT * FROM` it), about the least time a query served by PostgreSQL takes to deliver those rows.\n\n"
            + report.table(header, latency_rows(timings, names, spread=True)) + f"\n\n![query latencies]({chart_name})\n\n{agreement}"
            + "\n\n### Including the rows' conversion to Python values\n\n"
            "The same runs, each timed until psycopg's `fetchall()` (DuckDB: `fetchall()` in a run of its own) has "
            "made every value a Python object, as a Python program waits for them.\n\n"
            + report.table(["query type"] + [f"{n} median ms" for n in names] + ratios,
                           latency_rows(converted, names, spread=False))
        )
        summary.append(f"queries: {len(QUERY_TYPES)} types, " + ("all engines agree" if not mismatches else f"{len(mismatches)} MISMATCHES"))
        failed = failed or bool(mismatches)

    versions = {
        "PostgreSQL": conn.execute("SHOW server_version").fetchone()[0],
        "tsparquet": conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'tsparquet'").fetchone()[0]
        + " (" + subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() + ")",
        "DuckDB": duckdb.__version__,
        "Python": platform.python_version(),
    }
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    head = (
        f"# tsparquet benchmark, {args.scale} scale, {today}\n\n"
        f"TSBS cpu-only: {hosts} hosts x {days} day(s) at 10 s = {rows:,} rows (seed 123). "
        f"Command: `scripts/bench.sh --scale {args.scale}{' --only ' + args.only if args.only else ''}`.\n\n"
        f"Machine: {os.cpu_count()} cores ({cpu}), {memory:.0f} GiB. "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".\n\n"
        f"PostgreSQL settings: {args.settings}.\n"
    )
    out = ROOT / "results" / f"{stem}.md"
    out.write_text(head + "\n" + "\n\n".join(sections) + "\n")
    for line in summary:
        say(line)
    say(f"report: {out.relative_to(ROOT.parent)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
