"""Random queries over a measurement and over a heap table holding the same rows: each must
give the same rows (in order where it orders them), or fail with the same SQLSTATE.

usage: random_queries.py DSN SEED COUNT

Writes the measurement db.cpu and the heap table heap_cpu, then prints each difference and
a last line "<count> queries, <pushed> pushed down, <n> differences"."""

import datetime as dt
import random
import sys

import psycopg

dsn, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
conn = psycopg.connect(dsn, autocommit=True)
conn.execute("SET TimeZone = 'UTC'")
conn.execute("SET extra_float_digits = 3")

# Five hosts over three days in several files, a few points before 1970, missing tags and
# fields, integers at the bigint limits, floats that add up exactly, and the floats line
# protocol cannot carry.
lines = []
for i in range(3000):
    tags = f"host=h{i % 5}" + ("" if i % 7 == 0 else f",region=r{i % 3}")
    fields = [f"u={(i * 37) % 1000 - 200}i"] if i % 11 else []
    fields.append(f"f={(i % 17) * 0.25}")
    if i % 13:
        fields.append(f's="v{i % 4}"')
    fields.append(f"b={'true' if i % 2 == 0 else 'false'}")
    lines.append(f"cpu,{tags} {','.join(fields)} {1704067200000000000 + i * 77777777777 + i % 3}")
for part in range(0, len(lines), 700):
    conn.execute("SELECT tsparquet.write_lp('db', %s, 'ns')", ("\n".join(lines[part:part + 700]),))
conn.execute("SELECT tsparquet.write_lp('db', %s, 'ns')", (
    "cpu,host=old u=1i,f=1,b=true -1\n"
    "cpu,host=old u=2i,f=2,b=false -300000000001\n"
    "cpu,host=big u=9223372036854775807i,f=0,b=true 1704067200000000000\n"
    "cpu,host=small u=-9223372036854775808i,f=0,b=true 1704067260000000000",))
conn.execute("""INSERT INTO db.cpu (time, host, f) VALUES
  ('2024-01-05 00:00:00+00', 'special', 'NaN'), ('2024-01-05 00:00:01+00', 'special', '-0'),
  ('2024-01-05 00:00:02+00', 'special', '-Infinity'), ('2024-01-05 00:00:03+00', 'special', 'Infinity'),
  ('2024-01-05 00:00:04+00', 'special', '-0')""")
conn.execute("CREATE TABLE heap_cpu AS SELECT * FROM db.cpu")

TEXTS = ["host", "region", "s"]
INTS = ["u", "time_ns"]
OPS = ["=", "<>", "<", "<=", ">", ">="]
TIMES = ["'2024-01-01'", "'2024-01-02 03:04:05.678901+00'", "'1969-12-31 23:59:59.9999995+00'",
         "'2024-01-03T12:00:00Z'", "'-infinity'", "'infinity'", "'2024-01-02'::date",
         "'2024-01-02 10:00+05:30'", "'2024-01-02 10:30'::timestamp", "localtimestamp"]
TEXT_VALUES = ["'h1'", "'h3'", "'r0'", "'r2'", "'v1'", "'v3'", "''", "'special'", "'old'", "'zz'", "NULL"]
INT_VALUES = ["0", "-200", "799", "100.5", "99.5::numeric", "9223372036854775807", "-9223372036854775808",
              "1e3", "500::int2", "2.5::float8", "NULL", "'42'", "1704200000000000000"]
FLOAT_VALUES = ["0", "-0", "'NaN'", "'Infinity'", "'-Infinity'", "1.25", "2", "3.75::float4", "4.0::numeric", "NULL"]
LIKES = ["'h%'", "'%1'", "'_2'", "'v_'", "'%'", r"'r\_%'", "'%#_%' ESCAPE '#'"]
# Regular expressions: most read alike by the engine, the last ones left to PostgreSQL.
REGEXES = ["'^h[0-3]$'", "'1'", "'^(old|big)'", "'v.'", "'^$'", "'^r[^1]'", "'[a-c]|2$'", "'h{1,2}'",
           "'^(?:s.*l)$'", r"'\d'", "'[[:alpha:]]{3}'"]
