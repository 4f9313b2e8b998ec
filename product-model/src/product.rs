//! A product of the catalogue, and its validation: a whole product as a client sends it
//! (`PUT /products/{id}`, a line of a bulk upsert) is checked field by field in the catalogue
//! file's order, the first problem reported in the words of the details validation; a
//! product read as a typed value (a catalogue file's line) is held to the same bounds.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::attributes::Attributes;
use crate::bounds::{
    MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, MAX_MANUFACTURER_CHARS, MAX_NAME_CHARS, MAX_PRODUCT_ID,
    MAX_RATING, MAX_SKU_CHARS,
};
use crate::fields::{FieldError, boolean, check_text, integer, number, optional, text};

/// One product of the catalogue.
///
/// Only `product_id` is always present: a product created through the details API has
/// only its detail fields, and a real catalogue may lack any of the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64))]
    pub product_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub name: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub brand: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub category: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10_000))]
    pub description: Option<Box<str>>,
    /// Price with two decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub price: Option<f64>,
    /// Average rating from 1.0 to 5.0, one decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 5))]
    pub rating: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    /// Stock keeping unit, unique in the catalogue, e.g. `ABC-123-XYZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub sku: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub manufacturer: Option<Box<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub category_id: Option<u64>,
    /// Weight in grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub weight: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub some_other_id: Option<u64>,
    /// The shop's own attributes: colour, size, capacity, ...
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
}

impl Product {
    /// A product that has nothing but its id.
    pub fn bare(product_id: u64) -> Self {
        Self {
            product_id,
            name: None,
            brand: None,
            category: None,
            description: None,
            price: None,
            rating: None,
            in_stock: None,
            sku: None,
            manufacturer: None,
            category_id: None,
            weight: None,
            some_other_id: None,
            attributes: Attributes::default(),
        }
    }
}

/// Validates a parsed JSON product. Only `product_id` is required; when `path_id` is given
/// the body's id must equal it. Unknown fields are ignored, as in a catalogue file.
pub fn product_from_json(body: &Value, path_id: Option<u64>) -> Result<Product, FieldError> {
    let Some(fields) = body.as_object() else {
        return Err(FieldError("Invalid JSON: expected a JSON object".into()));
    };
    let product_id = integer(fields, "product_id", 1)?;
    if product_id > MAX_PRODUCT_ID {
        return Err(FieldError(format!("product_id must be <= {MAX_PRODUCT_ID}")));
    }
    if path_id.is_some_and(|id| id != product_id) {
        return Err(FieldError("product_id must equal productId".into()));
    }
    Ok(Product {
        product_id,
        name: optional(fields, "name", |f, n| text(f, n, MAX_NAME_CHARS))?,
        brand: optional(fields, "brand", |f, n| text(f, n, MAX_LABEL_CHARS))?,
        category: optional(fields, "category", |f, n| text(f, n, MAX_LABEL_CHARS))?,
        description: optional(fields, "description", |f, n| text(f, n, MAX_DESCRIPTION_CHARS))?,
        price: optional(fields, "price", |f, n| number(f, n, 0.0, f64::MAX))?,
        rating: optional(fields, "rating", |f, n| number(f, n, 0.0, MAX_RATING))?,
        in_stock: optional(fields, "in_stock", boolean)?,
        sku: optional(fields, "sku", |f, n| text(f, n, MAX_SKU_CHARS))?,
        manufacturer: optional(fields, "manufacturer", |f, n| text(f, n, MAX_MANUFACTURER_CHARS))?,
        category_id: optional(fields, "category_id", |f, n| integer(f, n, 1))?,
        weight: optional(fields, "weight", |f, n| integer(f, n, 0))?,
        some_other_id: optional(fields, "some_other_id", |f, n| integer(f, n, 1))?,
        attributes: match fields.get("attributes") {
            None | Some(Value::Null) => Attributes::default(),
            Some(attributes) => Attributes::from_json(attributes)?,
        },
    })
}

