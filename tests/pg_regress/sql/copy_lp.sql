-- COPY <database> FROM STDIN WITH (FORMAT lineprotocol): line protocol streamed in, each
-- line's measurement picking its table, exactly as write_lp does.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, PRECISION 's');
cpu,host=a usage=1.5 1700000000
cpu,host=b usage=2.5 1700000000
mem,host=a used=10i 1700000000
cpu,host=a usage=1.75 1700000010
\.
SELECT time, host, usage FROM copydb.cpu ORDER BY time, host;
SELECT time, host, used FROM copydb.mem;

-- Every byte arrives as sent: escapes in names and values, quotes, backslashes, tabs and
-- newlines inside string fields. The same lines through write_lp give the same rows.
COPY escapes FROM STDIN WITH (FORMAT lineprotocol);
esc,tag\ key=a\,b\=c field\ one="quote \" backslash \\ tab	end",n=1i 1
esc,tag\ key=x\\y s="two
lines \n kept",n=2i 2
esc,tag\ key=\"q\" s="C:\path\to",n=3i 3
\.
SELECT time_ns, "tag key", "field one", s, n FROM escapes.esc ORDER BY time_ns;
SELECT written FROM tsparquet.write_lp('escapes_lp', $lp$esc,tag\ key=a\,b\=c field\ one="quote \" backslash \\ tab	end",n=1i 1
esc,tag\ key=x\\y s="two
lines \n kept",n=2i 2
esc,tag\ key=\"q\" s="C:\path\to",n=3i 3$lp$);
(SELECT time_ns, "tag key", "field one", s, n FROM escapes.esc
 EXCEPT SELECT time_ns, "tag key", "field one", s, n FROM escapes_lp.esc)
UNION ALL
(SELECT time_ns, "tag key", "field one", s, n FROM escapes_lp.esc
 EXCEPT SELECT time_ns, "tag key", "field one", s, n FROM escapes.esc);

-- Bad lines are skipped with a WARNING naming them (ACCEPT_PARTIAL is on by default);
-- duplicate points follow the write_lp rule, the later line winning.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, PRECISION 's', ACCEPT_PARTIAL true);
cpu,host=c usage=3 1700000000
cpu,host=c usage=oops 1700000000
cpu,host=c usage=1i 1700000000
cpu,host=c usage=4 1700000000
\.
SELECT time, host, usage FROM copydb.cpu WHERE host = 'c';

-- ACCEPT_PARTIAL false: one bad line rejects the whole COPY, new tables included.
\set VERBOSITY sqlstate
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, ACCEPT_PARTIAL false);
cpu,host=d usage=5 1700000000000000000
disk,host=d free=1i 1700000000000000000
cpu,host=d usage= 1700000000000000000
\.
\set VERBOSITY default
SELECT count(*) FROM copydb.cpu WHERE host = 'd';
SELECT count(*) FROM pg_class WHERE relname = 'disk';

-- A COPY is one transaction: ROLLBACK leaves nothing, tables and schemas included.
BEGIN;
COPY rolled_back FROM STDIN WITH (FORMAT lineprotocol);
cpu,host=z usage=1 1
\.
SELECT count(*) FROM rolled_back.cpu;
ROLLBACK;
SELECT count(*) FROM pg_namespace WHERE nspname = 'rolled_back';
SELECT count(*) FROM tsparquet.files f
WHERE NOT EXISTS (SELECT 1 FROM pg_foreign_table t, unnest(t.ftoptions) o
                  WHERE o = 'table_id=' || f.table_id);

-- What FORMAT lineprotocol does not take. (After a COPY FROM STDIN fails, psql skips its
-- data up to the \. line.)
COPY copydb TO STDOUT WITH (FORMAT lineprotocol);
COPY (SELECT 1) TO STDOUT WITH (FORMAT lineprotocol);
COPY copydb.cpu FROM STDIN WITH (FORMAT lineprotocol);
\.
COPY copydb (host) FROM STDIN WITH (FORMAT lineprotocol);
\.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, HEADER true);
\.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, PRECISION 'ns', PRECISION 's');
\.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, PRECISION 'minutes');
\.
COPY copydb FROM STDIN WITH (FORMAT lineprotocol, ACCEPT_PARTIAL 'maybe');
\.
COPY copydb FROM PROGRAM 'cat /dev/null' WITH (FORMAT lineprotocol);
COPY copydb FROM STDIN WITH (FORMAT lineprotocol) WHERE true;
\.
COPY copydb FROM '/nonexistent/metrics.lp' WITH (FORMAT lineprotocol);
-- Other formats stay Postgres' own.
COPY (SELECT 'text is untouched') TO STDOUT;

-- Privileges: the write_lp rules. A role without CREATE on the schema (or, for a new
-- schema, on the database) gets 42501 before any data is read, and nothing is written.
CREATE ROLE copy_stranger;
SET ROLE copy_stranger;
\set VERBOSITY sqlstate
COPY copydb FROM STDIN WITH (FORMAT lineprotocol);
\.
COPY brand_new FROM STDIN WITH (FORMAT lineprotocol);
\.
COPY copydb FROM '/dev/null' WITH (FORMAT lineprotocol);
\set VERBOSITY default
RESET ROLE;
SELECT count(*) FROM pg_namespace WHERE nspname = 'brand_new';
DROP ROLE copy_stranger;

-- The setting hands every COPY back to Postgres, which does not know the format.
SET tsparquet.enable_copy_lineprotocol = off;
COPY copydb FROM STDIN WITH (FORMAT lineprotocol);
\.
RESET tsparquet.enable_copy_lineprotocol;
