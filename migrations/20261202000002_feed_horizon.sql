-- A bounded feed: how far it has been pruned, and what the replicas following it still need.

-- Versions up to here are gone from `changes`; a replica that has applied less than this
-- loads a snapshot of the products instead of reading the feed.
ALTER TABLE catalog_head ADD COLUMN pruned_through bigint NOT NULL DEFAULT 0;

-- Every replica says, every few seconds, which version it has applied. The feed is never
-- pruned past what a replica heard from recently still needs.
CREATE TABLE replicas (
    id uuid PRIMARY KEY,
    applied bigint NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
