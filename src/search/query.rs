//! What a search asks for and what it gets back, with the bounds every search obeys.

use std::collections::BTreeMap;
use std::fmt;

use product_model::is_attribute_name;

use super::filter::{Filter, FilterField};
use super::merchandising::Merchandising;

/// Results per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 20;
/// Most results one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Deepest result a client may page to (`offset + limit`): deep pages cost a heap of
/// `offset + limit` entries per search and nobody reads them.
pub const MAX_WINDOW: usize = 1_000;
/// Longest query text, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most values one filter (`category`, `brand`) may list.
pub const MAX_FILTER_VALUES: usize = 20;
/// Longest filter value, in characters.
pub const MAX_FILTER_CHARS: usize = 100;
/// Most values a facet reports.
pub const MAX_FACET_VALUES: usize = 20;
/// Most attributes one search may ask facets of.
pub const MAX_ATTRIBUTE_FACETS: usize = 20;

/// The order of results. Its schema names the values [`Sort::parse`] reads, for the API
/// document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (see the ranking rules in README).
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    RatingDesc,
}

impl Sort {
    pub fn parse(value: &str) -> Result<Self, InvalidRequest> {
        match value {
            "relevance" => Ok(Self::Relevance),
            "price_asc" => Ok(Self::PriceAsc),
            "price_desc" => Ok(Self::PriceDesc),
            "rating_desc" => Ok(Self::RatingDesc),
            _ => Err(InvalidRequest(
                "sort must be one of relevance, price_asc, price_desc, rating_desc".into(),
            )),
        }
    }
}

/// Whether a search may widen its match when too few products match every word. Its schema
/// names the values [`Matching::parse`] reads, for the API document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Matching {
    /// Widen when needed (see README "How matching works").
    #[default]
    Auto,
    /// Every word must match, always.
    All,
}

impl Matching {
    pub fn parse(value: &str) -> Result<Self, InvalidRequest> {
        match value {
            "auto" => Ok(Self::Auto),
            "all" => Ok(Self::All),
            _ => Err(InvalidRequest("matching must be auto or all".into())),
        }
    }
}

/// Restrictions on the matching set; values within one list are alternatives (OR).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    /// Category names, compared case-insensitively.
    pub categories: Vec<String>,
    /// Brand names, compared case-insensitively.
    pub brands: Vec<String>,
    pub min_price: Option<f64>,
    pub max_price: Option<f64>,
    pub in_stock: Option<bool>,
    pub min_rating: Option<f64>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which facets to count over the matching set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FacetRequest {
    pub category: bool,
    pub brand: bool,
    pub price: bool,
    /// Attributes by name (without `attributes.`), in the order asked, each once.
    pub attributes: Vec<String>,
}

impl FacetRequest {
    /// Parses `category,brand,price,attributes.<name>,...` (any subset, any order).
    pub fn parse(value: &str) -> Result<Self, InvalidRequest> {
        let mut request = Self::default();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "category" => request.category = true,
                "brand" => request.brand = true,
                "price" => request.price = true,
                _ => match name.strip_prefix("attributes.").filter(|key| is_attribute_name(key)) {
                    Some(key) if !request.attributes.iter().any(|a| a == key) => {
                        if request.attributes.len() == MAX_ATTRIBUTE_FACETS {
                            return invalid(format!(
                                "facets may name at most {MAX_ATTRIBUTE_FACETS} attributes"
                            ));
                        }
                        request.attributes.push(key.to_owned());
                    }
                    Some(_) => {}
                    None => {
                        return invalid(
                            "facets must be a comma-separated list of category, brand, price and \
                             attributes.<name>",
                        );
                    }
                },
            }
        }
        Ok(request)
    }

    pub fn any(&self) -> bool {
        self.category || self.brand || self.price || !self.attributes.is_empty()
    }

    /// Every field a facet is asked of.
    pub fn fields(&self) -> Vec<FilterField> {
        let mut fields = Vec::new();
        for (wanted, field) in [
            (self.category, FilterField::Category),
            (self.brand, FilterField::Brand),
            (self.price, FilterField::Price),
        ] {
            if wanted {
                fields.push(field);
            }
        }
        fields.extend(self.attributes.iter().cloned().map(FilterField::Attribute));
        fields
    }
}

/// A validated search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query text; every term must match. May be blank when a filter is given.
    pub text: String,
    pub limit: usize,
    pub offset: usize,
    pub filters: Filters,
    /// The `filter` expression; it applies together with `filters`.
    pub filter: Option<Filter>,
    pub sort: Sort,
    pub facets: FacetRequest,
    /// Mark matched words in names and descriptions.
    pub highlight: bool,
    /// Let long words match with typos.
    pub typo_tolerance: bool,
    pub matching: Matching,
    /// What the merchandising rules that apply do to it (set by the catalogue).
    pub merchandising: Merchandising,
    /// Which products a pass may match beyond its text and filters: set by the index
    /// itself while it carries the merchandising out.
    pub(crate) scope: Scope,
}

