-- A pushed-down query reads a large file in the ranges it needs (the footer, and the
-- column chunks and pages of the row groups it reads), not whole: from the session's cache
-- or from the catalog, with the rows a heap table gives, and as its snapshot sees the file.
SET TimeZone = 'UTC';
-- 240,000 rows over 20 hours of one day, with fields of noise: one file of over 2 MiB.
SELECT written FROM tsparquet.write_lp('ranges', (
  SELECT string_agg(format('m,host=h%s a=%s,b=%s,c=%si %s', i % 40, sin(i), cos(i),
                           (i * 7919) % 100003, 1704067200000 + i * 300), E'\n')
  FROM generate_series(0, 239999) i), 'ms');
SELECT count(*) AS files, min(byte_size) >= 2 * 1024 * 1024 AS read_in_ranges
FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'ranges.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions);
CREATE TABLE ranges_heap AS SELECT * FROM ranges.m;

CREATE FUNCTION ranges_check(query text, OUT pushed boolean, OUT rows bigint, OUT same boolean)
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  tsparquet_rows text;
  heap_rows text;
  compare text := 'SELECT count(*), string_agg(r::text, E''\n'' ORDER BY n)
                   FROM (SELECT r, row_number() OVER () AS n FROM (%s) r) s';
BEGIN
  pushed := false;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || replace(query, 'TABLE', 'ranges.m') LOOP
    pushed := pushed OR line ~ 'Pushed (Filter|Group Key|Aggregates|Order|Limit|Distinct On):';
  END LOOP;
  EXECUTE format(compare, replace(query, 'TABLE', 'ranges.m')) INTO rows, tsparquet_rows;
  EXECUTE format(compare, replace(query, 'TABLE', 'ranges_heap')) INTO rows, heap_rows;
  same := tsparquet_rows IS NOT DISTINCT FROM heap_rows;
END $$;

CREATE TABLE range_queries (id serial, sql text);
INSERT INTO range_queries (sql) VALUES
  -- one series' hour: a row group's chunks of three columns
  ($$SELECT time, a FROM TABLE WHERE host = 'h7' AND time >= '2024-01-01 10:00' AND time < '2024-01-01 11:00' ORDER BY time$$),
  -- every row group, two columns
  ($$SELECT host, count(*), sum(c), max(b) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('hour', time), min(a), max(c) FROM TABLE WHERE host IN ('h1', 'h30') GROUP BY 1 ORDER BY 1$$),
  -- the footer alone
  ($$SELECT DISTINCT ON (host) host, time, a, b, c FROM TABLE ORDER BY host, time DESC$$),
  ($$SELECT * FROM TABLE WHERE c = 5 ORDER BY time LIMIT 3$$);
-- Read from the catalog, then from the cache, then from the catalog with no cache.
SELECT id, pushed, rows, same FROM range_queries, ranges_check(sql) ORDER BY id;
SELECT id, pushed, rows, same FROM range_queries, ranges_check(sql) ORDER BY id;
SET tsparquet.file_cache_size = 0;
SELECT id, pushed, rows, same FROM range_queries, ranges_check(sql) ORDER BY id;
-- What a query read: one series' hour, a small part of the file; the latest row of each
-- series, the footer alone.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT time, a FROM ranges.m WHERE host = 'h7' AND time >= '2024-01-01 10:00' AND time < '2024-01-01 11:00';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT DISTINCT ON (host) host, time, a FROM ranges.m ORDER BY host, time DESC;

-- A cursor reads its ranges when fetched: after its own transaction replaced the file (a
-- write repeating a stored point rewrites it), it still reads the file it was declared over.
BEGIN;
DECLARE before_write CURSOR FOR
  SELECT time, a, c FROM ranges.m WHERE host = 'h3' AND time < '2024-01-01 00:01' ORDER BY time LIMIT 2;
SELECT written FROM tsparquet.write_lp('ranges', 'm,host=h3 a=100,c=-1i 1704067200900', 'ms');
SELECT count(*) AS files_now FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'ranges.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions);
FETCH ALL FROM before_write;
SELECT time, a, c FROM ranges.m WHERE host = 'h3' AND time < '2024-01-01 00:01' ORDER BY time LIMIT 2;
COMMIT;
RESET tsparquet.file_cache_size;
-- With the session's cache: the first read of an hour comes from the catalog, the second
-- from the cache.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT time, a FROM ranges.m WHERE host = 'h7' AND time >= '2024-01-01 12:00' AND time < '2024-01-01 13:00';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT time, a FROM ranges.m WHERE host = 'h7' AND time >= '2024-01-01 12:00' AND time < '2024-01-01 13:00';
