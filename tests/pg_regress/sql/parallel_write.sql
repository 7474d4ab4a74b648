-- Large writes are parsed and encoded in parts on several threads. The result must be
-- what one thread gives: the same rows, columns, rejections and line numbers, also when
-- a later part brings a column that an earlier part typed otherwise.
CREATE TEMP TABLE input AS
SELECT string_agg(line, E'\n' ORDER BY i) AS lines FROM (
  SELECT i, CASE
    WHEN i = 15000 THEN 'm,host=h1 late=1i ' || i
    WHEN i = 25000 THEN 'm,host=h2 late=2.5 ' || i
    WHEN i % 4999 = 0 THEN 'm,host=bad f=oops ' || i
    WHEN i > 20000 THEN 'm,host=h' || (i % 7) || ' f=' || i || ',g=' || (i % 3) || 'i,s="v' || i || '" ' || (i / 7)
    ELSE 'm,host=h' || (i % 7) || ' f=' || i || ' ' || (i / 7)
  END AS line FROM generate_series(1, 30000) i) lines;
SELECT length(lines) > 2 * 256 * 1024 AS several_parts FROM input;

SET tsparquet.write_threads = 1;
SELECT written, rejected, errors FROM input, tsparquet.write_lp('one_thread', lines, 'ns');
SET tsparquet.write_threads = 4;
SELECT written, rejected, errors FROM input, tsparquet.write_lp('four_threads', lines, 'ns');
RESET tsparquet.write_threads;

SELECT database, column_name, role, data_type FROM tsparquet.columns
WHERE database IN ('one_thread', 'four_threads') ORDER BY column_name, database;
SELECT count(*), count(g), count(s), count(late) FROM one_thread.m;
(SELECT time_ns, host, f, g, s, late FROM one_thread.m
 EXCEPT SELECT time_ns, host, f, g, s, late FROM four_threads.m)
UNION ALL
(SELECT time_ns, host, f, g, s, late FROM four_threads.m
 EXCEPT SELECT time_ns, host, f, g, s, late FROM one_thread.m);

-- Without the conflict the parts are stored as they are: more files, the same rows.
SET tsparquet.write_threads = 1;
SELECT written, rejected FROM input, tsparquet.write_lp('agree_one', replace(lines, 'late=2.5', 'late=2i'), 'ns');
SET tsparquet.write_threads = 4;
SELECT written, rejected FROM input, tsparquet.write_lp('agree_four', replace(lines, 'late=2.5', 'late=2i'), 'ns');
RESET tsparquet.write_threads;
SELECT n.nspname, count(*) AS files
FROM tsparquet.files f
JOIN pg_foreign_table t ON 'table_id=' || f.table_id = ANY (t.ftoptions)
JOIN pg_class c ON c.oid = t.ftrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('agree_one', 'agree_four') GROUP BY n.nspname ORDER BY n.nspname;
(SELECT time_ns, host, f, g, s, late FROM agree_one.m
 EXCEPT SELECT time_ns, host, f, g, s, late FROM agree_four.m)
UNION ALL
(SELECT time_ns, host, f, g, s, late FROM agree_four.m
 EXCEPT SELECT time_ns, host, f, g, s, late FROM agree_one.m);
SELECT count(*), count(late) FROM agree_four.m;
