//! Logging: text or JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Every request writes an access line, so the lines are written off the request path: a
//! logging thread takes them from a queue and writes as many as are waiting in one
//! `write` (a line each when traffic is light, a batch under load). A full queue makes the
//! request wait rather than lose its line. Colours only when stdout is a terminal and
//! `NO_COLOR` is unset: a file or a log shipper gets plain text.

use std::ffi::OsStr;
use std::io::{BufWriter, IsTerminal, Write};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines waiting to be written before a request that logs waits for room.
const QUEUED_LINES: usize = 16_384;

/// Installs the global subscriber; call once, at start-up. Keep the guard until exit:
/// dropping it writes out the lines still queued.
#[must_use = "dropping the guard stops the logging thread"]
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = queued(BufWriter::new(std::io::stdout()), QUEUED_LINES);
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

/// Lines written to `out` by a thread of their own, through a queue of `lines`: a full
/// queue makes the writer wait, and dropping the guard writes out what is still queued.
fn queued<W: Write + Send + 'static>(out: W, lines: usize) -> (NonBlocking, WorkerGuard) {
    NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(lines)
        .thread_name("log-writer")
        .finish(out)
}

/// Whether log lines are coloured: on a terminal, unless `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
fn colours(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that takes a millisecond per write, so the queue in front of it fills.
    struct Slow(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(std::time::Duration::from_millis(1));
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_queue_loses_no_line_and_the_guard_writes_out_the_rest() {
        let written = std::sync::Arc::default();
        let (mut lines, guard) = queued(Slow(std::sync::Arc::clone(&written)), 4);
        for i in 0..200 {
            lines.write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let expected: String = (0..200).map(|i| format!("line {i}\n")).collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(colours(true, Some(OsStr::new(""))));
        assert!(!colours(true, Some(OsStr::new("1"))));
        assert!(!colours(false, None));
    }
}
