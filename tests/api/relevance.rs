//! Relevance floors, measured on the labelled query set: SKU lookups put their product
//! first every time, typos cost at most 10% of NDCG@10, nonsense finds nothing.

use product_search::catalog::Catalog;
use product_search::relevance::{QueryClass, evaluate, query_set};

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
}
