//! The analytics tables in PostgreSQL, which every replica adds to. A batch is written in
//! one transaction, its rows in (hour, query) order, so two replicas flushing at once wait
//! for each other's row locks and never deadlock. Every call is bounded by the database
//! timeout.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;

use super::AnalyticsError;
use super::query::Hour;
use super::report::{Hours, ProductRow, QueryKind, QueryRow};
use super::tally::{ProductCounts, QueryCounts, Tally};

const SECONDS_PER_HOUR: f64 = 3_600.0;

pub struct PgTable {
    pool: PgPool,
    timeout: Duration,
}

impl PgTable {
    pub fn new(pool: PgPool, timeout: Duration) -> Self {
        Self { pool, timeout }
    }

    /// Runs `call` within the timeout; a failure is the database being unavailable.
    async fn bounded<T>(
        &self,
        call: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, AnalyticsError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(AnalyticsError::Unavailable(error.to_string())),
            Err(_) => Err(AnalyticsError::Unavailable(format!("no answer within {:?}", self.timeout))),
        }
    }

    /// Adds every row of `batch` to the tables, all of them or none.
    pub async fn add(&self, batch: &Tally) -> Result<(), AnalyticsError> {
        let queries = batch.query_rows();
        let products = batch.product_rows();
        let column =
            |f: fn(&QueryCounts) -> u64| -> Vec<i64> { queries.iter().map(|row| count(f(row.2))).collect() };
        let hours: Vec<f64> = queries.iter().map(|row| row.0 as f64 * SECONDS_PER_HOUR).collect();
        let texts: Vec<&str> = queries.iter().map(|row| row.1).collect();
        let product_hours: Vec<f64> = products.iter().map(|row| row.0 as f64 * SECONDS_PER_HOUR).collect();
        let product_ids: Vec<i64> = products.iter().map(|row| count(row.1)).collect();
        let product_column = |f: fn(&ProductCounts) -> u64| -> Vec<i64> {
            products.iter().map(|row| count(f(row.2))).collect()
        };
        self.bounded(async {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO search_queries AS s \
                     (hour, query, searches, no_results, results, clicks, click_positions, conversions) \
                 SELECT to_timestamp(h), q, a, b, c, d, e, f \
                 FROM UNNEST($1::float8[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], \
                             $7::int8[], $8::int8[]) AS t(h, q, a, b, c, d, e, f) \
                 ON CONFLICT (hour, query) DO UPDATE SET \
                     searches = s.searches + EXCLUDED.searches, \
                     no_results = s.no_results + EXCLUDED.no_results, \
                     results = s.results + EXCLUDED.results, \
                     clicks = s.clicks + EXCLUDED.clicks, \
                     click_positions = s.click_positions + EXCLUDED.click_positions, \
                     conversions = s.conversions + EXCLUDED.conversions",
            )
            .bind(&hours)
            .bind(&texts)
            .bind(column(|c| c.searches))
            .bind(column(|c| c.no_results))
            .bind(column(|c| c.results))
            .bind(column(|c| c.clicks))
            .bind(column(|c| c.click_positions))
            .bind(column(|c| c.conversions))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO search_product_events AS p (hour, product_id, clicks, conversions) \
                 SELECT to_timestamp(h), id, a, b \
                 FROM UNNEST($1::float8[], $2::int8[], $3::int8[], $4::int8[]) AS t(h, id, a, b) \
                 ON CONFLICT (hour, product_id) DO UPDATE SET \
                     clicks = p.clicks + EXCLUDED.clicks, conversions = p.conversions + EXCLUDED.conversions",
            )
            .bind(&product_hours)
            .bind(&product_ids)
            .bind(product_column(|c| c.clicks))
            .bind(product_column(|c| c.conversions))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .await
    }

    /// The report `kind` over `hours`, summed across every replica.
    pub async fn queries(
        &self,
        kind: QueryKind,
        hours: Hours,
        limit: usize,
    ) -> Result<Vec<QueryRow>, AnalyticsError> {
        let (having, order) = match kind {
            QueryKind::Top => ("SUM(searches) > 0", "SUM(searches)"),
            QueryKind::NoResults => ("SUM(no_results) > 0", "SUM(no_results)"),
            QueryKind::NoClicks => ("SUM(searches) > SUM(no_results) AND SUM(clicks) = 0", "SUM(searches)"),
        };
        let sql = format!(
            "SELECT query, SUM(searches)::int8, SUM(no_results)::int8, SUM(results)::int8, SUM(clicks)::int8, \
                    SUM(click_positions)::int8, SUM(conversions)::int8 \
             FROM search_queries WHERE hour >= to_timestamp($1) AND hour < to_timestamp($2) \
             GROUP BY query HAVING {having} ORDER BY {order} DESC, query COLLATE \"C\" LIMIT $3"
        );
        type Row = (String, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = self
            .bounded(
                sqlx::query_as(&sql)
                    .bind(hours.from as f64 * SECONDS_PER_HOUR)
                    .bind(hours.to as f64 * SECONDS_PER_HOUR)
                    .bind(limit as i64)
                    .fetch_all(&self.pool),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(query, searches, no_results, results, clicks, click_positions, conversions)| QueryRow {
                query,
                counts: QueryCounts {
                    searches: searches as u64,
                    no_results: no_results as u64,
                    results: results as u64,
                    clicks: clicks as u64,
                    click_positions: click_positions as u64,
                    conversions: conversions as u64,
                },
            })
            .collect())
    }

    /// The `limit` most searched queries whose searches all found products and number at
    /// least `min_searches`, across every replica and every hour kept.
    pub async fn popular(
        &self,
        min_searches: u64,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, AnalyticsError> {
        let rows: Vec<(String, i64)> = self
            .bounded(
                sqlx::query_as(
                    "SELECT query, SUM(searches)::int8 FROM search_queries GROUP BY query \
                     HAVING SUM(no_results) = 0 AND SUM(searches) >= $1 \
                     ORDER BY 2 DESC, query COLLATE \"C\" LIMIT $2",
                )
                .bind(count(min_searches))
                .bind(limit as i64)
                .fetch_all(&self.pool),
            )
            .await?;
        Ok(rows.into_iter().map(|(query, searches)| (query, searches as u64)).collect())
    }

    /// The most clicked products over `hours`, across every replica.
    pub async fn products(&self, hours: Hours, limit: usize) -> Result<Vec<ProductRow>, AnalyticsError> {
        let rows: Vec<(i64, i64, i64)> = self
            .bounded(
                sqlx::query_as(
                    "SELECT product_id, SUM(clicks)::int8, SUM(conversions)::int8 FROM search_product_events \
                     WHERE hour >= to_timestamp($1) AND hour < to_timestamp($2) \
                     GROUP BY product_id ORDER BY 2 DESC, 3 DESC, product_id LIMIT $3",
                )
                .bind(hours.from as f64 * SECONDS_PER_HOUR)
                .bind(hours.to as f64 * SECONDS_PER_HOUR)
                .bind(limit as i64)
                .fetch_all(&self.pool),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, clicks, conversions)| ProductRow {
                product_id: id as u64,
                counts: ProductCounts { clicks: clicks as u64, conversions: conversions as u64 },
            })
            .collect())
    }

    /// Deletes every row of an hour before `hour`, in one transaction; returns how many.
    pub async fn forget_before(&self, hour: Hour) -> Result<u64, AnalyticsError> {
        let at = hour as f64 * SECONDS_PER_HOUR;
        self.bounded(async {
            let mut tx = self.pool.begin().await?;
            let queries = sqlx::query("DELETE FROM search_queries WHERE hour < to_timestamp($1)")
                .bind(at)
                .execute(&mut *tx)
                .await?;
            let products = sqlx::query("DELETE FROM search_product_events WHERE hour < to_timestamp($1)")
                .bind(at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(queries.rows_affected() + products.rows_affected())
        })
        .await
    }
}

/// A count as PostgreSQL's `bigint` holds it.
fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
