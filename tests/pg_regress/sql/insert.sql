-- INSERT and COPY into measurement tables: rows stored as Parquet in batches, under the
-- same rules as line protocol.
SELECT written FROM tsparquet.write_lp('ins',
  'cpu,host=a,region=eu usage=1.5,count=3i,total=7u,note="x",ok=true 1700000000000000000');

INSERT INTO ins.cpu (time, host, usage) VALUES ('2023-11-14 22:13:21+00', 'b', 2.5);
INSERT INTO ins.cpu (time, host, region, usage, count, total, note, ok) VALUES
  ('2023-11-14 22:13:20+00', 'c', 'us', 3.5, 4, 18446744073709551615, 'y', false),
  ('2023-11-14 22:13:21.123456+00', 'c', 'us', 4.5, -5, 0, NULL, NULL);
SELECT * FROM ins.cpu ORDER BY host, time;
EXPLAIN (COSTS OFF) INSERT INTO ins.cpu (time, host, usage) VALUES (now(), 'x', 1);
INSERT INTO ins.cpu (time, host, usage) VALUES ('2023-11-14 22:13:25+00', 'r', 9) RETURNING host, usage;
-- RETURNING shows the row with the time and time_ns it is stored with.
INSERT INTO ins.cpu (time, host, usage) VALUES ('2023-11-14 22:13:26.5+00', 'r', 10) RETURNING time, time_ns, host, usage;
INSERT INTO ins.cpu (time_ns, host, usage) VALUES (1700000007000000789, 'r', 11) RETURNING *;
SELECT time, time_ns, host, usage FROM ins.cpu WHERE host = 'r' ORDER BY time_ns;
-- WITH CHECK OPTION checks the row with them too.
CREATE VIEW ins.recent AS SELECT * FROM ins.cpu WHERE time_ns >= 1700000000000000000
  WITH CHECK OPTION;
INSERT INTO ins.recent (time, host, usage) VALUES ('2023-11-14 22:13:30+00', 'view', 1);
INSERT INTO ins.recent (time, host, usage) VALUES ('2020-01-01 00:00:00+00', 'view', 2);
SELECT time_ns, usage FROM ins.cpu WHERE host = 'view';
DROP VIEW ins.recent;

-- time_ns alone gives the exact time; with time, both must name the same instant.
INSERT INTO ins.cpu (time_ns, host, usage) VALUES (1700000000000000123, 'ns', 1);
INSERT INTO ins.cpu (time, time_ns, host, usage)
  VALUES ('2023-11-14 22:13:20+00', 1700000000000000999, 'ns', 2);
SELECT time, time_ns, usage FROM ins.cpu WHERE host = 'ns' ORDER BY time_ns;
\set VERBOSITY sqlstate
INSERT INTO ins.cpu (time, time_ns, host, usage)
  VALUES ('2023-11-14 22:13:21+00', 1700000000000000999, 'ns', 3);
\set VERBOSITY default
INSERT INTO ins.cpu (time, time_ns, host, usage)
  VALUES ('2023-11-14 22:13:21+00', 1700000000000000999, 'ns', 3);
INSERT INTO ins.cpu (host, usage) VALUES ('nulltime', 1);
INSERT INTO ins.cpu (time, host) VALUES (now(), 'nofields');
INSERT INTO ins.cpu (time, host, usage) VALUES ('infinity', 'inf', 1);
INSERT INTO ins.cpu (time, host, total) VALUES (now(), 'neg', -1);
INSERT INTO ins.cpu (time, host, nosuch) VALUES (now(), 'x', 1);
SELECT count(*) FROM ins.cpu WHERE host IN ('nulltime', 'nofields', 'inf', 'neg', 'x');

-- Duplicates: a row with the tags and time of a stored one replaces the fields it names;
-- within one statement the later row wins.
INSERT INTO ins.cpu (time, host, region, usage) VALUES
  ('2023-11-14 22:13:20+00', 'a', 'eu', 10),
  ('2023-11-14 22:13:20+00', 'a', 'eu', 11);
SELECT host, usage, count, total, note, ok FROM ins.cpu WHERE host = 'a';

-- The migration path: INSERT ... SELECT from a heap table, in several buffered batches.
CREATE TABLE heap_cpu (time timestamptz, host text, usage double precision);
INSERT INTO heap_cpu
  SELECT timestamptz '2024-01-01' + i * interval '1 second', 'h' || (i % 7), i * 0.5
  FROM generate_series(1, 120000) i;
