//! Relevance floors, measured on the labelled query set: SKU lookups put their product
//! first every time, typos cost at most 10% of NDCG@10, nonsense finds nothing; a word no
//! product has, a one-letter last word, joined and split words, synonyms and stop words
//! keep finding the product; typing a name key by key keeps it on the first page mostly.

use product_search::catalog::Catalog;
use relevance::{QueryClass, evaluate, query_set};

#[test]
fn relevance_holds_its_floors() {
    let products = data_gen::generate(42, 20_000);
    let queries = query_set(&products, 7, 100);
    let catalog = Catalog::build(products).unwrap();

    for query in queries.iter().filter(|q| q.class == QueryClass::Sku) {
        let results = catalog.search(&query.request(10)).unwrap();
        let first = results.hits.first().map(|h| h.product.product_id);
        assert!(
            first.is_some_and(|id| query.relevant.contains_key(&id)),
            "{:?} ranked {first:?} first",
            query.text
        );
    }

    let reports = evaluate(&catalog, &queries).unwrap();
    let ndcg = |class: QueryClass| reports.iter().find(|r| r.class == class).unwrap().ndcg_at_10.unwrap();
    for report in &reports {
        if let Some(twin) = report.class.clean_twin() {
            let (typo, clean) = (report.ndcg_at_10.unwrap(), ndcg(twin));
            assert!(typo >= 0.9 * clean, "{}: NDCG@10 {typo:.3} against {clean:.3} clean", report.class);
        }
    }
    let nonsense = reports.iter().find(|r| r.class == QueryClass::Nonsense).unwrap();
    assert_eq!(nonsense.zero_result_rate, 1.0, "nonsense must find nothing");
    let sku = reports.iter().find(|r| r.class == QueryClass::Sku).unwrap();
    assert_eq!(sku.mrr, Some(1.0));

    let report = |class: QueryClass| reports.iter().find(|r| r.class == class).unwrap();
    let unknown = report(QueryClass::UnknownWord).success.unwrap();
    assert!(unknown >= 0.95, "a word no product has: brand and type in the top 10 for {unknown:.3}");
    let one_letter = report(QueryClass::OneLetterPrefix).mrr.unwrap();
    assert!(one_letter >= 0.8, "a one-letter last word: MRR {one_letter:.3}");
    let typed = report(QueryClass::TypeAhead).success.unwrap();
    assert!(typed >= 0.5, "typed key by key, in the top 20 for {typed:.3} of keystrokes");
    let brand_type = ndcg(QueryClass::BrandType);
    for (class, share) in [
        (QueryClass::JoinedWords, 0.9),
        (QueryClass::SplitWords, 0.85),
        (QueryClass::Synonym, 0.85),
        (QueryClass::StopWords, 0.95),
    ] {
        let got = ndcg(class);
        assert!(
            got >= share * brand_type,
            "{class}: NDCG@10 {got:.3} against {brand_type:.3} for brand + type"
        );
    }
    for class in
        [QueryClass::UnknownWord, QueryClass::JoinedWords, QueryClass::SplitWords, QueryClass::Synonym]
    {
        assert_eq!(report(class).zero_result_rate, 0.0, "{class} found nothing for some query");
    }
}
