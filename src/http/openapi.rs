//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations and the
//! types they answer with, so it cannot drift from them: served at `GET /openapi.json` and
//! printed by `product-search openapi`.
//!
//! What every route shares is added here once, by [`Shared`]: the `min-catalog-version`
//! request header, the `catalog-version` and `x-request-id` response headers, the errors
//! every write may meet (the token, the origin, the database), and those any request may
//! meet (a bad or unmet `min-catalog-version`, a timeout, a fault).

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::auth::ROUTE_ACTIONS;
use super::error::{ErrorBody, ErrorCode};
use super::{analytics, health, keys, products, search, settings};
use crate::keys::Action;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "product-search",
        description = "Full-text product search over an in-memory catalogue, with the product API \
            of the original service. Every error is `{\"error\": CODE, \"message\": ...}`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    paths(
        health::health,
        search::search,
        products::get_product,
        products::put_product,
        products::delete_product,
        products::post_details,
        products::bulk,
        products::export,
        keys::create_key,
        keys::list_keys,
        keys::revoke_key,
        settings::get_settings,
        settings::put_settings,
        settings::patch_settings,
        analytics::queries,
        analytics::products,
        analytics::event,
        analytics::suggestions,
    ),
    components(schemas(
        ErrorBody,
        ErrorCode,
        crate::search::Sort,
        crate::search::Matching,
        Action,
        search::AttributeFacetBody
    )),
    modifiers(&Shared),
    tags(
        (name = "search", description = "Full-text search with filters, facets and sorting"),
        (name = "products", description = "Reading and writing products"),
        (name = "keys", description = "API keys: made, listed and revoked with an admin key"),
        (name = "settings", description = "Search settings, changed live on every replica"),
        (name = "analytics", description = "What shoppers searched for, and the results they opened and bought"),
        (name = "operations", description = "Health checks for load balancers"),
    ),
)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises")
}

/// `GET /openapi.json`.
pub async fn serve() -> Response {
    let mut response = Json(ApiDoc::openapi()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Adds what every operation shares; see the module documentation.
struct Shared;

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        for (path, item) in openapi.paths.paths.iter_mut() {
            let writes = [&mut item.put, &mut item.patch, &mut item.post, &mut item.delete];
            for operation in writes.into_iter().flatten() {
                share_write(operation);
            }
            let operations = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("PATCH", &mut item.patch),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let action =
                    ROUTE_ACTIONS.iter().find(|(m, r, _)| *m == method && r == path).map(|(_, _, a)| *a);
                if let Some(action) = action {
                    share_keyed(operation, action);
                }
                share(operation);
            }
        }
    }
}

/// What an operation that needs a key may meet: no key, or one without its action.
fn share_keyed(operation: &mut Operation, action: Action) {
    let mut requirement = SecurityRequirement::new("api_key", Vec::<String>::new());
    // Searches and writes are open until keys are in use (see README "Keys").
    operation.security = Some(match action {
        Action::Admin => vec![requirement],
        _ => vec![SecurityRequirement::default(), std::mem::take(&mut requirement)],
    });
    let responses = &mut operation.responses.responses;
    let mut unauthorized = error(&format!(
        "UNAUTHORIZED: keys are in use (or, for a write, the server has a write token) and the request \
         presents none, or one that is unknown or revoked; this operation needs the `{}` action",
        action.as_str()
    ));
    if let RefOr::T(response) = &mut unauthorized {
        let text = ObjectBuilder::new().schema_type(Type::String).build();
        response.headers.insert("www-authenticate".into(), header_of(text, "`Bearer`."));
    }
    responses.insert("401".into(), unauthorized);
    responses
        .entry("403".into())
        .or_insert_with(|| error("FORBIDDEN: the key does not have this operation's action"));
    let mut limited = error(
        "RATE_LIMITED: the client's address (`--rate-limit-per-client`) or the key (its `rate_limit`) is over its \
         requests per second; nothing was done",
    );
    if let RefOr::T(response) = &mut limited {
        response
            .headers
            .insert("retry-after".into(), header_of(integer(1), "Seconds to wait before retrying."));
    }
    responses.insert("429".into(), limited);
}

