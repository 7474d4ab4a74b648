//! Pushed-down queries in a real cluster: a statement timeout stops a long query in the
//! engine promptly, inside an aggregate and in parallel workers too, and leaves the
//! session usable; a grouping or a sort over `work_mem` spills into Postgres' temporary
//! files; parallel workers share a large scan; a session's row estimates follow other
//! sessions' writes; the engine runs on the backend's own thread.

use std::time::{Duration, Instant};

use tsparquet_e2e::{run_python, Cluster};

/// A pushed-down filter whose rows Postgres then aggregates: it runs for a while, and the
/// engine hands back rows batch by batch.
const QUERY: &str = "SELECT sum(length(host)) FROM db.m WHERE v > 0 AND host LIKE 'h%'";

/// Writes `db.m`: points 1 to `points`, one a second, `v` their number, spread over
/// `hosts` hosts.
fn write_points(cluster: &Cluster, hosts: u32, points: u32) {
    cluster.psql(&format!(
        "SELECT written FROM (SELECT string_agg(format('m,host=h%s v=%si %s', i % {hosts}, i, i), E'\\n') AS lines
                              FROM generate_series(1, {points}) i) input,
                             tsparquet.write_lp('db', input.lines, 's')"
    ));
}

/// A scan whose filter PostgreSQL evaluates, row by row, in each process of a parallel scan.
const PARALLEL_QUERY: &str = "SELECT count(*) FROM db.m WHERE v > 0 AND md5(host || v) > 'c'";
const TWO_WORKERS: &str =
    "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET max_parallel_workers_per_gather = 2";
const NO_WORKERS: &str = "SET max_parallel_workers_per_gather = 0";

/// An aggregate into a million groups (one a point), none of which it returns: DataFusion
/// reads every row before it hands anything back.
const BLOCKING_QUERY: &str = "SELECT date_bin('1 second', time, '2000-01-01') AS second, count(*) \
                              FROM db.m GROUP BY second HAVING count(*) > 1";
/// The memory the aggregate may use: enough for its million groups.
const ENOUGH_WORK_MEM: &str = "SET work_mem = '1GB'";

/// How long `query` takes, and how long a session takes that runs it with a statement
/// timeout of 100 ms and then, the timeout reset, counts the rows of one host.
fn whole_and_stopped(cluster: &Cluster, query: &str, rows: &str) -> (Duration, Duration) {
    let started = Instant::now();
    assert_eq!(cluster.psql(query), rows);
    let whole = started.elapsed();
    assert!(
        whole > Duration::from_millis(400),
        "the query must run long enough to be stopped midway: {whole:?}"
    );

    let started = Instant::now();
    let output = cluster.session(&[
        "SET statement_timeout = '100ms'",
        query,
        "RESET statement_timeout",
        "SELECT count(*) FROM db.m WHERE host = 'h7'",
    ]);
    let stopped = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("canceling statement due to statement timeout"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "20000");
    (whole, stopped)
}

