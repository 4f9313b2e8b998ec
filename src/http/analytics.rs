//! `GET /analytics/queries`, `GET /analytics/products`, `POST /events` and
//! `GET /suggestions`: reading what shoppers searched for, recording what they opened and
//! bought, and suggesting queries as they type. Thin: the counting, the reports and the
//! suggestions are [`crate::analytics`]'s.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiError, AppState};
use crate::analytics::{
    Analytics, AnalyticsError, Event, EventError, EventKind, Hour, Hours, MAX_SUGGESTIONS, ProductRow,
    QueryId, QueryKind, QueryRow, Source, Suggestion, current_hour,
};

/// Rows a report lists at most.
pub const MAX_REPORT_ROWS: usize = 1_000;
/// Rows a report lists unless asked.
const DEFAULT_REPORT_ROWS: usize = 20;
/// Hours a report covers unless asked: a week.
const DEFAULT_REPORT_HOURS: Hour = 7 * 24;
/// Highest position a click may name: the deepest result a search can page to.
pub const MAX_POSITION: u64 = crate::search::MAX_WINDOW as u64;

impl From<AnalyticsError> for ApiError {
    fn from(error: AnalyticsError) -> Self {
        Self::DependencyUnavailable(error.to_string())
    }
}

impl From<EventError> for ApiError {
    fn from(error: EventError) -> Self {
        Self::InvalidInput(error.to_string())
    }
}

/// The analytics, or a 404 saying they are off.
fn analytics(state: &AppState) -> Result<&Arc<Analytics>, ApiError> {
    state.analytics().ok_or_else(|| {
        ApiError::NotFound("search analytics are off on this service (--analytics false)".into())
    })
}

/// A report's query string as sent. Unknown parameters are ignored.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportParams {
    /// `top`: the most searched queries; `no_results`: the queries with searches that found
    /// nothing, most such searches first; `no_clicks`: the queries that found products and
    /// whose results nobody clicked, most searched first. Only `/analytics/queries` reads it.
    #[param(value_type = Option<String>, pattern = "^(top|no_results|no_clicks)$", default = "top")]
    kind: Option<String>,
    /// The first hour counted, RFC 3339 (rounded down to the hour). Default: a week before `to`.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    from: Option<String>,
    /// The end, excluded, RFC 3339 (rounded up to the hour). Default: now.
    #[param(value_type = Option<String>, format = DateTime)]
    to: Option<String>,
    /// Rows listed.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, default = 20)]
    limit: Option<String>,
}

impl ReportParams {
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let [kind, from, to, limit] = first_values(raw, ["kind", "from", "to", "limit"])?;
        Ok(Self { kind, from, to, limit })
    }

    fn kind(&self) -> Result<QueryKind, ApiError> {
        self.kind.as_deref().map_or(Ok(QueryKind::Top), |kind| {
            QueryKind::parse(kind.trim())
                .ok_or_else(|| ApiError::InvalidInput("kind must be top, no_results or no_clicks".into()))
        })
    }

    fn hours(&self) -> Result<Hours, ApiError> {
        let to = match &self.to {
            Some(to) => -(-timestamp("to", to)?).div_euclid(SECONDS_PER_HOUR),
            None => current_hour() + 1,
        };
        let from = match &self.from {
            Some(from) => timestamp("from", from)?.div_euclid(SECONDS_PER_HOUR),
            None => to - DEFAULT_REPORT_HOURS,
        };
        if from >= to {
            return Err(ApiError::InvalidInput("from must be before to".into()));
        }
        Ok(Hours { from, to })
    }

    fn limit(&self) -> Result<usize, ApiError> {
        limit(self.limit.as_deref(), DEFAULT_REPORT_ROWS, MAX_REPORT_ROWS)
    }
}

/// The first value of each of `names` in a query string; other parameters are ignored.
fn first_values<const N: usize>(
    raw: Option<&str>,
    names: [&str; N],
) -> Result<[Option<String>; N], ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::InvalidInput(format!("malformed query string: {e}")))?;
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (key, value) in pairs {
        if let Some(i) = names.iter().position(|name| *name == key) {
            values[i].get_or_insert(value);
        }
    }
    Ok(values)
}

/// A `limit` parameter: `default` when absent, else an integer from 1 to `max`.
fn limit(value: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(value) = value else { return Ok(default) };
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|limit| (1..=max).contains(limit))
        .ok_or_else(|| ApiError::InvalidInput(format!("limit must be an integer from 1 to {max}")))
}

