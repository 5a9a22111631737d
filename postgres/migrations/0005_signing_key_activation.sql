-- A rotation publishes the next signing key before it signs: activates_at
-- is when a key starts signing (until then it is only in the JWKS). Keys
-- made before this version signed from their creation.
ALTER TABLE signing_keys ADD COLUMN activates_at TIMESTAMPTZ;
UPDATE signing_keys SET activates_at = created_at;
ALTER TABLE signing_keys ALTER COLUMN activates_at SET NOT NULL;