/// What every write may meet beyond its own errors: a body too slow, the origin, the
/// database.
fn share_write(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    responses.insert(
        "413".into(),
        error("PAYLOAD_TOO_LARGE: the body is over 64 KiB (1 MiB for /settings, 16 MiB for /products/bulk)"),
    );
    responses.insert(
        "408".into(),
        error("REQUEST_TIMEOUT: the request's body did not arrive within the request timeout"),
    );
    responses.insert(
        "403".into(),
        error(
            "FORBIDDEN: the key does not have this operation's action, or a browser write from another site",
        ),
    );
    responses.insert(
        "503".into(),
        error(
            "DEPENDENCY_UNAVAILABLE (the database refused the write: nothing was written), \
             OVERLOADED or CATALOG_BEHIND; retry after the `Retry-After` seconds",
        ),
    );
}

fn share(operation: &mut Operation) {
    let min_version = ParameterBuilder::new()
        .name("min-catalog-version")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Answer only once this replica has applied this catalogue version (the \
             `catalog-version` of an earlier write): read your writes through any load balancer.",
        ))
        .schema(Some(integer(0)))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(min_version);

    let responses = &mut operation.responses.responses;
    responses
        .entry("400".into())
        .or_insert_with(|| error("INVALID_INPUT: the request is invalid; the message says why"));
    let unavailable = responses
        .entry("503".into())
        .or_insert_with(|| error("OVERLOADED or CATALOG_BEHIND: retry after the `Retry-After` seconds"));
    if let RefOr::T(response) = unavailable {
        response
            .headers
            .insert("retry-after".into(), header_of(integer(0), "Seconds to wait before retrying."));
    }
    responses
        .entry("500".into())
        .or_insert_with(|| error("INTERNAL_ERROR: logged on the server, never detailed"));
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            response.headers.insert(
                "catalog-version".into(),
                header_of(
                    integer(0),
                    "The catalogue version this answer reflects at least (a write's own version).",
                ),
            );
        }
    }
    // The timeout answers from outside the version stamp: no `catalog-version`.
    responses
        .entry("504".into())
        .or_insert_with(|| error("TIMEOUT: the request took longer than the server allows"));
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            let id = ObjectBuilder::new().schema_type(Type::String).build();
            response.headers.insert(
                "x-request-id".into(),
                header_of(id, "The request's id, kept from the request or made."),
            );
        }
    }
}

fn integer(minimum: i64) -> utoipa::openapi::schema::Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(minimum))
        .build()
        .into()
}

fn header_of(
    schema: impl Into<RefOr<utoipa::openapi::schema::Schema>>,
    description: &str,
) -> utoipa::openapi::header::Header {
    HeaderBuilder::new().schema(schema).description(Some(description)).build()
}