#[test]
fn a_statement_timeout_or_a_cancel_stops_a_pushed_down_query_and_the_session_goes_on() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 50, 1_000_000);
    let plan = cluster.psql(&format!("EXPLAIN (COSTS OFF) {QUERY}"));
    assert!(plan.contains("Pushed Filter"), "{plan}");
    let one_process = format!("{NO_WORKERS}; {QUERY}");
    let (whole, stopped) = whole_and_stopped(&cluster, &one_process, "2800000");
    assert!(
        stopped < whole / 2,
        "stopped after {stopped:?}; the whole query takes {whole:?}"
    );

    // A parallel scan: the workers stop with the leader.
    let parallel = format!("{TWO_WORKERS}; {PARALLEL_QUERY}");
    let plan = cluster.psql(&format!(
        "{TWO_WORKERS}; EXPLAIN (COSTS OFF) {PARALLEL_QUERY}"
    ));
    assert!(plan.contains("Parallel Foreign Scan"), "{plan}");
    let rows = cluster.psql(&format!("{NO_WORKERS}; {PARALLEL_QUERY}"));
    let (whole_parallel, stopped) = whole_and_stopped(&cluster, &parallel, &rows);
    assert!(
        stopped < whole_parallel / 2,
        "stopped after {stopped:?}; the whole parallel query takes {whole_parallel:?}"
    );
    assert_eq!(
        cluster
            .psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'"),
        "0"
    );

    // Inside an aggregate, the timeout is seen before the next row group is read.
    let plan = cluster.psql(&format!("EXPLAIN (COSTS OFF) {BLOCKING_QUERY}"));
    assert!(plan.contains("Pushed Having"), "{plan}");
    let query = format!("{ENOUGH_WORK_MEM}; {BLOCKING_QUERY}");
    let (whole_aggregate, stopped) = whole_and_stopped(&cluster, &query, "");
    assert!(
        stopped < whole_aggregate / 2,
        "stopped after {stopped:?}; the whole aggregate takes {whole_aggregate:?}"
    );

    // A cancel from another session (what psql sends on Ctrl-C), into a statement that runs
    // the pushed-down query again and again.
    let repeated = "SELECT (SELECT sum(length(host)) FROM db.m WHERE v > g AND host LIKE 'h%') \
                    FROM generate_series(1, 50) g";
    std::thread::scope(|scope| {
        let canceled = scope.spawn(|| {
            let started = Instant::now();
            let output = cluster.try_psql_in("postgres", repeated);
            (output, started.elapsed())
        });
        cluster.wait_for(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT (SELECT sum%' AND state = 'active'",
            "1",
            20,
        );
        std::thread::sleep(Duration::from_millis(300));
        let sent = Instant::now();
        assert_eq!(
            cluster.psql(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT (SELECT sum%'"
            ),
            "t"
        );
        let (output, ran) = canceled.join().expect("canceled session");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("canceling statement due to user request"),
            "{stderr}"
        );
        assert!(
            sent.elapsed() < whole,
            "stopped {:?} after the cancel; one run of the query takes {whole:?}",
            sent.elapsed()
        );
        assert!(ran < whole * 25, "ran {ran:?}, not the 50 runs");
    });
    assert_eq!(
        cluster.psql("SELECT count(*) FROM db.m WHERE host = 'h7'"),
        "20000"
    );
}

