//! `GET /settings`, `PUT /settings` and `PATCH /settings`: the search settings. A change is
//! a write like any other: it commits to the store, takes a version of the feed, and every
//! replica applies it in order with the product writes around it; the answer comes once
//! this replica has applied it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};

use super::products::{versioned, write};
use super::{ApiError, AppState};
use crate::settings::{self, Settings, SettingsPatch};
use crate::store::{Entry, Write};

/// The search settings (documentation of [`Settings`]' JSON; the handlers check the JSON
/// themselves).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SettingsBody {
    /// Groups of 2 to 32 different members, each a word or a phrase of up to 4 words,
    /// applied at query time: a query for any member matches products with any other.
    #[schema(schema_with = synonyms_schema, example = json!([["tv", "television"], ["frying pan", "skillet"]]))]
    synonyms: Vec<Vec<String>>,
    /// Words that never make a query fail nor rank on their own; one word each.
    #[schema(schema_with = stop_words_schema, example = json!(["a", "the", "with"]))]
    stop_words: Vec<String>,
    /// When fewer products than this match every word, the match widens, letting words go
    /// (1: only a query that would find nothing).
    #[schema(minimum = 1, maximum = 1_000_000)]
    partial_match_below: u64,
    /// The attributes `filter` and `facets` may name, as `attributes.<name>`; built-in
    /// fields (`brand`, `category`, `in_stock`, `price`, `rating`) always may. Every
    /// attribute is indexed, so a change applies at once, with no rebuild.
    #[schema(schema_with = filterable_schema, example = json!(["attributes.color", "attributes.size"]))]
    filterable_attributes: Vec<String>,
    /// The text fields words are looked for in (`name`, `brand`, `category`,
    /// `manufacturer`, `sku`, `description`, and up to 16 attributes as
    /// `attributes.<name>`, whose texts and numbers are searched), each with its weight; a
    /// field left out is not searched. Weights apply at query time; searching another
    /// attribute, or no longer searching one, rebuilds the index in the background (the
    /// answer's `status` is then `pending`).
    #[schema(
        schema_with = searchable_schema,
        example = json!([{"name": "name", "weight": 3}, {"name": "brand", "weight": 3}, {"name": "description", "weight": 1}])
    )]
    searchable_attributes: Vec<settings::SearchableAttribute>,
    /// Up to 4 rules, each `<field>:asc` or `<field>:desc` over `price`, `rating`,
    /// `in_stock` (true above false) or an attribute's numbers (`attributes.<name>`; a list
    /// ranks by its highest number descending, its lowest ascending): they order products
    /// a search ranks equally (the same score, and under a sort the same sort value), in
    /// turn, before the lower product id. A product without the value comes after those
    /// with it. Applied at query time: no rebuild.
    #[schema(schema_with = ranking_schema, example = json!(["in_stock:desc", "attributes.popularity:desc"]))]
    ranking: Vec<String>,
    /// Up to 100 merchandising rules, applied at query time in this order (see README
    /// "Merchandising rules"). A rule naming a product the catalogue does not hold is
    /// refused.
    #[schema(max_items = 100)]
    rules: Vec<RuleBody>,
}

/// A merchandising rule: for a query or a filter (both, when both are given), pin, hide or
/// boost products, within an optional time window.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct RuleBody {
    /// Names the rule in a search answer's `rules_applied`: letters, digits, `-`, `_`;
    /// unique among the rules.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    id: String,
    /// The query it applies to, kept as its words, lower-cased (as analytics keep queries).
    #[schema(min_length = 1, max_length = 256)]
    query: Option<String>,
    /// `exact` (the default): the search's words are the query's; `contains`: the search
    /// has every word of the query, in any order, among others.
    #[schema(rename = "match", pattern = "^(exact|contains)$")]
    matching: Option<String>,
    /// The rule applies to searches whose `filter` is this expression.
    #[schema(min_length = 1, max_length = 2000)]
    filter: Option<String>,
    /// Products shown at these positions (1: the first result of the first page), whether
    /// they match the words or not, if the search's filters let them through.
    #[schema(max_items = 20)]
    pin: Option<Vec<PinBody>>,
    /// Products never shown nor counted.
    #[schema(max_items = 100)]
    hide: Option<Vec<u64>>,
    /// Products this filter expression matches rank before the others.
    #[schema(min_length = 1, max_length = 2000)]
    boost: Option<String>,
    /// RFC 3339: the rule applies from then.
    #[schema(format = DateTime)]
    from: Option<String>,
    /// RFC 3339: the rule applies until then (excluded).
    #[schema(format = DateTime)]
    until: Option<String>,
}

