//! Catalogue files: one JSON product per line, as `--catalog` loads and the export writes.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail};
use product_model::{Product, check_product};

/// Reads a catalogue of one JSON product per line; blank lines are skipped.
pub fn load_jsonl(path: &Path) -> anyhow::Result<Vec<Product>> {
    let file = File::open(path).with_context(|| format!("opening catalogue {}", path.display()))?;
    let mut products = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let product: Product = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not a product", path.display(), number + 1))?;
        if let Err(error) = check_product(&product) {
            bail!("{} line {}: {error}", path.display(), number + 1);
        }
        products.push(product);
    }
    Ok(products)
}
