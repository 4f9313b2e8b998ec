//! The real binary: started as a process, probed by its `healthcheck` subcommand, stopped
//! with SIGTERM while a request is in flight, its access lines read from its stdout.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_until_healthy(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(url).send().await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never became healthy at {url}");
}

/// Starts the binary on free loopback ports with `extra` flags; returns it, healthy, and
/// its base URL.
async fn start_binary(extra: &[&str]) -> (Server, String) {
    start_binary_logging_to(extra, Stdio::null()).await
}

/// [`start_binary`], its stdout (the log) going to `log`.
async fn start_binary_logging_to(extra: &[&str], log: Stdio) -> (Server, String) {
    let (port, metrics) = (free_port(), free_port());
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_product-search"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--metrics-listen",
                &format!("127.0.0.1:{metrics}"),
            ])
            .args(extra)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_until_healthy(&reqwest::Client::new(), &format!("{base}/health")).await;
    (server, base)
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero() {
    let (mut server, base) = start_binary(&["--count", "300", "--shutdown-delay-ms", "300"]).await;
    let client = reqwest::Client::new();

    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/products/search?q=the&limit=100");
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    let status = Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    assert!(status.success());

    assert_eq!(in_flight.await.unwrap().expect("the in-flight request is answered"), 200);
    exits_zero(&mut server).await;
}

/// Waits (at most 10 s) for the server to exit; fails if it did not, or exited non-zero.
async fn exits_zero(server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
}

#[tokio::test]
async fn every_request_has_a_plain_access_line_written_out_by_the_exit() {
    let path =
        std::env::temp_dir().join(format!("product-search-log-{}-{}", std::process::id(), free_port()));
    let log = std::fs::File::create(&path).unwrap();
    let (mut server, base) = start_binary_logging_to(&["--count", "100"], Stdio::from(log)).await;
    let client = reqwest::Client::new();
    let ids: Vec<String> = (0..300).map(|i| format!("access-line-{i}")).collect();
    for id in &ids {
        let response = client.get(format!("{base}/health")).header("x-request-id", id).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let status = Command::new("kill").args(["-TERM", &server.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    exits_zero(&mut server).await;

    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    // A file gets no terminal colours; the line written just before the exit is there too.
    assert!(!written.contains('\u{1b}'), "escape codes in {}", &written[..written.len().min(500)]);
    assert!(written.lines().last().is_some_and(|line| line.ends_with("stopped")), "{written}");
    let answered: Vec<&str> =
        written.lines().filter(|line| line.contains("finished processing request")).collect();
    for id in &ids {
        let line = format!("request_id=\"{id}\"");
        assert_eq!(
            answered.iter().filter(|l| l.contains(&line) && l.contains("status=200")).count(),
            1,
            "{id}"
        );
    }
}

#[tokio::test]
async fn the_healthcheck_subcommand_passes_on_a_healthy_server_and_fails_otherwise() {
    let (_server, base) = start_binary(&["--count", "100"]).await;
    let health = format!("{base}/health");
    let probe = |url: String| {
        Command::new(env!("CARGO_BIN_EXE_product-search"))
            .args(["healthcheck", "--url", &url, "--timeout-ms", "1000"])
            .output()
            .unwrap()
    };

    assert!(probe(health).status.success());
    let missing = probe(format!("{base}/no-such-path"));
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
    assert_eq!(probe(format!("http://127.0.0.1:{}/health", free_port())).status.code(), Some(1));
}
