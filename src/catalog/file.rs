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

#[cfg(test)]
mod tests {
    use super::*;

    /// `lines` written to a file of this test's own, loaded.
    fn load(test: &str, lines: &[&str]) -> anyhow::Result<Vec<Product>> {
        let path = std::env::temp_dir().join(format!("catalogue-{}-{test}.jsonl", std::process::id()));
        std::fs::write(&path, lines.join("\n")).unwrap();
        let loaded = load_jsonl(&path);
        std::fs::remove_file(&path).unwrap();
        loaded
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
        let written = serde_json::to_value(&products[0]).unwrap();
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
