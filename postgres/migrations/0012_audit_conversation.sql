-- The conversation a request's token was minted in, '' for one minted
-- outside any (and for the rows written before this version). Without an
-- index, as in SQLite: a query by conversation reads the log by id from
-- the newest until it has its page. Adding a column with a constant
-- default rewrites no rows.
ALTER TABLE audit ADD COLUMN conversation_id text NOT NULL DEFAULT '';
