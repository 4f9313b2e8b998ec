-- The store of record: every product, and the change feed every replica follows.

-- One row per product. The document is the product exactly as the API serves it; the
-- normalised SKU sits beside it so the database itself keeps SKUs unique across replicas.
-- The check is immediate: a second writer of a SKU waits for the first to commit, then fails.
CREATE TABLE products (
    product_id bigint PRIMARY KEY CHECK (product_id >= 1),
    sku_key text,
    doc jsonb NOT NULL,
    CONSTRAINT products_sku_key_unique UNIQUE (sku_key)
);

-- The feed's head: one row whose version every write increments inside its transaction.
-- The row lock is held until commit, so versions are handed out in commit order and without
-- gaps: a follower that has read version N can never later see a change below N appear.
CREATE TABLE catalog_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version bigint NOT NULL DEFAULT 0,
    -- Set once the first replica has loaded the initial catalogue; never seeded again.
    seeded_at timestamptz
);
INSERT INTO catalog_head DEFAULT VALUES;

-- Every committed change, by version: the product after the write, or NULL once deleted.
-- A write of several products (a bulk upsert) is one version with one row per product.
CREATE TABLE changes (
    version bigint NOT NULL,
    product_id bigint NOT NULL,
    doc jsonb,
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (version, product_id)
);
