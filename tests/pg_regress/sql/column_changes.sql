-- ALTER TABLE on a measurement's columns: a dropped or renamed column's files are rewritten
-- to match, so the table reads as a heap table given the same statements does.
SET TimeZone = 'UTC';
CREATE FUNCTION stored_columns(measurement regclass) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(DISTINCT c ->> 'name', ', ')
    FROM tsparquet.files f, pg_foreign_table t, jsonb_array_elements(f.columns) c
    WHERE t.ftrelid = measurement AND 'table_id=' || f.table_id = ANY (t.ftoptions)
$$;
-- Two days, two files of the first.
SELECT sum(written) AS written FROM (VALUES
  (E'm,host=b,dc=x u=2,v=20i 1704067260\nm,host=a,dc=y u=3,v=30i 1704067320'),
  (E'm,host=a,dc=x u=1,v=10i 1704067200\nm,host=b,dc=y u=4 1704153600')) w(lines),
  tsparquet.write_lp('altered', lines, 's');
CREATE TABLE altered_heap AS SELECT * FROM altered.m;
CREATE FUNCTION differences() RETURNS TABLE (only_measurement bigint, only_heap bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM (SELECT * FROM altered.m EXCEPT ALL SELECT * FROM altered_heap) d),
           (SELECT count(*) FROM (SELECT * FROM altered_heap EXCEPT ALL SELECT * FROM altered.m) d)
$$;
SELECT stored_columns('altered.m');

-- A field dropped and added again with the same name and type is NULL in the rows before.
ALTER FOREIGN TABLE altered.m DROP COLUMN u;
ALTER TABLE altered_heap DROP COLUMN u;
SELECT stored_columns('altered.m');
SELECT written FROM tsparquet.write_lp('altered', 'm,host=c,dc=x u=5 1704067380', 's');
ALTER TABLE altered_heap ADD COLUMN u double precision;
INSERT INTO altered_heap (time, time_ns, host, dc, u)
  VALUES ('2024-01-01 00:03:00+00', 1704067380000000000, 'c', 'x', 5);
SELECT host, dc, time, v, u FROM altered.m ORDER BY time;
SELECT * FROM differences();

-- Dropped and added again as another type: no clash with the old values.
ALTER TABLE altered.m DROP COLUMN v;
ALTER TABLE altered_heap DROP COLUMN v;
SELECT written FROM tsparquet.write_lp('altered', 'm,host=c,dc=y v=1.5 1704067440', 's');
ALTER TABLE altered_heap ADD COLUMN v double precision;
INSERT INTO altered_heap (time, time_ns, host, dc, v)
  VALUES ('2024-01-01 00:04:00+00', 1704067440000000000, 'c', 'y', 1.5);
SELECT host, time, v, pg_typeof(v) FROM altered.m ORDER BY time;
SELECT sum(v), count(v) FROM altered.m;
SELECT * FROM differences();

-- A renamed field keeps its values; a later write of the old name makes a new column.
ALTER FOREIGN TABLE altered.m RENAME COLUMN u TO usage;
ALTER TABLE altered_heap RENAME COLUMN u TO usage;
SELECT stored_columns('altered.m');
SELECT host, time, usage FROM altered.m WHERE usage IS NOT NULL;
SELECT written FROM tsparquet.write_lp('altered', 'm,host=d,dc=x u=7 1704067500', 's');
ALTER TABLE altered_heap ADD COLUMN u double precision;
INSERT INTO altered_heap (time, time_ns, host, dc, u)
  VALUES ('2024-01-01 00:05:00+00', 1704067500000000000, 'd', 'x', 7);
SELECT host, time, usage, u FROM altered.m WHERE usage IS NOT NULL OR u IS NOT NULL ORDER BY time;
SELECT * FROM differences();

-- A renamed tag: filters, groups and the latest point per series use the new name.
ALTER TABLE altered.m RENAME host TO hostname;
ALTER TABLE altered_heap RENAME host TO hostname;
SELECT hostname, count(*) FROM altered.m WHERE hostname IN ('a', 'b') GROUP BY hostname ORDER BY 1;
SELECT * FROM differences();

