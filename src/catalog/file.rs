//! Catalogue files: one JSON product per line, as `--catalog` loads and the export writes.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use anyhow::{Context, bail};
use product_model::{Product, check_product};
use rayon::prelude::*;

/// Bytes of whole lines read before they are parsed, on every core: enough to keep the
/// cores busy, little next to the products they become.
const BATCH_BYTES: usize = 8 << 20;

/// Reads a catalogue of one JSON product per line, each product behind the `Arc` the
/// catalogue and the store share; blank lines are skipped. The first bad line is named by
/// its number.
pub fn load_jsonl(path: &Path) -> anyhow::Result<Vec<Arc<Product>>> {
    load_in_batches(path, BATCH_BYTES)
}

/// A batch of whole lines, and where each ends (just past its `\n`, or at the end of the
/// file for a last line without one).
struct Batch {
    bytes: Vec<u8>,
    line_ends: Vec<usize>,
}

impl Batch {
    fn with_capacity(bytes: usize) -> Self {
        Self { bytes: Vec::with_capacity(bytes), line_ends: Vec::new() }
    }

    /// Line `index` of the batch, without its `\n`.
    fn line(&self, index: usize) -> &[u8] {
        let start = index.checked_sub(1).map_or(0, |before| self.line_ends[before]);
        let line = &self.bytes[start..self.line_ends[index]];
        line.strip_suffix(b"\n").unwrap_or(line)
    }
}

/// [`load_jsonl`], parsing lines in batches of about `batch_bytes`. The file is read on a
/// thread of its own, a batch ahead of the parsing, into two buffers passed back and forth
/// (buffers freed on another thread than the one that made them would stay with the
/// allocator for a while: a new one per batch took 190 MB more at 1,000,000 products).
/// The reading thread finds the lines' ends as it reads, so the cores parsing never wait
/// for a batch to be split.
fn load_in_batches(path: &Path, batch_bytes: usize) -> anyhow::Result<Vec<Arc<Product>>> {
    let file = File::open(path).with_context(|| format!("opening catalogue {}", path.display()))?;
    let (full, read) = mpsc::sync_channel(1);
    let (emptied, empty) = mpsc::channel();
    for _ in 0..2 {
        let _ = emptied.send(Batch::with_capacity(batch_bytes + (64 << 10)));
    }
    std::thread::scope(|scope| {
        scope.spawn(move || read_batches(file, batch_bytes, &empty, &full));
        parse_batches(path, read, emptied)
    })
}

/// Parses the batches of `read` in order, passing each buffer back to `emptied`. Returning
/// drops both ends, so the reading thread stops when a line is bad.
fn parse_batches(
    path: &Path,
    read: Receiver<io::Result<Batch>>,
    emptied: Sender<Batch>,
) -> anyhow::Result<Vec<Arc<Product>>> {
    let mut products = Vec::new();
    let mut lines_before = 0;
    for batch in read {
        let batch = batch.with_context(|| format!("reading {}", path.display()))?;
        let lines = batch.line_ends.len();
        let parsed: Vec<anyhow::Result<Option<Arc<Product>>>> = (0..lines)
            .into_par_iter()
            .map(|index| parse(path, lines_before + index + 1, batch.line(index)))
            .collect();
        for line in parsed {
            products.extend(line?);
        }
        lines_before += lines;
        let _ = emptied.send(batch);
    }
    Ok(products)
}

