//! A whole product as a client sends it (`PUT /products/{id}`, a line of a bulk upsert):
//! checked field by field in the catalogue file's order, the first problem reported in the
//! words of the details validation.

use data_gen::Product;
use serde_json::{Map, Value};

use super::details::{self, DetailsError, MAX_MANUFACTURER_CHARS, MAX_SKU_CHARS};

/// The largest product id: ids are stored as 64-bit signed integers.
pub const MAX_PRODUCT_ID: u64 = i64::MAX as u64;

const MAX_NAME_CHARS: usize = 500;
const MAX_LABEL_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Validates a parsed JSON product. Only `product_id` is required; when `path_id` is given
/// the body's id must equal it. Unknown fields are ignored, as in a catalogue file.
pub fn product_from_json(body: &Value, path_id: Option<u64>) -> Result<Product, DetailsError> {
    let Some(fields) = body.as_object() else {
        return Err(DetailsError("Invalid JSON: expected a JSON object".into()));
    };
    let product_id = details::integer(fields, "product_id", 1)?;
    if product_id > MAX_PRODUCT_ID {
        return Err(DetailsError(format!("product_id must be <= {MAX_PRODUCT_ID}")));
    }
    if path_id.is_some_and(|id| id != product_id) {
        return Err(DetailsError("product_id must equal productId".into()));
    }
    Ok(Product {
        product_id,
        name: optional(fields, "name", |f, n| details::text(f, n, MAX_NAME_CHARS))?,
        brand: optional(fields, "brand", |f, n| details::text(f, n, MAX_LABEL_CHARS))?,
        category: optional(fields, "category", |f, n| details::text(f, n, MAX_LABEL_CHARS))?,
        description: optional(fields, "description", |f, n| details::text(f, n, MAX_DESCRIPTION_CHARS))?,
        price: optional(fields, "price", |f, n| number(f, n, 0.0, f64::MAX))?,
        rating: optional(fields, "rating", |f, n| number(f, n, 0.0, 5.0))?,
        in_stock: optional(fields, "in_stock", boolean)?,
        sku: optional(fields, "sku", |f, n| details::text(f, n, MAX_SKU_CHARS))?,
        manufacturer: optional(fields, "manufacturer", |f, n| details::text(f, n, MAX_MANUFACTURER_CHARS))?,
        category_id: optional(fields, "category_id", |f, n| details::integer(f, n, 1))?,
        weight: optional(fields, "weight", |f, n| details::integer(f, n, 0))?,
        some_other_id: optional(fields, "some_other_id", |f, n| details::integer(f, n, 1))?,
    })
}

/// Holds a product read as a typed value (a line of a catalogue file) to the bounds
/// [`product_from_json`] sets, so every product served is one a write could have made.
pub fn check_product(product: &Product) -> Result<(), DetailsError> {
    if !(1..=MAX_PRODUCT_ID).contains(&product.product_id) {
        return Err(DetailsError(format!("product_id must be from 1 to {MAX_PRODUCT_ID}")));
    }
    let texts = [
        ("name", &product.name, MAX_NAME_CHARS),
        ("brand", &product.brand, MAX_LABEL_CHARS),
        ("category", &product.category, MAX_LABEL_CHARS),
        ("description", &product.description, MAX_DESCRIPTION_CHARS),
        ("sku", &product.sku, MAX_SKU_CHARS),
        ("manufacturer", &product.manufacturer, MAX_MANUFACTURER_CHARS),
    ];
    for (name, value, max) in texts {
        if let Some(text) = value {
            details::check_text(name, text, max)?;
        }
    }
    if product.price.is_some_and(|price| !(price >= 0.0 && price.is_finite())) {
        return Err(DetailsError("price must be >= 0".into()));
    }
    if product.rating.is_some_and(|rating| !(0.0..=5.0).contains(&rating)) {
        return Err(DetailsError("rating must be from 0 to 5".into()));
    }
    for (name, value) in [("category_id", product.category_id), ("some_other_id", product.some_other_id)] {
        if value == Some(0) {
            return Err(DetailsError(format!("{name} must be >= 1")));
        }
    }
    Ok(())
}

