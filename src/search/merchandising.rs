//! Merchandising rules: for a query (its exact words, or containing given words) or for a
//! filter, pin products at positions, hide products, or boost the products a filter
//! expression matches, each rule within an optional time window. Rules are part of the
//! settings, so they change live on every replica through the feed.
//!
//! This module reads and checks the rules and works out, for one search, which apply and
//! what they do together ([`Merchandising`]). The index carries that out
//! (`super::merchandised`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::filter::Filter;
use super::query::MAX_WINDOW;

/// Most rules the settings hold.
pub const MAX_RULES: usize = 100;
/// Most products one rule pins, and hides.
pub const MAX_PINS: usize = 20;
pub const MAX_HIDDEN: usize = 100;
/// Longest rule id.
pub const MAX_RULE_ID_CHARS: usize = 64;
/// Longest rule query, and filter expression.
pub const MAX_RULE_QUERY_CHARS: usize = 256;
pub const MAX_RULE_FILTER_CHARS: usize = 2_000;

/// How a rule's query is compared with a search's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryMatch {
    /// The search's words are the rule's, in order.
    #[default]
    Exact,
    /// The search has every word of the rule's, in any order, among others.
    Contains,
}

/// A product pinned at a position (1: the first result of the first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub product_id: u64,
    pub position: usize,
}

/// A rule as the settings keep it (checked by [`Rule::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// The query's words, as analytics keep queries (lower-cased, single-spaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(rename = "match", default)]
    pub matching: QueryMatch,
    /// The search's `filter` must be this expression (compared parsed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pin: Vec<Pin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide: Vec<u64>,
    /// Products this filter expression matches rank before the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boost: Option<String>,
    /// RFC 3339: the rule applies from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339: the rule applies until then (excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The keys a rule may have.
const RULE_KEYS: &[&str] = &["id", "query", "match", "filter", "pin", "hide", "boost", "from", "until"];

/// Reads and checks the `rules` setting; the error names the first bad field
/// (`rules[2].pin[0].position must be ...`).
pub fn rules_from_json(value: &Value) -> Result<Vec<Rule>, String> {
    let list = value.as_array().ok_or("rules must be a list of rules")?;
    if list.len() > MAX_RULES {
        return Err(format!("rules holds at most {MAX_RULES} rules"));
    }
    let mut rules: Vec<Rule> = Vec::with_capacity(list.len());
    for (i, rule) in list.iter().enumerate() {
        let rule = Rule::from_json(rule).map_err(|message| format!("rules[{i}]{message}"))?;
        if rules.iter().any(|r| r.id == rule.id) {
            return Err(format!("rules[{i}].id {:?} is the id of another rule", rule.id));
        }
        rules.push(rule);
    }
    Ok(rules)
}

impl Rule {
    /// Reads and checks one rule; an error starts with the field (`.pin[0].position ...`).
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let map = value.as_object().ok_or(" must be an object")?;
        if let Some(key) = map.keys().find(|key| !RULE_KEYS.contains(&key.as_str())) {
            return Err(format!(".{key} is not a rule field; a rule has {}", RULE_KEYS.join(", ")));
        }
        let text = |key: &str, max: usize| -> Result<Option<String>, String> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => {
                    Ok(Some(s.trim().to_owned()))
                }
                Some(_) => Err(format!(".{key} must be a non-empty string of at most {max} characters")),
            }
        };
        let id = text("id", MAX_RULE_ID_CHARS)?.ok_or(".id is required")?;
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(".id may hold only letters, digits, - and _".into());
        }
        let query = match text("query", MAX_RULE_QUERY_CHARS)? {
            None => None,
            Some(query) => Some(
                crate::analytics::normalise(&query)
                    .ok_or(".query has no words to match (or looks like an email address or long number)")?,
            ),
        };
        let matching = match map.get("match") {
            None | Some(Value::Null) => QueryMatch::Exact,
            Some(value) => {
                serde_json::from_value(value.clone()).map_err(|_| ".match must be exact or contains")?
            }
        };
        let filter = text("filter", MAX_RULE_FILTER_CHARS)?;
        if let Some(filter) = &filter {
            Filter::parse(filter).map_err(|error| format!(".filter: {error}"))?;
        }
        if query.is_none() && filter.is_none() {
            return Err(": a rule needs a query or a filter to apply to".into());
        }
        let pin = pins(map.get("pin"))?;
        let hide = hidden(map.get("hide"))?;
        if let Some(pinned) = pin.iter().find(|p| hide.contains(&p.product_id)) {
            return Err(format!(": product {} is both pinned and hidden", pinned.product_id));
        }
        let boost = text("boost", MAX_RULE_FILTER_CHARS)?;
        if let Some(boost) = &boost {
            Filter::parse(boost).map_err(|error| format!(".boost: {error}"))?;
        }
        if pin.is_empty() && hide.is_empty() && boost.is_none() {
            return Err(": a rule needs something to do: pin, hide or boost".into());
        }
        let from = text("from", 64)?;
        let until = text("until", 64)?;
        let (start, end) = (instant("from", from.as_deref())?, instant("until", until.as_deref())?);
        if let (Some(start), Some(end)) = (start, end)
            && start >= end
        {
            return Err(".from must be before .until".into());
        }
        Ok(Self { id, query, matching, filter, pin, hide, boost, from, until })
    }
}

