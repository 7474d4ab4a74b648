//! Pushed-down queries in a real cluster: a statement timeout stops a long query in the
//! engine promptly and leaves the session usable; a session's row estimates follow other
//! sessions' writes.

use std::time::{Duration, Instant};

use tsparquet_e2e::{run_python, Cluster};

/// A pushed-down filter whose rows Postgres then aggregates: it runs for a while, and the
/// engine hands back rows batch by batch.
const QUERY: &str = "SELECT sum(length(host)) FROM db.m WHERE v > 0 AND host LIKE 'h%'";

#[test]
fn a_statement_timeout_stops_a_pushed_down_query_and_the_session_goes_on() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    cluster.psql(
        "SELECT written FROM (SELECT string_agg(format('m,host=h%s v=%si %s', i % 50, i, i), E'\\n') AS lines
                              FROM generate_series(1, 1000000) i) input,
                             tsparquet.write_lp('db', input.lines, 's')",
    );
    let plan = cluster.psql(&format!("EXPLAIN (COSTS OFF) {QUERY}"));
    assert!(plan.contains("Pushed Filter"), "{plan}");

    let started = Instant::now();
    assert_eq!(cluster.psql(QUERY), "2800000");
    let whole = started.elapsed();
    assert!(
        whole > Duration::from_millis(400),
        "the query must run long enough to be stopped midway: {whole:?}"
    );

    let started = Instant::now();
    let output = cluster
        .client("psql")
        .args(["-X", "-q", "-A", "-t", "-d", "postgres"])
        .args(["-c", "SET statement_timeout = '100ms'"])
        .args(["-c", QUERY])
        .args(["-c", "RESET statement_timeout"])
        .args(["-c", "SELECT count(*) FROM db.m WHERE host = 'h7'"])
        .output()
        .expect("run psql");
    let stopped = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("canceling statement due to statement timeout"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "20000");
    assert!(
        stopped < whole / 2,
        "stopped after {stopped:?}; the whole query takes {whole:?}"
    );
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