/// An error response: the error body, as every error has.
pub fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
        )
        .build()
        .into()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::search::{MAX_FILTER_VALUES, MAX_LIMIT, MAX_QUERY_CHARS, MAX_WINDOW, Sort};

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).unwrap()
    }

    fn search_parameter(document: &Value, name: &str) -> Value {
        let parameters = document["paths"]["/products/search"]["get"]["parameters"].as_array().unwrap();
        parameters.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name}"))["schema"].clone()
    }

    #[test]
    fn search_bounds_are_the_ones_requests_are_checked_against() {
        let document = document();
        assert_eq!(search_parameter(&document, "q")["maxLength"], MAX_QUERY_CHARS);
        assert_eq!(search_parameter(&document, "limit")["maximum"], MAX_LIMIT);
        assert_eq!(search_parameter(&document, "limit")["default"], crate::search::DEFAULT_LIMIT);
        assert_eq!(search_parameter(&document, "offset")["maximum"], MAX_WINDOW - 1);
        for filter in ["category", "brand"] {
            assert_eq!(search_parameter(&document, filter)["maxItems"], MAX_FILTER_VALUES);
        }
        assert_eq!(
            search_parameter(&document, "filter")["maxLength"],
            crate::search::filter::MAX_FILTER_EXPRESSION_CHARS
        );
        let facets = search_parameter(&document, "facets")["pattern"].as_str().unwrap().to_owned();
        assert!(
            facets.contains(&format!("{{1,{}}}", product_model::bounds::MAX_ATTRIBUTE_NAME_CHARS)),
            "{facets}"
        );
    }

    #[test]
    fn product_bounds_are_the_ones_writes_are_checked_against() {
        use product_model::bounds::*;
        let document = document();
        let schemas = &document["components"]["schemas"];
        let product = &schemas["Product"]["properties"];
        let texts = [
            ("name", MAX_NAME_CHARS),
            ("brand", MAX_LABEL_CHARS),
            ("category", MAX_LABEL_CHARS),
            ("description", MAX_DESCRIPTION_CHARS),
            ("sku", MAX_SKU_CHARS),
            ("manufacturer", MAX_MANUFACTURER_CHARS),
        ];
        for (field, max) in texts {
            assert_eq!(
                (product[field]["minLength"].clone(), product[field]["maxLength"].clone()),
                (1.into(), max.into()),
                "{field}"
            );
        }
        assert_eq!(product["product_id"]["maximum"], MAX_PRODUCT_ID);
        assert_eq!(product["rating"]["maximum"], MAX_RATING);
        let details = &schemas["DetailsBody"]["properties"];
        assert_eq!(details["sku"]["maxLength"], MAX_SKU_CHARS);
        assert_eq!(details["manufacturer"]["maxLength"], MAX_MANUFACTURER_CHARS);
        let attributes = &schemas["Attributes"];
        assert_eq!(attributes["maxProperties"], MAX_ATTRIBUTES);
        let kinds = attributes["additionalProperties"]["anyOf"].as_array().unwrap();
        let lists: Vec<&Value> = kinds.iter().filter(|kind| kind["type"] == "array").collect();
        assert_eq!(lists.len(), 2, "a list of strings and a list of numbers: {kinds:?}");
        for list in &lists {
            assert_eq!(list["maxItems"], MAX_ATTRIBUTE_VALUES);
        }
        let items = lists.iter().map(|list| &list["items"]);
        let texts: Vec<&Value> = kinds.iter().chain(items).filter(|kind| kind["type"] == "string").collect();
        assert_eq!(texts.len(), 2, "a string and a list's strings: {kinds:?}");
        for text in texts {
            assert_eq!(text["maxLength"], MAX_ATTRIBUTE_TEXT_CHARS);
        }
    }

    #[test]
    fn settings_bounds_are_the_ones_changes_are_checked_against() {
        use crate::settings::*;
        let document = document();
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["SettingsBody"]["required"].as_array().map(Vec::len),
            Some(KEYS.len()),
            "all answered"
        );
        assert_eq!(schemas["SettingsChange"]["required"], Value::Null, "none needed in a change");
        assert_eq!(
            schemas["SettingsChange"]["properties"]["partial_match_below"]["maximum"],
            MAX_PARTIAL_MATCH_BELOW
        );
        let settings = &schemas["SettingsBody"]["properties"];
        let synonyms = &settings["synonyms"];
        assert_eq!(synonyms["maxItems"], MAX_SYNONYM_GROUPS);
        assert_eq!(
            (&synonyms["items"]["minItems"], &synonyms["items"]["maxItems"]),
            (&2.into(), &MAX_GROUP_MEMBERS.into())
        );
        assert_eq!(synonyms["items"]["items"]["maxLength"], MAX_MEMBER_CHARS);
        assert_eq!(settings["stop_words"]["maxItems"], MAX_STOP_WORDS);
        assert_eq!(settings["stop_words"]["items"]["maxLength"], MAX_STOP_WORD_CHARS);
        let below = &settings["partial_match_below"];
        assert_eq!((&below["minimum"], &below["maximum"]), (&1.into(), &MAX_PARTIAL_MATCH_BELOW.into()));
        assert_eq!(settings["filterable_attributes"]["maxItems"], MAX_FILTERABLE_ATTRIBUTES);
        let searchable = &settings["searchable_attributes"]["items"]["properties"];
        assert_eq!(
            (searchable["weight"]["exclusiveMinimum"].as_f64(), searchable["weight"]["maximum"].as_f64()),
            (Some(MIN_WEIGHT), Some(MAX_WEIGHT))
        );
        let pattern = regex::Regex::new(searchable["name"]["pattern"].as_str().unwrap()).unwrap();
        for (name, _) in crate::search::TEXT_FIELDS {
            assert!(pattern.is_match(name), "{name}");
        }
        assert!(pattern.is_match("attributes.material") && !pattern.is_match("colour"));
        assert_eq!(
            settings["searchable_attributes"]["maxItems"],
            crate::search::TEXT_FIELDS.len() + MAX_SEARCHED_ATTRIBUTES
        );
        let ranking = &settings["ranking"];
        assert_eq!(ranking["maxItems"], crate::search::ranking::MAX_RANKING_RULES);
        let rule = regex::Regex::new(ranking["items"]["pattern"].as_str().unwrap()).unwrap();
        assert!(rule.is_match("attributes.popularity:desc") && rule.is_match("in_stock:asc"));
        assert!(!rule.is_match("brand:asc") && !rule.is_match("rating"));
        let mut documented: Vec<&str> = settings.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = KEYS.to_vec();
        documented.sort_unstable();
        keys.sort_unstable();
        assert_eq!(documented, keys, "every setting is documented");
    }

    #[test]
    fn analytics_suggestion_and_rule_bounds_are_the_ones_requests_are_checked_against() {
        use crate::search::merchandising::*;
        let document = document();
        let parameter = |path: &str, name: &str| -> Value {
            let parameters = document["paths"][path]["get"]["parameters"].as_array().unwrap();
            parameters.iter().find(|p| p["name"] == name).unwrap()["schema"].clone()
        };
        assert_eq!(
            parameter("/analytics/queries", "limit")["maximum"],
            super::super::analytics::MAX_REPORT_ROWS
        );
        assert_eq!(parameter("/suggestions", "limit")["maximum"], crate::analytics::MAX_SUGGESTIONS);
        assert_eq!(parameter("/suggestions", "q")["maxLength"], MAX_QUERY_CHARS);
        let schemas = &document["components"]["schemas"];
        let event = &schemas["EventBody"]["properties"];
        assert_eq!(event["position"]["maximum"], super::super::analytics::MAX_POSITION);
        assert_eq!(event["query_id"]["maxLength"], crate::analytics::MAX_QUERY_ID_CHARS);
        assert_eq!(schemas["SettingsBody"]["properties"]["rules"]["maxItems"], MAX_RULES);
        let rule = &schemas["RuleBody"]["properties"];
        assert_eq!(rule["id"]["maxLength"], MAX_RULE_ID_CHARS);
        assert_eq!(rule["query"]["maxLength"], MAX_RULE_QUERY_CHARS);
        assert_eq!(
            (&rule["filter"]["maxLength"], &rule["boost"]["maxLength"]),
            (&MAX_RULE_FILTER_CHARS.into(), &MAX_RULE_FILTER_CHARS.into())
        );
        assert_eq!(
            (&rule["pin"]["maxItems"], &rule["hide"]["maxItems"]),
            (&MAX_PINS.into(), &MAX_HIDDEN.into())
        );
        assert!(rule.get("match").is_some(), "{rule}");
        assert_eq!(schemas["PinBody"]["properties"]["position"]["maximum"], MAX_WINDOW);
    }

    #[test]
    fn every_documented_sort_parses_and_every_error_code_is_listed() {
        let document = document();
        let sorts = document["components"]["schemas"]["Sort"]["enum"].as_array().unwrap();
        assert_eq!(sorts.len(), 4);
        for sort in sorts {
            assert!(Sort::parse(sort.as_str().unwrap()).is_ok(), "{sort}");
        }
        // Documented as they are sent: the schema's names are serde's.
        let codes = document["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
        let all = [
            ErrorCode::InvalidInput,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::RequestTimeout,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UriTooLong,
            ErrorCode::HeadersTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Overloaded,
            ErrorCode::DependencyUnavailable,
            ErrorCode::CatalogBehind,
            ErrorCode::Timeout,
            ErrorCode::InternalError,
        ];
        assert_eq!(codes.len(), all.len());
        for code in all {
            assert!(codes.contains(&serde_json::to_value(code).unwrap()), "{code:?}");
        }
    }

    #[test]
    fn every_operation_documents_the_shared_header_and_errors() {
        let document = document();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let parameters = operation["parameters"].as_array().unwrap();
                assert!(parameters.iter().any(|p| p["name"] == "min-catalog-version"), "{method} {path}");
                let responses = operation["responses"].as_object().unwrap();
                for status in ["400", "500", "503", "504"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
                assert!(responses["503"]["headers"].get("retry-after").is_some(), "{method} {path}");
                if method != "get" {
                    assert!(responses["401"]["headers"].get("www-authenticate").is_some(), "{method} {path}");
                    assert!(responses.contains_key("403"), "{method} {path}");
                }
                for (status, response) in responses {
                    assert!(response["headers"].get("x-request-id").is_some(), "{method} {path} {status}");
                    let stamped = response["headers"].get("catalog-version").is_some();
                    assert_eq!(stamped, status != "504", "{method} {path} {status}");
                }
            }
        }
    }
}
