//! The bounds of a product's fields: what a write is checked against, what a catalogue file's
//! lines are held to, and what the API document states.

/// The largest product id: ids are stored as 64-bit signed integers.
pub const MAX_PRODUCT_ID: u64 = i64::MAX as u64;
/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 500;
/// Longest brand or category, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Longest SKU, in characters.
pub const MAX_SKU_CHARS: usize = 100;
/// Longest manufacturer, in characters.
pub const MAX_MANUFACTURER_CHARS: usize = 200;
/// Highest rating (the lowest is 0).
pub const MAX_RATING: f64 = 5.0;
/// Most attributes a product may hold.
pub const MAX_ATTRIBUTES: usize = 64;
/// Longest attribute name, in characters (lowercase letters, digits and `_`).
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;
/// Longest attribute string, in characters.
pub const MAX_ATTRIBUTE_TEXT_CHARS: usize = 256;
/// Most values in an attribute's array.
pub const MAX_ATTRIBUTE_VALUES: usize = 32;
