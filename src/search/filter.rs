//! The `filter` expression: conditions on the built-in fields and the shop's attributes,
//! joined with `AND`, `OR`, `NOT` and parentheses (Meilisearch's filter syntax is its
//! model). Parsed here into a [`Filter`] with every field resolved and every value typed;
//! a mistake is a [`FilterError`] naming the character where it was found and what was
//! expected there.
//!
//! ```text
//! filter     := and ( OR and )*
//! and        := unary ( AND unary )*
//! unary      := NOT unary | "(" filter ")" | condition
//! condition  := field ( ("=" | "!=" | "<" | "<=" | ">" | ">=") value
//!                     | [NOT] IN "[" value ( "," value )* "]"
//!                     | [NOT] EXISTS
//!                     | value TO value )
//! field      := brand | category | price | rating | in_stock | attributes.<name>
//! value      := a word, a number, true, false, or a string in '' or "" (\ escapes)
//! ```
//!
//! Keywords are read in any case; a value that is a keyword is quoted.

use std::fmt;

use product_model::is_attribute_name;

/// Longest filter, in characters.
pub const MAX_FILTER_EXPRESSION_CHARS: usize = 2_000;
/// Most conditions one filter holds.
pub const MAX_FILTER_CONDITIONS: usize = 64;
/// Deepest nesting of parentheses and `NOT`.
pub const MAX_FILTER_DEPTH: usize = 16;
/// Most values one `IN [...]` lists.
pub const MAX_IN_VALUES: usize = 100;
/// Longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;

/// The built-in fields a filter may name.
pub const BUILT_IN_FIELDS: [&str; 5] = ["brand", "category", "in_stock", "price", "rating"];

/// A field a filter or a facet names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterField {
    Brand,
    Category,
    Price,
    Rating,
    InStock,
    /// `attributes.<name>`: the name alone.
    Attribute(String),
}

/// What values a field holds, and so which comparisons it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Bool,
    /// An attribute: any of them.
    Any,
}

impl FilterField {
    /// The field `name` names: a built-in field by its name, an attribute as
    /// `attributes.<name>`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "brand" => Self::Brand,
            "category" => Self::Category,
            "price" => Self::Price,
            "rating" => Self::Rating,
            "in_stock" => Self::InStock,
            _ => {
                let key = name.strip_prefix("attributes.")?;
                is_attribute_name(key).then(|| Self::Attribute(key.to_owned()))?
            }
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Self::Brand | Self::Category => Kind::Text,
            Self::Price | Self::Rating => Kind::Number,
            Self::InStock => Kind::Bool,
            Self::Attribute(_) => Kind::Any,
        }
    }
}

impl fmt::Display for FilterField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Brand => f.write_str("brand"),
            Self::Category => f.write_str("category"),
            Self::Price => f.write_str("price"),
            Self::Rating => f.write_str("rating"),
            Self::InStock => f.write_str("in_stock"),
            Self::Attribute(name) => write!(f, "attributes.{name}"),
        }
    }
}

/// A value as written: quoted text is always text; a bare word may be a number or a
/// boolean, and is then also the text it spells.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    /// A finite number, and the word it was written as.
    Number(f64, String),
    Bool(bool),
}

impl Literal {
    /// The text this value is equal to: a number as it was written, a boolean as `true` or
    /// `false`.
    pub fn text(&self) -> &str {
        match self {
            Self::Text(text) | Self::Number(_, text) => text,
            Self::Bool(true) => "true",
            Self::Bool(false) => "false",
        }
    }
}

/// How a condition compares; `!=` is read as `NOT =`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// A parsed filter. A multi-valued attribute meets a condition when one of its values does;
/// a product without the field meets none (so it meets `NOT` of any).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(FilterField, Comparison, Literal),
    /// Equal to one of the values.
    In(FilterField, Vec<Literal>),
    /// The product has the field (an attribute: with any value, even an empty list).
    Exists(FilterField),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

