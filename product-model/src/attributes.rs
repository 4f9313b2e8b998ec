//! A product's own attributes: what a shop describes its products by beyond the built-in
//! fields (colour, size, material, capacity, ...). Each is named by lowercase letters,
//! digits and `_`, and holds a string, a number, a boolean, or a list of strings or of
//! numbers. They are kept sorted by name, one value per name, in as little memory as a
//! catalogue of millions needs.

mod within_bounds;

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Number, Value};

use crate::bounds::{
    MAX_ATTRIBUTE_NAME_CHARS, MAX_ATTRIBUTE_TEXT_CHARS, MAX_ATTRIBUTE_VALUES, MAX_ATTRIBUTES,
};
use crate::fields::{FieldError, check_text};
use within_bounds::within_bounds;

/// One attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Text(Box<str>),
    Number(Number),
    Bool(bool),
    /// A list of strings; an empty list is read back as this.
    Texts(Box<[Box<str>]>),
    Numbers(Box<[Number]>),
}

/// A product's attributes, sorted by name, each name once. Kept as their compact JSON, one
/// allocation a product: a catalogue holds them to write them back, and reads them seldom.
#[derive(Debug, Clone, Default)]
pub struct Attributes(Option<Box<RawValue>>);

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Attributes {
    /// From name and value pairs in any order; a name given twice keeps its last value, as
    /// a JSON object's does. Names are borrowed or owned: only the JSON is kept.
    pub fn new<N: AsRef<str>>(pairs: impl IntoIterator<Item = (N, AttributeValue)>) -> Self {
        let mut pairs: Vec<(N, AttributeValue)> = pairs.into_iter().collect();
        if pairs.is_empty() {
            return Self::default();
        }
        // Stable: of equal names, the last given ends last. `dedup_by` keeps the first of a
        // run, so each later value is moved into it.
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        pairs.dedup_by(|later, kept| {
            let same = later.0.as_ref() == kept.0.as_ref();
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        let written = serde_json::value::to_raw_value(&Sorted(&pairs)).expect("attributes serialise");
        // Written into a 128-byte buffer that is shrunk in place, which leaves the allocator's
        // block as large; a copy holds only the JSON's length (about 80 bytes for a
        // generated product): 31 MB less for a million of them.
        Self(Some(written.clone()))
    }

    /// The value of attribute `name`, if the product has it.
    pub fn get(&self, name: &str) -> Option<AttributeValue> {
        self.pairs().into_iter().find(|(key, _)| &**key == name).map(|(_, value)| value)
    }

    /// Every name and value, by name.
    pub fn pairs(&self) -> Vec<(Box<str>, AttributeValue)> {
        let Some(raw) = &self.0 else { return Vec::new() };
        let mut pairs = Vec::new();
        let mut reader = serde_json::Deserializer::from_str(raw.get());
        de::Deserializer::deserialize_map(&mut reader, PairsVisitor(&mut pairs))
            .expect("kept attributes read back");
        pairs
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The attributes' compact JSON: `{}` when there are none.
    pub fn json(&self) -> &str {
        self.0.as_deref().map_or("{}", RawValue::get)
    }

    /// Reads `attributes` from a parsed JSON body, naming the first bad attribute. A `null`
    /// value is no value: the attribute is left out.
    pub fn from_json(value: &Value) -> Result<Self, FieldError> {
        let Some(entries) = value.as_object() else {
            return Err(FieldError("attributes must be an object".into()));
        };
        check_count(entries.values().filter(|value| !value.is_null()).count())?;
        let mut pairs = Vec::with_capacity(entries.len());
        for (name, value) in entries {
            check_name(name)?;
            // The same reading as a catalogue file's, so both accept the same attributes.
            let MaybeValue(value) = MaybeValue::deserialize(value)
                .map_err(|error| FieldError(format!("attributes.{name}: {error}")))?;
            if let Some(value) = value {
                check_value(name, &value)?;
                pairs.push((Box::from(name.as_str()), value));
            }
        }
        Ok(Self::new(pairs))
    }

    /// Holds attributes read as a typed value (a catalogue file's line) to the bounds
    /// [`Attributes::from_json`] sets.
    pub fn check(&self) -> Result<(), FieldError> {
        if within_bounds(self.json()) {
            return Ok(());
        }
        // Something is out of bounds: read every pair to name the first that is.
        self.check_pairs()
    }

    /// [`Self::check`], reading every pair.
    fn check_pairs(&self) -> Result<(), FieldError> {
        let pairs = self.pairs();
        check_count(pairs.len())?;
        for (name, value) in &pairs {
            check_name(name)?;
            check_value(name, value)?;
        }
        Ok(())
    }
}

fn check_count(count: usize) -> Result<(), FieldError> {
    if count > MAX_ATTRIBUTES {
        return Err(FieldError(format!("attributes holds at most {MAX_ATTRIBUTES} attributes")));
    }
    Ok(())
}

/// Whether `name` may name an attribute: 1 to [`MAX_ATTRIBUTE_NAME_CHARS`] lowercase
/// letters, digits and `_`.
pub fn is_attribute_name(name: &str) -> bool {
    (1..=MAX_ATTRIBUTE_NAME_CHARS).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_name(name: &str) -> Result<(), FieldError> {
    if !is_attribute_name(name) {
        let shown: String = name.chars().take(MAX_ATTRIBUTE_NAME_CHARS).collect();
        return Err(FieldError(format!(
            "attributes: {shown:?} is not an attribute name (1 to {MAX_ATTRIBUTE_NAME_CHARS} lowercase letters, \
             digits and _)"
        )));
    }
    Ok(())
}

fn check_value(name: &str, value: &AttributeValue) -> Result<(), FieldError> {
    let field = || format!("attributes.{name}");
    let too_many = |count: usize| {
        if count > MAX_ATTRIBUTE_VALUES {
            return Err(FieldError(format!(
                "{}: an array holds at most {MAX_ATTRIBUTE_VALUES} values",
                field()
            )));
        }
        Ok(())
    };
    match value {
        AttributeValue::Text(text) => check_text(&field(), text, MAX_ATTRIBUTE_TEXT_CHARS),
        AttributeValue::Number(_) | AttributeValue::Bool(_) => Ok(()),
        AttributeValue::Texts(texts) => {
            too_many(texts.len())?;
            texts.iter().try_for_each(|text| check_text(&field(), text, MAX_ATTRIBUTE_TEXT_CHARS))
        }
        AttributeValue::Numbers(numbers) => too_many(numbers.len()),
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Number(number) => number.serialize(serializer),
            Self::Bool(flag) => serializer.serialize_bool(*flag),
            Self::Texts(texts) => {
                let mut seq = serializer.serialize_seq(Some(texts.len()))?;
                texts.iter().try_for_each(|text| seq.serialize_element(&**text))?;
                seq.end()
            }
            Self::Numbers(numbers) => {
                let mut seq = serializer.serialize_seq(Some(numbers.len()))?;
                numbers.iter().try_for_each(|number| seq.serialize_element(number))?;
                seq.end()
            }
        }
    }
}

/// Pairs already sorted and unique, written as a JSON object.
struct Sorted<'a, N>(&'a [(N, AttributeValue)]);

impl<N: AsRef<str>> Serialize for Sorted<'_, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        self.0.iter().try_for_each(|(name, value)| map.serialize_entry(name.as_ref(), value))?;
        map.end()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(serializer),
            None => serializer.serialize_map(Some(0))?.end(),
        }
    }
}

