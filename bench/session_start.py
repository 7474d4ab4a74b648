"""The first queries of new sessions: each run opens a session, runs a query three times and
closes it; the medians of the first, second and third runs over all sessions are printed.
The first run reads the files from the catalog and starts the session's engine; the later
ones read what the session's cache kept of them, as much as `--file-cache-size` allows.

    .venv/bin/python bench/session_start.py --dsn 'host=/tmp/tsp-bench port=5436 \\
        user=postgres dbname=perf' --search-path tsbs --file-cache-size 4MB \\
        "SELECT DISTINCT hostname FROM cpu"
"""

import argparse
import statistics
import time

import psycopg


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--search-path", default="public")
    parser.add_argument("--file-cache-size", default="128MB")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("query")
    args = parser.parse_args()
    options = (f"-c tsparquet.file_cache_size={args.file_cache_size} "
               f"-c search_path={args.search_path} -c TimeZone=UTC")
    runs = []
    for _ in range(args.sessions):
        with psycopg.connect(args.dsn, autocommit=True, options=options) as conn:
            conn.execute("SELECT 1")
            times = []
            for _ in range(3):
                started = time.perf_counter()
                conn.execute(args.query).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            runs.append(times)
    medians = [statistics.median(run[i] for run in runs) for i in range(3)]
    print(f"file_cache_size {args.file_cache_size}: first / second / third run, median ms: "
          + " / ".join(f"{m:.2f}" for m in medians))


if __name__ == "__main__":
    main()
