//! Logging: text or JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Every request writes an access line, so the lines are written off the request path: a
//! logging thread takes them from a queue and writes as many as are waiting in one
//! `write` (a line each when traffic is light, a batch under load). A full queue makes the
//! request wait rather than lose its line. Colours only when stdout is a terminal and
//! `NO_COLOR` is unset: a file or a log shipper gets plain text.

use std::ffi::OsStr;
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colours(std::io::stdout().is_terminal(), std::env::var_os("NO_COLOR").as_deref()))
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
    guard
}

/// Whether log lines are coloured: on a terminal, unless `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
fn colours(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(colours(true, Some(OsStr::new(""))));
        assert!(!colours(true, Some(OsStr::new("1"))));
        assert!(!colours(false, None));
    }
}
