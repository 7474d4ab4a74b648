//! `COPY <database> FROM STDIN WITH (FORMAT lineprotocol)` from real clients: psql (piped
//! and `\copy`), psycopg 3's COPY API, and a gigabyte streamed through one backend.

use std::io::Write;
use std::process::Stdio;

use tsparquet_e2e::{run_python, Cluster};

/// Escapes, quotes, backslashes, a tab and a newline inside string fields: every byte must
/// arrive as sent.
const ESCAPED: &str =
    "esc,tag\\ key=a\\,b\\=c field\\ one=\"quote \\\" backslash \\\\ tab\tend\",n=1i 1\n\
esc,tag\\ key=x\\\\y s=\"two\nlines \\n kept\",n=2i 2\n\
esc,tag\\ key=\\\"q\\\" s=\"C:\\path\\to\",n=3i 3\n";

const ESC_ROWS: &str =
    "SELECT time_ns, \"tag key\", \"field one\", s, n FROM {db}.esc ORDER BY time_ns";

fn with_extension() -> Cluster {
    let cluster = Cluster::start();
    cluster.psql("CREATE EXTENSION tsparquet");
    cluster
}

/// Runs psql with `input` on its standard input; returns its standard output.
fn psql_with_input(cluster: &Cluster, args: &[&str], input: &[u8]) -> String {
    let mut child = cluster
        .client("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-d", "postgres"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run psql");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to psql");
    let output = child.wait_with_output().expect("psql ends");
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn rows(cluster: &Cluster, database: &str) -> String {
    cluster.psql(&ESC_ROWS.replace("{db}", database))
}

#[test]
fn psql_pipes_and_copies_line_protocol_byte_exact() {
    let cluster = with_extension();
    let out = psql_with_input(
        &cluster,
        &["-c", "COPY piped FROM STDIN WITH (FORMAT lineprotocol)"],
        ESCAPED.as_bytes(),
    );
    assert_eq!(out.trim(), "COPY 3", "the command tag counts lines written");

    let file = std::env::temp_dir().join(format!("tsp-copy-{}.lp", std::process::id()));
    std::fs::write(&file, ESCAPED).expect("write the file");
    let out = psql_with_input(
        &cluster,
        &[
            "-c",
            &format!(
                "\\copy from_file from '{}' with (format lineprotocol)",
                file.display()
            ),
        ],
        b"",
    );
    std::fs::remove_file(&file).expect("remove the file");
    assert_eq!(out.trim(), "COPY 3");

    let sql_literal = ESCAPED.replace('\'', "''");
    cluster.psql(&format!(
        "SELECT tsparquet.write_lp('by_function', $lp${sql_literal}$lp$)"
    ));
    let expected = rows(&cluster, "by_function");
    assert_eq!(cluster.psql("SELECT count(*) FROM by_function.esc"), "3");
    assert!(
        expected.contains("quote \" backslash \\ tab\tend"),
        "{expected}"
    );
    assert!(expected.contains("C:\\path\\to"), "{expected}");
    assert_eq!(rows(&cluster, "piped"), expected);
    assert_eq!(rows(&cluster, "from_file"), expected);
}

#[test]
fn psycopg_copy_writes_raw_bytes() {
    let cluster = with_extension();
    // Written in pieces of 7 bytes, so that lines, escapes and UTF-8 are cut mid-way.
    let script = r#"
import sys, psycopg
dsn, data = sys.argv[1], sys.argv[2].encode()
with psycopg.connect(dsn) as conn, conn.cursor() as cur:
    with cur.copy("COPY from_python FROM STDIN WITH (FORMAT lineprotocol, PRECISION 'ns')") as copy:
        for at in range(0, len(data), 7):
            copy.write(data[at:at + 7])
    print(cur.rowcount)
"#;
    let data = format!("{ESCAPED}utf8,lang=日本語 word=\"é€\" 4\n");
    let said = run_python(script, &[&cluster.dsn("postgres"), &data]);
    assert_eq!(said.trim(), "4");

    let sql_literal = ESCAPED.replace('\'', "''");
    cluster.psql(&format!(
        "SELECT tsparquet.write_lp('by_function', $lp${sql_literal}$lp$, 'ns')"
    ));
    assert_eq!(rows(&cluster, "from_python"), rows(&cluster, "by_function"));
    assert_eq!(
        cluster.psql("SELECT lang, word FROM from_python.utf8"),
        "日本語|é€"
    );
}

#[test]
fn a_copy_that_fails_midway_leaves_nothing() {
    let cluster = with_extension();
    // About 40 MiB of one day: its rows are kept until they hold 16 MiB decoded, so the first
    // two chunks are stored as a file before the client gives up.
    let script = r#"
import sys, psycopg
dsn = sys.argv[1]
line = b'm,host=h%d payload="' + b'x' * 400 + b'",n=%di %d\n'
with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
    try:
        with cur.copy("COPY failing FROM STDIN WITH (FORMAT lineprotocol, PRECISION 's')") as copy:
            for i in range(100_000):
                copy.write(line % (i % 10, i, 1_600_000_000 + i))
            raise RuntimeError("the client gives up")
    except RuntimeError:
        # psycopg has sent CopyFail; the server ended the COPY with an ERROR.
        print("gave up;", conn.execute("SELECT 'session still usable'").fetchone()[0])
"#;
    let said = run_python(script, &[&cluster.dsn("postgres")]);
    assert_eq!(said.trim(), "gave up; session still usable");
    assert_eq!(
        cluster.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'failing'"),
        "0"
    );
    assert_eq!(cluster.psql("SELECT count(*) FROM tsparquet.files"), "0");
}

#[test]
fn a_gigabyte_streams_through_bounded_memory() {
    const TOTAL: usize = 1 << 30;
    let cluster = with_extension();
    let mut child = cluster
        .client("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            "postgres",
        ])
        .args([
            "-c",
            "COPY big FROM STDIN WITH (FORMAT lineprotocol, PRECISION 's')",
        ])
        .args([
            "-c",
            "SELECT pg_read_file('/proc/' || pg_backend_pid() || '/status')",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run psql");
    let mut stdin = child.stdin.take().expect("stdin");
    // 100 series, a kilobyte per line: a million lines.
    let payload = "abcdefghij".repeat(100);
    let writer = std::thread::spawn(move || {
        let mut written = 0;
        let mut lines = 0u64;
        let mut block = String::with_capacity(1 << 20);
        while written < TOTAL {
            block.clear();
            while block.len() < (1 << 20) - 2048 {
                use std::fmt::Write as _;
                writeln!(
                    block,
                    "big,host=h{} payload=\"{payload}{lines}\",n={lines}i {}",
                    lines % 100,
                    1_600_000_000 + lines / 100
                )
                .expect("format a line");
                lines += 1;
            }
            stdin.write_all(block.as_bytes()).expect("write to psql");
            written += block.len();
        }
        lines
    });
    let output = child.wait_with_output().expect("psql ends");
    let lines = writer.join().expect("the writer finishes");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status = String::from_utf8_lossy(&output.stdout);
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    eprintln!(
        "1 GiB, {lines} lines: peak backend RSS {} MiB",
        peak_kib / 1024
    );
    assert!(
        peak_kib < 512 * 1024,
        "peak RSS {} MiB for a 1 GiB COPY",
        peak_kib / 1024
    );
    assert_eq!(
        cluster.psql("SELECT count(*), count(DISTINCT host), max(n) FROM big.big"),
        format!("{lines}|100|{}", lines - 1)
    );
    // The rows were kept until their day held 16 MiB decoded, and stored as one file: every
    // file but the last holds that much (a little less once its tags' dictionaries are put
    // together), where storing chunk by chunk made a file per 16 MiB chunk and thread.
    let files = cluster.psql(
        "SELECT count(*), count(*) FILTER (WHERE memory_size < 15 * 1024 * 1024) \
         FROM tsparquet.files",
    );
    eprintln!("files, and of them under 15 MiB decoded: {files}");
    let (all, small) = files.split_once('|').expect("two counts");
    assert!(all.parse::<usize>().expect("a count") > 1, "{files}");
    assert!(small.parse::<usize>().expect("a count") <= 1, "{files}");
}