/// A field that may be missing or null; present, it must pass `check`.
fn optional<T>(
    fields: &Map<String, Value>,
    name: &str,
    check: impl Fn(&Map<String, Value>, &str) -> Result<T, DetailsError>,
) -> Result<Option<T>, DetailsError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => check(fields, name).map(Some),
    }
}

fn number(fields: &Map<String, Value>, name: &str, min: f64, max: f64) -> Result<f64, DetailsError> {
    let value = details::required(fields, name)?.as_f64();
    match value {
        None => Err(DetailsError(format!("{name} must be a number"))),
        Some(n) if max < f64::MAX && !(min..=max).contains(&n) => {
            Err(DetailsError(format!("{name} must be from {min} to {max}")))
        }
        Some(n) if n < min => Err(DetailsError(format!("{name} must be >= {min}"))),
        Some(n) => Ok(n),
    }
}

fn boolean(fields: &Map<String, Value>, name: &str) -> Result<bool, DetailsError> {
    details::required(fields, name)?
        .as_bool()
        .ok_or_else(|| DetailsError(format!("{name} must be true or false")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error_for(body: Value) -> String {
        product_from_json(&body, None).unwrap_err().0
    }

    #[test]
    fn accepts_a_generated_product_unchanged() {
        let product = data_gen::generate(3, 1).remove(0);
        let body = serde_json::to_value(&product).unwrap();
        assert_eq!(product_from_json(&body, Some(1)).unwrap(), product);
    }

    #[test]
    fn only_the_id_is_required() {
        assert_eq!(
            product_from_json(&json!({"product_id": 9, "name": null}), None).unwrap(),
            Product::bare(9)
        );
        assert_eq!(error_for(json!({"name": "x"})), "product_id is required");
    }

    #[test]
    fn every_field_is_checked_and_named() {
        assert_eq!(error_for(json!({"product_id": 1, "name": 5})), "name must be a string");
        assert_eq!(error_for(json!({"product_id": 1, "brand": ""})), "brand must be 1 to 200 characters");
        assert_eq!(error_for(json!({"product_id": 1, "price": "9"})), "price must be a number");
        assert_eq!(error_for(json!({"product_id": 1, "price": -1})), "price must be >= 0");
        assert_eq!(error_for(json!({"product_id": 1, "rating": 5.5})), "rating must be from 0 to 5");
        assert_eq!(error_for(json!({"product_id": 1, "in_stock": "yes"})), "in_stock must be true or false");
        assert_eq!(error_for(json!({"product_id": 1, "weight": -2})), "weight must be >= 0");
        assert_eq!(error_for(json!({"product_id": 1, "sku": ""})), "sku must be 1 to 100 characters");
        assert_eq!(
            error_for(json!({"product_id": 1, "name": "a\u{0}b"})),
            "name must not contain the NUL character (\\u0000)"
        );
        assert_eq!(error_for(json!({"product_id": 0})), "product_id must be >= 1");
        assert_eq!(
            error_for(json!({"product_id": u64::MAX})),
            format!("product_id must be <= {MAX_PRODUCT_ID}")
        );
    }

    #[test]
    fn a_typed_product_is_held_to_the_same_bounds() {
        let product = data_gen::generate(3, 1).remove(0);
        assert_eq!(check_product(&product), Ok(()));
        let long_name = Product { name: Some("n".repeat(501)), ..product.clone() };
        assert_eq!(check_product(&long_name).unwrap_err().0, "name must be 1 to 500 characters");
        let bad_rating = Product { rating: Some(5.5), ..product.clone() };
        assert_eq!(check_product(&bad_rating).unwrap_err().0, "rating must be from 0 to 5");
        let nul = Product { description: Some("a\0b".into()), ..product.clone() };
        assert_eq!(
            check_product(&nul).unwrap_err().0,
            "description must not contain the NUL character (\\u0000)"
        );
        let no_category = Product { category_id: Some(0), ..product };
        assert_eq!(check_product(&no_category).unwrap_err().0, "category_id must be >= 1");
        assert!(check_product(&Product::bare(0)).is_err());
    }

    #[test]
    fn the_id_must_match_the_path() {
        assert_eq!(
            product_from_json(&json!({"product_id": 2}), Some(1)).unwrap_err().0,
            "product_id must equal productId"
        );
    }
}
