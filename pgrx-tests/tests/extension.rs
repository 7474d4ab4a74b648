//! The installed extension in a fresh cluster, as a user meets it.

use tsparquet_e2e::Cluster;

#[test]
fn create_use_and_drop_in_a_fresh_cluster() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    assert_eq!(
        cluster.psql("SELECT pronamespace::regnamespace FROM pg_proc WHERE proname = 'parse_lp'"),
        "tsparquet"
    );
    assert_eq!(
        cluster.psql(
            "SELECT measurement, tags::text, fields::text, time_ns FROM tsparquet.parse_lp('cpu,host=a usage=1.5 1451606400')"
        ),
        r#"cpu|{"host": "a"}|{"usage": 1.5}|1451606400000000000"#
    );
    cluster.psql("DROP EXTENSION tsparquet");
    assert_eq!(
        cluster.psql("SELECT count(*) FROM pg_proc WHERE proname = 'parse_lp'"),
        "0"
    );
    assert_eq!(
        cluster.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'tsparquet'"),
        "0",
        "dropping the extension drops its schema"
    );
}

#[test]
fn functions_are_callable_by_an_ordinary_role() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet; CREATE ROLE reader LOGIN");
    let output = cluster.try_psql_in(
        "postgres",
        "SET ROLE reader; SELECT count(*) FROM tsparquet.parse_lp('m f=1 1')",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "1");
}
