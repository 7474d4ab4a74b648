-- tsparquet.write_lp: schema on write into Parquet-backed measurement tables.
SET TimeZone = 'UTC';

-- A new database (schema) and measurements are created on first write.
SELECT * FROM tsparquet.write_lp('telegraf', E'cpu,host=a,region=eu usage=1.5,cores=8i 1451606400\ncpu,host=b,region=eu usage=2.5,cores=4i 1451606410\nmem,host=a free=1024u,ok=true,note="fine" 1451606400');
SELECT * FROM telegraf.cpu ORDER BY host, time;
SELECT * FROM telegraf.mem;
\d+ telegraf.cpu
SELECT measurement, column_name, role, data_type FROM tsparquet.columns WHERE database = 'telegraf' ORDER BY measurement, position;

-- New tags and fields add columns; older rows read them as NULL.
SELECT written, rejected FROM tsparquet.write_lp('telegraf', 'cpu,host=c,rack=7 usage=3,steal=0.5 1451606420');
SELECT host, region, rack, usage, cores, steal FROM telegraf.cpu ORDER BY host;

-- The same series and time again: fields merge, the later value wins.
SELECT written FROM tsparquet.write_lp('telegraf', E'cpu,region=eu,host=a usage=9 1451606400\ncpu,host=a,region=eu cores=16i 1451606400');
SELECT host, time, usage, cores FROM telegraf.cpu WHERE host = 'a';
SELECT count(*) AS rows_for_host_a FROM telegraf.cpu WHERE host = 'a';

-- Bad lines are reported with their line numbers and skipped ...
SELECT e->>'line' AS line, e->>'error' AS error, e->>'text' AS text
FROM tsparquet.write_lp('telegraf', array_to_string(ARRAY[
    'cpu,host=d usage=1 1451606430',
    'cpu,host=d usage=1i 1451606440',
    'cpu,usage=x y=1 1451606440',
    'cpu,host=e host=1 1451606440',
    'cpu,host=d time=1 1451606440',
    'cpu,host=d f=1,f=2 1451606440',
    'cpu ' || repeat('x', 64) || '=1 1451606440',
    repeat('m', 64) || ' f=1 1451606440'], E'\n')) AS w,
     jsonb_array_elements(w.errors) AS e;
SELECT count(*) FROM telegraf.cpu WHERE host = 'd';
-- ... or, with accept_partial => false, fail the whole write.
SELECT * FROM tsparquet.write_lp('telegraf', E'cpu,host=f usage=1 1451606450\ncpu,host=f usage=oops 1451606460', accept_partial => false);
SELECT count(*) FROM telegraf.cpu WHERE host = 'f';
\set VERBOSITY sqlstate
SELECT * FROM tsparquet.write_lp('telegraf', 'cpu,host=f usage=oops 1451606460', accept_partial => false);
\set VERBOSITY default

-- Precision of timestamps (PRECISION is an SQL keyword: quote it to name the argument).
SELECT written FROM tsparquet.write_lp('precise', 'm v=1 1451606400123', 'ms');
SELECT written FROM tsparquet.write_lp('precise', 'm v=2 1451606400123456789', "precision" => 'ns');
SELECT time, time_ns, v FROM precise.m ORDER BY time_ns;

-- A write in a rolled-back transaction leaves nothing behind: no rows, no stored files,
-- and no schema or table it created.
SELECT count(*) AS files_before FROM tsparquet.files \gset
BEGIN;
SELECT written FROM tsparquet.write_lp('telegraf', 'cpu,host=rollback usage=1 1451606400');
SELECT written FROM tsparquet.write_lp('rolled_back', 'fresh v=1 1');
SELECT count(*) FROM telegraf.cpu WHERE host = 'rollback';
SELECT count(*) > :files_before AS files_stored FROM tsparquet.files;
ROLLBACK;
SELECT count(*) FROM telegraf.cpu WHERE host = 'rollback';
SELECT count(*) = :files_before AS no_files_left FROM tsparquet.files;
SELECT to_regnamespace('rolled_back') IS NULL AS no_schema_left;

