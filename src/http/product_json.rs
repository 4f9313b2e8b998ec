//! Products' JSON, kept for the products searches return. Writing a product's JSON reads
//! each of its strings, each elsewhere in memory; reading JSON written before reads one
//! piece. Pages of results return the same products again and again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use data_gen::Product;
use serde_json::value::RawValue;

/// Bytes of JSON kept, over every product, before the store is cleared whole.
const CAPACITY: usize = 16 << 20;

#[derive(Default)]
pub struct ProductJson {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    /// By product id: the product the JSON was written from, and the JSON.
    products: HashMap<u64, (Arc<Product>, Arc<RawValue>)>,
    bytes: usize,
}

impl ProductJson {
    /// Each product's JSON, as `serde_json` writes the product. Kept JSON stands only for
    /// the very product it was written from: a write replaces the product, and its JSON is
    /// written again.
    pub fn of(&self, products: &[&Arc<Product>]) -> serde_json::Result<Vec<Arc<RawValue>>> {
        let mut kept = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        products
            .iter()
            .map(|&product| {
                if let Some((from, json)) = kept.products.get(&product.product_id)
                    && Arc::ptr_eq(from, product)
                {
                    return Ok(json.clone());
                }
                let json: Arc<RawValue> = serde_json::value::to_raw_value(&**product)?.into();
                let bytes = json.get().len();
                if kept.bytes + bytes > CAPACITY {
                    *kept = Kept::default();
                }
                kept.bytes += bytes;
                kept.products.insert(product.product_id, (Arc::clone(product), json.clone()));
                Ok(json)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64, name: &str) -> Arc<Product> {
        Arc::new(
            serde_json::from_value(serde_json::json!({"product_id": id, "name": name, "price": 1.5}))
                .unwrap(),
        )
    }

    #[test]
    fn json_is_the_products_own_and_follows_a_replaced_product() {
        let store = ProductJson::default();
        let lamp = product(7, "Desk \"Lamp\"");
        let json = store.of(&[&lamp, &lamp]).unwrap();
        assert_eq!(json[0].get(), serde_json::to_string(&*lamp).unwrap());
        assert!(Arc::ptr_eq(&json[0], &json[1]), "written once");
        let replaced = product(7, "Floor Lamp");
        assert_eq!(store.of(&[&replaced]).unwrap()[0].get(), serde_json::to_string(&*replaced).unwrap());
    }
}