KEYS = ["host", "region", "b", "s", "date_trunc('hour', time)", "date_trunc('day', time)", "date_trunc('week', time)",
        "date_bin('7 hours', time, '2000-01-01')", "tsparquet.time_bucket('90 minutes', time)",
        "floor(extract(epoch from time)/300)*300", "to_timestamp(floor(extract(epoch from time)/3600)*3600)",
        "date_trunc('day', time, 'America/New_York')",
        "date_trunc('hour', time AT TIME ZONE 'Asia/Kathmandu')", "date_trunc('month', time AT TIME ZONE 'EST')",
        "date_trunc('day', time AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata'",
        "extract(hour FROM time)", "date_part('dow', time)", "extract(week FROM time)",
        "extract(minute FROM time AT TIME ZONE 'Asia/Kathmandu')"]
# Each query runs in one of these session time zones, which date_trunc(unit, time) and
# constants without zone are read in.
ZONES = ["UTC", "UTC", "America/Santiago", "Asia/Kolkata"]
AGGREGATES = ["count(*)", "count(u)", "count(f)", "sum(u)", "avg(u)", "sum(f)", "avg(f)", "min(u)", "max(u)",
              "min(f)", "max(f)", "min(time)", "max(time)", "count(DISTINCT host)", "count(DISTINCT region)",
              "tsparquet.last(u, time)", "tsparquet.first(f, time)", "stddev(u)", "var_pop(u)",
              "round(variance(f)::numeric, 6)", "round(stddev_pop(f)::numeric, 6)", "min(s)", "max(region)",
              "bool_and(b)", "bool_or(b)",
              "percentile_cont(0.5) WITHIN GROUP (ORDER BY f)", "percentile_cont(0.9) WITHIN GROUP (ORDER BY u)",
              "percentile_disc(0.5) WITHIN GROUP (ORDER BY u)", "percentile_disc(0.25) WITHIN GROUP (ORDER BY f)"]
# Arguments computed from each row, some raising PostgreSQL's errors for some rows (bigint
# out of range, division by zero, a float's overflow). Float sums add up exactly, in any
# order; floats that do not are only taken by min, max and count. A float variance divides,
# so its last digits depend on the order of the rows, which PostgreSQL leaves open: it is
# compared rounded.
INTEGER_ARGUMENTS = ["u + 1", "u - 7", "u * 3", "u / 3", "-u", "7 - u", "u * u", "u / (u - u)",
                     "(u + 2) * (u - 5) / 4", "u + 9223372036854775807", "-(u - 1)", "u % 7", "u % (u - u)",
                     "abs(u - 100)", "abs(u)", "coalesce(u, 5)", "coalesce(u, u / (u - u), 3)",
                     "CASE WHEN u > 300 THEN u ELSE -u END", "CASE WHEN b THEN 1 ELSE 0 END",
                     "CASE WHEN u <> 0 THEN 1000 / u END", "CASE WHEN s = 'v1' THEN 2 WHEN host = 'h2' THEN 3 END",
                     "CASE u % 3 WHEN 0 THEN u WHEN 1 THEN 2 END", "CASE host WHEN 'h1' THEN 1 ELSE 0 END",
                     "greatest(u, 0)", "least(u, 100, -u)", "nullif(u, 0)", "1000 / nullif(u, 0)"]
EXACT_FLOAT_ARGUMENTS = ["f * 4", "f / 2", "f + 0.5", "-f", "f - f", "(f * 2 + 1) / 4", "f / (f - f)",
                         "f * 1e308 * 10", "u::float8 * 0", "abs(f - 2)", "coalesce(f, 0) * 2",
                         "CASE WHEN f > 2 THEN f ELSE 0 END", "CASE WHEN u > 0 THEN f / 0 END", "greatest(f, 1)",
                         "least(f, -f)", "nullif(f, 2)"]
OTHER_FLOAT_ARGUMENTS = ["u::float8 / 3", "f + u", "f * u", "-(f / 3)"]
# Arithmetic compared in a filter: the first raise errors for some rows (big, small or any
# u), which PostgreSQL raises only where the filters it checks before reach them.
RAISING_FILTER_ARITHMETIC = ["u + 1", "u - 7", "u * 3", "-u", "u / (u - u)", "u + 9223372036854775807", "abs(u)",
                             "u % (u - u)"]
SAFE_FILTER_ARITHMETIC = ["u / 3", "f * 4", "f / 2", "f + 0.5", "-f", "u::float8 / 3", "f - f", "u + f", "u % 7",
                          "abs(f - 2)", "coalesce(u, 0)", "CASE WHEN b THEN u ELSE 0 END",
                          "CASE WHEN u <> 0 THEN 1000 / u ELSE 0 END"]


