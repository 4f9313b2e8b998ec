//! The detail fields of a product and their validation, with the exact messages of the
//! product API: the first failing field is reported, in a fixed order.

use data_gen::Product;
use serde_json::{Map, Value};

/// A validated body of `POST /products/{id}/details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDetails {
    pub sku: String,
    pub manufacturer: String,
    pub category_id: u64,
    pub weight: u64,
    pub some_other_id: u64,
}

/// The first problem found in a details body, worded for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DetailsError(pub String);

pub(super) const MAX_SKU_CHARS: usize = 100;
pub(super) const MAX_MANUFACTURER_CHARS: usize = 200;

impl ProductDetails {
    /// Validates a parsed JSON body sent for product `path_id`. Unknown fields are ignored.
    pub fn from_json(path_id: u64, body: &Value) -> Result<Self, DetailsError> {
        let Some(fields) = body.as_object() else {
            return Err(DetailsError("Invalid JSON: expected a JSON object".into()));
        };
        let product_id = integer(fields, "product_id", 1)?;
        if product_id != path_id {
            return Err(DetailsError("product_id must equal productId".into()));
        }
        let sku = text(fields, "sku", MAX_SKU_CHARS)?;
        let manufacturer = text(fields, "manufacturer", MAX_MANUFACTURER_CHARS)?;
        Ok(Self {
            sku,
            manufacturer,
            category_id: integer(fields, "category_id", 1)?,
            weight: integer(fields, "weight", 0)?,
            some_other_id: integer(fields, "some_other_id", 1)?,
        })
    }

    /// Writes these details over the product's detail fields.
    pub fn apply_to(self, product: &mut Product) {
        product.sku = Some(self.sku);
        product.manufacturer = Some(self.manufacturer);
        product.category_id = Some(self.category_id);
        product.weight = Some(self.weight);
        product.some_other_id = Some(self.some_other_id);
    }
}

pub(super) fn required<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a Value, DetailsError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(DetailsError(format!("{name} is required"))),
        Some(value) => Ok(value),
    }
}

/// An integer field at least `min`. `1.0`, `"1"` and numbers beyond 64 bits are not integers.
pub(super) fn integer(fields: &Map<String, Value>, name: &str, min: i64) -> Result<u64, DetailsError> {
    let value = required(fields, name)?;
    let number = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n,
        _ => return Err(DetailsError(format!("{name} must be an integer"))),
    };
    match (number.as_i64(), number.as_u64()) {
        (Some(n), _) if n < min => Err(DetailsError(format!("{name} must be >= {min}"))),
        (_, Some(n)) => Ok(n),
        _ => Err(DetailsError(format!("{name} must be an integer"))),
    }
}

/// A string field of 1 to `max` characters.
pub(super) fn text(fields: &Map<String, Value>, name: &str, max: usize) -> Result<String, DetailsError> {
    let value = required(fields, name)?;
    let Some(text) = value.as_str() else {
        return Err(DetailsError(format!("{name} must be a string")));
    };
    let chars = text.chars().count();
    if chars == 0 || chars > max {
        return Err(DetailsError(format!("{name} must be 1 to {max} characters")));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"product_id":1,"sku":"ABC-123-XYZ","manufacturer":"Acme Corporation","category_id":456,"weight":1250,"some_other_id":789})
    }

    fn error_for(body: Value) -> String {
        ProductDetails::from_json(1, &body).unwrap_err().0
    }

    fn with(field: &str, value: Value) -> Value {
        let mut body = valid();
        body[field] = value;
        body
    }

    fn without(field: &str) -> Value {
        let mut body = valid();
        body.as_object_mut().unwrap().remove(field);
        body
    }

    #[test]
    fn accepts_the_transcript_body() {
        let details = ProductDetails::from_json(1, &valid()).unwrap();
        assert_eq!(details.sku, "ABC-123-XYZ");
        assert_eq!((details.category_id, details.weight, details.some_other_id), (456, 1250, 789));
    }

    #[test]
    fn reports_the_first_missing_field_in_order() {
        assert_eq!(error_for(json!({"product_id":1,"sku":"ABC-123-XYZ"})), "manufacturer is required");
        assert_eq!(error_for(json!({})), "product_id is required");
        for field in ["product_id", "sku", "manufacturer", "category_id", "weight", "some_other_id"] {
            assert_eq!(error_for(without(field)), format!("{field} is required"));
            assert_eq!(error_for(with(field, Value::Null)), format!("{field} is required"));
        }
    }

    #[test]
    fn integers_must_be_integers_and_in_range() {
        for field in ["product_id", "category_id", "weight", "some_other_id"] {
            assert_eq!(error_for(with(field, json!("7"))), format!("{field} must be an integer"));
            assert_eq!(error_for(with(field, json!(1.5))), format!("{field} must be an integer"));
            assert_eq!(error_for(with(field, json!(1.0))), format!("{field} must be an integer"));
        }
        assert_eq!(error_for(with("product_id", json!(0))), "product_id must be >= 1");
        assert_eq!(error_for(with("category_id", json!(0))), "category_id must be >= 1");
        assert_eq!(error_for(with("some_other_id", json!(-3))), "some_other_id must be >= 1");
        assert_eq!(error_for(with("weight", json!(-1))), "weight must be >= 0");
        assert!(ProductDetails::from_json(1, &with("weight", json!(0))).is_ok());
    }

    #[test]
    fn strings_must_fit_their_bounds() {
        assert_eq!(error_for(with("sku", json!(""))), "sku must be 1 to 100 characters");
        assert_eq!(error_for(with("sku", json!("x".repeat(101)))), "sku must be 1 to 100 characters");
        assert_eq!(
            error_for(with("manufacturer", json!("m".repeat(201)))),
            "manufacturer must be 1 to 200 characters"
        );
        assert_eq!(error_for(with("sku", json!(12))), "sku must be a string");
        assert!(ProductDetails::from_json(1, &with("manufacturer", json!("m".repeat(200)))).is_ok());
    }

    #[test]
    fn product_id_must_match_the_path() {
        assert_eq!(ProductDetails::from_json(2, &valid()).unwrap_err().0, "product_id must equal productId");
    }

    #[test]
    fn checks_product_id_before_sku() {
        assert_eq!(error_for(json!({"product_id":"x","sku":""})), "product_id must be an integer");
    }

    #[test]
    fn ignores_unknown_fields() {
        assert!(ProductDetails::from_json(1, &with("colour", json!("red"))).is_ok());
    }

    #[test]
    fn a_non_object_body_is_invalid_json_for_this_api() {
        assert!(error_for(json!([1, 2])).starts_with("Invalid JSON: "));
    }
}