#[test]
fn an_aggregate_over_work_mem_fails_cleanly_and_the_session_goes_on() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 50, 1_000_000);
    let output = cluster.session(&[
        "SET work_mem = '4MB'",
        BLOCKING_QUERY,
        "SELECT count(*) FROM db.m WHERE host = 'h7'",
        ENOUGH_WORK_MEM,
        BLOCKING_QUERY,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ERROR:  53200"), "{stderr}");
    assert!(stderr.contains("work_mem"), "{stderr}");
    // Only the first aggregate failed, and its backend lived on: the same session then
    // counted, and aggregated with more memory.
    assert_eq!(stderr.matches("ERROR").count(), 1, "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "20000");
}

#[test]
fn a_grouping_over_work_mem_spills_into_postgres_temporary_files_of_temp_tablespaces_within_temp_file_limit(
) {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 50, 1_000_000);
    let grouping =
        "SELECT count(*), sum(n) FROM (SELECT date_bin('1 second', time, '2000-01-01'), \
                    host, count(*) AS n FROM db.m GROUP BY 1, 2) g";

    // Under temp_tablespaces, in the tablespace's directory of temporary files, as
    // Postgres' own: made for them (Postgres makes it for its first temporary file
    // there, and this query makes none of its own), and left empty.
    let space = cluster.server_directory("spill_space");
    cluster.psql(&format!(
        "CREATE TABLESPACE spill_space LOCATION '{}'",
        space.display()
    ));
    let output = cluster.session(&[
        "SET work_mem = '32MB'",
        "SET temp_tablespaces = spill_space",
        grouping,
    ]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "1000000|1000000",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version_directories: Vec<_> = std::fs::read_dir(&space)
        .expect("the tablespace's directory")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    let [version_directory] = &version_directories[..] else {
        panic!("{version_directories:?}");
    };
    let temporary = std::fs::read_dir(version_directory.join("pgsql_tmp"))
        .expect("the tablespace's directory of temporary files")
        .count();
    assert_eq!(temporary, 0);

    let output = cluster.session(&[
        "SET work_mem = '32MB'",
        grouping,
        "SELECT count(*) FROM pg_ls_tmpdir()",
        "SET temp_file_limit = '1MB'",
        grouping,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A million groups over 32 MB: the first grouping spilled and removed its files; the
    // second, allowed 1 MB of them, failed as Postgres fails there.
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "1000000|1000000\n0"
    );
    assert_eq!(stderr.matches("ERROR").count(), 1, "{stderr}");
    assert!(stderr.contains("ERROR:  53400"), "{stderr}");
    assert!(stderr.contains("temp_file_limit (1024kB)"), "{stderr}");
}

#[test]
fn a_sort_over_work_mem_spills_into_postgres_temporary_files_within_temp_file_limit() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 50, 1_000_000);
    // Stored by host, then time: every value descending is a sort of the whole table.
    let sorted = "SELECT v, host FROM db.m ORDER BY v DESC";
    let plan = cluster.psql(&format!("EXPLAIN (COSTS OFF) {sorted}"));
    assert!(plan.contains("Pushed Order: v DESC"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
    let checked = format!(
        "SELECT count(*), count(*) FILTER (WHERE v <= next), min(v), max(v) \
         FROM (SELECT v, lead(v) OVER () AS next FROM ({sorted}) s) w"
    );
    let output = cluster.session(&[
        "SET work_mem = '4MB'",
        &checked,
        "SELECT count(*) FROM pg_ls_tmpdir()",
        "SET temp_file_limit = '1MB'",
        &checked,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 24 MB of rows over 4 MB: the first sort spilled and removed its files, giving each
    // value once in descending order; the second, allowed 1 MB of them, failed as
    // Postgres fails there.
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "1000000|0|1|1000000\n0"
    );
    assert_eq!(stderr.matches("ERROR").count(), 1, "{stderr}");
    assert!(stderr.contains("ERROR:  53400"), "{stderr}");
}

#[test]
fn row_estimates_follow_the_writes_other_sessions_commit() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    cluster
        .psql("SELECT written FROM tsparquet.write_lp('db', E'm,host=a v=1 1\\nm,host=b v=2 1')");
    // The reader keeps its estimate between queries; the writer's open transaction is not
    // counted, its commit is.
    let script = r#"
import sys, psycopg
reader = psycopg.connect(sys.argv[1], autocommit=True)
writer = psycopg.connect(sys.argv[1], autocommit=True)
def estimate():
    plan = reader.execute("EXPLAIN (FORMAT JSON) SELECT * FROM db.m").fetchone()[0]
    return plan[0]["Plan"]["Plan Rows"]
seen = [estimate()]
writer.execute("SELECT tsparquet.write_lp('db', 'm,host=c v=3 1')")
seen.append(estimate())
with writer.transaction():
    writer.execute("SELECT tsparquet.write_lp('db', 'm,host=d v=4 1')")
    seen.append(estimate())
seen.append(estimate())
writer.execute("TRUNCATE db.m")
seen.append(estimate())
print(*seen)
"#;
    assert_eq!(
        run_python(script, &[&cluster.dsn("postgres")]).trim(),
        "2 3 3 4 1"
    );
}

#[test]
fn the_engine_runs_on_the_backends_own_thread() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 2, 100_000);
    let query = "SELECT count(*) FROM (SELECT host, max(v) FROM db.m GROUP BY host) g";
    let plan = cluster.psql(&format!("EXPLAIN (COSTS OFF) {query}"));
    assert!(plan.contains("Pushed Group Key: host"), "{plan}");
    // A new session, which has only queried: its process still has one thread.
    let threads = "SELECT count(*) FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task')";
    assert_eq!(cluster.psql(&format!("{query}; {threads}")), "2\n1");
}

#[test]
fn a_large_scan_is_shared_by_parallel_workers_each_row_read_once() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    write_points(&cluster, 10, 1_000_000);
    // Workers alone read the rows: the leader only collects them. Each part a worker took
    // shows in its row count; together the workers return every matching row once.
    let script = r#"
import sys, json, psycopg
conn = psycopg.connect(sys.argv[1], autocommit=True)
for setting in ("parallel_setup_cost = 0", "parallel_tuple_cost = 0",
                "max_parallel_workers_per_gather = 2", "parallel_leader_participation = off"):
    conn.execute("SET " + setting)
def scan_node(plan):
    if plan.get("Parallel Aware") and plan["Node Type"] == "Foreign Scan":
        return plan
    for child in plan.get("Plans", []):
        found = scan_node(child)
        if found:
            return found
for where in ("v % 4 = 0", "v > 250000 AND host <> 'h3'"):
    query = f"SELECT v FROM db.m WHERE {where}"
    plan = conn.execute("EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) " + query).fetchone()[0][0]["Plan"]
    scan = scan_node(plan)
    workers = [w["Actual Rows"] for w in scan["Workers"]]
    rows = conn.execute(f"SELECT count(*), count(DISTINCT v) FROM ({query} OFFSET 0) s").fetchone()
    print(plan["Workers Launched"], len(workers), sum(workers), *rows)
"#;
    let printed = run_python(script, &[&cluster.dsn("postgres")]);
    // 250,000 multiples of 4; above 250,000, 675,000 rows not of host h3 (v % 10 <> 3).
    assert_eq!(
        printed.trim(),
        "2 2 250000 250000 250000\n2 2 675000 675000 675000",
        "workers launched, workers reporting, their rows, then rows and distinct values"
    );
}
