//! Serving the API's connections: HTTP/1.1 over hyper, with the limits a listener open to
//! anyone needs and that `axum::serve` leaves out.
//!
//! - A request's head must arrive within [`HEAD_TIMEOUT`] of its first byte, or the
//!   connection is closed: a client trickling headers holds nothing for long. (The body is
//!   read inside the handler, under the request timeout.)
//! - An idle keep-alive connection is closed after [`IDLE_TIMEOUT`], longer than a load
//!   balancer's own (the ALB's is 60 s), so the balancer always closes first and never
//!   sends a request on a connection being closed.
//! - Requests hyper refuses before they reach the router (a malformed request line or
//!   header, a head over [`MAX_HEAD_BYTES`], a target over 65,534 bytes) get the error
//!   contract's JSON body and `catalog-version`, not hyper's empty ones.
//! - Shutdown stops accepting, closes idle connections and lets requests in flight finish.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use super::error::ErrorCode;

/// How long a request's head may take to arrive, from its first byte.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a keep-alive connection may wait for its next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves `router` on `listener` until `shutdown` completes, then drains. `version` gives
/// the catalogue version stamped on the errors this layer writes itself.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    version: Arc<dyn Fn() -> u64 + Send + Sync>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // the listener itself is fine; wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Guarded::new(stream, Arc::clone(&version)));
        let service = router.clone().map_request(move |mut request: Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = graceful.watch(builder.serve_connection(io, TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Where a connection is in its current request, as far as its bytes tell.
#[derive(Debug)]
enum Phase {
    /// Between requests.
    Idle,
    /// Reading a request's head. `newlines` counts the line ends in a row seen last (a `\r`
    /// does not break a run): two end the head.
    Head { newlines: u8 },
    /// The head is in; the service has the request (its body, if any, comes meanwhile).
    Handling,
    /// A final response is being written; bytes read now begin the next request.
    Answering,
}

/// A TCP stream that enforces [`HEAD_TIMEOUT`] and rewrites hyper's bodiless error answers.
struct Guarded {
    stream: TcpStream,
    phase: Phase,
    /// The deadline of a head that did not arrive in one read: set only then, so a request
    /// whose head comes whole (nearly all of them) touches no timer.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Whether `deadline` is set for the head being read.
    deadline_set: bool,
    version: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// An answer being written in place of the one hyper wrote, and how much of it is out.
    rewritten: Option<(Vec<u8>, usize)>,
}

impl Guarded {
    fn new(stream: TcpStream, version: Arc<dyn Fn() -> u64 + Send + Sync>) -> Self {
        Self { stream, phase: Phase::Idle, deadline: None, deadline_set: false, version, rewritten: None }
    }

    /// Follows the request's head through bytes just read.
    fn observe_read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if matches!(self.phase, Phase::Idle | Phase::Answering) {
            self.phase = Phase::Head { newlines: 0 };
            self.deadline_set = false;
        }
        let Phase::Head { newlines, .. } = &mut self.phase else { return };
        for &byte in bytes {
            match byte {
                b'\n' => *newlines += 1,
                b'\r' => {}
                _ => *newlines = 0,
            }
            if *newlines == 2 {
                self.phase = Phase::Handling;
                return;
            }
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.observe_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Pending if matches!(this.phase, Phase::Head { .. }) => {
                // The head did not come whole: from now on it has HEAD_TIMEOUT to end.
                let deadline = Instant::now() + HEAD_TIMEOUT;
                let timer = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if !this.deadline_set {
                    timer.as_mut().reset(deadline);
                    this.deadline_set = true;
                }
                if timer.as_mut().poll(cx).is_ready() {
                    let late = io::Error::new(io::ErrorKind::TimedOut, "request head not received in time");
                    return Poll::Ready(Err(late));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.rewritten.is_none() {
            if let Some(answer) =
                bodiless_error(buf).then(|| contract_answer(buf, (self.version)())).flatten()
            {
                self.rewritten = Some((answer, 0));
            } else {
                if final_response_head(buf) {
                    self.phase = Phase::Answering;
                }
                return Pin::new(&mut self.stream).poll_write(cx, buf);
            }
        }
        // Write the whole replacement, then report hyper's bytes as written.
        let this = &mut *self;
        let (answer, written) = this.rewritten.as_mut().expect("set above");
        while *written < answer.len() {
            let n = ready!(Pin::new(&mut this.stream).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        this.rewritten = None;
        this.phase = Phase::Answering;
        Poll::Ready(Ok(buf.len()))
    }

    /// Vectored writes go straight to the socket (an answer's head and body without a copy),
    /// but for hyper's error head, which comes alone and is rewritten as above.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &**b);
        if self.rewritten.is_some() || bodiless_error(first) {
            return self.poll_write(cx, first);
        }
        if final_response_head(first) {
            self.phase = Phase::Answering;
        }
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Whether `bytes` begin a final (not `1xx`) response's head.
fn final_response_head(bytes: &[u8]) -> bool {
    bytes.len() > 9 && bytes.starts_with(b"HTTP/1.") && bytes[9] != b'1'
}

/// Whether `bytes` may be hyper's answer to a request it could not parse: a 4xx head alone.
fn bodiless_error(bytes: &[u8]) -> bool {
    (bytes.starts_with(b"HTTP/1.1 4") || bytes.starts_with(b"HTTP/1.0 4")) && bytes.ends_with(b"\r\n\r\n")
}

/// hyper's answer to a request it could not parse is a head alone: a 4xx with
/// `content-length: 0`. Every answer of the service's own to a 4xx has a JSON body, so such
/// a head is hyper's; this is it rewritten with the contract's body. `None` for any other.
fn contract_answer(head: &[u8], version: u64) -> Option<Vec<u8>> {
    if !bodiless_error(head) {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.trim_end_matches("\r\n").split("\r\n");
    let status_line = lines.next()?;
    let headers: Vec<&str> = lines.collect();
    let empty = headers.iter().any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    if !empty {
        return None;
    }
    let status: u16 = status_line.get(9..12)?.parse().ok()?;
    let (code, message) = match status {
        414 => (ErrorCode::UriTooLong, "the request target is too long".to_owned()),
        431 => {
            (ErrorCode::HeadersTooLarge, format!("the request's head is larger than {MAX_HEAD_BYTES} bytes"))
        }
        _ => (ErrorCode::InvalidInput, "the request is not valid HTTP/1.1".to_owned()),
    };
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut answer = format!("{status_line}\r\n");
    for header in headers.iter().filter(|h| !h.to_ascii_lowercase().starts_with("content-length:")) {
        answer.push_str(header);
        answer.push_str("\r\n");
    }
    answer.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\ncatalog-version: {version}\r\n\r\n{body}",
        body.len()
    ));
    Some(answer.into_bytes())
}

/// The peer a request came from, as the listener saw it.
pub fn peer(request: &Request) -> Option<SocketAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bodiless_errors_get_the_contracts_body_and_others_pass() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = String::from_utf8(contract_answer(head, 7).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(
            head.contains("\r\nconnection: close\r\n") && head.contains("\r\ncatalog-version: 7"),
            "{head}"
        );
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "HEADERS_TOO_LARGE");

        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 47\r\n\r\n";
        assert!(contract_answer(ours, 7).is_none());
        assert!(contract_answer(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", 7).is_none());
        assert!(contract_answer(b"{\"products\": []}", 7).is_none());
    }

    #[test]
    fn only_final_responses_end_the_handling_of_a_request() {
        assert!(final_response_head(b"HTTP/1.1 200 OK\r\n"));
        assert!(!final_response_head(b"HTTP/1.1 100 Continue\r\n\r\n"));
        assert!(!final_response_head(b"{\"a\": 1}"));
    }
}
