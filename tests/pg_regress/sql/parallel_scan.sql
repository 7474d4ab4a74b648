-- Parallel scans: for a table worth sharing, PostgreSQL runs the scan of a measurement in
-- its workers and the leader at once, each process reading the row groups it takes, with
-- or without pushed-down filters. Together they return every row once: the same rows as a
-- scan by one process and as a heap table.
SET TimeZone = 'UTC';
-- 300,000 points of one day in one write (a file of three row groups), and a file each for
-- six small writes on the next day.
SELECT written FROM
  (SELECT string_agg(format('m,host=h%s v=%si,f=%s %s', i % 7, i, i % 100, 1704067200000 + i * 100), E'\n') AS lines
   FROM generate_series(1, 300000) i) input,
  tsparquet.write_lp('par', input.lines, 'ms');
SELECT sum(written) AS written FROM generate_series(1, 6) k,
  tsparquet.write_lp('par', format('m,host=late v=%si,f=99.5 %s', k, 1704153600 + k * 3600), 's');
CREATE TABLE heap_par AS SELECT time, host, v, f FROM par.m;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m WHERE f > 90;
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m;
-- Workers as for a heap table of the rows the scan is expected to read: the whole table is
-- worth sharing, a window of time (half a percent, by PostgreSQL's estimate) is not, nor
-- one series (files keep a series' rows together, sorted by their first tag first), even
-- after a time on one side only.
RESET min_parallel_table_scan_size;
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m WHERE f > 90;
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m
WHERE f > 90 AND time >= '2024-01-01 01:00' AND time < '2024-01-01 02:00';
SET min_parallel_table_scan_size = '1MB';
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m WHERE f > 90 AND time >= '2024-01-01 01:00';
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m WHERE host = 'h3' AND time >= '2024-01-01 01:00';
-- A filter on the tag that the engine does not take reads every row.
EXPLAIN (COSTS OFF) SELECT time, host, v FROM par.m WHERE host ~* '^H3' AND time >= '2024-01-01 01:00';
SET min_parallel_table_scan_size = 0;
-- Aggregates and top-N are still answered by the engine, in one process.
EXPLAIN (COSTS OFF) SELECT host, count(*) FROM par.m GROUP BY host;
EXPLAIN (COSTS OFF) SELECT time, v FROM par.m ORDER BY time DESC LIMIT 3;

-- Every row once, in the leader and workers together and in workers alone.
CREATE FUNCTION pg_temp.differences(filter text) RETURNS TABLE (missing bigint, extra bigint)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format(
    'SELECT (SELECT count(*) FROM (SELECT time, host, v, f FROM heap_par WHERE %1$s
                                   EXCEPT ALL SELECT time, host, v, f FROM par.m WHERE %1$s) d),
            (SELECT count(*) FROM (SELECT time, host, v, f FROM par.m WHERE %1$s
                                   EXCEPT ALL SELECT time, host, v, f FROM heap_par WHERE %1$s) d)',
    filter);
END $$;
SELECT filter, d.* FROM unnest(ARRAY['true', 'f > 90', 'host = ''late''', 'v BETWEEN 1000 AND 200000 AND f < 3',
                                      'host = ANY (''{}'')']) filter,
  pg_temp.differences(filter) d;
SELECT count(*), sum(v), count(DISTINCT host) FROM (SELECT v, host FROM par.m WHERE f > 90 OFFSET 0) s;
SELECT count(*), sum(v), count(DISTINCT host) FROM (SELECT v, host FROM heap_par WHERE f > 90 OFFSET 0) s;
SET parallel_leader_participation = off;
SELECT filter, d.* FROM unnest(ARRAY['true', 'f > 90']) filter, pg_temp.differences(filter) d;
RESET parallel_leader_participation;

-- A Gather run again for each row of a temporary table (which only the leader can read):
-- each run shares the parts anew.
CREATE TEMP TABLE ks AS SELECT k FROM generate_series(0, 3) k;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT k, count(m.v) FROM ks LEFT JOIN par.m ON m.v % 3 = ks.k AND m.f > 98 GROUP BY k ORDER BY k;
SELECT k, count(m.v) FROM ks LEFT JOIN par.m ON m.v % 3 = ks.k AND m.f > 98 GROUP BY k ORDER BY k;
SELECT v % 3 AS k, count(*) FROM heap_par WHERE f > 98 GROUP BY 1 ORDER BY 1;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- A cursor runs its plan in one process, and its scan keeps its place between fetches.
BEGIN;
DECLARE c CURSOR FOR SELECT v FROM par.m WHERE f > -1;
MOVE 100000 IN c;
MOVE 100000 IN c;
MOVE 100000 IN c;
FETCH ALL IN c;
COMMIT;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE heap_par;