fn pins(value: Option<&Value>) -> Result<Vec<Pin>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let list = value.as_array().ok_or(".pin must be a list of {\"product_id\", \"position\"}")?;
    if list.len() > MAX_PINS {
        return Err(format!(".pin holds at most {MAX_PINS} products"));
    }
    let mut pins: Vec<Pin> = Vec::with_capacity(list.len());
    for (j, pin) in list.iter().enumerate() {
        let product_id = pin
            .get("product_id")
            .and_then(Value::as_u64)
            .filter(|id| *id >= 1)
            .ok_or_else(|| format!(".pin[{j}].product_id must be an integer >= 1"))?;
        let position = pin
            .get("position")
            .and_then(Value::as_u64)
            .filter(|p| (1..=MAX_WINDOW as u64).contains(p))
            .ok_or_else(|| format!(".pin[{j}].position must be an integer from 1 to {MAX_WINDOW}"))?
            as usize;
        if pins.iter().any(|p| p.product_id == product_id) {
            return Err(format!(".pin[{j}]: product {product_id} is pinned twice"));
        }
        if pins.iter().any(|p| p.position == position) {
            return Err(format!(".pin[{j}]: position {position} holds another product"));
        }
        pins.push(Pin { product_id, position });
    }
    Ok(pins)
}

