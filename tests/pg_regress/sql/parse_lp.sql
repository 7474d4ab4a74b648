-- tsparquet.parse_lp shows how line protocol is read, one row per point or rejected line.
SET TimeZone = 'UTC';

-- A TSBS-style point: tags, integer fields, a nanosecond timestamp (precision auto).
SELECT line, measurement, tags, fields, time, time_ns, error
FROM tsparquet.parse_lp('cpu,hostname=host_0,region=eu-central-1 usage_user=58i,usage_system=2i 1451606400000000000');

-- Every field type; integers beyond 2^53 keep every digit.
SELECT fields
FROM tsparquet.parse_lp('m f=-1.5e3,i=-9223372036854775808i,u=18446744073709551615u,s="say \"hi\"",b=TRUE 1');

-- Escapes: comma and space in measurements; comma, equals and space in keys and tag
-- values; quote and backslash in strings; any other escape is kept as written.
SELECT measurement, tags, fields
FROM tsparquet.parse_lp(E'wea\\,ther\\ now,lo\\=c\\ x=a\\,b\\=c\\ d,path=C:\\\\tmp f\\ k="q\\\\\\"x\\\\n" 1');

-- Blank lines and comments are skipped but counted; CRLF endings work; a newline inside a
-- string does not end the line.
SELECT line, measurement, fields, time_ns
FROM tsparquet.parse_lp(E'# a comment\r\n\r\nm s="one\ntwo" 10\r\nm f=2 20\n');

-- Precision: the same number read as s, ms, us, ns and auto.
SELECT p AS precision, time, time_ns
FROM unnest(ARRAY['s', 'ms', 'us', 'ns', 'auto']) AS p,
     tsparquet.parse_lp('m f=1 1451606400', p);

-- Nanoseconds show at microsecond precision, truncated toward minus infinity.
SELECT time, time_ns FROM tsparquet.parse_lp(E'm f=1 -1\nm f=1 1999', 'ns');

-- Each rejected line is a row with its line number and the reason.
SELECT line, error
FROM tsparquet.parse_lp(array_to_string(ARRAY[
    'ok f=1 1',
    ',t=1 f=1',
    'm',
    'm,t= f=1',
    'm,t=1,t=2 f=1',
    'm f=1,f=2',
    'm f=1i2',
    'm f=9223372036854775808i',
    'm f=-1u',
    'm f=.5',
    'm f=yes',
    'm f=1 12:00',
    'm f=1 1 2',
    'm\\ f=1',
    'm s="open'], E'\n'))
ORDER BY line;

-- Bad arguments are errors with their SQLSTATE.
\set VERBOSITY sqlstate
SELECT * FROM tsparquet.parse_lp('m f=1', 'minutes');
\set VERBOSITY default
SELECT * FROM tsparquet.parse_lp('m f=1', 'minutes');
