//! The search settings: the synonyms and stop words searches read their words with, and
//! when a match widens. They start from the start-up flags and change while the service
//! runs: a change is a write like any other, so it reaches every replica through the feed,
//! in order with the product writes around it, at a version of its own.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::search::filter::BUILT_IN_FIELDS;
use crate::search::language::{self, DEFAULT_STOP_WORDS, DEFAULT_SYNONYMS};
use crate::search::merchandising::{Rule, rules_from_json};
use crate::search::ranking::{MAX_RANKING_RULES, RankingRule};
use crate::search::{FilterField, Language, MatchingOptions, Synonyms, TEXT_FIELDS, Weights, analyzer};

/// Most synonym groups, members in a group, and characters in a member.
pub const MAX_SYNONYM_GROUPS: usize = 1_000;
pub const MAX_GROUP_MEMBERS: usize = 32;
pub const MAX_MEMBER_CHARS: usize = 100;
/// Most stop words, and characters in one.
pub const MAX_STOP_WORDS: usize = 500;
pub const MAX_STOP_WORD_CHARS: usize = 50;
/// Largest `partial_match_below`.
pub const MAX_PARTIAL_MATCH_BELOW: u64 = 1_000_000;
/// Most filterable attributes.
pub const MAX_FILTERABLE_ATTRIBUTES: usize = 100;
/// Most attributes searched (beside the built-in text fields).
pub const MAX_SEARCHED_ATTRIBUTES: usize = 16;
/// A searchable field's weight: more than this, and at most this.
pub const MIN_WEIGHT: f64 = 0.0;
pub const MAX_WEIGHT: f64 = 100.0;
/// The attributes the generated catalogue filters and facets on unless told otherwise.
pub const DEFAULT_FILTERABLE_ATTRIBUTES: &str = "attributes.color,attributes.size,attributes.material,\
attributes.shoe_size_eu,attributes.screen_in,attributes.storage_gb,attributes.wireless,attributes.formats,\
attributes.language,attributes.pages";

/// Every setting, each checked (see [`SettingsPatch::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Groups of equivalent words or phrases, applied at query time.
    pub synonyms: Vec<Vec<String>>,
    /// Words that never make a query fail nor rank on their own.
    pub stop_words: Vec<String>,
    /// When fewer products than this match every word, the match widens (1: only when none
    /// does).
    pub partial_match_below: u64,
    /// The attributes `filter` and `facets` may name, as `attributes.<name>`; the built-in
    /// fields always may (listing one changes nothing).
    pub filterable_attributes: Vec<String>,
    /// The text fields words are looked for in, each with its weight; a field left out is
    /// not searched.
    pub searchable_attributes: Vec<SearchableAttribute>,
    /// Rules such as `rating:desc` that order products ranked equally, before the lower
    /// product id does (see [`crate::search::ranking`]).
    pub ranking: Vec<String>,
    /// Merchandising rules: pin, hide or boost products for a query or a filter (see
    /// [`crate::search::merchandising`]).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A searched field and its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchableAttribute {
    pub name: String,
    pub weight: f64,
}

impl Eq for SearchableAttribute {}