fn hidden(value: Option<&Value>) -> Result<Vec<u64>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let list = value.as_array().ok_or(".hide must be a list of product ids")?;
    if list.len() > MAX_HIDDEN {
        return Err(format!(".hide holds at most {MAX_HIDDEN} products"));
    }
    let mut ids = Vec::with_capacity(list.len());
    for (j, id) in list.iter().enumerate() {
        let id =
            id.as_u64().filter(|id| *id >= 1).ok_or_else(|| format!(".hide[{j}] must be an integer >= 1"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Seconds since the Unix epoch of an RFC 3339 time.
fn instant(key: &str, text: Option<&str>) -> Result<Option<i64>, String> {
    text.map(|text| {
        OffsetDateTime::parse(text, &Rfc3339)
            .map(OffsetDateTime::unix_timestamp)
            .map_err(|_| format!(".{key} must be an RFC 3339 time, e.g. 2026-12-24T00:00:00Z"))
    })
    .transpose()
}

/// Every product id the rules name, for checking they are in the catalogue.
pub fn named_products(rules: &[Rule]) -> impl Iterator<Item = (&str, u64)> {
    rules.iter().flat_map(|rule| {
        rule.pin
            .iter()
            .map(|p| p.product_id)
            .chain(rule.hide.iter().copied())
            .map(move |id| (rule.id.as_str(), id))
    })
}

/// A rule ready to be matched against searches.
#[derive(Debug, Clone)]
struct Compiled {
    id: String,
    query: Option<String>,
    /// The query's words, for `contains`.
    words: Vec<String>,
    matching: QueryMatch,
    filter: Option<Filter>,
    pin: Vec<Pin>,
    hide: Vec<u64>,
    boost: Option<Filter>,
    from: Option<i64>,
    until: Option<i64>,
}

/// The rules of the settings in force, ready to be matched against searches.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Compiled>,
}

/// What the rules that apply to a search do together.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merchandising {
    /// Products at positions (1: the first), each once, by position; a position taken by an
    /// earlier rule's pin goes to the next rule's product at the next free one.
    pub pins: Vec<Pin>,
    /// Products never shown nor counted.
    pub hidden: Vec<u64>,
    /// Products it matches rank before the others (the rules' boosts, any of them).
    pub boost: Option<Filter>,
    /// The ids of the rules that applied, in the settings' order.
    pub applied: Vec<String>,
}

impl Merchandising {
    pub fn is_empty(&self) -> bool {
        self.pins.is_empty() && self.hidden.is_empty() && self.boost.is_none()
    }
}

impl Rules {
    /// Compiles rules the settings checked; a rule that no longer reads is skipped.
    pub fn compile(rules: &[Rule]) -> Self {
        let rules = rules
            .iter()
            .filter_map(|rule| {
                let parse = |text: &Option<String>| text.as_deref().map(Filter::parse).transpose().ok();
                Some(Compiled {
                    id: rule.id.clone(),
                    words: rule.query.iter().flat_map(|q| q.split(' ')).map(str::to_owned).collect(),
                    query: rule.query.clone(),
                    matching: rule.matching,
                    filter: parse(&rule.filter)?,
                    pin: rule.pin.clone(),
                    hide: rule.hide.clone(),
                    boost: parse(&rule.boost)?,
                    from: instant("from", rule.from.as_deref()).ok()?,
                    until: instant("until", rule.until.as_deref()).ok()?,
                })
            })
            .collect();
        Self { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// What the rules do to a search for the normalised `query` (`None`: no words) with
    /// the `filter` expression, at `now` (seconds since the Unix epoch).
    pub fn apply(&self, query: Option<&str>, filter: Option<&Filter>, now: i64) -> Merchandising {
        let mut out = Merchandising::default();
        let mut boosts = Vec::new();
        for rule in self.rules.iter().filter(|rule| rule.applies(query, filter, now)) {
            out.applied.push(rule.id.clone());
            for pin in &rule.pin {
                if out.pins.iter().any(|p| p.product_id == pin.product_id) {
                    continue;
                }
                let mut position = pin.position;
                while out.pins.iter().any(|p| p.position == position) {
                    position += 1;
                }
                out.pins.push(Pin { product_id: pin.product_id, position });
            }
            for id in &rule.hide {
                if !out.hidden.contains(id) {
                    out.hidden.push(*id);
                }
            }
            boosts.extend(rule.boost.clone());
        }
        // A product hidden by one rule is not shown by another's pin.
        out.pins.retain(|pin| !out.hidden.contains(&pin.product_id));
        out.pins.sort_unstable_by_key(|pin| pin.position);
        out.boost = match boosts.len() {
            0 => None,
            1 => boosts.pop(),
            _ => Some(Filter::Or(boosts)),
        };
        out
    }
}

impl Compiled {
    fn applies(&self, query: Option<&str>, filter: Option<&Filter>, now: i64) -> bool {
        if self.from.is_some_and(|from| now < from) || self.until.is_some_and(|until| now >= until) {
            return false;
        }
        if let Some(wanted) = &self.filter
            && filter != Some(wanted)
        {
            return false;
        }
        match (&self.query, self.matching) {
            (None, _) => true,
            (Some(wanted), QueryMatch::Exact) => query == Some(wanted.as_str()),
            (Some(_), QueryMatch::Contains) => {
                query.is_some_and(|query| self.words.iter().all(|word| query.split(' ').any(|w| w == word)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(value: Value) -> Result<Rule, String> {
        Rule::from_json(&value)
    }

    #[test]
    fn a_rule_reads_with_its_query_normalised() {
        let read = rule(
            json!({"id": "laptops", "query": "  Gaming LAPTOP ", "pin": [{"product_id": 4, "position": 1}]}),
        )
        .unwrap();
        assert_eq!(read.query.as_deref(), Some("gaming laptop"));
        assert_eq!(read.matching, QueryMatch::Exact);
        assert_eq!(serde_json::from_value::<Rule>(serde_json::to_value(&read).unwrap()).unwrap(), read);
    }

    #[test]
    fn each_bad_rule_field_is_named() {
        let pin = json!([{"product_id": 1, "position": 1}]);
        for (bad, named) in [
            (json!("x"), " must be an object"),
            (json!({"query": "a", "pin": pin}), ".id is required"),
            (json!({"id": "a b", "query": "a", "pin": pin}), ".id may hold"),
            (json!({"id": "a", "pin": pin}), "needs a query or a filter"),
            (json!({"id": "a", "query": "lamp"}), "needs something to do"),
            (json!({"id": "a", "query": "!!", "pin": pin}), ".query has no words"),
            (json!({"id": "a", "query": "a", "match": "fuzzy", "pin": pin}), ".match must be"),
            (json!({"id": "a", "query": "a", "filter": "price <", "pin": pin}), ".filter:"),
            (json!({"id": "a", "query": "a", "boost": "((("}), ".boost:"),
            (json!({"id": "a", "query": "a", "pin": [{"product_id": 1, "position": 0}]}), ".pin[0].position"),
            (
                json!({"id": "a", "query": "a", "pin": [{"product_id": 0, "position": 1}]}),
                ".pin[0].product_id",
            ),
            (
                json!({"id": "a", "query": "a", "pin": [{"product_id": 1, "position": 1}, {"product_id": 2, "position": 1}]}),
                "position 1 holds another product",
            ),
            (json!({"id": "a", "query": "a", "pin": pin, "hide": [1]}), "both pinned and hidden"),
            (json!({"id": "a", "query": "a", "hide": ["x"]}), ".hide[0]"),
            (json!({"id": "a", "query": "a", "hide": [2], "from": "soon"}), ".from must be"),
            (
                json!({"id": "a", "query": "a", "hide": [2], "from": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}),
                ".from must be before .until",
            ),
            (json!({"id": "a", "query": "a", "hide": [2], "colour": "red"}), ".colour is not a rule field"),
        ] {
            let message = rule(bad.clone()).unwrap_err();
            assert!(message.contains(named), "{bad}: {message:?} should name {named:?}");
        }
        let twice = json!([{"id": "a", "query": "a", "hide": [1]}, {"id": "a", "query": "b", "hide": [2]}]);
        assert!(rules_from_json(&twice).unwrap_err().starts_with("rules[1].id"));
    }

    fn compiled(rules: Value) -> Rules {
        Rules::compile(&rules_from_json(&rules).unwrap())
    }

    #[test]
    fn exact_and_contains_queries_filters_and_time_windows_decide_which_rules_apply() {
        let rules = compiled(json!([
            {"id": "exact", "query": "desk lamp", "hide": [1]},
            {"id": "contains", "query": "lamp", "match": "contains", "hide": [2]},
            {"id": "filter", "filter": "category = Office", "hide": [3]},
            {"id": "window", "query": "desk lamp", "hide": [4], "from": "2026-12-01T00:00:00Z", "until": "2026-12-02T00:00:00Z"},
        ]));
        let office = Filter::parse("category = Office").unwrap();
        let day = OffsetDateTime::parse("2026-12-01T12:00:00Z", &Rfc3339).unwrap().unix_timestamp();
        let applied =
            |query: Option<&str>, filter: Option<&Filter>, now: i64| rules.apply(query, filter, now).applied;
        assert_eq!(applied(Some("desk lamp"), None, day), ["exact", "contains", "window"]);
        assert_eq!(applied(Some("desk lamp"), None, day + 86_400), ["exact", "contains"]);
        assert_eq!(applied(Some("lamp desk big"), None, day), ["contains"]);
        assert_eq!(applied(Some("lamps"), Some(&office), day), ["filter"]);
        assert_eq!(
            applied(None, Some(&Filter::parse("category = Toys").unwrap()), day),
            Vec::<String>::new()
        );
        let effects = rules.apply(Some("desk lamp"), Some(&office), day);
        assert_eq!(effects.hidden, [1, 2, 3, 4]);
    }

    #[test]
    fn pins_of_several_rules_take_the_next_free_position_and_hiding_wins() {
        let rules = compiled(json!([
            {"id": "a", "query": "lamp", "pin": [{"product_id": 7, "position": 2}, {"product_id": 8, "position": 1}]},
            {"id": "b", "query": "lamp", "pin": [{"product_id": 9, "position": 1}, {"product_id": 7, "position": 5}], "boost": "price < 10"},
            {"id": "c", "query": "lamp", "hide": [8], "boost": "rating >= 4"},
        ]));
        let effects = rules.apply(Some("lamp"), None, 0);
        assert_eq!(effects.pins, [Pin { product_id: 7, position: 2 }, Pin { product_id: 9, position: 3 }]);
        assert_eq!(effects.hidden, [8]);
        assert!(matches!(effects.boost, Some(Filter::Or(ref both)) if both.len() == 2));
    }
}
