//! Whether kept attributes are within the bounds, read straight from their JSON: no pair is
//! built and nothing allocated, so a catalogue file of millions of products is checked at
//! the speed it is read. Only a "no" needs the attributes read in full, to name the first
//! one out of bounds.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::bounds::{MAX_ATTRIBUTE_TEXT_CHARS, MAX_ATTRIBUTE_VALUES, MAX_ATTRIBUTES};
use crate::fields::check_text;

use super::is_attribute_name;

/// Whether `json`, attributes as kept (a compact object of names and values), holds at
/// most [`MAX_ATTRIBUTES`] attributes, each well named, its texts of 1 to
/// [`MAX_ATTRIBUTE_TEXT_CHARS`] characters without NUL, its lists of at most
/// [`MAX_ATTRIBUTE_VALUES`] values. Anything else there is a "no".
pub(super) fn within_bounds(json: &str) -> bool {
    let mut reader = serde_json::Deserializer::from_str(json);
    de::Deserializer::deserialize_map(&mut reader, Object).unwrap_or(false)
}

fn text_within_bounds(text: &str) -> bool {
    check_text("", text, MAX_ATTRIBUTE_TEXT_CHARS).is_ok()
}

/// The attributes' object.
struct Object;

impl<'de> Visitor<'de> for Object {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut count = 0;
        while let Some(named_well) = map.next_key_seed(Name)? {
            count += 1;
            if !named_well || count > MAX_ATTRIBUTES || !map.next_value_seed(Value { in_list: false })? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// An attribute's name: whether it is one.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(is_attribute_name(name))
    }
}

/// An attribute's value (a text, a number, a boolean, or a list of texts or numbers), or
/// an element of its list (a text or a number).
#[derive(Clone, Copy)]
struct Value {
    in_list: bool,
}

impl<'de> DeserializeSeed<'de> for Value {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<bool, E> {
        Ok(text_within_bounds(text))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(!self.in_list)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut list: A) -> Result<bool, A::Error> {
        if self.in_list {
            return Ok(false);
        }
        let mut count = 0;
        while let Some(element_within_bounds) = list.next_element_seed(Value { in_list: true })? {
            count += 1;
            if !element_within_bounds || count > MAX_ATTRIBUTE_VALUES {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