def computed_aggregate():
    kind = rng.choice(["integer", "exact float", "float variance", "other float"])
    if kind == "integer":
        return f"{rng.choice(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'var_pop'])}({rng.choice(INTEGER_ARGUMENTS)})"
    if kind == "exact float":
        return f"{rng.choice(['sum', 'avg', 'min', 'max', 'count'])}({rng.choice(EXACT_FLOAT_ARGUMENTS)})"
    if kind == "float variance":
        return f"round(variance({rng.choice(EXACT_FLOAT_ARGUMENTS)})::numeric, 6)"
    return f"{rng.choice(['min', 'max', 'count'])}({rng.choice(OTHER_FLOAT_ARGUMENTS)})"


def condition(depth=0):
    r = rng.random()
    if depth < 2 and r < 0.25:
        return f"({condition(depth + 1)} {rng.choice(['AND', 'OR'])} {condition(depth + 1)})"
    if depth < 2 and r < 0.3:
        return f"NOT ({condition(depth + 1)})"
    kind = rng.choice(["text", "int", "float", "time", "bool", "null", "in", "like", "regex", "between",
                       "columns", "field"])
    if kind == "columns":
        # Two columns of one type; PostgreSQL compares an integer with a float as floats.
        ints, texts = rng.sample(INTS, 2), rng.sample(TEXTS, 2)
        return rng.choice([f"{ints[0]} {rng.choice(OPS)} {ints[1]}", f"{texts[0]} {rng.choice(['=', '<>'])} {texts[1]}",
                           f"f {rng.choice(OPS)} f", f"u {rng.choice(OPS)} f"])
    if kind == "text":
        return f"{rng.choice(TEXTS)} {rng.choice(OPS)} {rng.choice(TEXT_VALUES)}"
    if kind == "int":
        return f"{rng.choice(INTS)} {rng.choice(OPS)} {rng.choice(INT_VALUES)}"
    if kind == "float":
        return f"f {rng.choice(OPS)} {rng.choice(FLOAT_VALUES)}"
    if kind == "time":
        return f"time {rng.choice(OPS)} {rng.choice(TIMES)}"
    if kind == "bool":
        return rng.choice(["b", "NOT b", "b = true", "b IS NOT TRUE", "b IS NULL", "b <> false"])
    if kind == "null":
        return f"{rng.choice(TEXTS + INTS + ['f', 'b'])} IS {rng.choice(['', 'NOT '])}NULL"
    if kind == "in":
        column, values = rng.choice([(rng.choice(TEXTS), TEXT_VALUES), ("u", INT_VALUES[:7]), ("f", FLOAT_VALUES)])
        listed = ", ".join(rng.sample(values, rng.randint(1, 4)))
        negated = rng.random() < 0.5
        if rng.random() < 0.5:
            return f"{column} {'NOT ' if negated else ''}IN ({listed})"
        return f"{'NOT ' if negated else ''}{column} = ANY (ARRAY[{listed}])"
    if kind == "like":
        return f"{rng.choice(TEXTS)} {rng.choice(['', 'NOT '])}LIKE {rng.choice(LIKES)}"
    if kind == "field":
        field = rng.choice(["hour", "dow", "minute", "doy"])
        return f"extract({field} FROM time) {rng.choice(OPS)} {rng.choice(['0', '3', '12', '2.5', '30'])}"
    if kind == "regex":
        return f"{rng.choice(TEXTS)} {rng.choice(['~', '!~'])} {rng.choice(REGEXES)}"
    low, high = sorted(rng.sample(range(-300, 900), 2))
    return f"u {rng.choice(['', 'NOT '])}BETWEEN {low} AND {high}"


def condition_aggregate():
    """bool_and or bool_or of a condition, which may be NULL for some rows."""
    return f"{rng.choice(['bool_and', 'bool_or', 'every'])}({condition(1)})"


def decorated(aggregate):
    """`aggregate`, sometimes over the rows meeting a condition, sometimes inside an
    expression that PostgreSQL computes from it."""
    if rng.random() < 0.2:
        aggregate = f"{aggregate} FILTER (WHERE {condition(1)})"
    # Not the min, max or percentile of a float, whose -0 and 0 are told apart below only
    # as floats.
    extreme_float = aggregate[:4] in ("min(", "max(", "perc") and "f" in aggregate
    if rng.random() < 0.15 and not extreme_float:
        aggregate = f"coalesce(({aggregate})::text, '-') || '!'"
    return aggregate