/// An element of a list: a string or a number.
enum Element {
    Text(Box<str>),
    Number(Number),
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Self::Text(text.into())),
            Value::Number(number) => Ok(Self::Number(number)),
            _ => Err(de::Error::custom("an array holds only strings or only numbers")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Option<AttributeValue>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a number, a boolean or an array of strings or numbers")
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Some(AttributeValue::Bool(flag)))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(AttributeValue::Number(n.into())))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(AttributeValue::Number(n.into())))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        Number::from_f64(n)
            .map(|n| Some(AttributeValue::Number(n)))
            .ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(AttributeValue::Text(text.into())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::custom("a value is a string, a number, a boolean or an array of strings or numbers"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut texts, mut numbers) = (Vec::new(), Vec::new());
        while let Some(element) = seq.next_element::<Element>()? {
            match element {
                Element::Text(text) => texts.push(text),
                Element::Number(number) => numbers.push(number),
            }
        }
        match (texts.is_empty(), numbers.is_empty()) {
            (_, true) => Ok(Some(AttributeValue::Texts(texts.into_boxed_slice()))),
            (true, false) => Ok(Some(AttributeValue::Numbers(numbers.into_boxed_slice()))),
            (false, false) => Err(de::Error::custom("an array holds only strings or only numbers")),
        }
    }
}

/// A value that may be `null` (no value).
struct MaybeValue(Option<AttributeValue>);

impl<'de> Deserialize<'de> for MaybeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(Self)
    }
}

/// Collects an object's name and value pairs, in its order, leaving out `null` values.
struct PairsVisitor<'a>(&'a mut Vec<(Box<str>, AttributeValue)>);

