//! Prints NDCG@10, MRR, zero-result rate and search latency per query class, over a
//! generated catalogue: `cargo run --release -p relevance -- --count 100000`.

use std::io::Write;
use std::time::Instant;

use clap::Parser;
use product_search::catalog::Catalog;
use relevance::{evaluate, query_set, table};

/// Measure search relevance against the generator's ground truth.
#[derive(Debug, Parser)]
struct Args {
    /// Products in the generated catalogue.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Catalogue seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Queries per class.
    #[arg(long, default_value_t = 200)]
    per_class: usize,
    /// Also write the queries, one JSON object per line with `class` and the URL `query`
    /// string, for timing them against a running server.
    #[arg(long)]
    dump_queries: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let products = data_gen::generate(args.seed, args.count);
    let queries = query_set(&products, args.seed ^ 0x5eed, args.per_class);
    let catalog = Catalog::build(products)?;
    eprintln!("{} products indexed in {:.1?}", args.count, started.elapsed());
    if let Some(path) = &args.dump_queries {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for q in &queries {
            let mut pairs = vec![("q", q.text.clone())];
            pairs.extend(q.filters.categories.iter().map(|c| ("category", c.clone())));
            if let Some(in_stock) = q.filters.in_stock {
                pairs.push(("in_stock", in_stock.to_string()));
            }
            let line = serde_json::json!({"class": q.class.to_string(), "query": serde_urlencoded::to_string(&pairs)?});
            writeln!(out, "{line}")?;
        }
    }
    // The first pass meets every word for the first time; the second finds the word
    // expansions cached, as a running server mostly does.
    println!("First pass (cold word-expansion cache):\n\n{}", table(&evaluate(&catalog, &queries)?));
    println!("Second pass (warm):\n\n{}", table(&evaluate(&catalog, &queries)?));
    Ok(())
}
