//! Random queries (filters, groupings, DISTINCT, aggregates, HAVING, ORDER BY with LIMIT; values
//! written out or as parameters of prepared statements) over a measurement and over a heap
//! table holding the same rows give the same results: the randomised counterpart of
//! `pushdown.sql`'s fixed list. The last seed runs where parallel plans cost nothing, so
//! every scan PostgreSQL may share among workers is a parallel one.

use tsparquet_e2e::{run_python, Cluster};

const QUERIES_PER_SEED: usize = 300;

#[test]
fn random_queries_give_what_the_heap_table_gives() {
    for (seed, parallel) in [(1, false), (2, false), (3, true)] {
        let cluster = Cluster::start();
        cluster.psql("CREATE EXTENSION tsparquet");
        if parallel {
            for setting in [
                "parallel_setup_cost = 0",
                "parallel_tuple_cost = 0",
                "min_parallel_table_scan_size = 0",
                "max_parallel_workers_per_gather = 2",
            ] {
                cluster.psql(&format!("ALTER DATABASE postgres SET {setting}"));
            }
        }
        let output = run_python(
            include_str!("random_queries.py"),
            &[
                &cluster.dsn("postgres"),
                &seed.to_string(),
                &QUERIES_PER_SEED.to_string(),
            ],
        );
        let summary = output.lines().last().unwrap_or_default();
        let pushed: usize = summary
            .split(", ")
            .nth(1)
            .and_then(|part| part.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no summary line: {output}"));
        assert!(
            summary.ends_with(", 0 differences"),
            "seed {seed}:\n{output}"
        );
        // Most of the two thirds written with values (the rest are not explained) run in
        // the query engine, so that the comparison is of its results.
        assert!(
            pushed > QUERIES_PER_SEED / 2 * 2 / 3,
            "seed {seed}: {summary}"
        );
    }
}
