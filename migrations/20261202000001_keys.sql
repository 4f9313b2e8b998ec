-- API keys, and the feed carrying more than products.

-- One row per key that is not revoked. The document is the key as the service keeps it: its
-- id, the SHA-256 of its secret (never the secret), its actions and limits.
CREATE TABLE api_keys (
    id text PRIMARY KEY,
    doc jsonb NOT NULL
);

-- A change is about a product (product_id) or about another kind of entry, named by its
-- kind and its id (entity): an API key's creation or revocation travels through the same
-- feed as products, at a version of its own, so every replica applies it in order.
ALTER TABLE changes DROP CONSTRAINT changes_pkey;
ALTER TABLE changes ALTER COLUMN product_id DROP NOT NULL;
ALTER TABLE changes ADD COLUMN kind text NOT NULL DEFAULT 'product';
ALTER TABLE changes ADD COLUMN entity text;
ALTER TABLE changes ADD CONSTRAINT changes_one_entry CHECK (
    (kind = 'product' AND product_id IS NOT NULL AND entity IS NULL)
    OR (kind <> 'product' AND product_id IS NULL AND entity IS NOT NULL)
);
-- One row per entry and version; led by the version, the order the feed is read in.
CREATE UNIQUE INDEX changes_entry ON changes (version, kind, coalesce(product_id, 0), coalesce(entity, ''));