-- Measurement tables work in joins, subqueries, views, cursors and prepared statements.
CREATE TABLE hosts (host text PRIMARY KEY, owner text);
INSERT INTO hosts VALUES ('a', 'alice'), ('b', 'bob');
SELECT h.owner, c.usage FROM telegraf.cpu c JOIN hosts h USING (host) ORDER BY h.owner;
CREATE VIEW busy AS SELECT host, usage FROM telegraf.cpu WHERE usage > 2;
SELECT * FROM busy ORDER BY host;
SELECT host FROM telegraf.cpu WHERE usage = (SELECT max(usage) FROM telegraf.cpu);
PREPARE by_host(text) AS SELECT usage FROM telegraf.cpu WHERE host = $1;
EXECUTE by_host('b');
BEGIN;
DECLARE c CURSOR FOR SELECT host FROM telegraf.cpu ORDER BY host;
FETCH 2 FROM c;
FETCH 1 FROM c;
COMMIT;
EXPLAIN (COSTS OFF) SELECT host FROM telegraf.cpu WHERE usage > 2;
-- Reading takes no transaction ID (so hot standbys can read too).
BEGIN;
SELECT count(*) FROM telegraf.cpu;
SELECT txid_current_if_assigned() IS NULL AS read_only;
COMMIT;

-- Rewriting stored files does not disturb a query on an older snapshot: the cursor,
-- opened before a write that merges into its files, still reads the rows it started with.
BEGIN;
DECLARE old_rows CURSOR FOR SELECT host, usage FROM telegraf.cpu ORDER BY host;
SELECT written FROM tsparquet.write_lp('telegraf', 'cpu,host=b,region=eu usage=99 1451606410');
FETCH ALL FROM old_rows;
SELECT host, usage FROM telegraf.cpu ORDER BY host;
COMMIT;

-- Row estimates come from the catalog, without ANALYZE.
SELECT count(*) FROM telegraf.cpu;
CREATE FUNCTION plan_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan->0->'Plan'->>'Plan Rows')::bigint;
END
$$;
SELECT plan_rows('SELECT * FROM telegraf.cpu');

-- The estimate follows every change of a table's files: at once in the writing session,
-- back after a rollback, and after INSERT and TRUNCATE.
SELECT written FROM tsparquet.write_lp('telegraf', E'estimated,host=a v=1 1\nestimated,host=b v=2 1');
SELECT plan_rows('SELECT * FROM telegraf.estimated');
BEGIN;
SELECT written FROM tsparquet.write_lp('telegraf', 'estimated,host=c v=3 1');
SELECT plan_rows('SELECT * FROM telegraf.estimated');
ROLLBACK;
SELECT plan_rows('SELECT * FROM telegraf.estimated');
INSERT INTO telegraf.estimated (time, host, v) VALUES ('2016-01-01', 'd', 4);
SELECT plan_rows('SELECT * FROM telegraf.estimated');
TRUNCATE telegraf.estimated;
SELECT plan_rows('SELECT * FROM telegraf.estimated');
DROP FOREIGN TABLE telegraf.estimated;

-- The caller's search_path cannot change what write_lp's own statements mean: here an
-- operator that makes every name match would otherwise redirect the lookups.
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(name, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = text, FUNCTION = evil.always);
SET search_path = evil, pg_catalog;
SELECT written, rejected FROM tsparquet.write_lp('other', 'fresh f=1 1');
RESET search_path;
SELECT count(*) FROM other.fresh;
DROP SCHEMA evil CASCADE;
DROP SCHEMA other CASCADE;

-- A name already taken by something else is not touched.
CREATE TABLE telegraf.plain (x int);
SELECT rejected, errors->0->>'error' AS error FROM tsparquet.write_lp('telegraf', 'plain f=1 1');
SELECT count(*) FROM telegraf.plain;
SELECT attname, atttypid::regtype FROM pg_attribute WHERE attrelid = 'telegraf.plain'::regclass AND attnum > 0;

-- Reserved and over-long database names.
SELECT * FROM tsparquet.write_lp('pg_catalog', 'm f=1 1');
SELECT * FROM tsparquet.write_lp(repeat('d', 64), 'm f=1 1');

-- TRUNCATE and DROP release storage.
SELECT count(*) > 0 AS has_files FROM tsparquet.files;
TRUNCATE telegraf.mem;
SELECT count(*) FROM telegraf.mem;
DROP SCHEMA precise CASCADE;
DROP FOREIGN TABLE telegraf.mem;
SELECT count(DISTINCT table_id) AS tables_with_files FROM tsparquet.files;

-- UPDATE and DELETE are not supported.
UPDATE telegraf.cpu SET usage = 0;
DELETE FROM telegraf.cpu;

-- An error or a timeout in the middle of a scan leaves the session healthy.
SELECT written FROM tsparquet.write_lp('big',
    (SELECT string_agg(format('m,h=h%s v=%si %s', i % 10, i, i), E'\n') FROM generate_series(1, 100000) i));
