"""The 16 TSBS cpu-only query types as PostgreSQL SQL (../shared/bench/queries.md), with
parameters drawn the way TSBS draws them: random windows inside the data's time range and
random distinct hosts, from a seeded generator. Then five dashboard queries TSBS lacks: a
Grafana variable's values, one host's points since a time, each host's average per day in
a time zone's local time, a table panel of each host's spread and busy share, and hosts'
95th percentiles per hour."""

import datetime as dt
import random

METRICS = [
    "usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
    "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
]
TAGS = [
    "hostname", "region", "datacenter", "rack", "os", "arch", "team", "service",
    "service_version", "service_environment",
]
# `SELECT *` of TSBS, spelled out: measurement tables also have time_ns and another order.
COLUMNS = ", ".join(["time"] + TAGS + METRICS)


def sql_time(t):
    return "'" + t.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00'"


class Parameters:
    def __init__(self, seed, hosts, start, end):
        self.rng = random.Random(seed)
        self.hosts = hosts
        self.start = start
        self.end = end

    def window(self, hours):
        length = dt.timedelta(hours=hours)
        span = (self.end - self.start - length).total_seconds()
        offset = self.rng.uniform(0, span) if span > 0 else 0.0
        begin = self.start + dt.timedelta(microseconds=int(offset * 1e6))
        return begin, begin + length

    def host_list(self, count):
        chosen = self.rng.sample(range(self.hosts), min(count, self.hosts))
        return ", ".join(f"'host_{k}'" for k in chosen)


def single_groupby(p, metrics, hosts, hours):
    begin, end = p.window(hours)
    aggregates = ",\n       ".join(f"max({m}) AS max_{m}" for m in METRICS[:metrics])
    return f"""SELECT date_trunc('minute', time) AS minute,
       {aggregates}
FROM cpu
WHERE hostname IN ({p.host_list(hosts)}) AND time >= {sql_time(begin)} AND time < {sql_time(end)}
GROUP BY minute ORDER BY minute ASC"""


def cpu_max_all(p, hosts, hours):
    begin, end = p.window(hours)
    aggregates = ",\n       ".join(f"max({m}) AS max_{m}" for m in METRICS)
    return f"""SELECT date_trunc('hour', time) AS hour,
       {aggregates}
FROM cpu
WHERE hostname IN ({p.host_list(hosts)}) AND time >= {sql_time(begin)} AND time < {sql_time(end)}
GROUP BY hour ORDER BY hour"""


def double_groupby(p, metrics):
    begin, end = p.window(12)
    names = METRICS[:metrics]
    aggregates = ",\n         ".join(f"avg({m}) AS mean_{m}" for m in names)
    means = ", ".join(f"mean_{m}" for m in names)
    return f"""WITH cpu_avg AS (
  SELECT date_trunc('hour', time) AS hour, hostname,
         {aggregates}
  FROM cpu
  WHERE time >= {sql_time(begin)} AND time < {sql_time(end)}
  GROUP BY 1, 2
)
SELECT hour, hostname, {means}
FROM cpu_avg
ORDER BY hour, hostname"""


def high_cpu(p, hosts):
    begin, end = p.window(12)
    where = f" AND hostname IN ({p.host_list(hosts)})" if hosts else ""
    return (f"SELECT {COLUMNS} FROM cpu WHERE usage_user > 90.0 AND time >= {sql_time(begin)} "
            f"AND time < {sql_time(end)}{where}")


def lastpoint(_p):
    return f"SELECT DISTINCT ON (hostname) {COLUMNS} FROM cpu ORDER BY hostname, time DESC"


def groupby_orderby_limit(p):
    _, end = p.window(1)
    return f"""SELECT date_trunc('minute', time) AS minute, max(usage_user)
FROM cpu
WHERE time < {sql_time(end)}
GROUP BY minute
ORDER BY minute DESC
LIMIT 5"""


def host_variable(_p):
    return "SELECT DISTINCT hostname FROM cpu ORDER BY hostname"


def host_points_since(p):
    begin, _ = p.window(12)
    return (f"SELECT time, usage_user FROM cpu WHERE hostname IN ({p.host_list(1)}) "
            f"AND time >= {sql_time(begin)} ORDER BY time")


def local_days(_p):
    return ("SELECT date_trunc('day', time AT TIME ZONE 'America/New_York') AS day, hostname, "
            "avg(usage_user) AS avg_usage_user FROM cpu GROUP BY 1, 2 ORDER BY 1, 2")


def busy_share(p):
    """Expressions over aggregates and aggregates of the rows meeting a condition, as a
    dashboard's table panel writes them."""
    begin, end = p.window(12)
    return f"""SELECT hostname, max(usage_user) - min(usage_user) AS spread,
       100.0 * count(*) FILTER (WHERE usage_user > 90) / count(*) AS busy_percent,
       avg(usage_system) FILTER (WHERE usage_user > 90) AS system_when_busy
FROM cpu
WHERE time >= {sql_time(begin)} AND time < {sql_time(end)}
GROUP BY hostname ORDER BY hostname"""


def p95(p):
    """A panel of 95th percentiles: 8 hosts' `usage_user` per hour over 12 hours."""
    begin, end = p.window(12)
    return f"""SELECT date_trunc('hour', time) AS hour, hostname,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY usage_user) AS p95_usage_user
FROM cpu
WHERE hostname IN ({p.host_list(8)}) AND time >= {sql_time(begin)} AND time < {sql_time(end)}
GROUP BY 1, 2 ORDER BY 1, 2"""


# name -> (SQL for a parameter draw, whether the result order is defined)
QUERY_TYPES = {
    "single-groupby-1-1-1": (lambda p: single_groupby(p, 1, 1, 1), True),
    "single-groupby-1-1-12": (lambda p: single_groupby(p, 1, 1, 12), True),
    "single-groupby-1-8-1": (lambda p: single_groupby(p, 1, 8, 1), True),
    "single-groupby-5-1-1": (lambda p: single_groupby(p, 5, 1, 1), True),
    "single-groupby-5-1-12": (lambda p: single_groupby(p, 5, 1, 12), True),
    "single-groupby-5-8-1": (lambda p: single_groupby(p, 5, 8, 1), True),
    "cpu-max-all-1": (lambda p: cpu_max_all(p, 1, 8), True),
    "cpu-max-all-8": (lambda p: cpu_max_all(p, 8, 8), True),
    "cpu-max-all-32-24": (lambda p: cpu_max_all(p, 32, 24), True),
    "double-groupby-1": (lambda p: double_groupby(p, 1), True),
    "double-groupby-5": (lambda p: double_groupby(p, 5), True),
    "double-groupby-all": (lambda p: double_groupby(p, 10), True),
    "high-cpu-all": (lambda p: high_cpu(p, 0), False),
    "high-cpu-1": (lambda p: high_cpu(p, 1), False),
    "lastpoint": (lastpoint, True),
    "groupby-orderby-limit": (groupby_orderby_limit, True),
    "dashboard-host-variable": (host_variable, True),
    "dashboard-host-points-since": (host_points_since, True),
    "dashboard-local-days": (local_days, True),
    "dashboard-busy-share": (busy_share, True),
    "dashboard-p95": (p95, True),
}
