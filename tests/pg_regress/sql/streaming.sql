-- Writes of several 16 MiB chunks (COPY, large write_lp calls) keep their rows until a day
-- of a measurement fills a file, and store each day's rows as one write of them all would:
-- a point repeated by a later chunk takes its later values, a column added by a later
-- chunk reads as NULL in earlier rows, and a point stored before the write is replaced.
SET TimeZone = 'UTC';
SELECT written FROM tsparquet.write_lp('streaming', 'm,host=stored v=1 1451606400', 's');
-- About 20 MB: 70,000 lines with a 256-byte string, then, in the second chunk, the first
-- line's point again with a new field, and the stored point again. Under REPEATABLE READ,
-- the chunks meet only the write's own changes.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT written FROM tsparquet.write_lp('streaming', (
    SELECT string_agg(format('m,host=h%s v=%s,pad="%s" %s', i % 100, i, repeat('x', 256),
                             1451606400 + i), E'\n' ORDER BY i)
    FROM generate_series(1, 70000) i)
  || E'\nm,host=h1 v=-1,late=true 1451606401\nm,host=stored v=2 1451606400', 's');
COMMIT;
SELECT count(*), count(DISTINCT host), sum(v) FROM streaming.m;
SELECT host, v, late FROM streaming.m WHERE time_ns IN (1451606400000000000, 1451606401000000000) ORDER BY host;
SELECT count(late) AS rows_with_late FROM streaming.m;
-- One file: the day's rows, merged with the file of the stored point they repeat.
SELECT count(*) AS files FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'streaming.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions);
DROP SCHEMA streaming CASCADE;