SELECT 1 / (v - 50000) FROM big.m;
SET statement_timeout = '1ms';
SELECT sum(v) FROM big.m;
RESET statement_timeout;
SELECT sum(v), count(*) FROM big.m;
-- Rows of one batch share a tag's datum: every row still shows its own tag, in every
-- batch, read by Postgres and from a pushed-down query.
SET tsparquet.enable_pushdown = off;
SELECT count(*) FILTER (WHERE h <> 'h' || (v % 10)) AS wrong_tags, count(*) FROM big.m;
RESET tsparquet.enable_pushdown;
SELECT count(*) FILTER (WHERE h <> 'h' || (v % 10)) AS wrong_tags, count(*)
FROM (SELECT h, v FROM big.m WHERE v > 0 OFFSET 0) pushed;
DROP SCHEMA big CASCADE;

-- Bound parameters of a write_lp call stay parameters in its plan (the lines are not copied
-- into the plan as a constant), and the call writes what they hold.
PREPARE write_lines(text, text) AS SELECT written, rejected FROM tsparquet.write_lp($1, $2);
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE write_lines('prepared', 'cpu,host=p usage=1 1451606400');
EXECUTE write_lines('prepared', 'cpu,host=p usage=1 1451606400
cpu,host=q usage=2 1451606400');
SELECT host, usage FROM prepared.cpu ORDER BY host;
-- A statement without write_lp is planned with its parameters' values as before.
PREPARE count_host(text) AS SELECT count(*) FROM prepared.cpu WHERE host = $1;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE count_host('p');
EXECUTE count_host('p');
DEALLOCATE write_lines;
DEALLOCATE count_host;
DROP SCHEMA prepared CASCADE;

-- Privileges: writing needs CREATE on the schema; reading needs SELECT.
CREATE ROLE lp_stranger;
CREATE ROLE lp_writer;
GRANT USAGE, CREATE ON SCHEMA telegraf TO lp_writer;
SET ROLE lp_stranger;
SELECT * FROM tsparquet.write_lp('telegraf', 'cpu,host=x usage=1 1451606400');
SELECT * FROM tsparquet.write_lp('newdb', 'cpu,host=x usage=1 1451606400');
\set VERBOSITY sqlstate
SELECT * FROM tsparquet.write_lp('telegraf', 'cpu,host=x usage=1 1451606400');
SELECT * FROM tsparquet.write_lp('newdb', 'cpu,host=x usage=1 1451606400');
\set VERBOSITY default
SELECT to_regnamespace('newdb') IS NULL AS newdb_not_created;
SELECT * FROM tsparquet.files;
SELECT count(*) FROM telegraf.cpu;
SET ROLE lp_writer;
SELECT written FROM tsparquet.write_lp('telegraf', 'cpu,host=w usage=1,newfield=2 1451606400');
SELECT count(*) FROM telegraf.cpu;
RESET ROLE;
SELECT host, newfield FROM telegraf.cpu WHERE host = 'w';
SELECT pg_catalog.pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'telegraf.cpu'::regclass;
GRANT USAGE ON SCHEMA telegraf TO lp_stranger;
GRANT SELECT ON telegraf.cpu TO lp_stranger;
SET ROLE lp_stranger;
SELECT count(*) FROM telegraf.cpu;
RESET ROLE;
DROP SCHEMA telegraf CASCADE;
DROP ROLE lp_stranger;
DROP ROLE lp_writer;
SELECT count(*) AS files_left FROM tsparquet.files;

-- Names are kept exactly: measurements differing in case are different tables.
SELECT written FROM tsparquet.write_lp('names', E'Cpu,Host=a Usage=1 1\ncpu,host=b usage=2 1');
SELECT "Host", "Usage" FROM names."Cpu";
SELECT host, usage FROM names.cpu;
-- A tag key over 63 bytes, a tag named time and a field named time_ns are rejected.
SELECT e->>'line' AS line, e->>'error' AS error
FROM tsparquet.write_lp('names', array_to_string(ARRAY[
    'cpu,' || repeat('t', 64) || '=a usage=1 2',
    'cpu,time=a usage=1 2',
    'cpu time_ns=1 2'], E'\n')) AS w,
     jsonb_array_elements(w.errors) AS e;
-- A point before 1970 keeps its nanoseconds in time_ns; time is the microsecond it falls in.
SELECT written FROM tsparquet.write_lp('names', 'early v=1 -1', 'ns');
SELECT time, time_ns FROM names.early;
-- A line that would take a table past PostgreSQL's 1,600 columns is rejected.
SELECT rejected, errors->0->>'error' AS error
FROM tsparquet.write_lp('names', 'wide ' || (SELECT string_agg('f' || i || '=1', ',') FROM generate_series(1, 1600) i) || ' 1');
SELECT to_regclass('names.wide') IS NULL AS wide_not_created;
-- Every bad line is counted; the first 100 are reported.
SELECT rejected, jsonb_array_length(errors) AS reported
FROM tsparquet.write_lp('names', (SELECT string_agg('bad line ' || i, E'\n') FROM generate_series(1, 150) i));
-- Each stored file is tracked with its time range, rows and size.
SELECT row_count, min_time_ns, max_time_ns, byte_size = octet_length(data) AS size_matches
FROM tsparquet.files
WHERE table_id = (SELECT substr(o, 10)::bigint FROM pg_foreign_table, unnest(ftoptions) o
                  WHERE ftrelid = 'names.early'::regclass AND o LIKE 'table_id=%');
DROP SCHEMA names CASCADE;

-- A role with CREATE on the database creates a new database (schema), and owns it and its
-- measurement tables.
CREATE ROLE lp_creator;
SELECT format('GRANT CREATE ON DATABASE %I TO lp_creator', current_database()) \gexec
SET ROLE lp_creator;
SELECT written FROM tsparquet.write_lp('created', 'm,host=a v=1 1');
SELECT host, v FROM created.m;
RESET ROLE;
SELECT pg_get_userbyid(nspowner) AS schema_owner FROM pg_namespace WHERE nspname = 'created';
SELECT pg_get_userbyid(relowner) AS table_owner FROM pg_class WHERE oid = 'created.m'::regclass;
DROP SCHEMA created CASCADE;
SELECT format('REVOKE CREATE ON DATABASE %I FROM lp_creator', current_database()) \gexec
DROP ROLE lp_creator;

-- Members of tsparquet_writer write into the databases granted to that role, and only there.
CREATE ROLE lp_member IN ROLE tsparquet_writer;
SELECT written FROM tsparquet.write_lp('shared', 'm,host=a v=1 1');
SELECT written FROM tsparquet.write_lp('unshared', 'm,host=a v=1 1');
GRANT USAGE, CREATE ON SCHEMA shared TO tsparquet_writer;
SET ROLE lp_member;
SELECT written FROM tsparquet.write_lp('shared', 'm,host=b v=2 1');
\set VERBOSITY sqlstate
SELECT written FROM tsparquet.write_lp('unshared', 'm,host=b v=2 1');
\set VERBOSITY default
RESET ROLE;
SELECT host, v FROM shared.m ORDER BY host;
SELECT host, v FROM unshared.m ORDER BY host;
DROP SCHEMA shared CASCADE;
DROP SCHEMA unshared CASCADE;
DROP ROLE lp_member;

-- A re-sent point is merged with the file holding it, which it replaces; the other files of
-- its time range (host b's here) stay as they are.
SELECT written FROM tsparquet.write_lp('resend', E'm,host=a v=1 1451606400\nm,host=a v=1 1451606420');
SELECT written FROM tsparquet.write_lp('resend', 'm,host=b v=2 1451606410');
CREATE FUNCTION pg_temp.resend_files() RETURNS TABLE (file_id bigint, min_time_ns bigint, row_count bigint)
LANGUAGE sql AS $$
    SELECT f.file_id, f.min_time_ns, f.row_count FROM tsparquet.files f, pg_foreign_table t
    WHERE t.ftrelid = 'resend.m'::regclass AND 'table_id=' || f.table_id = ANY (t.ftoptions)
$$;
SELECT file_id AS b_file FROM pg_temp.resend_files() WHERE min_time_ns = 1451606410000000000 \gset
SELECT written FROM tsparquet.write_lp('resend', 'm,host=a v=5 1451606420');
SELECT min_time_ns, row_count, file_id = :b_file AS same_file FROM pg_temp.resend_files() ORDER BY min_time_ns;
SELECT host, extract(epoch FROM time) AS t, v FROM resend.m ORDER BY host, time;
DROP SCHEMA resend CASCADE;

-- A write's locks are object locks of the extension's own class, which no statement of a
-- user can take (an advisory lock anyone could take, and so block every write).
BEGIN;
SELECT written FROM tsparquet.write_lp('locked', 'm,host=a v=1 1451606400');
SELECT l.locktype, l.mode, count(*)
FROM pg_locks l, pg_extension e
WHERE e.extname = 'tsparquet' AND l.pid = pg_backend_pid()
  AND (l.locktype = 'advisory' OR l.classid = e.oid)
GROUP BY 1, 2;
COMMIT;
DROP SCHEMA locked CASCADE;

-- A database of another encoding than UTF-8 is refused: line protocol, the stored files and
-- the engine's text are UTF-8.
SELECT current_database() AS regress_db \gset
CREATE DATABASE tsparquet_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c tsparquet_latin1
CREATE EXTENSION tsparquet;
SELECT count(*) FROM pg_extension WHERE extname = 'tsparquet';
\c :regress_db
DROP DATABASE tsparquet_latin1;
