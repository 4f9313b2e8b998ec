-- The search settings: one row, the settings as a JSON object. The first replica to start
-- on this database writes the settings its flags give; from then on they change only
-- through writes, each a change of kind 'settings' (entity 'settings') in the feed, so
-- every replica applies them at their version, in order with the product writes.
CREATE TABLE search_settings (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    doc jsonb NOT NULL
);
