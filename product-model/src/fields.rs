//! Reading one field of a JSON object, with the product API's messages: each reader names
//! the field and says what it must be.

use serde_json::{Map, Value};

/// The first problem found in a product or details body, worded for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

pub(crate) fn required<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a Value, FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(FieldError(format!("{name} is required"))),
        Some(value) => Ok(value),
    }
}

/// A field that may be missing or null; present, it must pass `check`.
pub(crate) fn optional<T>(
    fields: &Map<String, Value>,
    name: &str,
    check: impl Fn(&Map<String, Value>, &str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => check(fields, name).map(Some),
    }
}

/// An integer field at least `min`. `1.0`, `"1"` and numbers beyond 64 bits are not integers.
pub(crate) fn integer(fields: &Map<String, Value>, name: &str, min: i64) -> Result<u64, FieldError> {
    let value = required(fields, name)?;
    let number = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n,
        _ => return Err(FieldError(format!("{name} must be an integer"))),
    };
    match (number.as_i64(), number.as_u64()) {
        (Some(n), _) if n < min => Err(FieldError(format!("{name} must be >= {min}"))),
        (_, Some(n)) => Ok(n),
        _ => Err(FieldError(format!("{name} must be an integer"))),
    }
}

/// A number field from `min` to `max` (no upper bound when `max` is `f64::MAX`).
pub(crate) fn number(fields: &Map<String, Value>, name: &str, min: f64, max: f64) -> Result<f64, FieldError> {
    let value = required(fields, name)?.as_f64();
    match value {
        None => Err(FieldError(format!("{name} must be a number"))),
        Some(n) if max < f64::MAX && !(min..=max).contains(&n) => {
            Err(FieldError(format!("{name} must be from {min} to {max}")))
        }
        Some(n) if n < min => Err(FieldError(format!("{name} must be >= {min}"))),
        Some(n) => Ok(n),
    }
}

pub(crate) fn boolean(fields: &Map<String, Value>, name: &str) -> Result<bool, FieldError> {
    required(fields, name)?.as_bool().ok_or_else(|| FieldError(format!("{name} must be true or false")))
}

/// A string field of 1 to `max` characters.
pub(crate) fn text(fields: &Map<String, Value>, name: &str, max: usize) -> Result<Box<str>, FieldError> {
    let value = required(fields, name)?;
    let Some(text) = value.as_str() else {
        return Err(FieldError(format!("{name} must be a string")));
    };
    check_text(name, text, max)?;
    Ok(text.into())
}

/// That `text` has 1 to `max` characters, none of them NUL: the store of record merges a
/// product's details as `jsonb`, which refuses `\u0000`, and no shopper types it.
pub(crate) fn check_text(name: &str, text: &str, max: usize) -> Result<(), FieldError> {
    // A character takes at least one byte: a text of at most `max` bytes needs no counting.
    if text.is_empty() || (text.len() > max && text.chars().count() > max) {
        return Err(FieldError(format!("{name} must be 1 to {max} characters")));
    }
    if text.contains('\0') {
        return Err(FieldError(format!("{name} must not contain the NUL character (\\u0000)")));
    }
    Ok(())
}
