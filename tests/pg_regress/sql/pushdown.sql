-- Pushdown: filters and aggregates computed by the query engine give exactly what
-- PostgreSQL gives over the same rows in a heap table. Each query runs against both; the
-- table shows what EXPLAIN says was pushed down and whether the results are identical
-- (in order where the query orders them). The result types are PostgreSQL's own, fixed by
-- its parser for both tables; rows are compared as the text their declared types' output
-- functions write, so a value of another type or scale (a numeric's digits after the
-- point) shows as a difference.
SET TimeZone = 'UTC';
-- 3,000 points over five hosts and three days, a few before 1970, times off whole
-- microseconds, missing tags and fields, integers near the bigint limit, exact floats.
SELECT written, rejected FROM
  (SELECT string_agg(format('cpu,host=h%s%s %s %s',
       i % 5,
       CASE WHEN i % 7 = 0 THEN '' ELSE ',region=r' || (i % 3) END,
       concat_ws(',',
         CASE WHEN i % 11 <> 0 THEN format('u=%si', (i * 37) % 1000 - 200) END,
         format('f=%s', (i % 17) * 0.25),
         CASE WHEN i % 13 <> 0 THEN format('s="v%s"', i % 4) END,
         format('b=%s', i % 2 = 0)),
       1704067200000000000 + i::bigint * 77777777777 + i % 3), E'\n') AS lines
   FROM generate_series(0, 2999) i) input,
  tsparquet.write_lp('pd', input.lines, 'ns');
SELECT written FROM tsparquet.write_lp('pd', E'cpu,host=old u=1i,f=1,b=true -1\n'
  'cpu,host=old u=2i,f=2,b=false -300000000001\n'
  'cpu,host=big u=9223372036854775807i,f=0,b=true 1704067200000000000\n'
  'cpu,host=big u=9223372036854775806i,f=0,b=true 1704067260000000000\n'
  'cpu,host=h1 u=5i,f=1,b=true,extra=7i 1704153600000000001', 'ns');
-- Floats line protocol cannot carry, which Postgres orders its own way: every NaN equal
-- and above Infinity, -0 equal to 0.
INSERT INTO pd.cpu (time, host, f) VALUES
  ('2024-01-05 00:00:00+00', 'special', 'NaN'), ('2024-01-05 00:00:01+00', 'special', -'NaN'::float8),
  ('2024-01-05 00:00:02+00', 'special', '-0'), ('2024-01-05 00:00:03+00', 'special', '-Infinity'),
  ('2024-01-05 00:00:04+00', 'special', 'Infinity');
CREATE TABLE heap_cpu AS SELECT * FROM pd.cpu;

