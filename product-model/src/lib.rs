//! A catalogue's product: its fields ([`Product`]) and the shop's own [`Attributes`], the bounds every product served keeps
//! ([`bounds`]), the validation of a product or of its detail fields sent as JSON, with the
//! first problem worded for the client ([`FieldError`]), and the rule that keeps SKUs
//! unique ([`sku_key`]).
//!
//! The generator makes these products, catalogue files and the store hold them, the search
//! index and the HTTP edge read them: this crate depends on none of them.

mod attributes;
pub mod bounds;
mod details;
mod fields;
mod product;
mod sku;

pub use attributes::{AttributeValue, Attributes, is_attribute_name};
pub use details::ProductDetails;
pub use fields::FieldError;
pub use product::{Product, check_product, product_from_json};
pub use sku::{first_sku_conflict, sku_key};
