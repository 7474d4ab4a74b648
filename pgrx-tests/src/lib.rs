//! Helpers for end-to-end tests: throwaway PostgreSQL 15 clusters, started with the system's
//! binaries and the tsparquet build installed into them, driven through `psql`.
//!
//! PostgreSQL will not run as root, so when the tests run as root every server command runs
//! as the `postgres` user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const SERVER_USER: &str = "postgres";

/// A running cluster in a directory of its own, stopped and removed when dropped.
pub struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    /// Creates and starts a new cluster on a free port.
    pub fn start() -> Cluster {
        let cluster = Cluster::empty();
        run_checked(
            cluster
                .server_command("initdb")
                .args([
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ])
                .arg("-D")
                .arg(cluster.data_dir()),
        );
        cluster.configure();
        cluster.start_server();
        cluster
    }

    /// A streaming replica of `primary`, from a base backup, started and connected.
    pub fn replica_of(primary: &Cluster) -> Cluster {
        let replica = Cluster::empty();
        run_checked(
            replica
                .server_command("pg_basebackup")
                .arg("-h")
                .arg(&primary.dir)
                .args([
                    "-p",
                    &primary.port.to_string(),
                    "-U",
                    "postgres",
                    "-X",
                    "stream",
                    "-R",
                    "-D",
                ])
                .arg(replica.data_dir()),
        );
        replica.configure();
        replica.start_server();
        replica
    }

    fn empty() -> Cluster {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tsp-e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create cluster directory");
        if running_as_root() {
            run_checked(Command::new("chown").arg(SERVER_USER).arg(&dir));
        }
        Cluster {
            dir,
            port: free_port(),
        }
    }

    fn configure(&self) {
        let conf = format!(
            "port = {}\nlisten_addresses = ''\nunix_socket_directories = '{}'\n\
             shared_preload_libraries = 'tsparquet'\n",
            self.port,
            self.dir.display()
        );
        append(&self.data_dir().join("postgresql.conf"), &conf);
    }

    /// Starts the server (again, after a stop).
    pub fn start_server(&self) {
        run_checked(
            self.server_command("pg_ctl")
                .env_remove("RUST_BACKTRACE")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.dir.join("server.log"))
                .args(["-w", "start"]),
        );
    }

    /// Stops the server the way a crash would: no shutdown checkpoint, recovery from WAL
    /// at the next start.
    pub fn crash(&self) {
        run_checked(
            self.server_command("pg_ctl")
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "immediate", "-w", "stop"]),
        );
    }

    /// A libpq connection string for this cluster's `database`.
    pub fn dsn(&self, database: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={database}",
            self.dir.display(),
            self.port
        )
    }

    /// A client program (`pg_dump`, `pg_restore`, ...) connected to this cluster.
    pub fn client(&self, program: &str) -> Command {
        let mut command = Command::new(format!("{PG_BIN}/{program}"));
        command
            .arg("-h")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postgres"]);
        command
    }

    /// Runs `sql` repeatedly until it returns `expected`, for at most `seconds`.
    pub fn wait_for(&self, database: &str, sql: &str, expected: &str, seconds: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let output = self.try_psql_in(database, sql);
            let got = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if output.status.success() && got == expected {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{sql} gave {got:?}, not {expected:?}, within {seconds} s: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A new empty directory of the server's user beside its data, for a tablespace.
    pub fn server_directory(&self, name: &str) -> PathBuf {
        let dir = self.dir.join(name);
        std::fs::create_dir(&dir).expect("create a directory for the server");
        if running_as_root() {
            run_checked(Command::new("chown").arg(SERVER_USER).arg(&dir));
        }
        dir
    }

    /// Runs SQL in `database`, returning unaligned, tuples-only output; panics on any error.
    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        let output = self.try_psql_in(database, sql);
        assert!(
            output.status.success(),
            "psql failed for:\n{sql}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("psql output is UTF-8")
            .trim_end()
            .to_owned()
    }

    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    /// Runs `commands` one after another in one session of `postgres`, going on after
    /// errors, which are reported with their SQLSTATE; unaligned, tuples-only output.
    pub fn session(&self, commands: &[&str]) -> Output {
        let mut psql = self.client("psql");
        psql.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "VERBOSITY=verbose",
            "-d",
            "postgres",
        ]);
        for command in commands {
            psql.args(["-c", command]);
        }
        psql.output().expect("run psql")
    }

    /// Runs SQL in `database`, returning the outcome whether it succeeded or not.
    pub fn try_psql_in(&self, database: &str, sql: &str) -> Output {
        Command::new(format!("{PG_BIN}/psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg("-h")
            .arg(&self.dir)
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", database, "-c", sql])
            .output()
            .expect("run psql")
    }

    /// A command for one of the server binaries, run as the server's user.
    fn server_command(&self, binary: &str) -> Command {
        let path = format!("{PG_BIN}/{binary}");
        if running_as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", SERVER_USER, "--", &path]);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .server_command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn running_as_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("run id");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open postgresql.conf");
    file.write_all(text.as_bytes())
        .expect("write postgresql.conf");
}

/// Runs a command, panicking with its output if it fails.
pub fn run_checked(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The Python of the project's environment (`scripts/python-env.sh`), which has psycopg.
fn python() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        path.exists(),
        "{} is missing: run scripts/python-env.sh",
        path.display()
    );
    path
}

/// Runs a Python script with `args`; returns what it printed, failing on an error.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}
