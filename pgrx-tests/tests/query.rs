//! Pushed-down queries in a real cluster: a statement timeout stops a long query in the
//! engine promptly and leaves the session usable.

use std::time::{Duration, Instant};

use tsparquet_e2e::Cluster;

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
