//! The tantivy index: its schema, the bulk build at start-up, single-product updates and
//! query execution. Products themselves live in the catalogue; the index answers with ids.

use std::cmp::Reverse;
use std::sync::Mutex;

use anyhow::Context;
use data_gen::Product;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, TantivyDocument, Term,
};

use super::analyzer::{self, ANALYZER};
use super::query::{SearchHits, SearchRequest};

/// Memory for the bulk build, per indexing thread: enough that 100,000 products index in
/// a handful of segments, small enough to keep start-up memory low.
const BUILD_BUDGET_PER_THREAD: usize = 40_000_000;
/// Memory for single-product updates; tantivy's minimum.
const UPDATE_BUDGET: usize = 15_000_000;

/// A searchable text field and its weight in BM25 scoring.
#[derive(Debug, Clone, Copy)]
struct TextField {
    field: Field,
    boost: Score,
}

#[derive(Debug, Clone)]
struct Fields {
    product_id: Field,
    /// name, brand, category, manufacturer, sku, description: in that order.
    text: [TextField; 6],
}

/// Field weights: what a shopper types is most often the name or the brand.
const TEXT_FIELDS: [(&str, Score); 6] = [
    ("name", 3.0),
    ("brand", 3.0),
    ("category", 2.0),
    ("manufacturer", 1.5),
    ("sku", 3.0),
    ("description", 1.0),
];

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let product_id = builder.add_u64_field("product_id", INDEXED | FAST);
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    let text = TEXT_FIELDS
        .map(|(name, boost)| TextField { field: builder.add_text_field(name, text_options.clone()), boost });
    (builder.build(), Fields { product_id, text })
}

/// An in-memory, always-consistent full-text index of the catalogue.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl SearchIndex {
    /// Indexes `products` in bulk with one indexing thread per core (up to four).
    pub fn build(products: &[Product]) -> anyhow::Result<Self> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(ANALYZER, analyzer::text_analyzer());

        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        let mut writer: IndexWriter = index
            .writer_with_num_threads(threads, threads * BUILD_BUDGET_PER_THREAD)
            .context("creating the bulk index writer")?;
        for product in products {
            writer.add_document(document(&fields, product))?;
        }
        writer.commit().context("committing the bulk build")?;
        writer.wait_merging_threads().context("finishing the bulk build")?;

        let writer = index.writer_with_num_threads(1, UPDATE_BUDGET).context("creating the update writer")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .context("opening the index reader")?;
        Ok(Self { index, reader, writer: Mutex::new(writer), fields })
    }

    /// Number of products in the index as searches see it now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Replaces the product with the same id (or adds it), and makes the change visible to
    /// every search that starts after this returns.
    pub fn upsert(&self, product: &Product) -> anyhow::Result<()> {
        let mut writer = self.writer.lock().map_err(|_| anyhow::anyhow!("index writer poisoned"))?;
        writer.delete_term(Term::from_field_u64(self.fields.product_id, product.product_id));
        writer.add_document(document(&self.fields, product))?;
        writer.commit().context("committing an update")?;
        self.reader.reload().context("reloading the index reader")?;
        Ok(())
    }

    /// Runs `request`: the exact number of matches and one page of ids, best first.
    pub fn search(&self, request: &SearchRequest) -> anyhow::Result<SearchHits> {
        let query = self.query(request);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(request.limit).and_offset(request.offset).tweak_score(
            |segment: &SegmentReader| {
                let ids = segment
                    .fast_fields()
                    .u64("product_id")
                    .expect("product_id is a fast field")
                    .first_or_default_col(0);
                move |doc: DocId, score: Score| RankKey { score, id: Reverse(ids.get_val(doc)) }
            },
        );
        let (page, total) = searcher.search(&query, &(top, Count))?;
        Ok(SearchHits { ids: page.into_iter().map(|(key, _)| key.id.0).collect(), total: total as u64 })
    }

    fn query(&self, request: &SearchRequest) -> Box<dyn Query> {
        let mut analyzer =
            self.index.tokenizers().get(ANALYZER).expect("the analyzer is registered at build");
        let terms = analyzer::terms(&mut analyzer, &request.text);
        if request.text.trim().is_empty() {
            return Box::new(AllQuery);
        }
        // Every term must match, each in any searchable field.
        let clauses = terms.iter().map(|term| (Occur::Must, self.any_field(term))).collect::<Vec<_>>();
        Box::new(BooleanQuery::new(clauses))
    }

    fn any_field(&self, term: &str) -> Box<dyn Query> {
        let per_field = self
            .fields
            .text
            .iter()
            .map(|text| {
                let query =
                    TermQuery::new(Term::from_field_text(text.field, term), IndexRecordOption::WithFreqs);
                (Occur::Should, Box::new(BoostQuery::new(Box::new(query), text.boost)) as Box<dyn Query>)
            })
            .collect();
        Box::new(BooleanQuery::new(per_field))
    }
}

/// Ranking: BM25 score, then lower product id first, so equal scores page stably.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
struct RankKey {
    score: Score,
    id: Reverse<u64>,
}

fn document(fields: &Fields, product: &Product) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.product_id, product.product_id);
    let values = [
        product.name.as_deref(),
        product.brand.as_deref(),
        product.category.as_deref(),
        product.manufacturer.as_deref(),
        product.sku.as_deref(),
        product.description.as_deref(),
    ];
    for (text, value) in fields.text.iter().zip(values) {
        if let Some(value) = value {
            doc.add_text(text.field, value);
        }
    }
    doc
}
