//! Measurement data is PostgreSQL data: it survives a crash, streams to replicas, goes
//! through pg_dump and pg_restore, takes concurrent writers, and exports as Parquet.

use tsparquet_e2e::{run_checked, run_python, Cluster};

const LINES: &str = "cpu,host=a,dc=x usage=1.5,n=1i,s=\"q\" 1451606400\\ncpu,host=b usage=2.5,n=2i 1451606410\\nmem,host=a free=7u,ok=true 1451606400";
const CPU: &str = "SELECT host, dc, usage, n, s, time_ns FROM telegraf.cpu ORDER BY host, time_ns";

fn write(cluster: &Cluster, database: &str, lines: &str) -> String {
    cluster.psql_in(
        database,
        &format!("SELECT written FROM tsparquet.write_lp('telegraf', E'{lines}')"),
    )
}

fn with_data() -> Cluster {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    assert_eq!(write(&cluster, "postgres", LINES), "3");
    cluster
}

#[test]
fn committed_writes_survive_a_crash() {
    let cluster = with_data();
    let before = cluster.psql(CPU);
    assert_eq!(before.lines().count(), 2);
    cluster.crash();
    cluster.start_server();
    assert_eq!(cluster.psql(CPU), before);
    assert_eq!(cluster.psql("SELECT free, ok FROM telegraf.mem"), "7|t");
}

#[test]
fn a_streaming_replica_reads_the_same_rows() {
    let primary = with_data();
    let replica = Cluster::replica_of(&primary);
    replica.wait_for("postgres", "SELECT count(*) FROM telegraf.cpu", "2", 30);
    assert_eq!(replica.psql(CPU), primary.psql(CPU));
    assert_eq!(
        write(
            &primary,
            "postgres",
            "cpu,host=c usage=3,extra=9i 1451606420"
        ),
        "1"
    );
    replica.wait_for("postgres", "SELECT count(*) FROM telegraf.cpu", "3", 30);
    assert_eq!(
        replica.psql("SELECT host, extra FROM telegraf.cpu WHERE host = 'c'"),
        "c|9"
    );
}

#[test]
fn pg_dump_and_restore_round_trip_tables_and_data() {
    let cluster = with_data();
    let dump = std::env::temp_dir().join(format!("tsp-dump-{}.pgdump", std::process::id()));
    run_checked(
        cluster
            .client("pg_dump")
            .args(["-Fc", "-d", "postgres", "-f"])
            .arg(&dump),
    );
    cluster.psql("CREATE DATABASE restored");
    run_checked(
        cluster
            .client("pg_restore")
            .args(["-d", "restored"])
            .arg(&dump),
    );
    let _ = std::fs::remove_file(&dump);
    assert_eq!(cluster.psql_in("restored", CPU), cluster.psql(CPU));
    assert_eq!(
        cluster.psql_in("restored", "SELECT free, ok FROM telegraf.mem"),
        "7|t"
    );
    // The restored database goes on working: new writes merge with restored rows.
    assert_eq!(
        write(
            &cluster,
            "restored",
            "cpu,host=a,dc=x usage=9 1451606400\\nnet,host=a rx=1i 1"
        ),
        "2"
    );
    assert_eq!(
        cluster.psql_in(
            "restored",
            "SELECT usage, n FROM telegraf.cpu WHERE host = 'a'"
        ),
        "9|1"
    );
    assert_eq!(
        cluster.psql_in("restored", "SELECT count(*) FROM telegraf.mem"),
        "1"
    );
}

#[test]
fn concurrent_writers_create_the_same_table() {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..2)
            .map(|writer| {
                let cluster = &cluster;
                scope.spawn(move || {
                    cluster.try_psql_in(
                        "postgres",
                        &format!(
                            "BEGIN; SELECT written FROM tsparquet.write_lp('fresh', 'm,writer={writer} f={writer}i,g{writer}=1 1'); SELECT pg_sleep(1); COMMIT;"
                        ),
                    )
                })
            })
            .collect();
        for writer in writers {
            let output = writer.join().expect("writer thread");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    });
    assert_eq!(
        cluster.psql("SELECT writer, f, g0, g1 FROM fresh.m ORDER BY writer"),
        "0|0|1|\n1|1||1"
    );
}