/// A product pinned at a position.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PinBody {
    #[schema(minimum = 1)]
    product_id: u64,
    #[schema(minimum = 1, maximum = 1000)]
    position: u32,
}

/// A change of settings: any of them, each as in the settings (documentation only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SettingsChange {
    /// See the settings' `synonyms`.
    #[schema(schema_with = synonyms_schema)]
    synonyms: Option<Vec<Vec<String>>>,
    /// See the settings' `stop_words`.
    #[schema(schema_with = stop_words_schema)]
    stop_words: Option<Vec<String>>,
    /// See the settings' `partial_match_below`.
    #[schema(minimum = 1, maximum = 1_000_000, nullable = false)]
    partial_match_below: Option<u64>,
    /// See the settings' `filterable_attributes`.
    #[schema(schema_with = filterable_schema)]
    filterable_attributes: Option<Vec<String>>,
    /// See the settings' `searchable_attributes`.
    #[schema(schema_with = searchable_schema)]
    searchable_attributes: Option<Vec<settings::SearchableAttribute>>,
    /// See the settings' `ranking`.
    #[schema(schema_with = ranking_schema)]
    ranking: Option<Vec<String>>,
    /// See the settings' `rules`.
    #[schema(max_items = 100, nullable = false)]
    rules: Option<Vec<RuleBody>>,
}

fn text(max_chars: usize) -> utoipa::openapi::Object {
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(max_chars)).build()
}

fn synonyms_schema() -> ArrayBuilder {
    let group = ArrayBuilder::new()
        .items(text(settings::MAX_MEMBER_CHARS))
        .min_items(Some(2))
        .max_items(Some(settings::MAX_GROUP_MEMBERS));
    ArrayBuilder::new().items(group).max_items(Some(settings::MAX_SYNONYM_GROUPS))
}

fn stop_words_schema() -> ArrayBuilder {
    ArrayBuilder::new().items(text(settings::MAX_STOP_WORD_CHARS)).max_items(Some(settings::MAX_STOP_WORDS))
}

fn filterable_schema() -> ArrayBuilder {
    let name = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^(brand|category|in_stock|price|rating|attributes\\.[a-z0-9_]{1,64})$"));
    ArrayBuilder::new().items(name).max_items(Some(settings::MAX_FILTERABLE_ATTRIBUTES))
}

fn ranking_schema() -> ArrayBuilder {
    let rule = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^(price|rating|in_stock|attributes\\.[a-z0-9_]{1,64}):(asc|desc)$"));
    ArrayBuilder::new().items(rule).max_items(Some(crate::search::ranking::MAX_RANKING_RULES))
}

fn searchable_schema() -> ArrayBuilder {
    let names: Vec<&str> = crate::search::TEXT_FIELDS.iter().map(|(name, _)| *name).collect();
    let pattern = format!("^({}|attributes\\.[a-z0-9_]{{1,64}})$", names.join("|"));
    let name = ObjectBuilder::new().schema_type(Type::String).pattern(Some(pattern));
    let weight = ObjectBuilder::new()
        .schema_type(Type::Number)
        .exclusive_minimum(Some(settings::MIN_WEIGHT))
        .maximum(Some(settings::MAX_WEIGHT));
    let field = ObjectBuilder::new()
        .property("name", name)
        .property("weight", weight)
        .required("name")
        .required("weight")
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    let most = crate::search::TEXT_FIELDS.len() + settings::MAX_SEARCHED_ATTRIBUTES;
    ArrayBuilder::new().items(field).min_items(Some(1)).max_items(Some(most))
}