def limit(least, most):
    """A LIMIT clause, or none: the order alone is pushed down too."""
    return f" LIMIT {rng.randint(least, most)}" if rng.random() < 0.6 else ""


def arithmetic_condition(raising):
    """A comparison of arithmetic, which may raise an error for some rows if `raising`."""
    expr = rng.choice(RAISING_FILTER_ARITHMETIC if raising else SAFE_FILTER_ARITHMETIC)
    return f"{expr} {rng.choice(OPS)} {rng.choice(['0', '100', '-3', '2.5', '799'])}"


# The form of a query over the heap where it differs: arithmetic in a filter that the
# engine computes for the rows the other filters keep, which PostgreSQL guarantees only
# where CASE makes it (its order of conditions is undefined; a heap scan goes by cost).
HEAP_FORMS = {}


def query():
    """A query with TABLE for the table, and whether its order is part of its result."""
    sql, ordered, where, heap_where = shaped_query()
    if where != heap_where:
        HEAP_FORMS[sql] = sql.replace(where, heap_where)
    return sql, ordered


def filters():
    """A WHERE clause, perhaps with arithmetic, its form over the heap, and whether the
    arithmetic can raise an error for some rows."""
    condition_ = condition() if rng.random() < 0.85 else None
    if rng.random() >= 0.3:
        where = f" WHERE {condition_}" if condition_ else ""
        return where, where, False
    raising = rng.random() < 0.5
    arithmetic = arithmetic_condition(raising)
    if not condition_:
        return f" WHERE {arithmetic}", f" WHERE {arithmetic}", raising
    return (f" WHERE {condition_} AND {arithmetic}",
            f" WHERE {condition_} AND CASE WHEN {condition_} THEN {arithmetic} ELSE false END", raising)


def shaped_query():
    """A query, whether its order is part of its result, its WHERE clause and that
    clause's form over the heap."""
    where, heap_where, raising_filter = filters()
    shaped = lambda sql, ordered: (sql, ordered, where, heap_where)
    if rng.random() < 0.1:
        keys = rng.sample(KEYS + ["u", "b", "'label'"], rng.randint(1, 3))
        sql = f"SELECT DISTINCT {', '.join(keys)} FROM TABLE{where}"
        if rng.random() < 0.4:
            orders = [f"{i + 1} {rng.choice(['', 'DESC', 'NULLS FIRST'])}" for i in range(len(keys))]
            return shaped(f"{sql} ORDER BY {', '.join(orders)}{limit(1, 20)}", True)
        return shaped(sql, False)
    if rng.random() < 0.05:
        # A window over each host's points in time order, which the scan returns sorted.
        window = rng.choice(["u - lag(u)", "sum(f)", "count(*)", "first_value(s)"])
        return shaped(f"SELECT host, time_ns, {window} OVER (PARTITION BY host ORDER BY time_ns) FROM TABLE{where} "
                      "ORDER BY host, time_ns", True)
    if rng.random() < 0.35:
        sql = f"SELECT {rng.choice(['*', 'host, u', 'time, f', 's, b, region'])} FROM TABLE{where}"
        if rng.random() < 0.3:
            return shaped(f"{sql} ORDER BY time, host, u, f{limit(0, 50)}", True)
        return shaped(sql, False)
    keys = rng.sample(KEYS, rng.randint(0, 2))
    aggregates = rng.sample(AGGREGATES, rng.randint(1, 3))
    computed = not raising_filter and rng.random() < 0.3
    if computed:
        aggregates.append(computed_aggregate())
    if rng.random() < 0.15:
        aggregates.append(condition_aggregate())
    aggregates = [decorated(a) for a in aggregates]
    sql = f"SELECT {', '.join(keys + aggregates)} FROM TABLE{where}"
    if not keys:
        return shaped(sql, False)
    sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(keys)))
    if rng.random() < 0.3:
        sql += f" HAVING count(*) > {rng.randint(0, 200)}"
        if rng.random() < 0.3:
            # An average of integers, which the engine leaves PostgreSQL to compare.
            sql += f" AND avg(u) > {rng.randint(-100, 500)}"
    if rng.random() < 0.4:
        orders = [f"{i + 1} {rng.choice(['', 'DESC', 'NULLS FIRST', 'DESC NULLS LAST'])}" for i in range(len(keys))]
        # No LIMIT over arithmetic, which can raise: PostgreSQL's sorted grouping may stop
        # before the group of a raising row, where the engine computes every group (as
        # PostgreSQL's hash grouping does), so which of them raises depends on the plan.
        return shaped(f"{sql} ORDER BY {', '.join(orders)}{'' if computed else limit(1, 20)}", True)
    return shaped(sql, False)