INSERT INTO ins.cpu (time, host, usage) SELECT time, host, usage FROM heap_cpu;
SELECT count(*), sum(usage), min(time), max(time) FROM ins.cpu WHERE host LIKE 'h%';
SELECT count(*), sum(usage), min(time), max(time) FROM heap_cpu;
(SELECT time, host, usage FROM heap_cpu EXCEPT SELECT time, host, usage FROM ins.cpu)
UNION ALL
(SELECT time, host, usage FROM ins.cpu WHERE host LIKE 'h%' EXCEPT SELECT time, host, usage FROM heap_cpu);
-- Buffered rows become files of many rows, not a file per row.
SELECT count(*) <= 4 AS few_files FROM tsparquet.files f, pg_foreign_table t, unnest(t.ftoptions) o
WHERE t.ftrelid = 'ins.cpu'::regclass AND o = 'table_id=' || f.table_id AND f.min_time_ns >= 1704067200000000000;

-- Standard COPY into a measurement table.
COPY ins.cpu (time, host, usage, note) FROM STDIN WITH (FORMAT csv);
2023-11-15 00:00:00+00,csv1,1.25,"with, comma"
2023-11-15 00:00:01+00,csv2,2.25,
\.
SELECT time, host, usage, note FROM ins.cpu WHERE host LIKE 'csv%' ORDER BY host;

-- Rolled back, nothing is stored.
BEGIN;
INSERT INTO ins.cpu (time, host, usage) VALUES (now(), 'rolled', 1);
SELECT count(*) FROM ins.cpu WHERE host = 'rolled';
ROLLBACK;
SELECT count(*) FROM ins.cpu WHERE host = 'rolled';

-- UPDATE, DELETE and ON CONFLICT are refused with a reason.
UPDATE ins.cpu SET usage = 0;
DELETE FROM ins.cpu WHERE host = 'a';
INSERT INTO ins.cpu (time, host, usage) VALUES (now(), 'a', 1) ON CONFLICT DO NOTHING;

-- A foreign table made by hand is not a measurement table.
CREATE FOREIGN TABLE ins.manual (time timestamptz, v double precision) SERVER tsparquet;
INSERT INTO ins.manual VALUES (now(), 1);
DROP FOREIGN TABLE ins.manual;
-- A table_id names a measurement's stored files, which a table's privileges open: only a
-- superuser may give one (as a restored dump does), and never one another table has.
CREATE ROLE ins_member;
GRANT tsparquet_writer TO ins_member;
CREATE SCHEMA ins_own AUTHORIZATION ins_member;
SELECT ftoptions[1] AS cpu_table_id FROM pg_foreign_table
WHERE ftrelid = 'ins.cpu'::regclass \gset
SELECT split_part(:'cpu_table_id', '=', 2) AS cpu_id \gset
SET ROLE ins_member;
CREATE FOREIGN TABLE ins_own.alias (time timestamptz OPTIONS (role 'time') NOT NULL,
  time_ns bigint OPTIONS (role 'time_ns') NOT NULL, host text OPTIONS (role 'tag'))
  SERVER tsparquet OPTIONS (table_id :'cpu_id');
CREATE FOREIGN TABLE ins_own.unclaimed (time timestamptz OPTIONS (role 'time') NOT NULL,
  time_ns bigint OPTIONS (role 'time_ns') NOT NULL) SERVER tsparquet;
\set VERBOSITY sqlstate
ALTER FOREIGN TABLE ins_own.unclaimed OPTIONS (ADD table_id '424242');
\set VERBOSITY default
RESET ROLE;
\set VERBOSITY sqlstate
CREATE FOREIGN TABLE ins_own.alias (time timestamptz OPTIONS (role 'time') NOT NULL,
  time_ns bigint OPTIONS (role 'time_ns') NOT NULL, host text OPTIONS (role 'tag'))
  SERVER tsparquet OPTIONS (table_id :'cpu_id');
\set VERBOSITY default
-- Written otherwise, the same number would escape that check.
CREATE FOREIGN TABLE ins_own.padded (time timestamptz OPTIONS (role 'time') NOT NULL,
  time_ns bigint OPTIONS (role 'time_ns') NOT NULL) SERVER tsparquet OPTIONS (table_id '0042');
SELECT count(*) > 0 AS cpu_rows_kept FROM ins.cpu;
DROP SCHEMA ins_own CASCADE;
DROP ROLE ins_member;

-- Privileges are Postgres' own: INSERT on the table (and USAGE on its schema).
CREATE ROLE ins_reader;
CREATE ROLE ins_writer;
GRANT USAGE ON SCHEMA ins TO ins_reader, ins_writer;
GRANT SELECT ON ins.cpu TO ins_reader;
GRANT INSERT ON ins.cpu TO ins_writer;
SET ROLE ins_reader;
\set VERBOSITY sqlstate
INSERT INTO ins.cpu (time, host, usage) VALUES (now(), 'denied', 1);
COPY ins.cpu (time, host, usage) FROM STDIN WITH (FORMAT csv);
\.
\set VERBOSITY default
SET ROLE ins_writer;
INSERT INTO ins.cpu (time, host, usage) VALUES ('2023-11-16 00:00:00+00', 'granted', 1);
RESET ROLE;
SELECT host FROM ins.cpu WHERE host IN ('denied', 'granted');
REVOKE ALL ON ins.cpu FROM ins_reader, ins_writer;
REVOKE ALL ON SCHEMA ins FROM ins_reader, ins_writer;
DROP ROLE ins_reader;
DROP ROLE ins_writer;
DROP TABLE heap_cpu;