const SECONDS_PER_HOUR: i64 = 3_600;

/// Seconds since the Unix epoch of an RFC 3339 time.
fn timestamp(name: &str, text: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).map(OffsetDateTime::unix_timestamp).map_err(|_| {
        ApiError::InvalidInput(format!("{name} must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))
    })
}

/// The start of `hour`, as RFC 3339.
fn hour_text(hour: Hour) -> String {
    OffsetDateTime::from_unix_timestamp(hour * SECONDS_PER_HOUR)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The hours a report covers.
#[derive(Serialize, utoipa::ToSchema)]
struct Covered {
    /// The first hour counted.
    #[schema(format = DateTime)]
    from: String,
    /// The end, excluded.
    #[schema(format = DateTime)]
    to: String,
}

impl From<Hours> for Covered {
    fn from(hours: Hours) -> Self {
        Self { from: hour_text(hours.from), to: hour_text(hours.to) }
    }
}

/// Queries with their counts, summed over every replica.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueriesAnswer {
    /// The report's kind.
    kind: &'static str,
    #[serde(flatten)]
    covered: Covered,
    queries: Vec<QueryBody>,
}

/// One query, as the analytics keep it: its words, lower-cased, single-spaced.
#[derive(Serialize, utoipa::ToSchema)]
struct QueryBody {
    query: String,
    /// First pages searched for it.
    searches: u64,
    /// Products found, on average per search (rounded down).
    results: u64,
    /// Searches that found nothing.
    no_result_searches: u64,
    /// Results opened from its searches (`POST /events`).
    clicks: u64,
    conversions: u64,
    /// Clicks per search (a search with two clicks counts twice); `null` without searches.
    click_through_rate: Option<f64>,
    /// The clicked results' average position (1: the first); `null` without clicks.
    average_click_position: Option<f64>,
}

/// Rounded to four decimals, for reading.
fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

impl From<QueryRow> for QueryBody {
    fn from(QueryRow { query, counts }: QueryRow) -> Self {
        Self {
            query,
            searches: counts.searches,
            results: counts.results.checked_div(counts.searches).unwrap_or(0),
            no_result_searches: counts.no_results,
            clicks: counts.clicks,
            conversions: counts.conversions,
            click_through_rate: ratio(counts.clicks, counts.searches),
            average_click_position: ratio(counts.click_positions, counts.clicks),
        }
    }
}

/// What shoppers searched for: the most searched queries, those that found nothing, or
/// those whose results nobody clicked. Counts reach it at each replica's next flush
/// (`--analytics-flush-ms`).
#[utoipa::path(
    get,
    path = "/analytics/queries",
    tag = "analytics",
    params(ReportParams),
    responses(
        (status = 200, description = "The report, summed across every replica", body = QueriesAnswer),
        (status = 400, description = "INVALID_INPUT: the message names the parameter", body = super::error::ErrorBody),
        (status = 404, description = "NOT_FOUND: analytics are off (`--analytics false`)", body = super::error::ErrorBody),
        (status = 503, description = "DEPENDENCY_UNAVAILABLE: the database did not answer", body = super::error::ErrorBody),
    ),
)]
pub async fn queries(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<QueriesAnswer>, ApiError> {
    let analytics = analytics(&state)?;
    let params = ReportParams::parse(raw.as_deref())?;
    let (kind, hours, limit) = (params.kind()?, params.hours()?, params.limit()?);
    let rows = analytics.queries(kind, hours, limit).await?;
    Ok(Json(QueriesAnswer {
        kind: kind.as_str(),
        covered: hours.into(),
        queries: rows.into_iter().map(QueryBody::from).collect(),
    }))
}

/// Products with the clicks and conversions their search results got.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductsAnswer {
    #[serde(flatten)]
    covered: Covered,
    products: Vec<ProductBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ProductBody {
    product_id: u64,
    clicks: u64,
    conversions: u64,
}

impl From<ProductRow> for ProductBody {
    fn from(row: ProductRow) -> Self {
        Self { product_id: row.product_id, clicks: row.counts.clicks, conversions: row.counts.conversions }
    }
}

/// The products most opened from search results, then most bought.
#[utoipa::path(
    get,
    path = "/analytics/products",
    tag = "analytics",
    params(ReportParams),
    responses(
        (status = 200, description = "The products, summed across every replica", body = ProductsAnswer),
        (status = 400, description = "INVALID_INPUT: the message names the parameter", body = super::error::ErrorBody),
        (status = 404, description = "NOT_FOUND: analytics are off (`--analytics false`)", body = super::error::ErrorBody),
        (status = 503, description = "DEPENDENCY_UNAVAILABLE: the database did not answer", body = super::error::ErrorBody),
    ),
)]
pub async fn products(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProductsAnswer>, ApiError> {
    let analytics = analytics(&state)?;
    let params = ReportParams::parse(raw.as_deref())?;
    let (hours, limit) = (params.hours()?, params.limit()?);
    let rows = analytics.products(hours, limit).await?;
    Ok(Json(ProductsAnswer {
        covered: hours.into(),
        products: rows.into_iter().map(ProductBody::from).collect(),
    }))
}

/// What a shopper did with a search result.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum EventType {
    #[schema(rename = "click")]
    Click,
    #[schema(rename = "conversion")]
    Conversion,
}

