//! A real PostgreSQL server for the tests, from the `postgresql` package's binaries:
//! `initdb` into a temporary folder (as the `postgres` user when the tests run as root), a
//! free port on 127.0.0.1, stopped when the test process ends. Each test gets a database of
//! its own on the shared server; a test that stops the server gets a private one.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub struct PgServer {
    pub port: u16,
    data: PathBuf,
    bin: PathBuf,
}

/// The server shared by every test of this process, started on first use.
pub fn shared() -> &'static PgServer {
    static SERVER: OnceLock<PgServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = PgServer::start();
        server.stop_when_this_process_ends();
        server
    })
}

/// A fresh, empty database on the shared server; its URL.
pub async fn database() -> String {
    shared().create_database().await
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.flatten().map(|d| d.path().join("bin")).filter(|b| b.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install Debian's \
             `postgresql` package (scripts/test.sh installs it when missing)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// `program args...`, as the `postgres` user when we are root (initdb refuses root).
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn run(mut command: Command, what: &str) {
    let output = command.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PgServer {
    /// initdb and start a server on a free loopback port.
    pub fn start() -> Self {
        let bin = bin_dir();
        let data =
            std::env::temp_dir().join(format!("product-search-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&data).unwrap();
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:postgres").arg(&data);
                    c
                },
                "chown of the data folder",
            );
        }
        let mut initdb = as_server_user(&bin.join("initdb"));
        initdb.args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"]).arg(data.join("db"));
        run(initdb, "initdb");
        let server = Self { port: free_port(), data, bin };
        server.resume();
        server
    }

    /// Starts the (stopped) server again, on the same port and data.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c max_connections=300",
            self.port,
            self.data.display()
        );
        let mut start = as_server_user(&self.bin.join("pg_ctl"));
        start
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.data.join("log"))
            .arg("-D")
            .arg(self.data.join("db"))
            .arg("start");
        run(start, "pg_ctl start");
    }

    /// Stops the server (fast: open connections are cut, as when a database goes away).
    pub fn pause(&self) {
        let mut stop = as_server_user(&self.bin.join("pg_ctl"));
        stop.args(["-w", "-m", "fast", "-D"]).arg(self.data.join("db")).arg("stop");
        run(stop, "pg_ctl stop");
    }

    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub async fn create_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin =
            PgConnection::connect(&self.admin_url()).await.expect("connecting to the test server");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A watcher process that stops the server and removes its folder once this test
    /// process has exited, however it exits.
    fn stop_when_this_process_ends(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let db = self.data.join("db");
        let as_user = if is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {as_user}{} -D {} -m immediate stop; rm -rf {}",
            pg_ctl.display(),
            db.display(),
            self.data.display(),
            pid = std::process::id(),
        );
        // Left running on purpose: it outlives this process to stop the server.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the server's watcher");
    }
}

impl Drop for PgServer {
    /// A private server stops with its test.
    fn drop(&mut self) {
        let mut stop = as_server_user(&self.bin.join("pg_ctl"));
        stop.args(["-m", "immediate", "-D"]).arg(self.data.join("db")).arg("stop");
        let _ = stop.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