-- A dropped tag: the series it told apart become one, their rows sorted by time again.
ALTER FOREIGN TABLE altered.m DROP COLUMN dc;
ALTER TABLE altered_heap DROP COLUMN dc;
SELECT stored_columns('altered.m');
SELECT DISTINCT ON (hostname) hostname, time, usage FROM altered.m ORDER BY hostname, time DESC;
SELECT hostname, time FROM altered.m WHERE hostname = 'a' ORDER BY hostname, time LIMIT 3;
SELECT * FROM tsparquet.compact('altered.m');
SELECT * FROM differences();

-- Points two series had at one time stay two rows once the tag telling them apart is
-- dropped, also after a write repeats a point of the series they became: the write merges
-- with the rows at its own time only.
SELECT written FROM tsparquet.write_lp('merged',
  E'm,h=a,r=x f=1 1\nm,h=b,r=x f=2 1\nm,h=a,r=x f=3 2\nm,h=b,r=x f=4 2', 's');
ALTER FOREIGN TABLE merged.m DROP COLUMN h;
SELECT written FROM tsparquet.write_lp('merged', 'm,r=x w=5 2', 's');
SELECT extract(epoch FROM time) AS second, count(*), max(w) FROM merged.m GROUP BY 1 ORDER BY 1;
DROP SCHEMA merged CASCADE;

-- A rolled-back drop leaves the files as they were.
BEGIN;
ALTER FOREIGN TABLE altered.m DROP COLUMN usage;
SELECT stored_columns('altered.m');
ROLLBACK;
SELECT stored_columns('altered.m');
SELECT count(usage) FROM altered.m;

-- A column renamed through a table the measurement inherits it from.
CREATE TABLE altered_parent (hostname text);
ALTER FOREIGN TABLE altered.m INHERIT altered_parent;
ALTER TABLE altered_parent RENAME COLUMN hostname TO host;
ALTER TABLE altered_heap RENAME COLUMN hostname TO host;
SELECT stored_columns('altered.m');
SELECT host, count(*) FROM altered_parent GROUP BY host ORDER BY host;
SELECT * FROM differences();
-- A parent's column dropped leaves the measurement's own column, as it leaves a heap
-- table's; a column a parent adds must be a tag or a field there too.
ALTER TABLE altered_parent DROP COLUMN host;
SELECT stored_columns('altered.m');
SELECT count(host) FROM altered.m;
\set VERBOSITY sqlstate
ALTER TABLE altered_parent ADD COLUMN extra integer;
\set VERBOSITY default
ALTER FOREIGN TABLE altered.m NO INHERIT altered_parent;
DROP TABLE altered_parent;

-- time and time_ns cannot be dropped or renamed, nor a column's type changed.
\set VERBOSITY sqlstate
ALTER FOREIGN TABLE altered.m DROP COLUMN time;
ALTER FOREIGN TABLE altered.m RENAME COLUMN time_ns TO t;
ALTER FOREIGN TABLE altered.m ALTER COLUMN usage TYPE bigint;
\set VERBOSITY default
ALTER FOREIGN TABLE altered.m DROP COLUMN time;
ALTER FOREIGN TABLE altered.m RENAME COLUMN time_ns TO t;
ALTER FOREIGN TABLE altered.m ALTER COLUMN usage TYPE bigint;
SELECT * FROM differences();

-- ALTER VIEW renames a foreign table's columns too: followed, or refused, as ALTER TABLE.
\set VERBOSITY sqlstate
ALTER VIEW altered.m RENAME COLUMN time TO t;
ALTER MATERIALIZED VIEW altered.m RENAME COLUMN time TO t;
\set VERBOSITY default
ALTER VIEW altered.m RENAME COLUMN usage TO usage2;
ALTER TABLE altered_heap RENAME COLUMN usage TO usage2;
SELECT * FROM differences();
ALTER VIEW altered.m RENAME COLUMN usage2 TO usage;
ALTER TABLE altered_heap RENAME COLUMN usage2 TO usage;

-- A column dropped by a DROP ... CASCADE of its collation is followed too.
CREATE COLLATION altered_c FROM "C";
ALTER FOREIGN TABLE altered.m ADD COLUMN remark text OPTIONS (role 'field') COLLATE altered_c;
SELECT written FROM tsparquet.write_lp('altered', 'm,host=a remark="old" 1704067200', 's');
SELECT stored_columns('altered.m') LIKE '%remark%' AS remark_stored;
DROP COLLATION altered_c CASCADE;
SELECT stored_columns('altered.m') LIKE '%remark%' AS remark_stored;
SELECT * FROM differences();