UTC = dt.timezone.utc
PARAMETERS = [
    ("u {} %s", ["=", "<>", ">", "<="], [0, 100, -200, 2**63 - 1, None]),
    ("f {} %s", ["=", ">", "<"], [0.0, -0.0, 1.25, float("nan"), float("inf"), None]),
    ("host {} %s", ["=", "<>", ">"], ["h1", "special", "", None]),
    ("time {} %s", [">=", "<"], [dt.datetime(2024, 1, 2, tzinfo=UTC), dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
                                 dt.datetime(2024, 1, 3, 5, 6, 7, 123456, tzinfo=UTC), None]),
    ("s {} (%s)", ["= ANY", "<> ALL"], [["v1", "v2"], [], ["v3", None]]),
    ("b {} %s", ["=", "IS NOT DISTINCT FROM"], [True, False, None]),
]
PARAMETERISED = ["SELECT * FROM TABLE WHERE {}", "SELECT host, count(*), sum(u), avg(f) FROM TABLE WHERE {} GROUP BY 1",
                 "SELECT date_trunc('hour', time), max(u), count(DISTINCT host) FROM TABLE WHERE {} GROUP BY 1",
                 "SELECT * FROM TABLE WHERE {} ORDER BY time DESC, host LIMIT 7"]


def parameterised():
    """A query with parameters for its values, the values, and whether it is ordered."""
    conditions, values = [], []
    for _ in range(rng.randint(1, 3)):
        template, operators, choices = rng.choice(PARAMETERS)
        conditions.append(template.format(rng.choice(operators)))
        values.append(rng.choice(choices))
    shape = rng.choice(PARAMETERISED)
    return shape.format(f" {rng.choice(['AND', 'OR'])} ".join(conditions)), values, "ORDER BY" in shape


def outcome(sql, values=None):
    """The rows as text (a float's repr tells -0 and NaN apart), or the SQLSTATE."""
    try:
        return [tuple(map(repr, row)) for row in conn.execute(sql, values, prepare=values is not None).fetchall()], None
    except psycopg.Error as e:
        return None, e.sqlstate


def comparable(sql, ordered, rows, error):
    """Rows as two engines' can be compared: sorted where `sql` does not order them."""
    if rows is not None and ("min(" in sql or "max(" in sql):
        # Of equal values PostgreSQL's min and max keep the last in scan order, so over -0
        # and 0 (of f, or of arithmetic giving both) the sign they give depends on the order
        # rows were stored in.
        rows = [tuple("0.0" if v == "-0.0" else v for v in row) for row in rows]
    if rows is not None and not ordered:
        rows = sorted(rows)
    return rows, error


pushed = differences = 0
for _ in range(count):
    if rng.random() < 1 / 3:
        sql, values, ordered = parameterised()
        runs = 6
    else:
        (sql, ordered), values, runs = query(), None, 1
    measurement = sql.replace("TABLE", "db.cpu")
    zone = rng.choice(ZONES)
    conn.execute(f"SET TimeZone = '{zone}'")
    for _ in range(runs):
        ours, our_error = comparable(sql, ordered, *outcome(measurement, values))
        heap, heap_error = comparable(sql, ordered, *outcome(HEAP_FORMS.get(sql, sql).replace("TABLE", "heap_cpu"),
                                                             values))
        if (ours, our_error) != (heap, heap_error) and sql in HEAP_FORMS:
            # The order PostgreSQL's heap scan checks the conditions in, by their cost.
            heap, heap_error = comparable(sql, ordered, *outcome(sql.replace("TABLE", "heap_cpu"), values))
        if (ours, our_error) != (heap, heap_error):
            differences += 1
            first = next((f"{a} against {b}" for a, b in zip(ours or [], heap or []) if a != b), "")
            print(f"[{zone}] {sql} {values or ''}\n  tsparquet: {len(ours or [])} rows, error {our_error}; heap: "
                  f"{len(heap or [])} rows, error {heap_error}; first difference: {first}")
            break
    if our_error is None and values is None:
        plan = conn.execute(f"EXPLAIN (COSTS OFF) {measurement}").fetchall()
        pushed += any("Pushed" in line for (line,) in plan)
print(f"{count} queries, {pushed} pushed down, {differences} differences")