-- What EXPLAIN says was pushed down for a query over pd.cpu.
CREATE FUNCTION pushed_parts(query text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  pushed text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || replace(query, 'TABLE', 'pd.cpu') LOOP
    IF line ~ 'Pushed (Filter|Group Key|Aggregates|Having|Order|Limit|Distinct|Distinct On):' THEN
      pushed := concat_ws(', ', nullif(pushed, ''), substring(line FROM 'Pushed ([A-Za-z ]+):'));
    END IF;
  END LOOP;
  RETURN pushed;
END $$;

CREATE FUNCTION pushdown_check(query text, OUT pushed text, OUT same boolean)
LANGUAGE plpgsql AS $$
DECLARE
  tsparquet_rows text;
  heap_rows text;
  ordering text := CASE WHEN query ~* 'ORDER BY' THEN 'n' ELSE 'r::text' END;
  compare text := 'SELECT string_agg(r::text, E''\n'' ORDER BY %s)
                   FROM (SELECT r, row_number() OVER () AS n FROM (%s) r) s';
BEGIN
  pushed := pushed_parts(query);
  EXECUTE format(compare, ordering, replace(query, 'TABLE', 'pd.cpu')) INTO tsparquet_rows;
  EXECUTE format(compare, ordering, replace(query, 'TABLE', 'heap_cpu')) INTO heap_rows;
  same := tsparquet_rows IS NOT DISTINCT FROM heap_rows;
  IF NOT same THEN
    RAISE NOTICE E'%\ntsparquet:\n%\nheap:\n%', query, tsparquet_rows, heap_rows;
  END IF;
END $$;

CREATE TABLE queries (id serial, sql text);
INSERT INTO queries (sql) VALUES
  -- filters
  ($$SELECT * FROM TABLE WHERE host = 'h1'$$),
  ($$SELECT * FROM TABLE WHERE host <> 'h1' AND u > 100$$),
  ($$SELECT * FROM TABLE WHERE host IN ('h1', 'h3') AND time >= '2024-01-02' AND time < '2024-01-02 12:00'$$),
  ($$SELECT * FROM TABLE WHERE host = ANY (ARRAY['h2', 'h4', NULL])$$),
  ($$SELECT * FROM TABLE WHERE host NOT IN ('h1', 'h2')$$),
  ($$SELECT * FROM TABLE WHERE host <> ALL (ARRAY['h0', NULL])$$),
  ($$SELECT * FROM TABLE WHERE NOT s = ANY (ARRAY['v1', 'v0']) OR NOT s = ANY (ARRAY['v2', 'h1'])$$),
  ($$SELECT * FROM TABLE WHERE NOT (region IN ('r1') AND region IN ('r2'))$$),
  ($$SELECT * FROM TABLE WHERE s <> ALL ('{}') AND NOT s = ANY ('{}')$$),
  ($$SELECT * FROM TABLE WHERE region IS NULL$$),
  ($$SELECT * FROM TABLE WHERE region IS NOT NULL AND b$$),
  ($$SELECT * FROM TABLE WHERE NOT b OR u < 0$$),
  ($$SELECT * FROM TABLE WHERE b = false AND extra IS NULL$$),
  ($$SELECT * FROM TABLE WHERE host LIKE 'h%' AND s NOT LIKE '%1'$$),
  ($$SELECT * FROM TABLE WHERE time = (SELECT min(time) FROM TABLE WHERE host = 'h2')$$),
  ($$SELECT * FROM TABLE WHERE time <= '2024-01-01 00:01:17.777777+00' OR time > '2024-01-03 16:00'$$),
  ($$SELECT * FROM TABLE WHERE time <> '2024-01-01 00:01:17.777777+00' AND time < '2024-01-01 00:10'$$),
  ($$SELECT * FROM TABLE WHERE time_ns > 1704200000000000000 AND time_ns <= 1704210000000000002$$),
  ($$SELECT * FROM TABLE WHERE u BETWEEN -50 AND 50$$),
  ($$SELECT * FROM TABLE WHERE 100 < u AND 300::smallint >= u$$),
  ($$SELECT * FROM TABLE WHERE time > now() - interval '100 years' AND u = 0$$),
  ($$SELECT * FROM TABLE WHERE f > 2$$),
  ($$SELECT * FROM TABLE WHERE u > 700 AND f > 2$$),
  ($$SELECT * FROM TABLE WHERE host = NULL OR u IS NULL$$),
  ($$SELECT * FROM TABLE WHERE f = 0$$),
  ($$SELECT * FROM TABLE WHERE f > 3.5 OR f = 'NaN'$$),
  ($$SELECT * FROM TABLE WHERE f < 'Infinity' AND f >= '-0'$$),
  ($$SELECT * FROM TABLE WHERE f IN (0.5, 'NaN', '-0') OR f <= '-Infinity'$$),
  ($$SELECT * FROM TABLE WHERE NOT f <> 'NaN' OR f > 3.75::real$$),
  ($$SELECT * FROM TABLE WHERE f::real > 3.5 AND host = 'h2'$$),
  -- aggregates
  ($$SELECT date_trunc('hour', time) h, host, max(u), min(u), sum(u), avg(u), count(*), count(u),
            avg(f), sum(f), min(f), max(f) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT host, count(DISTINCT region), count(DISTINCT s), count(DISTINCT u) FROM TABLE GROUP BY host ORDER BY host$$),
  -- a distinct count in thousands of groups (within the default work_mem of 4 MB), with
  -- aggregates merged from its two steps; one beside an aggregate that does not merge, and
  -- (above) distinct counts of several columns, grouped by Postgres; no keys
  ($$SELECT time, count(DISTINCT host), count(*), avg(u), max(u), min(f), avg(f), sum(f) FROM TABLE GROUP BY 1$$),
  ($$SELECT date_trunc('minute', time), region, count(DISTINCT s), count(s), min(time) FROM TABLE GROUP BY 1, 2$$),
  ($$SELECT host, count(DISTINCT s), tsparquet.last(u, time), count(*) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT count(DISTINCT host), count(*), sum(u) FROM TABLE WHERE host = 'nobody'$$),
  -- a sum of -0 alone is -0, its average 0
  ($$SELECT time, sum(f), avg(f) FROM TABLE WHERE host = 'special' GROUP BY 1 ORDER BY 1$$),
  ($$SELECT count(*), sum(u), avg(u), min(time), max(time), max(time_ns), min(u), avg(f) FROM TABLE$$),
  ($$SELECT count(*), sum(u), avg(u), max(time) FROM TABLE WHERE host = 'nobody'$$),
  -- files without the integers near the limit, whose sums the engine can add in 64 bits
  ($$SELECT host, sum(u), avg(u), sum(extra) FROM TABLE WHERE time >= '2024-01-02' GROUP BY host ORDER BY host$$),
  ($$SELECT host, count(*) FROM TABLE WHERE host = 'nobody' GROUP BY host$$),
  ($$SELECT floor(extract(epoch from time) / 300) * 300 AS t, avg(u), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  -- percentile_cont of floats, and of integers and arithmetic made floats, interpolated as
  -- Postgres does; NaN above Infinity
  ($$SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f), percentile_cont(0.9) WITHIN GROUP (ORDER BY u) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('day', time), percentile_cont(0) WITHIN GROUP (ORDER BY f), percentile_cont(1) WITHIN GROUP (ORDER BY u), percentile_cont(0.25) WITHIN GROUP (ORDER BY (u + f) * 2) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT percentile_cont(0.1) WITHIN GROUP (ORDER BY f), percentile_cont(0.3) WITHIN GROUP (ORDER BY f), percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM TABLE WHERE host = 'special'$$),
  ($$SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY u) FILTER (WHERE f > 1), count(*) FROM TABLE$$),
  ($$SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY u) AS m FROM TABLE GROUP BY host HAVING percentile_cont(0.5) WITHIN GROUP (ORDER BY u) > 10 ORDER BY m DESC, host LIMIT 3$$),
  ($$SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM TABLE WHERE host = 'nobody'$$),
  -- percentile_disc of integers and floats, the first value whose place reaches it
  ($$SELECT host, percentile_disc(0.5) WITHIN GROUP (ORDER BY u), percentile_disc(0.41) WITHIN GROUP (ORDER BY f), percentile_disc(0) WITHIN GROUP (ORDER BY u) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT percentile_disc(0.2) WITHIN GROUP (ORDER BY f), percentile_disc(1) WITHIN GROUP (ORDER BY f), percentile_disc(0.6) WITHIN GROUP (ORDER BY f) FILTER (WHERE f > 0) FROM TABLE WHERE host = 'special'$$),
  ($$SELECT region, percentile_disc(0.9) WITHIN GROUP (ORDER BY u - 7) AS p, percentile_cont(0.9) WITHIN GROUP (ORDER BY u - 7), avg(f) FROM TABLE GROUP BY region ORDER BY p DESC NULLS FIRST LIMIT 2$$),
  ($$SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY u) FROM TABLE WHERE host = 'big'$$),
  -- left to Postgres: a descending order, an array of fractions, a value of another type
  ($$SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f DESC) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY f) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, percentile_disc(0.5) WITHIN GROUP (ORDER BY time) FROM TABLE GROUP BY host ORDER BY host$$),
  -- Grafana's bucket made a timestamptz again
  ($$SELECT to_timestamp(floor(extract(epoch from time) / 300) * 300) AS t, avg(u), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT to_timestamp(floor(extract(epoch FROM time) / 3600) * 3600) AS t, host, max(f) FROM TABLE GROUP BY 1, 2 ORDER BY 1 DESC, 2 LIMIT 5$$),
  ($$SELECT date_trunc('day', time), region, count(*), sum(f) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT date_trunc('month', time), date_trunc('second', time) s, count(*) FROM TABLE GROUP BY 1, 2 ORDER BY 2 LIMIT 20$$),
  ($$SELECT b, s, count(*), max(u) FROM TABLE GROUP BY b, s ORDER BY b, s$$),
  ($$SELECT time, count(*) FROM TABLE WHERE host = 'h1' GROUP BY time ORDER BY time$$),
  ($$SELECT time_ns, max(u) FROM TABLE GROUP BY time_ns ORDER BY time_ns DESC LIMIT 5$$),
  ($$SELECT host, max(u) FROM TABLE GROUP BY host HAVING max(u) > 700 ORDER BY host$$),
  ($$SELECT host, max(u) - 1 FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT 42 AS answer, host, max(time) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, min(s) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT f, count(*) FROM TABLE GROUP BY f ORDER BY f$$),
  ($$SELECT host, max(u) FILTER (WHERE b) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, count(*) FROM TABLE WHERE f > 3 GROUP BY host ORDER BY host$$),
  ($$SELECT host, count(*), max(f), min(f) FROM TABLE WHERE f >= 'NaN' OR f < 0.5 GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('minute', time) AS minute, max(u) AS max_u FROM TABLE
     WHERE host IN ('h1') AND time >= '2024-01-02 07:47:12.550394+00' AND time < '2024-01-02 08:47:12.550394+00'
     GROUP BY minute ORDER BY minute ASC$$),
  ($$SELECT date_trunc('minute', time) AS minute, max(u) FROM TABLE WHERE time < '2024-01-02 10:00'
     GROUP BY minute ORDER BY minute DESC LIMIT 5$$),
  ($$SELECT date_trunc('hour', time) AS hour, host, avg(u), avg(extra) FROM TABLE
     WHERE time >= '2024-01-01 12:00' AND time < '2024-01-02 00:00' GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT date_bin('15 minutes', time, '2024-01-01 00:05+00'), count(*), max(u) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT date_bin('1 day 2 hours', time, '1969-12-31 00:00+00') AS bin, count(*) FROM TABLE GROUP BY bin ORDER BY bin$$),
  ($$SELECT date_bin('1 hour', time, '1700-01-01 00:00+00'), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT tsparquet.time_bucket('1 hour', time), host, avg(u) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT tsparquet.time_bucket('1 day', time, '2023-12-31 12:00+00'), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT date_bin('1 hour', time, now()), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  -- order and limit
  ($$SELECT * FROM TABLE ORDER BY time DESC LIMIT 5$$),
  ($$SELECT host, u, time_ns FROM TABLE WHERE host = 'h3' ORDER BY time_ns LIMIT 4 OFFSET 2$$),
  ($$SELECT * FROM TABLE ORDER BY u DESC NULLS LAST, time LIMIT 7$$),
  ($$SELECT u, time FROM TABLE WHERE u < 0 ORDER BY u NULLS FIRST, time DESC LIMIT 6 OFFSET 1$$),
  ($$SELECT f, time FROM TABLE WHERE host = 'special' OR f > 3.9 ORDER BY f DESC, time LIMIT 8$$),
  ($$SELECT f, time FROM TABLE ORDER BY f, time LIMIT 3$$),
  ($$SELECT time, b FROM TABLE WHERE time > '2024-01-03 12:00' ORDER BY b, time DESC LIMIT 5$$),
  ($$SELECT host, time FROM TABLE ORDER BY host COLLATE "C" DESC, time LIMIT 4$$),
  ($$SELECT host, time FROM TABLE ORDER BY host, time LIMIT 4$$),
  ($$SELECT time, u FROM TABLE WHERE u > 990 ORDER BY time$$),
  ($$SELECT host, time_ns, f FROM TABLE ORDER BY f DESC, time_ns, host$$),
  ($$SELECT region, time_ns, u FROM TABLE WHERE u > 0 ORDER BY region NULLS FIRST, time_ns DESC$$),
  ($$SELECT time, u FROM TABLE ORDER BY time DESC, u LIMIT 10001$$),
  -- rows in the order of a window, which the scan returns sorted
  ($$SELECT host, time_ns, u - lag(u) OVER (PARTITION BY host ORDER BY time_ns) FROM TABLE WHERE host <> 'big' ORDER BY host, time_ns$$),
  ($$SELECT host, time, f, sum(f) OVER (PARTITION BY host ORDER BY time ROWS UNBOUNDED PRECEDING) FROM TABLE
     WHERE host <> 'special' ORDER BY host, time$$),
  ($$SELECT time, u FROM TABLE ORDER BY time LIMIT NULL OFFSET 2990$$),
  ($$SELECT time, u FROM TABLE ORDER BY time, u LIMIT ALL$$),
  ($$SELECT time, u FROM TABLE WHERE f::real > 3 ORDER BY time LIMIT 5$$),
  ($$SELECT time, s || '!' FROM TABLE ORDER BY time LIMIT 5$$),
  ($$SELECT time FROM TABLE ORDER BY time FETCH FIRST 3 ROWS WITH TIES$$),
  ($$SELECT host, max(u) AS m FROM TABLE GROUP BY host ORDER BY m DESC NULLS LAST LIMIT 3$$),
  ($$SELECT host COLLATE "C" AS h, max(u) FROM TABLE GROUP BY 1 ORDER BY 1 DESC LIMIT 3$$),
  ($$SELECT date_trunc('minute', time) AS minute, max(f) FROM TABLE GROUP BY minute ORDER BY minute DESC LIMIT 5 OFFSET 1$$),
  ($$SELECT host, max(f), count(*) FROM TABLE GROUP BY host ORDER BY 2 DESC, 3, min(time) LIMIT 4$$),
  ($$SELECT host, sum(u) FROM TABLE GROUP BY host ORDER BY 2 NULLS FIRST LIMIT 9$$),
  ($$SELECT host, avg(u) FROM TABLE GROUP BY host ORDER BY 2 LIMIT 2$$),
  ($$SELECT region, count(*) FROM TABLE GROUP BY region ORDER BY region LIMIT 2$$),
  -- having
  ($$SELECT host, count(*) FROM TABLE GROUP BY host HAVING count(*) > 600 AND min(f) >= 0 ORDER BY host$$),
  ($$SELECT host FROM TABLE GROUP BY host HAVING max(time) > '2024-01-03' OR host = 'old' ORDER BY host$$),
  ($$SELECT date_trunc('hour', time) h, max(u) FROM TABLE GROUP BY 1
     HAVING date_trunc('hour', time) >= '2024-01-02 20:00' AND max(f) > 3.5 ORDER BY 1$$),
  ($$SELECT host, max(u) FROM TABLE GROUP BY host HAVING max(u) > 100 ORDER BY 2 DESC LIMIT 2$$),
  ($$SELECT count(*) FROM TABLE HAVING count(*) > 5$$),
  ($$SELECT b, count(*) FROM TABLE GROUP BY b HAVING NOT b OR count(DISTINCT host) > 9 ORDER BY b$$),
  ($$SELECT host, avg(u) FROM TABLE GROUP BY host HAVING avg(u) > 100 ORDER BY host$$),
  ($$SELECT host, sum(u) FROM TABLE GROUP BY host HAVING sum(u) > 1000 ORDER BY host$$),
  -- integers against decimals (Postgres compares them as numeric)
  ($$SELECT * FROM TABLE WHERE u > 100.5 AND u < 110.0$$),
  ($$SELECT * FROM TABLE WHERE u <= -150.25 OR 780.75 <= u$$),
  ($$SELECT * FROM TABLE WHERE u = 5.0 OR u = -5.000$$),
  ($$SELECT * FROM TABLE WHERE u <> 5.5$$),
  ($$SELECT * FROM TABLE WHERE u > 9223372036854775806.5$$),
  ($$SELECT * FROM TABLE WHERE time_ns >= 1704200000000000000.5 AND time_ns < 1704210000000000000.0$$),
  ($$SELECT host, count(*) FROM TABLE WHERE u > 90.0 GROUP BY host ORDER BY host$$),
  -- first and last
  ($$SELECT host, tsparquet.first(u, time), tsparquet.last(u, time), tsparquet.last(s, time),
            tsparquet.first(f, time), tsparquet.last(region, time) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('hour', time) h, tsparquet.last(f, time) FROM TABLE WHERE host = 'h2' GROUP BY 1 ORDER BY 1$$),
  ($$SELECT tsparquet.first(time, time), tsparquet.last(b, time) FROM TABLE WHERE host = 'nobody'$$),
  ($$SELECT host, tsparquet.first(u, time) FROM TABLE GROUP BY host HAVING tsparquet.last(u, time) > 100 ORDER BY 2 DESC LIMIT 3$$),
  ($$SELECT host, tsparquet.first(u, time ORDER BY u) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, tsparquet.last(u, time + interval '1 day') FROM TABLE GROUP BY host ORDER BY host$$),
  -- the latest or earliest row per series
  ($$SELECT DISTINCT ON (host) * FROM TABLE ORDER BY host, time DESC$$),
  ($$SELECT DISTINCT ON (host, region) host, region, u, s, time FROM TABLE WHERE time < '2024-01-03' ORDER BY host, region, time$$),
  ($$SELECT DISTINCT ON (host) host, f, time_ns FROM TABLE WHERE u > 0 ORDER BY host, time_ns DESC$$),
  ($$SELECT DISTINCT ON (host) host, time FROM TABLE ORDER BY host, time DESC LIMIT 3$$),
  ($$SELECT DISTINCT ON (b) b, u FROM TABLE ORDER BY b, u DESC$$),
  ($$SELECT DISTINCT ON (host) host, u + 1 FROM TABLE WHERE host <> 'big' ORDER BY host, time DESC$$),
  ($$SELECT DISTINCT ON (host) host, time > '1900-01-01' FROM TABLE ORDER BY host$$),
  -- distinct values, as Grafana's variable queries ask for them
  ($$SELECT DISTINCT host FROM TABLE$$),
  ($$SELECT DISTINCT host, region FROM TABLE WHERE host <> 'h1' ORDER BY 1, 2$$),
  ($$SELECT DISTINCT region FROM TABLE WHERE time >= '2024-01-02' ORDER BY region DESC NULLS LAST$$),
  ($$SELECT DISTINCT host FROM TABLE ORDER BY host LIMIT 2$$),
  ($$SELECT DISTINCT b, s FROM TABLE WHERE u > 500 ORDER BY b, s$$),
  ($$SELECT DISTINCT u FROM TABLE WHERE host = 'h3' ORDER BY u$$),
  ($$SELECT DISTINCT date_bin('6 hours', time, '2024-01-01') FROM TABLE ORDER BY 1$$),
  ($$SELECT DISTINCT host, 'x' AS label FROM TABLE ORDER BY host$$),
  ($$SELECT DISTINCT 'x' AS label, now() > '2000-01-01' FROM TABLE$$),
  ($$SELECT DISTINCT 'x' AS label FROM TABLE WHERE host = 'nobody'$$),
  ($$SELECT count(*) FROM (SELECT DISTINCT host, random() > 2 FROM TABLE) d$$),
  ($$SELECT DISTINCT host, host AS again FROM TABLE ORDER BY host$$),
  ($$SELECT DISTINCT f FROM TABLE ORDER BY f$$),
  ($$SELECT DISTINCT upper(host) FROM TABLE ORDER BY 1$$),
  ($$SELECT DISTINCT host FROM TABLE WHERE s LIKE 'v%' ORDER BY 1$$),
  ($$SELECT count(*) FROM (SELECT DISTINCT host, region FROM TABLE) d$$),
  -- a key grouped by twice, as Grafana asks for a variable's text and value
  ($$SELECT host AS __text, host AS __value FROM TABLE GROUP BY 1, 2 ORDER BY 1$$),
  ($$SELECT host AS a, region, host AS b, max(time) FROM TABLE GROUP BY 1, 2, 3 ORDER BY 1, 2$$),
  ($$SELECT t FROM TABLE t ORDER BY time DESC LIMIT 2$$),
  ($$SELECT time, u FROM TABLE ORDER BY time DESC, u LIMIT 9000 OFFSET 1001$$),
  -- times as ISO 8601 (Grafana's $__timeFilter), infinities and dates; a volatile bound
  ($$SELECT * FROM TABLE WHERE time BETWEEN '2024-01-02T00:00:00Z' AND '2024-01-02T06:00:00.5Z'$$),
  ($$SELECT count(*) FROM TABLE WHERE time > '-infinity' AND time < 'infinity'$$),
  ($$SELECT count(*), min(time) FROM TABLE WHERE time >= '2024-01-02'::date$$),
  ($$SELECT count(*) FROM TABLE WHERE time > clock_timestamp() - interval '100 years'$$),
  -- one condition alone
  ($$SELECT * FROM TABLE WHERE host <> 'h1'$$),
  ($$SELECT * FROM TABLE WHERE b$$),
  -- two tags, longer buckets, the first and last time per tag
  ($$SELECT host, region, count(*), max(f) FROM TABLE GROUP BY host, region ORDER BY host, region$$),
  ($$SELECT date_trunc('week', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT date_trunc('year', time), date_trunc('quarter', time), count(*) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT tsparquet.time_bucket('1 week', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT tsparquet.time_bucket('3 hours', time), sum(u) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT host, max(time), min(time) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, max(time) FROM TABLE GROUP BY host ORDER BY host$$),
  -- LIKE's single-character wildcard and escapes, ILIKE; widths that TimescaleDB's
  -- default origin (Monday 2000-01-03) decides
  ($$SELECT * FROM TABLE WHERE host LIKE 'h_' AND s LIKE 'v\2%'$$),
  ($$SELECT count(*) FROM TABLE WHERE host LIKE 'h#1' ESCAPE '#' OR host NOT LIKE '_%1'$$),
  ($$SELECT host, count(*) FROM TABLE WHERE host ILIKE 'H1%' GROUP BY host ORDER BY host$$),
  -- regular expressions on tags and string fields, SIMILAR TO (a regular expression once
  -- planned), and in HAVING on a group key
  ($$SELECT * FROM TABLE WHERE host ~ '^h[0-2]$' AND s !~ '1'$$),
  ($$SELECT host, count(*) FROM TABLE WHERE region ~ 'r(1|2)' OR host ~ '^(old|big)$' GROUP BY host ORDER BY host$$),
  ($$SELECT count(*), sum(u) FROM TABLE WHERE host SIMILAR TO 'h(1|3)%' AND s ~ '^v[0-2]?$'$$),
  ($$SELECT host, max(f) FROM TABLE GROUP BY host HAVING host !~ '[0-9]$' ORDER BY 1$$),
  -- calendar and clock fields as group keys (in other time zones below)
  ($$SELECT extract(hour FROM time), count(*), avg(u), max(f) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT date_part('dow', time), host, count(*), sum(u) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  ($$SELECT extract(isodow FROM time) AS d, extract(doy FROM time), min(time) FROM TABLE WHERE u > 0
     GROUP BY 1, 2 HAVING count(*) > 100 ORDER BY 3 DESC LIMIT 3$$),
  ($$SELECT extract(year FROM time), extract(month FROM time), count(*) FROM TABLE GROUP BY 1, 2 ORDER BY 1, 2$$),
  -- and in filters, against whole numbers and decimals, under OR and NOT
  ($$SELECT count(*), sum(u) FROM TABLE WHERE extract(hour FROM time) BETWEEN 9 AND 17$$),
  ($$SELECT host, count(*) FROM TABLE WHERE extract(isodow FROM time) < 6 OR extract(minute FROM time) >= 30.5 GROUP BY 1 ORDER BY 1$$),
  ($$SELECT * FROM TABLE WHERE NOT extract(dow FROM time) = 0 AND 1.5 < extract(doy FROM time) ORDER BY time LIMIT 5$$),
  ($$SELECT tsparquet.time_bucket('3 days', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT tsparquet.time_bucket('90 minutes', time), max(f) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  -- dates against time: midnight in the session's zone; a date past the timestamps' range
  -- is left to Postgres, which compares it without converting it
  ($$SELECT count(*), max(time) FROM TABLE WHERE time < '2024-01-03'::date AND '2024-01-02'::date <= time$$),
  ($$SELECT count(*) FROM TABLE WHERE time < current_date$$),
  ($$SELECT count(*) FROM TABLE WHERE time < '294277-01-01'::date AND time > '-infinity'::date$$),
  -- timestamps without time zone against time: their local time in the session's zone;
  -- one within a day of the timestamps' end is left to Postgres
  ($$SELECT count(*), max(time) FROM TABLE WHERE time >= '2024-01-02 10:00'::timestamp AND time < timestamp '2024-01-03 01:30'$$),
  ($$SELECT count(*) FROM TABLE WHERE time < localtimestamp AND time > '-infinity'::timestamp$$),
  ($$SELECT count(*) FROM TABLE WHERE time < '294276-12-31 12:00'::timestamp AND time > '2024-01-02'::timestamp(0)$$),
  -- FILTER on aggregates: the engine aggregates only the rows meeting each condition;
  -- none, a NULL condition and no rows at all count nothing and give NULL. A distinct
  -- count per group beside a filtered aggregate is left to PostgreSQL
  ($$SELECT host, count(*) FILTER (WHERE u > 500), sum(u) FILTER (WHERE region = 'r1'),
            avg(u) FILTER (WHERE s IS NULL), avg(f) FILTER (WHERE NOT b), min(time) FILTER (WHERE u < 0),
            count(*) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT count(*) FILTER (WHERE extra > 0), sum(f) FILTER (WHERE f < 1), max(u) FILTER (WHERE host = 'nobody'),
            sum(u) FILTER (WHERE region = 'r2') FROM TABLE$$),
  ($$SELECT date_trunc('day', time) d, count(u) FILTER (WHERE u > 0), count(u) FILTER (WHERE u <= 0),
            max(f) FILTER (WHERE f < 'NaN') FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT host, tsparquet.last(u, time) FILTER (WHERE b), tsparquet.first(s, time) FILTER (WHERE u > 300),
            max(time) FILTER (WHERE b) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, count(*) FILTER (WHERE b) AS n FROM TABLE GROUP BY host ORDER BY n DESC, host LIMIT 3$$),
  ($$SELECT host, count(DISTINCT s), count(*) FILTER (WHERE b) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT count(DISTINCT s) FILTER (WHERE b), count(DISTINCT host) FILTER (WHERE u > 900) FROM TABLE$$),
  -- expressions over aggregates and group keys, which PostgreSQL computes from the pushed
  -- aggregates, as a dashboard writes them
  ($$SELECT host, round(avg(u)::numeric, 2), max(f) - min(f), sum(u) / nullif(count(u), 0),
            upper(host) || ':' || count(*) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('hour', time) + interval '30 minutes' AS mid, round(avg(f)::numeric, 3) AS f
     FROM TABLE WHERE host = 'h2' GROUP BY date_trunc('hour', time) ORDER BY 1$$),
  ($$SELECT extract(epoch FROM date_trunc('day', time)) * 1000 AS t, coalesce(max(extra), -1) FROM TABLE GROUP BY date_trunc('day', time) ORDER BY 1$$),
  ($$SELECT host, 100.0 * count(*) FILTER (WHERE u > 500) / count(*) AS busy FROM TABLE GROUP BY host ORDER BY host LIMIT 3$$),
  ($$SELECT date_trunc('hour', time) h, max(f) * 2 FROM TABLE GROUP BY 1 ORDER BY 1 DESC LIMIT 4$$),
  -- HAVING conditions the engine cannot check, checked by PostgreSQL on the pushed groups;
  -- then no limit is pushed, which would come before them
  ($$SELECT host, avg(u) FROM TABLE GROUP BY host HAVING avg(u) > 200 ORDER BY host$$),
  ($$SELECT host, count(*) FROM TABLE GROUP BY host HAVING count(*) > 10 AND max(u) % 2 = 0 ORDER BY host$$),
  ($$SELECT host, max(u) FROM TABLE GROUP BY host HAVING avg(u) > 0 AND max(u) > 100 ORDER BY 2 DESC LIMIT 2$$),
  -- expressions over the columns of pushed rows
  ($$SELECT time, u * 2, s || '!' FROM TABLE WHERE host = 'h3' ORDER BY time DESC LIMIT 4$$),
  ($$SELECT upper(host), time FROM TABLE ORDER BY time LIMIT 3$$),
  -- two columns of one type compared (floats in PostgreSQL's order, NaN equal to itself);
  -- an integer against a float is compared as floats by PostgreSQL, and stays with it
  ($$SELECT * FROM TABLE WHERE u > extra OR extra >= u$$),
  ($$SELECT host, count(*) FILTER (WHERE time_ns < u), count(*) FILTER (WHERE f = f) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT * FROM TABLE WHERE host = region OR s <> host$$),
  ($$SELECT count(*) FROM TABLE WHERE b = b OR time > time$$),
  ($$SELECT host, max(f), min(f) FROM TABLE GROUP BY host HAVING max(f) > min(f) AND max(u) <> min(u) ORDER BY host$$),
  ($$SELECT count(*) FROM TABLE WHERE u > f$$),
  -- arithmetic inside aggregates, computed by the engine as PostgreSQL computes it: bigint
  -- (divisions truncated toward zero) and double precision, an integer made a float, NULLs,
  -- NaN, infinities and -0; count of a constant counts the rows
  ($$SELECT host, sum(u * 2 - extra), avg(u + 1), min(-u), max(u / 3), count(u - extra), sum(7 - u)
     FROM TABLE WHERE host <> 'big' GROUP BY host ORDER BY host$$),
  ($$SELECT host, sum(f * 4 + 1), avg(f / 2), min(-f), max(f - 0.5), avg(f + u), max(f * 0) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('day', time) d, max(u::float8 / 1000), sum(f * -1), min(-(f + 1)) FROM TABLE
     WHERE host <> 'big' GROUP BY 1 ORDER BY 1$$),
  ($$SELECT count(1), count(f / 3), avg(u - 7), sum(u / 2) FROM TABLE WHERE host <> 'big'$$),
  ($$SELECT host, max(u * 10) AS m FROM TABLE WHERE host <> 'big' GROUP BY host ORDER BY m DESC LIMIT 2$$),
  ($$SELECT host, sum(-f) FILTER (WHERE u > 0), min(u::float8) FILTER (WHERE b) FROM TABLE GROUP BY host ORDER BY host$$),
  -- variance and standard deviation: of floats from the sums PostgreSQL keeps (NaN and
  -- infinities give NaN), of integers as exact numerics with PostgreSQL's scale (near the
  -- bigint limit too), with FILTER, HAVING and a limit over float results; beside a
  -- count(DISTINCT) per group PostgreSQL groups
  ($$SELECT host, stddev(u), variance(u), stddev_pop(u), var_pop(u), stddev_samp(f), var_samp(f), var_pop(f)
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('hour', time) h, stddev(u - extra), var_pop(f * 2), stddev_pop(u / 7) FROM TABLE
     WHERE host <> 'big' GROUP BY 1 ORDER BY 1$$),
  ($$SELECT stddev(u), var_samp(f), stddev_pop(f), variance(u) FROM TABLE WHERE host <> 'special'$$),
  ($$SELECT stddev(u), var_pop(f) FROM TABLE WHERE host = 'nobody'$$),
  ($$SELECT host, stddev(u) FILTER (WHERE b), var_pop(f) FILTER (WHERE u > 0) FROM TABLE
     GROUP BY host HAVING stddev(f) > 1 ORDER BY host$$),
  ($$SELECT host, stddev(f) FROM TABLE WHERE host <> 'special' GROUP BY host ORDER BY 2 DESC LIMIT 2$$),
  ($$SELECT host, variance(u) FROM TABLE GROUP BY host HAVING variance(u) > 1000 ORDER BY 2 LIMIT 2$$),
  ($$SELECT host, count(DISTINCT s), stddev(u) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, stddev(f) FROM TABLE GROUP BY host ORDER BY 2 DESC NULLS LAST, 1 LIMIT 3$$),
  -- min and max of text, which this database's collation (C.UTF-8) compares by its bytes,
  -- as the engine does; under another collation PostgreSQL aggregates
  ($$SELECT host, min(s), max(s), min(region), max(region) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT region, min(host), max(host), count(*) FROM TABLE GROUP BY region ORDER BY region$$),
  ($$SELECT min(s), max(host) FROM TABLE WHERE host <> 'nobody'$$),
  ($$SELECT min(s) FILTER (WHERE b), max(region) FROM TABLE WHERE host = 'nobody'$$),
  ($$SELECT host, max(s) FROM TABLE GROUP BY host ORDER BY 2 DESC, 1 LIMIT 2$$),
  ($$SELECT host, max(s COLLATE "und-x-icu") FROM TABLE GROUP BY host ORDER BY host$$),
  -- bool_and, every and bool_or of a boolean field: NULLs ignored, none gives NULL; beside
  -- a count(DISTINCT) per group, in two steps; of a condition, NULL where it is
  ($$SELECT host, bool_and(b), every(b), bool_or(b) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('day', time) d, bool_and(b) FILTER (WHERE u > 500), bool_or(b) FILTER (WHERE s = 'v1')
     FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT bool_and(b), bool_or(b) FROM TABLE WHERE host IN ('nobody', 'special')$$),
  ($$SELECT region, count(DISTINCT host), bool_or(b), bool_and(b) FROM TABLE GROUP BY region ORDER BY region$$),
  ($$SELECT host, bool_or(u > 900) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, bool_and(u > -150), every(NOT (s IN ('v1', NULL))), bool_or(f * 2 > u), bool_and(region LIKE 'r%'),
     bool_or(extra IS NULL) FILTER (WHERE u > 0) FROM TABLE GROUP BY host ORDER BY host$$),
  -- an argument that can raise an error under FILTER: the engine would compute it for rows
  -- the filter leaves out, so PostgreSQL aggregates
  ($$SELECT host, avg(f * u) FILTER (WHERE b) FROM TABLE GROUP BY host ORDER BY host$$),
  -- arithmetic PostgreSQL does in numeric, or over text, stays with it
  ($$SELECT host, sum(u * 1.5), max(length(s) + 1) FROM TABLE GROUP BY host ORDER BY host$$),
  -- rows of a pushed filter whose columns the query does not return: the engine reads them
  -- and returns none, or only those of a condition PostgreSQL checks
  ($$SELECT count(*) FROM TABLE WHERE host = 'h1' AND random() >= 0$$),
  ($$SELECT 1 AS one FROM TABLE WHERE u > 500 AND s = 'v1'$$),
  ($$SELECT time FROM TABLE WHERE host = 'h2' AND region || '' = 'r1' ORDER BY time$$),
  -- comparisons of arithmetic in the filters; under OR, where PostgreSQL computes only what
  -- it needs for its answer, they stay with it
  ($$SELECT * FROM TABLE WHERE host <> 'big' AND u + 100 > 500$$),
  ($$SELECT host, count(*), sum(u) FROM TABLE WHERE f * 4 >= 10 AND u - 1 < 300 GROUP BY host ORDER BY host$$),
  ($$SELECT time, f FROM TABLE WHERE -f < -3.5 AND f / 2 <> 1.875 ORDER BY time$$),
  ($$SELECT host, max(f) FROM TABLE WHERE u::float8 / 3 > 100 GROUP BY host ORDER BY host$$),
  ($$SELECT count(*) FROM TABLE WHERE f * 0 = 0 AND f - f = 0$$),
  ($$SELECT date_trunc('hour', time) h, count(*) FROM TABLE WHERE u * 3 > 2000 AND host <> 'big' GROUP BY 1 ORDER BY 1$$),
  ($$SELECT host, count(*) FROM TABLE WHERE u + extra > f GROUP BY host ORDER BY host$$),
  ($$SELECT * FROM TABLE WHERE f / 2 = 1.5 OR host = 'h1'$$),
  -- CASE, COALESCE, abs and % of integers, in aggregates and filters: a CASE of integer
  -- constants sums to a bigint and has integer extremes, as in PostgreSQL; NaN, infinities
  -- and -0 (abs(-0) is 0); each value computed only for the rows its condition takes, so
  -- the divisions by zero in branches not taken raise nothing
  ($$SELECT host, sum(CASE WHEN u > 500 THEN 1 ELSE 0 END), count(CASE WHEN f > 2 THEN 1 END),
     max(CASE WHEN b THEN u ELSE -u END), min(CASE WHEN s = 'v1' THEN f WHEN s = 'v2' THEN -f END)
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT date_trunc('day', time) d, avg(CASE WHEN u > 0 THEN 1 ELSE 0 END), min(CASE WHEN u > 0 THEN 2 ELSE 1 END),
     max(CASE WHEN u > 0 THEN 2 END), stddev(CASE WHEN b THEN 1 ELSE 0 END) FROM TABLE GROUP BY 1 ORDER BY 1$$),
  ($$SELECT host, sum(coalesce(u, extra, 0)), avg(coalesce(f, 0)), max(coalesce(u, -1)), count(coalesce(u, extra))
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, max(abs(u - 500)), min(abs(f - 2)), sum(abs(-f)), max(abs(f)) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, sum(u % 7), min(u % -3), max((u * 3) % 1000) FROM TABLE WHERE host <> 'big' GROUP BY host ORDER BY host$$),
  ($$SELECT host, sum(CASE WHEN u <> 0 THEN 1000 / u END), max(CASE WHEN f = 0 THEN 0 ELSE 1 / f END),
     max(coalesce(f, 1 / (f - f))) FROM TABLE WHERE host <> 'big' GROUP BY host ORDER BY host$$),
  ($$SELECT host, sum(CASE WHEN u > 500 THEN 1 ELSE 0 END) FILTER (WHERE b), max(abs(f)) FILTER (WHERE u > 0)
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, max(CASE WHEN u > 900 THEN 1 ELSE 0 END) m, sum(CASE WHEN u > 900 THEN 1 ELSE 0 END) n
     FROM TABLE GROUP BY host ORDER BY n DESC, host LIMIT 3$$),
  ($$SELECT * FROM TABLE WHERE u % 3 = 1 AND host <> 'h1'$$),
  ($$SELECT count(*) FROM TABLE WHERE abs(f - 2) < 0.5$$),
  ($$SELECT time, u, extra FROM TABLE WHERE coalesce(u, extra, 0) > 790 ORDER BY time$$),
  ($$SELECT host, count(*) FROM TABLE WHERE CASE WHEN b THEN u ELSE 0 END > 500 GROUP BY host ORDER BY host$$),
  -- CASE of a value, compared with each WHEN's; GREATEST and LEAST, NULLs ignored, floats
  -- in PostgreSQL's order and of equal values the first (greatest(-0, 0) is -0); NULLIF,
  -- -0 equal to 0
  ($$SELECT host, sum(CASE s WHEN 'v1' THEN 1 WHEN 'v2' THEN 2 ELSE 0 END),
     max(CASE u % 3 WHEN 0 THEN u WHEN 1 THEN -u END), count(CASE b WHEN true THEN 1 END),
     sum(CASE u WHEN 100 THEN 2 WHEN -100 THEN 1 END) FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT host, max(greatest(u, extra)), min(least(u, extra, 0)), sum(greatest(f, 1)), max(least(f, -f, NULL))
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT time, max(greatest(f, -f)), min(least(-f, f)), max(greatest(u, NULL)) FROM TABLE
     WHERE host = 'special' GROUP BY time ORDER BY time$$),
  ($$SELECT host, avg(u / nullif(extra, 0)), sum(nullif(u, 0)), count(nullif(f, 0)), max(f / nullif(f, 0))
     FROM TABLE GROUP BY host ORDER BY host$$),
  ($$SELECT count(*) FROM TABLE WHERE greatest(u, extra) > 500$$),
  ($$SELECT host, count(*) FROM TABLE WHERE u / nullif(u - 100, 0) > 1 GROUP BY host ORDER BY host$$),
  -- CASE of numeric, or comparing an integer with a decimal or a float (which casts the
  -- CASE's value), stays with PostgreSQL
  ($$SELECT host, avg(CASE WHEN b THEN 1.0 ELSE 0 END), sum(CASE u WHEN 1.5 THEN 1 ELSE 0 END),
     sum(CASE u WHEN f THEN 1 ELSE 0 END), sum(CASE u WHEN 2::float8 THEN 1 ELSE 0 END)
     FROM TABLE GROUP BY host ORDER BY host$$);

SELECT id, pushed, same FROM queries, pushdown_check(sql) ORDER BY id;
-- These files are small: the session keeps them decoded and filters them in memory. With
-- tsparquet.small_file_cache_size = 0 the Parquet reader reads them, pruning row groups
-- and pages by their statistics and filtering rows as it decodes: the same again.
SET tsparquet.small_file_cache_size = 0;
SELECT count(*) AS queries, count(*) FILTER (WHERE same) AS same
FROM queries, pushdown_check(sql);
RESET tsparquet.small_file_cache_size;

-- time_bucket follows TimescaleDB: buckets from Monday 2000-01-03; widths in months are
-- refused (by date_bin) rather than computed differently.
SELECT tsparquet.time_bucket('1 week', timestamptz '2024-01-03 12:00+00');
SELECT tsparquet.time_bucket('1 month', time) FROM pd.cpu LIMIT 1;

-- date_trunc cuts days at local midnight, which the engine finds from the session's time
-- zone (see the zones below).
SET TimeZone = 'Asia/Kolkata';
SELECT pushed, same FROM pushdown_check($$SELECT date_trunc('day', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$);
SELECT pushed, same FROM pushdown_check($$SELECT host, count(*), max(time) FROM TABLE GROUP BY 1 ORDER BY 1$$);
SET TimeZone = 'America/New_York';
SELECT pushed, same FROM pushdown_check($$SELECT count(*), min(time) FROM TABLE WHERE time >= '2024-01-02'::date$$);
EXPLAIN (COSTS OFF) SELECT count(*) FROM pd.cpu WHERE time >= '2024-01-02'::date;
SELECT pushed, same FROM pushdown_check($$SELECT count(*), min(time) FROM TABLE WHERE time >= '2024-01-02 03:00'::timestamp$$);
EXPLAIN (COSTS OFF) SELECT count(*) FROM pd.cpu WHERE time >= '2024-01-02 03:00'::timestamp;
-- PostgreSQL takes offsets of up to 167 hours, which carry a timestamp's local time
-- further: one within a week of the timestamps' end stays with PostgreSQL.
SET TimeZone = 'XYZ+100';
SELECT pushed, same FROM pushdown_check($$SELECT count(*) FROM TABLE WHERE time < '294276-12-28 12:00'::timestamp$$);
SELECT pushed, same FROM pushdown_check($$SELECT count(*) FROM TABLE WHERE time < '294276-12-10 12:00'::timestamp$$);
SET TimeZone = 'America/New_York';
SELECT pushed, same FROM pushdown_check($$SELECT date_trunc('hour', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$);
SELECT pushed, same FROM pushdown_check($$SELECT date_bin('1 day', time, '2024-01-01'), max(u) FROM TABLE GROUP BY 1 ORDER BY 1$$);
-- Hours, minutes and seconds are cut in local time keeping each value's own offset, as
-- PostgreSQL truncates to them: Asia/Kolkata's hours at half past UTC's.
SET TimeZone = 'Asia/Kolkata';
SELECT pushed, same FROM pushdown_check($$SELECT date_trunc('hour', time), count(*) FROM TABLE GROUP BY 1 ORDER BY 1$$);
SELECT pushed, same FROM pushdown_check($$SELECT date_trunc('minute', time), max(u) FROM TABLE GROUP BY 1 ORDER BY 1$$);
-- Europe/Berlin: the hour repeated when clocks go back is two hours, as in PostgreSQL.
SELECT written FROM tsparquet.write_lp('zones', (SELECT string_agg(
  format('m,host=a u=%si %s', i, 1698537600 + i * 600), E'\n') FROM generate_series(0, 36) i), 's');
CREATE TABLE zones_heap AS SELECT * FROM zones.m;
SET TimeZone = 'Europe/Berlin';
EXPLAIN (COSTS OFF) SELECT date_trunc('hour', time), count(*), sum(u) FROM zones.m GROUP BY 1;
SELECT date_trunc('hour', time), count(*), sum(u) FROM zones.m GROUP BY 1 ORDER BY 1;
SELECT date_trunc('hour', time), count(*), sum(u) FROM zones_heap GROUP BY 1 ORDER BY 1;
-- A point of 1890, when Berlin was 0:53:28 ahead of UTC: its minute and hour start at
-- 28 seconds past UTC's.
SELECT written FROM tsparquet.write_lp('zones', 'm,host=a u=100i -2524521570', 's');
INSERT INTO zones_heap SELECT * FROM zones.m WHERE u = 100;
EXPLAIN (COSTS OFF) SELECT date_trunc('minute', time), count(*) FROM zones.m GROUP BY 1;
EXPLAIN (COSTS OFF) SELECT date_trunc('second', time), count(*) FROM zones.m GROUP BY 1;
SELECT date_trunc('minute', time), count(*) FROM zones.m WHERE u >= 100 GROUP BY 1;
SELECT date_trunc('minute', time), count(*) FROM zones_heap WHERE u >= 100 GROUP BY 1;
SELECT count(*) AS differing FROM (
  (SELECT date_trunc('second', time), count(*) FROM zones.m GROUP BY 1)
  EXCEPT ALL (SELECT date_trunc('second', time), count(*) FROM zones_heap GROUP BY 1)) d;
DROP SCHEMA zones CASCADE;
DROP TABLE zones_heap;
-- Days, weeks, months, quarters and years start at local midnight, whose offset PostgreSQL
-- finds anew: the engine looks each time's bucket up among those PostgreSQL gives the
-- times of the files read. Minutes and hours are cut in local time, each time keeping its
-- own offset, where the offsets are not whole units (Kolkata's and Chatham's hours, and
-- New York's minutes, 4:56:02 behind UTC before 1883). Every half hour from 2014 to
-- March 2015, and a microsecond before, in zones whose clocks change at midnight
-- (Santiago, Havana, Sao Paulo: a day starting at 01:00, or an hour of the day before
-- repeated after midnight), by half an hour (Lord Howe), at 45 minutes past (Chatham),
-- once for good (Moscow, October 2014), never (Kolkata); and points of 1870 to 1890,
-- before New York and Berlin kept standard time.
SELECT sum(written) AS written FROM (
  SELECT (tsparquet.write_lp('zones', string_agg(format('m,host=a u=%si %s', i,
            (extract(epoch FROM t) * 1000000)::bigint - i % 2), E'\n'), 'us')).written
  FROM (SELECT row_number() OVER () AS i, t
        FROM generate_series(timestamptz '2014-01-01 00:00+00', '2015-03-31', '30 min') t,
             generate_series(1, 2)) points
  GROUP BY date_trunc('month', t)) months;
SELECT written FROM tsparquet.write_lp('zones',
  E'm,host=b u=1i -2524521570\nm,host=b u=2i -2800000000\nm,host=b u=3i -3155760000', 's');
CREATE TABLE zones_heap AS SELECT * FROM zones.m;
-- Each bucket is checked in the session's time zone (date_trunc(unit, time)), as
-- date_trunc(unit, time, zone), as date_trunc(unit, time AT TIME ZONE zone), whose
-- buckets are local times without zone, and as that AT TIME ZONE zone again, the way to a
-- local day's start written before date_trunc took a zone, in a session in another zone.
CREATE FUNCTION local_buckets_check(zone text, unit text, form text,
  OUT pushed boolean, OUT groups bigint, OUT differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  bucket text := CASE form
    WHEN 'session' THEN format('date_trunc(%L, time)', unit)
    WHEN 'named' THEN format('date_trunc(%L, time, %L)', unit, zone)
    WHEN 'wall clock' THEN format('date_trunc(%L, time AT TIME ZONE %L)', unit, zone)
    ELSE format('date_trunc(%1$L, time AT TIME ZONE %2$L) AT TIME ZONE %2$L', unit, zone) END;
  query text := format('SELECT %s, count(*), min(time), max(time), sum(u) FROM %%s GROUP BY 1',
                       bucket);
BEGIN
  PERFORM set_config('TimeZone', CASE form WHEN 'session' THEN zone ELSE 'Asia/Tokyo' END, true);
  pushed := false;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(query, 'zones.m') LOOP
    pushed := pushed OR line ~ 'Pushed Group Key: \(?date_trunc';
  END LOOP;
  EXECUTE format('SELECT count(*) FROM (%s) g', format(query, 'zones.m')) INTO groups;
  EXECUTE format('SELECT count(*) FROM ((%1$s EXCEPT ALL %2$s) UNION ALL (%2$s EXCEPT ALL %1$s)) d',
                 format(query, 'zones.m'), format(query, 'zones_heap')) INTO differing;
END $$;
BEGIN;
SELECT zone, unit, form, c.*
FROM unnest(ARRAY['America/New_York', 'America/Santiago', 'America/Havana', 'America/Sao_Paulo',
                  'Australia/Lord_Howe', 'Pacific/Chatham', 'Europe/Moscow', 'Asia/Kolkata',
                  'EST']) zone,
     unnest(ARRAY['minute', 'hour', 'day', 'week', 'month', 'quarter', 'year']) unit,
     unnest(ARRAY['session', 'named', 'wall clock', 'wall clock back']) form,
     local_buckets_check(zone, unit, form) c
WHERE form = 'session' OR unit IN ('hour', 'day', 'month');
-- 'MSK' in AT TIME ZONE stands for Europe/Moscow's offset at each time as its own
-- abbreviation rules find it: PostgreSQL keeps that grouping.
SELECT pushed, differing FROM local_buckets_check('MSK', 'day', 'wall clock');
COMMIT;
-- Calendar and clock fields as group keys, of each time's local time: extract (a numeric)
-- and date_part (a double precision) in the session's time zone, and extract of time AT
-- TIME ZONE zone in a session in another zone; and extract in a filter, of the scan or of an
-- aggregate. Each form's checks, those pushed down, and the rows differing from the heap
-- table's.
CREATE FUNCTION date_part_check(zone text, field text, form text,
  OUT pushed boolean, OUT differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  part text := CASE form
    WHEN 'extract' THEN format('extract(%s FROM time)', field)
    WHEN 'date_part' THEN format('date_part(%L, time)', field)
    ELSE format('extract(%s FROM time AT TIME ZONE %L)', field, zone) END;
  query text := CASE form
    WHEN 'filter' THEN format('SELECT count(*), min(time), max(time), sum(u) FROM %%s WHERE '
                              'extract(%s FROM time) BETWEEN 1 AND 3.5', field)
    WHEN 'aggregate filter' THEN format('SELECT count(*) FILTER (WHERE extract(%s FROM time) '
                                        'BETWEEN 1 AND 3.5), max(u) FROM %%s', field)
    ELSE format('SELECT %s, count(*), min(time), max(time), sum(u) FROM %%s GROUP BY 1', part) END;
BEGIN
  PERFORM set_config('TimeZone', CASE form WHEN 'wall clock' THEN 'Asia/Tokyo' ELSE zone END, true);
  pushed := false;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(query, 'zones.m') LOOP
    pushed := pushed OR line ~ 'Pushed (Group Key|Filter|Aggregates): .*(EXTRACT|date_part)';
  END LOOP;
  EXECUTE format('SELECT count(*) FROM ((%1$s EXCEPT ALL %2$s) UNION ALL (%2$s EXCEPT ALL %1$s)) d',
                 format(query, 'zones.m'), format(query, 'zones_heap')) INTO differing;
END $$;
BEGIN;
SELECT form, count(*) AS checks, count(*) FILTER (WHERE pushed) AS pushed,
       sum(differing) AS differing
FROM unnest(ARRAY['UTC', 'America/New_York', 'America/Santiago', 'America/Havana',
                  'America/Sao_Paulo', 'Australia/Lord_Howe', 'Pacific/Chatham',
                  'Europe/Moscow', 'Asia/Kolkata', 'EST']) zone,
     unnest(ARRAY['minute', 'hour', 'day', 'dow', 'isodow', 'doy', 'week', 'month', 'quarter',
                  'year', 'isoyear', 'decade', 'century', 'millennium']) field,
     unnest(ARRAY['extract', 'date_part', 'wall clock', 'filter', 'aggregate filter']) form,
     date_part_check(zone, field, form) c
WHERE form = 'extract' OR field IN ('minute', 'hour', 'dow', 'month')
GROUP BY form ORDER BY form;
-- Left to PostgreSQL: fields with fractions, and an abbreviation of a zone's changing
-- offsets in AT TIME ZONE.
SELECT field, c.* FROM unnest(ARRAY['second', 'epoch', 'julian']) field,
  date_part_check('Asia/Kolkata', field, 'extract') c;
SELECT pushed, differing FROM date_part_check('MSK', 'hour', 'wall clock');
COMMIT;
DROP FUNCTION date_part_check;
-- Times near the latest the engine holds, whose local time east of UTC it could not hold,
-- leave fields of local time to PostgreSQL.
SELECT written FROM tsparquet.write_lp('late', 'm,h=a v=1i 9223358400' || E'\n' ||
  (SELECT string_agg(format('m,h=a v=%si %s', i, 1704067200 + i * 3600), E'\n')
   FROM generate_series(1, 200) i), 's');
SET TimeZone = 'Asia/Tokyo';
EXPLAIN (COSTS OFF) SELECT extract(day FROM time), count(*) FROM late.m GROUP BY 1;
SELECT extract(day FROM time), count(*) FROM late.m GROUP BY 1 ORDER BY 1;
SELECT date_trunc('day', time AT TIME ZONE 'Asia/Tokyo'), count(*) FROM late.m GROUP BY 1 ORDER BY 1 DESC LIMIT 2;
SET TimeZone = 'UTC';
EXPLAIN (COSTS OFF) SELECT extract(day FROM time), count(*) FROM late.m GROUP BY 1;
SELECT extract(day FROM time), count(*) FROM late.m GROUP BY 1 ORDER BY 1;
DROP SCHEMA late CASCADE;
-- Ordered, limited and filtered by the engine: the weeks not of 7 times 24 hours (the
-- last is cut short by the data's end) when clocks change.
SET TimeZone = 'America/Havana';
EXPLAIN (COSTS OFF) SELECT date_trunc('week', time), count(*) FROM zones.m GROUP BY 1
HAVING count(*) <> 7 * 24 * 4 ORDER BY 1 DESC LIMIT 4;
SELECT date_trunc('week', time), count(*) FROM zones.m GROUP BY 1
HAVING count(*) <> 7 * 24 * 4 ORDER BY 1 DESC LIMIT 4;
SELECT date_trunc('week', time), count(*) FROM zones_heap GROUP BY 1
HAVING count(*) <> 7 * 24 * 4 ORDER BY 1 DESC LIMIT 4;
SET TimeZone = 'America/Sao_Paulo';
EXPLAIN (VERBOSE, COSTS OFF) SELECT date_trunc('day', time), count(*) FROM zones.m GROUP BY 1;
SELECT date_trunc('day', time), count(*), min(time), max(time) FROM zones.m
WHERE time BETWEEN '2014-10-18 22:00-03' AND '2014-10-19 02:00-02' GROUP BY 1 ORDER BY 1;
SET TimeZone = 'America/Santiago';
SELECT date_trunc('day', time), count(*), min(time), max(time) FROM zones.m
WHERE time BETWEEN '2014-04-26 22:00-03' AND '2014-04-27 01:00-04' GROUP BY 1 ORDER BY 1;
DROP FUNCTION local_buckets_check;
DROP SCHEMA zones CASCADE;
DROP TABLE zones_heap;
RESET TimeZone;
SET TimeZone = 'UTC';
-- A plan made in UTC that pushed date_trunc down is made anew once the time zone changes,
-- however it changes: the days then end at local midnight, as in the heap table.
SET plan_cache_mode = force_generic_plan;
PREPARE per_day AS SELECT date_trunc('day', time), count(*) FROM pd.cpu GROUP BY 1 ORDER BY 1;
PREPARE heap_per_day AS SELECT date_trunc('day', time), count(*) FROM heap_cpu GROUP BY 1 ORDER BY 1;
EXPLAIN (COSTS OFF) EXECUTE per_day;
EXECUTE per_day;
SET TimeZone = 'Asia/Kolkata';
EXPLAIN (COSTS OFF) EXECUTE per_day;
EXECUTE per_day;
EXECUTE heap_per_day;
SELECT set_config('TimeZone', 'UTC', false);
EXECUTE per_day;
SELECT set_config('TimeZone', 'Asia/Kolkata', false);
EXECUTE per_day;
-- SET LOCAL ends with its transaction, and the plan made inside it with it.
BEGIN;
SET LOCAL TimeZone = 'UTC';
EXECUTE per_day;
COMMIT;
SHOW TimeZone;
EXECUTE per_day;
SET TimeZone = 'UTC';
EXECUTE per_day;
DEALLOCATE per_day;
DEALLOCATE heap_per_day;
RESET plan_cache_mode;
-- A cursor declared in one time zone and fetched in another would give the buckets of the
-- first: it is refused.
SET TimeZone = 'Europe/Berlin';
BEGIN;
DECLARE zoned CURSOR FOR SELECT date_trunc('hour', time), count(*) FROM pd.cpu GROUP BY 1 ORDER BY 1;
SET TimeZone = 'Asia/Kolkata';
FETCH 1 FROM zoned;
ROLLBACK;
SET TimeZone = 'UTC';

-- Query parameters of a generic plan, evaluated at each execution.
SET plan_cache_mode = force_generic_plan;
PREPARE per_host(text[], bigint) AS
  SELECT host, count(*), sum(u) FROM pd.cpu WHERE host = ANY ($1) AND u > $2 GROUP BY host ORDER BY host;
EXPLAIN (COSTS OFF) EXECUTE per_host('{h1,h2}', 0);
EXECUTE per_host('{h1,h2}', 0);
SELECT host, count(*), sum(u) FROM heap_cpu WHERE host = ANY ('{h1,h2}') AND u > 0 GROUP BY host ORDER BY host;
EXECUTE per_host('{h3}', 500);
SELECT host, count(*), sum(u) FROM heap_cpu WHERE host = ANY ('{h3}') AND u > 500 GROUP BY host ORDER BY host;
DEALLOCATE per_host;
RESET plan_cache_mode;

-- Correlated parameters: each rescan runs the query again with new values.
SELECT h.host, (SELECT count(*) FROM pd.cpu c WHERE c.host = h.host AND c.u > 900) AS tsparquet,
       (SELECT count(*) FROM heap_cpu c WHERE c.host = h.host AND c.u > 900) AS heap
FROM (VALUES ('h0'), ('h1'), ('big'), ('none')) h(host) ORDER BY 1;

-- What EXPLAIN shows.
EXPLAIN (COSTS OFF)
SELECT date_trunc('minute', time) AS minute, max(u) FROM pd.cpu
WHERE host IN ('h1', 'h2') AND time >= '2024-01-02' AND time < '2024-01-02 01:00'
GROUP BY minute ORDER BY minute;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, avg(u) FROM pd.cpu WHERE time >= now() - interval '1 hour' GROUP BY host;
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu WHERE host = 'h1' ORDER BY time DESC LIMIT 3;
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu WHERE host = 'h1' ORDER BY time;
EXPLAIN (COSTS OFF) SELECT host, time, u - lag(u) OVER (PARTITION BY host ORDER BY time) FROM pd.cpu;
EXPLAIN (COSTS OFF)
SELECT host, max(u) FROM pd.cpu GROUP BY host ORDER BY 2 DESC NULLS LAST LIMIT 3 OFFSET 1;
EXPLAIN (COSTS OFF)
SELECT host, max(u) FROM pd.cpu GROUP BY host HAVING count(*) > 600 AND max(f) > 3 ORDER BY host;
EXPLAIN (COSTS OFF) SELECT DISTINCT ON (host) * FROM pd.cpu ORDER BY host, time DESC;
EXPLAIN (COSTS OFF) SELECT DISTINCT host FROM pd.cpu WHERE time >= '2024-01-02' ORDER BY host;
-- Filtered aggregates are pushed; an expression over aggregates is computed by PostgreSQL
-- from the scan's groups, and a HAVING condition the engine cannot check (an average of
-- integers, which PostgreSQL divides itself) is the scan's Filter.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, round(avg(u)::numeric, 1), count(*) FILTER (WHERE b AND f > 1) FROM pd.cpu
GROUP BY host HAVING avg(u) > 100 AND count(*) > 1;
-- The values of a CASE have its type in the plan EXPLAIN describes before the query's
-- parameters (here its constants) are known.
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, sum(CASE WHEN u > 500 THEN 1 ELSE 0 END), max(coalesce(f, -1)) FROM pd.cpu GROUP BY host;

-- What cannot be pushed down stays with Postgres.
EXPLAIN (COSTS OFF) SELECT * FROM pd.cpu WHERE u > 700 AND f > 2 AND f::real < 3;

-- tsparquet.enable_pushdown = off gives the plain scan, with the same results.
SET tsparquet.enable_pushdown = off;
EXPLAIN (COSTS OFF) SELECT host, max(u) FROM pd.cpu WHERE host = 'h1' GROUP BY host;
SELECT pushed, same FROM pushdown_check($$SELECT host, max(u), sum(u) FROM TABLE WHERE u > 0 GROUP BY host ORDER BY host$$);
RESET tsparquet.enable_pushdown;

-- A column only a pushed-down filter uses is read by the engine, not returned: host is
-- in the scan's projection and not in the plan's result.
EXPLAIN (VERBOSE, COSTS OFF) SELECT time FROM pd.cpu WHERE host = 'h2';

-- Arithmetic inside pushed-down aggregates raises PostgreSQL's errors, for the same rows
-- as over the heap: bigint out of range, division by zero, a float's overflow and underflow.
CREATE FUNCTION error_of(query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE query;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION error_check(query text, OUT pushed text, OUT tsparquet_error text, OUT same boolean)
LANGUAGE plpgsql AS $$
BEGIN
  pushed := pushed_parts(query);
  tsparquet_error := error_of(replace(query, 'TABLE', 'pd.cpu'));
  same := tsparquet_error = error_of(replace(query, 'TABLE', 'heap_cpu'));
END $$;
SELECT q, e.* FROM (VALUES
  ($$SELECT sum(u + 1) FROM TABLE$$),
  ($$SELECT host, avg(-u - 2) FROM TABLE GROUP BY host$$),
  ($$SELECT max(u * 2) FROM TABLE WHERE host = 'h1'$$),
  ($$SELECT date_trunc('day', time), max(u / (u - u)) FROM TABLE GROUP BY 1$$),
  ($$SELECT min(f / (u - u)) FROM TABLE WHERE host = 'special'$$),
  ($$SELECT sum(f / (f - f)) FROM TABLE WHERE host = 'special'$$),
  ($$SELECT sum(f / (f - f)) FROM TABLE WHERE host = 'h1'$$),
  ($$SELECT max(f * 1e308 * 10) FROM TABLE$$),
  ($$SELECT max(f * 1e-300 / 1e300) FROM TABLE WHERE host <> 'special'$$),
  ($$SELECT host, var_samp(f * 1e200) FROM TABLE WHERE host <> 'special' GROUP BY host$$),
  -- a filter's arithmetic raises only for the rows the filters PostgreSQL checks before it
  -- keep: by their cost, the cheaper host comparison first, whatever their written order
  ($$SELECT count(*) FROM TABLE WHERE u * 3 > 2000$$),
  ($$SELECT count(*) FROM TABLE WHERE u * 3 > 2000 AND host <> 'big'$$),
  ($$SELECT host, count(*) FROM TABLE WHERE u / (u - u) > 0 AND host = 'nobody' GROUP BY host$$),
  ($$SELECT count(*) FROM TABLE WHERE f / (f - f) > 0 AND host = 'special'$$),
  ($$SELECT count(*) FROM TABLE WHERE f > 3 AND u::float8 / (f - f) > 0$$),
  -- two of them in PostgreSQL's order, whatever their written one: the division (three
  -- operators) after the doubling (two), which is false for the rows where u = 5
  ($$SELECT count(*) FROM TABLE WHERE u / (u - 5) > 0 AND u * 2 > 100 AND host <> 'big'$$),
  -- % and abs raise PostgreSQL's errors; a CASE or COALESCE computes a value only for the
  -- rows that reach it: a division by zero in the others raises nothing
  ($$SELECT sum(u % (u - u)) FROM TABLE$$),
  ($$SELECT max(abs(-u - 1)) FROM TABLE WHERE host = 'big'$$),
  ($$SELECT sum(CASE WHEN u > 0 THEN u * 2 ELSE 0 END) FROM TABLE$$),
  ($$SELECT sum(coalesce(extra, u / (u - u))) FROM TABLE$$),
  ($$SELECT sum(CASE WHEN u <> 0 THEN 1000 / u END) FROM TABLE$$),
  ($$SELECT count(*) FROM TABLE WHERE CASE WHEN u = 0 THEN 0 ELSE 1000 / u END > 5$$),
  ($$SELECT sum(CASE u WHEN 0 THEN 0 ELSE 1000 / u END) FROM TABLE$$),
  -- every value of GREATEST and NULLIF is computed
  ($$SELECT max(greatest(u, u / (u - u))) FROM TABLE$$),
  ($$SELECT sum(nullif(u, u / (u - u))) FROM TABLE$$),
  -- a CASE compared with a constant keeps its later conditions for the rows the earlier
  -- ones do not take
  ($$SELECT host, bool_or(CASE WHEN u = 0 THEN 0 WHEN 100 / u > 5 THEN 1 ELSE 0 END = 1) FROM TABLE GROUP BY host$$),
  ($$SELECT count(*) FROM TABLE WHERE CASE WHEN u = 0 THEN 0 WHEN 100 / u > 5 THEN 1 ELSE 0 END = 1$$),
  -- a LIKE pattern ending in its escape character raises only where PostgreSQL matches it:
  -- under FILTER, for no row here
  ($$SELECT region, bool_or(host LIKE 'h\') FILTER (WHERE host = 'nobody') FROM TABLE GROUP BY region$$)) v(q),
  error_check(q) e;

-- A value PostgreSQL computes only for the rows a CASE or COALESCE takes is not made a
-- parameter computed when the scan starts: under a generic plan, `100 / $1` inside the
-- CASE is left to PostgreSQL with its CASE, and raises nothing for $1 = 0.
SET plan_cache_mode = force_generic_plan;
PREPARE guarded(bigint) AS
  SELECT host, sum(CASE WHEN $1 = 0 THEN 0 ELSE u * (100 / $1) END) FROM pd.cpu GROUP BY host ORDER BY host;
PREPARE guarded_heap(bigint) AS
  SELECT host, sum(CASE WHEN $1 = 0 THEN 0 ELSE u * (100 / $1) END) FROM heap_cpu GROUP BY host ORDER BY host;
EXPLAIN (COSTS OFF) EXECUTE guarded(0);
EXECUTE guarded(0);
EXECUTE guarded_heap(0);
PREPARE coalesced(bigint) AS SELECT count(*) FROM pd.cpu WHERE host = 'big' AND coalesce(u, 10 / $1) > 5;
PREPARE coalesced_heap(bigint) AS SELECT count(*) FROM heap_cpu WHERE host = 'big' AND coalesce(u, 10 / $1) > 5;
EXPLAIN (COSTS OFF) EXECUTE coalesced(0);
EXECUTE coalesced(0);
EXECUTE coalesced_heap(0);
-- A condition left to PostgreSQL leaves no parameter for the scan to compute: `10 / $1`
-- is computed by PostgreSQL only for the rows of host 'nobody', of which there are none.
PREPARE unpushed(bigint) AS SELECT count(*) FROM pd.cpu WHERE host = 'nobody' AND (u > 10 / $1 OR s ~* 'x');
EXPLAIN (COSTS OFF) EXECUTE unpushed(0);
EXECUTE unpushed(0);
RESET plan_cache_mode;

-- Arithmetic over pushed-down groups is Postgres' own: a bigint overflow raises its error
-- (22003), as over the heap, while sums of bigints are exact numerics.
EXPLAIN (COSTS OFF)
  SELECT host, top + 1 FROM (SELECT host, max(u) AS top FROM pd.cpu GROUP BY host) g WHERE host = 'big';
\set VERBOSITY sqlstate
SELECT host, top + 1 FROM (SELECT host, max(u) AS top FROM pd.cpu GROUP BY host) g WHERE host = 'big';
SELECT host, top + 1 FROM (SELECT host, max(u) AS top FROM heap_cpu GROUP BY host) g WHERE host = 'big';
\set VERBOSITY default
SELECT host, sum(u), avg(u), pg_typeof(sum(u)) FROM pd.cpu WHERE host = 'big' GROUP BY host;

-- A sum of floats overflowing from finite values raises PostgreSQL's error (22003) in the
-- engine as over the heap, and so does an average of values so far apart that the square
-- of their spread, which PostgreSQL keeps beside the sum, overflows. An infinite value
-- makes an infinite sum without error.
SELECT written FROM tsparquet.write_lp('pd', E'huge,host=a v=1e308 1\nhuge,host=a v=1e308 2\n'
  'huge,host=b v=1e308 3\nhuge,host=b v=-1e308 4\nhuge,host=c v=1e308 5\n'
  'huge,host=d v=1e300 6\nhuge,host=d v=1e300 7', 'ns');
INSERT INTO pd.huge (time, host, v) VALUES ('2024-01-01 00:00:00+00', 'c', 'Infinity');
CREATE TABLE heap_huge AS SELECT * FROM pd.huge;
EXPLAIN (COSTS OFF) SELECT host, sum(v) FROM pd.huge GROUP BY host;
\set VERBOSITY sqlstate
SELECT host, sum(v) FROM pd.huge GROUP BY host;
SELECT host, sum(v) FROM heap_huge GROUP BY host;
SELECT avg(v) FROM pd.huge WHERE host = 'a';
SELECT avg(v) FROM heap_huge WHERE host = 'a';
SELECT avg(v) FROM pd.huge WHERE host = 'b';
SELECT avg(v) FROM heap_huge WHERE host = 'b';
\set VERBOSITY default
SELECT sum(v) FROM pd.huge WHERE host = 'a';
SELECT host, sum(v) FROM pd.huge WHERE host <> 'a' GROUP BY host ORDER BY host;
SELECT host, sum(v) FROM heap_huge WHERE host <> 'a' GROUP BY host ORDER BY host;
SELECT host, avg(v) FROM pd.huge WHERE host IN ('c', 'd') GROUP BY host ORDER BY host;
SELECT host, avg(v) FROM heap_huge WHERE host IN ('c', 'd') GROUP BY host ORDER BY host;

-- A time bucket starting before the earliest time the engine holds (1677-09-21 00:12:43
-- UTC, -2^63 ns), as the bucket of a time stored within its width of it does, is left to
-- PostgreSQL, which gives it.
SELECT written FROM
  (SELECT string_agg(format('early,host=a u=%si %s', i, 1704067200000000000 + i::bigint * 1000000000),
     E'\n') AS lines FROM generate_series(0, 99) i) input,
  tsparquet.write_lp('pd', input.lines, 'ns');
EXPLAIN (COSTS OFF) SELECT date_trunc('day', time), count(*) FROM pd.early GROUP BY 1;
INSERT INTO pd.early (time, host, u) VALUES ('1677-09-21 00:12:43.145225+00', 'min', -1);
EXPLAIN (COSTS OFF) SELECT date_trunc('day', time), count(*) FROM pd.early GROUP BY 1;
SELECT date_trunc('day', time), count(*) FROM pd.early GROUP BY 1 ORDER BY 1;
SELECT tsparquet.time_bucket('1 week', time), count(*) FROM pd.early GROUP BY 1 ORDER BY 1;
SELECT floor(extract(epoch from time)/300)*300 AS b, count(*) FROM pd.early GROUP BY 1 ORDER BY 1;
SELECT to_timestamp(floor(extract(epoch from time)/300)*300) AS b, count(*) FROM pd.early GROUP BY 1 ORDER BY 1;
-- Buckets counted from that time start within range: pushed.
EXPLAIN (COSTS OFF)
SELECT date_bin('1 hour', time, '1677-09-21 00:12:43.145225+00'), count(*) FROM pd.early GROUP BY 1;
SELECT date_bin('1 hour', time, '1677-09-21 00:12:43.145225+00'), count(*) FROM pd.early GROUP BY 1
ORDER BY 1;

-- A percentile keeps every value it takes until its group's result, which the engine
-- cannot spill where Postgres' sort does: pushed where the values of every row the query
-- may read fit in work_mem (48 bytes each, for the list that holds them, room to sort the
-- lists should they spill and a copy of one spilled, and 256 kB).
SELECT count(*) FROM pd.cpu;
SET work_mem = '256kB';
EXPLAIN (COSTS OFF) SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM pd.cpu GROUP BY host;
SET work_mem = '512kB';
EXPLAIN (COSTS OFF) SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM pd.cpu GROUP BY host;
-- Two percentiles keep the values twice: the same memory is too little.
EXPLAIN (COSTS OFF) SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f),
  percentile_disc(0.5) WITHIN GROUP (ORDER BY u) FROM pd.cpu GROUP BY host;
-- Constant time bounds limit the rows to those of the UTC days they meet (a third of the
-- table here), which fit at 320kB; bounds computed when the scan starts do not.
SET work_mem = '320kB';
SELECT count(*) FROM pd.cpu WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (COSTS OFF) SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM pd.cpu
WHERE time >= '2024-01-02 06:00' AND time < '2024-01-02 18:00' GROUP BY host;
SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f), percentile_disc(0.9) WITHIN GROUP (ORDER BY u)
FROM pd.cpu WHERE time >= '2024-01-02 06:00' AND time < '2024-01-02 18:00' GROUP BY host ORDER BY host;
SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f), percentile_disc(0.9) WITHIN GROUP (ORDER BY u)
FROM heap_cpu WHERE time >= '2024-01-02 06:00' AND time < '2024-01-02 18:00' GROUP BY host ORDER BY host;
EXPLAIN (COSTS OFF) SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY f) FROM pd.cpu
WHERE time >= now() - (now() - '2024-01-02 06:00') AND time < '2024-01-02 18:00' GROUP BY host;
-- A cached plan keeps the work_mem it was made under, which what it pushed fits in: 50,000
-- values, which 64kB could not hold.
SELECT written FROM tsparquet.write_lp('pd',
  (SELECT string_agg(format('many,part=p%s v=%s %s', i % 2, (i * 7919) % 50021, i), E'\n')
   FROM generate_series(1, 50000) i));
SET work_mem = '4MB';
SET plan_cache_mode = force_generic_plan;
PREPARE medians AS SELECT part, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median
  FROM pd.many GROUP BY part ORDER BY part;
EXPLAIN (COSTS OFF) EXECUTE medians;
SET work_mem = '64kB';
EXPLAIN (COSTS OFF) EXECUTE medians;
EXECUTE medians;
SELECT 'p' || i % 2 AS part, percentile_cont(0.5) WITHIN GROUP (ORDER BY ((i * 7919) % 50021)::float8)
FROM generate_series(1, 50000) i GROUP BY 1 ORDER BY 1;
DEALLOCATE medians;
RESET plan_cache_mode;
RESET work_mem;

-- Arithmetic that may raise stays with PostgreSQL on a plain scan, which computes it only
-- for the rows asked for: the first row meets the condition, and the second, whose sum
-- overflows, is never read under LIMIT 1 or EXISTS. A grouping reads every row.
SELECT written FROM tsparquet.write_lp('pd', E'over,host=a n=1i 1\nover,host=b n=9223372036854775807i 1');
EXPLAIN (COSTS OFF) SELECT host FROM pd.over WHERE n + 1 > 0 LIMIT 1;
SELECT host FROM pd.over WHERE n + 1 > 0 LIMIT 1;
SELECT EXISTS (SELECT 1 FROM pd.over WHERE n + 1 > 0);
SELECT count(*) FROM pd.over WHERE n + 1 > 0;

-- Over a time range holding no stored row, a query that then gives no rows leaves its
-- filter's values uncomputed, as PostgreSQL computes them only for a row that reaches
-- them: a failing sub-query raises nothing. An aggregate without keys, which gives a row
-- even then, still computes them when the scan starts, and raises.
CREATE TABLE zero AS SELECT 0 AS z;
EXPLAIN (COSTS OFF) SELECT * FROM pd.cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero);
SELECT * FROM pd.cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero);
EXPLAIN (COSTS OFF)
SELECT host, count(*) FROM pd.cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero) GROUP BY host;
SELECT host, count(*) FROM pd.cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero) GROUP BY host;
SELECT host, count(*) FROM heap_cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero) GROUP BY host;
\set VERBOSITY sqlstate
SELECT count(*) FROM pd.cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero);
\set VERBOSITY default
SELECT count(*) FROM heap_cpu WHERE time > '2030-01-01' AND u > (SELECT 1/z FROM zero);
DROP TABLE zero;

-- The engine's memory is capped by work_mem: over it, a clear error, and the session goes on.
SET work_mem = '64kB';
\set VERBOSITY terse
SELECT count(*) FROM (SELECT time_ns, s, count(DISTINCT u) FROM pd.cpu GROUP BY time_ns, s) g;
\set VERBOSITY sqlstate
SELECT count(*) FROM (SELECT time_ns, s, count(DISTINCT u) FROM pd.cpu GROUP BY time_ns, s) g;
\set VERBOSITY default
RESET work_mem;
SELECT count(*) FROM (SELECT time_ns, s, count(DISTINCT u) FROM pd.cpu GROUP BY time_ns, s) g;

-- A cursor reads the files its snapshot sees, even when it first reads them after a write
-- of its own transaction.
BEGIN;
DECLARE before_write CURSOR FOR
  SELECT host, count(*) FROM pd.cpu WHERE host = 'h1' GROUP BY host;
SELECT written FROM tsparquet.write_lp('pd', 'cpu,host=h1 u=1i,f=1,b=true 1704067200000000000', 'ns');
FETCH ALL FROM before_write;
SELECT host, count(*) FROM pd.cpu WHERE host = 'h1' GROUP BY host;
ROLLBACK;

-- Files stay in the session's memory between queries. A recreated extension numbers its
-- files from the start again; the cache never serves the old bytes for a new file.
SELECT max(file_id) AS cached_file_id FROM tsparquet.files \gset
SELECT count(*), sum(u) FROM pd.cpu;
DROP EXTENSION tsparquet CASCADE;
CREATE EXTENSION tsparquet;
SELECT setval(pg_get_serial_sequence('tsparquet.files', 'file_id'), :cached_file_id - 1) > 0 AS reused;
SELECT written FROM tsparquet.write_lp('pd', 'cpu,host=h1 u=7i 1704067200000000000', 'ns');
SELECT max(file_id) = :cached_file_id AS same_id FROM tsparquet.files;
SELECT count(*), sum(u) FROM pd.cpu;
SET tsparquet.file_cache_size = 0;
SELECT count(*), sum(u) FROM pd.cpu WHERE host = 'h1';
RESET tsparquet.file_cache_size;

-- Rows tied on the latest time: DISTINCT ON returns one of them whole, never one column
-- of one row and the next column of another (also where a tied row lacks a field).
SELECT written FROM tsparquet.write_lp('ties', E'm,host=a,dc=x usage=1,cnt=10i 1700000000\n'
  'm,host=b,dc=x usage=2 1700000000\nm,host=c,dc=x usage=3,cnt=30i 1700000000\n'
  'm,host=a,dc=x usage=4,cnt=40i 1700000010\nm,host=b,dc=x usage=5 1700000010\n'
  'm,host=c,dc=x usage=6,cnt=6i 1700000010', 's');
CREATE TABLE heap_ties AS SELECT * FROM ties.m;
EXPLAIN (COSTS OFF) SELECT DISTINCT ON (dc) dc, host, usage, cnt, time FROM ties.m ORDER BY dc, time DESC;
SELECT count(*) AS rows, count(*) FILTER (WHERE NOT EXISTS (
    SELECT 1 FROM heap_ties h WHERE (h.dc, h.host, h.usage, h.time) = (d.dc, d.host, d.usage, d.time)
      AND h.cnt IS NOT DISTINCT FROM d.cnt)) AS not_stored
FROM (SELECT DISTINCT ON (dc) dc, host, usage, cnt, time FROM ties.m ORDER BY dc, time DESC) d;
-- Stored times in one microsecond are one PostgreSQL time: the next key orders them.
SELECT written FROM tsparquet.write_lp('ties', E'o,h=a v=2i 1700000000000000000\n'
  'o,h=b v=1i 1700000000000000500', 'ns');
CREATE TABLE heap_o AS SELECT * FROM ties.o;
EXPLAIN (COSTS OFF) SELECT h, v FROM ties.o ORDER BY time, v LIMIT 1;
SELECT h, v FROM ties.o ORDER BY time, v LIMIT 1;
SELECT h, v FROM heap_o ORDER BY time, v LIMIT 1;
-- A LIKE pattern ending in its escape character: PostgreSQL raises 22025 where its
-- matching of a value reaches that end, and the engine matches such a pattern as it does,
-- given as a constant or as a parameter.
EXPLAIN (COSTS OFF) SELECT h FROM ties.o WHERE h LIKE '%\';
\set VERBOSITY sqlstate
SELECT h FROM ties.o WHERE h LIKE '%\';
SELECT h FROM heap_o WHERE h LIKE '%\';
\set VERBOSITY default
SELECT h FROM ties.o WHERE h LIKE '%\';
SELECT h FROM ties.o WHERE h LIKE 'a\';
SELECT h FROM heap_o WHERE h LIKE 'a\';
SELECT h FROM ties.o WHERE h NOT LIKE 'c\' ORDER BY h;
SELECT h FROM heap_o WHERE h NOT LIKE 'c\' ORDER BY h;
-- The same through the Parquet reader, whose row filter wraps the error in its own.
SET tsparquet.small_file_cache_size = 0;
SELECT h FROM ties.o WHERE h LIKE '%\';
SELECT h FROM ties.o WHERE h NOT LIKE 'c\' ORDER BY h;
RESET tsparquet.small_file_cache_size;
PREPARE o_like(text) AS SELECT count(*) FROM ties.o WHERE h LIKE $1;
PREPARE heap_o_like(text) AS SELECT count(*) FROM heap_o WHERE h LIKE $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE o_like('%\');
\set VERBOSITY sqlstate
EXECUTE o_like('%\');
EXECUTE heap_o_like('%\');
\set VERBOSITY default
EXECUTE o_like('c\');
EXECUTE heap_o_like('c\');
EXECUTE o_like('_');
RESET plan_cache_mode;
DEALLOCATE o_like;
DEALLOCATE heap_o_like;
DROP SCHEMA ties CASCADE;
DROP TABLE heap_ties, heap_o;

-- Regular expressions: a pattern the engine reads as PostgreSQL does is pushed down, on
-- tags (each distinct value matched once) and string fields alike; `.` and a negated
-- bracket match a newline, as in PostgreSQL. Patterns whose meaning depends on the
-- collation (`\d`, `[[:digit:]]`, `~*`), a generic plan's parameter and patterns
-- PostgreSQL refuses are left to PostgreSQL, which raises its own error.
SELECT written FROM tsparquet.write_lp('rx',
  E'm,t=a s="x" 1\nm,t=b-1 s="]" 2\nm,t=caf\u00e9 s="x.y" 3\nm s="^" 4', 's');
INSERT INTO rx.m (time, t, s) VALUES ('2000-01-01', 'n', E'a\nb'), ('2000-01-02', 'h_7', E'\n');
CREATE TABLE heap_rx AS SELECT * FROM rx.m;
EXPLAIN (COSTS OFF) SELECT t, s FROM rx.m WHERE t ~ '^caf.$' OR s ~ '^a.b$' ORDER BY t;
SELECT t, s FROM rx.m WHERE t ~ '^caf.$' OR s ~ '^a.b$' ORDER BY t;
SELECT t, s FROM heap_rx WHERE t ~ '^caf.$' OR s ~ '^a.b$' ORDER BY t;
SELECT t FROM rx.m WHERE s ~ '^a[^x]b$';
SELECT t FROM heap_rx WHERE s ~ '^a[^x]b$';
SELECT t, s FROM rx.m WHERE s !~ '^[]x^]' ORDER BY time;
SELECT t, s FROM heap_rx WHERE s !~ '^[]x^]' ORDER BY time;
SELECT t FROM rx.m WHERE t ~ 'b-1|^(?:h_[0-9]{1,2})$' ORDER BY t;
SELECT t FROM heap_rx WHERE t ~ 'b-1|^(?:h_[0-9]{1,2})$' ORDER BY t;
EXPLAIN (COSTS OFF) SELECT t, count(*) FROM rx.m WHERE t SIMILAR TO '(a|b)%' GROUP BY t;
SELECT t, count(*) FROM rx.m WHERE t SIMILAR TO '(a|b)%' GROUP BY t ORDER BY t;
SELECT t, count(*) FROM heap_rx WHERE t SIMILAR TO '(a|b)%' GROUP BY t ORDER BY t;
EXPLAIN (COSTS OFF) SELECT t, count(*) FROM rx.m GROUP BY t HAVING t !~ '^[a-c]';
SELECT t, count(*) FROM rx.m GROUP BY t HAVING t !~ '^[a-c]' ORDER BY t;
SELECT t, count(*) FROM heap_rx GROUP BY t HAVING t !~ '^[a-c]' ORDER BY t;
EXPLAIN (COSTS OFF) SELECT t FROM rx.m WHERE t ~ '\d' OR t ~ '[[:digit:]]' OR t ~* 'CAF';
SELECT t FROM rx.m WHERE t ~ '\d' OR t ~ '[[:digit:]]' OR t ~* 'CAF' ORDER BY t;
SELECT t FROM heap_rx WHERE t ~ '\d' OR t ~ '[[:digit:]]' OR t ~* 'CAF' ORDER BY t;
SELECT t FROM rx.m WHERE t ~ 'a{2,1}';
SELECT t FROM rx.m WHERE t ~ '(';
-- A pattern PostgreSQL finds too complex (the engine's library takes it) stays with
-- PostgreSQL, which raises its error wherever it compiles it, here under FILTER.
EXPLAIN (COSTS OFF) SELECT count(*) FILTER (WHERE t ~ '(a{0,255}){255}') FROM rx.m;
SELECT count(*) FILTER (WHERE t ~ '(a{0,255}){255}') FROM rx.m;
EXPLAIN (COSTS OFF) SELECT count(*) FILTER (WHERE t ~ '(a{0,255}){2}') FROM rx.m;
SELECT count(*) FILTER (WHERE t ~ '(a{0,255}){2}') FROM rx.m;
-- The same through the Parquet reader.
SET tsparquet.small_file_cache_size = 0;
SELECT t, s FROM rx.m WHERE t ~ '^caf.$' OR s ~ '^a.b$' ORDER BY t;
RESET tsparquet.small_file_cache_size;
PREPARE rx_match(text) AS SELECT count(*) FROM rx.m WHERE t ~ $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE rx_match('^[ab]');
EXECUTE rx_match('^[ab]');
RESET plan_cache_mode;
DEALLOCATE rx_match;
DROP SCHEMA rx CASCADE;
DROP TABLE heap_rx;

-- time_ns orders stored times to the nanosecond, where time ties those of one microsecond
-- and the next key decides.
SELECT written FROM tsparquet.write_lp('ns_order',
  E'm,h=x k=1i 1000\nm,h=x k=2i 1999\nm,h=x k=3i 1500\nm,h=y k=4i 2000', 'ns');
CREATE TABLE ns_order_heap AS SELECT * FROM ns_order.m;
EXPLAIN (COSTS OFF) SELECT k, time_ns FROM ns_order.m ORDER BY time_ns DESC, k LIMIT 3;
SELECT k, time_ns FROM ns_order.m ORDER BY time_ns DESC, k LIMIT 3;
SELECT k, time_ns FROM ns_order_heap ORDER BY time_ns DESC, k LIMIT 3;
SELECT k FROM ns_order.m ORDER BY time_ns, k DESC LIMIT 3;
SELECT k FROM ns_order_heap ORDER BY time_ns, k DESC LIMIT 3;
SELECT k FROM ns_order.m ORDER BY time, time_ns DESC, k LIMIT 3;
SELECT k FROM ns_order_heap ORDER BY time, time_ns DESC, k LIMIT 3;
SELECT k FROM ns_order.m ORDER BY time DESC, k LIMIT 3;
SELECT k FROM ns_order_heap ORDER BY time DESC, k LIMIT 3;
DROP SCHEMA ns_order CASCADE;
DROP TABLE ns_order_heap;

-- Under a collation that finds 'A' equal to 'a', PostgreSQL groups and counts them as one:
-- such a tag's groups stay with PostgreSQL (its filters already did).
CREATE COLLATION case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT written FROM tsparquet.write_lp('blind', 'm,h=x v=0i 0', 's');
ALTER FOREIGN TABLE blind.m ADD COLUMN hc text OPTIONS (role 'tag') COLLATE case_blind;
SELECT written FROM tsparquet.write_lp('blind', E'm,hc=A v=1i 1\nm,hc=a v=2i 2\nm,hc=B v=3i 3', 's');
EXPLAIN (COSTS OFF) SELECT hc, count(*) FROM blind.m GROUP BY hc;
SELECT count(*) AS groups FROM (SELECT hc, count(*) FROM blind.m GROUP BY hc) g;
SELECT count(*) AS values FROM (SELECT DISTINCT hc FROM blind.m) d;
SELECT count(DISTINCT hc) FROM blind.m;
DROP SCHEMA blind CASCADE;
DROP COLLATION case_blind;

-- A table inheriting from a measurement adds its rows to the measurement's scans: their
-- groups, distinct values and top rows are left to PostgreSQL, since the engine holds the
-- measurement's rows only (ONLY reads those alone, and is pushed).
SELECT written FROM tsparquet.write_lp('inherited', (SELECT string_agg(
  format('m,host=h%s v=%si %s', i % 3, i, i), E'\n') FROM generate_series(1, 3000) i), 's');
CREATE TABLE inherited.older () INHERITS (inherited.m);
INSERT INTO inherited.older (time, time_ns, host, v) VALUES ('1960-01-01', -315619200000000000, 'z', 3);
EXPLAIN (COSTS OFF) SELECT DISTINCT host FROM inherited.m;
SELECT DISTINCT host FROM inherited.m ORDER BY host;
SELECT host, max(v) FROM inherited.m GROUP BY host ORDER BY host;
SELECT host FROM inherited.m ORDER BY time LIMIT 1;
EXPLAIN (COSTS OFF) SELECT DISTINCT host FROM ONLY inherited.m;
SELECT DISTINCT host FROM ONLY inherited.m ORDER BY host;
-- Once the inheriting table is gone, the measurement is pushed down again, though
-- PostgreSQL still plans it as a parent (of itself alone) until a VACUUM or ANALYZE.
DROP TABLE inherited.older;
SELECT relhassubclass FROM pg_class WHERE oid = 'inherited.m'::regclass;
EXPLAIN (COSTS OFF) SELECT DISTINCT host FROM inherited.m;
SELECT DISTINCT host FROM inherited.m ORDER BY host;
SELECT host, max(v) FROM inherited.m GROUP BY host ORDER BY host;
DROP SCHEMA inherited CASCADE;

-- The engine sorts all the rows only where work_mem holds the batches it sorts: rows of 16
-- bytes need more than 64kB, where PostgreSQL sorts them.
SET work_mem = '64kB';
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu ORDER BY u, time;
RESET work_mem;
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu ORDER BY u, time;
-- Nor a top-N, which cannot spill, below the work_mem its rows were measured to need.
SET work_mem = '256kB';
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu ORDER BY u, time LIMIT 5;
RESET work_mem;
EXPLAIN (COSTS OFF) SELECT time, u FROM pd.cpu ORDER BY u, time LIMIT 5;

-- Variances of an unsigned field (numeric(20,0)), up to its largest value, whose squares
-- fill 128 bits: the engine's exact numerics are those of the heap table, digit for digit.
SELECT written FROM tsparquet.write_lp('pd', E'un,host=a w=18446744073709551615u 1\n'
  'un,host=a w=3u 2\nun,host=a w=18446744073709551614u 3\nun,host=b w=7u 4\nun,host=b w=0u 5\n'
  'un,host=c w=9u 6', 'ns');
CREATE TABLE heap_un AS SELECT * FROM pd.un;
EXPLAIN (COSTS OFF)
  SELECT host, stddev(w), var_pop(w), variance(w), stddev_pop(w) FROM pd.un GROUP BY host;
SELECT host, stddev(w), var_pop(w), variance(w), stddev_pop(w) FROM pd.un GROUP BY host ORDER BY host;
SELECT (SELECT array_agg(r::text ORDER BY r::text) FROM
          (SELECT host, stddev(w), var_pop(w), variance(w), stddev_pop(w) FROM pd.un GROUP BY host) r)
     = (SELECT array_agg(r::text ORDER BY r::text) FROM
          (SELECT host, stddev(w), var_pop(w), variance(w), stddev_pop(w) FROM heap_un GROUP BY host) r)
  AS same;
DROP TABLE heap_un;

-- A database whose default collation is ICU's compares text by ICU even where its
-- LC_COLLATE is C.UTF-8: PostgreSQL sorts the tags, not the engine.
SELECT current_database() AS regress_database \gset
CREATE DATABASE icu_collated LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0;
\c icu_collated
CREATE EXTENSION tsparquet;
SELECT written FROM tsparquet.write_lp('db', E'm,host=a v=1 1\nm,host=B v=2 2');
EXPLAIN (COSTS OFF) SELECT host FROM db.m ORDER BY host;
SELECT host FROM db.m ORDER BY host;
-- and finds the least and greatest text itself: 'a' and 'B', where bytes give 'B' and 'a'
EXPLAIN (COSTS OFF) SELECT min(host), max(host) FROM db.m;
SELECT min(host), max(host) FROM db.m;
\c :regress_database
DROP DATABASE icu_collated;
