-- tsparquet.compact merges each day's small files into one: the rows stay the same, queries
-- open fewer files, and queries on older snapshots keep their files.
SET TimeZone = 'UTC';
CREATE FUNCTION file_count(measurement regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM tsparquet.files f, pg_foreign_table t
    WHERE t.ftrelid = measurement AND 'table_id=' || f.table_id = ANY (t.ftoptions)
$$;
-- Eight writes over two days; later ones add a tag, a field of every type, and a host.
SELECT sum(written) AS written FROM generate_series(0, 7) w,
  tsparquet.write_lp('compaction', (
    SELECT string_agg(format('m,host=h%s%s v=%s%s %s',
                             i % 3, CASE WHEN w >= 4 THEN ',dc=d' || (i % 2) ELSE '' END,
                             w * 100 + i,
                             CASE WHEN w >= 6 THEN format(',n=%si,s="x%s",b=%s', i, i, i % 2 = 0) ELSE '' END,
                             1704067200 + w * 21600 + i * 60), E'\n')
    FROM generate_series(0, 9) i), 's');
SELECT file_count('compaction.m');
CREATE TABLE compaction_heap AS SELECT * FROM compaction.m;

SELECT * FROM tsparquet.compact('compaction.m');
SELECT file_count('compaction.m');
-- Every row as before, with its NULLs.
SELECT (SELECT count(*) FROM compaction.m) AS rows,
       (SELECT count(*) FROM (SELECT * FROM compaction.m EXCEPT ALL SELECT * FROM compaction_heap) d) AS only_compacted,
       (SELECT count(*) FROM (SELECT * FROM compaction_heap EXCEPT ALL SELECT * FROM compaction.m) d) AS only_before;
SELECT host, dc, time, v, n, s, b FROM compaction.m WHERE time >= '2024-01-02 12:00' ORDER BY host, time LIMIT 4;
-- A day is one file now.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM compaction.m WHERE time >= '2024-01-02';
-- Nothing left to merge.
SELECT * FROM tsparquet.compact('compaction.m');

-- Two more files on a third day. A rolled-back compaction changes nothing.
SELECT written FROM tsparquet.write_lp('compaction', 'm,host=h9 v=1 1704240000', 's');
SELECT written FROM tsparquet.write_lp('compaction', 'm,host=h9 v=2 1704240060', 's');
BEGIN;
SELECT * FROM tsparquet.compact('compaction.m');
ROLLBACK;
SELECT file_count('compaction.m');

-- A cursor opened before compaction reads the files of its snapshot.
BEGIN;
DECLARE before_compaction CURSOR FOR SELECT host, time, v FROM compaction.m WHERE host = 'h9';
SELECT * FROM tsparquet.compact('compaction.m');
FETCH ALL FROM before_compaction;
COMMIT;
SELECT host, time, v FROM compaction.m WHERE host = 'h9';

-- Writes into a compacted day still merge a point with the stored one of its series and time.
SELECT written FROM tsparquet.write_lp('compaction', 'm,host=h0 v=-1 1704067200', 's');
SELECT count(*), min(v) FROM compaction.m WHERE host = 'h0' AND dc IS NULL AND time = '2024-01-01';
SELECT count(*) FROM compaction.m;

-- A dropped column leaves the files as it is dropped; compaction after it keeps every row.
ALTER FOREIGN TABLE compaction.m DROP COLUMN s;
SELECT written FROM tsparquet.write_lp('compaction', 'm,host=h9 v=3 1704153600', 's');
SELECT * FROM tsparquet.compact('compaction.m');
SELECT count(*) FROM compaction.m;
SELECT count(*) AS files_with_s FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'compaction.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions)
  AND f.columns @> '[{"name": "s"}]';

-- Only the owner compacts; only measurement tables are compacted.
CREATE ROLE compaction_stranger;
GRANT USAGE ON SCHEMA compaction TO compaction_stranger;
SET ROLE compaction_stranger;
SELECT * FROM tsparquet.compact('compaction.m');
RESET ROLE;
SELECT * FROM tsparquet.compact('compaction_heap');
DROP TABLE compaction_heap;
DROP SCHEMA compaction CASCADE;
DROP ROLE compaction_stranger;

-- The latest row per host of compacted days comes from the files' extreme rows: files with
-- at least 1,024 rows per series keep each series' earliest and latest row in their
-- footer, and a DISTINCT ON over tags reads those instead of the files' rows.
SELECT written, rejected FROM tsparquet.write_lp('latest', (
  SELECT string_agg(format('m,host=h%s,dc=d%s v=%s,n=%si %s',
                           h, h % 2, (h * t) % 97, t, 1704067200 + t * 60 + h), E'\n')
  FROM generate_series(0, 2) h, generate_series(0, 2499) t), 's');
SELECT * FROM tsparquet.compact('latest.m');
CREATE TABLE latest_heap AS SELECT * FROM latest.m;
-- The engine's operators, whether its source is files or rows in memory, and what a
-- filter kept.
CREATE FUNCTION pg_temp.engine_rows(query text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT substring(line from '(\w+Exec):')
    || coalesce(' ' || substring(line from 'file_type=\w+'), '')
    || coalesce(' ' || substring(line from 'partition_sizes=\[\d+\]'), '')
    || coalesce(' ' || substring(line from 'selectivity=[^\]]+'), '')
  FROM public.engine_operators(query) line
$$;
SELECT DISTINCT ON (host) * FROM latest.m ORDER BY host, time DESC;
SELECT DISTINCT ON (host) * FROM latest.m ORDER BY host, time;
SELECT * FROM pg_temp.engine_rows('SELECT DISTINCT ON (host) * FROM latest.m ORDER BY host, time DESC');
-- The same rows as the heap table gives, also per dc and with a filter on tags.
SELECT count(*) AS differing FROM (
  ((SELECT DISTINCT ON (dc) * FROM latest.m WHERE host <> 'h1' ORDER BY dc, time DESC)
   EXCEPT ALL
   (SELECT DISTINCT ON (dc) * FROM latest_heap WHERE host <> 'h1' ORDER BY dc, time DESC))
  UNION ALL
  ((SELECT DISTINCT ON (host) * FROM latest_heap ORDER BY host, time)
   EXCEPT ALL
   (SELECT DISTINCT ON (host) * FROM latest.m ORDER BY host, time))) d;
SELECT * FROM pg_temp.engine_rows($$SELECT DISTINCT ON (dc) * FROM latest.m WHERE host <> 'h1' ORDER BY dc, time DESC$$);
-- The last (first) time each host reported, max(time) (min(time)) per tag, comes from
-- them too.
SELECT host, max(time) FROM latest.m GROUP BY host ORDER BY host;
SELECT * FROM pg_temp.engine_rows('SELECT host, max(time) FROM latest.m GROUP BY host');
SELECT * FROM pg_temp.engine_rows('SELECT dc, min(time) FROM latest.m GROUP BY dc');
SELECT count(*) AS differing FROM (
  ((SELECT host, max(time) FROM latest.m GROUP BY host)
   EXCEPT ALL (SELECT host, max(time) FROM latest_heap GROUP BY host))
  UNION ALL
  ((SELECT dc, min(time) FROM latest_heap GROUP BY dc)
   EXCEPT ALL (SELECT dc, min(time) FROM latest.m GROUP BY dc))) d;
-- So do the time range each series covers, first and last values beside it, the distinct
-- tags (a Grafana variable's values) and their number, also where no row matches.
SELECT host, dc, min(time), max(time), tsparquet.first(v, time), tsparquet.last(n, time)
FROM latest.m GROUP BY host, dc ORDER BY host;
SELECT * FROM pg_temp.engine_rows('SELECT dc, min(time), max(time), tsparquet.last(n, time) FROM latest.m GROUP BY dc');
SELECT DISTINCT host FROM latest.m ORDER BY host;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT DISTINCT host FROM latest.m;
SELECT * FROM pg_temp.engine_rows('SELECT DISTINCT host, dc FROM latest.m');
SELECT dc, count(DISTINCT host) FROM latest.m GROUP BY dc ORDER BY dc;
SELECT count(DISTINCT host) AS nobody FROM latest.m WHERE host = 'h9';
SELECT * FROM pg_temp.engine_rows($$SELECT count(DISTINCT host) FROM latest.m WHERE host = 'h9'$$);
SELECT count(*) AS differing FROM (
  (SELECT dc, min(time), max(time), tsparquet.first(v, time) FROM latest.m WHERE host <> 'h0' GROUP BY dc)
  EXCEPT ALL
  (SELECT dc, min(time), max(time), tsparquet.first(v, time) FROM latest_heap WHERE host <> 'h0' GROUP BY dc)) d;
SELECT count(*) AS differing FROM (
  ((SELECT dc, count(DISTINCT host)::text FROM latest.m WHERE host <> 'h0' GROUP BY dc)
   EXCEPT ALL (SELECT dc, count(DISTINCT host)::text FROM latest_heap WHERE host <> 'h0' GROUP BY dc))
  UNION ALL
  ((SELECT DISTINCT dc, host FROM latest_heap) EXCEPT ALL (SELECT DISTINCT dc, host FROM latest.m))) d;
-- A filter on a field or on time needs other rows than the extreme ones: the files are read.
SELECT DISTINCT ON (host) host, time, n FROM latest.m WHERE n < 2000 ORDER BY host, time DESC;
SELECT * FROM pg_temp.engine_rows('SELECT DISTINCT ON (host) * FROM latest.m WHERE n < 2000 ORDER BY host, time DESC');
DROP TABLE latest_heap;
DROP SCHEMA latest CASCADE;