/// Products a pass of a merchandised search is kept to, or kept from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Scope {
    /// Never these products.
    pub exclude: Vec<u64>,
    /// Only these products.
    pub only: Option<Vec<u64>>,
    /// Only the products this filter matches (`true`), or only the others (`false`).
    pub boosted: Option<(Filter, bool)>,
}

/// Why a search request was refused; the message names the parameter and its bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest(pub String);

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidRequest {}

fn invalid<T>(message: impl Into<String>) -> Result<T, InvalidRequest> {
    Err(InvalidRequest(message.into()))
}

impl SearchRequest {
    /// A plain text search with default paging and options.
    pub fn text(text: impl Into<String>) -> Result<Self, InvalidRequest> {
        SearchRequestBuilder { text: Some(text.into()), ..Default::default() }.build()
    }
}

/// The parts of a search as the client gave them, before validation.
#[derive(Debug, Clone, Default)]
pub struct SearchRequestBuilder {
    pub text: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub filters: Filters,
    /// The `filter` expression as written.
    pub filter: Option<String>,
    pub sort: Sort,
    pub facets: FacetRequest,
    pub highlight: bool,
    /// `None` means the default: on.
    pub typo_tolerance: Option<bool>,
    pub matching: Matching,
}

impl SearchRequestBuilder {
    /// Checks every bound; `limit` and `offset` default to 20 and 0.
    pub fn build(self) -> Result<SearchRequest, InvalidRequest> {
        let text = self.text.unwrap_or_default();
        check_filters(&self.filters)?;
        let filter = self
            .filter
            .as_deref()
            .map(Filter::parse)
            .transpose()
            .map_err(|error| InvalidRequest(error.to_string()))?;
        if text.trim().is_empty() && self.filters.is_empty() && filter.is_none() {
            return invalid("q is required and must not be blank, unless a filter is given");
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return invalid(format!("q must be at most {MAX_QUERY_CHARS} characters"));
        }
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(_) => return invalid(format!("limit must be between 1 and {MAX_LIMIT}")),
        };
        let offset = match self.offset {
            None => 0,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            Some(_) => return invalid("offset must be >= 0"),
        };
        if offset.saturating_add(limit) > MAX_WINDOW {
            return invalid(format!("offset + limit must be at most {MAX_WINDOW}"));
        }
        Ok(SearchRequest {
            text,
            limit,
            offset,
            filters: self.filters,
            filter,
            sort: self.sort,
            facets: self.facets,
            highlight: self.highlight,
            typo_tolerance: self.typo_tolerance.unwrap_or(true),
            matching: self.matching,
            merchandising: Merchandising::default(),
            scope: Scope::default(),
        })
    }
}

fn check_filters(filters: &Filters) -> Result<(), InvalidRequest> {
    for (name, values) in [("category", &filters.categories), ("brand", &filters.brands)] {
        if values.len() > MAX_FILTER_VALUES {
            return invalid(format!("{name} may be given at most {MAX_FILTER_VALUES} times"));
        }
        if values.iter().any(|v| v.trim().is_empty() || v.chars().count() > MAX_FILTER_CHARS) {
            return invalid(format!("{name} must be 1 to {MAX_FILTER_CHARS} characters"));
        }
    }
    for (name, value) in [("min_price", filters.min_price), ("max_price", filters.max_price)] {
        if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return invalid(format!("{name} must be a number >= 0"));
        }
    }
    if let (Some(min), Some(max)) = (filters.min_price, filters.max_price)
        && min > max
    {
        return invalid("min_price must be <= max_price");
    }
    if filters.min_rating.is_some_and(|v| !(0.0..=5.0).contains(&v)) {
        return invalid("min_rating must be a number from 0 to 5");
    }
    Ok(())
}

/// Value counts of one facet, largest first.
pub type FacetCounts = Vec<(String, u64)>;

/// The lowest and highest price in a matching set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceRange {
    pub min: f64,
    pub max: f64,
}

/// Facets over the matching set; each ignores its own filter (disjunctive facets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facets {
    pub category: Option<FacetCounts>,
    pub brand: Option<FacetCounts>,
    /// `None` inside when no matching product has a price.
    pub price: Option<Option<PriceRange>>,
    /// Per attribute asked for, in the order asked.
    pub attributes: Vec<(String, AttributeFacet)>,
}

/// One attribute's facet: its text (and boolean) values with their counts, or, when the
/// matching products hold only numbers for it, their range. No value at all: no counts.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeFacet {
    Values(FacetCounts),
    Range(PriceRange),
}

/// The top [`MAX_FACET_VALUES`] of `counts`, largest first, ties by name.
pub fn top_values(counts: BTreeMap<String, u64>) -> FacetCounts {
    let mut values: FacetCounts = counts.into_iter().collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    values.truncate(MAX_FACET_VALUES);
    values
}

