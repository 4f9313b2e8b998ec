-- Search analytics: counts per query and hour, and per product and hour. Every replica
-- adds its batches to them with upserts that add, so they sum every replica's searches and
-- events. Rows older than the retention period are deleted. No client address, key or other
-- identifier is stored.
CREATE TABLE search_queries (
    hour timestamptz NOT NULL,
    query text NOT NULL,
    searches bigint NOT NULL,
    no_results bigint NOT NULL,
    results bigint NOT NULL,
    clicks bigint NOT NULL,
    click_positions bigint NOT NULL,
    conversions bigint NOT NULL,
    PRIMARY KEY (hour, query)
);

CREATE TABLE search_product_events (
    hour timestamptz NOT NULL,
    product_id bigint NOT NULL,
    clicks bigint NOT NULL,
    conversions bigint NOT NULL,
    PRIMARY KEY (hour, product_id)
);
