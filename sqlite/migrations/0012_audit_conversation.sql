-- The conversation a request's token was minted in, '' for one minted
-- outside any (and for the rows written before this version). No index:
-- like a query by user, a query by conversation reads the log from the
-- newest (or from --since, through the index on time) until it has its
-- page; an index would put a page of it in the WAL with every batch.
ALTER TABLE audit ADD COLUMN conversation_id TEXT NOT NULL DEFAULT '';