impl Filter {
    /// Every field the filter names.
    pub fn fields(&self) -> Vec<&FilterField> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a FilterField>) {
        match self {
            Self::Compare(field, ..) | Self::In(field, _) | Self::Exists(field) => out.push(field),
            Self::Not(inner) => inner.collect_fields(out),
            Self::And(all) | Self::Or(all) => all.iter().for_each(|f| f.collect_fields(out)),
        }
    }

    /// The conditions that must all hold: the parts of a top-level `AND`, or the filter
    /// itself.
    pub fn conjuncts(&self) -> &[Filter] {
        match self {
            Self::And(all) => all,
            other => std::slice::from_ref(other),
        }
    }

    /// The filter without the conjuncts that name `field` alone: what a facet of `field`
    /// is counted under, so choosing one of its values keeps the others' counts. `None`
    /// when nothing is left.
    pub fn without(&self, field: &FilterField) -> Option<Filter> {
        let kept: Vec<Filter> =
            self.conjuncts().iter().filter(|c| !c.fields().iter().all(|f| *f == field)).cloned().collect();
        match kept.len() {
            0 => None,
            1 => kept.into_iter().next(),
            _ => Some(Self::And(kept)),
        }
    }

    /// Parses `text`, checking every bound.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        if text.chars().count() > MAX_FILTER_EXPRESSION_CHARS {
            return Err(FilterError::at(
                1,
                format!("a filter is at most {MAX_FILTER_EXPRESSION_CHARS} characters"),
            ));
        }
        let tokens = tokens(text)?;
        let mut parser = Parser { tokens, next: 0, depth: 0, conditions: 0, end: text.chars().count() + 1 };
        if parser.tokens.is_empty() {
            return Err(FilterError::at(1, "expected a condition, found an empty filter"));
        }
        let filter = parser.or()?;
        match parser.peek() {
            None => Ok(filter),
            Some(token) => Err(FilterError::at(
                token.at,
                format!("expected AND, OR or the end of the filter, found {}", token.kind),
            )),
        }
    }
}

/// Why a filter could not be read: the character (from 1) where the problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl FilterError {
    fn at(position: usize, message: impl Into<String>) -> Self {
        Self { position, message: message.into() }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter, at character {}: {}", self.position, self.message)
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Op(&'static str),
    Word(String),
    Quoted(String),
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("`(`"),
            Self::Close => f.write_str("`)`"),
            Self::OpenList => f.write_str("`[`"),
            Self::CloseList => f.write_str("`]`"),
            Self::Comma => f.write_str("`,`"),
            Self::Op(op) => write!(f, "`{op}`"),
            Self::Word(word) => write!(f, "`{}`", shorten(word)),
            Self::Quoted(text) => write!(f, "the string {:?}", shorten(text)),
        }
    }
}

fn shorten(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    /// Its first character, from 1.
    at: usize,
}

impl Token {
    fn keyword(&self) -> Option<&'static str> {
        let TokenKind::Word(word) = &self.kind else { return None };
        ["AND", "OR", "NOT", "IN", "EXISTS", "TO"].into_iter().find(|k| word.eq_ignore_ascii_case(k))
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at = i + 1;
        let c = chars[i];
        let single = match c {
            '(' => Some(TokenKind::Open),
            ')' => Some(TokenKind::Close),
            '[' => Some(TokenKind::OpenList),
            ']' => Some(TokenKind::CloseList),
            ',' => Some(TokenKind::Comma),
            '=' => Some(TokenKind::Op("=")),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if let Some(kind) = single {
            out.push(Token { kind, at });
            i += 1;
            continue;
        }
        if matches!(c, '<' | '>' | '!') {
            let equals = chars.get(i + 1) == Some(&'=');
            let op = match (c, equals) {
                ('<', false) => "<",
                ('<', true) => "<=",
                ('>', false) => ">",
                ('>', true) => ">=",
                ('!', true) => "!=",
                _ => return Err(FilterError::at(at, "expected `!=`, found `!` alone")),
            };
            out.push(Token { kind: TokenKind::Op(op), at });
            i += 1 + usize::from(equals);
            continue;
        }
        if c == '"' || c == '\'' {
            let mut value = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(FilterError::at(at, format!("this string has no closing {c}"))),
                    Some('\\') if j + 1 < chars.len() => {
                        value.push(chars[j + 1]);
                        j += 2;
                    }
                    Some(&d) if d == c => break,
                    Some(&d) => {
                        value.push(d);
                        j += 1;
                    }
                }
            }
            out.push(Token { kind: TokenKind::Quoted(value), at });
            i = j + 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !"()[],=<>!\"'".contains(chars[i]) {
            i += 1;
        }
        out.push(Token { kind: TokenKind::Word(chars[start..i].iter().collect()), at });
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    conditions: usize,
    /// The position just past the text, where "the end of the filter" is found.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn peek_keyword(&self) -> Option<&'static str> {
        self.peek().and_then(Token::keyword)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    /// An error at the next token (or the end), saying what was expected instead.
    fn expected(&self, what: &str) -> FilterError {
        match self.peek() {
            Some(token) => FilterError::at(token.at, format!("expected {what}, found {}", token.kind)),
            None => FilterError::at(self.end, format!("expected {what}, found the end of the filter")),
        }
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        self.joined("OR", Self::and, Filter::Or)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        self.joined("AND", Self::unary, Filter::And)
    }

