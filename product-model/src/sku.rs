//! The SKU rule: no two products hold the same SKU, where SKUs are the same when they match
//! ignoring case and everything but letters and digits (`abc-123` is `ABC 123`). A search
//! for a SKU finds it written either way by the same key.

use std::collections::HashMap;

use crate::product::Product;

/// The key SKUs are compared and looked up by: their letters and digits, lowercased.
pub fn sku_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        // Nearly every SKU is ASCII, and every one is keyed as it is indexed: an ASCII
        // character is settled by ASCII's rules (the same as Unicode's there) without
        // going through a lower-casing iterator.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                key.push(c.to_ascii_lowercase());
            }
        } else if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        }
    }
    key
}

/// The first product of `products` (in order) whose SKU another product holds once all of
/// them are written, given each SKU key's owners after the write: the rule both stores apply
/// to a bulk write. Names the product's position, its SKU and the other owner (the lowest id).
pub fn first_sku_conflict(
    products: &[Product],
    owners: &HashMap<String, Vec<u64>>,
) -> Option<(usize, String, u64)> {
    products.iter().enumerate().find_map(|(i, product)| {
        let sku = product.sku.as_deref()?;
        let other = owners.get(&sku_key(sku))?.iter().copied().filter(|&o| o != product.product_id).min()?;
        Some((i, sku.to_owned(), other))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_sku(product_id: u64, sku: &str) -> Product {
        Product { sku: Some(sku.into()), ..Product::bare(product_id) }
    }

    #[test]
    fn skus_match_ignoring_case_and_punctuation() {
        assert_eq!(sku_key("ABC-123-xyz"), "abc123xyz");
        assert_eq!(sku_key("abc 123 XYZ"), sku_key("ABC-123-XYZ"));
        assert_ne!(sku_key("ABC-123"), sku_key("ABC-124"));
    }

    proptest::proptest! {
        /// A key keeps a SKU's letters and digits, each lower-cased by Unicode's rules,
        /// whatever mix of scripts it is written in.
        #[test]
        fn a_key_is_the_letters_and_digits_lower_cased(text in "([ -~]|\\PC){0,40}") {
            let unicode: String = text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
            proptest::prop_assert_eq!(sku_key(&text), unicode);
        }
    }

    #[test]
    fn skus_beyond_ascii_keep_their_letters_and_digits() {
        assert_eq!(sku_key("ÉCLAIR-Ⅻ-٣"), "éclairⅻ٣");
        assert_eq!(sku_key("ΟΔΟΣ 12"), "οδοσ12");
    }

    #[test]
    fn the_first_product_whose_sku_another_holds_is_named_with_the_lowest_other_owner() {
        let products = [with_sku(1, "A-1"), with_sku(2, "b-2"), with_sku(3, "C-3")];
        let owners = HashMap::from([
            (sku_key("A-1"), vec![1]),
            (sku_key("B-2"), vec![9, 2, 7]),
            (sku_key("C-3"), vec![3, 4]),
        ]);
        assert_eq!(first_sku_conflict(&products, &owners), Some((1, "b-2".to_owned(), 7)));
        let alone = HashMap::from([(sku_key("A-1"), vec![1])]);
        assert_eq!(first_sku_conflict(&products[..1], &alone), None);
        assert_eq!(first_sku_conflict(&[Product::bare(5)], &owners), None);
    }
}