/// The settings after a change, and whether searches use them already.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SettingsAnswer {
    /// `applied`: every search on this replica from now on uses them; other replicas apply
    /// them at the answer's `catalog-version` (send it as `min-catalog-version` to read
    /// after it anywhere). `pending`: they search attributes the index has no text field
    /// for yet; it is being rebuilt in the background (see `/health`'s `index_rebuild`),
    /// and until it is swapped in, searches leave those attributes out and use the rest.
    #[schema(example = "applied", pattern = "^(applied|pending)$")]
    status: &'static str,
    #[schema(value_type = SettingsBody)]
    settings: Settings,
}

/// The settings every search on this replica uses.
#[utoipa::path(
    get,
    path = "/settings",
    tag = "settings",
    responses((status = 200, description = "Every setting", body = SettingsBody)),
)]
pub async fn get_settings(State(state): State<AppState>) -> Json<Settings> {
    Json(Settings::clone(&state.catalog().settings()))
}

/// Replaces every setting: a key left out takes its default (the built-in synonyms,
/// English stop words, `partial_match_below` 1, the generated catalogue's filterable
/// attributes, every text field at its built-in weight), not the value of the start-up
/// flags.
#[utoipa::path(
    put,
    path = "/settings",
    tag = "settings",
    request_body(content = SettingsChange, description = "Any of the settings; the others take their defaults."),
    responses(
        (status = 200, description = "Applied on this replica; `catalog-version` is the change's version", body = SettingsAnswer),
        (status = 400, description = "INVALID_INPUT: the first bad setting, named (`synonyms[2]: ...`); nothing changed", body = super::error::ErrorBody),
    ),
)]
pub async fn put_settings(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut all = Settings::default();
    patch_of(body)?.apply_to(&mut all);
    change(&state, SettingsPatch::all(all)).await
}

/// Changes the settings it is given and keeps the others.
#[utoipa::path(
    patch,
    path = "/settings",
    tag = "settings",
    request_body(content = SettingsChange, description = "The settings to change; the others stay."),
    responses(
        (status = 200, description = "Applied on this replica; `catalog-version` is the change's version", body = SettingsAnswer),
        (status = 400, description = "INVALID_INPUT: the first bad setting, named (`synonyms[2]: ...`); nothing changed", body = super::error::ErrorBody),
    ),
)]
pub async fn patch_settings(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    change(&state, patch_of(body)?).await
}

fn patch_of(body: Result<Bytes, BytesRejection>) -> Result<SettingsPatch, ApiError> {
    let json: serde_json::Value =
        serde_json::from_slice(&body?).map_err(|e| ApiError::InvalidInput(format!("Invalid JSON: {e}")))?;
    SettingsPatch::from_json(&json)
        .map_err(|settings::SettingsError(message)| ApiError::InvalidInput(message))
}

async fn change(state: &AppState, patch: SettingsPatch) -> Result<Response, ApiError> {
    if let Some(rules) = &patch.rules {
        state.catalog().check_rule_products(rules)?;
    }
    let committed = write(state, Write::Settings(patch)).await?;
    let settings = committed
        .changes
        .iter()
        .find_map(|change| match &change.entry {
            Entry::Settings(settings) => Some(Settings::clone(settings)),
            _ => None,
        })
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a settings write committed no settings")))?;
    let status = if state.catalog().rebuild_pending().is_some() { "pending" } else { "applied" };
    let answer = SettingsAnswer { status, settings };
    Ok(versioned(Json(answer).into_response(), &committed))
}
