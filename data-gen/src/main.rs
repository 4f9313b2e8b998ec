//! Writes a generated catalogue as JSONL (one product per line), in chunks, so catalogues far
//! larger than memory-friendly sizes stream straight to disk.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

/// Products generated and written per chunk: large enough to keep every core busy,
/// small enough to keep memory flat.
const CHUNK: u64 = 50_000;

/// Generate a deterministic synthetic product catalogue as JSONL.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Number of products to generate (ids 1..=count).
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Seed: the same seed and count always give the same catalogue.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output file; `-` writes to standard output.
    #[arg(long, default_value = "-")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sink: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?)
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let progress = ProgressBar::new(args.count).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} products ({per_sec}, eta {eta})")
            .expect("valid progress template"),
    );
    let mut start = 1;
    while start <= args.count {
        let end = (start + CHUNK - 1).min(args.count);
        for product in data_gen::generate_range(args.seed, start..=end) {
            serde_json::to_writer(&mut out, &product)?;
            out.write_all(b"\n")?;
        }
        progress.inc(end - start + 1);
        start = end + 1;
    }
    out.flush()?;
    progress.finish();
    Ok(())
}