#[test]
fn export_writes_parquet_files_with_every_column() {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let cluster = with_data();
    assert_eq!(
        write(
            &cluster,
            "postgres",
            "cpu,host=z usage=4,later=true 1451606430"
        ),
        "1"
    );
    let directory = cluster.data_dir().join("export");
    let files: i64 = cluster
        .psql(&format!(
            "SELECT tsparquet.export('telegraf.cpu', '{}')",
            directory.display()
        ))
        .parse()
        .unwrap();
    assert_eq!(files, 2);
    let mut rows = 0;
    for entry in std::fs::read_dir(&directory).unwrap() {
        let file = std::fs::File::open(entry.unwrap().path()).unwrap();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
        {
            let batch = batch.unwrap();
            let names: Vec<String> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(
                names,
                vec!["host", "dc", "time", "usage", "n", "s", "later"]
            );
            rows += batch.num_rows();
            let later = batch.column_by_name("later").unwrap().as_boolean();
            assert!(later.null_count() == batch.num_rows() || later.value(0));
        }
    }
    assert_eq!(rows, 3);

    cluster.psql("CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA telegraf TO reader; GRANT SELECT ON telegraf.cpu TO reader");
    let denied = cluster.try_psql_in(
        "postgres",
        &format!(
            "SET ROLE reader; SELECT tsparquet.export('telegraf.cpu', '{}')",
            directory.display()
        ),
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("permission denied to export"));
}

#[test]
fn exported_files_read_in_pyarrow_and_duckdb_as_the_table_reads() {
    let cluster = with_data();
    assert_eq!(
        write(&cluster, "postgres", "cpu,host=c usage=4.5,n=3i 1451606420"),
        "1"
    );
    let directory = cluster.data_dir().join("export");
    cluster.psql(&format!(
        "SELECT tsparquet.export('telegraf.cpu', '{}')",
        directory.display()
    ));
    let table =
        cluster.psql("SELECT host, dc, usage, n, s, time_ns FROM telegraf.cpu ORDER BY host");
    let script = r#"
import sys, duckdb, pyarrow as pa, pyarrow.parquet as pq
directory = sys.argv[1]
def line(row):
    return "|".join("" if v is None else str(v) for v in row)
table = pq.read_table(directory)
columns = [table[name].to_pylist() for name in ("host", "dc", "usage", "n", "s")]
columns.append(table["time"].cast(pa.int64()).to_pylist())
print("\n".join(line(row) for row in sorted(zip(*columns), key=lambda row: row[0])))
print("--")
rows = duckdb.sql(
    f"SELECT host, dc, usage, n, s, epoch_ns(time) FROM read_parquet('{directory}/*.parquet') ORDER BY host"
).fetchall()
print("\n".join(line(row) for row in rows))
"#;
    let printed = run_python(script, &[&directory.display().to_string()]);
    let (pyarrow, duckdb) = printed.trim().split_once("\n--\n").expect("two readers");
    assert_eq!(pyarrow, table);
    assert_eq!(duckdb, table);
}

/// Runs `sql`, which pauses in `pg_sleep`, in a session of its own; runs `meanwhile` while
/// it sleeps, and returns what the session printed.
fn while_asleep(cluster: &Cluster, sql: &str, meanwhile: impl FnOnce()) -> String {
    while_session_sleeps(cluster, || cluster.psql_in("postgres", sql), meanwhile)
}

/// Runs `session`, which pauses in `pg_sleep`, on a thread of its own; runs `meanwhile`
/// while it sleeps, and returns what `session` returns.
fn while_session_sleeps<T: Send>(
    cluster: &Cluster,
    session: impl FnOnce() -> T + Send,
    meanwhile: impl FnOnce(),
) -> T {
    std::thread::scope(|scope| {
        let session = scope.spawn(session);
        cluster.wait_for(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'",
            "1",
            20,
        );
        meanwhile();
        session.join().expect("the sleeping session succeeds")
    })
}

#[test]
fn other_sessions_see_a_write_once_it_commits() {
    let cluster = with_data();
    let count = "SELECT count(*) FROM telegraf.cpu";
    assert_eq!(cluster.psql(count), "2");
    while_asleep(
        &cluster,
        "BEGIN; SELECT tsparquet.write_lp('telegraf', 'cpu,host=c usage=3 1451606420'); \
         SELECT pg_sleep(2); COMMIT;",
        || assert_eq!(cluster.psql(count), "2", "an uncommitted write is not seen"),
    );
    assert_eq!(cluster.psql(count), "3");
}