/// The built-in settings: the repository's `synonyms.txt`, English stop words, and
/// widening only a query that would find nothing. `PUT /settings` gives absent keys these.
impl Default for Settings {
    fn default() -> Self {
        Self {
            synonyms: language::groups_of_file(DEFAULT_SYNONYMS)
                .into_iter()
                .map(|(_, group)| group)
                .collect(),
            stop_words: DEFAULT_STOP_WORDS.split(',').map(str::to_owned).collect(),
            partial_match_below: 1,
            filterable_attributes: DEFAULT_FILTERABLE_ATTRIBUTES.split(',').map(str::to_owned).collect(),
            searchable_attributes: TEXT_FIELDS
                .iter()
                .map(|(name, weight)| SearchableAttribute {
                    name: (*name).to_owned(),
                    weight: f64::from(*weight),
                })
                .collect(),
            ranking: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// A setting that cannot be taken, named as the API names it (`synonyms[2]: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl SettingsError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The settings' keys, as the API names them.
pub const KEYS: &[&str] = &[
    "synonyms",
    "stop_words",
    "partial_match_below",
    "filterable_attributes",
    "searchable_attributes",
    "ranking",
    "rules",
];

/// Some of the settings, each checked: what `PATCH /settings` changes (the others stay).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub synonyms: Option<Vec<Vec<String>>>,
    pub stop_words: Option<Vec<String>>,
    pub partial_match_below: Option<u64>,
    pub filterable_attributes: Option<Vec<String>>,
    pub searchable_attributes: Option<Vec<SearchableAttribute>>,
    pub ranking: Option<Vec<String>>,
    pub rules: Option<Vec<Rule>>,
}

impl SettingsPatch {
    /// Reads and checks a JSON object of settings; the error names the first bad one.
    pub fn from_json(value: &Value) -> Result<Self, SettingsError> {
        let Value::Object(map) = value else {
            return Err(SettingsError::new("settings must be a JSON object"));
        };
        if let Some(key) = map.keys().find(|key| !KEYS.contains(&key.as_str())) {
            return Err(SettingsError(format!(
                "{key} is not a setting; the settings are {}",
                KEYS.join(", ")
            )));
        }
        Ok(Self {
            synonyms: map.get("synonyms").map(synonyms).transpose()?,
            stop_words: map.get("stop_words").map(stop_words).transpose()?,
            partial_match_below: map.get("partial_match_below").map(partial_match_below).transpose()?,
            filterable_attributes: map.get("filterable_attributes").map(filterable_attributes).transpose()?,
            searchable_attributes: map.get("searchable_attributes").map(searchable_attributes).transpose()?,
            ranking: map.get("ranking").map(ranking).transpose()?,
            rules: map.get("rules").map(|value| rules_from_json(value).map_err(SettingsError)).transpose()?,
        })
    }

    /// Every setting of `settings`: applied, it replaces them all.
    pub fn all(settings: Settings) -> Self {
        Self {
            synonyms: Some(settings.synonyms),
            stop_words: Some(settings.stop_words),
            partial_match_below: Some(settings.partial_match_below),
            filterable_attributes: Some(settings.filterable_attributes),
            searchable_attributes: Some(settings.searchable_attributes),
            ranking: Some(settings.ranking),
            rules: Some(settings.rules),
        }
    }

    /// `settings` with these changed.
    pub fn apply_to(&self, settings: &mut Settings) {
        if let Some(synonyms) = &self.synonyms {
            settings.synonyms.clone_from(synonyms);
        }
        if let Some(stop_words) = &self.stop_words {
            settings.stop_words.clone_from(stop_words);
        }
        if let Some(below) = self.partial_match_below {
            settings.partial_match_below = below;
        }
        if let Some(filterable) = &self.filterable_attributes {
            settings.filterable_attributes.clone_from(filterable);
        }
        if let Some(searchable) = &self.searchable_attributes {
            settings.searchable_attributes.clone_from(searchable);
        }
        if let Some(ranking) = &self.ranking {
            settings.ranking.clone_from(ranking);
        }
        if let Some(rules) = &self.rules {
            settings.rules.clone_from(rules);
        }
    }

    /// The keys it changes, as a JSON object (merged over the stored settings).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        if let Some(synonyms) = &self.synonyms {
            map.insert("synonyms".into(), synonyms.clone().into());
        }
        if let Some(stop_words) = &self.stop_words {
            map.insert("stop_words".into(), stop_words.clone().into());
        }
        if let Some(below) = self.partial_match_below {
            map.insert("partial_match_below".into(), below.into());
        }
        if let Some(filterable) = &self.filterable_attributes {
            map.insert("filterable_attributes".into(), filterable.clone().into());
        }
        if let Some(searchable) = &self.searchable_attributes {
            map.insert(
                "searchable_attributes".into(),
                serde_json::to_value(searchable).expect("fields serialise"),
            );
        }
        if let Some(ranking) = &self.ranking {
            map.insert("ranking".into(), ranking.clone().into());
        }
        if let Some(rules) = &self.rules {
            map.insert("rules".into(), serde_json::to_value(rules).expect("rules serialise"));
        }
        Value::Object(map)
    }
}