/// The body of `POST /events` (documentation only: the handler checks the JSON itself).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct EventBody {
    /// `click`: the shopper opened the result; `conversion`: bought it.
    #[schema(rename = "type", inline)]
    kind: EventType,
    /// The `query_id` of the search answer the result was in.
    #[schema(max_length = 1100)]
    query_id: String,
    /// The product the shopper opened or bought; it must be in the catalogue.
    #[schema(minimum = 1)]
    product_id: u64,
    /// The result's position in the answer, 1 for the first (with `offset`: the offset
    /// plus its place on the page). Required for a click.
    #[schema(minimum = 1, maximum = 1000)]
    position: Option<u32>,
}

/// The answer to an event counted.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventAnswer {
    #[schema(example = "accepted")]
    status: &'static str,
}

/// Records a click or a conversion on a search result. It is counted against the query of
/// the search (and the hour it was made), on whichever replica it arrives.
#[utoipa::path(
    post,
    path = "/events",
    tag = "analytics",
    request_body(content = EventBody, description = "One event; unknown fields are ignored. The first invalid field is reported."),
    responses(
        (status = 202, description = "Counted; it shows in the reports after the next flush", body = EventAnswer),
        (status = 400, description = "INVALID_INPUT: `Invalid JSON: ...`, or the first invalid field", body = super::error::ErrorBody),
        (status = 404, description = "NOT_FOUND: analytics are off (`--analytics false`)", body = super::error::ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = super::error::ErrorBody),
    ),
)]
pub async fn event(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let analytics = analytics(&state)?;
    let json: Value =
        serde_json::from_slice(&body?).map_err(|e| ApiError::InvalidInput(format!("Invalid JSON: {e}")))?;
    let event = parse_event(&json)?;
    if state.catalog().get(event.product_id).is_none() {
        return Err(ApiError::InvalidInput(format!(
            "product_id {} is not in the catalogue",
            event.product_id
        )));
    }
    analytics.event(&event)?;
    Ok((StatusCode::ACCEPTED, Json(EventAnswer { status: "accepted" })).into_response())
}

/// An event from its JSON, or the first field that is wrong.
fn parse_event(json: &Value) -> Result<Event, ApiError> {
    let invalid = |message: &str| ApiError::InvalidInput(message.to_owned());
    let object = json.as_object().ok_or_else(|| invalid("the body must be a JSON object"))?;
    let click = match object.get("type").and_then(Value::as_str) {
        Some("click") => true,
        Some("conversion") => false,
        _ => return Err(invalid("type must be click or conversion")),
    };
    let search = object
        .get("query_id")
        .and_then(Value::as_str)
        .and_then(QueryId::decode)
        .ok_or_else(|| invalid("query_id must be the query_id of a search answer"))?;
    let product_id = object
        .get("product_id")
        .and_then(Value::as_u64)
        .filter(|id| *id >= 1)
        .ok_or_else(|| invalid("product_id must be an integer >= 1"))?;
    let position = match object.get("position") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .filter(|position| (1..=MAX_POSITION).contains(position))
                .ok_or_else(|| invalid("position must be an integer from 1 to 1000"))? as u32,
        ),
    };
    let kind = match (click, position) {
        (true, Some(position)) => EventKind::Click { position },
        (true, None) => {
            return Err(invalid("position is required for a click: the result's place, 1 for the first"));
        }
        (false, _) => EventKind::Conversion,
    };
    Ok(Event { kind, search, product_id })
}

/// Suggestions unless asked.
const DEFAULT_SUGGESTIONS: usize = 5;

/// The query string of `GET /suggestions` (documentation: the handler reads it with
/// `first_values`). Unknown parameters are ignored.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SuggestParams {
    /// What the shopper has typed so far.
    #[param(value_type = String, max_length = 256)]
    q: Option<String>,
    /// Suggestions listed.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 20, default = 5)]
    limit: Option<String>,
}

