-- Writes merge the small files they gather: once a day of a measurement holds ten files of
-- a size class (the number of digits of their row counts), the write that stored the
-- tenth merges them into one. The rows stay the same.
SET TimeZone = 'UTC';
SHOW tsparquet.auto_compact;
CREATE FUNCTION pg_temp.file_rows(measurement regclass) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(f.row_count::text, ' ' ORDER BY f.min_time_ns, f.row_count), 'none')
    FROM tsparquet.files f, pg_foreign_table t
    WHERE t.ftrelid = measurement AND 'table_id=' || f.table_id = ANY (t.ftoptions)
$$;
-- `writes` writes of `rows` rows each, one a minute from `start`, as an agent flushes.
CREATE FUNCTION pg_temp.flush(writes int, rows int, start timestamptz) RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(written) FROM generate_series(0, writes - 1) w,
      tsparquet.write_lp('agent', (
        SELECT string_agg(format('cpu,host=h%s usage=%s,n=%si %s', i, w * 1000 + i, w,
                                 extract(epoch FROM start)::bigint + w * 60), E'\n')
        FROM generate_series(1, rows) i), 's')
$$;

-- Nine writes of five rows stay nine files; the tenth merges the ten.
SELECT pg_temp.flush(9, 5, '2024-03-01 00:00');
SELECT pg_temp.file_rows('agent.cpu');
SELECT written FROM tsparquet.write_lp('agent', 'cpu,host=h1 usage=-1,n=9i 1709251740', 's');
SELECT pg_temp.file_rows('agent.cpu');
SELECT count(*), sum(usage), max(time) FROM agent.cpu;

-- Files of another size class or of another day wait for their own ten.
SELECT pg_temp.flush(8, 20, '2024-03-01 01:00');
SELECT pg_temp.flush(9, 5, '2024-03-02 00:00');
SELECT pg_temp.flush(9, 5, '2024-03-01 02:00');
SELECT pg_temp.file_rows('agent.cpu');
CREATE TABLE agent_heap AS SELECT * FROM agent.cpu;
-- The tenth five-row file of the first day merges its class into a file of 50 rows, which
-- is the tenth of 10 to 99 rows: they are merged in turn.
SELECT pg_temp.flush(1, 5, '2024-03-01 03:00');
SELECT pg_temp.file_rows('agent.cpu');
INSERT INTO agent_heap SELECT * FROM agent.cpu WHERE time >= '2024-03-01 03:00' AND time < '2024-03-02';
SELECT (SELECT count(*) FROM agent.cpu) AS rows,
       (SELECT count(*) FROM (SELECT * FROM agent.cpu EXCEPT ALL SELECT * FROM agent_heap) d) AS only_merged,
       (SELECT count(*) FROM (SELECT * FROM agent_heap EXCEPT ALL SELECT * FROM agent.cpu) d) AS only_written;

-- A write that rolls back takes its merge with it.
BEGIN;
SELECT pg_temp.flush(1, 5, '2024-03-02 01:00');
SELECT pg_temp.file_rows('agent.cpu');
ROLLBACK;
SELECT pg_temp.file_rows('agent.cpu');

-- A cursor opened before a merging write of its own transaction reads the files it began with.
BEGIN;
DECLARE before_merge CURSOR FOR SELECT count(*), sum(usage) FROM agent.cpu WHERE time >= '2024-03-02';
SELECT pg_temp.flush(1, 5, '2024-03-02 01:00');
FETCH ALL FROM before_merge;
SELECT count(*), sum(usage) FROM agent.cpu WHERE time >= '2024-03-02';
COMMIT;
SELECT pg_temp.file_rows('agent.cpu');

-- Off, writes leave their files for tsparquet.compact.
SET tsparquet.auto_compact = off;
SELECT pg_temp.flush(10, 5, '2024-03-03 00:00');
SELECT pg_temp.file_rows('agent.cpu');
RESET tsparquet.auto_compact;
SELECT * FROM tsparquet.compact('agent.cpu');
SELECT pg_temp.file_rows('agent.cpu');

-- Files that disagree with the table on a column's type are left as they are; the write
-- goes on, and the day's other files of their class are merged. Only a column dropped
-- while the event trigger that takes it out of the files is disabled, then added again as
-- text, makes such files.
SELECT sum(written) FROM generate_series(0, 4) w,
  tsparquet.write_lp('agent', format('mixed,host=a x=%si %s', w, 1709251200 + w), 's');
ALTER EVENT TRIGGER tsparquet_dropped_columns DISABLE;
ALTER FOREIGN TABLE agent.mixed DROP COLUMN x;
ALTER EVENT TRIGGER tsparquet_dropped_columns ENABLE;
SELECT sum(written) FROM generate_series(5, 9) w,
  tsparquet.write_lp('agent', format('mixed,host=a x="%s" %s', w, 1709251200 + w), 's');
SELECT pg_temp.file_rows('agent.mixed');
SELECT host, time, x FROM agent.mixed ORDER BY time DESC LIMIT 2;
SELECT count(*) FROM tsparquet.compact('agent.mixed');

DROP TABLE agent_heap;
DROP SCHEMA agent CASCADE;