/// Fills the batches of `empty` with whole lines of `file`, about `batch_bytes` each, and
/// sends them to `full`, until the file ends, a read fails (the error is sent last) or
/// either channel's other end is gone.
fn read_batches(
    file: File,
    batch_bytes: usize,
    empty: &Receiver<Batch>,
    full: &SyncSender<io::Result<Batch>>,
) {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    for mut batch in empty {
        batch.bytes.clear();
        batch.line_ends.clear();
        let sent = match read_lines(&mut reader, &mut batch, batch_bytes) {
            Ok(()) if batch.bytes.is_empty() => return,
            Ok(()) => full.send(Ok(batch)),
            Err(error) => {
                let _ = full.send(Err(error));
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// Appends whole lines of `reader` to `batch` until it holds `batch_bytes` or the file ends.
fn read_lines(reader: &mut impl BufRead, batch: &mut Batch, batch_bytes: usize) -> io::Result<()> {
    while batch.bytes.len() < batch_bytes {
        if reader.read_until(b'\n', &mut batch.bytes)? == 0 {
            break;
        }
        batch.line_ends.push(batch.bytes.len());
    }
    Ok(())
}

/// The product on line `number` of `path`, `None` if the line is blank.
fn parse(path: &Path, number: usize, line: &[u8]) -> anyhow::Result<Option<Arc<Product>>> {
    let Ok(line) = std::str::from_utf8(line) else {
        bail!("{} line {number}: not UTF-8", path.display());
    };
    if line.trim().is_empty() {
        return Ok(None);
    }
    let product: Product = serde_json::from_str(line)
        .with_context(|| format!("{} line {number}: not a product", path.display()))?;
    if let Err(error) = check_product(&product) {
        bail!("{} line {number}: {error}", path.display());
    }
    Ok(Some(Arc::new(product)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lines` written to a file of this test's own, loaded.
    fn load(test: &str, lines: &[&str]) -> anyhow::Result<Vec<Arc<Product>>> {
        load_batched(test, &lines.join("\n"), BATCH_BYTES)
    }

    /// `text` written to a file of this test's own, loaded in batches of `batch_bytes`.
    fn load_batched(test: &str, text: &str, batch_bytes: usize) -> anyhow::Result<Vec<Arc<Product>>> {
        let path = std::env::temp_dir().join(format!("catalogue-{}-{test}.jsonl", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let loaded = load_in_batches(&path, batch_bytes);
        std::fs::remove_file(&path).unwrap();
        loaded
    }

    #[test]
    fn batches_of_any_size_load_the_same_products_and_name_the_same_bad_line() {
        let products: Vec<Arc<Product>> = data_gen::generate(5, 60).into_iter().map(Arc::new).collect();
        let mut lines: Vec<String> = products.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
        // Blank lines, one with a carriage return as Windows writes them, count as lines.
        lines.insert(10, String::new());
        lines.insert(20, "\r".to_owned());
        lines[30].push('\r');
        let text = lines.join("\n");
        for batch_bytes in [1, 100, 1_000, BATCH_BYTES] {
            assert_eq!(
                load_batched("batches", &text, batch_bytes).unwrap(),
                products,
                "batches of {batch_bytes}"
            );
        }
        lines[45] = r#"{"product_id": 0}"#.to_owned();
        let text = lines.join("\n") + "\n";
        for batch_bytes in [1, 100, 1_000, BATCH_BYTES] {
            let error = load_batched("batches-bad", &text, batch_bytes).unwrap_err();
            assert!(
                error.to_string().ends_with("line 46: product_id must be from 1 to 9223372036854775807"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_catalogue_loads_with_its_own_attributes_and_blank_lines_skipped() {
        let products = load(
            "attributes",
            &[
                r#"{"product_id": 1, "name": "Lamp", "attributes": {"color": "red", "watts": [40, 60]}}"#,
                "",
                r#"{"product_id": 2, "name": "Chair"}"#,
            ],
        )
        .unwrap();
        assert_eq!(products.len(), 2);
        let written = serde_json::to_value(&*products[0]).unwrap();
        assert_eq!(written["attributes"], serde_json::json!({"color": "red", "watts": [40, 60]}));
        assert!(products[1].attributes.is_empty());
    }

    #[test]
    fn a_bad_line_is_named_with_its_number_and_its_problem() {
        let error = load(
            "bad-attribute",
            &[r#"{"product_id": 1}"#, r#"{"product_id": 2, "attributes": {"Colour": "red"}}"#],
        )
        .unwrap_err();
        assert!(error.to_string().ends_with(r#"line 2: attributes: "Colour" is not an attribute name (1 to 64 lowercase letters, digits and _)"#), "{error}");
        let error =
            load("mixed-array", &[r#"{"product_id": 1, "attributes": {"size": ["S", 1]}}"#]).unwrap_err();
        assert!(format!("{error:#}").contains("line 1: not a product"), "{error:#}");
        assert!(format!("{error:#}").contains("an array holds only strings or only numbers"), "{error:#}");
    }
}
