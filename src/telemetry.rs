//! Logging: text or JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Every request writes an access line, so the lines are written off the request path: a
//! logging thread takes them from a queue and writes as many as are waiting in one
//! `write` (a line each when traffic is light, a batch under load). A full queue makes the
//! request wait rather than lose its line. Colours only when stdout is a terminal and
//! `NO_COLOR` is unset: a file or a log shipper gets plain text.

use std::io::{BufWriter, IsTerminal};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines waiting to be written before a request that logs waits for room.
const QUEUED_LINES: usize = 16_384;

/// Installs the global subscriber; call once, at start-up. Keep the guard until exit:
/// dropping it writes out the lines still queued.
#[must_use = "dropping the guard stops the logging thread"]
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("log-writer")
        .finish(BufWriter::new(std::io::stdout()));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colours()).with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
    guard
}

/// Whether log lines are coloured: on a terminal, unless `NO_COLOR` is set to anything
/// (<https://no-color.org>).
fn colours() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