/// Holds a product read as a typed value (a line of a catalogue file) to the bounds
/// [`product_from_json`] sets, so every product served is one a write could have made.
pub fn check_product(product: &Product) -> Result<(), FieldError> {
    if !(1..=MAX_PRODUCT_ID).contains(&product.product_id) {
        return Err(FieldError(format!("product_id must be from 1 to {MAX_PRODUCT_ID}")));
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
            check_text(name, text, max)?;
        }
    }
    if product.price.is_some_and(|price| !(price >= 0.0 && price.is_finite())) {
        return Err(FieldError("price must be >= 0".into()));
    }
    if product.rating.is_some_and(|rating| !(0.0..=MAX_RATING).contains(&rating)) {
        return Err(FieldError("rating must be from 0 to 5".into()));
    }
    for (name, value) in [("category_id", product.category_id), ("some_other_id", product.some_other_id)] {
        if value == Some(0) {
            return Err(FieldError(format!("{name} must be >= 1")));
        }
    }
    product.attributes.check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A product with every field set, as the generator makes them.
    fn sample() -> Product {
        serde_json::from_value(json!({
            "product_id": 1, "name": "Acme Compact Lamp X-100", "brand": "Acme", "category": "Lighting",
            "description": "The Acme X-100 is a compact lamp, made from steel for reading.", "price": 39.99,
            "rating": 4.5, "in_stock": true, "sku": "ABC-123-XYZ", "manufacturer": "Acme Corporation",
            "category_id": 456, "weight": 1250, "some_other_id": 789,
            "attributes": {"color": "black", "material": "steel", "bulbs": ["E27", "E14"], "watts": 40}
        }))
        .unwrap()
    }

    fn error_for(body: Value) -> String {
        product_from_json(&body, None).unwrap_err().0
    }

    #[test]
    fn accepts_a_whole_product_unchanged() {
        let product = sample();
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
        assert_eq!(
            error_for(json!({"product_id": 1, "attributes": {"size": ["S", 2]}})),
            "attributes.size: an array holds only strings or only numbers"
        );
    }

    #[test]
    fn texts_are_bounded_in_characters_not_bytes() {
        let named = |name: String| Product { name: Some(name.into()), ..sample() };
        for letter in ["n", "é", "鍋", "🦀"] {
            assert_eq!(check_product(&named(letter.repeat(500))), Ok(()), "500 of {letter}");
            assert_eq!(
                check_product(&named(letter.repeat(501))).unwrap_err().0,
                "name must be 1 to 500 characters",
                "501 of {letter}"
            );
        }
    }

    /// A catalogue holds millions of products, each behind an `Arc` (16 bytes of counts):
    /// at 208 bytes a shared product fills a 224-byte allocation. A field that makes it
    /// bigger costs every product of every catalogue, so it should be a choice.
    #[test]
    fn a_product_is_208_bytes() {
        assert_eq!(std::mem::size_of::<Product>(), 208);
    }

    #[test]
    fn a_typed_product_is_held_to_the_same_bounds() {
        let product = sample();
        assert_eq!(check_product(&product), Ok(()));
        let long_name = Product { name: Some("n".repeat(501).into()), ..product.clone() };
        assert_eq!(check_product(&long_name).unwrap_err().0, "name must be 1 to 500 characters");
        let bad_rating = Product { rating: Some(5.5), ..product.clone() };
        assert_eq!(check_product(&bad_rating).unwrap_err().0, "rating must be from 0 to 5");
        let nul = Product { description: Some("a\0b".into()), ..product.clone() };
        assert_eq!(
            check_product(&nul).unwrap_err().0,
            "description must not contain the NUL character (\\u0000)"
        );
        let no_category = Product { category_id: Some(0), ..product.clone() };
        assert_eq!(check_product(&no_category).unwrap_err().0, "category_id must be >= 1");
        let attributes = serde_json::from_value(json!({"color": "c".repeat(257)})).unwrap();
        let long_colour = Product { attributes, ..product };
        assert_eq!(
            check_product(&long_colour).unwrap_err().0,
            "attributes.color must be 1 to 256 characters"
        );
        assert!(check_product(&Product::bare(0)).is_err());
    }

    #[test]
    fn the_id_must_match_the_path() {
        assert_eq!(
            product_from_json(&json!({"product_id": 2}), Some(1)).unwrap_err().0,
            "product_id must equal productId"
        );
    }

    proptest::proptest! {
        /// The same for a whole product (`PUT`, a bulk line): valid ones pass the bounds check
        /// a catalogue file's lines get, and read back the same from the JSON written of them.
        #[test]
        fn any_body_is_a_valid_product_or_names_the_first_bad_field(body in crate::details::tests::any_json()) {
            match product_from_json(&body, None) {
                Ok(product) => {
                    proptest::prop_assert_eq!(check_product(&product), Ok(()));
                    let written = serde_json::to_value(&product).unwrap();
                    proptest::prop_assert_eq!(product_from_json(&written, None), Ok(product));
                }
                Err(FieldError(message)) => {
                    // `name must ...`, `attributes.size: ...`, `attributes: "X" is not ...`
                    let field = message.split([' ', '.', ':']).next().unwrap_or_default();
                    let named = message.starts_with("Invalid JSON") || body.get(field).is_some() || field == "product_id";
                    proptest::prop_assert!(named, "{:?}", message);
                }
            }
        }
    }
}