impl Settings {
    /// The start-up flags' settings: `synonyms_file` (its name, for errors, and its text;
    /// `None`: the built-in groups), comma-separated `stop_words`, `partial_match_below`,
    /// comma-separated `filterable_attributes` and `ranking` rules.
    pub fn from_flags(
        synonyms_file: Option<(&str, &str)>,
        stop_words: &str,
        partial_match_below: u64,
        filterable_attributes: &str,
        ranking: &str,
    ) -> anyhow::Result<Self> {
        let synonyms = match synonyms_file {
            None => Self::default().synonyms,
            Some((name, text)) => {
                // Checked line by line first, so an error names the file's line.
                Synonyms::parse(text).map_err(|error| anyhow::anyhow!("in {name}: {error}"))?;
                language::groups_of_file(text).into_iter().map(|(_, group)| group).collect()
            }
        };
        let list = |text: &str| -> Vec<String> {
            text.split(',').map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
        };
        let mut settings = Self::default();
        let flags = serde_json::json!({
            "synonyms": synonyms,
            "stop_words": list(stop_words),
            "partial_match_below": partial_match_below,
            "filterable_attributes": list(filterable_attributes),
            "ranking": list(ranking),
        });
        SettingsPatch::from_json(&flags)
            .map_err(|SettingsError(message)| anyhow::anyhow!("the start-up flags: {message}"))?
            .apply_to(&mut settings);
        Ok(settings)
    }

    /// Settings as the store keeps them (a JSON object): checked again, since another
    /// replica wrote them; a key absent there takes its default.
    pub fn from_stored(json: &str) -> anyhow::Result<Self> {
        let value: Value = serde_json::from_str(json)?;
        let patch = SettingsPatch::from_json(&value).map_err(|e| anyhow::anyhow!("stored settings: {e}"))?;
        let mut settings = Self::default();
        patch.apply_to(&mut settings);
        Ok(settings)
    }

    /// Whether `filter` and `facets` may name `field`.
    pub fn is_filterable(&self, field: &FilterField) -> bool {
        match field {
            FilterField::Attribute(_) => {
                let name = field.to_string();
                self.filterable_attributes.contains(&name)
            }
            _ => true,
        }
    }

    /// How searches read their words under these settings.
    pub fn matching(&self) -> anyhow::Result<MatchingOptions> {
        let synonyms = Synonyms::from_groups(&self.synonyms)
            .map_err(|(i, error)| anyhow::anyhow!("synonyms[{i}]: {error}"))?;
        let mut weights: Weights = [None; TEXT_FIELDS.len()];
        let mut attribute_weights = Vec::new();
        for field in &self.searchable_attributes {
            if let Some(name) = field.name.strip_prefix("attributes.") {
                attribute_weights.push((name.to_owned(), field.weight as f32));
                continue;
            }
            let position = TEXT_FIELDS.iter().position(|(name, _)| *name == field.name).ok_or_else(|| {
                anyhow::anyhow!("searchable_attributes: {} is not a text field", field.name)
            })?;
            weights[position] = Some(field.weight as f32);
        }
        let ranking = self
            .ranking
            .iter()
            .map(|rule| RankingRule::parse(rule).map_err(|error| anyhow::anyhow!("ranking: {error}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(MatchingOptions {
            language: Language::new(&self.stop_words, synonyms),
            partial_below: self.partial_match_below,
            weights,
            attribute_weights,
            ranking,
        })
    }
}

fn synonyms(value: &Value) -> Result<Vec<Vec<String>>, SettingsError> {
    let shape = || SettingsError::new("synonyms must be a list of groups, each a list of words or phrases");
    let groups = value.as_array().ok_or_else(shape)?;
    if groups.len() > MAX_SYNONYM_GROUPS {
        return Err(SettingsError(format!("synonyms holds at most {MAX_SYNONYM_GROUPS} groups")));
    }
    let mut out = Vec::with_capacity(groups.len());
    for (i, group) in groups.iter().enumerate() {
        let members = group.as_array().ok_or_else(|| {
            SettingsError(format!(
                "synonyms[{i}] must be a list of words or phrases, such as [\"tv\", \"television\"]"
            ))
        })?;
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(SettingsError(format!(
                "synonyms[{i}]: a group holds at most {MAX_GROUP_MEMBERS} members"
            )));
        }
        let mut words = Vec::with_capacity(members.len());
        for (j, member) in members.iter().enumerate() {
            let text = member
                .as_str()
                .map(str::trim)
                .ok_or_else(|| SettingsError(format!("synonyms[{i}][{j}] must be a string")))?;
            if text.chars().count() > MAX_MEMBER_CHARS {
                return Err(SettingsError(format!(
                    "synonyms[{i}][{j}] must be at most {MAX_MEMBER_CHARS} characters"
                )));
            }
            words.push(text.to_owned());
        }
        out.push(words);
    }
    Synonyms::from_groups(&out).map_err(|(i, error)| SettingsError(format!("synonyms[{i}]: {error}")))?;
    Ok(out)
}

