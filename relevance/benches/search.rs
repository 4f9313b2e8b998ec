//! Criterion benches: catalogue generation, index build, and search per query class of the
//! relevance set. `cargo bench -p relevance --bench search`; `BENCH_PRODUCTS` sets the catalogue size
//! for the search benches (default 100,000).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use product_search::catalog::Catalog;
use product_search::search::SearchIndex;
use relevance::{QueryClass, query_set};

fn products_for_search() -> u64 {
    std::env::var("BENCH_PRODUCTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.bench_function("10000 products", |b| b.iter(|| data_gen::generate(black_box(42), 10_000)));
    group.finish();
}

fn index_build(c: &mut Criterion) {
    let products = data_gen::generate(42, 10_000);
    let mut group = c.benchmark_group("index build");
    group.sample_size(10);
    group.bench_function("10000 products", |b| {
        b.iter(|| SearchIndex::build(black_box(&products), Default::default()).unwrap())
    });
    group.finish();
}

fn search(c: &mut Criterion) {
    let products = data_gen::generate(42, products_for_search());
    let queries = query_set(&products, 7, 50);
    let catalog = Catalog::build(products).unwrap();
    let mut group = c.benchmark_group("search");
    for class in QueryClass::ALL {
        let requests: Vec<_> = queries.iter().filter(|q| q.class == class).map(|q| q.request(20)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(class), &requests, |b, requests| {
            let mut next = requests.iter().cycle();
            b.iter(|| catalog.search(next.next().unwrap()).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, generation, index_build, search);
criterion_main!(benches);