/// Suggestions for what a shopper has typed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SuggestionsAnswer {
    suggestions: Vec<SuggestionBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SuggestionBody {
    /// A query to search for, lower-cased.
    query: String,
    /// Past searches for it (every one found products); 0 for the catalogue's texts.
    searches: u64,
    /// `history`: shoppers' past queries; `catalogue`: a category, brand or product name.
    #[schema(pattern = "^(history|catalogue)$")]
    source: &'static str,
}

impl From<Suggestion> for SuggestionBody {
    fn from(suggestion: Suggestion) -> Self {
        let (searches, source) = match suggestion.source {
            Source::History => (suggestion.weight, "history"),
            Source::Catalogue => (0, "catalogue"),
        };
        Self { query: suggestion.query, searches, source }
    }
}

/// Queries that begin with what was typed (or nearly, after a typo): shoppers' past
/// queries that found products, most searched first, then the catalogue's categories,
/// brands and names.
#[utoipa::path(
    get,
    path = "/suggestions",
    tag = "search",
    params(SuggestParams),
    responses(
        (status = 200, description = "Suggestions, best first; empty when nothing fits", body = SuggestionsAnswer),
        (status = 400, description = "INVALID_INPUT: the message names the parameter", body = super::error::ErrorBody),
    ),
)]
pub async fn suggestions(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SuggestionsAnswer>, ApiError> {
    let [q, wanted] = first_values(raw.as_deref(), ["q", "limit"])?;
    let q = q.ok_or_else(|| ApiError::InvalidInput("q is required: what the shopper has typed".into()))?;
    if q.chars().count() > crate::search::MAX_QUERY_CHARS {
        return Err(ApiError::InvalidInput(format!(
            "q must be at most {} characters",
            crate::search::MAX_QUERY_CHARS
        )));
    }
    let limit = limit(wanted.as_deref(), DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS)?;
    let suggestions = state.suggester.suggest(&q, limit);
    Ok(Json(SuggestionsAnswer { suggestions: suggestions.into_iter().map(SuggestionBody::from).collect() }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(json: Value) -> String {
        match parse_event(&json) {
            Err(ApiError::InvalidInput(message)) => message,
            other => panic!("{json} gave {other:?}"),
        }
    }

    #[test]
    fn each_bad_event_field_is_named() {
        let id = QueryId { hour: 1, query: "lamp".into() }.encode();
        assert_eq!(message(json!([1])), "the body must be a JSON object");
        assert!(message(json!({"type": "view", "query_id": id})).starts_with("type must be"));
        assert!(message(json!({"type": "click", "query_id": "nope"})).starts_with("query_id must be"));
        assert!(
            message(json!({"type": "click", "query_id": id, "product_id": 0}))
                .starts_with("product_id must be")
        );
        assert!(
            message(json!({"type": "click", "query_id": id, "product_id": 1}))
                .starts_with("position is required")
        );
        assert!(
            message(json!({"type": "click", "query_id": id, "product_id": 1, "position": 1001}))
                .starts_with("position must be")
        );
        let conversion =
            parse_event(&json!({"type": "conversion", "query_id": id, "product_id": 3})).unwrap();
        assert_eq!(conversion.kind, EventKind::Conversion);
        let click =
            parse_event(&json!({"type": "click", "query_id": id, "product_id": 3, "position": 2})).unwrap();
        assert_eq!(click.kind, EventKind::Click { position: 2 });
    }

    #[test]
    fn report_hours_are_whole_and_from_comes_first() {
        let params = |raw: &str| ReportParams::parse(Some(raw)).unwrap();
        let hours = params("from=2026-12-01T10:30:00Z&to=2026-12-01T12:00:01Z").hours().unwrap();
        assert_eq!(hour_text(hours.from), "2026-12-01T10:00:00Z");
        assert_eq!(hour_text(hours.to), "2026-12-01T13:00:00Z");
        assert!(params("from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:00Z").hours().is_err());
        assert!(params("from=yesterday").hours().is_err());
        assert!(params("limit=0").limit().is_err());
        assert!(params("limit=1001").limit().is_err());
        assert_eq!(params("").limit().unwrap(), DEFAULT_REPORT_ROWS);
        assert!(params("kind=bottom").kind().is_err());
        assert_eq!(params("kind=no_clicks").kind().unwrap(), QueryKind::NoClicks);
    }
}
