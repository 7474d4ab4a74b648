-- Filters on time and time_ns whose values are known when the scan starts prune whole
-- files by their time range; Postgres still applies every filter, so results never change.
SET TimeZone = 'UTC';
SELECT written FROM
  (SELECT string_agg(format('m,host=h%s v=%s %s', i % 3, i, 1704067200 + i * 3600), E'\n') AS lines
   FROM generate_series(0, 119) i) input,
  tsparquet.write_lp('pruning', input.lines, 's');
-- One file per UTC day: five days.
SELECT count(*) AS files FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'pruning.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions);
CREATE TABLE heap_m AS SELECT time, time_ns, host, v FROM pruning.m;

EXPLAIN (COSTS OFF)
SELECT count(*) FROM pruning.m WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE '2024-01-04 12:00' < time;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time_ns BETWEEN 1704153600000000000 AND 1704239999999999999;
-- A timestamp without time zone or a date is a bound, as the timestamptz PostgreSQL compares
-- it as: its local time, or midnight, in the session's time zone. An OR is not.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time >= '2024-01-04'::timestamp;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time < '2024-01-02'::date;
SET TimeZone = 'Asia/Kolkata';
SELECT (SELECT count(*) FROM pruning.m WHERE time >= '2024-01-04 02:00'::timestamp AND time < '2024-01-05'::date) AS tsparquet,
       (SELECT count(*) FROM heap_m WHERE time >= '2024-01-04 02:00'::timestamp AND time < '2024-01-05'::date) AS heap;
SET TimeZone = 'UTC';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time < '2024-01-02' OR time > '2024-01-05';
-- Bounds that exclude everything read nothing.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM pruning.m WHERE time > now() + interval '1 year';

-- The same answers as the heap table, at the edges of days and microseconds.
SELECT q, (SELECT count(*) FROM pruning.m WHERE time >= q AND time < q + interval '1 day') AS tsparquet,
       (SELECT count(*) FROM heap_m WHERE time >= q AND time < q + interval '1 day') AS heap
FROM generate_series(timestamptz '2023-12-31', '2024-01-06', interval '12 hours') q;
SELECT (SELECT count(*) FROM pruning.m WHERE time > '2024-01-02 23:00') AS gt,
       (SELECT count(*) FROM heap_m WHERE time > '2024-01-02 23:00') AS heap_gt,
       (SELECT count(*) FROM pruning.m WHERE time <= '2024-01-02 23:00') AS le,
       (SELECT count(*) FROM heap_m WHERE time <= '2024-01-02 23:00') AS heap_le,
       (SELECT count(*) FROM pruning.m WHERE time = '2024-01-02 23:00') AS eq,
       (SELECT count(*) FROM pruning.m WHERE time_ns = 1704236400000000000) AS eq_ns,
       (SELECT count(*) FROM pruning.m WHERE time_ns > 1704236400000000000) AS gt_ns,
       (SELECT count(*) FROM heap_m WHERE time_ns > 1704236400000000000) AS heap_gt_ns;

-- Query parameters: each execution of a generic plan computes its own bounds.
SET plan_cache_mode = force_generic_plan;
PREPARE window_count(timestamptz, timestamptz) AS
  SELECT count(*) FROM pruning.m WHERE time >= $1 AND time < $2;
EXECUTE window_count('2024-01-01', '2024-01-02');
EXECUTE window_count('2024-01-03', '2024-01-06');
EXECUTE window_count(NULL, '2024-01-06');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE window_count('2024-01-03', '2024-01-04');
DEALLOCATE window_count;
RESET plan_cache_mode;

-- A correlated subquery rescans with new bounds each time.
SELECT d::date, (SELECT count(*) FROM pruning.m WHERE time >= d AND time < d + interval '1 day') AS n
FROM (VALUES (timestamptz '2024-01-01'), ('2024-01-03'), ('2024-01-05'), ('2024-01-09')) days(d);
DROP TABLE heap_m;

-- EXPLAIN (ANALYZE, VERBOSE) of a pushed-down query also shows what the engine did, each
-- operator with the rows it produced (shown here without its timings).
CREATE FUNCTION pg_temp.engine_rows(query text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT substring(line from '(\w+Exec)') || coalesce(' ' || substring(line from 'output_rows=\d+'), '')
  FROM public.engine_operators(query) line
$$;
SELECT * FROM pg_temp.engine_rows($$
  SELECT host, count(*) FROM pruning.m WHERE time >= '2024-01-02' AND time < '2024-01-03' GROUP BY host$$);
