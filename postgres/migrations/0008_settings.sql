-- Settings of the installation, not of one node: every node and every
-- command reads them here. issuer_url, the iss of every token, is recorded
-- by the issuer's first start and changed only by an explicit act.
CREATE TABLE settings (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