fn stop_words(value: &Value) -> Result<Vec<String>, SettingsError> {
    let words = value.as_array().ok_or_else(|| SettingsError::new("stop_words must be a list of words"))?;
    if words.len() > MAX_STOP_WORDS {
        return Err(SettingsError(format!("stop_words holds at most {MAX_STOP_WORDS} words")));
    }
    let mut analyzer = analyzer::word_analyzer();
    let mut out = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let text = word
            .as_str()
            .map(str::trim)
            .ok_or_else(|| SettingsError(format!("stop_words[{i}] must be a string")))?;
        if text.chars().count() > MAX_STOP_WORD_CHARS {
            return Err(SettingsError(format!(
                "stop_words[{i}] must be at most {MAX_STOP_WORD_CHARS} characters"
            )));
        }
        match analyzer::words(&mut analyzer, text).len() {
            1 => out.push(text.to_owned()),
            0 => return Err(SettingsError(format!("stop_words[{i}]: {text:?} has no letters or digits"))),
            n => {
                return Err(SettingsError(format!(
                    "stop_words[{i}]: {text:?} is {n} words; a stop word is one word"
                )));
            }
        }
    }
    Ok(out)
}

fn filterable_attributes(value: &Value) -> Result<Vec<String>, SettingsError> {
    let names = value.as_array().ok_or_else(|| {
        SettingsError::new(
            "filterable_attributes must be a list of field names, such as [\"attributes.color\"]",
        )
    })?;
    if names.len() > MAX_FILTERABLE_ATTRIBUTES {
        return Err(SettingsError(format!(
            "filterable_attributes holds at most {MAX_FILTERABLE_ATTRIBUTES} names"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = name
            .as_str()
            .ok_or_else(|| SettingsError(format!("filterable_attributes[{i}] must be a string")))?;
        if FilterField::parse(name).is_none() {
            let shown: String = name.chars().take(80).collect();
            return Err(SettingsError(format!(
                "filterable_attributes[{i}]: {shown:?} is not a field; name an attribute as \
                 attributes.<name> (lowercase letters, digits and _) or a built-in field ({})",
                BUILT_IN_FIELDS.join(", ")
            )));
        }
        if !out.iter().any(|kept| kept == name) {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

fn searchable_attributes(value: &Value) -> Result<Vec<SearchableAttribute>, SettingsError> {
    let fields: Vec<&str> = TEXT_FIELDS.iter().map(|(name, _)| *name).collect();
    let shape = || {
        SettingsError::new(
            "searchable_attributes must be a list of fields with weights, such as [{\"name\": \"name\", \"weight\": 3}]",
        )
    };
    let list = value.as_array().ok_or_else(shape)?;
    if list.is_empty() {
        return Err(SettingsError::new("searchable_attributes holds at least one field"));
    }
    let mut out: Vec<SearchableAttribute> = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let object = entry.as_object().ok_or_else(|| {
            SettingsError(format!("searchable_attributes[{i}] must be an object with a name and a weight"))
        })?;
        if let Some(key) = object.keys().find(|key| !["name", "weight"].contains(&key.as_str())) {
            return Err(SettingsError(format!("searchable_attributes[{i}]: {key} is not name or weight")));
        }
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| SettingsError(format!("searchable_attributes[{i}].name must be a string")))?;
        let attribute = matches!(FilterField::parse(name), Some(FilterField::Attribute(_)));
        if !fields.contains(&name) && !attribute {
            let shown: String = name.chars().take(80).collect();
            return Err(SettingsError(format!(
                "searchable_attributes[{i}]: {shown:?} is not a text field; the text fields are {} and \
                 attributes.<name> (lowercase letters, digits and _)",
                fields.join(", ")
            )));
        }
        if attribute
            && out.iter().filter(|kept| kept.name.starts_with("attributes.")).count()
                == MAX_SEARCHED_ATTRIBUTES
        {
            return Err(SettingsError(format!(
                "searchable_attributes[{i}]: at most {MAX_SEARCHED_ATTRIBUTES} attributes are searched"
            )));
        }
        if out.iter().any(|kept| kept.name == name) {
            return Err(SettingsError(format!("searchable_attributes[{i}]: {name} is listed twice")));
        }
        let weight =
            object.get("weight").and_then(Value::as_f64).filter(|w| *w > MIN_WEIGHT && *w <= MAX_WEIGHT);
        let Some(weight) = weight else {
            return Err(SettingsError(format!(
                "searchable_attributes[{i}].weight must be a number above {MIN_WEIGHT} and at most {MAX_WEIGHT}"
            )));
        };
        out.push(SearchableAttribute { name: name.to_owned(), weight });
    }
    Ok(out)
}

fn ranking(value: &Value) -> Result<Vec<String>, SettingsError> {
    let rules = value
        .as_array()
        .ok_or_else(|| SettingsError::new("ranking must be a list of rules, such as [\"rating:desc\"]"))?;
    if rules.len() > MAX_RANKING_RULES {
        return Err(SettingsError(format!("ranking holds at most {MAX_RANKING_RULES} rules")));
    }
    let mut out: Vec<RankingRule> = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        let text = rule.as_str().ok_or_else(|| SettingsError(format!("ranking[{i}] must be a string")))?;
        let rule = RankingRule::parse(text.trim())
            .map_err(|error| SettingsError(format!("ranking[{i}]: {error}")))?;
        if out.iter().any(|kept| kept.field == rule.field) {
            return Err(SettingsError(format!("ranking[{i}]: {} already has a rule", rule.field)));
        }
        out.push(rule);
    }
    Ok(out.iter().map(RankingRule::to_string).collect())
}

fn partial_match_below(value: &Value) -> Result<u64, SettingsError> {
    value.as_u64().filter(|n| (1..=MAX_PARTIAL_MATCH_BELOW).contains(n)).ok_or_else(|| {
        SettingsError(format!("partial_match_below must be an integer from 1 to {MAX_PARTIAL_MATCH_BELOW}"))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(value: Value) -> String {
        SettingsPatch::from_json(&value).expect_err("refused").0
    }

    #[test]
    fn the_defaults_are_the_built_in_flags() {
        let flags =
            Settings::from_flags(None, DEFAULT_STOP_WORDS, 1, DEFAULT_FILTERABLE_ATTRIBUTES, "").unwrap();
        assert_eq!(flags, Settings::default());
        assert!(Settings::default().synonyms.len() > 10);
        assert!(Settings::default().matching().is_ok());
    }

    #[test]
    fn a_patch_changes_the_keys_it_names_and_keeps_the_others() {
        let patch = SettingsPatch::from_json(&json!({"stop_words": ["the", " Of "]})).unwrap();
        let mut settings = Settings::default();
        patch.apply_to(&mut settings);
        assert_eq!(settings.stop_words, ["the", "Of"]);
        assert_eq!(settings.synonyms, Settings::default().synonyms);
        assert_eq!(patch.to_json(), json!({"stop_words": ["the", "Of"]}));
        let all = SettingsPatch::all(settings.clone());
        let mut other = Settings { partial_match_below: 9, ..Settings::default() };
        all.apply_to(&mut other);
        assert_eq!(other, settings, "a patch of every key replaces them all");
    }

    #[test]
    fn every_bad_setting_is_refused_by_its_name() {
        assert_eq!(refused(json!([])), "settings must be a JSON object");
        assert!(refused(json!({"rank": []})).starts_with("rank is not a setting"));
        assert!(
            refused(json!({"synonyms": "tv, television"})).starts_with("synonyms must be a list of groups")
        );
        assert!(
            refused(json!({"synonyms": [["tv", "television"], "sofa"]}))
                .starts_with("synonyms[1] must be a list")
        );
        assert_eq!(
            refused(json!({"synonyms": [["tv", "television"], ["sofa"]]})),
            "synonyms[1]: a group needs two or more different members"
        );
        assert_eq!(
            refused(json!({"synonyms": [["sofa", "Sofa"]]})),
            "synonyms[0]: a group needs two or more different members"
        );
        assert_eq!(refused(json!({"synonyms": [["sofa", 3]]})), "synonyms[0][1] must be a string");
        assert!(refused(json!({"synonyms": [["a b c d e", "f"]]})).contains("more than 4 words"));
        assert!(refused(json!({"synonyms": [["--", "f"]]})).contains("no letters or digits"));
        let long = "x".repeat(MAX_MEMBER_CHARS + 1);
        assert!(refused(json!({"synonyms": [[long, "f"]]})).starts_with("synonyms[0][0] must be at most"));
        let many: Vec<Value> = (0..=MAX_SYNONYM_GROUPS).map(|i| json!([format!("a{i}"), "b"])).collect();
        assert!(refused(json!({ "synonyms": many })).contains("at most 1000 groups"));
        let wide: Vec<String> = (0..=MAX_GROUP_MEMBERS).map(|i| format!("w{i}")).collect();
        assert!(refused(json!({"synonyms": [wide]})).contains("at most 32 members"));
        assert_eq!(
            refused(json!({"stop_words": ["the", "new york"]})),
            "stop_words[1]: \"new york\" is 2 words; a stop word is one word"
        );
        assert_eq!(refused(json!({"stop_words": ["the", 1]})), "stop_words[1] must be a string");
        assert!(refused(json!({"stop_words": "the"})).starts_with("stop_words must be a list"));
        for bad in [json!(0), json!(-1), json!(1.5), json!("3"), json!(MAX_PARTIAL_MATCH_BELOW + 1)] {
            assert!(
                refused(json!({ "partial_match_below": bad })).starts_with("partial_match_below must be")
            );
        }
    }

    #[test]
    fn stored_settings_round_trip_and_missing_keys_take_defaults() {
        let settings =
            Settings { stop_words: vec!["x".into()], partial_match_below: 7, ..Settings::default() };
        let stored = serde_json::to_string(&settings).unwrap();
        assert_eq!(Settings::from_stored(&stored).unwrap(), settings);
        assert_eq!(
            Settings::from_stored(r#"{"partial_match_below": 3}"#).unwrap().synonyms,
            Settings::default().synonyms
        );
        assert!(Settings::from_stored(r#"{"stop_words": [""]}"#).is_err());
    }

    #[test]
    fn flags_are_checked_and_a_bad_file_line_is_named() {
        let error =
            Settings::from_flags(Some(("syn.txt", "tv, television\nsofa\n")), "", 1, "", "").unwrap_err();
        assert_eq!(error.to_string(), "in syn.txt: line 2: a group needs two or more different members");
        let error = Settings::from_flags(None, "the,new york", 1, "", "").unwrap_err();
        assert!(error.to_string().starts_with("the start-up flags: stop_words[1]"), "{error}");
        let settings = Settings::from_flags(
            Some(("syn.txt", "# c\ntv , television\n")),
            " the, of ,",
            5,
            "attributes.x, brand",
            "rating:desc, attributes.pages:asc",
        )
        .unwrap();
        assert_eq!(settings.synonyms, [["tv", "television"]]);
        assert_eq!(settings.stop_words, ["the", "of"]);
        assert_eq!(settings.partial_match_below, 5);
        assert_eq!(settings.filterable_attributes, ["attributes.x", "brand"]);
        assert_eq!(settings.ranking, ["rating:desc", "attributes.pages:asc"]);
        let error = Settings::from_flags(None, "", 1, "color", "").unwrap_err();
        assert!(error.to_string().contains("filterable_attributes[0]: \"color\" is not a field"), "{error}");
        let error = Settings::from_flags(None, "", 1, "", "rating").unwrap_err();
        assert!(error.to_string().contains("ranking[0]: \"rating\" is not a rule"), "{error}");
    }

    #[test]
    fn ranking_rules_are_numeric_fields_each_once_with_a_direction() {
        let patch = SettingsPatch::from_json(&json!({"ranking": [" in_stock:desc", "attributes.pages:asc"]}))
            .unwrap();
        assert_eq!(
            patch.ranking.as_deref(),
            Some(&["in_stock:desc".to_owned(), "attributes.pages:asc".to_owned()][..])
        );
        let mut settings = Settings::default();
        patch.apply_to(&mut settings);
        let rules = settings.matching().unwrap().ranking;
        assert_eq!(rules.len(), 2);
        assert!(rules[0].descending && !rules[1].descending);
        assert_eq!(
            refused(json!({"ranking": "rating:desc"})),
            "ranking must be a list of rules, such as [\"rating:desc\"]"
        );
        assert_eq!(refused(json!({"ranking": [3]})), "ranking[0] must be a string");
        assert_eq!(
            refused(json!({"ranking": ["rating:desc", "rating:asc"]})),
            "ranking[1]: rating already has a rule"
        );
        assert!(
            refused(json!({"ranking": ["brand:asc"]}))
                .starts_with("ranking[0]: \"brand:asc\": brand is text")
        );
        assert!(
            refused(json!({"ranking": ["attributes.x:sideways"]})).contains("the direction is asc or desc")
        );
        let many = json!({"ranking": ["price:asc", "rating:desc", "in_stock:desc", "attributes.a:asc", "attributes.b:asc"]});
        assert_eq!(refused(many), "ranking holds at most 4 rules");
    }

    #[test]
    fn searchable_attributes_are_text_fields_with_weights_in_range() {
        let patch = SettingsPatch::from_json(&json!({"searchable_attributes": [
            {"name": "description", "weight": 5}, {"name": "name", "weight": 0.5}
        ]}))
        .unwrap();
        let mut settings = Settings::default();
        patch.apply_to(&mut settings);
        let weights = settings.matching().unwrap().weights;
        let at = |field: &str| TEXT_FIELDS.iter().position(|(name, _)| *name == field).unwrap();
        assert_eq!((weights[at("description")], weights[at("name")]), (Some(5.0), Some(0.5)));
        assert_eq!(weights[at("brand")], None, "a field left out is not searched");
        assert_eq!(Settings::default().matching().unwrap().weights, crate::search::default_weights());
        let refused_with = |list: Value| refused(json!({ "searchable_attributes": list }));
        assert!(refused_with(json!([])).contains("at least one field"));
        assert!(
            refused_with(json!([{"name": "colour", "weight": 1}]))
                .starts_with("searchable_attributes[0]: \"colour\" is not a text field;")
        );
        let with_attributes = SettingsPatch::from_json(&json!({"searchable_attributes": [
            {"name": "name", "weight": 3}, {"name": "attributes.material", "weight": 2}
        ]}))
        .unwrap();
        let mut settings = Settings::default();
        with_attributes.apply_to(&mut settings);
        let matching = settings.matching().unwrap();
        assert_eq!(matching.attribute_weights, [("material".to_owned(), 2.0)]);
        assert_eq!(matching.searched_attributes(), ["material"]);
        assert!(
            refused_with(json!([{"name": "attributes.Colour", "weight": 1}])).contains("is not a text field")
        );
        let many: Vec<Value> = (0..=MAX_SEARCHED_ATTRIBUTES)
            .map(|i| json!({"name": format!("attributes.a{i}"), "weight": 1}))
            .collect();
        assert_eq!(
            refused_with(Value::Array(many)),
            "searchable_attributes[16]: at most 16 attributes are searched"
        );
        for weight in [json!(0), json!(-1), json!(101), json!("2"), Value::Null] {
            assert!(
                refused_with(json!([{"name": "name", "weight": weight}]))
                    .starts_with("searchable_attributes[0].weight must be")
            );
        }
        assert!(
            refused_with(json!([{"name": "name", "weight": 1}, {"name": "name", "weight": 2}]))
                .contains("listed twice")
        );
        assert!(
            refused_with(json!([{"name": "name", "weight": 1, "boost": 2}]))
                .contains("boost is not name or weight")
        );
        assert!(refused_with(json!(["name"])).starts_with("searchable_attributes[0] must be an object"));
    }

    #[test]
    fn filterable_attributes_are_field_names_kept_once() {
        let patch = SettingsPatch::from_json(
            &json!({"filterable_attributes": ["attributes.size", "price", "attributes.size"]}),
        )
        .unwrap();
        assert_eq!(
            patch.filterable_attributes.as_deref(),
            Some(&["attributes.size".to_owned(), "price".to_owned()][..])
        );
        let mut settings = Settings::default();
        patch.apply_to(&mut settings);
        assert!(settings.is_filterable(&FilterField::Attribute("size".into())));
        assert!(!settings.is_filterable(&FilterField::Attribute("color".into())));
        assert!(settings.is_filterable(&FilterField::Brand), "built-in fields are always filterable");
        assert!(
            refused(json!({"filterable_attributes": ["attributes.Color"]}))
                .starts_with("filterable_attributes[0]: \"attributes.Color\" is not a field")
        );
        assert!(
            refused(json!({"filterable_attributes": "attributes.color"}))
                .starts_with("filterable_attributes must be a list")
        );
        assert_eq!(
            refused(json!({"filterable_attributes": [1]})),
            "filterable_attributes[0] must be a string"
        );
        let many: Vec<String> = (0..=MAX_FILTERABLE_ATTRIBUTES).map(|i| format!("attributes.a{i}")).collect();
        assert!(refused(json!({ "filterable_attributes": many })).contains("at most 100 names"));
    }
}
