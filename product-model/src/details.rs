//! The detail fields of a product (`POST /products/{id}/details`) and their validation,
//! with the exact messages of the product API: the first failing field is reported, in a
//! fixed order.

use serde_json::Value;

use crate::bounds::{MAX_MANUFACTURER_CHARS, MAX_SKU_CHARS};
use crate::fields::{FieldError, integer, text};
use crate::product::Product;

/// A validated body of `POST /products/{id}/details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDetails {
    pub sku: Box<str>,
    pub manufacturer: Box<str>,
    pub category_id: u64,
    pub weight: u64,
    pub some_other_id: u64,
}

impl ProductDetails {
    /// Validates a parsed JSON body sent for product `path_id`. Unknown fields are ignored.
    pub fn from_json(path_id: u64, body: &Value) -> Result<Self, FieldError> {
        let Some(fields) = body.as_object() else {
            return Err(FieldError("Invalid JSON: expected a JSON object".into()));
        };
        let product_id = integer(fields, "product_id", 1)?;
        if product_id != path_id {
            return Err(FieldError("product_id must equal productId".into()));
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

#[cfg(test)]
pub(crate) mod tests {
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
        assert_eq!(&*details.sku, "ABC-123-XYZ");
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

    /// Any JSON value, small; objects mostly use the details' own field names, or
    /// `attributes`.
    pub(crate) fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0i64..3).prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,110}".prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 16, 8, |inner| {
            let key = prop_oneof![
                proptest::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
                Just("attributes".to_owned()),
                "[a-z_]{1,8}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(key, inner, 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// The transcript's valid body with one field set to any value (or removed).
    fn one_field_changed() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        (proptest::sample::select(FIELDS.to_vec()), proptest::option::of(any_json())).prop_map(
            |(field, value)| {
                let mut body = valid();
                match value {
                    Some(value) => body[field] = value,
                    None => {
                        body.as_object_mut().expect("an object").remove(field);
                    }
                }
                body
            },
        )
    }

    const FIELDS: [&str; 6] = ["product_id", "sku", "manufacturer", "category_id", "weight", "some_other_id"];

    proptest::proptest! {
        /// Any body: valid details within every bound, or one message naming the field.
        #[test]
        fn any_body_is_valid_details_or_names_the_first_bad_field(
            body in proptest::prop_oneof![any_json(), one_field_changed()],
            path_id in 1u64..4,
        ) {
            match ProductDetails::from_json(path_id, &body) {
                Ok(details) => {
                    proptest::prop_assert_eq!(body["product_id"].as_u64(), Some(path_id));
                    proptest::prop_assert!((1..=MAX_SKU_CHARS).contains(&details.sku.chars().count()));
                    proptest::prop_assert!((1..=MAX_MANUFACTURER_CHARS).contains(&details.manufacturer.chars().count()));
                    proptest::prop_assert!(details.category_id >= 1 && details.some_other_id >= 1);
                }
                Err(FieldError(message)) => {
                    let named = FIELDS.iter().any(|field| message.starts_with(field)) || message.starts_with("Invalid JSON");
                    proptest::prop_assert!(named, "{:?}", message);
                }
            }
        }
    }

    #[test]
    fn a_non_object_body_is_invalid_json_for_this_api() {
        assert!(error_for(json!([1, 2])).starts_with("Invalid JSON: "));
    }
}
