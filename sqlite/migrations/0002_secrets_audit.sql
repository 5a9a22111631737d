-- Upstream credentials for the adapter, sealed with the master key.
CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	sealed     BLOB NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- One row per request through the adapter. No bodies, tokens or secrets.
CREATE TABLE audit (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	at              INTEGER NOT NULL,
	user_id         TEXT NOT NULL,
	package_id      TEXT NOT NULL,
	route           TEXT NOT NULL,
	method          TEXT NOT NULL,
	status          INTEGER NOT NULL,
	upstream_status INTEGER NOT NULL,
	error_code      TEXT NOT NULL,
	latency_ns      INTEGER NOT NULL,
	bytes_in        INTEGER NOT NULL,
	bytes_out       INTEGER NOT NULL,
	forward_auth    INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_user ON audit (user_id, id);
CREATE INDEX audit_package ON audit (package_id, id);
CREATE INDEX audit_at ON audit (at);