/// One page of matching product ids, best first, the exact number of matches, and the
/// index terms that matched (for highlighting).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchHits {
    pub ids: Vec<u64>,
    pub total: u64,
    pub facets: Option<Facets>,
    pub matched_terms: Vec<String>,
    /// The match was widened: products need not match every word.
    pub partial: bool,
    /// The query words products need not match (they still rank), when `partial`.
    pub not_required: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(q: &str, limit: Option<i64>, offset: Option<i64>) -> Result<SearchRequest, InvalidRequest> {
        SearchRequestBuilder { text: Some(q.to_owned()), limit, offset, ..Default::default() }.build()
    }

    #[test]
    fn defaults_to_twenty_results_from_the_top_with_typos_on() {
        let r = request("lamp", None, None).unwrap();
        assert_eq!(
            (r.limit, r.offset, r.sort, r.typo_tolerance, r.highlight),
            (20, 0, Sort::Relevance, true, false)
        );
    }

    #[test]
    fn rejects_blank_or_missing_text_without_a_filter() {
        assert!(SearchRequestBuilder::default().build().is_err());
        assert!(request("   ", None, None).unwrap_err().0.starts_with("q "));
    }

    #[test]
    fn blank_text_is_fine_with_a_filter() {
        let filters = Filters { categories: vec!["Books".into()], ..Default::default() };
        assert!(SearchRequestBuilder { filters, ..Default::default() }.build().is_ok());
        let filter = Some("attributes.color = red".to_owned());
        assert!(SearchRequestBuilder { filter, ..Default::default() }.build().unwrap().filter.is_some());
    }

    #[test]
    fn a_bad_filter_expression_is_refused_naming_the_parameter() {
        let filter = Some("attributes.color =".to_owned());
        let error = SearchRequestBuilder { filter, ..Default::default() }.build().unwrap_err();
        assert!(error.0.starts_with("filter, at character 19: expected a value"), "{error}");
    }

    #[test]
    fn rejects_each_bound_naming_it() {
        assert!(request("a", Some(0), None).unwrap_err().0.starts_with("limit"));
        assert!(request("a", Some(101), None).unwrap_err().0.starts_with("limit"));
        assert!(request("a", None, Some(-1)).unwrap_err().0.starts_with("offset"));
        assert!(request("a", Some(100), Some(901)).unwrap_err().0.starts_with("offset + limit"));
        assert!(request(&"a".repeat(257), None, None).unwrap_err().0.starts_with("q "));
    }

    #[test]
    fn rejects_bad_filters_naming_them() {
        let build = |filters: Filters| {
            SearchRequestBuilder { text: Some("a".into()), filters, ..Default::default() }
                .build()
                .unwrap_err()
                .0
        };
        assert!(build(Filters { min_price: Some(-1.0), ..Default::default() }).starts_with("min_price"));
        assert!(
            build(Filters { min_price: Some(5.0), max_price: Some(1.0), ..Default::default() })
                .starts_with("min_price")
        );
        assert!(build(Filters { min_rating: Some(6.0), ..Default::default() }).starts_with("min_rating"));
        assert!(build(Filters { brands: vec![" ".into()], ..Default::default() }).starts_with("brand"));
        assert!(
            build(Filters { categories: vec!["x".into(); 21], ..Default::default() }).starts_with("category")
        );
    }

    #[test]
    fn accepts_the_deepest_allowed_page_and_the_longest_query() {
        assert!(request("a", Some(100), Some(900)).is_ok());
        assert!(request(&"é".repeat(256), None, None).is_ok());
    }

    #[test]
    fn parses_sorts_and_facets() {
        assert_eq!(Sort::parse("price_desc"), Ok(Sort::PriceDesc));
        assert!(Sort::parse("cheapest").unwrap_err().0.starts_with("sort"));
        assert_eq!(
            FacetRequest::parse("brand, category"),
            Ok(FacetRequest { category: true, brand: true, ..Default::default() })
        );
        assert_eq!(
            FacetRequest::parse("attributes.color,price,attributes.size,attributes.color")
                .unwrap()
                .attributes,
            ["color", "size"]
        );
        assert!(FacetRequest::parse("colour").unwrap_err().0.starts_with("facets"));
        assert!(FacetRequest::parse("attributes.Color").unwrap_err().0.starts_with("facets"));
        let too_many: Vec<String> = (0..=MAX_ATTRIBUTE_FACETS).map(|i| format!("attributes.a{i}")).collect();
        assert!(FacetRequest::parse(&too_many.join(",")).unwrap_err().0.contains("at most 20 attributes"));
    }

    #[test]
    fn facet_values_are_largest_first_then_by_name_and_capped() {
        let counts = (0..30).map(|i| (format!("v{i:02}"), (i % 3) as u64)).collect();
        let top = top_values(counts);
        assert_eq!(top.len(), MAX_FACET_VALUES);
        assert_eq!(top[0], ("v02".to_owned(), 2));
        assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