#[test]
fn a_reader_keeps_its_snapshot_while_compaction_and_vacuum_replace_the_files() {
    let cluster = with_data();
    for second in 1..=3 {
        write(
            &cluster,
            "postgres",
            &format!("cpu,host=a,dc=x usage={second} {}", 1451606400 + second),
        );
    }
    let before = cluster.psql(CPU);
    let read = while_asleep(
        &cluster,
        &format!(
            "SET tsparquet.file_cache_size = 0; BEGIN ISOLATION LEVEL REPEATABLE READ; \
             {CPU}; SELECT pg_sleep(3); {CPU}; COMMIT;"
        ),
        || {
            // A point written again replaces its file; compaction replaces every file of
            // the day; VACUUM then removes what no snapshot but the reader's still sees.
            write(&cluster, "postgres", "cpu,host=a,dc=x usage=9 1451606400");
            cluster.psql("SET lock_timeout = '1s'; SELECT tsparquet.compact('telegraf.cpu')");
            cluster.psql("VACUUM tsparquet.files");
        },
    );
    assert_eq!(read.matches(before.as_str()).count(), 2, "{read}");
    let after = cluster.psql(CPU);
    assert_ne!(after, before);
    assert!(after.starts_with("a|x|9|"), "{after}");
}

/// A write in a REPEATABLE READ transaction whose snapshot predates another write of the
/// same measurement: what it prints (stderr with SQLSTATEs, then stdout).
fn write_after_a_concurrent_one(
    cluster: &Cluster,
    isolation: &str,
    lines: &str,
    meanwhile: &str,
) -> String {
    let output = while_session_sleeps(
        cluster,
        || {
            cluster.session(&[
                &format!("BEGIN ISOLATION LEVEL {isolation}"),
                "SELECT count(*) FROM telegraf.cpu",
                "SELECT pg_sleep(2)",
                &format!("SELECT written FROM tsparquet.write_lp('telegraf', '{lines}')"),
                "COMMIT",
            ])
        },
        || assert_eq!(write(cluster, "postgres", meanwhile), "1"),
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
}

#[test]
fn a_write_whose_snapshot_missed_a_concurrent_write_fails_to_serialize() {
    let cluster = with_data();
    // The same point, written first by another session: a write that did not see that
    // session's file would store a second row for it.
    let printed = write_after_a_concurrent_one(
        &cluster,
        "REPEATABLE READ",
        "cpu,host=a,dc=x usage=7 1451606500",
        "cpu,host=a,dc=x usage=9 1451606500",
    );
    assert!(
        printed.contains("ERROR:  40001: could not serialize access due to a concurrent write into measurement \"telegraf\".\"cpu\""),
        "{printed}"
    );
    assert_eq!(
        cluster.psql("SELECT usage FROM telegraf.cpu WHERE time_ns = 1451606500000000000"),
        "9"
    );
    // A measurement created meanwhile by another session.
    let printed = write_after_a_concurrent_one(
        &cluster,
        "SERIALIZABLE",
        "disk,host=a used=1i 1451606500",
        "disk,host=b used=2i 1451606500",
    );
    assert!(
        printed.contains("ERROR:  40001: could not serialize access due to a concurrent write into measurement \"telegraf\".\"disk\""),
        "{printed}"
    );
    assert_eq!(cluster.psql("SELECT host, used FROM telegraf.disk"), "b|2");
    // Under READ COMMITTED the write sees the other once it has the lock: the later wins.
    let printed = write_after_a_concurrent_one(
        &cluster,
        "READ COMMITTED",
        "cpu,host=a,dc=x usage=7 1451606500",
        "cpu,host=a,dc=x usage=8 1451606500",
    );
    assert!(!printed.contains("ERROR"), "{printed}");
    assert_eq!(
        cluster.psql("SELECT usage FROM telegraf.cpu WHERE time_ns = 1451606500000000000"),
        "7"
    );
    // A REPEATABLE READ transaction that wrote first and writes again meets only its own
    // changes.
    cluster.psql(
        "BEGIN ISOLATION LEVEL REPEATABLE READ; \
         SELECT tsparquet.write_lp('telegraf', 'cpu,host=a,dc=x usage=5 1451606500'); \
         SELECT tsparquet.write_lp('telegraf', 'cpu,host=a,dc=x usage=6 1451606500'); \
         SELECT tsparquet.compact('telegraf.cpu'); COMMIT",
    );
    assert_eq!(
        cluster.psql("SELECT usage FROM telegraf.cpu WHERE time_ns = 1451606500000000000"),
        "6"
    );
}

#[test]
fn dropping_the_extension_removes_its_storage() {
    let cluster = with_data();
    let refused = cluster.try_psql_in("postgres", "DROP EXTENSION tsparquet");
    assert!(
        !refused.status.success(),
        "measurement tables depend on the extension"
    );
    cluster.psql("DROP EXTENSION tsparquet CASCADE");
    assert_eq!(
        cluster.psql("SELECT count(*) FROM pg_class WHERE relname IN ('files', 'cpu', 'mem')"),
        "0"
    );
}