    /// `part ( keyword part )*`: one part alone, or all of them joined.
    fn joined(
        &mut self,
        keyword: &str,
        part: fn(&mut Self) -> Result<Filter, FilterError>,
        join: fn(Vec<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut all = vec![part(self)?];
        while self.peek_keyword() == Some(keyword) {
            self.bump();
            all.push(part(self)?);
        }
        Ok(if all.len() == 1 { all.pop().expect("one") } else { join(all) })
    }

    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            let at = self.peek().map_or(self.end, |t| t.at);
            return Err(FilterError::at(at, format!("a filter nests at most {MAX_FILTER_DEPTH} deep")));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        if self.peek_keyword() == Some("NOT") {
            self.bump();
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek().is_some_and(|t| t.kind == TokenKind::Open) {
            self.bump();
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            if self.peek().is_some_and(|t| t.kind == TokenKind::Close) {
                self.bump();
                return Ok(inner);
            }
            return Err(self.expected("`)`, AND or OR"));
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Filter, FilterError> {
        let what = "a field (brand, category, in_stock, price, rating or attributes.<name>)";
        let Some(Token { kind: TokenKind::Word(name), at }) = self.peek().cloned() else {
            return Err(self.expected(&format!("a condition: {what}")));
        };
        let Some(field) = FilterField::parse(&name) else {
            return Err(FilterError::at(at, format!("expected {what}, found `{}`", shorten(&name))));
        };
        self.bump();
        self.conditions += 1;
        if self.conditions > MAX_FILTER_CONDITIONS {
            return Err(FilterError::at(
                at,
                format!("a filter holds at most {MAX_FILTER_CONDITIONS} conditions"),
            ));
        }
        let negated = self.peek_keyword() == Some("NOT");
        if negated {
            self.bump();
        }
        let not = |filter: Filter| if negated { Filter::Not(Box::new(filter)) } else { filter };
        match self.peek_keyword() {
            Some("EXISTS") => {
                self.bump();
                return Ok(not(Filter::Exists(field)));
            }
            Some("IN") => {
                self.bump();
                return Ok(not(self.list(&field)?));
            }
            _ if negated => return Err(self.expected("IN or EXISTS after NOT")),
            _ => {}
        }
        let op = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Op(op)) => *op,
            Some(TokenKind::Word(_) | TokenKind::Quoted(_)) => {
                // `field low TO high`
                let low = self.value(&field, Some(Kind::Number))?;
                if self.peek_keyword() != Some("TO") {
                    return Err(self.expected("TO"));
                }
                self.bump();
                let high = self.value(&field, Some(Kind::Number))?;
                return Ok(Filter::And(vec![
                    Filter::Compare(field.clone(), Comparison::GreaterOrEqual, low),
                    Filter::Compare(field, Comparison::LessOrEqual, high),
                ]));
            }
            _ => return Err(self.expected("=, !=, <, <=, >, >=, IN, EXISTS or a range (low TO high)")),
        };
        let op_at = self.bump().expect("an operator").at;
        let (comparison, numeric) = match op {
            "=" | "!=" => (Comparison::Equal, false),
            "<" => (Comparison::Less, true),
            "<=" => (Comparison::LessOrEqual, true),
            ">" => (Comparison::Greater, true),
            _ => (Comparison::GreaterOrEqual, true),
        };
        if numeric && matches!(field.kind(), Kind::Text | Kind::Bool) {
            return Err(FilterError::at(op_at, format!("{field} takes =, !=, IN and EXISTS, not {op}")));
        }
        let value = self.value(&field, numeric.then_some(Kind::Number))?;
        let compare = Filter::Compare(field, comparison, value);
        Ok(if op == "!=" { Filter::Not(Box::new(compare)) } else { compare })
    }

    /// `[a, b, ...]` after IN.
    fn list(&mut self, field: &FilterField) -> Result<Filter, FilterError> {
        if !self.peek().is_some_and(|t| t.kind == TokenKind::OpenList) {
            return Err(self.expected("`[` after IN"));
        }
        self.bump();
        let mut values = Vec::new();
        loop {
            if values.len() == MAX_IN_VALUES {
                let at = self.peek().map_or(self.end, |t| t.at);
                return Err(FilterError::at(at, format!("IN lists at most {MAX_IN_VALUES} values")));
            }
            values.push(self.value(field, None)?);
            match self.bump() {
                Some(Token { kind: TokenKind::Comma, .. }) => {}
                Some(Token { kind: TokenKind::CloseList, .. }) => break,
                _ => {
                    self.next -= 1;
                    return Err(self.expected("`,` or `]`"));
                }
            }
        }
        Ok(Filter::In(field.clone(), values))
    }

    /// A value for `field`: a number where `need` says so or the field holds numbers, a
    /// boolean for `in_stock`.
    fn value(&mut self, field: &FilterField, need: Option<Kind>) -> Result<Literal, FilterError> {
        let kind = need.unwrap_or(field.kind());
        let (literal, at) = match self.peek().cloned() {
            Some(Token { kind: TokenKind::Quoted(text), at }) => (Literal::Text(text), at),
            Some(token @ Token { kind: TokenKind::Word(_), .. }) if token.keyword().is_none() => {
                let TokenKind::Word(word) = token.kind else { unreachable!("a word") };
                (bare(word), token.at)
            }
            _ => return Err(self.expected(&format!("a value for {field}"))),
        };
        if literal.text().chars().count() > MAX_VALUE_CHARS {
            return Err(FilterError::at(at, format!("a value is at most {MAX_VALUE_CHARS} characters")));
        }
        match (kind, &literal) {
            (Kind::Number, Literal::Number(..))
            | (Kind::Bool, Literal::Bool(_))
            | (Kind::Text | Kind::Any, _) => {}
            (Kind::Number, _) => {
                return Err(FilterError::at(
                    at,
                    format!("expected a number for {field}, found `{}`", shorten(literal.text())),
                ));
            }
            (Kind::Bool, _) => {
                return Err(FilterError::at(
                    at,
                    format!("expected true or false for {field}, found `{}`", shorten(literal.text())),
                ));
            }
        }
        self.bump();
        Ok(literal)
    }
}

fn bare(word: String) -> Literal {
    if word.eq_ignore_ascii_case("true") {
        return Literal::Bool(true);
    }
    if word.eq_ignore_ascii_case("false") {
        return Literal::Bool(false);
    }
    // Only digits, a sign, a point and an exponent: `inf` and `NaN` are words.
    let numeric = word.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && word.bytes().any(|b| b.is_ascii_digit());
    match word.parse::<f64>() {
        Ok(number) if numeric && number.is_finite() => Literal::Number(number, word),
        _ => Literal::Text(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Filter {
        Filter::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn error(text: &str) -> String {
        Filter::parse(text).expect_err(text).to_string()
    }

    fn color(value: &str) -> Filter {
        Filter::Compare(
            FilterField::Attribute("color".into()),
            Comparison::Equal,
            Literal::Text(value.into()),
        )
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let red_or_blue_and_m =
            parse("attributes.color = red OR attributes.color = blue AND attributes.size = M");
        let Filter::Or(parts) = red_or_blue_and_m else { panic!("an OR") };
        assert_eq!(parts[0], color("red"));
        assert!(matches!(&parts[1], Filter::And(and) if and.len() == 2));
        let grouped = parse("(attributes.color = red or attributes.color = 'blue') and not in_stock = false");
        let Filter::And(parts) = grouped else { panic!("an AND") };
        assert_eq!(parts[0], Filter::Or(vec![color("red"), color("blue")]));
        assert_eq!(
            parts[1],
            Filter::Not(Box::new(Filter::Compare(
                FilterField::InStock,
                Comparison::Equal,
                Literal::Bool(false)
            )))
        );
    }

    #[test]
    fn every_condition_form_parses() {
        let size = || FilterField::Attribute("size".into());
        assert_eq!(
            parse("attributes.size IN [S, 'M', 42]"),
            Filter::In(
                size(),
                vec![
                    Literal::Text("S".into()),
                    Literal::Text("M".into()),
                    Literal::Number(42.0, "42".into())
                ]
            )
        );
        assert_eq!(
            parse("attributes.size NOT IN [S]"),
            Filter::Not(Box::new(Filter::In(size(), vec![Literal::Text("S".into())])))
        );
        assert_eq!(parse("attributes.size EXISTS"), Filter::Exists(size()));
        assert_eq!(parse("attributes.size NOT EXISTS"), Filter::Not(Box::new(Filter::Exists(size()))));
        assert_eq!(
            parse("price 10 TO 20.5"),
            Filter::And(vec![
                Filter::Compare(
                    FilterField::Price,
                    Comparison::GreaterOrEqual,
                    Literal::Number(10.0, "10".into())
                ),
                Filter::Compare(
                    FilterField::Price,
                    Comparison::LessOrEqual,
                    Literal::Number(20.5, "20.5".into())
                ),
            ])
        );
        assert_eq!(
            parse("brand != \"Acme \\\"Pro\\\"\""),
            Filter::Not(Box::new(Filter::Compare(
                FilterField::Brand,
                Comparison::Equal,
                Literal::Text("Acme \"Pro\"".into())
            )))
        );
        assert_eq!(
            parse("rating>=4.5"),
            Filter::Compare(
                FilterField::Rating,
                Comparison::GreaterOrEqual,
                Literal::Number(4.5, "4.5".into())
            )
        );
        assert_eq!(
            parse("attributes.wireless = TRUE"),
            Filter::Compare(
                FilterField::Attribute("wireless".into()),
                Comparison::Equal,
                Literal::Bool(true)
            )
        );
    }

    #[test]
    fn a_mistake_names_its_position_and_what_was_expected() {
        assert_eq!(error(""), "filter, at character 1: expected a condition, found an empty filter");
        assert_eq!(
            error("attributes.color = "),
            "filter, at character 20: expected a value for attributes.color, found the end of the filter"
        );
        assert_eq!(
            error("colour = red"),
            "filter, at character 1: expected a field (brand, category, in_stock, price, rating or \
             attributes.<name>), found `colour`"
        );
        assert_eq!(
            error("price < cheap"),
            "filter, at character 9: expected a number for price, found `cheap`"
        );
        assert_eq!(error("brand > a"), "filter, at character 7: brand takes =, !=, IN and EXISTS, not >");
        assert_eq!(
            error("in_stock = yes"),
            "filter, at character 12: expected true or false for in_stock, found `yes`"
        );
        assert_eq!(
            error("(brand = a"),
            "filter, at character 11: expected `)`, AND or OR, found the end of the filter"
        );
        assert_eq!(
            error("brand = a b"),
            "filter, at character 11: expected AND, OR or the end of the filter, found `b`"
        );
        assert_eq!(error("brand = 'a"), "filter, at character 9: this string has no closing '");
        assert_eq!(error("brand IN [a b]"), "filter, at character 13: expected `,` or `]`, found `b`");
        assert_eq!(error("brand ! a"), "filter, at character 7: expected `!=`, found `!` alone");
        assert_eq!(error("brand = AND"), "filter, at character 9: expected a value for brand, found `AND`");
        assert!(error("attributes.Color = a").contains("found `attributes.Color`"));
    }

    #[test]
    fn every_bound_is_held() {
        let long = format!("brand = '{}'", "x".repeat(MAX_FILTER_EXPRESSION_CHARS));
        assert!(error(&long).contains("at most 2000 characters"));
        let deep =
            format!("{}brand = a{}", "(".repeat(MAX_FILTER_DEPTH + 1), ")".repeat(MAX_FILTER_DEPTH + 1));
        assert!(error(&deep).contains("nests at most 16 deep"));
        let nots = format!("{}brand = a", "NOT ".repeat(MAX_FILTER_DEPTH + 1));
        assert!(error(&nots).contains("nests at most 16 deep"));
        let many = vec!["brand = a"; MAX_FILTER_CONDITIONS + 1].join(" OR ");
        assert!(error(&many).contains("at most 64 conditions"));
        let list = format!("brand IN [{}]", vec!["a"; MAX_IN_VALUES + 1].join(","));
        assert!(error(&list).contains("at most 100 values"));
        let value = format!("brand = '{}'", "x".repeat(MAX_VALUE_CHARS + 1));
        assert!(error(&value).contains("at most 256 characters"));
        let fits = format!("{}brand = a{}", "(".repeat(MAX_FILTER_DEPTH), ")".repeat(MAX_FILTER_DEPTH));
        parse(&fits);
    }

    #[test]
    fn numbers_are_plain_decimals_only() {
        assert_eq!(bare("1e3".into()), Literal::Number(1000.0, "1e3".into()));
        assert_eq!(bare("-2.5".into()), Literal::Number(-2.5, "-2.5".into()));
        assert_eq!(bare("inf".into()), Literal::Text("inf".into()));
        assert_eq!(bare("NaN".into()), Literal::Text("NaN".into()));
        assert_eq!(bare("1e999".into()), Literal::Text("1e999".into()));
        assert_eq!(bare("12a".into()), Literal::Text("12a".into()));
    }

    #[test]
    fn a_facet_ignores_the_conjuncts_on_its_own_field_alone() {
        let filter =
            parse("attributes.color IN [red, blue] AND price < 10 AND (attributes.color = red OR brand = a)");
        let color = FilterField::Attribute("color".into());
        let Some(Filter::And(left)) = filter.without(&color) else { panic!("two conjuncts left") };
        assert_eq!(left.len(), 2);
        assert_eq!(parse("attributes.color = red").without(&color), None);
        assert_eq!(parse("price < 3").without(&color), Some(parse("price < 3")));
    }
}
