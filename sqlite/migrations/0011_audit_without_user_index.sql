-- Audit rows are found by user by reading the log, newest first (or from
-- an id on), without an index: an index keyed by user put each row of a
-- batch on its own page once many users make requests, and that page went
-- to the WAL and back to the file with every batch. With 1,000 users it
-- made a row cost about 8 times as much CPU (BenchmarkAppendAudit/users=).
-- The indexes on package and time stay: few packages share a batch, and
-- time only grows.
DROP INDEX IF EXISTS audit_user;