-- A column of another type named time (made here with the trigger disabled) is refused by
-- the scan and by writes, never read as the stored time.
SELECT written FROM tsparquet.write_lp('altered', 'tm,host=a x=1i 1704067200', 's');
ALTER EVENT TRIGGER tsparquet_altered_columns DISABLE;
ALTER FOREIGN TABLE altered.tm RENAME COLUMN time TO t;
ALTER FOREIGN TABLE altered.tm RENAME COLUMN host TO time;
ALTER EVENT TRIGGER tsparquet_altered_columns ENABLE;
\set VERBOSITY sqlstate
SELECT time FROM altered.tm;
SELECT time, count(*) FROM altered.tm GROUP BY time;
SELECT * FROM tsparquet.write_lp('altered', 'tm,host=b x=2i 1704067200', 's');
\set VERBOSITY default
SELECT time FROM altered.tm;
DROP FOREIGN TABLE altered.tm;

-- An added column must be a tag or a field: with any other type or role the table could
-- take no more points.
\set VERBOSITY sqlstate
ALTER FOREIGN TABLE altered.m ADD COLUMN note varchar;
\set VERBOSITY default
ALTER FOREIGN TABLE altered.m ADD COLUMN note varchar;
ALTER FOREIGN TABLE altered.m ADD COLUMN load double precision;
ALTER FOREIGN TABLE altered.m ADD COLUMN load double precision OPTIONS (role 'field'),
  ADD COLUMN zone text OPTIONS (role 'tag');
SELECT written FROM tsparquet.write_lp('altered', 'm,host=e,zone=z load=0.5 1704067560', 's');
SELECT host, zone, load FROM altered.m WHERE load IS NOT NULL;
-- Both columns dropped by one statement: each file holding them is rewritten once.
SELECT count(*) AS files_holding FROM tsparquet.files f, pg_foreign_table t
WHERE t.ftrelid = 'altered.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions)
  AND (f.columns @> '[{"name": "load"}]' OR f.columns @> '[{"name": "zone"}]');
SELECT last_value AS last_file_id FROM tsparquet.files_file_id_seq \gset
ALTER FOREIGN TABLE altered.m DROP COLUMN load, DROP COLUMN zone;
SELECT last_value - :last_file_id AS files_written FROM tsparquet.files_file_id_seq;
SELECT stored_columns('altered.m');

-- The options saying what the files hold cannot be changed or dropped: a tag made a field
-- would leave the files sorted and read as a tag, another table_id would read other files.
\set VERBOSITY sqlstate
ALTER FOREIGN TABLE altered.m ALTER COLUMN host OPTIONS (SET role 'field');
\set VERBOSITY default
ALTER FOREIGN TABLE altered.m ALTER COLUMN host OPTIONS (SET role 'field');
ALTER FOREIGN TABLE altered.m ALTER COLUMN usage OPTIONS (DROP role);
ALTER FOREIGN TABLE altered.m OPTIONS (SET table_id '999998');
SELECT attname, attfdwoptions FROM pg_attribute
WHERE attrelid = 'altered.m'::regclass AND attname IN ('host', 'usage') ORDER BY attname;
SELECT host, count(*) FROM altered.m GROUP BY host ORDER BY host;
-- Adding an option, as a restored dump does after creating the table, is allowed.
CREATE FOREIGN TABLE altered.restored (time timestamptz NOT NULL, time_ns bigint NOT NULL,
  host text) SERVER tsparquet OPTIONS (table_id '999999');
ALTER FOREIGN TABLE altered.restored ALTER COLUMN time OPTIONS (role 'time');
ALTER FOREIGN TABLE altered.restored ALTER COLUMN time_ns OPTIONS (role 'time_ns');
ALTER FOREIGN TABLE altered.restored ALTER COLUMN host OPTIONS (ADD role 'tag');
SELECT count(*) FROM altered.restored;
DROP FOREIGN TABLE altered.restored;

-- Other tables are left alone, and the trigger function runs only as an event trigger.
ALTER TABLE altered_heap RENAME COLUMN usage TO usage_heap;
ALTER TABLE altered_heap DROP COLUMN usage_heap;
SELECT tsparquet.follow_column_changes();