impl<'de> Visitor<'de> for PairsVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of attributes")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((name, MaybeValue(value))) = map.next_entry::<String, MaybeValue>()? {
            if let Some(value) = value {
                self.0.push((name.into_boxed_str(), value));
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut pairs = Vec::new();
        deserializer.deserialize_any(PairsVisitor(&mut pairs))?;
        Ok(Attributes::new(pairs))
    }
}

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};

    use super::Attributes;
    use crate::bounds::{
        MAX_ATTRIBUTE_NAME_CHARS, MAX_ATTRIBUTE_TEXT_CHARS, MAX_ATTRIBUTE_VALUES, MAX_ATTRIBUTES,
    };

    fn text() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_ATTRIBUTE_TEXT_CHARS))
    }

    fn list(of: ObjectBuilder) -> ArrayBuilder {
        ArrayBuilder::new().items(of).max_items(Some(MAX_ATTRIBUTE_VALUES))
    }

    impl utoipa::PartialSchema for Attributes {
        fn schema() -> RefOr<Schema> {
            let value = AnyOfBuilder::new()
                .item(text())
                .item(ObjectBuilder::new().schema_type(Type::Number))
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
                .item(list(text()))
                .item(list(ObjectBuilder::new().schema_type(Type::Number)));
            let name = ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^[a-z0-9_]{{1,{MAX_ATTRIBUTE_NAME_CHARS}}}$")));
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "The shop's own attributes, by name (lowercase letters, digits and _): each a string, a \
                     number, a boolean, or an array of strings or of numbers.",
                ))
                .property_names(Some(name))
                .additional_properties(Some(RefOr::T(Schema::from(value))))
                .max_properties(Some(MAX_ATTRIBUTES))
                .into()
        }
    }

    impl utoipa::ToSchema for Attributes {}
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error_for(value: Value) -> String {
        Attributes::from_json(&value).unwrap_err().0
    }

    #[test]
    fn every_kind_of_value_is_read_and_written_back_the_same() {
        let body = json!({"color": "red", "size": ["S", "M"], "capacity_l": 1.5, "pages": 320,
                          "wireless": true, "screen_in": [13.3, 15], "tags": []});
        let attributes = Attributes::from_json(&body).unwrap();
        assert_eq!(serde_json::to_value(&attributes).unwrap(), body);
        let typed: Attributes = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(typed, attributes);
        assert_eq!(attributes.get("pages"), Some(AttributeValue::Number(320.into())));
        let names: Vec<Box<str>> = attributes.pairs().into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            ["capacity_l", "color", "pages", "screen_in", "size", "tags", "wireless"].map(Box::from)
        );
        assert_eq!(
            attributes.json(),
            r#"{"capacity_l":1.5,"color":"red","pages":320,"screen_in":[13.3,15],"size":["S","M"],"tags":[],"wireless":true}"#
        );
    }

    #[test]
    fn a_null_value_is_no_attribute() {
        let attributes = Attributes::from_json(&json!({"color": null, "size": "M"})).unwrap();
        assert_eq!((attributes.pairs().len(), attributes.get("color")), (1, None));
        let typed: Attributes = serde_json::from_value(json!({"color": null})).unwrap();
        assert!(typed.is_empty());
    }

    #[test]
    fn a_bad_attribute_is_named_with_what_it_must_be() {
        assert_eq!(error_for(json!([1])), "attributes must be an object");
        assert_eq!(
            error_for(json!({"Size": "M"})),
            "attributes: \"Size\" is not an attribute name (1 to 64 lowercase letters, digits and _)"
        );
        assert!(error_for(json!({"": 1})).starts_with("attributes: \"\" is not an attribute name"));
        assert!(error_for(json!({"a".repeat(65): 1})).contains("is not an attribute name"));
        let many: Vec<u32> = (0..33).collect();
        assert_eq!(error_for(json!({"size": many})), "attributes.size: an array holds at most 32 values");
        assert_eq!(
            error_for(json!({"size": ["S", 1]})),
            "attributes.size: an array holds only strings or only numbers"
        );
        assert_eq!(
            error_for(json!({"size": [["S"]]})),
            "attributes.size: an array holds only strings or only numbers"
        );
        assert_eq!(
            error_for(json!({"size": {"eu": 42}})),
            "attributes.size: a value is a string, a number, a boolean or an array of strings or numbers"
        );
        assert_eq!(error_for(json!({"color": ""})), "attributes.color must be 1 to 256 characters");
        assert_eq!(
            error_for(json!({"color": "r".repeat(257)})),
            "attributes.color must be 1 to 256 characters"
        );
        assert_eq!(error_for(json!({"size": ["M", ""]})), "attributes.size must be 1 to 256 characters");
        assert_eq!(
            error_for(json!({"color": "r\u{0}"})),
            "attributes.color must not contain the NUL character (\\u0000)"
        );
        let too_many: serde_json::Map<String, Value> = (0..65).map(|i| (format!("a{i}"), json!(i))).collect();
        assert_eq!(error_for(Value::Object(too_many)), "attributes holds at most 64 attributes");
        let most: serde_json::Map<String, Value> = (0..64).map(|i| (format!("a{i}"), json!(i))).collect();
        assert_eq!(Attributes::from_json(&Value::Object(most)).unwrap().pairs().len(), 64);
    }

    #[test]
    fn typed_attributes_are_held_to_the_same_bounds() {
        let read =
            |value: Value| serde_json::from_value::<Attributes>(value).unwrap().check().map_err(|e| e.0);
        assert_eq!(read(json!({"color": "red", "size": ["S"]})), Ok(()));
        assert_eq!(read(json!({"Color": "red"})).unwrap_err(), error_for(json!({"Color": "red"})));
        let many: Vec<u32> = (0..33).collect();
        assert_eq!(
            read(json!({"size": many})).unwrap_err(),
            "attributes.size: an array holds at most 32 values"
        );
        assert_eq!(read(json!({"color": "r\u{0}"})).unwrap_err(), error_for(json!({"color": "r\u{0}"})));
        assert!(serde_json::from_value::<Attributes>(json!({"size": ["S", 1]})).is_err());
        assert!(serde_json::from_value::<Attributes>(json!({"size": {"eu": 1}})).is_err());
    }

    #[test]
    fn the_quick_bounds_check_agrees_with_reading_every_pair() {
        let text = |chars: usize| Value::String("é".repeat(chars));
        let numbers = |count: u32| json!((0..count).collect::<Vec<_>>());
        let texts = |count: usize| json!(vec!["M"; count]);
        let many = |count: usize| -> Value {
            Value::Object((0..count).map(|i| (format!("a{i}"), json!(i))).collect())
        };
        let cases = [
            json!({}),
            json!({"color": "red", "size": ["S", "M"], "watts": [60, 75.5], "organic": true, "grams": -3}),
            json!({"quote": "say \"hi\"\n", "empty_list": []}),
            json!({"color": text(MAX_ATTRIBUTE_TEXT_CHARS)}),
            json!({"color": text(MAX_ATTRIBUTE_TEXT_CHARS + 1)}),
            json!({"color": ""}),
            json!({"color": "r\u{0}"}),
            json!({"size": ["S", text(MAX_ATTRIBUTE_TEXT_CHARS + 1)]}),
            json!({"size": ["S", "r\u{0}"]}),
            json!({"size": texts(MAX_ATTRIBUTE_VALUES)}),
            json!({"size": texts(MAX_ATTRIBUTE_VALUES + 1)}),
            json!({"watts": numbers(MAX_ATTRIBUTE_VALUES as u32)}),
            json!({"watts": numbers(MAX_ATTRIBUTE_VALUES as u32 + 1)}),
            json!({"Color": "red"}),
            json!({"co\"lor": "red"}),
            json!({"a".repeat(MAX_ATTRIBUTE_NAME_CHARS): 1}),
            json!({"a".repeat(MAX_ATTRIBUTE_NAME_CHARS + 1): 1}),
            many(MAX_ATTRIBUTES),
            many(MAX_ATTRIBUTES + 1),
        ];
        let mut out_of_bounds = 0;
        for case in cases {
            let attributes: Attributes = serde_json::from_value(case.clone()).unwrap();
            let reading_every_pair = attributes.check_pairs();
            out_of_bounds += usize::from(reading_every_pair.is_err());
            assert_eq!(within_bounds(attributes.json()), reading_every_pair.is_ok(), "{case}");
            assert_eq!(attributes.check(), reading_every_pair, "{case}");
        }
        assert_eq!(out_of_bounds, 11);
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value() {
        let attributes: Attributes = serde_json::from_str(r#"{"color": "red", "color": "blue"}"#).unwrap();
        assert_eq!(attributes.get("color"), Some(AttributeValue::Text("blue".into())));
        assert_eq!(attributes.pairs().len(), 1);
        let number = |n: u64| AttributeValue::Number(n.into());
        let repeated = Attributes::new([
            ("b", number(1)),
            ("a", number(2)),
            ("b", number(3)),
            ("a", number(4)),
            ("b", number(5)),
        ]);
        assert_eq!(repeated.json(), r#"{"a":4,"b":5}"#);
    }
}