-- AFTER triggers on a measurement find the statement's rows stored, as on a heap table
-- (row and statement triggers, INSERT and COPY), and a point a trigger writes is the
-- later write of that point.
SELECT written FROM tsparquet.write_lp('trg', 'cpu,host=a u=1i 1704067200000000000', 'ns');
CREATE TABLE trg_heap AS SELECT * FROM trg.cpu;
CREATE TABLE trg_log (tbl text, host text, seen bigint);
CREATE FUNCTION trg_seen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  seen bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO seen;
  INSERT INTO trg_log VALUES (TG_TABLE_NAME, CASE TG_LEVEL WHEN 'ROW' THEN NEW.host END, seen);
  RETURN NULL;
END $$;
CREATE TRIGGER seen_row AFTER INSERT ON trg.cpu FOR EACH ROW EXECUTE FUNCTION trg_seen();
CREATE TRIGGER seen_row AFTER INSERT ON trg_heap FOR EACH ROW EXECUTE FUNCTION trg_seen();
CREATE TRIGGER seen_statement AFTER INSERT ON trg.cpu FOR EACH STATEMENT EXECUTE FUNCTION trg_seen();
CREATE TRIGGER seen_statement AFTER INSERT ON trg_heap FOR EACH STATEMENT EXECUTE FUNCTION trg_seen();
INSERT INTO trg.cpu (time, host, u) VALUES ('2024-01-02 00:00:00+00', 'b', 2), ('2024-01-03 00:00:00+00', 'c', 3);
INSERT INTO trg_heap (time, host, u) VALUES ('2024-01-02 00:00:00+00', 'b', 2), ('2024-01-03 00:00:00+00', 'c', 3);
COPY trg.cpu (time, host, u) FROM STDIN WITH (FORMAT csv);
2024-01-05 00:00:00+00,d,4
2024-01-06 00:00:00+00,e,5
\.
COPY trg_heap (time, host, u) FROM STDIN WITH (FORMAT csv);
2024-01-05 00:00:00+00,d,4
2024-01-06 00:00:00+00,e,5
\.
-- With RETURNING, PostgreSQL hands the rows over one at a time: each is stored at once.
INSERT INTO trg.cpu (time, host, u) VALUES ('2024-01-07 00:00:00+00', 'f', 6) RETURNING host, u;
INSERT INTO trg_heap (time, host, u) VALUES ('2024-01-07 00:00:00+00', 'f', 6) RETURNING host, u;
SELECT host, seen, count(*) FILTER (WHERE tbl = 'cpu') AS measurement,
       count(*) FILTER (WHERE tbl = 'trg_heap') AS heap
FROM trg_log GROUP BY host, seen ORDER BY seen, host;
-- An AFTER ROW trigger reads the row with the times it is stored with.
CREATE FUNCTION trg_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE WARNING 'stored % at % (% ns)', NEW.host, NEW.time, NEW.time_ns;
  RETURN NULL;
END $$;
CREATE TRIGGER times AFTER INSERT ON trg.cpu FOR EACH ROW WHEN (NEW.host IN ('t', 'tns'))
  EXECUTE FUNCTION trg_times();
INSERT INTO trg.cpu (time, host, u) VALUES ('2024-01-08 00:00:00.25+00', 't', 7);
INSERT INTO trg.cpu (time_ns, host, u) VALUES (1704672000250000999, 'tns', 8);
-- The same for rows PostgreSQL hands over in a batch.
INSERT INTO trg.cpu (time, host, u) VALUES ('2024-01-08 00:00:01+00', 't', 9), ('2024-01-08 00:00:02+00', 't', 10);
CREATE FUNCTION trg_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tsparquet.write_lp('trg', 'cpu,host=x u=101i 1704326400000000000', 'ns');
  RETURN NULL;
END $$;
CREATE TRIGGER rewrite AFTER INSERT ON trg.cpu FOR EACH ROW WHEN (NEW.host = 'x')
  EXECUTE FUNCTION trg_rewrite();
INSERT INTO trg.cpu (time, host, u) VALUES ('2024-01-04 00:00:00+00', 'x', 100);
SELECT host, u FROM trg.cpu WHERE host = 'x';
DROP SCHEMA trg CASCADE;
DROP TABLE trg_heap, trg_log;
DROP FUNCTION trg_seen(), trg_rewrite(), trg_times();
