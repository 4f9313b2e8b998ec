//! Products' JSON, kept for the products searches return. Writing a product's JSON reads
//! each of its strings, each elsewhere in memory; reading JSON written before reads one
//! piece. Pages of results return the same products again and again.

use std::sync::Arc;

use product_model::Product;
use serde_json::value::RawValue;

use crate::kept::Kept;

/// Bytes of JSON kept, over every product, before the store is cleared whole.
const CAPACITY: usize = 16 << 20;

/// By product id: the product the JSON was written from, and the JSON.
pub struct ProductJson {
    kept: Kept<u64, (Arc<Product>, Arc<RawValue>)>,
}

impl Default for ProductJson {
    fn default() -> Self {
        Self { kept: Kept::new(CAPACITY) }
    }
}

impl ProductJson {
    /// Each product's JSON, as `serde_json` writes the product. Kept JSON stands only for
    /// the very product it was written from: a write replaces the product, and its JSON is
    /// written again.
    pub fn of(&self, products: &[&Arc<Product>]) -> serde_json::Result<Vec<Arc<RawValue>>> {
        let kept = self.kept.get_each(
            products,
            |product| product.product_id,
            |&product, (from, json)| Arc::ptr_eq(from, product).then(|| Arc::clone(json)),
        );
        products
            .iter()
            .zip(kept)
            .map(|(&product, kept)| {
                if let Some(json) = kept {
                    return Ok(json);
                }
                let json: Arc<RawValue> = serde_json::value::to_raw_value(&**product)?.into();
                let bytes = json.get().len();
                self.kept.insert(product.product_id, (Arc::clone(product), json.clone()), bytes);
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
        let chair = product(8, "Chair");
        let first = store.of(&[&lamp, &chair]).unwrap();
        assert_eq!(first[0].get(), serde_json::to_string(&*lamp).unwrap());
        assert_eq!(first[1].get(), serde_json::to_string(&*chair).unwrap());
        let again = store.of(&[&chair, &lamp]).unwrap();
        assert!(Arc::ptr_eq(&again[0], &first[1]) && Arc::ptr_eq(&again[1], &first[0]), "written once");
        let replaced = product(7, "Floor Lamp");
        let json = store.of(&[&replaced, &chair]).unwrap();
        assert_eq!(json[0].get(), serde_json::to_string(&*replaced).unwrap());
        assert!(Arc::ptr_eq(&json[1], &first[1]), "the chair's JSON is kept");
    }
}
